// The graph tier: a bound IR program → closures of tfjs ops. Runs on every tfjs backend, gets its
// gradients from tfjs autodiff, and is the correctness oracle for faster tiers.
//
// IR shapes are per sample. Values that depend on a state, an input, an observation or noise are
// "batched": they carry a leading batch axis at run time. Whether a value is batched is decided
// here once, statically; each equation becomes one closure specialised to that.
import type * as tfType from "@tensorflow/tfjs";
import type { Eqn, Graph, Program } from "../../ir/types.js";

type Tf = typeof tfType;
type Tensor = tfType.Tensor;

export type TensorMap = Record<string, Tensor>;
/** Returns a standard-normal tensor of shape [batch, ...shape]. */
export type NoiseSource = (shape: number[]) => Tensor;

export interface CompiledGraph {
  run(inputs: TensorMap, noise?: NoiseSource): TensorMap;
}

export interface GraphModel {
  /** Raw parameters (named as in the spec) → effective values (constraints applied), by IR value name. */
  prelude(params: TensorMap): TensorMap;
  /** First observations [B, N] (by observation name) → initial states [B, ...] (batch size B). */
  init(eff: TensorMap, firstObs: TensorMap, B: number): TensorMap;
  step(eff: TensorMap, states: TensorMap, inputs: TensorMap, noise?: NoiseSource): TensorMap;
  observe(eff: TensorMap, states: TensorMap, inputs: TensorMap): TensorMap;
  /** Does the step draw noise? */
  readonly noisy: boolean;
}

export class GraphCompileError extends Error {}

function num(v: unknown, what: string): number {
  if (typeof v !== "number") throw new GraphCompileError(`${what} is not bound to a number (run bindDims first)`);
  return v;
}

function shapeOf(e: Eqn): number[] {
  return e.shape.map((d, i) => num(d, `dim ${i} of ${e.out}`));
}

export function compileGraphModel(tf: Tf, p: Program): GraphModel {
  const paramValues = new Set(p.params.map((x) => x.name));
  const effNames = p.params.map((x) => (Object.hasOwn(p.prelude.outputs, x.name) ? p.prelude.outputs[x.name]! : x.name));
  const effSet = new Set(effNames);
  const batchedInputs = (g: Graph, extra: Set<string>) => new Set(g.inputs.filter((i) => !effSet.has(i) && !paramValues.has(i) && extra.has(i)));
  const states = new Set(p.states.map((s) => s.name));
  const inputs = new Set(p.inputs.map((s) => s.name));
  const obs = new Set(p.observations.map((s) => s.name));

  const shapes = new Map<string, number[]>();
  const bound = (s: unknown[], what: string) => s.map((d, i) => num(d, `dim ${i} of ${what}`));
  for (const prm of p.params) shapes.set(prm.name, bound(prm.shape, prm.name));
  for (const e of p.prelude.eqns) shapes.set(e.out, shapeOf(e));
  for (const x of [...p.states, ...p.inputs, ...p.observations]) shapes.set(x.name, bound(x.shape, x.name));

  const prelude = compileGraph(tf, p.prelude, new Set(), shapes);
  const init = compileGraph(tf, p.init, batchedInputs(p.init, obs), shapes);
  const step = compileGraph(tf, p.step, batchedInputs(p.step, new Set([...states, ...inputs])), shapes);
  const observe = compileGraph(tf, p.observe, batchedInputs(p.observe, new Set([...states, ...inputs])), shapes);

  return {
    noisy: p.step.eqns.some((e) => e.op === "noise"),
    prelude(params) {
      const out = prelude.run(params);
      const eff: TensorMap = {};
      for (const prm of p.params) {
        const name = Object.hasOwn(p.prelude.outputs, prm.name) ? p.prelude.outputs[prm.name] : undefined;
        eff[name ?? prm.name] = name ? out[prm.name]! : params[prm.name]!;
      }
      return eff;
    },
    init: (eff, firstObs, B) => {
      const out = init.run({ ...eff, ...firstObs });
      // States that do not depend on the data (zeros, learned) start the same in every sequence.
      for (const st of p.states) {
        const t = out[st.name]!;
        const rank = st.shape.length;
        if (t.rank === rank) out[st.name] = tf.broadcastTo(tf.expandDims(t, 0), [B, ...t.shape]);
      }
      return out;
    },
    step: (eff, st, inp, noise) => step.run({ ...eff, ...st, ...inp }, noise),
    observe: (eff, st, inp) => observe.run({ ...eff, ...st, ...inp }),
  };
}

