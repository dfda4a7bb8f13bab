// WebAssembly SIMD code generation for the batched part of one planned graph (interp/plan.ts).
//
// Layout: the batch is the innermost axis. A batched value of per-sample size S is S rows of `lanes`
// float32s (lanes = the capacity rounded up to whole vectors), so every per-sample operation of the
// IR becomes, for each element position, a few f32x4 operations over the batch; an unbatched value
// (a parameter or a hoisted function of parameters) is one float32 per element, splatted. The
// per-sample loops have their dims baked in and their pointers strength-reduced; the vectors of
// one batch row are unrolled. Elementwise chains fused by the planner stay in registers.
//
// Transcendental functions (tanh, exp, log, sigmoid, softplus, pow) are called per lane from the
// host's Math, in float64, so they agree with the interpreter to float32 rounding.
import type { Eqn } from "../../ir/types.js";
import { bcastStrides, matmulLayout } from "../interp/codegen.js";
import { InterpError } from "../interp/errors.js";
import { concatAxis, isBinary, isReduce, isUnary, numAttr, reduceAxes, sliceBounds, stridesOf, transposePerm, type GraphPlan, type ValuePlan } from "../interp/plan.js";
import { encodeModule, FnBuilder, type ImportFn } from "./encoder.js";

/** Byte addresses of a graph's buffers in the shared memory. */
export interface WasmLayout {
  /** float32 lanes per batch row (a multiple of 4): `models` blocks of `modelLanes` */
  lanes: number;
  /**
   * Ensembles: independent models side by side on the lanes, model e on lanes
   * [e modelLanes, (e + 1) modelLanes), each with its own copy of every P and H buffer (copy e at
   * buffer + e * its stride). One model: models = 1, modelLanes = lanes.
   */
  models: number;
  modelLanes: number;
  /** byte distance between the models' copies of each P and H buffer */
  pStride: number[];
  hStride: number[];
  /** P and H buffers (unbatched float32) */
  p: number[];
  h: number[];
  /** T buffers (batched) */
  t: number[];
  /** address of the i32 table holding each X buffer's current address (attachable) */
  xTable: number;
  /**
   * Accumulated outputs summed over the lanes: the address of a row of `lanes` lane masks (all
   * bits set on a model's real samples, clear on padding). An accumulated output (a parameter's
   * cotangent) is then four float32 per element and model (model m's element i at its buffer +
   * 16 (m size + i)), each step adding the model's masked vectors; the host adds the four. Without
   * it, each lane accumulates its own (a row of lanes per element: far more memory traffic).
   */
  laneMask?: number;
}

export const IMPORTS: ImportFn[] = [
  { name: "tanh", params: ["f64"], result: "f64" },
  { name: "exp", params: ["f64"], result: "f64" },
  { name: "log", params: ["f64"], result: "f64" },
  { name: "sigm", params: ["f64"], result: "f64" },
  { name: "softplus", params: ["f64"], result: "f64" },
  { name: "pw", params: ["f64", "f64"], result: "f64" },
];
const IMPORT_INDEX = new Map(IMPORTS.map((f, i) => [f.name, i]));
/** v128 registers a contraction block may hold (accumulators and cached leaves); x64 has 16. */
const CONTRACTION_REGISTERS = 12;

/** The last dim longer than 1 (-1 when none): the one a loop nest runs innermost. */
function lastLongDim(ext: number[]): number {
  for (let i = ext.length - 1; i >= 0; i--) if (ext[i]! > 1) return i;
  return -1;
}

/** An address: `local` (or 0 when null) plus a static byte offset. */
interface Ptr {
  local: number | null;
  off: number;
}

/** One memory access pattern: a base address, batched or not, byte strides per loop dim. */
interface Access {
  base: Ptr;
  batched: boolean;
  strides: number[];
  /** byte distance to the next model's copy (unbatched values of ensembles) */
  model: number;
}

type Node = { k: "leaf"; i: number } | { k: "const"; v: number } | { k: "op"; e: Eqn; kids: Node[] };

class Gen {
  readonly f: FnBuilder;
  private readonly xLocal: number[] = [];
  /** v128 temporaries, reused across eqns (acquire/release like a stack) */
  private readonly vPool: number[] = [];
  private vUsed = 0;
  private readonly iPool: number[] = [];
  private iUsed = 0;
  readonly vectors: number;
  readonly unroll: number;

