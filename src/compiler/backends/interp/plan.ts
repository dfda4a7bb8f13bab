// Static analysis of one bound IR graph for the interpreter: per value its numeric shape, whether it
// is batched (depends on a state, an input, an observation or noise) and where it is stored.
//
// Storage classes (the generated code names its arrays after them):
//   P  parameters (effective or raw), unbatched, bound by `bind`;
//   X  full-capacity batched buffers [capacity * size]: the graph's batched inputs, its outputs and
//      the noise draws (drawn for the whole batch before the tile loop, so the draw order does not
//      depend on the tile size);
//   T  tile-local batched intermediates [tile * size], reused by every tile of the batch;
//   H  unbatched intermediates (constants and functions of parameters only): computed once per
//      `bind`, not per step ("hoisted").
// A reshape aliases its operand's storage (row-major data is unchanged).
import type { Eqn, Graph, OpName } from "../../ir/types.js";
import { InterpError } from "./errors.js";

export type GraphName = "prelude" | "init" | "step" | "observe";

export type Store = { cls: "P" | "X" | "T" | "H"; idx: number };

export interface ValuePlan {
  name: string;
  shape: number[];
  size: number;
  batched: boolean;
  store: Store;
}

/** How a graph input is provided: an (effective or raw) parameter, or a batched tensor. */
export type InputBinding = { kind: "param"; param: string; shape: number[] } | { kind: "batched"; key: string; shape: number[] };

export interface XBuffer {
  role: "in" | "out" | "noise";
  /** state / input / observation name for "in" and "out"; the value name for "noise" */
  key: string;
  size: number;
}

export interface OutputPlan {
  key: string;
  size: number;
  /** the X buffer receiving the output */
  x: number;
  src: ValuePlan;
  /** true: the producing eqn writes straight into the output buffer (no copy) */
  direct: boolean;
}

export interface GraphPlan {
  graph: GraphName;
  /** the batched inputs the graph reads */
  reads: string[];
  /** P index → parameter name */
  params: string[];
  /** P index → expected element count */
  paramSizes: number[];
  x: XBuffer[];
  /** per-sample sizes of the tile buffers */
  t: number[];
  /** sizes of the hoisted (unbatched) buffers */
  h: number[];
  /** every eqn in graph order (reshapes included), shapes numeric */
  all: Eqn[];
  hoisted: Eqn[];
  noise: Eqn[];
  batched: Eqn[];
  /**
   * Batched elementwise eqns inlined into their consumers' loops (by value name): they have no
   * buffer. A producer qualifies when every reader is an elementwise or reduce eqn that reads it at
   * its own shape, and it has one reader, or a few and is a cheap op (a broadcast, a product) over
   * stored operands. Recomputed elements are the same operations on the same values, so results
   * are bit-identical to storing them.
   */
  fused: Map<string, Eqn>;
  outputs: OutputPlan[];
  values: Map<string, ValuePlan>;
}

const BINARY = new Set<OpName>(["add", "sub", "mul", "div", "pow", "maximum", "minimum"]);
const UNARY = new Set<OpName>(["neg", "relu", "tanh", "sigmoid", "softplus", "exp", "log", "sqrt", "abs", "square", "sign", "clip", "heaviside"]);
const REDUCE = new Set<OpName>(["reduce_sum", "reduce_mean", "reduce_max", "reduce_min"]);

export const isBinary = (op: OpName): boolean => BINARY.has(op);
export const isUnary = (op: OpName): boolean => UNARY.has(op);
export const isReduce = (op: OpName): boolean => REDUCE.has(op);

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** A numeric shape, or a clear error naming the symbolic dims. */
export function numericShape(shape: readonly unknown[], what: string): number[] {
  return shape.map((d) => {
    if (typeof d !== "number") {
      throw new InterpError(`${what} has a symbolic shape [${shape.map((x) => (typeof x === "number" ? x : JSON.stringify(x))).join(", ")}]: bind the dims first (bindDims)`);
    }
    if (!Number.isInteger(d) || d < 0) throw new InterpError(`${what} has an invalid dimension ${d}`);
    return d;
  });
}

