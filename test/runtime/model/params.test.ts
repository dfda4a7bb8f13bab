// Parameter initialization and params.npz import (names, shapes, a name/orientation map).
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSource } from "../../../src/compiler/driver.js";
import { bindDims } from "../../../src/compiler/passes/index.js";
import { writeNpz } from "../../../src/runtime/data/npy.js";
import { initParams, loadParams, normalizedPd, readParamMap } from "../../../src/runtime/model/params.js";
import { spectralNorm } from "../../../src/runtime/linalg.js";
import { Prng } from "../../../src/runtime/train/prng.js";

const SPEC = `model m
data d = builtin.lorenz63(steps = 100)
dims { N = d.features; M = 4 }
params {
  A : diag[M] init = normalized_pd(group = "AW")
  W : [M, M] offdiag init = normalized_pd(group = "AW")
  H : [M, 2] init = uniform_range(d, negate = true)
  V : [N, M] init = glorot
}
latent z : [M] = zeros { z' = A @ z + W @ relu(z) + H[:, 0] }
observe x : [N] = V @ z
train { loss = mse(x, d) }`;
const program = bindDims(compileSource(SPEC, "m.rnn").opt!, {});

describe("initialization", () => {
  it("normalized_pd: (I + RᵀR/M) scaled to spectral radius 1, shared between diag A and offdiag W", () => {
    const m = normalizedPd(5, new Prng(1));
    expect(spectralNorm(m, 5)).toBeCloseTo(1, 10);
    const p = initParams(program, new Prng(3), () => ({ min: -2, max: 5 }));
    const A = p.get("A")!.data;
    const W = p.get("W")!.data;
    const full = new Float64Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) full[i * 4 + j] = i === j ? A[i]! : W[i * 4 + j]!;
    expect(spectralNorm(full, 4)).toBeCloseTo(1, 5);
    for (let i = 0; i < 4; i++) expect(W[i * 5]).toBe(0);
  });

  it("uniform_range(negate = true) draws thresholds from (-max, -min) of the data", () => {
    const p = initParams(program, new Prng(3), () => ({ min: -2, max: 5 }));
    for (const v of p.get("H")!.data) {
      expect(v).toBeGreaterThanOrEqual(-5);
      expect(v).toBeLessThanOrEqual(2);
    }
  });

  it("is deterministic in the seed", () => {
    const a = initParams(program, new Prng(9), () => ({ min: 0, max: 1 }));
    const b = initParams(program, new Prng(9), () => ({ min: 0, max: 1 }));
    const c = initParams(program, new Prng(10), () => ({ min: 0, max: 1 }));
    expect(Array.from(a.get("V")!.data)).toEqual(Array.from(b.get("V")!.data));
    expect(Array.from(a.get("V")!.data)).not.toEqual(Array.from(c.get("V")!.data));
  });
});

describe("params.npz import", () => {
  const dir = mkdtempSync(join(tmpdir(), "rnnc-params-"));
  const f32 = (shape: number[], fill: (i: number) => number) => ({ dtype: "float32" as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)) });

  it("maps names and transposes matrices exported with the other orientation", () => {
    const file = join(dir, "torch.npz");
    // A PyTorch-style export: the read-out stored as [M, N] under another name.
    writeNpz(file, { A: f32([4], (i) => i), W: f32([4, 4], () => 0), H: f32([4, 2], () => 1), "readout.weight": f32([4, 3], (i) => i) });
    const map = join(dir, "map.json");
    writeFileSync(map, JSON.stringify({ rename: { "readout.weight": "V" }, transpose: ["V"] }));
    const p = loadParams(file, program, readParamMap(map));
    const V = p.get("V")!;
    expect(V.shape).toEqual([3, 4]);
    // V[i, j] = stored[j, i] = j * 3 + i
    expect(V.data[1 * 4 + 2]).toBe(2 * 3 + 1);
  });

  it("takes parameters from parts of exported arrays: gate blocks, a diagonal, transposed blocks", () => {
    const file = join(dir, "joint.npz");
    // A dendPLRNN-style joint AW (A on the diagonal) and a stacked [H, 2 * 4]-like matrix whose
    // column blocks, transposed, are the spec's H and V.
    const AW = f32([4, 4], (i) => (i % 5 === 0 ? 10 + i : i));
    const stacked = f32([7, 4], (i) => 100 + i);
    writeNpz(file, { AW, stacked });
    const map = join(dir, "take.json");
    writeFileSync(map, JSON.stringify({ take: { A: { from: "AW", diagonal: true }, W: { from: "AW" }, H: { from: "stacked", rows: [0, 2], transpose: true }, V: { from: "stacked", rows: [2, 5], cols: [0, 4] } } }));
    const p = loadParams(file, program, readParamMap(map));
    expect(Array.from(p.get("A")!.data)).toEqual([10, 15, 20, 25]);
    expect(Array.from(p.get("W")!.data)).toEqual(Array.from(AW.data));
    // H[i, j] = stacked[j, i] for rows 0..1
    expect(p.get("H")!.shape).toEqual([4, 2]);
    expect(p.get("H")!.data[3 * 2 + 1]).toBe(100 + 1 * 4 + 3);
    expect(p.get("V")!.shape).toEqual([3, 4]);
    expect(p.get("V")!.data[0]).toBe(100 + 2 * 4);
  });

  it("explains a take that does not fit", () => {
    const file = join(dir, "joint2.npz");
    writeNpz(file, { AW: f32([4, 3], () => 0), A: f32([4], () => 0) });
    const map = join(dir, "take2.json");
    writeFileSync(map, JSON.stringify({ take: { A: { from: "AW", diagonal: true }, W: { from: "AW", rows: [2, 9] }, V: { from: "nope" } } }));
    expect(() => loadParams(file, program, readParamMap(map))).toThrow(/'A' from 'AW': a diagonal needs a square matrix[\s\S]*'W' from 'AW': rows \[2, 9\) is outside 0..4[\s\S]*'V' is taken from 'nope', which is not in the file[\s\S]*'A' is both in the file and taken from 'AW'/);
    writeFileSync(map, JSON.stringify({ take: { A: { from: "AW", rows: [0] } } }));
    expect(() => readParamMap(map)).toThrow(/each 'take' entry must be/);
  });

  it("lists every difference from the spec in one error", () => {
    const file = join(dir, "bad.npz");
    writeNpz(file, { A: f32([3], () => 0), extra: f32([1], () => 0) });
    expect(() => loadParams(file, program)).toThrow(/'A' is \[3\] in the file but \[4\] in the spec[\s\S]*missing 'W'[\s\S]*unexpected 'extra'/);
  });

  it("rejects malformed maps clearly", () => {
    const map = join(dir, "badmap.json");
    writeFileSync(map, JSON.stringify({ renames: {} }));
    expect(() => readParamMap(map)).toThrow(/unknown key 'renames'/);
    writeFileSync(map, "{");
    expect(() => readParamMap(map)).toThrow(/not a readable JSON parameter map/);
  });
});
