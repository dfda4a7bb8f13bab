// Reverse-mode differentiation of an IR graph, as a pure IR → IR pass.
//
// `adjoint(g)` returns a graph that reads the primal graph's inputs and intermediate values (by
// their primal names) plus one cotangent per primal output (`ct:<output>`), and returns the
// cotangent of each requested input (`ct:<input>`). Semantics are per sample, like every IR
// graph: cotangents of unbatched values (parameters) come out per sample, and the executor sums
// them over the batch. Noise draws are inputs of the step (never differentiated).
import { dimsEqual, evalNum, type NumExpr } from "../ir/numexpr.js";
import type { Eqn, Graph, OpName, Shape } from "../ir/types.js";

export class AutodiffError extends Error {
  override name = "AutodiffError";
}

export const ct = (name: string) => `ct:${name}`;

class Emitter {
  eqns: Eqn[] = [];
  private n = 0;
  constructor(private prefix: string, readonly shapes: Map<string, Shape>) {}
  emit(op: OpName, args: string[], shape: Shape, attrs?: Eqn["attrs"], out?: string): string {
    const name = out ?? `%${this.prefix}${++this.n}`;
    this.eqns.push({ out: name, op, args, shape, ...(attrs ? { attrs } : {}) });
    this.shapes.set(name, shape);
    return name;
  }
  shape(v: string): Shape {
    const s = this.shapes.get(v);
    if (!s) throw new AutodiffError(`no shape for '${v}'`);
    return s;
  }
  const(value: number): string {
    return this.emit("const", [], [], { value });
  }
}

const eqDim = (a: NumExpr, b: NumExpr) => dimsEqual(a, b, () => undefined) === true;
const isOne = (d: NumExpr) => evalNum(d, () => undefined) === 1;
const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => eqDim(d, b[i]!));

/** Sum a cotangent of broadcast shape `from` back to an operand's shape `to`. */
function unbroadcast(em: Emitter, ctv: string, to: Shape): string {
  const from = em.shape(ctv);
  if (sameShape(from, to)) return ctv;
  const lead = from.length - to.length;
  const axes: number[] = [];
  for (let i = 0; i < from.length; i++) {
    if (i < lead) axes.push(i);
    else if (isOne(to[i - lead]!) && !isOne(from[i]!)) axes.push(i);
  }
  const kept = from.filter((_, i) => !axes.includes(i));
  const summed = axes.length ? em.emit("reduce_sum", [ctv], kept, { axes }) : ctv;
  return sameShape(kept, to) ? summed : em.emit("reshape", [summed], to);
}

function broadcastBatch(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i];
    const y = b[b.length - n + i];
    out.push(x === undefined ? y! : y === undefined ? x : isOne(x) ? y : x);
  }
  return out;
}

function transposeLast2(em: Emitter, v: string): string {
  const s = em.shape(v);
  const r = s.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return em.emit("transpose", [v], perm.map((p) => s[p]!), { perm });
}

