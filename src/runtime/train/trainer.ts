// The training loop: batches from rnnc's seeded PRNG streams, the objective on the graph tier (the
// fused tier's loop is an ensemble of one, ensemble.ts),
// gradient clipping, the optimizer and its schedule, periodic evaluation, checkpoints, resume,
// and NaN handling. Everything that influences the numbers is part of the checkpoint, so a
// resumed run continues exactly where the interrupted one stopped.
import type * as tfType from "@tensorflow/tfjs";
import { compileGraphModel, type GraphModel, type TensorMap } from "../../compiler/backends/graph/index.js";
import type { Program, TrainPlan } from "../../compiler/ir/types.js";
import type { LoadedData, SeriesData, TaskData } from "../data/datasets.js";
import type { ParamValues } from "../model/params.js";
import type { FusedBatch } from "../../compiler/backends/fused/kernel.js";
import type { Precision } from "../../compiler/backends/fused/engine.js";
import { trainEnsemble } from "./ensemble.js";
import { batchLoss, type Batch } from "./objective.js";
import { clipByGlobalNorm, createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerState } from "./optimizers.js";
import { Prng, type PrngState } from "./prng.js";
import { learningRate, type ScheduleConfig } from "./schedules.js";
import { spectralNorm } from "../linalg.js";

type Tf = typeof tfType;

/** Where training stands; enough to resume exactly. */
export interface TrainCursor {
  epoch: number;
  /** Batches already done in `epoch`. */
  batch: number;
  streams: Record<string, PrngState>;
  gtfAlpha: number;
  /** Batches seen since the last adaptive-GTF update. */
  sinceAlphaUpdate: number;
}

export interface TrainState {
  cursor: TrainCursor;
  params: ParamValues;
  optimizer: OptimizerState | null;
}

export type TrainEvent =
  | { type: "start"; epochs: number; batchesPerEpoch: number; resumedAt?: { epoch: number; batch: number } }
  | { type: "batch"; epoch: number; batch: number; loss: number; gradNorm: number; lr: number }
  | { type: "epoch"; epoch: number; loss: number; lr: number; seconds: number; gtfAlpha?: number }
  | { type: "nan"; epoch: number; batch: number; message: string }
  | { type: "stopped"; epoch: number; batch: number; reason: string };

export interface TrainHooks {
  event?: (e: TrainEvent) => void;
  /** After each completed epoch (1-based count of completed epochs); may evaluate and checkpoint. */
  afterEpoch?: (epochsDone: number, state: TrainState) => Promise<void> | void;
  /** Polled after every batch (Ctrl-C); when true, training stops with a resumable state. */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  state: TrainState;
  /** Why the loop ended. */
  outcome: "finished" | "stopped" | "nan";
  /** The last state with finite loss (for NaN roll-back). */
  lastGood: TrainState;
  nanMessage?: string;
}

export function scheduleOf(plan: TrainPlan): ScheduleConfig {
  const lr = plan.optimizer.lr;
  const s = plan.schedule;
  if (s.kind === "exponential") return { kind: "exponential", lr, lrEnd: s.to };
  if (s.kind === "multistep") {
    const fractions = s.at.every((x) => x < 1);
    return { kind: "multistep", lr, milestones: s.at, unit: fractions ? "fraction" : "epoch", gamma: s.factor };
  }
  return { kind: "constant", lr };
}

export function optimizerConfigOf(plan: TrainPlan): OptimizerConfig {
  const o = plan.optimizer;
  if (o.kind === "sgd") return { kind: "sgd", momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay };
  if (o.kind === "adamw") return { kind: "adamw", beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay };
  return { kind: o.kind, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay };
}

/** Independent PRNG streams, so e.g. changing the noise does not change the batches. */
export const STREAMS = ["batches", "teacher-noise", "model-noise"] as const;

export function freshCursor(seed: number, plan: TrainPlan): TrainCursor {
  const root = new Prng(seed);
  const streams: Record<string, PrngState> = {};
  for (const s of STREAMS) streams[s] = root.fork(s).getState();
  const f = plan.forcing;
  return { epoch: 0, batch: 0, streams, gtfAlpha: f.kind === "gtf" ? f.alpha : f.kind === "gtf_adaptive" ? f.alpha0 : 0, sinceAlphaUpdate: 0 };
}

