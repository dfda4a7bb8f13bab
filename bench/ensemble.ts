// Ensembles against separate runs, side by side in one run: model-steps per second (optimizer
// steps of one model) of E models trained
//   - as E separate `rnnc train` processes, two at a time (what `rnnc sweep -j 2` does);
//   - as ensembles: `rnnc train --ensemble` in two processes of E/2 (E = 1: one process), and in
//     one process of E;
//   - by the PyTorch reference loop (bench/torch_reference.py), one model at a time, one thread:
//     steps/s of its training loop alone (no process start, data generation or checkpoints, so
//     this column flatters PyTorch).
// Every rnnc process is a complete run: start-up, compile, data generation, training, checkpoint
// and parameter files each epoch. Evaluation and figures are left out on both sides (the spec's
// eval block is removed, --no-figures): they cost the same per model however models are trained.
//   npx tsx bench/ensemble.ts [--cases alrnn,plrnn,dendplrnn] [--epochs 20] [--sizes 1,8,64]
//                             [--separate-max 16] [--no-torch]
// Separate runs are independent processes, so their throughput does not depend on E: beyond
// --separate-max runs the measured rate of that many stands for the E runs (said in the table).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { torchTimes } from "./torch.js";

const args = process.argv.slice(2);
const opt = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const root = join(import.meta.dirname, "..");
const rnnc = join(root, "bin", "rnnc.js");
const cases = opt("cases", "alrnn,plrnn,dendplrnn").split(",");
const epochs = Number(opt("epochs", "20"));
const sizes = opt("sizes", "1,8,64").split(",").map(Number);
const separateMax = Number(opt("separate-max", "16"));
const BATCHES = 50;
const steps = epochs * BATCHES;

/** The zoo spec without its eval block, at batch 16 x 200 (the PyTorch reference's setting). */
function benchSpec(dir: string, name: string): string {
  const src = readFileSync(join(root, "specs", `${name}.rnn`), "utf8").replace(/\neval every[^{]*\{[^}]*\}\n?/, "\n");
  const file = join(dir, `${name}.rnn`);
  writeFileSync(file, src);
  return file;
}

function rnncRun(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [rnnc, ...argv], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`rnnc ${argv.join(" ")} exited with ${code}: ${err.slice(-500)}`))));
  });
}

/** Runs the jobs `parallel` at a time; returns the wall-clock seconds. */
async function timed(jobs: string[][], parallel: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, async () => {
    while (next < jobs.length) await rnncRun(jobs[next++]!);
  }));
  return (performance.now() - t0) / 1000;
}

const common = (_name: string) => ["--epochs", String(epochs), "--set", `batches_per_epoch=${BATCHES}`, "--set", "batch_size=16", "--set", "seq_len=200", "--no-figures", "--json"];

const work = mkdtempSync(join(tmpdir(), "rnnc-bench-ensemble-"));
const torch = args.includes("--no-torch") ? null : torchTimes(20, 5);
const cores = availableParallelism();
const rows: string[][] = [];
for (const name of cases) {
  const spec = benchSpec(work, name);
  let id = 0;
  const out = () => join(work, `${name}-${id++}`);
  // separate runs: their rate, from min(E, separateMax) runs two at a time
  const separateRate = new Map<number, { rate: number; measured: number }>();
  for (const E of sizes) {
    const n = Math.min(E, separateMax);
    const known = [...separateRate.values()].find((r) => r.measured === n);
    if (known) {
      separateRate.set(E, known);
      continue;
    }
    const wall = await timed(Array.from({ length: n }, (_, k) => ["train", spec, "--seed", String(k + 1), "--out", out(), ...common(name)]), Math.min(2, cores));
    separateRate.set(E, { rate: (n * steps) / wall, measured: n });
  }
  const torchRate = torch?.[name] ? 1000 / torch[name]!.wall : NaN;
  for (const E of sizes) {
    const halves = E === 1 ? [1] : [Math.ceil(E / 2), Math.floor(E / 2)];
    let seed = 1;
    const two = await timed(halves.map((h) => {
      const a = ["train", spec, "--ensemble", String(h), "--seed", String(seed), "--out", out(), ...common(name)];
      seed += h;
      return a;
    }), 2);
    const one = E === 1 ? two : await timed([["train", spec, "--ensemble", String(E), "--seed", "1", "--out", out(), ...common(name)]], 1);
    const sep = separateRate.get(E)!;
    const ens2 = (E * steps) / two;
    const ens1 = (E * steps) / one;
    rows.push([
      name,
      String(E),
      `${sep.rate.toFixed(0)}${sep.measured < E ? ` (${sep.measured} runs)` : ""}`,
      ens2.toFixed(0),
      ens1.toFixed(0),
      Number.isFinite(torchRate) ? torchRate.toFixed(1) : "-",
      `${(ens2 / sep.rate).toFixed(2)}x`,
      Number.isFinite(torchRate) ? `${(ens2 / torchRate).toFixed(0)}x` : "-",
    ]);
    process.stderr.write(`bench: ${name} E=${E} done\n`);
  }
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
}
rmSync(work, { recursive: true, force: true });
const header = ["case", "E", "separate runs, 2 at a time", "ensembles, 2 processes", "ensemble, 1 process", "PyTorch, 1 at a time", "ensembles / separate", "ensembles / PyTorch"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
console.log(`model-steps per second (optimizer steps of one model, batch 16 x 200), ${steps} steps per model (${epochs} epochs of ${BATCHES}); wall clock, ${cores} cores, this run only.`);
console.log("rnnc columns: whole processes (start-up, data, training, checkpoints; no eval, no figures). PyTorch: its training loop alone.");
