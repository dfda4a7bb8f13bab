// The interpreter's model: a bound Program compiled into one generated function per graph, plus
// executors that own every buffer they touch (allocated once per executor, never per step).
import type { Program } from "../../ir/types.js";
import { compileFactory, type FloatArray, type GenModule, type NormalSource } from "./codegen.js";
import { InterpError } from "./errors.js";
import { numericShape, planGraph, sizeOf, type GraphName, type GraphPlan, type InputBinding } from "./plan.js";

export type Dtype = "float64" | "float32";

/** Name, per-sample shape and element count of a parameter, state, input or observation. */
export interface TensorSpec {
  name: string;
  shape: number[];
  size: number;
}

/** Parameters by parameter name (raw or effective), each a row-major array of the stored shape. */
export type ParamValues<A extends FloatArray = FloatArray> = Readonly<Record<string, A>>;

export interface CompileOptions {
  /** storage of every buffer (arithmetic is always double; float32 rounds each op's result) */
  dtype?: Dtype;
  /** samples per tile; default: as many as keep a tile's intermediates within `tileBudget` */
  tile?: number;
  /** elements of batched intermediates per tile (default 16384, i.e. 128 KiB in float64) */
  tileBudget?: number;
}

export type ExecGraph = "init" | "step" | "observe";

/**
 * One graph compiled for a batch capacity. It owns its buffers:
 * - `in`: the batched inputs, [capacity * size] each, row-major per sample: observations (init),
 *   states and inputs (step, observe). Write the current values here before `run`.
 * - `out`: the outputs, [capacity * size] each: states (init, step) or observations (observe).
 *   Overwritten by every `run`.
 * `run(batch)` processes samples [0, batch) (batch ≤ capacity); it allocates nothing.
 */
export interface Executor<A extends FloatArray = Float64Array> {
  /** "prelude" only for the model's internal executor of the constraints */
  readonly graph: GraphName;
  readonly capacity: number;
  /** samples per tile of the generated loop */
  readonly tile: number;
  readonly in: Readonly<Record<string, A>>;
  readonly out: Readonly<Record<string, A>>;
  /** whether the graph draws noise (then `rng` must be set before `run`) */
  readonly usesNoise: boolean;
  /** the batched inputs the graph actually reads */
  readonly reads: readonly string[];
  /** noise source: per run, the noise eqns are drawn in graph order, each a row-major [batch, ...shape] block */
  rng: NormalSource | undefined;
  /**
   * Binds effective parameters (for the prelude: raw ones) and recomputes the values that depend on
   * parameters only. The arrays are read by reference at every run: call `bind` again after
   * changing them in place. Returns this.
   */
  bind(eff: ParamValues): this;
  run(batch?: number): void;
  /** step only: `run(batch)`, then copy every `out[state]` into `in[state]` (samples [0, batch)) */
  advance(batch?: number): void;
}

export interface ExecutorOptions<A extends FloatArray = Float64Array> {
  /** use these arrays as `in` buffers (e.g. share a step executor's states with an observe executor) */
  share?: Readonly<Record<string, A>>;
  tile?: number;
}

export interface Model<A extends FloatArray = Float64Array> {
  readonly program: Program;
  readonly dtype: Dtype;
  readonly params: readonly TensorSpec[];
  readonly states: readonly TensorSpec[];
  readonly inputs: readonly TensorSpec[];
  readonly observations: readonly TensorSpec[];
  /** observations the init graph reads (the first data sample); empty for zeros/ones/learned inits */
  readonly initReads: readonly string[];
  /** whether each graph draws noise */
  readonly usesNoise: Readonly<Record<ExecGraph, boolean>>;
  /**
   * Runs the prelude (the constraints): raw parameters → effective parameters, keyed by parameter
   * name. Transformed parameters are fresh arrays on every call; untransformed ones are the raw
   * arrays themselves when they already have the model's dtype (converted copies otherwise).
   */
  effectiveParams(raw: Readonly<Record<string, ArrayLike<number>>>): ParamValues<A>;
  /** A new executor for one graph and a batch capacity (the hot path: bind once, run per step). */
  executor(graph: ExecGraph, capacity: number, opts?: ExecutorOptions<A>): Executor<A>;
  /**
   * Convenience calls on an executor cached per (graph, B). Each argument is [B * size] or [size]
   * (then repeated for every sample). The returned record and its arrays are owned by the model and
   * overwritten by the next call of the same method with the same B: copy what you keep.
   */
  initState(eff: ParamValues, firstObs?: ArrayLike<number> | Readonly<Record<string, ArrayLike<number>>>, B?: number, rng?: NormalSource): Readonly<Record<string, A>>;
  step(eff: ParamValues, states: Readonly<Record<string, ArrayLike<number>>>, inputs?: Readonly<Record<string, ArrayLike<number>>>, B?: number, rng?: NormalSource): Readonly<Record<string, A>>;
  observe(eff: ParamValues, states: Readonly<Record<string, ArrayLike<number>>>, inputs?: Readonly<Record<string, ArrayLike<number>>>, B?: number, rng?: NormalSource): Readonly<Record<string, A>>;
}