/** Parameter values: trained ones from `current`, frozen ones as they were. */
export function cloneParams(current: Map<string, Float32Array>, shapes: ParamValues): ParamValues {
  const out: ParamValues = new Map();
  for (const [k, v] of shapes) out.set(k, { shape: v.shape, data: (current.get(k) ?? v.data).slice() });
  return out;
}

/** graph: tfjs ops and autodiff (any backend); fused: the generated whole-sequence kernel. */
export type Tier = "graph" | "fused";

export interface TrainSetup {
  tier?: Tier;
  /** The fused tier's arithmetic (default: float32 WebAssembly where the host has SIMD). */
  precision?: Precision;
  tf: Tf;
  program: Program;
  data: Map<string, LoadedData>;
  state: TrainState;
  hooks?: TrainHooks;
}

export async function train(setup: TrainSetup): Promise<TrainResult> {
  const { tf, program } = setup;
  const plan = program.train!;
  const hooks = setup.hooks ?? {};
  // The fused tier trains one model as an ensemble of one (ensemble.ts): the same loop.
  if ((setup.tier ?? "graph") === "fused") {
    const [result] = await trainEnsemble({
      tf,
      program,
      members: [{ data: setup.data, state: setup.state }],
      ...(setup.precision ? { precision: setup.precision } : {}),
      hooks: {
        event: (_, e) => hooks.event?.(e),
        afterEpoch: (_, done, s) => hooks.afterEpoch?.(done, s),
        ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
      },
    });
    return result!;
  }
  const model: GraphModel = compileGraphModel(tf, program);
  const frozen = new Set(program.params.filter((p) => !p.trainable).map((p) => p.name));

  // one variable per trainable parameter
  const vars = new Map<string, tfType.Variable>();
  const constants: TensorMap = {};
  for (const [name, v] of setup.state.params) {
    if (frozen.has(name)) constants[name] = tf.tensor(v.data, v.shape, "float32");
    else vars.set(name, tf.variable(tf.tensor(v.data, v.shape, "float32"), true, `rnnc/${name}`));
  }
  /** The trainable parameters as tensors (inside tf.tidy). */
  const trainables = (): TensorMap => Object.fromEntries(vars);
  const optimizer: Optimizer = createOptimizer(optimizerConfigOf(plan));
  if (setup.state.optimizer) optimizer.setState(setup.state.optimizer);

  const cursor: TrainCursor = structuredClone(setup.state.cursor);
  const streams = new Map<string, Prng>(STREAMS.map((s) => [s, Prng.fromState(cursor.streams[s]!)]));
  const target = setup.data.get(plan.loss.target.data)!;
  const schedule = scheduleOf(plan);
  const N = program.observations[0] ? (program.observations[0].shape as number[]).reduce((a, b) => a * b, 1) : 0;
  const I = program.inputs[0] ? (program.inputs[0].shape as number[]).reduce((a, b) => a * b, 1) : 0;
  const O = N;
  const snapshot = (): TrainState => ({
    cursor: { ...structuredClone(cursor), streams: Object.fromEntries([...streams].map(([k, p]) => [k, p.getState()])) },
    params: cloneParams(new Map([...vars].map(([k, v]) => [k, v.dataSync() as Float32Array])), setup.state.params),
    optimizer: optimizer.getState(),
  });
  let lastGood = snapshot();

  hooks.event?.({ type: "start", epochs: plan.epochs, batchesPerEpoch: plan.batchesPerEpoch, ...(cursor.epoch > 0 || cursor.batch > 0 ? { resumedAt: { epoch: cursor.epoch, batch: cursor.batch } } : {}) });
  const modelNoise = streams.get("model-noise")!;
  const noise = (shape: number[]) => (B: number) => {
    const n = B * shape.reduce((a, b) => a * b, 1);
    const arr = new Float32Array(n);
    for (let i = 0; i < n; i++) arr[i] = modelNoise.normal();
    return tf.tensor(arr, [B, ...shape]);
  };

  let lastYield = performance.now();
  try {
    while (cursor.epoch < plan.epochs) {
      const lr = learningRate(schedule, cursor.epoch, plan.epochs);
      const t0 = performance.now();
      let lossSum = 0;
      let lossCount = 0;
      while (cursor.batch < plan.batchesPerEpoch) {
        const drawn = target.kind === "series" ? seriesBatch(target, plan, streams) : taskBatch(target, plan, streams);
        const batchLossValue = tf.tidy(() => {
          const B = drawn.B;
          const { value, grads } = tf.variableGrads(() => {
            const prm: TensorMap = { ...constants, ...trainables() };
            const batch = asTensors(tf, drawn, N, I, O);
            return batchLoss({ tf, model, program, plan, gtfAlpha: cursor.gtfAlpha, noise: (shape) => noise(shape)(B) }, prm, batch) as tfType.Scalar;
          }, [...vars.values()]);
          const byName = new Map<string, tfType.Tensor>();
          for (const [k, v] of vars) if (grads[v.name]) byName.set(k, grads[v.name]!);
          const lossNum = value.dataSync()[0]!;
          if (!Number.isFinite(lossNum)) return { loss: lossNum, norm: NaN };
          let norm = NaN;
          let use: Map<string, tfType.Tensor> = byName;
          if (plan.clip.kind === "norm") {
            const c = clipByGlobalNorm(byName, plan.clip.max);
            norm = c.norm;
            use = new Map(c.grads);
          } else if (plan.clip.kind === "value") {
            const max = plan.clip.max;
            use = new Map([...byName].map(([k, g]) => [k, tf.clipByValue(g, -max, max)]));
          }
          if ([...use.values()].some((g) => !Number.isFinite(tf.sum(g).dataSync()[0]!))) return { loss: NaN, norm };
          optimizer.step(use, vars, lr);
          return { loss: lossNum, norm };
        });
        if (!Number.isFinite(batchLossValue.loss)) {
          const message = `the loss became ${batchLossValue.loss} in epoch ${cursor.epoch + 1}, batch ${cursor.batch + 1}; training stopped and the parameters were rolled back to the last good state (epoch ${lastGood.cursor.epoch}, batch ${lastGood.cursor.batch}). Try a smaller learning rate or gradient clipping (clip = norm(10)).`;
          hooks.event?.({ type: "nan", epoch: cursor.epoch + 1, batch: cursor.batch + 1, message });
          return { state: lastGood, outcome: "nan", lastGood, nanMessage: message };
        }
        lossSum += batchLossValue.loss;
        lossCount++;
        cursor.batch++;
        hooks.event?.({ type: "batch", epoch: cursor.epoch + 1, batch: cursor.batch, loss: batchLossValue.loss, gradNorm: batchLossValue.norm, lr });
        if (plan.forcing.kind === "gtf_adaptive") {
          cursor.sinceAlphaUpdate++;
          if (cursor.sinceAlphaUpdate >= plan.forcing.updateEvery) {
            cursor.sinceAlphaUpdate = 0;
            cursor.gtfAlpha = updateGtfAlpha(tf, model, program, trainables, constants, target, plan, cursor.gtfAlpha, streams);
          }
        }
        // Let signal handlers (Ctrl-C) run: the loop would otherwise never return to the event loop.
        // A few times a second is enough; a fused step can be shorter than the round trip.
        if (performance.now() - lastYield > 50) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        if (hooks.shouldStop?.()) {
          const s = snapshot();
          hooks.event?.({ type: "stopped", epoch: cursor.epoch, batch: cursor.batch, reason: "interrupted" });
          return { state: s, outcome: "stopped", lastGood: s };
        }
      }
      cursor.epoch++;
      cursor.batch = 0;
      const state = snapshot();
      lastGood = state;
      hooks.event?.({ type: "epoch", epoch: cursor.epoch, loss: lossSum / Math.max(1, lossCount), lr, seconds: (performance.now() - t0) / 1000, ...(plan.forcing.kind === "gtf_adaptive" ? { gtfAlpha: cursor.gtfAlpha } : {}) });
      await hooks.afterEpoch?.(cursor.epoch, state);
      if (hooks.shouldStop?.()) {
        hooks.event?.({ type: "stopped", epoch: cursor.epoch, batch: 0, reason: "interrupted" });
        return { state, outcome: "stopped", lastGood: state };
      }
    }
    return { state: lastGood, outcome: "finished", lastGood };
  } finally {
    for (const v of vars.values()) v.dispose();
    for (const t of Object.values(constants)) t.dispose();
    optimizer.dispose();
  }
}