  constructor(readonly plan: GraphPlan, readonly layout: WasmLayout, readonly accumulate: Set<number>) {
    this.f = new FnBuilder("run", []);
    this.vectors = layout.modelLanes / 4;
    // unroll a whole batch row when it is at most 8 vectors, else blocks of a divisor ≤ 8
    let u = Math.min(this.vectors, 8);
    while (this.vectors % u !== 0) u--;
    this.unroll = u;
    for (let i = 0; i < plan.x.length; i++) {
      const l = this.f.local("i32");
      this.f.i32(0).mem("i32.load", layout.xTable + 4 * i, 2).set(l);
      this.xLocal.push(l);
    }
  }

  vtemp(): number {
    if (this.vUsed === this.vPool.length) this.vPool.push(this.f.local("v128"));
    return this.vPool[this.vUsed++]!;
  }

  vrelease(n = 1): void {
    this.vUsed -= n;
  }

  itemp(): number {
    if (this.iUsed === this.iPool.length) this.iPool.push(this.f.local("i32"));
    return this.iPool[this.iUsed++]!;
  }

  irelease(n = 1): void {
    this.iUsed -= n;
  }

  base(v: ValuePlan): Ptr {
    const { cls, idx } = v.store;
    if (cls === "X") return { local: this.xLocal[idx]!, off: 0 };
    if (cls === "T" && idx >= 0) return { local: null, off: this.layout.t[idx]! };
    if (cls === "P") return { local: null, off: this.layout.p[idx]! };
    if (cls === "H") return { local: null, off: this.layout.h[idx]! };
    throw new InterpError(`${this.plan.graph}: value ${v.name} has no buffer`);
  }

  /** An access of `v` with per-sample element strides (over the loop dims) and an element offset. */
  access(v: ValuePlan, strides: number[], offset = 0): Access {
    const { cls, idx } = v.store;
    // an accumulated output summed over the lanes: one copy per model, not one value per lane
    const reduced = v.batched && cls === "X" && this.reduced(idx);
    const batched = v.batched && !reduced;
    const bytes = batched ? this.layout.lanes * 4 : reduced ? 16 : 4;
    const b = this.base(v);
    const model = reduced ? v.size * 16 : batched ? 0 : cls === "P" ? this.layout.pStride[idx]! : cls === "H" ? this.layout.hStride[idx]! : 0;
    return { base: { local: b.local, off: b.off + offset * bytes }, batched, strides: strides.map((s) => s * bytes), model };
  }

  /** Whether X buffer x is an accumulated output summed over the lanes. */
  reduced(x: number): boolean {
    return this.layout.laneMask !== undefined && this.accumulate.has(x);
  }

  /** The lane masks, as an access that moves with the lane blocks (and not with `dims` element dims). */
  maskAccess(dims: number): Access {
    return { base: { local: null, off: this.layout.laneMask! }, batched: true, strides: new Array<number>(dims).fill(0), model: 0 };
  }

  /**
   * Adds the values `value(v)` pushes (vectors v of the block, masked to the model's real samples),
   * summed over the vectors, to the four-lane accumulator at `p`: the host adds its four lanes.
   */
  reduceStore(p: Ptr, mask: Ptr, value: (v: number) => void, unroll = this.unroll, maskCache?: number[]): void {
    const f = this.f;
    this.pushAddr(p);
    this.pushAddr(p);
    f.mem("v128.load", p.off, 4);
    for (let v = 0; v < unroll; v++) {
      value(v);
      if (maskCache) f.get(maskCache[v]!);
      else {
        this.pushAddr(mask);
        f.mem("v128.load", mask.off + 16 * v, 4);
      }
      f.op("v128.and").op("f32x4.add");
    }
    f.mem("v128.store", p.off, 4);
  }

  pushAddr(p: Ptr): void {
    if (p.local === null) this.f.i32(0);
    else this.f.get(p.local);
  }

  /**
   * Loops over `ext` (outermost first; size-1 dims dropped, contiguous dims merged) with one
   * strength-reduced pointer per moving access; `body` gets the current pointers.
   */
  nest(ext: number[], accs: Access[], body: (ptrs: Ptr[]) => void): void {
    const dims: { e: number; s: number[] }[] = [];
    ext.forEach((e, d) => {
      if (e === 1) return;
      const s = accs.map((a) => a.strides[d]!);
      const last = dims[dims.length - 1];
      if (last && last.s.every((x, k) => x === s[k]! * e)) {
        last.e *= e;
        last.s = s;
      } else dims.push({ e, s });
    });
    if (ext.some((e) => e === 0)) return;
    this.loops(dims, accs.map((a) => a.base), body);
  }

