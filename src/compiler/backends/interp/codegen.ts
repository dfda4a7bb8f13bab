// Code generation for one planned graph: the eqns become straight-line JavaScript with constant loop
// bounds and strides (NumPy broadcasting resolved at compile time), compiled once with `new Function`
// per (graph, tile size, dtype). Every generated function is its own closure, so V8 sees monomorphic
// typed-array accesses; nothing is allocated when the functions run.
//
// Layout: every value is row-major; a batched value stores its samples one after the other
// ([batch, ...shape]). Inside the tile loop `o` is the first sample of the tile and `n` the number
// of samples in it; X buffers (full capacity) are addressed from `o * size`, T buffers from 0.
import type { Eqn } from "../../ir/types.js";
import { InterpError } from "./errors.js";
import {
  concatAxis,
  isBinary,
  isReduce,
  isUnary,
  numAttr,
  reduceAxes,
  sliceBounds,
  stridesOf,
  transposePerm,
  type GraphPlan,
  type ValuePlan,
} from "./plan.js";

export type FloatArray = Float32Array | Float64Array;

/** The source of the noise draws: a standard normal per call. */
export interface NormalSource {
  normal(): number;
  /** Adds N(0, std²) draws to every element in bulk (faster; another sequence than normal()). */
  addNormalNoise?(arr: Float64Array, std: number): unknown;
  /** The live xoshiro128** state words behind addNormalNoise (WebAssembly draws its stream: wasm/normals.ts). */
  stateWords?(): Uint32Array;
}

export interface GenContext {
  rng: NormalSource | undefined;
}

export interface GenModule {
  /** computes the unbatched (parameter-only) values; call after the parameters change */
  hoist(): void;
  /** runs the batched part for samples [0, nb) */
  run(nb: number): void;
  /** copies the given output buffers into input buffers for samples [0, nb) (step: next → current) */
  commit(nb: number): void;
}

export type GenFactory = (P: FloatArray[], X: FloatArray[], T: FloatArray[], H: FloatArray[], ctx: GenContext) => GenModule;

type Ext = number | string;

interface Acc {
  arr: string;
  base: string;
  /** one stride per loop dim */
  strides: number[];
}

/** A JS literal for a double (exact: shortest round-trip form). */
export function lit(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "(-Infinity)";
  if (Object.is(v, -0)) return "(-0)";
  const s = String(v);
  return v < 0 ? `(${s})` : s;
}

class Emitter {
  private counter = 0;
  readonly helpers = new Set<string>();
  /** batched elementwise eqns inlined into their single consumer's loop, by value name */
  fused = new Map<string, Eqn>();
  fresh(p: string): string {
    return `${p}${this.counter++}`;
  }
}

function term(base: string, i: string, stride: number): string {
  if (stride === 0) return base;
  const t = stride === 1 ? i : `${i} * ${stride}`;
  return base === "0" ? t : `${base} + ${t}`;
}

function extMul(a: Ext, b: Ext): Ext {
  if (typeof a === "number" && typeof b === "number") return a * b;
  return `${a} * ${b}`;
}

/**
 * Nested loops over `ext` (outermost first). Size-1 dims are dropped and adjacent dims merged where
 * every access is contiguous across them. `body` gets one index expression per access.
 */
function loopNest(em: Emitter, ext: Ext[], accs: Acc[], body: (idx: string[]) => string): string {
  const dims: { e: Ext; s: number[] }[] = [];
  ext.forEach((e, d) => {
    if (e === 1) return;
    const s = accs.map((a) => a.strides[d]!);
    const last = dims[dims.length - 1];
    if (last && typeof e === "number" && last.s.every((x, k) => x === s[k]! * e)) {
      last.e = extMul(last.e, e);
      last.s = s;
    } else dims.push({ e, s });
  });
  const emit = (level: number, idx: string[]): string => {
    if (level === dims.length) return body(idx);
    const d = dims[level]!;
    const i = em.fresh("i");
    const head = typeof d.e === "number" ? `for (let ${i} = 0; ${i} < ${d.e}; ${i}++)` : (() => {
      const e = em.fresh("e");
      return `for (let ${i} = 0, ${e} = ${d.e}; ${i} < ${e}; ${i}++)`;
    })();
    const next = idx.map((b, k) => term(b, i, d.s[k]!));
    if (level === dims.length - 1) return `${head} {\n${body(next)}\n}`;
    const decls: string[] = [];
    const names = next.map((x) => {
      if (/^[A-Za-z_$][\w$]*$/.test(x) || x === "0") return x;
      const q = em.fresh("q");
      decls.push(`const ${q} = ${x};`);
      return q;
    });
    return `${head} {\n${decls.join(" ")}\n${emit(level + 1, names)}\n}`;
  };
  return emit(0, accs.map((a) => a.base));
}

