// Training-step benchmark, side by side in one run: rnnc fused, rnnc graph (wasm, cpu) and the
// PyTorch reference loop (bench/torch_reference.py) for the same models and hyperparameters,
// batch 16 x 200 steps, one thread. Prints median ms per optimizer step and the ratios.
//   npx tsx bench/step.ts [--reps 20] [--cases dendplrnn,alrnn] [--no-torch] [--no-graph]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileSource } from "../src/compiler/driver.js";
import { bindDims } from "../src/compiler/passes/index.js";
import { selectBackend } from "../src/runtime/backend/select.js";
import { dataRange, dataSizes, loadData } from "../src/runtime/data/datasets.js";
import { initParams } from "../src/runtime/model/params.js";
import { Prng } from "../src/runtime/train/prng.js";
import { freshCursor, train, type Tier } from "../src/runtime/train/trainer.js";
import { compileModel, generate } from "../src/compiler/backends/interp/index.js";
import { torchTimes, type Timing } from "./torch.js";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const opt = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const reps = Number(opt("reps", "20"));
// Generated code reaches full speed only after the JIT has optimised it (V8 tiers WebAssembly and
// JavaScript up over the first steps; PyTorch warms its allocator): a training run takes thousands
// of steps, so steady state is what is compared. The graph tier's steps are long enough for 3.
const warmup = Number(opt("warmup", "20"));
const root = join(import.meta.dirname, "..");

/** The benchmark cases: a zoo spec with the reference hyperparameters spliced in. */
const CASES: Record<string, { spec: string; edit: (s: string) => string }> = {
  dendplrnn: { spec: "dendplrnn.rnn", edit: (s) => s }, // clipped, M 22, B 20, tau 25
  alrnn: { spec: "alrnn.rnn", edit: (s) => s }, // M 20, P 2, tau 16
  plrnn: { spec: "plrnn.rnn", edit: (s) => s }, // M 15, tau 15
  ctrnn: { spec: "ctrnn.rnn", edit: (s) => s.replace(/batch_size\s*=\s*\d+/, "batch_size = 16") }, // H 64, 3 bits, 200 steps
  lstm: {
    spec: "lstm.rnn",
    edit: (s) => s.replace(/builtin\.sine_mix\([^)]*\)/, "builtin.flipflop(bits = 3, trials = 64, steps = 200)").replace(/batch_size\s*=\s*\d+/, "batch_size = 16").replace(/seq_len\s*=\s*\d+/, "seq_len = 200").replace(/, mask = task.mask/, ""),
  },
};
const cases = opt("cases", Object.keys(CASES).join(",")).split(",");

async function timeRnnc(name: string, tier: Tier, backend: "cpu" | "wasm"): Promise<Timing> {
  const skip = tier === "fused" ? warmup : 3;
  const c = CASES[name]!;
  const src = c.edit(readFileSync(join(root, "specs", c.spec), "utf8"));
  const ir = compileSource(src, c.spec).opt!;
  const rng = new Prng(1);
  const data = loadData({ ...ir, data: ir.data.map((d) => (d.kind === "builtin" && "steps" in d.args && d.generator === "lorenz63" ? { ...d, args: { ...d.args, steps: 20000, test_steps: 1000 } } : d)) }, { rng: (s) => rng.fork(s) });
  const p0 = bindDims(ir, dataSizes(data));
  const p = { ...p0, train: { ...p0.train!, epochs: 1, batchesPerEpoch: reps + skip } };
  const sel = await selectBackend(backend);
  const ranges = new Map([...data].map(([k, d]) => [k, dataRange(d)]));
  const params = initParams(p, rng.fork("init"), (n) => ranges.get(n)!);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  await train({
    tier,
    tf: sel.tf,
    program: p,
    data,
    state: { cursor: freshCursor(1, p.train), params, optimizer: null },
    hooks: {
      event: (e) => {
        if (e.type !== "batch") return;
        const now = performance.now();
        const c = process.cpuUsage(lastCpu);
        times.push(now - last);
        cpuTimes.push((c.user + c.system) / 1000);
        last = now;
        lastCpu = process.cpuUsage();
      },
    },
  });
  const median = (a: number[]) => {
    const w = a.slice(skip).sort((x, y) => x - y);
    return w[Math.floor(w.length / 2)]!;
  };
  return { wall: median(times), cpu: median(cpuTimes) };
}

function generationRate(name: string): number {
  const c = CASES[name]!;
  const ir = compileSource(c.edit(readFileSync(join(root, "specs", c.spec), "utf8")), c.spec).opt!;
  const p = bindDims(ir, {});
  const model = compileModel(p);
  const rng = new Prng(2);
  const raw: Record<string, Float64Array> = {};
  for (const prm of p.params) raw[prm.name] = Float64Array.from({ length: (prm.shape as number[]).reduce((a, b) => a * b, 1) }, () => 0.1 * rng.normal());
  const eff = model.effectiveParams(raw);
  const steps = 100000;
  const x0 = new Float64Array((p.observations[0]!.shape as number[])[0]!);
  const noise = { normal: () => rng.normal() };
  generate(model, eff, { steps: 1000, x0, rng: noise, latent: false });
  const t0 = performance.now();
  generate(model, eff, { steps, x0, rng: noise, latent: false });
  return steps / ((performance.now() - t0) / 1000);
}

const rows: string[][] = [];
const torch = flag("no-torch") ? null : torchTimes(reps, warmup);
const none: Timing = { wall: NaN, cpu: NaN };
for (const name of cases) {
  const fused = await timeRnnc(name, "fused", "cpu");
  const graphWasm = flag("no-graph") ? none : await timeRnnc(name, "graph", "wasm");
  const graphCpu = flag("no-graph") ? none : await timeRnnc(name, "graph", "cpu");
  const ref = torch?.[name] ?? none;
  const gen = generationRate(name);
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "-");
  const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(1)}x` : "-");
  rows.push([name, fmt(fused.wall), fmt(graphWasm.wall), fmt(graphCpu.wall), fmt(ref.wall), ratio(ref.wall, fused.wall), ratio(graphWasm.wall, fused.wall), fmt(fused.cpu), `${Math.round(gen / 1000)}k`]);
}
const header = ["case (16 x 200, 1 thread)", "fused ms", "graph wasm ms", "graph cpu ms", "PyTorch ms", "PyTorch/fused", "graph wasm/fused", "fused process cpu ms", "generate steps/s"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
console.log(`medians of ${reps} optimizer steps after ${warmup} warm-up steps (graph tiers: 3), wall-clock ms; ratios from this run only.`);
console.log("process cpu: all of Node's threads (V8 compiles and collects garbage on helper threads), for reference.");