  private loops(dims: { e: number; s: number[] }[], ptrs: Ptr[], body: (ptrs: Ptr[]) => void): void {
    if (dims.length === 0) {
      body(ptrs);
      return;
    }
    const [d, ...rest] = dims as [{ e: number; s: number[] }, ...{ e: number; s: number[] }[]];
    const f = this.f;
    let used = 0;
    const inner = ptrs.map((p, k) => {
      if (d.s[k] === 0) return p;
      const q = this.itemp();
      used++;
      this.pushAddr(p);
      if (p.off !== 0) f.i32(p.off).op("i32.add");
      f.set(q);
      return { local: q, off: 0 };
    });
    const c = this.itemp();
    used++;
    f.i32(0).set(c).loop();
    this.loops(rest, inner, body);
    inner.forEach((p, k) => {
      if (d.s[k] === 0) return;
      f.get(p.local!).i32(d.s[k]!).op("i32.add").set(p.local!);
    });
    f.get(c).i32(1).op("i32.add").tee(c).i32(d.e).op("i32.lt_s").brIf(0).end();
    this.irelease(used);
  }

  /**
   * The loop dims over the unrolled blocks of a batch row: the models, then the blocks of one
   * model's lanes (size-1 dims vanish). Unbatched values move to the next model's copy.
   */
  laneBlock(accs: Access[], unroll = this.unroll): { ext: number[]; accs: Access[] } {
    const blocks = this.vectors / unroll;
    const modelBytes = this.layout.modelLanes * 4;
    return {
      ext: [this.layout.models, blocks],
      accs: accs.map((a) => ({ ...a, strides: a.batched ? [modelBytes, unroll * 16] : [a.model, 0] })),
    };
  }

  /** The largest divisor of a row's vectors that is at most `max` (a block that fits the registers). */
  unrollAtMost(max: number): number {
    let u = Math.min(this.unroll, max);
    while (this.vectors % u !== 0) u--;
    return u;
  }

  /** Loads the vectors 0..unroll-1 of a batched leaf into temporaries (to reuse across a loop). */
  cacheLeaf(p: Ptr, unroll: number): number[] {
    return Array.from({ length: unroll }, (_, v) => {
      const t = this.vtemp();
      this.pushAddr(p);
      this.f.mem("v128.load", p.off + 16 * v, 4).set(t);
      return t;
    });
  }

  /** Splats every unbatched leaf once into a temporary; returns the temporaries (by leaf). */
  splats(leaves: Access[], ptrs: Ptr[]): (number | null)[] {
    return leaves.map((a, i) => {
      if (a.batched) return null;
      const t = this.vtemp();
      this.pushAddr(ptrs[i]!);
      this.f.mem("v128.load32_splat", ptrs[i]!.off, 2).set(t);
      return t;
    });
  }

  loadLeaf(a: Access, p: Ptr, splat: number | null, vec: number, cached?: number[] | null): void {
    if (splat !== null) this.f.get(splat);
    else if (cached) this.f.get(cached[vec]!);
    else {
      this.pushAddr(p);
      this.f.mem("v128.load", p.off + 16 * vec, 4);
    }
  }

