// The fused kernel alone, per model, by models per kernel call (ensembles put them side by side on
// the lanes): median ms of one training batch (forward and backward, 16 x 200; LSTM 16 x 50) per
// model, side by side in one run. Shows where more lanes per call stop paying (the step's buffers
// leave the cache), which sets ensemble.ts's defaultModelsPerCall.
//   npx tsx bench/kernel.ts [--cases alrnn,plrnn,dendplrnn,ctrnn,lstm] [--per-call 1,4,16,64]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FusedKernel, type FusedBatch } from "../src/compiler/backends/fused/kernel.js";
import { compileSource } from "../src/compiler/driver.js";
import { bindDims } from "../src/compiler/passes/index.js";
import { dataSizes, loadData } from "../src/runtime/data/datasets.js";
import { Prng } from "../src/runtime/train/prng.js";

const args = process.argv.slice(2);
const opt = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const cases = opt("cases", "alrnn,plrnn,dendplrnn,ctrnn,lstm").split(",");
const perCall = opt("per-call", "1,4,16,64").split(",").map(Number);
const root = join(import.meta.dirname, "..");
const size = (s: unknown[]) => (s as number[]).reduce((a, b) => a * b, 1);

const rows: string[][] = [];
for (const name of cases) {
  // small data sets: only the dims matter here
  const src = readFileSync(join(root, "specs", `${name}.rnn`), "utf8").replace(/steps = 100000/g, "steps = 3000").replace(/trials = \d+/, "trials = 64");
  const ir = compileSource(src, `${name}.rnn`).opt!;
  const seeds = new Prng(1);
  const p = bindDims(ir, dataSizes(loadData(ir, { rng: (s) => seeds.fork(s) })));
  const B = 16;
  const T = name === "lstm" ? 50 : 200;
  const rng = new Prng(2);
  const N = size(p.observations[0]!.shape);
  const I = p.inputs[0] ? size(p.inputs[0].shape) : 0;
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const params = () => Object.fromEntries(p.params.map((q) => [q.name, fill(size(q.shape)).map((x) => 0.1 * x)]));
  const batch = (): FusedBatch => (I === 0 ? { kind: "series", B, T, teacher: fill(B * (T + 1) * N), target: fill(B * (T + 1) * N) } : { kind: "task", B, T, input: fill(B * T * I), target: fill(B * T * N), mask: null });
  const row = [name];
  for (const E of perCall) {
    const kernel = new FusedKernel(p, B, "float32", E);
    const ps = Array.from({ length: E }, params);
    const bs = Array.from({ length: E }, batch);
    const os = Array.from({ length: E }, (_, m) => ({ gtfAlpha: 0.1, rng: new Prng(3 + m) }));
    const reps = Math.max(5, Math.round(160 / E));
    for (let i = 0; i < Math.max(3, reps / 4); i++) kernel.runModels(ps, bs, os);
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      kernel.runModels(ps, bs, os);
      times.push((performance.now() - t0) / E);
    }
    times.sort((a, b) => a - b);
    row.push(times[Math.floor(times.length / 2)]!.toFixed(2));
  }
  rows.push(row);
}
const header = ["case (ms per model)", ...perCall.map((e) => `${e} per call`)];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
console.log("median wall ms per model of one training batch (batch 16), one thread, this run only");