/** Contributions of one equation's cotangent to its arguments' cotangents. */
function eqnAdjoint(em: Emitter, e: Eqn, g: string): (string | null)[] {
  const [a, b] = e.args;
  const sa = a !== undefined ? em.shape(a) : [];
  const sb = b !== undefined ? em.shape(b) : [];
  const out = e.shape;
  const mul = (x: string, y: string, s: Shape = out) => em.emit("mul", [x, y], s);
  switch (e.op) {
    case "add": return [unbroadcast(em, g, sa), unbroadcast(em, g, sb)];
    case "sub": return [unbroadcast(em, g, sa), unbroadcast(em, em.emit("neg", [g], out), sb)];
    case "mul": return [unbroadcast(em, mul(g, b!), sa), unbroadcast(em, mul(g, a!), sb)];
    case "div": {
      const ga = em.emit("div", [g, b!], out);
      const q = em.emit("div", [e.out, b!], out); // a / b²  =  out / b
      return [unbroadcast(em, ga, sa), unbroadcast(em, em.emit("neg", [mul(g, q)], out), sb)];
    }
    case "pow": {
      // d/da a^b = b a^(b-1) = b out / a;  d/db = out log a
      const da = em.emit("div", [mul(e.out, b!), a!], out);
      const db = mul(e.out, em.emit("log", [a!], sa, undefined));
      return [unbroadcast(em, mul(g, da), sa), unbroadcast(em, mul(g, db), sb)];
    }
    case "maximum": case "minimum": {
      const diff = e.op === "maximum" ? em.emit("sub", [a!, b!], out) : em.emit("sub", [b!, a!], out);
      const maskA = em.emit("heaviside", [diff], out, { at0: 1 });
      const maskB = em.emit("sub", [em.const(1), maskA], out);
      return [unbroadcast(em, mul(g, maskA), sa), unbroadcast(em, mul(g, maskB), sb)];
    }
    case "neg": return [em.emit("neg", [g], out)];
    case "relu": return [mul(g, em.emit("heaviside", [a!], out, { at0: 0 }))];
    case "tanh": return [mul(g, em.emit("sub", [em.const(1), em.emit("square", [e.out], out)], out))];
    case "sigmoid": return [mul(g, mul(e.out, em.emit("sub", [em.const(1), e.out], out)))];
    case "softplus": return [mul(g, em.emit("sigmoid", [a!], out))];
    case "exp": return [mul(g, e.out)];
    case "log": return [em.emit("div", [g, a!], out)];
    case "sqrt": return [em.emit("div", [g, mul(em.const(2), e.out)], out)];
    case "abs": return [mul(g, em.emit("sign", [a!], out))];
    case "square": return [mul(g, mul(em.const(2), a!))];
    case "sign": return [null];
    case "heaviside": return [null];
    case "clip": {
      const lo = em.emit("sub", [a!, em.const(e.attrs!["lo"] as number)], out);
      const hi = em.emit("sub", [em.const(e.attrs!["hi"] as number), a!], out);
      const mask = mul(em.emit("heaviside", [lo], out, { at0: 0 }), em.emit("heaviside", [hi], out, { at0: 0 }));
      return [mul(g, mask)];
    }
    case "matmul": {
      // Promote vectors to matrices, then C = A B  ⇒  dA = dC Bᵀ, dB = Aᵀ dC (batch dims unbroadcast).
      const A = sa.length === 1 ? em.emit("reshape", [a!], [1, sa[0]!]) : a!;
      const B = sb.length === 1 ? em.emit("reshape", [b!], [sb[0]!, 1]) : b!;
      const As = em.shape(A);
      const Bs = em.shape(B);
      const batch = broadcastBatch(As.slice(0, -2), Bs.slice(0, -2));
      const m = As[As.length - 2]!;
      const n = Bs[Bs.length - 1]!;
      const G = em.emit("reshape", [g], [...batch, m, n]);
      const dA = em.emit("matmul", [G, transposeLast2(em, B)], [...batch, m, As[As.length - 1]!]);
      const dB = em.emit("matmul", [transposeLast2(em, A), G], [...batch, Bs[Bs.length - 2]!, n]);
      const backA = unbroadcast(em, dA, As);
      const backB = unbroadcast(em, dB, Bs);
      return [sa.length === 1 ? em.emit("reshape", [backA], sa) : backA, sb.length === 1 ? em.emit("reshape", [backB], sb) : backB];
    }
    case "slice": {
      const axis = e.attrs!["axis"] as number;
      return [em.emit("pad", [g], sa, { axis, start: e.attrs!["start"] as number })];
    }
    case "pad": {
      const axis = e.attrs!["axis"] as number;
      const start = e.attrs!["start"] as number;
      return [em.emit("slice", [g], sa, { axis, start, stop: (start as number) + (sa[axis] as number) })];
    }
    case "concat": {
      const axis = e.attrs!["axis"] as number;
      let offset = 0;
      return e.args.map((x) => {
        const s = em.shape(x);
        const r = em.emit("slice", [g], s, { axis, start: offset, stop: offset + (s[axis] as number) });
        offset += s[axis] as number;
        return r;
      });
    }
    case "reshape": return [em.emit("reshape", [g], sa)];
    case "transpose": {
      const perm = e.attrs!["perm"] as number[];
      const inv = perm.map((_, i) => perm.indexOf(i));
      return [em.emit("transpose", [g], sa, { perm: inv })];
    }
    case "broadcast": return [unbroadcast(em, g, sa)];
    case "reduce_sum": case "reduce_mean": {
      const axes = e.attrs!["axes"] as number[];
      const keep = sa.map((d, i) => (axes.includes(i) ? 1 : d));
      let back = em.emit("broadcast", [em.emit("reshape", [g], keep)], sa);
      if (e.op === "reduce_mean") {
        const count = axes.reduce((acc, i) => acc * (sa[i] as number), 1);
        back = mul(back, em.const(1 / count), sa);
      }
      return [back];
    }
    case "reduce_max": case "reduce_min": {
      const axes = e.attrs!["axes"] as number[];
      const keep = sa.map((d, i) => (axes.includes(i) ? 1 : d));
      const ext = em.emit("broadcast", [em.emit("reshape", [e.out], keep)], sa);
      const diff = e.op === "reduce_max" ? em.emit("sub", [a!, ext], sa) : em.emit("sub", [ext, a!], sa);
      const mask = em.emit("heaviside", [diff], sa, { at0: 1 });
      const back = em.emit("broadcast", [em.emit("reshape", [g], keep)], sa);
      return [mul(back, mask, sa)];
    }
    case "const": case "eye": case "dale_sign": case "noise": return [];
  }
}

export interface AdjointOptions {
  /** Inputs whose cotangents are wanted (default: all inputs). */
  wrt?: string[];
  /** Shapes of the primal graph's inputs. */
  inputShapes: Map<string, Shape>;
}