  /** Pushes the value of `node` for vector `vec` of the current block. */
  evalTree(node: Node, leaves: Access[], ptrs: Ptr[], splat: (number | null)[], vec: number, cache: (number[] | null)[] = []): void {
    const f = this.f;
    if (node.k === "leaf") {
      this.loadLeaf(leaves[node.i]!, ptrs[node.i]!, splat[node.i]!, vec, cache[node.i]);
      return;
    }
    if (node.k === "const") {
      f.f32x4(node.v);
      return;
    }
    const { e } = node;
    const kid = (i: number) => this.evalTree(node.kids[i]!, leaves, ptrs, splat, vec, cache);
    if (e.op === "broadcast") return kid(0);
    if (isBinary(e.op)) {
      if (e.op === "pow") {
        const a = this.vtemp();
        kid(0);
        f.set(a);
        const b = this.vtemp();
        kid(1);
        f.set(b);
        this.perLane("pw", [a, b]);
        this.vrelease(2);
        return;
      }
      kid(0);
      kid(1);
      const simd: Record<string, string> = { add: "f32x4.add", sub: "f32x4.sub", mul: "f32x4.mul", div: "f32x4.div", maximum: "f32x4.max", minimum: "f32x4.min" };
      f.op(simd[e.op]!);
      return;
    }
    kid(0);
    switch (e.op) {
      case "neg": f.op("f32x4.neg"); return;
      case "abs": f.op("f32x4.abs"); return;
      case "sqrt": f.op("f32x4.sqrt"); return;
      // pmax(x, c) = x < c ? c : x and pmin(x, c) = c < x ? c : x are one instruction each on x64
      // (max/min are eight: they order -0 below +0). A NaN x stays NaN; only relu(-0) = -0 differs.
      case "relu": f.f32x4(0).op("f32x4.pmax"); return;
      case "clip": f.f32x4(numAttr(e, "lo", e.out)).op("f32x4.pmax").f32x4(numAttr(e, "hi", e.out)).op("f32x4.pmin"); return;
      case "square": {
        const t = this.vtemp();
        f.tee(t).get(t).op("f32x4.mul");
        this.vrelease();
        return;
      }
      case "sign":
      case "heaviside": {
        if (e.op === "heaviside" && numAttr(e, "at0", e.out) === 0) {
          // a ReLU's derivative: the bits of 1.0 where x > 0 (a NaN gives 0, as below)
          f.f32x4(0).op("f32x4.gt").f32x4(1).op("v128.and");
          return;
        }
        // x > 0 ? 1 : x < 0 ? (sign: -1, heaviside: 0) : (sign: x, heaviside: at0)
        const t = this.vtemp();
        f.set(t);
        f.f32x4(1);
        f.f32x4(e.op === "sign" ? -1 : 0);
        if (e.op === "sign") f.get(t);
        else f.f32x4(numAttr(e, "at0", e.out));
        f.get(t).f32x4(0).op("f32x4.lt").op("v128.bitselect");
        f.get(t).f32x4(0).op("f32x4.gt").op("v128.bitselect");
        this.vrelease();
        return;
      }
      case "exp": {
        const t = this.vtemp();
        f.set(t);
        this.simdExp(t);
        this.vrelease();
        return;
      }
      case "sigmoid": {
        // 1 / (1 + exp(-x))
        const t = this.vtemp();
        f.op("f32x4.neg").set(t);
        f.f32x4(1);
        this.simdExp(t);
        f.f32x4(1).op("f32x4.add").op("f32x4.div");
        this.vrelease();
        return;
      }
      case "tanh": {
        this.simdTanh();
        return;
      }
      case "log": case "softplus": {
        const t = this.vtemp();
        f.set(t);
        this.perLane(e.op, [t]);
        this.vrelease();
        return;
      }
    }
    throw new InterpError(`${this.plan.graph}: op '${e.op}' has no WebAssembly form`);
  }