type Ctor<A extends FloatArray> = { new (n: number): A; new (a: ArrayLike<number>): A };

const spec = (name: string, shape: readonly unknown[], what: string): TensorSpec => {
  const s = numericShape(shape, what);
  return { name, shape: s, size: sizeOf(s) };
};

class ExecutorImpl<A extends FloatArray> implements Executor<A> {
  readonly in: Record<string, A> = record();
  readonly out: Record<string, A> = record();
  readonly usesNoise: boolean;
  readonly reads: string[];
  rng: NormalSource | undefined = undefined;
  private readonly P: A[];
  private readonly gen: GenModule;
  private bound = false;

  constructor(
    readonly graph: ExecGraph | "prelude",
    private readonly plan: GraphPlan,
    readonly capacity: number,
    readonly tile: number,
    private readonly ctor: Ctor<A>,
    dtype: Dtype,
    share: Readonly<Record<string, A>> | undefined,
    commitStates: readonly string[],
  ) {
    const X: A[] = plan.x.map((b) => {
      const shared = b.role === "in" ? own(share, b.key) : undefined;
      if (shared !== undefined) {
        if (!(shared instanceof ctor) || shared.length < capacity * b.size) {
          throw new InterpError(`${graph}: shared buffer '${b.key}' must be a ${ctor.name} of at least ${capacity * b.size} elements`);
        }
        return shared;
      }
      return new ctor(capacity * b.size);
    });
    plan.x.forEach((b, i) => {
      if (b.role === "in") this.in[b.key] = X[i]!;
      else if (b.role === "out") this.out[b.key] = X[i]!;
    });
    const T = plan.t.map((s) => new ctor(tile * s));
    const H = plan.h.map((s) => new ctor(s));
    this.P = plan.params.map(() => new ctor(0));
    this.usesNoise = plan.noise.length > 0;
    this.reads = plan.reads;
    const commits: [number, number, number][] = commitStates.map((s) => {
      const xi = plan.x.findIndex((b) => b.role === "in" && b.key === s);
      const xo = plan.x.findIndex((b) => b.role === "out" && b.key === s);
      if (xi < 0 || xo < 0) throw new InterpError(`step: state '${s}' has no input or output buffer`);
      return [xi, xo, plan.x[xi]!.size];
    });
    const factory = compileFactory(plan, tile, commits, dtype);
    this.gen = factory(this.P, X, T, H, this);
  }

  bind(eff: ParamValues): this {
    const { params, paramSizes } = this.plan;
    for (let i = 0; i < params.length; i++) {
      const name = params[i]!;
      const a = own(eff, name);
      if (a === undefined) throw new InterpError(`${this.graph}: parameter '${name}' is missing`);
      if (a.length !== paramSizes[i]) throw new InterpError(`${this.graph}: parameter '${name}' has ${a.length} elements, expected ${paramSizes[i]}`);
      this.P[i] = a instanceof this.ctor ? (a as A) : new this.ctor(a);
    }
    this.gen.hoist();
    this.bound = true;
    return this;
  }

  private check(batch: number): void {
    if (!this.bound) throw new InterpError(`${this.graph}: call bind(params) before run`);
    if (!Number.isInteger(batch) || batch < 0 || batch > this.capacity) throw new InterpError(`${this.graph}: batch ${batch} is outside [0, ${this.capacity}]`);
    if (this.usesNoise && !this.rng) throw new InterpError(`${this.graph}: the model draws noise; set rng (an object with normal())`);
  }

  run(batch: number = this.capacity): void {
    this.check(batch);
    this.gen.run(batch);
  }

  advance(batch: number = this.capacity): void {
    if (this.graph !== "step") throw new InterpError(`advance is for step executors, not ${this.graph}`);
    this.check(batch);
    this.gen.run(batch);
    this.gen.commit(batch);
  }
}

function autoTile(plan: GraphPlan, capacity: number, budget: number): number {
  const per = plan.t.reduce((a, b) => a + b, 0);
  if (per === 0) return Math.max(1, capacity);
  return Math.max(1, Math.min(capacity, Math.floor(budget / per)));
}

class ModelImpl<A extends FloatArray> implements Model<A> {
  readonly params: TensorSpec[];
  readonly states: TensorSpec[];
  readonly inputs: TensorSpec[];
  readonly observations: TensorSpec[];
  readonly initReads: string[];
  readonly usesNoise: Record<ExecGraph, boolean>;
  private readonly plans: Record<GraphName, GraphPlan>;
  private readonly ctor: Ctor<A>;
  private readonly cache = new Map<string, Executor<A>>();
  private prelude: ExecutorImpl<A> | undefined;