type Closure = (env: Map<string, Tensor>, noise?: NoiseSource) => Tensor;

/** The values of a graph that carry a batch axis, given its batched inputs. */
export function batchedValues(g: Graph, batchedIn: Set<string>): Set<string> {
  const batched = new Set(batchedIn);
  for (const e of g.eqns) if (e.op === "noise" || e.args.some((a) => batched.has(a))) batched.add(e.out);
  return batched;
}

/**
 * Compile any IR graph (e.g. an adjoint from passes/autodiff.ts): `batchedIn` names the inputs that
 * carry a batch axis, `inputShapes` gives every input's per-sample shape.
 */
export function compileGraph(tf: Tf, g: Graph, batchedIn: Set<string>, inputShapes: Map<string, number[]>): CompiledGraph {
  const batched = new Set(batchedIn);
  const shapes = new Map<string, number[]>(g.inputs.map((i) => [i, inputShapes.get(i)!]));
  const closures: { out: string; f: Closure }[] = [];
  for (const e of g.eqns) {
    const isB = e.op === "noise" || e.args.some((a) => batched.has(a));
    if (isB) batched.add(e.out);
    const shape = shapeOf(e);
    shapes.set(e.out, shape);
    closures.push({ out: e.out, f: compileEqn(tf, e, shape, e.args.map((a) => batched.has(a)), isB, (a) => shapes.get(a)) });
  }
  return {
    run(inputs, noise) {
      const env = new Map<string, Tensor>();
      for (const i of g.inputs) {
        const t = inputs[i];
        if (!t) throw new GraphCompileError(`graph input '${i}' was not provided`);
        env.set(i, t);
      }
      for (const c of closures) env.set(c.out, c.f(env, noise));
      const out: TensorMap = {};
      for (const [k, v] of Object.entries(g.outputs)) out[k] = env.get(v)!;
      return out;
    },
  };
}

const BINARY: Record<string, (tf: Tf, a: Tensor, b: Tensor) => Tensor> = {
  add: (tf, a, b) => tf.add(a, b),
  sub: (tf, a, b) => tf.sub(a, b),
  mul: (tf, a, b) => tf.mul(a, b),
  div: (tf, a, b) => tf.div(a, b),
  pow: (tf, a, b) => tf.pow(a, b),
  maximum: (tf, a, b) => tf.maximum(a, b),
  minimum: (tf, a, b) => tf.minimum(a, b),
};

const UNARY: Record<string, (tf: Tf, a: Tensor) => Tensor> = {
  neg: (tf, a) => tf.neg(a),
  relu: (tf, a) => tf.relu(a),
  tanh: (tf, a) => tf.tanh(a),
  sigmoid: (tf, a) => tf.sigmoid(a),
  softplus: (tf, a) => tf.softplus(a),
  exp: (tf, a) => tf.exp(a),
  log: (tf, a) => tf.log(a),
  sqrt: (tf, a) => tf.sqrt(a),
  abs: (tf, a) => tf.abs(a),
  square: (tf, a) => tf.square(a),
  sign: (tf, a) => tf.sign(a),
};