export function numAttr(e: Eqn, key: string, where: string): number {
  const v = e.attrs?.[key];
  if (typeof v !== "number") {
    throw new InterpError(`${where}: ${e.out} = ${e.op}: attribute '${key}' is ${v === undefined ? "missing" : `not a number (${JSON.stringify(v)}): bind the dims first (bindDims)`}`);
  }
  return v;
}

export function numListAttr(e: Eqn, key: string, where: string): number[] {
  const v = e.attrs?.[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number")) {
    throw new InterpError(`${where}: ${e.out} = ${e.op}: attribute '${key}' is ${v === undefined ? "missing" : `not a list of numbers (${JSON.stringify(v)}): bind the dims first (bindDims)`}`);
  }
  return v as number[];
}

function normAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new InterpError(`${where}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

function broadcastShapes(shapes: number[][], where: string): number[] {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    let d = 1;
    for (const s of shapes) {
      const x = s[s.length - r + i];
      if (x === undefined || x === 1) continue;
      if (d === 1) d = x;
      else if (d !== x) throw new InterpError(`${where}: shapes ${shapes.map((s) => `[${s.join(", ")}]`).join(" and ")} do not broadcast`);
    }
    out.push(d);
  }
  return out;
}

/** Normalised slice bounds (NumPy rules for negative and out-of-range indices). */
export function sliceBounds(e: Eqn, inShape: number[], where: string): { axis: number; start: number; stop: number } {
  const axis = normAxis(numAttr(e, "axis", where), inShape.length, where);
  const n = inShape[axis]!;
  const norm = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
  const start = e.attrs?.["start"] === undefined ? 0 : norm(numAttr(e, "start", where));
  const stop = e.attrs?.["stop"] === undefined ? n : norm(numAttr(e, "stop", where));
  return { axis, start, stop: Math.max(start, stop) };
}

export function concatAxis(e: Eqn, rank: number, where: string): number {
  return normAxis(numAttr(e, "axis", where), rank, where);
}

export function transposePerm(e: Eqn, rank: number, where: string): number[] {
  const perm = numListAttr(e, "perm", where).map((p) => normAxis(p, rank, where));
  if (perm.length !== rank || new Set(perm).size !== rank) throw new InterpError(`${where}: perm [${perm.join(", ")}] is not a permutation of ${rank} axes`);
  return perm;
}

export function reduceAxes(e: Eqn, rank: number, where: string): number[] {
  const axes = e.attrs?.["axes"] === undefined ? [...Array(rank).keys()] : numListAttr(e, "axes", where).map((a) => normAxis(a, rank, where));
  return [...new Set(axes)].sort((a, b) => a - b);
}

/** The NumPy result shape of an eqn from its operands' per-sample shapes. */
function inferShape(e: Eqn, args: number[][], where: string): number[] {
  const need = (k: number) => {
    if (args.length !== k) throw new InterpError(`${where}: ${e.op} takes ${k} operand(s), got ${args.length}`);
  };
  if (BINARY.has(e.op)) {
    need(2);
    return broadcastShapes(args, where);
  }
  if (UNARY.has(e.op)) {
    need(1);
    if (e.op === "clip") {
      numAttr(e, "lo", where);
      numAttr(e, "hi", where);
    }
    if (e.op === "heaviside") numAttr(e, "at0", where);
    return args[0]!;
  }
  if (REDUCE.has(e.op)) {
    need(1);
    const axes = reduceAxes(e, args[0]!.length, where);
    return args[0]!.filter((_, i) => !axes.includes(i));
  }
  switch (e.op) {
    case "matmul": {
      need(2);
      const [a, b] = args as [number[], number[]];
      if (a.length === 0 || b.length === 0) throw new InterpError(`${where}: matmul of a scalar`);
      const ka = a[a.length - 1]!;
      const kb = b.length === 1 ? b[0]! : b[b.length - 2]!;
      if (ka !== kb) throw new InterpError(`${where}: matmul inner dims differ: [${a.join(", ")}] @ [${b.join(", ")}]`);
      const lead = broadcastShapes([a.slice(0, -2), b.slice(0, -2)], where);
      return [...lead, ...(a.length >= 2 ? [a[a.length - 2]!] : []), ...(b.length >= 2 ? [b[b.length - 1]!] : [])];
    }
    case "slice": {
      need(1);
      const { axis, start, stop } = sliceBounds(e, args[0]!, where);
      const s = [...args[0]!];
      s[axis] = stop - start;
      return s;
    }
    case "concat": {
      if (args.length < 1) throw new InterpError(`${where}: concat needs operands`);
      const r = args[0]!.length;
      const axis = concatAxis(e, r, where);
      const out = [...args[0]!];
      out[axis] = 0;
      for (const s of args) {
        if (s.length !== r || s.some((d, i) => i !== axis && d !== out[i])) {
          throw new InterpError(`${where}: concat operands [${args.map((x) => x.join(", ")).join("], [")}] differ off axis ${axis}`);
        }
        out[axis]! += s[axis]!;
      }
      return out;
    }
    case "reshape": {
      need(1);
      if (sizeOf(args[0]!) !== sizeOf(e.shape as number[])) throw new InterpError(`${where}: reshape of [${args[0]!.join(", ")}] to [${e.shape.join(", ")}] changes the element count`);
      return e.shape as number[];
    }
    case "pad": {
      need(1);
      const target = e.shape as number[];
      const axis = numAttr(e, "axis", where);
      const start = numAttr(e, "start", where);
      const a = args[0]!;
      if (a.length !== target.length || a.some((d, i) => (i === axis ? start + d > target[i]! : d !== target[i]))) {
        throw new InterpError(`${where}: cannot pad [${a.join(", ")}] at ${start} on axis ${axis} into [${target.join(", ")}]`);
      }
      return target;
    }
    case "transpose": {
      need(1);
      const perm = transposePerm(e, args[0]!.length, where);
      return perm.map((p) => args[0]![p]!);
    }
    case "broadcast": {
      need(1);
      const target = e.shape as number[];
      const b = broadcastShapes([args[0]!, target], where);
      if (b.length !== target.length || b.some((d, i) => d !== target[i])) throw new InterpError(`${where}: cannot broadcast [${args[0]!.join(", ")}] to [${target.join(", ")}]`);
      return target;
    }
    case "const":
      need(0);
      numAttr(e, "value", where);
      return e.shape as number[];
    case "eye":
      need(0);
      if (e.shape.length !== 2) throw new InterpError(`${where}: eye must be a matrix`);
      return e.shape as number[];
    case "dale_sign":
      need(0);
      numAttr(e, "excitatory", where);
      if (e.shape.length !== 1) throw new InterpError(`${where}: dale_sign must be a vector`);
      return e.shape as number[];
    case "noise":
      need(0);
      return e.shape as number[];
  }
  throw new InterpError(`${where}: unknown op '${String(e.op)}'`);
}

/**
 * Plans one graph. `bindInput` says how each graph input is provided; `outputSizes` gives the
 * expected size of each output (a state, an observation or an effective parameter).
 */
export function planGraph(
  graphName: GraphName,
  g: Graph,
  bindInput: (name: string) => InputBinding | undefined,
  batchedInputs: { key: string; size: number }[],
  outputSizes: Map<string, number>,
  accumulated: ReadonlySet<string> = new Set(),
): GraphPlan {
  const values = new Map<string, ValuePlan>();
  const params: string[] = [];
  const paramSizes: number[] = [];
  const x: XBuffer[] = [];
  const t: number[] = [];
  const h: number[] = [];
  const xIn = new Map<string, number>();
  const reads: string[] = [];
  // Every batched input of this graph kind gets a buffer (even when the graph does not read it),
  // so an executor always exposes the same `in` record.
  for (const b of batchedInputs) {
    xIn.set(b.key, x.length);
    x.push({ role: "in", key: b.key, size: b.size });
  }
  for (const name of g.inputs) {
    const b = bindInput(name);
    if (!b) throw new InterpError(`${graphName}: graph input '${name}' is neither a parameter nor a ${graphName === "init" ? "observation" : "state or input"}`);
    const shape = numericShape(b.shape, `${graphName} input '${name}'`);
    if (b.kind === "param") {
      params.push(b.param);
      paramSizes.push(sizeOf(shape));
      values.set(name, { name, shape, size: sizeOf(shape), batched: false, store: { cls: "P", idx: params.length - 1 } });
    } else {
      const idx = xIn.get(b.key);
      if (idx === undefined) throw new InterpError(`${graphName}: batched input '${b.key}' has no buffer`);
      reads.push(b.key);
      values.set(name, { name, shape, size: sizeOf(shape), batched: true, store: { cls: "X", idx } });
    }
  }
  // Outputs written directly by their eqn: the first output naming a batched, non-aliased eqn value.
  const eqnOut = new Set(g.eqns.filter((e) => e.op !== "reshape" && e.op !== "noise").map((e) => e.out));
  const directFor = new Map<string, string>();
  // An output its consumer adds into (over time steps) is written in place only when nothing else
  // reads the value: the buffer holds the running sum, not the value.
  const readers = new Map<string, number>();
  for (const e of g.eqns) for (const a of e.args) readers.set(a, (readers.get(a) ?? 0) + 1);
  for (const v of Object.values(g.outputs)) readers.set(v, (readers.get(v) ?? 0) + 1);
  for (const [key, v] of Object.entries(g.outputs)) {
    if (!eqnOut.has(v) || directFor.has(v)) continue;
    if (accumulated.has(key) && readers.get(v)! > 1) continue;
    directFor.set(v, key);
  }

  const all: Eqn[] = [];
  const hoisted: Eqn[] = [];
  const noise: Eqn[] = [];
  const batched: Eqn[] = [];
  const outX = new Map<string, number>();
  for (const key of Object.keys(g.outputs)) {
    const size = outputSizes.get(key);
    if (size === undefined) throw new InterpError(`${graphName}: output '${key}' is not a known ${graphName === "observe" ? "observation" : graphName === "prelude" ? "parameter" : "state"}`);
    outX.set(key, x.length);
    x.push({ role: "out", key, size });
  }
  for (const e of g.eqns) {
    const where = `${graphName}: ${e.out}`;
    if (values.has(e.out)) throw new InterpError(`${where} is defined twice`);
    const args = e.args.map((a) => {
      const v = values.get(a);
      if (!v) throw new InterpError(`${where} uses '${a}' before it is defined`);
      return v;
    });
    const declared = numericShape(e.shape, `${where} (${e.op})`);
    const inferred = inferShape({ ...e, shape: declared }, args.map((a) => a.shape), where);
    if (inferred.length !== declared.length || inferred.some((d, i) => d !== declared[i])) {
      throw new InterpError(`${where} = ${e.op}(${e.args.join(", ")}) declares shape [${declared.join(", ")}] but NumPy gives [${inferred.join(", ")}] for operands ${args.map((a) => `[${a.shape.join(", ")}]`).join(", ")}`);
    }
    const isBatched = e.op === "noise" || args.some((a) => a.batched);
    const size = sizeOf(declared);
    let store: Store;
    if (e.op === "reshape") store = args[0]!.store;
    else if (e.op === "noise") {
      store = { cls: "X", idx: x.length };
      x.push({ role: "noise", key: e.out, size });
    } else if (isBatched) {
      const key = directFor.get(e.out);
      if (key !== undefined && outputSizes.get(key) === size) store = { cls: "X", idx: outX.get(key)! };
      else {
        store = { cls: "T", idx: t.length };
        t.push(size);
      }
    } else {
      store = { cls: "H", idx: h.length };
      h.push(size);
    }
    const eq = { ...e, shape: declared };
    all.push(eq);
    if (e.op === "noise") noise.push(eq);
    else if (e.op !== "reshape") (isBatched ? batched : hoisted).push(eq);
    values.set(e.out, { name: e.out, shape: declared, size, batched: isBatched, store });
  }
  const fused = planFusion(all, batched, values, g);
  // tile buffers only for the values that are materialised (aliases share their operand's Store)
  const tSizes: number[] = [];
  const renumber = new Map<Store, Store>();
  for (const v of values.values()) {
    if (v.store.cls !== "T") continue;
    if (fused.has(v.name)) {
      v.store = { cls: "T", idx: -1 };
      continue;
    }
    let st = renumber.get(v.store);
    if (!st) {
      st = { cls: "T", idx: tSizes.length };
      tSizes.push(t[v.store.idx]!);
      renumber.set(v.store, st);
    }
    v.store = st;
  }
  const outputs: OutputPlan[] = [];
  for (const [key, v] of Object.entries(g.outputs)) {
    const src = values.get(v);
    if (!src) throw new InterpError(`${graphName}: output '${key}' refers to undefined '${v}'`);
    const size = outputSizes.get(key)!;
    if (src.size !== size) throw new InterpError(`${graphName}: output '${key}' = ${v} has ${src.size} elements, expected ${size}`);
    const xi = outX.get(key)!;
    outputs.push({ key, size, x: xi, src, direct: src.store.cls === "X" && src.store.idx === xi });
  }
  return { graph: graphName, reads, params, paramSizes, x, t: tSizes, h, all, hoisted, noise, batched, fused, outputs, values };
}

/** Ops cheap enough to recompute in each consumer rather than store once and load again. */
const CHEAP = new Set<OpName>(["broadcast", "add", "sub", "mul", "neg", "relu", "abs", "square", "maximum", "minimum", "heaviside", "sign", "clip"]);

function planFusion(all: Eqn[], batchedEqns: Eqn[], values: Map<string, ValuePlan>, g: Graph): Map<string, Eqn> {
  const consumers = new Map<string, Eqn[]>();
  for (const e of all) for (const a of e.args) consumers.set(a, [...(consumers.get(a) ?? []), e]);
  const isOutput = new Set(Object.values(g.outputs));
  const batched = new Set(batchedEqns);
  const fused = new Map<string, Eqn>();
  const fusable = (p: Eqn, c: Eqn) => {
    if (!batched.has(c)) return false;
    const same = c.shape.length === p.shape.length && c.shape.every((d, i) => d === p.shape[i]);
    return ((BINARY.has(c.op) || UNARY.has(c.op)) && same) || REDUCE.has(c.op);
  };
  for (const p of batchedEqns) {
    if (!(BINARY.has(p.op) || UNARY.has(p.op) || p.op === "broadcast")) continue;
    const v = values.get(p.out)!;
    const cs = consumers.get(p.out) ?? [];
    if (v.store.cls !== "T" || isOutput.has(p.out) || cs.length === 0 || !cs.every((c) => fusable(p, c))) continue;
    // One reader: inline. Several: inline only a cheap op over unfused operands (bounded recomputation).
    // (a fused broadcast operand is only a strided load, so it does not count as recomputation)
    const stored = (a: string) => !fused.has(a) || fused.get(a)!.op === "broadcast";
    if (cs.length === 1 || (cs.length <= 3 && CHEAP.has(p.op) && p.args.every(stored))) fused.set(p.out, p);
  }
  return fused;
}

