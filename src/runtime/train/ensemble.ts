// Ensembles: E independently initialised copies of one model trained in one process, side by side
// on the fused kernel's lanes, with one optimizer update for all of them. Each member keeps its own
// data, PRNG streams, cursor, clipping and NaN handling, so member m's numbers are exactly those of
// a separate `rnnc train` run with its seed (test/runtime/ensemble.test.ts checks this bit for bit);
// the per-model overhead (tfjs ops, optimizer, kernel calls, process start) is paid once.
import type * as tfType from "@tensorflow/tfjs";
import { compileGraphModel, type TensorMap } from "../../compiler/backends/graph/index.js";
import { hasWasmSimd, type Precision } from "../../compiler/backends/fused/engine.js";
import { FusedKernel, type FusedBatch, type KernelResult } from "../../compiler/backends/fused/kernel.js";
import { lanesFor } from "../../compiler/backends/wasm/exec.js";
import type { Program } from "../../compiler/ir/types.js";
import type { LoadedData } from "../data/datasets.js";
import { regularization } from "./objective.js";
import { createOptimizer, type LearningRate, type Optimizer } from "./optimizers.js";
import { PACKED, PackedParams } from "./packed.js";
import { Prng } from "./prng.js";
import { learningRate } from "./schedules.js";
import {
  cloneParams,
  optimizerConfigOf,
  scheduleOf,
  seriesBatch,
  STREAMS,
  taskBatch,
  updateGtfAlpha,
  type TrainCursor,
  type TrainEvent,
  type TrainResult,
  type TrainState,
} from "./trainer.js";

type Tf = typeof tfType;

export interface EnsembleMember {
  /** Its training data (built-in generators are seeded per run, so members may differ). */
  data: Map<string, LoadedData>;
  state: TrainState;
  /**
   * Its own settings, when they differ from the shared program's in what the host applies per
   * member (`memberSettingsKey`): learning rate and schedule, teacher noise, clipping,
   * regularisation weights, the forcing's alpha.
   */
  program?: Program;
}

/**
 * What members of one ensemble must share (a string to compare): the model and everything the
 * kernel or the lockstep depends on; what the host applies per member is left out.
 */
export function memberSettingsKey(p: Program): string {
  const t = p.train!;
  const f = t.forcing;
  const forcing = f.kind === "sparse" ? { ...f, alpha: 0 } : f.kind === "gtf" ? { ...f, alpha: 0 } : f.kind === "gtf_adaptive" ? { ...f, alpha0: 0 } : f;
  const train = {
    ...t,
    seed: 0,
    origin: {},
    optimizer: { ...t.optimizer, lr: 0 },
    schedule: null,
    teacherNoise: 0,
    clip: { kind: t.clip.kind },
    regularize: t.regularize.map((r) => ({ ...r, lambda: 0 })),
    forcing,
  };
  return JSON.stringify({ ...p, train, eval: null, sweep: null });
}

export interface EnsembleHooks {
  event?: (member: number, e: TrainEvent) => void;
  afterEpoch?: (member: number, epochsDone: number, state: TrainState) => Promise<void> | void;
  shouldStop?: () => boolean;
}

export interface EnsembleSetup {
  tf: Tf;
  /** The model and training plan every member shares (members differ in seed and data, and may in `memberSettingsKey`'s free settings). */
  program: Program;
  members: EnsembleMember[];
  hooks?: EnsembleHooks;
  /** Models per kernel call (default: as many as fill 64 lanes; the step's buffers then stay in cache). */
  modelsPerCall?: number;
  /** The kernel's arithmetic (float64: the JavaScript kernel, one model per call). */
  precision?: Precision;
}

/** Models per kernel call: more lanes amortise the loops, but past ~64 lanes the step leaves the cache. */
export function defaultModelsPerCall(batchSize: number): number {
  return Math.max(1, Math.floor(64 / lanesFor(batchSize)));
}