function compileEqn(
  tf: Tf,
  e: Eqn,
  shape: number[],
  argBatched: boolean[],
  isB: boolean,
  shapeOfArg: (a: string) => number[] | undefined,
): Closure {
  const argShapes = e.args.map((a) => shapeOfArg(a));
  const arg = (env: Map<string, Tensor>, i: number) => env.get(e.args[i]!)!;
  const attr = (k: string) => e.attrs?.[k];
  const ax = (a: number) => a + (argBatched[0] ? 1 : 0);
  // A batched operand of lower per-sample rank gets size-1 axes after its batch axis, so that
  // NumPy-style right alignment of the per-sample shapes still holds with the batch axis in front.
  const align = (t: Tensor, i: number, rank: number): Tensor => {
    const s = argShapes[i] ?? [];
    if (!argBatched[i] || s.length >= rank) return t;
    return tf.reshape(t, [-1, ...Array(rank - s.length).fill(1), ...s]);
  };
  if (e.op in BINARY) {
    const f = BINARY[e.op]!;
    const r = shape.length;
    return (env) => f(tf, align(arg(env, 0), 0, r), align(arg(env, 1), 1, r));
  }
  if (e.op in UNARY) {
    const f = UNARY[e.op]!;
    return (env) => f(tf, arg(env, 0));
  }
  switch (e.op) {
    case "clip": {
      const lo = num(attr("lo"), "clip lo");
      const hi = num(attr("hi"), "clip hi");
      return (env) => tf.clipByValue(arg(env, 0), lo, hi);
    }
    case "matmul": return compileMatmul(tf, e, shape, argShapes as number[][], argBatched, isB);
    case "slice": {
      const axis = num(attr("axis"), "slice axis") + (argBatched[0] ? 1 : 0);
      const start = num(attr("start"), "slice start");
      const stop = num(attr("stop"), "slice stop");
      const rank = (argShapes[0]?.length ?? 0) + (argBatched[0] ? 1 : 0);
      const begin = Array(rank).fill(0);
      const size = Array(rank).fill(-1);
      begin[axis] = start;
      size[axis] = stop - start;
      return (env) => tf.slice(arg(env, 0), begin, size);
    }
    case "concat": {
      const axis = num(attr("axis"), "concat axis") + (isB ? 1 : 0);
      return (env) => {
        const ts = e.args.map((_, i) => arg(env, i));
        if (isB) {
          const bi = argBatched.indexOf(true);
          const B = ts[bi]!.shape[0]!;
          for (let i = 0; i < ts.length; i++) if (!argBatched[i]) ts[i] = tf.broadcastTo(tf.expandDims(ts[i]!, 0), [B, ...(argShapes[i] ?? [])]);
        }
        return tf.concat(ts, axis);
      };
    }
    case "reshape": return (env) => tf.reshape(arg(env, 0), isB ? [-1, ...shape] : shape);
    case "transpose": {
      const perm = (attr("perm") as number[]).map((x) => num(x, "perm"));
      const full = isB ? [0, ...perm.map((x) => x + 1)] : perm;
      return (env) => tf.transpose(arg(env, 0), full);
    }
    case "broadcast": return (env) => {
      const t = arg(env, 0);
      if (!isB) return tf.broadcastTo(t, shape);
      const aligned = align(t, 0, shape.length);
      return tf.broadcastTo(aligned, [aligned.shape[0]!, ...shape]);
    };
    case "reduce_sum": case "reduce_mean": case "reduce_max": case "reduce_min": {
      const axes = (attr("axes") as number[]).map((x) => ax(num(x, "axis")));
      const f = { reduce_sum: tf.sum, reduce_mean: tf.mean, reduce_max: tf.max, reduce_min: tf.min }[e.op];
      return (env) => f(arg(env, 0), axes);
    }
    case "const": {
      const v = num(attr("value"), "const value");
      return () => tf.scalar(v);
    }
    case "eye": return () => tf.eye(shape[0]!, shape[1]!);
    case "heaviside": {
      const at0 = num(attr("at0"), "heaviside at0");
      return (env) => {
        const x = arg(env, 0);
        const pos = tf.cast(tf.greater(x, 0), "float32");
        return at0 === 0 ? pos : tf.add(pos, tf.mul(at0, tf.cast(tf.equal(x, 0), "float32")));
      };
    }
    case "pad": {
      const axis = num(attr("axis"), "pad axis") + (argBatched[0] ? 1 : 0);
      const start = num(attr("start"), "pad start");
      const rank = shape.length + (isB ? 1 : 0);
      const inner = argShapes[0]![axis - (argBatched[0] ? 1 : 0)]!;
      const total = shape[axis - (isB ? 1 : 0)]!;
      const paddings: [number, number][] = Array.from({ length: rank }, (_, i) => (i === axis ? [start, total - start - inner] : [0, 0]));
      return (env) => tf.pad(arg(env, 0), paddings);
    }
    case "dale_sign": {
      const n = shape[0]!;
      const exc = Math.round(num(attr("excitatory"), "excitatory") * n);
      const signs = Array.from({ length: n }, (_, i) => (i < exc ? 1 : -1));
      return () => tf.tensor1d(signs);
    }
    case "noise": return (_env, noise) => {
      if (!noise) throw new GraphCompileError("the step draws noise but no noise source was given");
      return noise(shape);
    };
  }
  throw new GraphCompileError(`the graph tier has no implementation of op '${e.op}'`);
}

