// Quality benchmark (not in CI): the zoo's specs trained with their references' protocols and
// budgets, scored as the references score them, in a table against the reference numbers
// (shared/reference/dsr-anchors.md §6, neuro-anchors.md §1.7 and §4.3).
//   npx tsx bench/quality.ts [--quick] [--cases dendplrnn,alrnn,diru-lstm,flipflop] [--seed N]
// --quick runs every case at a small fraction of its budget (a smoke test of the benchmark, a few
// minutes; its numbers are not comparable with the references). The full run trains the reference
// budgets: 32 minutes measured on a loaded 2-core machine (dendPLRNN 9 min, ALRNN 9, DIRU/LSTM 10,
// flip-flop 3). The DSR cases train and evaluate on the
// references' own data files when ../shared/data is present, else on rnnc's generated Lorenz-63.
import * as tf from "@tensorflow/tfjs";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readNpy, writeNpy } from "../src/runtime/data/npy.js";
import type { ParamValues } from "../src/runtime/model/params.js";
import {
  fit,
  maskedMse,
  parameterCount,
  prepare,
  reconstructionScores,
  signAccuracy,
  taskOf,
  taskOutputs,
  withData,
  withSetting,
  withTrain,
  zooSource,
  type Prepared,
} from "../test/zoo/harness.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const opt = (name: string, d: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : d;
};
const seed = Number(opt("seed", "1"));
const cases = opt("cases", "dendplrnn,alrnn,diru-lstm,flipflop").split(",");
const shared = join(import.meta.dirname, "..", "..", "shared", "data");
const scratch = mkdtempSync(join(tmpdir(), "rnnc-quality-"));

/** One line of the table: what was measured against what the reference measured. */
interface Row {
  case: string;
  budget: string;
  metric: string;
  rnnc: number;
  reference: number;
  /** Lower is better for every metric here except accuracy. */
  higherIsBetter?: boolean;
  seconds: number;
  referenceSeconds?: number;
}
const rows: Row[] = [];

const say = (s: string) => process.stderr.write(s + "\n");

/** Epochs: the reference's, or a small fraction of it in --quick mode. */
const budget = (full: number, quickEpochs: number) => (quick ? quickEpochs : full);

/** The data line of a DSR spec pointed at files (absolute paths), when they exist. */
function withFiles(source: string, train: string, test: string): string {
  return source.replace(/^data lorenz = .*$/m, `data lorenz = file(${JSON.stringify(train)}, test = ${JSON.stringify(test)})`);
}

/** A copy of a [T, N] .npy file without its first `rows` rows (the ALRNN tutorial drops 500). */
function dropRows(path: string, rows: number): string {
  const a = readNpy(path);
  const [T, N] = a.shape as [number, number];
  const out = join(scratch, `drop${rows}-${path.split("/").pop()}`);
  writeNpy(out, { dtype: "float64", shape: [T - rows, N], data: Float64Array.from(a.data.subarray(rows * N)) });
  return out;
}

/**
 * Train a DSR spec with its eval plan: every `eval every` epochs a quick evaluation (PE from 2000
 * points), keeping the best parameters by the plan's measure; then the full evaluation (PE from
 * every test point) of the last and the best parameters.
 */
async function trainDsr(p: Prepared) {
  const plan = p.program.eval!;
  let best: { params: ParamValues; dstsp: number; epoch: number } | undefined;
  const r = await fit(tf, p, {
    afterEpoch: (epoch, params) => {
      const epochs = p.program.train!.epochs;
      if (epoch % plan.everyEpochs !== 0 && epoch !== epochs) return;
      const s = reconstructionScores(p, params, undefined, 2000);
      say(`  epoch ${epoch}: D_stsp ${s.dstsp?.toFixed(3)}  D_H ${s.dh?.toFixed(4)}  PE ${s.pe?.toExponential(2)}`);
      if (s.dstsp !== undefined && Number.isFinite(s.dstsp) && (!best || s.dstsp < best.dstsp)) best = { params, dstsp: s.dstsp, epoch };
    },
  });
  const last = reconstructionScores(p, r.params);
  const kept = best ? reconstructionScores(p, best.params) : last;
  return { last, best: kept, bestEpoch: best?.epoch, seconds: r.seconds };
}

