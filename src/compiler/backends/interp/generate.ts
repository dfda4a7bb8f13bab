// Free-running generation and batched n-step prediction on top of the executors.
import type { FloatArray, NormalSource } from "./codegen.js";
import { InterpError } from "./errors.js";
import { fillBatched, isArrayLike, own, record, type Model, type ParamValues } from "./model.js";

type Values = ArrayLike<number> | Readonly<Record<string, ArrayLike<number>>>;

export interface GenerateOptions {
  /** number of steps; the result holds steps + 1 points (t = 0 is the initial state) */
  steps: number;
  /** independent runs side by side (default 1) */
  batch?: number;
  /** initial latent states by state name, each [size] (shared by all runs) or [batch * size] */
  z0?: Readonly<Record<string, ArrayLike<number>>>;
  /**
   * first observation for the init graph ([N] or [batch * N]; a record when the init reads several
   * observations). Ignored when z0 is given. Models whose init reads no observation need neither.
   */
  x0?: Values;
  /**
   * external inputs, [steps, batch, size] row-major (a record by input name, or one array when the
   * model has one input). Step t (t = 0 .. steps-1) reads inputs[t] and produces point t + 1.
   * Absent: zeros.
   */
  inputs?: Values;
  /** noise source, required when a graph draws noise */
  rng?: NormalSource;
  /** record the latent states (default true) */
  latent?: boolean;
  /** record the observations (default true) */
  observed?: boolean;
}

export interface GenerateResult<A extends FloatArray = Float64Array> {
  steps: number;
  batch: number;
  /** per state: [steps + 1, batch, size], row t = z_t (t = 0 is the initial state) */
  latent: Record<string, A>;
  /**
   * per observation: [steps + 1, batch, N], row t = observe(z_t). An observation model that reads
   * inputs sees at row t the input that produced z_t (inputs[t - 1]; zeros at t = 0).
   */
  observed: Record<string, A>;
}

function asRecord(v: Values | undefined, names: readonly string[], what: string): Readonly<Record<string, ArrayLike<number>>> {
  if (v === undefined) return {};
  if (!isArrayLike(v)) return v;
  if (names.length !== 1) throw new InterpError(`${what}: the model has ${names.length} of them (${names.join(", ")}): pass a record by name`);
  const r = record<ArrayLike<number>>();
  r[names[0]!] = v;
  return r;
}

/**
 * Free-running generation: z_0 from z0 or init(x0), then z_{t+1} = step(z_t, u_t) for t < steps.
 * The executors are built once per call; the loop allocates nothing.
 */
export function generate<A extends FloatArray>(model: Model<A>, eff: ParamValues, opts: GenerateOptions): GenerateResult<A> {
  const { steps } = opts;
  const B = opts.batch ?? 1;
  if (!Number.isInteger(steps) || steps < 0) throw new InterpError(`generate: steps must be a non-negative integer, got ${steps}`);
  if (!Number.isInteger(B) || B < 1) throw new InterpError(`generate: batch must be a positive integer, got ${B}`);
  const ctor = (model.dtype === "float32" ? Float32Array : Float64Array) as unknown as { new (n: number): A };
  const step = model.executor("step", B).bind(eff);
  const obs = model.executor("observe", B, { share: step.in }).bind(eff);
  step.rng = opts.rng;
  obs.rng = opts.rng;

  // initial state
  if (opts.z0) {
    for (const s of model.states) {
      const v = own(opts.z0, s.name);
      if (v === undefined) throw new InterpError(`generate: z0 has no value for state '${s.name}'`);
      fillBatched(step.in[s.name]!, v, B, s.size, s.name, "generate z0");
    }
  } else {
    if (model.initReads.length > 0 && opts.x0 === undefined) {
      throw new InterpError(`generate: the initial state depends on the first observation (${model.initReads.join(", ")}): pass x0 or z0`);
    }
    const init = model.executor("init", B).bind(eff);
    init.rng = opts.rng;
    const x0 = asRecord(opts.x0, model.initReads.length ? model.initReads : model.observations.map((o) => o.name), "generate x0");
    for (const o of model.observations) {
      const v = own(x0, o.name);
      if (v !== undefined) fillBatched(init.in[o.name]!, v, B, o.size, o.name, "generate x0");
    }
    init.run(B);
    for (const s of model.states) step.in[s.name]!.set(init.out[s.name]!);
  }

  const inputs = asRecord(opts.inputs, model.inputs.map((i) => i.name), "generate inputs");
  const inputPlan = model.inputs.filter((i) => own(inputs, i.name) !== undefined).map((i) => {
    const src = own(inputs, i.name)!;
    if (src.length !== steps * B * i.size) throw new InterpError(`generate: input '${i.name}' has ${src.length} elements, expected steps x batch x size = ${steps} x ${B} x ${i.size}`);
    return { buf: step.in[i.name]!, src, n: B * i.size };
  });
  for (const k of Object.keys(inputs)) if (!model.inputs.some((i) => i.name === k)) throw new InterpError(`generate: '${k}' is not an input of the model`);

  const latent = record<A>();
  const observed = record<A>();
  const recLatent = opts.latent !== false ? model.states.map((s) => {
    latent[s.name] = new ctor((steps + 1) * B * s.size);
    return { dst: latent[s.name]!, src: step.in[s.name]!, n: B * s.size };
  }) : [];
  const recObs = opts.observed !== false ? model.observations.map((o) => {
    observed[o.name] = new ctor((steps + 1) * B * o.size);
    return { dst: observed[o.name]!, src: obs.out[o.name]!, n: B * o.size };
  }) : [];

  for (let t = 0; ; t++) {
    for (const r of recLatent) r.dst.set(r.src, t * r.n);
    if (recObs.length) {
      obs.run(B);
      for (const r of recObs) r.dst.set(r.src, t * r.n);
    }
    if (t === steps) break;
    for (const u of inputPlan) {
      const off = t * u.n;
      for (let i = 0; i < u.n; i++) u.buf[i] = u.src[off + i]!;
    }
    step.advance(B);
  }
  return { steps, batch: B, latent, observed };
}