  /**
   * exp of the vector in temporary `x` (clobbered), pushed on the stack: Cody–Waite reduction
   * x = n ln 2 + r and Cephes' degree-6 polynomial for exp(r) (≈1 ulp in float32), times 2^n
   * built in the exponent bits. Inputs are clamped to float32's finite range of exp.
   */
  simdExp(x: number): void {
    const f = this.f;
    const n = this.vtemp();
    const r = this.vtemp();
    f.get(x).f32x4(-87.33654).op("f32x4.pmax").f32x4(88.72283).op("f32x4.pmin").set(x);
    f.get(x).f32x4(1.44269504088896341).op("f32x4.mul").op("f32x4.nearest").set(n);
    f.get(x).get(n).f32x4(0.693359375).op("f32x4.mul").op("f32x4.sub").get(n).f32x4(-2.12194440e-4).op("f32x4.mul").op("f32x4.sub").set(r);
    // p(r) = ((((c0 r + c1) r + c2) r + c3) r + c4) r + c5;  exp(r) ≈ p r² + r + 1
    f.get(r).f32x4(1.9875691500e-4).op("f32x4.mul");
    for (const c of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1]) f.f32x4(c).op("f32x4.add").get(r).op("f32x4.mul");
    f.f32x4(5.0000001201e-1).op("f32x4.add").get(r).op("f32x4.mul").get(r).op("f32x4.mul");
    f.get(r).op("f32x4.add").f32x4(1).op("f32x4.add");
    // 2^n: (n + 127) << 23 as float bits; n ∈ [-126, 128] after the clamp
    f.get(n).op("i32x4.trunc_sat_f32x4_s").i32(127).op("i32x4.splat").op("i32x4.add").i32(23).op("i32x4.shl");
    f.op("f32x4.mul");
    this.vrelease(2);
  }

  /**
   * tanh of the vector on the stack: Cephes' odd polynomial below |x| = 0.625, else
   * sign(x) (1 − 2 / (exp(2|x|) + 1)); both computed, the right one selected per lane.
   */
  simdTanh(): void {
    const f = this.f;
    const x = this.vtemp();
    const a = this.vtemp();
    const z = this.vtemp();
    f.set(x);
    f.get(x).op("f32x4.abs").set(a);
    // large: 1 - 2 / (exp(2|x|) + 1), with the sign of x
    const e = this.vtemp();
    f.get(a).f32x4(2).op("f32x4.mul").set(e);
    f.f32x4(1).f32x4(2);
    this.simdExp(e);
    f.f32x4(1).op("f32x4.add").op("f32x4.div").op("f32x4.sub");
    f.get(x).f32x4(-0).op("v128.and").op("v128.or");
    // small: x + x z (((( c0 z + c1) z + c2) z + c3) z + c4), z = x²
    f.get(x).get(x).op("f32x4.mul").set(z);
    f.get(z).f32x4(-5.70498872745e-3).op("f32x4.mul");
    for (const c of [2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1]) f.f32x4(c).op("f32x4.add").get(z).op("f32x4.mul");
    f.f32x4(-3.33332819422e-1).op("f32x4.add").get(z).op("f32x4.mul").get(x).op("f32x4.mul").get(x).op("f32x4.add");
    // stack: large, small → select small where |x| < 0.625: bitselect(small, large, mask)
    f.set(z);
    f.set(e);
    f.get(z).get(e).get(a).f32x4(0.625).op("f32x4.lt").op("v128.bitselect");
    this.vrelease(4);
  }

  /** Calls a host function on each of the four lanes of the given vector temporaries. */
  private perLane(fn: string, args: number[]): void {
    const f = this.f;
    f.get(args[0]!);
    for (let lane = 0; lane < 4; lane++) {
      for (const a of args) f.get(a).lane("f32x4.extract_lane", lane).op("f64.promote_f32");
      f.call(IMPORT_INDEX.get(fn)!, fn).op("f32.demote_f64").lane("f32x4.replace_lane", lane);
    }
  }

  /** Stores (or adds into, for accumulated outputs) the value `value` pushes at `p` + vector `vec`. */
  store(p: Ptr, vec: number, acc: boolean, value: () => void): void {
    this.pushAddr(p);
    if (acc) {
      this.pushAddr(p);
      this.f.mem("v128.load", p.off + 16 * vec, 4);
    }
    value();
    if (acc) this.f.op("f32x4.add");
    this.f.mem("v128.store", p.off + 16 * vec, 4);
  }

  /** out[...] = tree(leaves) over `ext` (the output's per-sample shape) and the batch. */
  elementwise(out: Access, acc: boolean, ext: number[], leaves: Access[], root: Node): void {
    // a lane-summed output: the lane masks ride along as the last access
    const reduce = acc && !out.batched;
    const all = reduce ? [out, ...leaves, this.maskAccess(ext.length)] : [out, ...leaves];
    const d = lastLongDim(ext);
    if (reduce && d >= 0 && leaves.some((a) => a.batched && a.strides[d] === 0)) {
      this.reduceAlongLastDim(ext, d, all, leaves, root);
      return;
    }
    const lb = this.laneBlock(all);
    this.nest(ext, all, ([po, ...pl]) => {
      this.nest(lb.ext, [{ ...lb.accs[0]!, base: po! }, ...lb.accs.slice(1).map((a, i) => ({ ...a, base: pl[i]! }))], ([qo, ...ql]) => {
        const sp = this.splats(leaves, ql);
        if (reduce) this.reduceStore(qo!, ql[leaves.length]!, (v) => this.evalTree(root, leaves, ql, sp, v));
        else for (let v = 0; v < this.unroll; v++) this.store(qo!, v, acc, () => this.evalTree(root, leaves, ql, sp, v));
        this.vrelease(sp.filter((s) => s !== null).length);
      });
    });
  }

  /**
   * A lane-summed elementwise output (a parameter's cotangent, e.g. the outer product of two
   * per-sample vectors) whose batched leaves partly stay put along its last dim d: the lane blocks
   * loop outside d, so those leaves and the lane masks are loaded once per block and held in
   * registers while d runs. Each element's additions keep their order, so results are unchanged.
   */
  private reduceAlongLastDim(ext: number[], d: number, all: Access[], leaves: Access[], root: Node): void {
    const unroll = this.unrollAtMost(4);
    const rest = ext.map((e, i) => (i === d ? 1 : e));
    const lb = this.laneBlock(all, unroll);
    const m = leaves.length + 1;
    this.nest(rest, all, (po) => {
      this.nest(lb.ext, lb.accs.map((a, i) => ({ ...a, base: po[i]! })), (qo) => {
        const cache = leaves.map((a, i) => (a.batched && a.strides[d] === 0 ? this.cacheLeaf(qo[i + 1]!, unroll) : null));
        const masks = this.cacheLeaf(qo[m]!, unroll);
        this.nest([ext[d]!], all.map((a, i) => ({ ...a, base: qo[i]!, strides: [a.strides[d]!] })), ([ro, ...rl]) => {
          const sp = this.splats(leaves, rl);
          this.reduceStore(ro!, rl[leaves.length]!, (v) => this.evalTree(root, leaves, rl, sp, v, cache), unroll, masks);
          this.vrelease(sp.filter((s) => s !== null).length);
        });
        this.vrelease(unroll * (cache.filter((c) => c !== null).length + 1));
      });
    });
  }

  /**
   * out[outer] = combine over inner of tree(leaves): a reduction or a matrix product. `outer` and
   * `inner` are the loop extents; leaf accesses carry strides over outer dims then inner dims.
   *
   * Register blocking: when batched leaves stay put along the last outer dim d (the vector of a
   * matrix-vector product), `rows` consecutive outputs along d are computed together, so each
   * inner step loads those leaves once for all rows. Batched leaves that stay put along the inner
   * dims are loaded once before the inner loop. Blocks of at most 4 vectors keep the
   * accumulators and cached leaves in registers. Each output's additions keep their order.
   */
  contraction(out: Access, acc: boolean, outer: number[], inner: number[], leaves: Access[], root: Node, kind: { init: number; op: string; scale?: number }): void {
    const no = outer.length;
    const reduce = acc && !out.batched;
    const outerAccs = [out, ...leaves.map((a) => ({ ...a, strides: a.strides.slice(0, no) })), ...(reduce ? [this.maskAccess(no)] : [])];
    const d = lastLongDim(outer);
    const shared = leaves.map((a) => d >= 0 && a.batched && a.strides[d] === 0);
    const loops = inner.some((e) => e > 1);
    const invariant = leaves.map((a) => loops && a.batched && a.strides.slice(no).every((s) => s === 0));
    const sharedLoads = shared.filter((s, i) => s && !invariant[i]).length;
    const unroll = sharedLoads > 0 || invariant.some(Boolean) ? this.unrollAtMost(4) : this.unroll;
    // rows x unroll accumulators beside the shared leaves' vectors
    const rows = sharedLoads > 0 ? Math.min(outer[d]!, Math.max(1, Math.floor(CONTRACTION_REGISTERS / unroll) - sharedLoads)) : 1;
    // an invariant leaf that moves with the rows would need a register per row: load it per step
    const hoisted = invariant.map((h, i) => h && (rows === 1 || shared[i]!));
    const dStride = (a: Access) => (d >= 0 ? a.strides[d]! : 0);
    const shift = (p: Ptr, bytes: number): Ptr => ({ local: p.local, off: p.off + bytes });

    const block = (count: number, R: number, first: number) => {
      const ext = outer.map((e, i) => (i === d ? count : e));
      const accs0 = outerAccs.map((a) => ({ ...a, base: shift(a.base, first * dStride(a)), strides: a.strides.map((s, i) => (i === d ? s * R : s)) }));
      const lb = this.laneBlock(accs0, unroll);
      this.nest(ext, accs0, (po) => {
        this.nest(lb.ext, lb.accs.map((a, i) => ({ ...a, base: po[i]! })), ([qo, ...ql]) => {
          const accs = Array.from({ length: R }, () => Array.from({ length: unroll }, () => this.vtemp()));
          for (const a of accs.flat()) this.f.f32x4(kind.init).set(a);
          const innerAccs = leaves.map((a, i) => ({ ...a, base: ql[i]!, strides: a.strides.slice(no) }));
          const before = leaves.map((a, i) => (hoisted[i] ? this.cacheLeaf(ql[i]!, unroll) : null));
          this.nest(inner, innerAccs, (pi) => {
            const cache = leaves.map((a, i) => before[i] ?? (shared[i] && R > 1 ? this.cacheLeaf(pi[i]!, unroll) : null));
            for (let r = 0; r < R; r++) {
              const pr = pi.map((p, i) => shift(p, r * dStride(leaves[i]!)));
              const sp = this.splats(leaves, pr);
              accs[r]!.forEach((a, v) => {
                this.f.get(a);
                this.evalTree(root, leaves, pr, sp, v, cache);
                this.f.op(kind.op).set(a);
              });
              this.vrelease(sp.filter((s) => s !== null).length);
            }
            this.vrelease(unroll * cache.filter((c, i) => c !== null && before[i] === null).length);
          });
          this.vrelease(unroll * before.filter((c) => c !== null).length);
          for (let r = 0; r < R; r++) {
            const result = (v: number) => {
              this.f.get(accs[r]![v]!);
              if (kind.scale !== undefined) this.f.f32x4(kind.scale).op("f32x4.div");
            };
            const qr = shift(qo!, r * dStride(out));
            if (reduce) this.reduceStore(qr, ql[leaves.length]!, result, unroll);
            else for (let v = 0; v < unroll; v++) this.store(qr, v, acc, () => result(v));
          }
          this.vrelease(R * unroll);
        });
      });
    };
    const main = rows > 1 ? Math.floor(outer[d]! / rows) : d >= 0 ? outer[d]! : 1;
    block(main, rows, 0);
    if (rows > 1 && outer[d]! % rows > 0) block(1, outer[d]! % rows, main * rows);
  }

  treeOf(e: Eqn, leaves: ValuePlan[], strides: number[][]): Node {
    const kids = e.args.map((name): Node => {
      const producer = this.plan.fused.get(name);
      if (producer) return this.treeOf(producer, leaves, strides);
      const v = this.plan.values.get(name)!;
      leaves.push(v);
      strides.push(bcastStrides(v.shape, e.shape as number[]));
      return { k: "leaf", i: leaves.length - 1 };
    });
    return { k: "op", e, kids };
  }

  eqn(e: Eqn, acc: boolean): void {
    const where = `${this.plan.graph}: ${e.out}`;
    const out = this.plan.values.get(e.out)!;
    const args = e.args.map((a) => this.plan.values.get(a)!);
    const shape = out.shape;
    const oacc = this.access(out, stridesOf(shape));
    if (isBinary(e.op) || isUnary(e.op) || e.op === "broadcast") {
      const leaves: ValuePlan[] = [];
      const strides: number[][] = [];
      const root = this.treeOf(e, leaves, strides);
      this.elementwise(oacc, acc, shape, leaves.map((l, i) => this.access(l, strides[i]!)), root);
      return;
    }
    if (isReduce(e.op)) {
      const a = args[0]!;
      const axes = reduceAxes(e, a.shape.length, where);
      const kept = a.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const count = axes.reduce((p, i) => p * a.shape[i]!, 1);
      const leaves: ValuePlan[] = [];
      const strides: number[][] = [];
      const producer = this.plan.fused.get(a.name);
      let root: Node;
      if (producer) root = this.treeOf(producer, leaves, strides);
      else {
        leaves.push(a);
        strides.push(stridesOf(a.shape));
        root = { k: "leaf", i: 0 };
      }
      const order = [...kept, ...axes];
      const kind = e.op === "reduce_sum" ? { init: 0, op: "f32x4.add" }
        : e.op === "reduce_mean" ? { init: 0, op: "f32x4.add", scale: count }
        : e.op === "reduce_max" ? { init: -Infinity, op: "f32x4.max" }
        : { init: Infinity, op: "f32x4.min" };
      this.contraction(oacc, acc, kept.map((i) => a.shape[i]!), axes.map((i) => a.shape[i]!), leaves.map((l, i) => this.access(l, order.map((d) => strides[i]![d]!))), root, kind);
      return;
    }
    const copy = (dst: Access, src: Access, ext: number[]) => this.elementwise(dst, acc, ext, [src], { k: "leaf", i: 0 });
    switch (e.op) {
      case "slice": {
        const a = args[0]!;
        const { axis, start } = sliceBounds(e, a.shape, where);
        const st = stridesOf(a.shape);
        copy(oacc, this.access(a, st, start * st[axis]!), shape);
        return;
      }
      case "pad": {
        const a = args[0]!;
        const axis = numAttr(e, "axis", where);
        const start = numAttr(e, "start", where);
        const ost = stridesOf(shape);
        this.elementwise(oacc, acc, shape, [], { k: "const", v: 0 });
        copy(this.access(out, ost, start * ost[axis]!), this.access(a, stridesOf(a.shape)), a.shape);
        return;
      }
      case "transpose": {
        const a = args[0]!;
        const perm = transposePerm(e, a.shape.length, where);
        const st = stridesOf(a.shape);
        copy(oacc, this.access(a, perm.map((p) => st[p]!)), shape);
        return;
      }
      case "concat": {
        const axis = concatAxis(e, shape.length, where);
        const ost = stridesOf(shape);
        let offset = 0;
        for (const a of args) {
          copy(this.access(out, ost, offset * ost[axis]!), this.access(a, stridesOf(a.shape)), a.shape);
          offset += a.shape[axis]!;
        }
        return;
      }
      case "matmul": {
        const [a, b] = args as [ValuePlan, ValuePlan];
        const L = matmulLayout(a.shape, b.shape, shape);
        const outAcc = this.access(out, L.out);
        const aAcc = this.access(a, [...L.a, L.ka]);
        const bAcc = this.access(b, [...L.b, L.kb]);
        const mul: Eqn = { op: "mul", args: [a.name, b.name], out: e.out, shape: [] };
        this.contraction(outAcc, acc, L.loop, [L.K], [aAcc, bAcc], { k: "op", e: mul, kids: [{ k: "leaf", i: 0 }, { k: "leaf", i: 1 }] }, { init: 0, op: "f32x4.add" });
        return;
      }
    }
    throw new InterpError(`${where}: op '${e.op}' is not supported by the WebAssembly backend`);
  }

  /** Copies (or adds) an output's source value into its X buffer when the eqn did not write it there. */
  output(src: ValuePlan, x: number, n: number, acc: boolean): void {
    const dst: Access = this.reduced(x)
      ? { base: { local: this.xLocal[x]!, off: 0 }, batched: false, strides: [16], model: n * 16 }
      : { base: { local: this.xLocal[x]!, off: 0 }, batched: true, strides: [this.layout.lanes * 4], model: 0 };
    this.elementwise(dst, acc, [n], [this.access(src, [1])], { k: "leaf", i: 0 });
  }
}