export function storeName(v: ValuePlan): string {
  return `${v.store.cls.toLowerCase()}${v.store.idx}`;
}

/** Base offset of the current tile for a value (inside the tile loop). */
function baseOf(v: ValuePlan, tiled: boolean): string {
  if (!tiled || !v.batched || v.store.cls !== "X") return "0";
  return v.size === 1 ? "o" : `o * ${v.size}`;
}

function unaryExpr(em: Emitter, e: Eqn, x: string): string {
  switch (e.op) {
    case "neg": return `-${x}`;
    case "relu": return `(${x} < 0 ? 0 : ${x})`;
    case "tanh": return `Math.tanh(${x})`;
    case "sigmoid": em.helpers.add("sigm"); return `sigm(${x})`;
    case "softplus": em.helpers.add("softplus"); return `softplus(${x})`;
    case "exp": return `Math.exp(${x})`;
    case "log": return `Math.log(${x})`;
    case "sqrt": return `Math.sqrt(${x})`;
    case "abs": return `Math.abs(${x})`;
    case "square": return `${x} * ${x}`;
    case "sign": return `(${x} > 0 ? 1 : ${x} < 0 ? -1 : ${x})`;
    case "clip": return `Math.min(Math.max(${x}, ${lit(numAttr(e, "lo", e.out))}), ${lit(numAttr(e, "hi", e.out))})`;
    case "heaviside": return `(${x} > 0 ? 1 : ${x} < 0 ? 0 : ${lit(numAttr(e, "at0", e.out))})`;
  }
  throw new InterpError(`not a unary op: ${e.op}`);
}

function binaryExpr(em: Emitter, op: string, a: string, b: string): string {
  switch (op) {
    case "add": return `${a} + ${b}`;
    case "sub": return `${a} - ${b}`;
    case "mul": return `${a} * ${b}`;
    case "div": return `${a} / ${b}`;
    case "pow": em.helpers.add("pw"); return `pw(${a}, ${b})`;
    case "maximum": return `Math.max(${a}, ${b})`;
    case "minimum": return `Math.min(${a}, ${b})`;
  }
  throw new InterpError(`not a binary op: ${op}`);
}

const HELPERS: Record<string, string> = {
  sigm: "function sigm(x) { if (x >= 0) return 1 / (1 + Math.exp(-x)); const e = Math.exp(x); return e / (1 + e); }",
  softplus: "function softplus(x) { return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)); }",
  // C99 pow special cases that Math.pow does not follow (NumPy uses C's pow).
  pw: "function pw(a, b) { if (a === 1 || b === 0) return 1; if (a === -1 && (b === Infinity || b === -Infinity)) return 1; return Math.pow(a, b); }",
};

/**
 * The loops of a matrix product out = a @ b (NumPy matmul: vectors promoted, leading dims
 * broadcast): loop extents [lead..., m, n], the element strides of out, a and b over them, the
 * reduction length K and a's and b's strides along it.
 */
export function matmulLayout(aShape: number[], bShape: number[], outShape: number[]): { K: number; loop: number[]; out: number[]; a: number[]; b: number[]; ka: number; kb: number } {
  const ra = aShape.length;
  const rb = bShape.length;
  const K = aShape[ra - 1]!;
  const m = ra >= 2 ? aShape[ra - 2]! : 1;
  const nn = rb >= 2 ? bShape[rb - 1]! : 1;
  const lead = outShape.slice(0, outShape.length - (ra >= 2 ? 1 : 0) - (rb >= 2 ? 1 : 0));
  const ast = stridesOf(aShape);
  const bst = stridesOf(bShape);
  const leadStrides = (l: number[], st: number[]) => bcastStrides(l, lead).map((s, i) => (s === 0 ? 0 : st[i - (lead.length - l.length)]!));
  return {
    K,
    loop: [...lead, m, nn],
    out: stridesOf([...lead, m, nn]),
    a: [...leadStrides(aShape.slice(0, Math.max(0, ra - 2)), ast), ra >= 2 ? ast[ra - 2]! : 0, 0],
    b: [...leadStrides(bShape.slice(0, Math.max(0, rb - 2)), bst), 0, rb >= 2 ? bst[rb - 1]! : 0],
    ka: 1,
    kb: rb >= 2 ? bst[rb - 2]! : 1,
  };
}