async function dendplrnn(): Promise<void> {
  // dsr-anchors §6.2: clipped M 22, B 20, tau 25, RAdam 1e-3 with lr x0.1 at 10/80/90 %, 1000
  // epochs; the reference's model is its last epoch, scored on the dendPLRNN test set.
  const epochs = budget(1000, 10);
  let source = withTrain(zooSource("dendplrnn"), { optimizer: "radam(lr = 1e-3)", schedule: "multistep(at = [0.1, 0.8, 0.9], factor = 0.1)", epochs, seed });
  source = source.replace(/eval every \d+ epochs/, `eval every ${quick ? 5 : 50} epochs`);
  const train = join(shared, "dendPLRNN", "lorenz63_train.npy");
  const test = join(shared, "dendPLRNN", "lorenz63_test.npy");
  const onReference = existsSync(train) && existsSync(test);
  if (onReference) source = withFiles(source, train, test);
  say(`dendPLRNN (${onReference ? "reference data" : "generated Lorenz-63"}), ${epochs} epochs`);
  const r = await trainDsr(prepare(source, "dendplrnn.rnn"));
  const name = `dendPLRNN L63${onReference ? "" : " (gen.)"}`;
  const b = `${epochs} ep, last`;
  rows.push({ case: name, budget: b, metric: "D_stsp", rnnc: r.last.dstsp!, reference: 0.77, seconds: r.seconds, referenceSeconds: 1479 });
  rows.push({ case: name, budget: b, metric: "D_H", rnnc: r.last.dh!, reference: 0.115, seconds: r.seconds });
  rows.push({ case: name, budget: b, metric: "PE(20)", rnnc: r.last.pe!, reference: 2.3e-3, seconds: r.seconds });
}

async function alrnn(): Promise<void> {
  // dsr-anchors §6.2: the authors' shipped M 20, P 2 model (2000 epochs, RAdam 1e-3 -> 1e-5,
  // tau 16, best checkpoint by D_stsp) scores D_stsp 3.25, D_H 0.29 on the ALRNN test set
  // (its first 500 rows dropped, as the tutorial does). 2000 epochs took 20:53 in the notebook.
  const epochs = budget(2000, 10);
  let source = withTrain(zooSource("alrnn"), { epochs, seed });
  if (quick) source = source.replace(/eval every \d+ epochs/, "eval every 5 epochs");
  const train = join(shared, "ALRNN-DSR", "alrnn_python_lorenz63_train.npy");
  const test = join(shared, "ALRNN-DSR", "alrnn_python_lorenz63_test.npy");
  const onReference = existsSync(train) && existsSync(test);
  if (onReference) source = withFiles(source, dropRows(train, 500), dropRows(test, 500));
  say(`ALRNN M 20 P 2 (${onReference ? "reference data" : "generated Lorenz-63"}), ${epochs} epochs`);
  const r = await trainDsr(prepare(source, "alrnn.rnn"));
  const name = `ALRNN M20 P2${onReference ? "" : " (gen.)"}`;
  const b = `${epochs} ep, best (ep ${r.bestEpoch ?? "-"})`;
  rows.push({ case: name, budget: b, metric: "D_stsp", rnnc: r.best.dstsp!, reference: 3.25, seconds: r.seconds, referenceSeconds: 1253 });
  rows.push({ case: name, budget: b, metric: "D_H", rnnc: r.best.dh!, reference: 0.29, seconds: r.seconds });
}

async function diruLstm(): Promise<void> {
  // neuro-anchors §4.3: alecrimi/DIRU's own script, H 64, 800/200 trials, batch 32, 50 epochs,
  // Adam 1e-3; final validation MSE (its per-batch mean, see perBatchMse) and median epoch times
  // (DIRU / LSTM) on one torch thread. The references are single runs (seed 42) whose final
  // validation loss swings by up to 2x from epoch to epoch: the same script's LSTM-only runs gave
  // 6.1e-3 (seed 42) and 5.0e-3 (seed 1), so compare over several --seed values.
  const epochs = budget(50, 5);
  const reference: Record<string, Record<string, { mse: number; epochSeconds: number }>> = {
    sine: { diru: { mse: 0.0089, epochSeconds: 0.63 }, lstm: { mse: 0.005, epochSeconds: 0.18 } },
    lorenz: { diru: { mse: 0.2, epochSeconds: 1.48 }, lstm: { mse: 0.462, epochSeconds: 0.21 } },
  };
  const tasks: Record<string, string> = { sine: "builtin.sine_mix(trials = 800, steps = 50)", lorenz: "builtin.lorenz_seq2one(trials = 800, steps = 50)" };
  for (const [task, call] of Object.entries(tasks)) {
    for (const [model, H] of [["diru", 64], ["lstm", 64], ["lstm", 71]] as const) {
      const source = withSetting(withTrain(withData(zooSource(model), call), { epochs, seed }), "H", H);
      const p = prepare(source, `${model}.rnn`);
      const label = `${model === "diru" ? "DIRU" : "LSTM"} H${H}${H === 71 ? " (matched)" : ""} ${task}`;
      say(`${label}: ${parameterCount(p.program)} parameters, ${epochs} epochs`);
      const r = await fit(tf, p);
      const split = taskOf(p).test;
      const ref = reference[task]![model]!;
      rows.push({
        case: label,
        budget: `${epochs} ep`,
        metric: "val MSE",
        rnnc: perBatchMse(taskOutputs(p.program, r.params, split), split, 32),
        reference: ref.mse,
        seconds: r.seconds,
        referenceSeconds: ref.epochSeconds * 50,
      });
    }
  }
}

