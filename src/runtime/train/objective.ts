// The training objective of one batch on the graph tier: run the model over the batch's
// sequences with the spec's forcing rule and return the (masked) loss plus regularization.
import type * as tfType from "@tensorflow/tfjs";
import type { GraphModel, TensorMap } from "../../compiler/backends/graph/index.js";
import type { Program, TrainPlan } from "../../compiler/ir/types.js";

type Tf = typeof tfType;
type Tensor = tfType.Tensor;

/** One batch, time-major slices are taken inside: arrays are [B, T+1, N] for series. */
export interface SeriesBatch {
  kind: "series";
  /** Teacher signals (noisy when teacher_noise > 0), [B, T + 1, N]. */
  teacher: Tensor;
  /** Targets, [B, T + 1, N]; step t's prediction is compared with targets[:, t + 1]. */
  target: Tensor;
}

/** Input-driven tasks: input [B, T, I], target [B, T, O], mask [B, T, O] or none. */
export interface TaskBatch {
  kind: "task";
  input: Tensor;
  target: Tensor;
  mask: Tensor | null;
}

export type Batch = SeriesBatch | TaskBatch;

export interface ObjectiveContext {
  tf: Tf;
  model: GraphModel;
  program: Program;
  plan: TrainPlan;
  /** Current GTF alpha (fixed or adaptive). */
  gtfAlpha: number;
  /** Standard-normal noise of shape [B, ...shape] for noise() in the step. */
  noise: (shape: number[]) => Tensor;
}

function unitRange(plan: TrainPlan): { state: string; start: number; stop: number } | null {
  const f = plan.forcing;
  if (f.kind === "none") return null;
  return { state: f.units.state, start: f.units.start as number, stop: f.units.stop as number };
}

/** Replace (alpha = 1) or blend the forced units of a state with the teacher signal. */
function force(tf: Tf, z: Tensor, teacher: Tensor, start: number, stop: number, alpha: number): Tensor {
  const M = z.shape[1]!;
  const parts: Tensor[] = [];
  if (start > 0) parts.push(tf.slice(z, [0, 0], [-1, start]));
  const forcedPart = alpha >= 1 ? teacher : tf.add(tf.mul(1 - alpha, tf.slice(z, [0, start], [-1, stop - start])), tf.mul(alpha, teacher));
  parts.push(forcedPart);
  if (stop < M) parts.push(tf.slice(z, [0, stop], [-1, M - stop]));
  return parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
}

/** Mean loss over the batch (a scalar tensor); call inside tf.variableGrads / tf.tidy. */
export function batchLoss(cx: ObjectiveContext, params: TensorMap, batch: Batch): Tensor {
  const { tf, model, program, plan } = cx;
  const eff = model.prelude(params);
  const obsName = plan.loss.output;
  const errs: Tensor[] = [];
  const lossOf = (pred: Tensor, target: Tensor) => (plan.loss.kind === "mse" ? tf.square(tf.sub(pred, target)) : tf.abs(tf.sub(pred, target)));

  if (batch.kind === "series") {
    const T = batch.teacher.shape[1]! - 1;
    const N = batch.teacher.shape[2]!;
    const at = (x: Tensor, t: number) => tf.reshape(tf.slice(x, [0, t, 0], [-1, 1, -1]), [-1, N]);
    const firstObs: TensorMap = {};
    for (const o of program.observations) firstObs[o.name] = at(batch.teacher, 0);
    let states = model.init(eff, firstObs, batch.teacher.shape[0]!);
    const units = unitRange(plan);
    const f = plan.forcing;
    for (let t = 0; t < T; t++) {
      if (units) {
        const sparseNow = f.kind === "sparse" && t > 0 && t % f.every === 0;
        const gtf = f.kind === "gtf" || f.kind === "gtf_adaptive";
        if (sparseNow || (gtf && cx.gtfAlpha > 0)) {
          const alpha = f.kind === "sparse" ? f.alpha : cx.gtfAlpha;
          const teach = at(batch.teacher, t);
          states = { ...states, [units.state]: force(tf, states[units.state]!, teach, units.start, units.stop, alpha) };
        }
      }
      states = model.step(eff, states, {}, cx.noise);
      const pred = model.observe(eff, states, {})[obsName]!;
      errs.push(lossOf(pred, at(batch.target, t + 1)));
    }
    let loss = tf.mean(tf.stack(errs));
    loss = tf.add(loss, regularization(cx, params));
    return loss;
  }

  const T = batch.input.shape[1]!;
  const I = batch.input.shape[2]!;
  const O = batch.target.shape[2]!;
  const inputName = program.inputs[0]?.name;
  const slice = (x: Tensor, t: number, n: number) => tf.reshape(tf.slice(x, [0, t, 0], [-1, 1, -1]), [-1, n]);
  let states = model.init(eff, {}, batch.input.shape[0]!);
  let num: Tensor = tf.scalar(0);
  let den: Tensor = tf.scalar(0);
  for (let t = 0; t < T; t++) {
    const inputs: TensorMap = inputName ? { [inputName]: slice(batch.input, t, I) } : {};
    states = model.step(eff, states, inputs, cx.noise);
    const pred = model.observe(eff, states, inputs)[obsName]!;
    const err = lossOf(pred, slice(batch.target, t, O));
    if (batch.mask) {
      const m = slice(batch.mask, t, O);
      num = tf.add(num, tf.sum(tf.mul(err, m)));
      den = tf.add(den, tf.sum(m));
    } else {
      num = tf.add(num, tf.sum(err));
      den = tf.add(den, err.size);
    }
  }
  return tf.add(tf.div(num, tf.maximum(den, 1)), regularization(cx, params));
}

export function regularization(cx: Pick<ObjectiveContext, "tf" | "plan">, params: TensorMap): Tensor {
  const { tf, plan } = cx;
  let total: Tensor = tf.scalar(0);
  for (const r of plan.regularize) {
    if (r.kind === "l2") {
      for (const name of r.params) total = tf.add(total, tf.mul(r.lambda, tf.sum(tf.square(params[name]!))));
    } else {
      // Manifold-attractor regularization (dendPLRNN's MAR): on the last `ratio` of the units,
      // push A toward 1 and the rows of W and h toward 0.
      const A = params[r.a]!;
      const M = A.shape[0]!;
      const k = Math.round(r.ratio * M);
      if (k === 0) continue;
      const a = tf.slice(A, [M - k], [k]);
      const w = tf.slice(params[r.w]!, [M - k, 0], [k, -1]);
      const h = tf.slice(params[r.h]!, [M - k], [k]);
      const term = tf.add(tf.add(tf.sum(tf.square(tf.sub(a, 1))), tf.sum(tf.square(w))), tf.sum(tf.square(h)));
      total = tf.add(total, tf.mul(r.lambda, term));
    }
  }
  return total;
}