/** Strides of `shape` broadcast (right-aligned) against `out`. */
export function bcastStrides(shape: number[], out: number[]): number[] {
  const st = stridesOf(shape);
  const off = out.length - shape.length;
  return out.map((d, i) => {
    const j = i - off;
    if (j < 0) return 0;
    return shape[j] === 1 && d !== 1 ? 0 : st[j]!;
  });
}

/** A load of a value with strides over the loop domain (the per-sample shape of the fused expression). */
interface Leaf {
  v: ValuePlan;
  strides: number[];
}

type Node = { k: "leaf"; i: number } | { k: "op"; e: Eqn; kids: Node[] };

/** The expression tree of an elementwise eqn, inlining fused producers (same shape as the domain). */
function treeOf(em: Emitter, e: Eqn, plan: GraphPlan, leaves: Leaf[]): Node {
  const kids = e.args.map((name): Node => {
    const producer = em.fused.get(name);
    if (producer) return treeOf(em, producer, plan, leaves);
    const v = plan.values.get(name)!;
    leaves.push({ v, strides: bcastStrides(v.shape, e.shape as number[]) });
    return { k: "leaf", i: leaves.length - 1 };
  });
  return { k: "op", e, kids };
}

function evalTree(em: Emitter, node: Node, leaves: Leaf[], idx: string[], stmts: string[]): string {
  if (node.k === "leaf") return `${storeName(leaves[node.i]!.v)}[${idx[node.i]}]`;
  const kids = node.kids.map((k) => evalTree(em, k, leaves, idx, stmts));
  const { e } = node;
  if (e.op === "broadcast") return kids[0]!;
  const v = em.fresh("v");
  if (isBinary(e.op)) stmts.push(`const ${v} = ${binaryExpr(em, e.op, kids[0]!, kids[1]!)};`);
  else {
    let x = kids[0]!;
    if (!/^[A-Za-z_$][\w$]*$/.test(x)) {
      const u = em.fresh("u");
      stmts.push(`const ${u} = ${x};`);
      x = u;
    }
    stmts.push(`const ${v} = ${unaryExpr(em, e, x)};`);
  }
  return v;
}

