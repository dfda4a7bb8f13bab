// The analysis maps built from the IR: piecewise-linear detection for every zoo spec, region maps
// W_D, h_D that reproduce the step, and the compiler's Jacobians against finite differences (here
// in the tests only; the product never differentiates numerically).
import { describe, expect, it } from "vitest";
import { compileModel } from "../../src/compiler/backends/interp/index.js";
import { initParams } from "../../src/runtime/model/params.js";
import { linearity, regionCount } from "../../src/runtime/analysis/piecewise.js";
import { flattenStep } from "../../src/runtime/analysis/system.js";
import { Prng } from "../../src/runtime/train/prng.js";
import type { Program } from "../../src/compiler/ir/types.js";
import { fixture, maps, plrnn2d, plrnnProgram, zoo } from "./helpers.js";

function randomParams(p: Program, seed: number): Record<string, Float64Array> {
  const raw: Record<string, Float64Array> = {};
  for (const [k, v] of initParams(p, new Prng(seed), () => ({ min: -2, max: 2 }))) raw[k] = Float64Array.from(v.data);
  return raw;
}

describe("piecewise-linear detection from the IR", () => {
  const pl: [string, string[]][] = [
    ["plrnn.rnn", ["relu", "clip"]],
    ["dendplrnn.rnn", ["relu", "relu"]],
    ["dendplrnn_plain.rnn", ["relu", "clip"]],
    ["alrnn.rnn", ["relu"]],
    ["shplrnn.rnn", ["relu", "relu"]],
  ];
  for (const [spec, ops] of pl) {
    it(`${spec} is piecewise linear (${ops.join(", ")})`, () => {
      const lin = linearity(flattenStep(zoo(spec)));
      expect(lin.piecewiseLinear).toBe(true);
      if (lin.piecewiseLinear) expect(lin.switches.map((s) => s.op)).toEqual(ops);
    });
  }
  it("the ALRNN has 2^P regions", () => {
    const lin = linearity(flattenStep(zoo("alrnn.rnn")));
    expect(lin.piecewiseLinear && regionCount(lin.switches).exact).toBe(4);
  });
  const smooth: [string, RegExp][] = [["ctrnn.rnn", /tanh/], ["lstm.rnn", /sigmoid/], ["diru.rnn", /tanh|sigmoid/], ["vanilla_dale.rnn", /tanh/], ["slow1d", /square/]];
  for (const [spec, op] of smooth) {
    it(`${spec} is not, and the reason names the operation and its line`, () => {
      const lin = linearity(flattenStep(spec.endsWith(".rnn") ? zoo(spec) : fixture(`${spec}.rnn`)));
      expect(lin.piecewiseLinear).toBe(false);
      if (!lin.piecewiseLinear) expect(lin.reason).toMatch(new RegExp(`${op.source}.*spec line \\d+`));
    });
  }
});

describe("region maps", () => {
  it("W_D = A + W D and h_D = h for the PLRNN, in every region", () => {
    const raw = plrnn2d(0.5, -0.3, 0.7, -1.1, 0.2, 0.4);
    const { pl } = maps(plrnnProgram(2), raw);
    for (let idx = 0; idx < 4; idx++) {
      const code = pl!.codeAt(idx);
      const { W, h } = pl!.affine(pl!.idOf(code));
      const D = [code[0]!, code[1]!];
      // +0 and -0 are the same entry
      expect(Array.from(W, (x) => x + 0)).toEqual([0.5, 0.7 * D[1]! + 0, -1.1 * D[0]! + 0, -0.3]);
      expect(Array.from(h)).toEqual([0.2, 0.4]);
    }
  });

  it("every switch kind: F(z) = W_D(z) z + h_D(z) at random points, and the flat map agrees with the interpreter", () => {
    const p = fixture("switches.rnn");
    const rng = new Prng(11);
    const raw = { A: rnd(rng, 9), B: rnd(rng, 9), C: rnd(rng, 9), h: rnd(rng, 3) };
    const { map, pl } = maps(p, raw);
    expect(pl).not.toBeNull();
    const model = compileModel(p);
    const eff = model.effectiveParams(raw);
    for (let t = 0; t < 200; t++) {
      const z = Float64Array.from({ length: 3 }, () => 2.5 * rng.normal());
      const direct = model.step(eff, { z })["z"]!;
      const viaMap = map.map(z, 1);
      const viaRegion = new Float64Array(3);
      pl!.step(z, viaRegion);
      for (let i = 0; i < 3; i++) {
        expect(viaMap[i]).toBeCloseTo(direct[i]!, 12);
        expect(viaRegion[i]).toBeCloseTo(direct[i]!, 12);
      }
    }
  });
});

function rnd(rng: Prng, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

describe("Jacobians from the compiler", () => {
  const cases: [string, () => Program][] = [["lstm2 (two states)", () => fixture("lstm2.rnn")], ["tanh2d", () => fixture("tanh2d.rnn")], ["dendplrnn", () => zoo("dendplrnn.rnn")], ["ctrnn (input held constant)", () => zoo("ctrnn.rnn")]];
  for (const [name, make] of cases) {
    it(`${name}: dF/dz matches central differences`, () => {
      const p = make();
      const raw = randomParams(p, 4);
      const inputs: Record<string, Float64Array> = {};
      for (const i of p.inputs) inputs[i.name] = Float64Array.from({ length: i.shape[0] as number }, (_, j) => 0.3 * (j + 1));
      const { map } = maps(p, raw, inputs);
      const n = map.n;
      const rng = new Prng(9);
      const pts = 3;
      const z = Float64Array.from({ length: pts * n }, () => 0.7 * rng.normal());
      const J = map.jacobian(z, pts);
      const eps = 1e-6;
      for (let p0 = 0; p0 < pts; p0++) {
        for (let j = 0; j < n; j++) {
          const zp = z.slice(p0 * n, (p0 + 1) * n);
          const zm = zp.slice();
          zp[j]! += eps;
          zm[j]! -= eps;
          const fp = map.map(zp, 1);
          const fm = map.map(zm, 1);
          for (let i = 0; i < n; i++) expect(J[p0 * n * n + i * n + j]).toBeCloseTo((fp[i]! - fm[i]!) / (2 * eps), 5);
        }
        // the vector-Jacobian product is the transpose applied to a vector
        const v = Float64Array.from({ length: n }, () => rng.normal());
        const vj = map.vjp(z.subarray(p0 * n, (p0 + 1) * n), v);
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += v[i]! * J[p0 * n * n + i * n + j]!;
          expect(vj[j]).toBeCloseTo(s, 12);
        }
      }
    });
  }
});