/** Trains the members in lockstep (they must stand at the same epoch and batch); one result each. */
export async function trainEnsemble(setup: EnsembleSetup): Promise<TrainResult[]> {
  const { tf, program } = setup;
  const plan = program.train!;
  const hooks = setup.hooks ?? {};
  const E = setup.members.length;
  if (E === 0) return [];
  const c0 = setup.members[0]!.state.cursor;
  for (const m of setup.members) {
    if (m.state.cursor.epoch !== c0.epoch || m.state.cursor.batch !== c0.batch) throw new Error("ensemble: the members stand at different points of training; resume them separately");
  }
  const plans = setup.members.map((m) => (m.program ?? program).train!);
  const key = memberSettingsKey(program);
  for (const m of setup.members) if (m.program && memberSettingsKey(m.program) !== key) throw new Error("ensemble: members differ in more than the learning rate, teacher noise, clipping, regularisation weights and forcing alpha");
  const frozen = new Set(program.params.filter((p) => !p.trainable).map((p) => p.name));
  const packed = new PackedParams(tf, setup.members.map((m) => m.state.params), (n) => !frozen.has(n));
  const frozenHost = setup.members.map((m) => {
    const out: Record<string, Float32Array> = {};
    for (const [name, v] of m.state.params) if (frozen.has(name)) out[name] = Float32Array.from(v.data);
    return out;
  });
  const frozenTensors = setup.members.map((m) => {
    const out: TensorMap = {};
    for (const [name, v] of m.state.params) if (frozen.has(name)) out[name] = tf.tensor(v.data, v.shape, "float32");
    return out;
  });
  const optimizer: Optimizer = createOptimizer(optimizerConfigOf(plan));
  const states = setup.members.map((m) => m.state.optimizer);
  if (states.every((s) => s !== null)) optimizer.setState(packed.fromParamState(states as NonNullable<(typeof states)[number]>[]));
  else if (states.some((s) => s !== null)) throw new Error("ensemble: some members have optimizer state and some do not");
  const vars = new Map([[PACKED, packed.variable]]);
  const graphModel = plan.forcing.kind === "gtf_adaptive" ? compileGraphModel(tf, program) : null;

  const cursors: TrainCursor[] = setup.members.map((m) => structuredClone(m.state.cursor));
  const streams = cursors.map((c) => new Map<string, Prng>(STREAMS.map((s) => [s, Prng.fromState(c.streams[s]!)])));
  const targets = setup.members.map((m) => m.data.get(plan.loss.target.data)!);
  const schedules = plans.map(scheduleOf);

  const precision = setup.precision ?? (hasWasmSimd() ? "float32" : "float64");
  const perCall = precision === "float64" ? 1 : Math.min(E, setup.modelsPerCall ?? defaultModelsPerCall(plan.batchSize));
  const kernels = new Map<number, FusedKernel>();
  const kernelFor = (models: number) => {
    let k = kernels.get(models);
    if (!k) kernels.set(models, (k = new FusedKernel(program, plan.batchSize, precision, models)));
    return k;
  };

  const snapshot = (m: number, flat: Float32Array, optState: ReturnType<Optimizer["getState"]>): TrainState => ({
    cursor: { ...structuredClone(cursors[m]!), streams: Object.fromEntries([...streams[m]!].map(([k, p]) => [k, p.getState()])) },
    params: cloneParams(packed.values(m, flat), setup.members[m]!.state.params),
    optimizer: packed.toParamState(optState, m),
  });
  const snapshots = (): TrainState[] => {
    const flat = packed.variable.dataSync() as Float32Array;
    const o = optimizer.getState();
    return setup.members.map((_, m) => snapshot(m, flat, o));
  };
  let lastGood = snapshots();
  /** Members stopped by a NaN: their result is their last good state. */
  const failed = new Map<number, string>();

  for (let m = 0; m < E; m++) hooks.event?.(m, { type: "start", epochs: plan.epochs, batchesPerEpoch: plan.batchesPerEpoch, ...(c0.epoch > 0 || c0.batch > 0 ? { resumedAt: { epoch: c0.epoch, batch: c0.batch } } : {}) });
  /** The members of each kernel call. */
  const groups = Array.from({ length: Math.ceil(E / perCall) }, (_, g) => Array.from({ length: Math.min(perCall, E - g * perCall) }, (_, i) => g * perCall + i));
  const kernelOpts = plans.map((p, m) => ({ gtfAlpha: 0, rng: streams[m]!.get("model-noise")!, ...(p.forcing.kind === "sparse" ? { sparseAlpha: p.forcing.alpha } : {}) }));
  const grads = new Float32Array(packed.size * E);
  /** Each member's batch of this step (its arrays are reused from step to step). */
  const drawn: FusedBatch[] = [];
  let lastYield = performance.now();
  const results = (outcome: TrainResult["outcome"], states: TrainState[]): TrainResult[] =>
    states.map((s, m) => (failed.has(m) ? { state: lastGood[m]!, outcome: "nan", lastGood: lastGood[m]!, nanMessage: failed.get(m)! } : { state: s, outcome, lastGood: s }));
  try {
    while (cursors[0]!.epoch < plan.epochs) {
      const epoch = cursors[0]!.epoch;
      const lrs = schedules.map((s) => learningRate(s, epoch, plan.epochs));
      // one rate when the members agree (as a separate run passes it), else one per member
      const lr: LearningRate = lrs.every((r) => r === lrs[0]) ? lrs[0]! : { rates: lrs, segment: packed.size };
      const t0 = performance.now();
      const lossSums = new Float64Array(E);
      let batches = 0;
      while (cursors[0]!.batch < plan.batchesPerEpoch) {
        for (let m = 0; m < E; m++) {
          const d = targets[m]!;
          drawn[m] = d.kind === "series" ? seriesBatch(d, plans[m]!, streams[m]!, drawn[m]) : taskBatch(d, plans[m]!, streams[m]!, drawn[m]);
        }
        const flat = packed.variable.dataSync() as Float32Array;
        const out: KernelResult[] = [];
        for (const ms of groups) {
          for (const m of ms) kernelOpts[m]!.gtfAlpha = cursors[m]!.gtfAlpha;
          out.push(...kernelFor(ms.length).runModels(
            ms.map((m) => ({ ...frozenHost[m]!, ...packed.split(flat, m) })),
            ms.map((m) => drawn[m]!),
            ms.map((m) => kernelOpts[m]!),
          ));
        }
        grads.fill(0);
        out.forEach((r, m) => {
          if (!failed.has(m)) packed.joinInto(grads, r.grads, m);
        });
        const losses = tf.tidy(() => {
          const regs: tfType.Tensor[] = [];
          let gm: tfType.Tensor;
          if (plan.regularize.length) {
            // the members' losses are independent: the gradient of their sum is each member's own
            const f = tf.customGrad(((x: tfType.Tensor) => ({
              value: tf.scalar(out.reduce((a, r) => a + r.loss, 0)),
              gradFunc: (dy: tfType.Tensor) => tf.mul(dy, tf.tensor1d(grads)),
            })) as unknown as Parameters<Tf["customGrad"]>[0]);
            const { grads: g } = tf.variableGrads(() => {
              let total = (f as unknown as (x: tfType.Tensor) => tfType.Tensor)(packed.variable);
              for (let m = 0; m < E; m++) {
                const r = regularization({ tf, plan: plans[m]! }, { ...frozenTensors[m]!, ...packed.views(m) });
                regs.push(tf.keep(r));
                total = tf.add(total, r);
              }
              return total as tfType.Scalar;
            }, [packed.variable]);
            gm = g[packed.variable.name]!;
          } else {
            // the kernel's gradient is the whole gradient (autodiff would multiply it by dy = 1)
            gm = tf.tensor1d(grads);
          }
          const regValues = regs.map((r) => r.dataSync()[0]!);
          regs.forEach((r) => r.dispose());
          // float32, as a separate run's loss tensor holds it
          const memberLoss = out.map((r, m) => (regValues.length ? Math.fround(Math.fround(r.loss) + regValues[m]!) : Math.fround(r.loss)));
          const per = tf.reshape(gm, [E, packed.size]);
          // NaN per member: that member stops at its last good state, the others go on
          const sums = tf.sum(per, 1).dataSync();
          for (let m = 0; m < E; m++) {
            if (failed.has(m)) continue;
            if (!Number.isFinite(memberLoss[m]!) || !Number.isFinite(sums[m]!)) {
              failed.set(m, `the loss became ${memberLoss[m]} in epoch ${epoch + 1}, batch ${cursors[m]!.batch + 1}; ${E > 1 ? "this member" : "training"} stopped and the parameters were rolled back to the last good state (epoch ${lastGood[m]!.cursor.epoch}, batch ${lastGood[m]!.cursor.batch}). Try a smaller learning rate or gradient clipping (clip = norm(10)).`);
              hooks.event?.(m, { type: "nan", epoch: epoch + 1, batch: cursors[m]!.batch + 1, message: failed.get(m)! });
            }
          }
          // per-member clipping: torch's clip_grad_norm_ on each member's gradient; the failed
          // members' gradients are zeroed (a scale of 1 for all is left out: it changes nothing)
          let scale: tfType.Tensor | null = failed.size ? tf.tensor2d(Array.from({ length: E }, (_, m) => (failed.has(m) ? 0 : 1)), [E, 1]) : null;
          const norms: number[] = new Array<number>(E).fill(NaN);
          const clipMax = plans.map((p) => (p.clip.kind === "none" ? Infinity : p.clip.max));
          if (plan.clip.kind === "norm") {
            const sq = tf.sum(tf.square(per), 1).dataSync();
            const coefs = Array.from(sq, (s, m) => {
              norms[m] = Math.sqrt(s);
              const coef = clipMax[m]! / (norms[m]! + 1e-6);
              return failed.has(m) ? 0 : coef < 1 ? coef : 1;
            });
            scale = tf.tensor2d(coefs, [E, 1]);
          }
          let clipped = scale ? tf.mul(per, scale) : per;
          if (plan.clip.kind === "value") {
            if (clipMax.every((c) => c === clipMax[0])) clipped = tf.clipByValue(clipped, -clipMax[0]!, clipMax[0]!);
            else {
              const hi = tf.tensor2d(clipMax, [E, 1]);
              clipped = tf.minimum(tf.maximum(clipped, tf.neg(hi)), hi);
            }
          }
          gm = tf.reshape(clipped, [E * packed.size]);
          optimizer.step(new Map([[PACKED, gm]]), vars, lr);
          return { memberLoss, norms };
        });
        // all stopped: nothing left to train
        if (failed.size === E) return results("nan", lastGood);
        // failed members keep their last good parameters (their gradients are zero from now on)
        if (failed.size) restoreFailed(tf, packed, failed, lastGood);
        batches++;
        for (let m = 0; m < E; m++) {
          cursors[m]!.batch++;
          if (failed.has(m)) continue;
          lossSums[m]! += losses.memberLoss[m]!;
          hooks.event?.(m, { type: "batch", epoch: epoch + 1, batch: cursors[m]!.batch, loss: losses.memberLoss[m]!, gradNorm: losses.norms[m]!, lr: lrs[m]! });
          if (plan.forcing.kind === "gtf_adaptive") {
            const c = cursors[m]!;
            c.sinceAlphaUpdate++;
            if (c.sinceAlphaUpdate >= plan.forcing.updateEvery) {
              c.sinceAlphaUpdate = 0;
              c.gtfAlpha = updateGtfAlpha(tf, graphModel!, program, () => packed.views(m), frozenTensors[m]!, targets[m]!, plans[m]!, c.gtfAlpha, streams[m]!);
            }
          }
        }
        if (performance.now() - lastYield > 50) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        if (hooks.shouldStop?.()) {
          const s = snapshots();
          for (let m = 0; m < E; m++) if (!failed.has(m)) hooks.event?.(m, { type: "stopped", epoch: cursors[m]!.epoch, batch: cursors[m]!.batch, reason: "interrupted" });
          return results("stopped", s);
        }
      }
      for (const c of cursors) {
        c.epoch++;
        c.batch = 0;
      }
      const s = snapshots();
      const seconds = (performance.now() - t0) / 1000;
      for (let m = 0; m < E; m++) {
        if (failed.has(m)) continue;
        lastGood[m] = s[m]!;
        const c = cursors[m]!;
        hooks.event?.(m, { type: "epoch", epoch: c.epoch, loss: lossSums[m]! / Math.max(1, batches), lr: lrs[m]!, seconds, ...(plan.forcing.kind === "gtf_adaptive" ? { gtfAlpha: c.gtfAlpha } : {}) });
        await hooks.afterEpoch?.(m, c.epoch, s[m]!);
      }
      if (hooks.shouldStop?.()) {
        for (let m = 0; m < E; m++) if (!failed.has(m)) hooks.event?.(m, { type: "stopped", epoch: cursors[m]!.epoch, batch: 0, reason: "interrupted" });
        return results("stopped", s);
      }
    }
    return results("finished", lastGood);
  } finally {
    packed.dispose();
    for (const t of frozenTensors.flatMap((x) => Object.values(x))) t.dispose();
    optimizer.dispose();
  }
}

/** Writes the failed members' last good parameters back into the packed variable. */
function restoreFailed(tf: Tf, packed: PackedParams, failed: Map<number, string>, lastGood: TrainState[]): void {
  const flat = (packed.variable.dataSync() as Float32Array).slice();
  for (const m of failed.keys()) {
    for (const e of packed.entries) flat.set(lastGood[m]!.params.get(e.name)!.data, m * packed.size + e.offset);
  }
  tf.tidy(() => packed.variable.assign(tf.tensor1d(flat)));
}
