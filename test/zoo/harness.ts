// What the zoo's quality tests and bench/quality.ts share: compile a spec, load its data, train it
// on the fused tier, and score it (task losses and accuracies on the held-out trials, the
// reconstruction measures and their trivial baselines). Nothing here touches ../shared.
import type * as tfType from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileModel, generate } from "../../src/compiler/backends/interp/index.js";
import { compileSource } from "../../src/compiler/driver.js";
import type { Program } from "../../src/compiler/ir/types.js";
import { bindDims } from "../../src/compiler/passes/index.js";
import { dataRange, dataSizes, loadData, type LoadedData, type TaskSplit } from "../../src/runtime/data/datasets.js";
import type { NdArray } from "../../src/runtime/data/npy.js";
import { evaluate, type Scores } from "../../src/runtime/eval/evaluate.js";
import { makeSimulator } from "../../src/runtime/eval/simulator.js";
import { dstsp, hellingerPowerSpectrum } from "../../src/runtime/metrics/index.js";
import { columnStats, type Series } from "../../src/runtime/metrics/series.js";
import { initParams, type ParamValues } from "../../src/runtime/model/params.js";
import { Prng } from "../../src/runtime/train/prng.js";
import { freshCursor, train, type Tier, type TrainState } from "../../src/runtime/train/trainer.js";
import { ROOT } from "../helpers/specs.js";
import { gaussianLike } from "../runtime/metrics/helpers.js";

/** The text of a zoo spec, `specs/<name>.rnn`. */
export function zooSource(name: string): string {
  return readFileSync(join(ROOT, "specs", `${name}.rnn`), "utf8");
}

/**
 * Replace the value of a `key = value` line of a spec (a train setting, a dim, a const), keeping
 * its comment; throws if no line sets `key`. Lines, not comments: `# ... H = 64` is left alone.
 */
export function withSetting(source: string, key: string, value: string | number): string {
  const re = new RegExp(`^([ \\t]*(?:const[ \\t]+)?${key}[ \\t]*=[ \\t]*)[^#\\n]*?([ \\t]*(?:#.*)?)$`, "m");
  if (!re.test(source)) throw new Error(`the spec has no line setting '${key}'`);
  return source.replace(re, (_m, head: string, comment: string) => `${head}${value}${comment}`);
}

/** Set train settings: replace the lines that set them, add the others to the train block. */
export function withTrain(source: string, settings: Record<string, string | number>): string {
  let out = source;
  for (const [key, value] of Object.entries(settings)) {
    try {
      out = withSetting(out, key, value);
    } catch {
      if (!/^train\s*\{/m.test(out)) throw new Error("the spec has no train block");
      out = out.replace(/^train\s*\{/m, (head) => `${head}\n  ${key} = ${value}`);
    }
  }
  return out;
}

/** Replace the spec's first built-in data source, `data NAME = builtin.GEN(...)`, by `call`. */
export function withData(source: string, call: string): string {
  const re = /^(data\s+\w+\s*=\s*)builtin\.\w+\([^)]*\)/m;
  if (!re.test(source)) throw new Error("the spec has no built-in data source");
  return source.replace(re, (_m, head: string) => `${head}${call}`);
}

export interface Prepared {
  program: Program;
  data: Map<string, LoadedData>;
  params: ParamValues;
}

/** Compile, load the data and initialize the parameters exactly as `rnnc train` does. */
export function prepare(source: string, file = "spec.rnn"): Prepared {
  const r = compileSource(source, file);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.opt || errors.length) throw new Error(`${file} does not check: ${errors.map((d) => d.message).join("; ")}`);
  const root = new Prng(r.opt.train!.seed);
  const data = loadData(r.opt, { rng: (s) => root.fork(s) });
  const program = bindDims(r.opt, dataSizes(data));
  const ranges = new Map([...data].map(([k, d]) => [k, dataRange(d)]));
  const params = initParams(program, root.fork("init"), (n) => ranges.get(n)!);
  return { program, data, params };
}

/** Compile a spec and bind its dims without loading data (built-in sources know their sizes). */
export function compileOnly(source: string, file = "spec.rnn"): Program {
  const r = compileSource(source, file);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (!r.opt || errors.length) throw new Error(`${file} does not check: ${errors.map((d) => d.message).join("; ")}`);
  return bindDims(r.opt, {});
}

export interface FitOptions {
  tier?: Tier;
  /** Called after every epoch with the parameters of that epoch. */
  afterEpoch?: (epoch: number, params: ParamValues) => void;
}

export interface Fitted {
  params: ParamValues;
  outcome: "finished" | "stopped" | "nan";
  /** Mean training loss per epoch. */
  losses: number[];
  seconds: number;
}

/** Train from the prepared parameters with the spec's plan (fused tier unless told otherwise). */
export async function fit(tf: typeof tfType, p: Prepared, opts: FitOptions = {}): Promise<Fitted> {
  const plan = p.program.train!;
  const state: TrainState = { cursor: freshCursor(plan.seed, plan), params: p.params, optimizer: null };
  const losses: number[] = [];
  const t0 = performance.now();
  const r = await train({
    tier: opts.tier ?? "fused",
    tf,
    program: p.program,
    data: p.data,
    state,
    hooks: {
      event: (e) => void (e.type === "epoch" ? losses.push(e.loss) : undefined),
      afterEpoch: (epoch, s) => opts.afterEpoch?.(epoch, s.params),
    },
  });
  return { params: r.state.params, outcome: r.outcome, losses, seconds: (performance.now() - t0) / 1000 };
}