/**
 * Random subsequences of the training trajectory: [B, T + 1, N] teacher and target windows.
 * `reuse`: an earlier batch of this size whose arrays are overwritten (a training loop's step then
 * allocates nothing).
 */
export function seriesBatch(d: SeriesData, plan: TrainPlan, streams: Map<string, Prng>, reuse?: FusedBatch): FusedBatch {
  const [T, N] = d.train.shape as [number, number];
  const L = plan.seqLen + 1;
  if (T < L) throw new Error(`the training data have ${T} samples, fewer than seq_len + 1 = ${L}`);
  const B = plan.batchSize;
  const rng = streams.get("batches")!;
  const old = reuse?.kind === "series" ? reuse : undefined;
  const target = reusable(old?.target, B * L * N);
  for (let b = 0; b < B; b++) {
    const start = rng.int(T - L + 1);
    target.set(d.train.data.subarray(start * N, (start + L) * N), b * L * N);
  }
  let teacher = target;
  if (plan.teacherNoise > 0) {
    // noise only on the rows forcing reads: the first (the initial state) and the forced steps
    const noise = streams.get("teacher-noise")!;
    // (a batch without teacher noise has one array for both)
    teacher = reusable(old && old.teacher !== old.target ? old.teacher : undefined, target.length);
    teacher.set(target);
    const rows = teacherRowsRead(plan);
    for (let b = 0; b < B; b++) for (const r of rows) noise.addNormalNoise(teacher, plan.teacherNoise, (b * L + r) * N, (b * L + r + 1) * N);
  }
  return { kind: "series", B, T: plan.seqLen, teacher, target };
}