/**
 * The DIRU script's validation loss (dendrite_rnn.py `train_model`): the mean over the batches of
 * an unshuffled DataLoader (batch 32) of each batch's MSE, so with 200 trials the last batch of 8
 * weighs as much as a batch of 32. It differs from the all-trial mean by about 10 % either way
 * (PyTorch LSTM, seed 42: 6.1e-3 against 5.5e-3; seed 1: 5.0e-3 against 5.3e-3).
 */
function perBatchMse(outputs: ArrayLike<number>, split: ReturnType<typeof taskOf>["test"], batch: number): number {
  const [S, T, O] = split.target.shape as [number, number, number];
  const per = T * O;
  let sum = 0;
  let batches = 0;
  for (let s0 = 0; s0 < S; s0 += batch) {
    let num = 0;
    let den = 0;
    for (let i = s0 * per; i < Math.min(S, s0 + batch) * per; i++) {
      const m = split.mask.data[i]!;
      num += m * (outputs[i]! - split.target.data[i]!) ** 2;
      den += m;
    }
    sum += num / den;
    batches++;
  }
  return sum / batches;
}

async function flipflop(): Promise<void> {
  // neuro-anchors §1.7: pyrnn's CT-RNN (64 units, dt/tau 5/50) on its 3-bit example (one batch of
  // 128 trials of 2048 steps per epoch, lr 0.0025): loss 0.5167 at epoch 240, in 943 s.
  const epochs = budget(240, 5);
  const source = withTrain(zooSource("ctrnn_pyrnn"), { epochs, seed });
  const p = prepare(source, "ctrnn_pyrnn.rnn");
  say(`CT-RNN (pyrnn) 3-bit flip-flop, ${epochs} epochs`);
  const r = await fit(tf, p);
  const split = taskOf(p).test;
  const outputs = taskOutputs(p.program, r.params, split);
  rows.push({ case: "CT-RNN flip-flop", budget: `${epochs} ep`, metric: "train loss", rnnc: r.losses.at(-1)!, reference: 0.5167, seconds: r.seconds, referenceSeconds: 943 });
  rows.push({ case: "CT-RNN flip-flop", budget: `${epochs} ep`, metric: "test MSE", rnnc: maskedMse(outputs, split), reference: NaN, seconds: r.seconds });
  rows.push({ case: "CT-RNN flip-flop", budget: `${epochs} ep`, metric: "accuracy", rnnc: signAccuracy(outputs, split), reference: NaN, higherIsBetter: true, seconds: r.seconds });
}

const CASES: Record<string, () => Promise<void>> = { dendplrnn, alrnn, "diru-lstm": diruLstm, flipflop };

await tf.setBackend("cpu");
const t0 = performance.now();
try {
  for (const c of cases) {
    const run = CASES[c];
    if (!run) throw new Error(`unknown case '${c}' (cases: ${Object.keys(CASES).join(", ")})`);
    await run();
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const total = (performance.now() - t0) / 1000;

const fmt = (v: number) => (!Number.isFinite(v) ? "-" : Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(3));
const verdict = (r: Row) => {
  if (!Number.isFinite(r.reference)) return "";
  if (quick) return "(quick)";
  const better = r.higherIsBetter ? r.rnnc >= r.reference : r.rnnc <= r.reference;
  return better ? "match/beat" : "worse";
};
const table = [
  ["case", "budget", "metric", "rnnc", "reference", "", "rnnc time", "reference time"],
  ...rows.map((r) => [r.case, r.budget, r.metric, fmt(r.rnnc), fmt(r.reference), verdict(r), `${r.seconds.toFixed(0)} s`, r.referenceSeconds ? `${r.referenceSeconds.toFixed(0)} s` : ""]),
];
const widths = table[0]!.map((_, j) => Math.max(...table.map((row) => row[j]!.length)));
const line = (row: string[]) => "| " + row.map((c, j) => c.padEnd(widths[j]!)).join(" | ") + " |";
console.log(line(table[0]!));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const row of table.slice(1)) console.log(line(row));
console.log(`\n${quick ? "quick mode (budgets cut; not comparable with the references)" : "reference budgets"}; seed ${seed}; ${total.toFixed(0)} s in all`);