export interface WasmCode {
  bytes: Uint8Array<ArrayBuffer>;
  wat: string;
}

/**
 * Generates `run()` for the batched part of `plan`: every non-fused batched eqn, then the outputs
 * not written in place. `accumulate` lists X buffers (by index) that outputs are added into.
 */
export function generateWasm(plan: GraphPlan, layout: WasmLayout, accumulate: Set<number>): WasmCode {
  if (layout.modelLanes % 4 !== 0 || layout.modelLanes <= 0) throw new InterpError(`wasm: lanes must be a positive multiple of 4, got ${layout.modelLanes}`);
  if (layout.lanes !== layout.models * layout.modelLanes) throw new InterpError(`wasm: ${layout.lanes} lanes are not ${layout.models} models of ${layout.modelLanes}`);
  const g = new Gen(plan, layout, accumulate);
  const direct = new Map(plan.outputs.filter((o) => o.direct).map((o) => [o.src.name, o.x]));
  for (const e of plan.batched) {
    if (plan.fused.has(e.out)) continue;
    const x = direct.get(e.out);
    g.eqn(e, x !== undefined && accumulate.has(x));
  }
  for (const o of plan.outputs) if (!o.direct) g.output(o.src, o.x, o.size, accumulate.has(o.x));
  return { bytes: encodeModule(IMPORTS, [g.f]), wat: g.f.wat() };
}