/** `old` when it is a float32 array of n values, else a new one (its contents are overwritten). */
function reusable(old: Float32Array | Float64Array | null | undefined, n: number): Float32Array {
  return old instanceof Float32Array && old.length === n ? old : new Float32Array(n);
}

/** The rows of a series batch's teacher signals that training reads: row 0 (the initial state) and the forced steps. */
export function teacherRowsRead(plan: TrainPlan): readonly number[] {
  let rows = teacherRows.get(plan);
  if (!rows) {
    const T = plan.seqLen;
    const f = plan.forcing;
    if (f.kind === "sparse") rows = Array.from({ length: Math.ceil(T / f.every) }, (_, k) => k * f.every);
    else if (f.kind === "gtf" || f.kind === "gtf_adaptive") rows = Array.from({ length: T }, (_, t) => t);
    else rows = [0];
    teacherRows.set(plan, rows);
  }
  return rows;
}

/** teacherRowsRead's answers (asked once per batch). */
const teacherRows = new WeakMap<TrainPlan, readonly number[]>();

/** A batch of whole trials (input-driven tasks); `reuse` as for seriesBatch. */
export function taskBatch(d: TaskData, plan: TrainPlan, streams: Map<string, Prng>, reuse?: FusedBatch): FusedBatch {
  const [S, T, I] = d.train.input.shape as [number, number, number];
  const O = d.train.target.shape[2]!;
  const B = Math.min(plan.batchSize, S);
  const rng = streams.get("batches")!;
  const old = reuse?.kind === "task" ? reuse : undefined;
  const input = reusable(old?.input, B * T * I);
  const target = reusable(old?.target, B * T * O);
  const mask = reusable(old?.mask, B * T * O);
  for (let b = 0; b < B; b++) {
    const s = rng.int(S);
    input.set(d.train.input.data.subarray(s * T * I, (s + 1) * T * I), b * T * I);
    target.set(d.train.target.data.subarray(s * T * O, (s + 1) * T * O), b * T * O);
    mask.set(d.train.mask.data.subarray(s * T * O, (s + 1) * T * O), b * T * O);
  }
  return { kind: "task", B, T, input, target, mask };
}