/** NumPy matmul on per-sample shapes, with the batch axis in front of batched operands. */
function compileMatmul(tf: Tf, e: Eqn, shape: number[], argShapes: number[][], argBatched: boolean[], isB: boolean): Closure {
  const [sa, sb] = argShapes as [number[], number[]];
  const [ba, bb] = argBatched as [boolean, boolean];
  const A = (env: Map<string, Tensor>) => env.get(e.args[0]!)!;
  const Bv = (env: Map<string, Tensor>) => env.get(e.args[1]!)!;
  // Fast paths for the common RNN cases.
  if (!ba && sa.length === 2 && bb && sb.length === 1) return (env) => tf.matMul(Bv(env), A(env), false, true); // W @ z
  if (ba && sa.length === 1 && !bb && sb.length === 2) return (env) => tf.matMul(A(env), Bv(env)); // z @ W
  if (!ba && !bb) {
    return (env) => {
      const a = sa.length === 1 ? tf.reshape(A(env), [1, sa[0]!]) : A(env);
      const b = sb.length === 1 ? tf.reshape(Bv(env), [sb[0]!, 1]) : Bv(env);
      return tf.reshape(tf.matMul(a, b), shape);
    };
  }
  // General case: promote vectors to matrices, align batch dims of equal rank, broadcast matmul.
  const ma = sa.length === 1 ? [1, sa[0]!] : sa;
  const mb = sb.length === 1 ? [sb[0]!, 1] : sb;
  const rank = Math.max(ma.length, mb.length) + 1;
  const full = (s: number[], batched: boolean) => (batched ? [-1, ...Array(rank - 1 - s.length).fill(1), ...s] : [...Array(rank - s.length).fill(1), ...s]);
  const fa = full(ma, ba);
  const fb = full(mb, bb);
  return (env) => {
    let a = tf.reshape(A(env), fa);
    let b = tf.reshape(Bv(env), fb);
    // Broadcast the batch dims explicitly: tfjs's BatchMatMul gradient does not reduce broadcast axes.
    const lead = a.shape.slice(0, -2).map((d, i) => Math.max(d, b.shape[i]!));
    if (a.shape.slice(0, -2).some((d, i) => d !== lead[i])) a = tf.broadcastTo(a, [...lead, ...a.shape.slice(-2)]);
    if (b.shape.slice(0, -2).some((d, i) => d !== lead[i])) b = tf.broadcastTo(b, [...lead, ...b.shape.slice(-2)]);
    return tf.reshape(tf.matMul(a, b), isB ? [-1, ...shape] : shape);
  };
}