/** The trainable parameter count: every stored entry (a `diag` parameter stores its diagonal). */
export function parameterCount(program: Program): number {
  return program.params.filter((p) => p.trainable).reduce((n, p) => n + (p.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

/** The task data set a program trains on. */
export function taskOf(p: Prepared): { train: TaskSplit; test: TaskSplit } {
  const d = p.data.get(p.program.train!.loss.target.data)!;
  if (d.kind !== "task") throw new Error(`${d.name} is not a task`);
  return d;
}

/**
 * The model's outputs on every trial of a split, [S, T, O] like the targets: as in training,
 * the output at step t is observe(state after input t). Model noise is drawn from `seed`.
 */
export function taskOutputs(program: Program, params: ParamValues, split: TaskSplit, seed = 0): Float64Array {
  const [S, T, I] = split.input.shape as [number, number, number];
  const O = split.target.shape[2]!;
  const model = compileModel(program);
  const raw: Record<string, Float32Array> = {};
  for (const [k, v] of params) raw[k] = v.data;
  const eff = model.effectiveParams(raw);
  // generate() takes time-major inputs [T, S, I].
  const inputs = new Float64Array(T * S * I);
  for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) inputs[(t * S + s) * I + i] = split.input.data[(s * T + t) * I + i]!;
  const rng = new Prng(seed);
  const run = generate(model, eff, { steps: T, batch: S, inputs, rng: { normal: () => rng.normal() }, latent: false });
  const observed = run.observed[program.observations[0]!.name]!; // [T + 1, S, O]; row t + 1 answers input t
  const out = new Float64Array(S * T * O);
  for (let s = 0; s < S; s++) for (let t = 0; t < T; t++) for (let o = 0; o < O; o++) out[(s * T + t) * O + o] = observed[((t + 1) * S + s) * O + o]!;
  return out;
}

/** Mean squared error over the entries the mask selects (the training loss on a split). */
export function maskedMse(outputs: ArrayLike<number>, split: TaskSplit): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < outputs.length; i++) {
    const m = split.mask.data[i]!;
    num += m * (outputs[i]! - split.target.data[i]!) ** 2;
    den += m;
  }
  return num / den;
}

/** The fraction of masked entries whose output has the target's sign (flip-flop accuracy). */
export function signAccuracy(outputs: ArrayLike<number>, split: TaskSplit): number {
  let right = 0;
  let count = 0;
  for (let i = 0; i < outputs.length; i++) {
    if (split.mask.data[i] === 0) continue;
    count++;
    if (Math.sign(outputs[i]!) === Math.sign(split.target.data[i]!)) right++;
  }
  return right / count;
}

/**
 * The best constant predictor's loss on `test`: predict, per output channel, the mean of the
 * training targets the mask selects. A model that learned nothing scores about this.
 */
export function constantBaselineMse(trainSplit: TaskSplit, test: TaskSplit): number {
  const O = trainSplit.target.shape[2]!;
  const sum = new Float64Array(O);
  const count = new Float64Array(O);
  trainSplit.target.data.forEach((v, i) => {
    sum[i % O]! += trainSplit.mask.data[i]! * v;
    count[i % O]! += trainSplit.mask.data[i]!;
  });
  const outputs = Float64Array.from({ length: test.target.data.length }, (_, i) => sum[i % O]! / Math.max(1, count[i % O]!));
  return maskedMse(outputs, test);
}

/** The series a DSR program is evaluated on (its eval plan's test trajectory). */
export function testSeries(p: Prepared): NdArray {
  const d = p.data.get(p.program.eval!.from.data)!;
  if (d.kind !== "series") throw new Error(`${d.name} is not a series`);
  return d.test;
}

/** D_stsp, D_H and PE of trained parameters, as `rnnc train` scores them (PE from `peStarts` points). */
export function reconstructionScores(p: Prepared, params: ParamValues, test: NdArray = testSeries(p), peStarts?: number, maxSteps?: number): Scores {
  return evaluate(makeSimulator(p.program, params), test, p.program.eval!, { ...(peStarts ? { peStarts } : {}), ...(maxSteps ? { maxSteps } : {}) });
}


/**
 * The trivial reconstructions of a test trajectory, scored with the same measures: a fixed point
 * at the data mean (plus a whisker of noise, so D_H is defined) and an iid Gaussian with the
 * data's mean and covariance (right histogram marginals, no dynamics).
 */
export function trivialBaselines(test: NdArray): { fixedPoint: { dstsp: number; dh: number }; iidGaussian: { dstsp: number; dh: number } } {
  const [T, N] = test.shape as [number, number];
  const X: Series = { data: test.data, T, N };
  const rng = new Prng(12345);
  const { mean, std } = columnStats(X);
  const fixed = new Float64Array(T * N);
  for (let t = 0; t < T; t++) for (let j = 0; j < N; j++) fixed[t * N + j] = mean[j]! + 1e-3 * std[j]! * rng.normal();
  const F: Series = { data: fixed, T, N };
  const G = gaussianLike(X, rng);
  const score = (Y: Series) => ({ dstsp: dstsp(X, Y, { rng: new Prng(0) }), dh: hellingerPowerSpectrum(X, Y, 20) });
  return { fixedPoint: score(F), iidGaussian: score(G) };
}