/** Emits one eqn (not noise, not reshape). `tiled`: inside the tile loop (batched eqn). */
function emitEqn(em: Emitter, e: Eqn, plan: GraphPlan, tiled: boolean, where: string): string {
  const out = plan.values.get(e.out)!;
  const args = e.args.map((a) => plan.values.get(a)!);
  const O = storeName(out);
  const shape = out.shape;
  const bdim: Ext[] = tiled ? ["n"] : [];
  const bs = (v: ValuePlan): number[] => (tiled ? [v.batched ? v.size : 0] : []);
  const accOf = (v: ValuePlan, strides: number[], extra = 0): Acc => {
    const b = baseOf(v, tiled);
    return { arr: storeName(v), base: extra === 0 ? b : b === "0" ? String(extra) : `${b} + ${extra}`, strides: [...bs(v), ...strides] };
  };
  const outAcc = accOf(out, stridesOf(shape));
  const ext: Ext[] = [...bdim, ...shape];

  if (isBinary(e.op) || isUnary(e.op) || e.op === "broadcast") {
    const leaves: Leaf[] = [];
    const root = treeOf(em, e, plan, leaves);
    const accs = [outAcc, ...leaves.map((l) => accOf(l.v, l.strides))];
    return loopNest(em, ext, accs, ([io, ...il]) => {
      const stmts: string[] = [];
      const r = evalTree(em, root, leaves, il, stmts);
      return `${stmts.join(" ")}${stmts.length ? "\n" : ""}${O}[${io}] = ${r};`;
    });
  }
  if (isReduce(e.op)) {
    const a = args[0]!;
    const axes = reduceAxes(e, a.shape.length, where);
    const kept = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const count = axes.reduce((p, i) => p * a.shape[i]!, 1);
    // the reduced operand, with its own fused producers inlined
    const leaves: Leaf[] = [];
    const producer = em.fused.get(a.name);
    const root: Node = producer ? treeOf(em, producer, plan, leaves) : (leaves.push({ v: a, strides: stridesOf(a.shape) }), { k: "leaf", i: 0 });
    const outer = leaves.map((l) => accOf(l.v, kept.map((i) => l.strides[i]!)));
    const [init, step, fin] =
      e.op === "reduce_sum" ? ["0", (x: string) => `acc += ${x};`, "acc"]
      : e.op === "reduce_mean" ? ["0", (x: string) => `acc += ${x};`, `acc / ${count}`]
      : e.op === "reduce_max" ? ["-Infinity", (x: string) => `acc = Math.max(acc, ${x});`, "acc"]
      : ["Infinity", (x: string) => `acc = Math.min(acc, ${x});`, "acc"];
    return loopNest(em, [...bdim, ...kept.map((i) => a.shape[i]!)], [outAcc, ...outer], ([io, ...il]) => {
      const inner = loopNest(em, axes.map((i) => a.shape[i]!), leaves.map((l, j) => ({ arr: storeName(l.v), base: il[j]!, strides: axes.map((i) => l.strides[i]!) })), (jl) => {
        const stmts: string[] = [];
        const r = evalTree(em, root, leaves, jl, stmts);
        return `${stmts.join(" ")}${stmts.length ? "\n" : ""}${step(r)}`;
      });
      return `let acc = ${init};\n${inner}\n${O}[${io}] = ${fin};`;
    });
  }
  switch (e.op) {
    case "slice": {
      const a = args[0]!;
      const { axis, start } = sliceBounds(e, a.shape, where);
      const st = stridesOf(a.shape);
      return loopNest(em, ext, [outAcc, accOf(a, st, start * st[axis]!)], ([io, ia]) => `${O}[${io}] = ${storeName(a)}[${ia}];`);
    }
    case "pad": {
      // zeros everywhere, then the operand at `start` along `axis` (the adjoint of slice)
      const a = args[0]!;
      const axis = numAttr(e, "axis", where);
      const start = numAttr(e, "start", where);
      const ost = stridesOf(shape);
      const shift = start * ost[axis]!;
      const part = { ...outAcc, base: shift === 0 ? outAcc.base : outAcc.base === "0" ? String(shift) : `${outAcc.base} + ${shift}` };
      const zero = loopNest(em, ext, [outAcc], ([io]) => `${O}[${io}] = 0;`);
      const copy = loopNest(em, [...bdim, ...a.shape], [part, accOf(a, stridesOf(a.shape))], ([io, ia]) => `${O}[${io}] = ${storeName(a)}[${ia}];`);
      return `${zero}\n${copy}`;
    }
    case "transpose": {
      const a = args[0]!;
      const perm = transposePerm(e, a.shape.length, where);
      const st = stridesOf(a.shape);
      return loopNest(em, ext, [outAcc, accOf(a, perm.map((p) => st[p]!))], ([io, ia]) => `${O}[${io}] = ${storeName(a)}[${ia}];`);
    }
    case "concat": {
      const axis = concatAxis(e, shape.length, where);
      const ost = stridesOf(shape);
      let offset = 0;
      const parts: string[] = [];
      for (const a of args) {
        const shift = offset * ost[axis]!;
        const part = { ...outAcc, base: shift === 0 ? outAcc.base : outAcc.base === "0" ? String(shift) : `${outAcc.base} + ${shift}` };
        parts.push(loopNest(em, [...bdim, ...a.shape], [part, accOf(a, stridesOf(a.shape))], ([io, ia]) => `${O}[${io}] = ${storeName(a)}[${ia}];`));
        offset += a.shape[axis]!;
      }
      return parts.join("\n");
    }
    case "matmul": {
      const [a, b] = args as [ValuePlan, ValuePlan];
      const { K, loop, out: oStrides, a: aStrides, b: bStrides, ka, kb } = matmulLayout(a.shape, b.shape, shape);
      const A = storeName(a);
      const B = storeName(b);
      return loopNest(em, [...bdim, ...loop], [{ ...outAcc, strides: [...bs(out), ...oStrides] }, accOf(a, aStrides), accOf(b, bStrides)], ([io, ia, ib]) => {
        const k = em.fresh("k");
        return `let acc = 0;\nfor (let ${k} = 0; ${k} < ${K}; ${k}++) acc += ${A}[${term(ia!, k, ka)}] * ${B}[${term(ib!, k, kb)}];\n${O}[${io}] = acc;`;
      });
    }
    case "const": {
      const v = lit(numAttr(e, "value", where));
      return loopNest(em, ext, [outAcc], ([io]) => `${O}[${io}] = ${v};`);
    }
    case "eye": {
      const [r, c] = shape as [number, number];
      const i = em.fresh("i");
      return `for (let ${i} = 0; ${i} < ${r * c}; ${i}++) ${O}[${i}] = 0;\nfor (let ${i} = 0; ${i} < ${Math.min(r, c)}; ${i}++) ${O}[${i} * ${c + 1}] = 1;`;
    }
    case "dale_sign": {
      const n = shape[0]!;
      const k = Math.round(numAttr(e, "excitatory", where) * n);
      const i = em.fresh("i");
      return `for (let ${i} = 0; ${i} < ${n}; ${i}++) ${O}[${i}] = ${i} < ${k} ? 1 : -1;`;
    }
  }
  throw new InterpError(`${where}: op '${e.op}' is not supported by the interpreter`);
}