export interface PredictOptions {
  /** starts per model call (default 1024) */
  batchSize?: number;
  /** return every prediction 1..n ([n, starts, N]) instead of only the n-th ([starts, N]) */
  all?: boolean;
  rng?: NormalSource;
}

/**
 * n-step-ahead predictions from many starting observations at once (for the prediction error):
 * for each start j, z = init(x0s[j]), n steps, observe. `x0s` is [starts, N] for the observation
 * the init graph reads (a record when it reads several). Returns per observation [starts, N]
 * (prediction n) or, with `all`, [n, starts, N] (predictions 1..n). Inputs are zero.
 */
export function predict<A extends FloatArray>(model: Model<A>, eff: ParamValues, x0s: Values, n: number, opts: PredictOptions = {}): Record<string, A> {
  if (!Number.isInteger(n) || n < 1) throw new InterpError(`predict: n must be a positive integer, got ${n}`);
  if (model.initReads.length === 0) throw new InterpError("predict: the model's initial state does not depend on an observation");
  const x0 = asRecord(x0s, model.initReads, "predict x0s");
  const first = model.observations.find((o) => o.name === model.initReads[0])!;
  const starts0 = own(x0, first.name);
  if (starts0 === undefined) throw new InterpError(`predict: x0s has no '${first.name}'`);
  const S = starts0.length / first.size;
  if (!Number.isInteger(S)) throw new InterpError(`predict: x0s has ${starts0.length} elements, not a multiple of N=${first.size}`);
  for (const name of model.initReads) {
    const o = model.observations.find((x) => x.name === name)!;
    const v = own(x0, name);
    if (v === undefined || v.length !== S * o.size) throw new InterpError(`predict: '${name}' needs ${S} x ${o.size} values`);
  }
  const ctor = (model.dtype === "float32" ? Float32Array : Float64Array) as unknown as { new (n: number): A };
  const out = record<A>();
  for (const o of model.observations) out[o.name] = new ctor((opts.all ? n : 1) * S * o.size);
  if (S === 0) return out;
  const C = Math.min(opts.batchSize ?? 1024, S);
  const init = model.executor("init", C).bind(eff);
  const step = model.executor("step", C).bind(eff);
  const obs = model.executor("observe", C, { share: step.in }).bind(eff);
  init.rng = step.rng = obs.rng = opts.rng;
  const initIn = model.initReads.map((name) => ({ buf: init.in[name]!, src: own(x0, name)!, size: model.observations.find((x) => x.name === name)!.size }));
  const toStep = model.states.map((s) => ({ dst: step.in[s.name]!, src: init.out[s.name]!, size: s.size }));
  const fromObs = model.observations.map((o) => ({ dst: out[o.name]!, src: obs.out[o.name]!, size: o.size }));
  for (let from = 0; from < S; from += C) {
    const nb = Math.min(C, S - from);
    for (const r of initIn) {
      const off = from * r.size;
      for (let i = 0, e = nb * r.size; i < e; i++) r.buf[i] = r.src[off + i]!;
    }
    init.run(nb);
    for (const r of toStep) for (let i = 0, e = nb * r.size; i < e; i++) r.dst[i] = r.src[i]!;
    for (let k = 1; k <= n; k++) {
      step.advance(nb);
      if (opts.all || k === n) {
        obs.run(nb);
        const row = opts.all ? (k - 1) * S : 0;
        for (const r of fromObs) {
          const off = (row + from) * r.size;
          for (let i = 0, e = nb * r.size; i < e; i++) r.dst[off + i] = r.src[i]!;
        }
      }
    }
  }
  return out;
}