  constructor(readonly program: Program, readonly dtype: Dtype, private readonly opts: CompileOptions) {
    this.ctor = (dtype === "float32" ? Float32Array : Float64Array) as unknown as Ctor<A>;
    const p = program;
    this.params = p.params.map((x) => spec(x.name, x.shape, `parameter '${x.name}'`));
    this.states = p.states.map((x) => spec(x.name, x.shape, `state '${x.name}'`));
    this.inputs = p.inputs.map((x) => spec(x.name, x.shape, `input '${x.name}'`));
    this.observations = p.observations.map((x) => spec(x.name, x.shape, `observation '${x.name}'`));
    const byName = (list: TensorSpec[]) => new Map(list.map((x) => [x.name, x]));
    const params = byName(this.params);
    const states = byName(this.states);
    const inputs = byName(this.inputs);
    const obs = byName(this.observations);
    for (const k of Object.keys(p.prelude.outputs)) if (!params.has(k)) throw new InterpError(`prelude: output '${k}' is not a parameter`);
    const effective = new Map<string, InputBinding>();
    for (const prm of this.params) effective.set(own(p.prelude.outputs, prm.name) ?? prm.name, { kind: "param", param: prm.name, shape: prm.shape });
    const batched = (m: Map<string, TensorSpec>) => (n: string): InputBinding | undefined => {
      const s = m.get(n);
      return s ? { kind: "batched", key: n, shape: s.shape } : undefined;
    };
    const sizes = (list: TensorSpec[]) => new Map(list.map((x) => [x.name, x.size]));
    const stepIn = [...this.states, ...this.inputs].map((x) => ({ key: x.name, size: x.size }));
    const stateOrInput = (n: string) => batched(states)(n) ?? batched(inputs)(n) ?? effective.get(n);
    this.plans = {
      prelude: planGraph("prelude", p.prelude, (n) => {
        const s = params.get(n);
        return s ? { kind: "param", param: n, shape: s.shape } : undefined;
      }, [], sizes(this.params)),
      init: planGraph("init", p.init, (n) => batched(obs)(n) ?? effective.get(n), this.observations.map((x) => ({ key: x.name, size: x.size })), sizes(this.states)),
      step: planGraph("step", p.step, stateOrInput, stepIn, sizes(this.states)),
      observe: planGraph("observe", p.observe, stateOrInput, stepIn, sizes(this.observations)),
    };
    for (const s of this.states) {
      if (!Object.hasOwn(p.init.outputs, s.name)) throw new InterpError(`init: no output for state '${s.name}'`);
      if (!Object.hasOwn(p.step.outputs, s.name)) throw new InterpError(`step: no output for state '${s.name}'`);
    }
    for (const o of this.observations) if (!Object.hasOwn(p.observe.outputs, o.name)) throw new InterpError(`observe: no output for observation '${o.name}'`);
    this.initReads = p.init.inputs.filter((n) => obs.has(n));
    this.usesNoise = { init: this.plans.init.noise.length > 0, step: this.plans.step.noise.length > 0, observe: this.plans.observe.noise.length > 0 };
  }

