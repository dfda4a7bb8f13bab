// Bringing parameters trained elsewhere: an ALRNN exported from a PyTorch re-implementation (its
// own names, `latent_step.W` stored for `phi @ W`, i.e. transposed against the spec's `W @ phi`)
// loads with a --param-map of renames and one transpose, and
//   - `rnnc generate --params F.npz --param-map` reproduces a free run computed independently
//     from the export in the exporter's own convention;
//   - `rnnc train --init-params F.npz --param-map` starts from exactly those values;
//   - without the map, the file is refused with every difference listed.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readNpy, readNpz, writeNpy, writeNpz, type NdArray } from "../../src/runtime/data/npy.js";
import { makeCli, type Cli } from "../helpers/cli.js";

const M = 20; // specs/alrnn.rnn: M = 20, P = 2, N = 3
const P = 2;
const N = 3;

const f32 = (shape: number[], f: (i: number) => number): NdArray => ({ dtype: "float32", shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)) });

/** The exporter's state dict: its names, W stored [in, out] (it computes phi @ W); a stable model. */
const EXPORT = {
  "latent_step.A": f32([M], (i) => 0.5 + 0.01 * i),
  "latent_step.W": f32([M, M], (i) => 0.03 * Math.sin(1.7 * i + 0.3)),
  "latent_step.h": f32([M], (i) => 0.05 * Math.cos(i)),
  "z0_model.L.weight": f32([M - N, N], (i) => 0.3 * Math.sin(0.9 * i)), // nn.Linear(N, M - N): [out, in]
};
const MAP = {
  rename: { "latent_step.A": "A", "latent_step.W": "W", "latent_step.h": "h", "z0_model.L.weight": "L" },
  transpose: ["W"],
};

/** The exporter's free run, in float64 and in its own convention. */
function exporterRun(x0: number[], steps: number): Float64Array {
  const A = EXPORT["latent_step.A"].data;
  const W = EXPORT["latent_step.W"].data;
  const h = EXPORT["latent_step.h"].data;
  const L = EXPORT["z0_model.L.weight"].data;
  let z = new Float64Array(M);
  for (let n = 0; n < N; n++) z[n] = x0[n]!;
  for (let i = 0; i < M - N; i++) for (let n = 0; n < N; n++) z[N + i]! += L[i * N + n]! * x0[n]!;
  const out = new Float64Array((steps + 1) * N);
  out.set(z.subarray(0, N), 0);
  for (let t = 1; t <= steps; t++) {
    const phi = z.map((v, i) => (i >= M - P ? Math.max(0, v) : v));
    const next = new Float64Array(M);
    for (let j = 0; j < M; j++) {
      let s = A[j]! * z[j]! + h[j]!;
      for (let i = 0; i < M; i++) s += phi[i]! * W[i * M + j]!;
      next[j] = s;
    }
    z = next;
    out.set(z.subarray(0, N), t * N);
  }
  return out;
}

let cli: Cli;
let dir: string;

beforeAll(async () => {
  cli = await makeCli();
  dir = mkdtempSync(join(tmpdir(), "rnnc-import-"));
  writeNpz(join(dir, "torch.npz"), EXPORT);
  writeFileSync(join(dir, "map.json"), JSON.stringify(MAP));
  // A short 3-d series standing in for the data (only its width and the first row matter here).
  const T = 600;
  const series = Float64Array.from({ length: T * N }, (_, i) => Math.sin(0.05 * Math.floor(i / N) + i % N));
  writeNpy(join(dir, "data.npy"), { dtype: "float64", shape: [T, N], data: series });
});

afterAll(() => {
  cli?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("parameters exported elsewhere (--param-map)", () => {
  it("generate reproduces the exporter's own free run", async () => {
    const x0 = [0.4, -0.7, 1.1];
    writeNpy(join(dir, "x0.npy"), { dtype: "float64", shape: [1, N], data: Float64Array.from(x0) });
    const out = join(dir, "traj.npy");
    const r = await cli.run(["generate", "specs/alrnn.rnn", "--params", join(dir, "torch.npz"), "--param-map", join(dir, "map.json"), "--from", join(dir, "x0.npy"), "--steps", "40", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const traj = readNpy(out);
    const want = exporterRun(x0, 40);
    expect(traj.shape).toEqual([41, N]);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(traj.data[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
    expect(worst).toBeLessThan(1e-9);
    // The orientation matters: with the renames alone, the square W loads but the run goes elsewhere.
    writeFileSync(join(dir, "renames-only.json"), JSON.stringify({ rename: MAP.rename }));
    const wrong = await cli.run(["generate", "specs/alrnn.rnn", "--params", join(dir, "torch.npz"), "--param-map", join(dir, "renames-only.json"), "--from", join(dir, "x0.npy"), "--steps", "40", "--out", out]);
    expect(wrong.code, wrong.stderr).toBe(0);
    const off = readNpy(out).data;
    expect(Math.max(...want.map((v, i) => Math.abs(v - off[i]!)))).toBeGreaterThan(1e-3);
  });

  it("train --init-params starts from the imported values", async () => {
    const run = join(dir, "run");
    // lr 1e-9: one optimizer step moves nothing measurable (RAdam's first steps move by lr times the
    // gradient), so the parameters saved after it are the imported ones.
    const r = await cli.run([
      "train", "specs/alrnn.rnn", "--data", join(dir, "data.npy"), "--test", join(dir, "data.npy"),
      "--init-params", join(dir, "torch.npz"), "--param-map", join(dir, "map.json"),
      "--epochs", "1", "--set", "batches_per_epoch=1", "--set", "batch_size=2", "--set", "optimizer.lr=1e-9",
      "--set", "eval.every=1000", "--out", run, "--backend", "cpu", "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const saved = readNpz(join(run, "params.npz"));
    const W = saved.get("W")!;
    expect(W.shape).toEqual([M, M]);
    for (let i = 0; i < M; i++) for (let j = 0; j < M; j++) expect(W.data[i * M + j]).toBeCloseTo(EXPORT["latent_step.W"].data[j * M + i]!, 6);
    expect(Array.from(saved.get("A")!.data).map((v) => +v.toFixed(6))).toEqual(Array.from(EXPORT["latent_step.A"].data).map((v) => +v.toFixed(6)));
    expect(saved.get("L")!.shape).toEqual([M - N, N]);
  });

  it("without the map, every name that does not match is listed", async () => {
    const r = await cli.run(["generate", "specs/alrnn.rnn", "--params", join(dir, "torch.npz"), "--from", join(dir, "x0.npy"), "--steps", "5", "--out", join(dir, "t2.npy")]);
    expect(r.code).toBe(1);
    for (const name of ["'A'", "'W'", "'h'", "'L'", "'latent_step.W'", "'z0_model.L.weight'"]) expect(r.stderr).toContain(name);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