/**
 * JavaScript source of a GenFactory body for `plan` with the given tile size.
 * `commits` lists [in X index, out X index, size] pairs copied by `commit(nb)`.
 */
export function generateSource(plan: GraphPlan, tile: number, commits: [number, number, number][]): string {
  const em = new Emitter();
  const where = (e: Eqn) => `${plan.graph}: ${e.out}`;
  const block = (code: string) => `{\n${code}\n}`;
  const hoist = plan.hoisted.map((e) => block(emitEqn(em, e, plan, false, where(e)))).join("\n");
  const noise = plan.noise.map((e) => {
    const v = plan.values.get(e.out)!;
    const i = em.fresh("i");
    const en = em.fresh("e");
    return `for (let ${i} = 0, ${en} = nb * ${v.size}; ${i} < ${en}; ${i}++) ${storeName(v)}[${i}] = rng.normal();`;
  }).join("\n");
  em.fused = plan.fused;
  const tiled = plan.batched.filter((e) => !em.fused.has(e.out)).map((e) => block(emitEqn(em, e, plan, true, where(e))));
  for (const o of plan.outputs) {
    if (o.direct) continue;
    const src = o.src;
    const dst: Acc = { arr: `x${o.x}`, base: o.size === 1 ? "o" : `o * ${o.size}`, strides: [o.size, 1] };
    const from: Acc = { arr: storeName(src), base: baseOf(src, true), strides: [src.batched ? src.size : 0, 1] };
    tiled.push(loopNest(em, ["n", o.size], [dst, from], ([a, b]) => `${dst.arr}[${a}] = ${from.arr}[${b}];`));
  }
  const commit = commits.map(([xi, xo, size]) => {
    const i = em.fresh("i");
    const en = em.fresh("e");
    return `{ const a = X[${xi}], b = X[${xo}]; for (let ${i} = 0, ${en} = nb * ${size}; ${i} < ${en}; ${i}++) a[${i}] = b[${i}]; }`;
  }).join("\n");
  const locals = (body: string, withRng: boolean): string => {
    const used = new Set(body.match(/\b[pxth]\d+\b/g) ?? []);
    const decl = [...used].sort().map((u) => `${u} = ${u[0]!.toUpperCase()}[${u.slice(1)}]`);
    return (decl.length ? `const ${decl.join(", ")};\n` : "") + (withRng ? "const rng = ctx.rng;\n" : "");
  };
  const runBody = `${noise}\nfor (let o = 0; o < nb; o += ${tile}) {\nconst n = nb - o < ${tile} ? nb - o : ${tile};\n${tiled.join("\n")}\n}`;
  const helpers = [...em.helpers].map((h) => HELPERS[h]!).join("\n");
  return `"use strict";
${helpers}
function hoist() {
${locals(hoist, false)}${hoist}
}
function run(nb) {
${locals(runBody, plan.noise.length > 0)}${runBody}
}
function commit(nb) {
${commit}
}
return { hoist, run, commit };`;
}

const factoryCache = new Map<string, GenFactory>();

/** Compiles (and caches by source text) the factory of a planned graph. */
export function compileFactory(plan: GraphPlan, tile: number, commits: [number, number, number][], dtype: string): GenFactory {
  const src = generateSource(plan, tile, commits);
  // One compiled function per dtype: closures of one function share V8's type feedback, so mixing
  // Float32Array and Float64Array buffers in them would make every access polymorphic.
  const key = `${dtype}\n${src}`;
  let f = factoryCache.get(key);
  if (!f) {
    f = new Function("P", "X", "T", "H", "ctx", src) as GenFactory;
    if (factoryCache.size > 256) factoryCache.clear();
    factoryCache.set(key, f);
  }
  return f;
}