/** The adjoint graph of `g` (see the file comment). Requires bound (numeric) shapes. */
export function adjoint(g: Graph, opts: AdjointOptions, prefix = "a"): Graph {
  const shapes = new Map<string, Shape>(opts.inputShapes);
  for (const e of g.eqns) shapes.set(e.out, e.shape);
  for (const s of shapes.values()) for (const d of s) if (typeof d !== "number") throw new AutodiffError("autodiff needs bound shapes (run bindDims first)");
  const em = new Emitter(prefix, shapes);
  const cts = new Map<string, string>();
  const primalUsed = new Set<string>();
  const accumulate = (v: string, c: string) => {
    const prev = cts.get(v);
    cts.set(v, prev ? em.emit("add", [prev, c], shapes.get(v)!) : c);
  };
  const ctInputs: string[] = [];
  for (const [k, v] of Object.entries(g.outputs)) {
    const name = ct(k);
    ctInputs.push(name);
    shapes.set(name, shapes.get(v)!);
    accumulate(v, name);
  }
  for (let i = g.eqns.length - 1; i >= 0; i--) {
    const e = g.eqns[i]!;
    const gOut = cts.get(e.out);
    if (!gOut) continue;
    const before = em.eqns.length;
    const contributions = eqnAdjoint(em, e, gOut);
    for (const x of em.eqns.slice(before)) for (const arg of x.args) primalUsed.add(arg);
    contributions.forEach((c, j) => {
      if (c) accumulate(e.args[j]!, c);
    });
  }
  const wrt = opts.wrt ?? g.inputs;
  const outputs: Record<string, string> = {};
  for (const x of wrt) {
    let c = cts.get(x);
    if (!c) c = em.emit("broadcast", [em.const(0)], shapes.get(x)!);
    outputs[x] = c;
  }
  const produced = new Set(em.eqns.map((e) => e.out));
  const primalInputs = [...primalUsed].filter((v) => !produced.has(v) && !ctInputs.includes(v));
  // Primal values the adjoint reads come first, in primal order, then the output cotangents.
  const order = new Map<string, number>([...g.inputs.map((v, i) => [v, i] as const), ...g.eqns.map((e, i) => [e.out, g.inputs.length + i] as const)]);
  primalInputs.sort((x, y) => (order.get(x) ?? 0) - (order.get(y) ?? 0));
  return { inputs: [...primalInputs, ...ctInputs], eqns: em.eqns, outputs };
}

/**
 * The Jacobian of a graph's output `out` with respect to its input `wrt`, as a graph returning
 * `jac:<out>` of shape [size(out), size(wrt)] (rows: outputs), built from one adjoint per output
 * unit. Used by the analysis tools (fixed points, stability) and adaptive GTF.
 */
export function jacobian(g: Graph, out: string, wrt: string, inputShapes: Map<string, Shape>): Graph {
  const outVal = g.outputs[out];
  if (!outVal) throw new AutodiffError(`graph has no output '${out}'`);
  const shapes = new Map<string, Shape>(inputShapes);
  for (const e of g.eqns) shapes.set(e.out, e.shape);
  const so = shapes.get(outVal)!;
  const sw = shapes.get(wrt)!;
  const nOut = so.reduce<number>((a, d) => a * (d as number), 1);
  const nIn = sw.reduce<number>((a, d) => a * (d as number), 1);
  const single: Graph = { inputs: g.inputs, eqns: g.eqns, outputs: { [out]: outVal } };
  const adj = adjoint(single, { wrt: [wrt], inputShapes }, "j");
  const eqns: Eqn[] = [...g.eqns];
  const eye = `%jeye`;
  eqns.push({ out: eye, op: "eye", args: [], shape: [nOut, nOut] });
  const rows: string[] = [];
  for (let i = 0; i < nOut; i++) {
    const rename = (v: string) => (v === ct(out) ? `%jct${i}` : v.startsWith("%j") ? `${v}_${i}` : v);
    const row = `%jct${i}`;
    eqns.push({ out: `${row}r`, op: "slice", args: [eye], shape: [1, nOut], attrs: { axis: 0, start: i, stop: i + 1 } });
    eqns.push({ out: row, op: "reshape", args: [`${row}r`], shape: so });
    for (const e of adj.eqns) eqns.push({ ...e, out: rename(e.out), args: e.args.map(rename) });
    const r = rename(adj.outputs[wrt]!);
    eqns.push({ out: `%jrow${i}`, op: "reshape", args: [r], shape: [1, nIn] });
    rows.push(`%jrow${i}`);
  }
  const J = `jac:${out}`;
  eqns.push({ out: J, op: "concat", args: rows, shape: [nOut, nIn], attrs: { axis: 0 } });
  return { inputs: g.inputs, eqns, outputs: { [J]: J } };
}