/** The graph tier's view of a batch: tensors. */
function asTensors(tf: Tf, b: FusedBatch, N: number, I: number, O: number): Batch {
  if (b.kind === "series") return { kind: "series", teacher: tf.tensor(b.teacher, [b.B, b.T + 1, N]), target: tf.tensor(b.target, [b.B, b.T + 1, N]) };
  return { kind: "task", input: tf.tensor(b.input, [b.B, b.T, I]), target: tf.tensor(b.target, [b.B, b.T, O]), mask: b.mask ? tf.tensor(b.mask, [b.B, b.T, O]) : null };
}

/**
 * Adaptive GTF (Hess et al. 2023): alpha* = max(0, 1 - 1/G) where G bounds the growth of the
 * Jacobian products along forced trajectories ("product_upper_bound": the largest, over
 * sequences, geometric mean over time of the spectral norm of J at the forcing signals). If
 * alpha* exceeds alpha it takes over at once; otherwise alpha decays toward it with gamma.
 */
export function updateGtfAlpha(
  tf: Tf,
  model: GraphModel,
  program: Program,
  trainables: () => TensorMap,
  constants: TensorMap,
  data: LoadedData,
  plan: TrainPlan,
  alpha: number,
  streams: Map<string, Prng>,
): number {
  if (plan.forcing.kind !== "gtf_adaptive" || data.kind !== "series") return alpha;
  const f = plan.forcing;
  const st = program.states.find((s) => s.name === f.units.state)!;
  const M = st.shape[0] as number;
  const [T, N] = data.train.shape as [number, number];
  const rng = streams.get("batches")!;
  const B = Math.min(plan.batchSize, 8);
  const L = Math.min(plan.seqLen, 50);
  const growth: number[] = [];
  for (let b = 0; b < B; b++) {
    const start = rng.int(T - L);
    let logSum = 0;
    let maxNorm = 0;
    for (let t = 0; t < L; t++) {
      const x = data.train.data.subarray((start + t) * N, (start + t + 1) * N);
      const z = new Float32Array(M);
      z.set(x.subarray(0, Math.min(N, M)), f.units.start as number);
      const J = stepJacobian(tf, model, trainables, constants, st.name, z);
      const s = spectralNorm(J, M);
      logSum += Math.log(Math.max(s, 1e-12));
      maxNorm = Math.max(maxNorm, s);
    }
    const g = f.bound === "batch_maximum" ? maxNorm : Math.exp(logSum / L);
    growth.push(g);
  }
  const G = f.bound === "arithmetic_mean" ? growth.reduce((a, b) => a + b, 0) / growth.length : Math.max(...growth);
  const star = Math.max(0, 1 - 1 / G);
  return star > alpha ? star : f.gamma * alpha + (1 - f.gamma) * star;
}

/** The Jacobian of the step with respect to one state, at z (row-major [M, M]), by autodiff. */
function stepJacobian(tf: Tf, model: GraphModel, trainables: () => TensorMap, constants: TensorMap, state: string, z: Float32Array): Float32Array {
  const M = z.length;
  return tf.tidy(() => {
    const eff = model.prelude({ ...constants, ...trainables() });
    const zt = tf.tensor(z, [1, M]);
    const rows: Float32Array[] = [];
    for (let i = 0; i < M; i++) {
      const g = tf.grad((x: tfType.Tensor) => {
        const next = model.step(eff, { [state]: x }, {}, (shape) => tf.zeros([1, ...shape]))[state]!;
        return tf.sum(tf.slice(next, [0, i], [1, 1]));
      })(zt);
      rows.push(g.dataSync() as Float32Array);
    }
    const J = new Float32Array(M * M);
    rows.forEach((r, i) => J.set(r, i * M));
    return J;
  });
}