  executor(graph: ExecGraph, capacity: number, opts: ExecutorOptions<A> = {}): Executor<A> {
    if (graph !== "init" && graph !== "step" && graph !== "observe") throw new InterpError(`unknown graph '${String(graph)}'`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new InterpError(`batch capacity must be a positive integer, got ${capacity}`);
    const plan = this.plans[graph];
    const tile = Math.max(1, Math.min(capacity, opts.tile ?? this.opts.tile ?? autoTile(plan, capacity, this.opts.tileBudget ?? 16384)));
    return new ExecutorImpl(graph, plan, capacity, tile, this.ctor, this.dtype, opts.share, graph === "step" ? this.states.map((s) => s.name) : []);
  }

  effectiveParams(raw: Readonly<Record<string, ArrayLike<number>>>): ParamValues<A> {
    for (const p of this.params) {
      const a = own(raw, p.name);
      if (a === undefined) throw new InterpError(`parameter '${p.name}' is missing`);
      if (a.length !== p.size) throw new InterpError(`parameter '${p.name}' has ${a.length} elements, expected ${p.size} ([${p.shape.join(", ")}])`);
    }
    const out: Record<string, A> = record();
    const transformed = this.plans.prelude.outputs.length > 0;
    if (transformed) {
      this.prelude ??= new ExecutorImpl<A>("prelude", this.plans.prelude, 1, 1, this.ctor, this.dtype, undefined, []);
      this.prelude.bind(raw as ParamValues);
      this.prelude.run(1);
    }
    for (const p of this.params) {
      const o = transformed ? own(this.prelude!.out, p.name) : undefined;
      const a = own(raw, p.name)!;
      out[p.name] = o !== undefined ? (o.slice() as A) : a instanceof this.ctor ? (a as A) : new this.ctor(a);
    }
    return out;
  }

  private cached(graph: ExecGraph, B: number): Executor<A> {
    const key = `${graph}:${B}`;
    let ex = this.cache.get(key);
    if (!ex) {
      ex = this.executor(graph, B);
      this.cache.set(key, ex);
    }
    return ex;
  }

  private call(graph: ExecGraph, eff: ParamValues, vals: Readonly<Record<string, ArrayLike<number>>>, B: number, rng: NormalSource | undefined): Readonly<Record<string, A>> {
    const ex = this.cached(graph, B);
    for (const [key, buf] of Object.entries(ex.in)) {
      const v = own(vals, key);
      if (v === undefined) {
        if (ex.reads.includes(key)) throw new InterpError(`${graph}: '${key}' is missing`);
        continue;
      }
      fillBatched(buf, v, B, buf.length / B, key, graph);
    }
    ex.rng = rng;
    ex.bind(eff).run(B);
    return ex.out;
  }

  initState(eff: ParamValues, firstObs?: ArrayLike<number> | Readonly<Record<string, ArrayLike<number>>>, B = 1, rng?: NormalSource): Readonly<Record<string, A>> {
    let vals: Readonly<Record<string, ArrayLike<number>>> = {};
    if (firstObs !== undefined) {
      if (isArrayLike(firstObs)) {
        const name = this.initReads[0] ?? this.observations[0]?.name;
        if (name === undefined) throw new InterpError("initState: the model has no observation");
        vals = { [name]: firstObs };
      } else vals = firstObs;
    }
    return this.call("init", eff, vals, B, rng);
  }

  step(eff: ParamValues, states: Readonly<Record<string, ArrayLike<number>>>, inputs: Readonly<Record<string, ArrayLike<number>>> = {}, B = 1, rng?: NormalSource): Readonly<Record<string, A>> {
    return this.call("step", eff, merge(inputs, states), B, rng);
  }

  observe(eff: ParamValues, states: Readonly<Record<string, ArrayLike<number>>>, inputs: Readonly<Record<string, ArrayLike<number>>> = {}, B = 1, rng?: NormalSource): Readonly<Record<string, A>> {
    return this.call("observe", eff, merge(inputs, states), B, rng);
  }
}

/** A record without a prototype: names such as "constructor" or "__proto__" are plain keys. */
export function record<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** r[k] when it is an own property (never something inherited from Object.prototype). */
export function own<T>(r: Readonly<Record<string, T>> | undefined, k: string): T | undefined {
  return r !== undefined && Object.hasOwn(r, k) ? r[k] : undefined;
}

function merge<T>(...rs: Readonly<Record<string, T>>[]): Record<string, T> {
  const out = record<T>();
  for (const r of rs) for (const [k, v] of Object.entries(r)) out[k] = v;
  return out;
}

export function isArrayLike(x: unknown): x is ArrayLike<number> {
  return ArrayBuffer.isView(x) || Array.isArray(x);
}

/** Copies `v` ([B * per] or [per], then repeated) into the first B samples of `buf`. */
export function fillBatched(buf: FloatArray, v: ArrayLike<number>, B: number, per: number, key: string, where: string): void {
  if (v.length === B * per) {
    for (let i = 0; i < B * per; i++) buf[i] = v[i]!;
  } else if (v.length === per) {
    for (let b = 0; b < B; b++) for (let i = 0; i < per; i++) buf[b * per + i] = v[i]!;
  } else {
    throw new InterpError(`${where}: '${key}' has ${v.length} elements, expected ${B * per} (B=${B} x ${per})${B > 1 ? ` or ${per}` : ""}`);
  }
}

/** Compiles a bound program (after bindDims) for the interpreter. */
export function compileModel(program: Program, opts?: CompileOptions & { dtype?: "float64" }): Model<Float64Array>;
export function compileModel(program: Program, opts: CompileOptions & { dtype: "float32" }): Model<Float32Array>;
export function compileModel(program: Program, opts: CompileOptions = {}): Model<Float64Array> | Model<Float32Array> {
  const dtype = opts.dtype ?? "float64";
  if (dtype !== "float64" && dtype !== "float32") throw new InterpError(`dtype must be float64 or float32, got ${String(dtype)}`);
  for (const d of program.dims) {
    if (d.value === undefined) throw new InterpError(`dim ${d.name} has no value: bind the dims first (bindDims)`);
  }
  return dtype === "float32" ? new ModelImpl<Float32Array>(program, dtype, opts) : new ModelImpl<Float64Array>(program, dtype, opts);
}
