// The whole-sequence driver of the fused tier in WebAssembly: the loop over time steps around the
// generated step graph (forward: teacher forcing, the step, the loss; backward: the loss's
// cotangent, the step's adjoint, the forcing's scaling), so a training batch makes two calls into
// WebAssembly instead of a few host calls per time step. Every buffer is a region of the shared
// memory addressed as base + t * stride; the step graphs read their buffers' addresses from their
// tables, which the driver rewrites before each call (no copies).
import { encodeModule, FnBuilder } from "./encoder.js";

/** A graph buffer pointed, at step t, at base + t * stride. */
export interface Binding {
  /** address of the table entry */
  entry: number;
  base: number;
  stride: number;
}

export interface DriverLayout {
  lanes: number;
  /** bindings rewritten before each forward / adjoint call */
  forward: Binding[];
  adjoint: Binding[];
  /** Teacher forcing: the forced units [start, stop) of a state's slots (base + t * stride). */
  forcing: {
    state: { base: number; stride: number };
    start: number;
    stop: number;
    /** teacher rows: base + t * stride, N rows of lanes floats; the forced units read rows 0.. */
    teacher: { base: number; stride: number };
    /** alpha per step (float32, 0 = not forced) */
    alpha: number;
  } | null;
  loss: {
    /** the observation the forward writes (fixed buffer) */
    pred: number;
    n: number;
    /** target rows: base + t * stride (already shifted to the step's target row) */
    target: { base: number; stride: number };
    /** per-element weights (task masks): base + t * stride; else one weight per lane */
    mask: { base: number; stride: number } | null;
    laneMask: number;
    l1: boolean;
    /** weighted errors (mse: w d, l1: w sign d): base + t * stride */
    err: { base: number; stride: number };
    /** two f32x4 accumulators: sum of weighted losses, sum of weights */
    sums: number;
    /** the adjoint's input for the observation's cotangent (fixed buffer) */
    ctPred: number;
    /** float32 scale of err into the cotangent (2 / denominator for mse) */
    scale: number;
  };
  /** per state: the adjoint's table entries of its cotangent input and output, two buffers to alternate */
  cotangents: { input: number; output: number | null; a: number; b: number; size: number }[];
  /** index in `cotangents` of the forced state */
  forcedCotangent: number;
}

export interface DriverCode {
  bytes: Uint8Array<ArrayBuffer>;
  wat: string;
}

/** Emits `table[entry] = base + t * stride` for each binding (t in local `t`). */
function bind(f: FnBuilder, t: number, bs: Binding[]): void {
  for (const b of bs) {
    f.i32(0).get(t);
    if (b.stride !== 1) f.i32(b.stride).op("i32.mul");
    if (b.base !== 0) f.i32(b.base).op("i32.add");
    f.mem("i32.store", b.entry, 2);
  }
}

/** Pushes base + t * stride. */
function addr(f: FnBuilder, t: number, r: { base: number; stride: number }): void {
  f.get(t).i32(r.stride).op("i32.mul").i32(r.base).op("i32.add");
}

export function generateDriver(L: DriverLayout): DriverCode {
  const vectors = L.lanes / 4;
  const rowBytes = L.lanes * 4;
  const RUN_FORWARD = 0;
  const RUN_ADJOINT = 1;

  // ---------------- forward(T) ----------------
  const fw = new FnBuilder("forward", ["i32"]);
  {
    const T = 0;
    const t = fw.local("i32");
    const p = fw.local("i32");
    const q = fw.local("i32");
    const a = fw.local("v128");
    const keep = fw.local("v128");
    const accL = fw.local("v128");
    const accW = fw.local("v128");
    const d = fw.local("v128");
    const w = fw.local("v128");
    fw.f32x4(0).set(accL).f32x4(0).set(accW);
    fw.i32(0).set(t).loop();
    if (L.forcing) {
      const F = L.forcing;
      // alpha > 0: z[units] = (1 - alpha) z + alpha teacher
      fw.get(t).i32(4).op("i32.mul").mem("f32.load", F.alpha, 2).f32(0).op("f32.gt").ifThen();
      fw.get(t).i32(4).op("i32.mul").mem("v128.load32_splat", F.alpha, 2).set(a);
      fw.f32x4(1).get(a).op("f32x4.sub").set(keep);
      addr(fw, t, F.state);
      fw.i32(F.start * rowBytes).op("i32.add").set(p);
      addr(fw, t, F.teacher);
      fw.set(q);
      for (let i = 0; i < F.stop - F.start; i++) for (let v = 0; v < vectors; v++) {
        const off = i * rowBytes + 16 * v;
        fw.get(p).get(p).mem("v128.load", off, 4).get(keep).op("f32x4.mul").get(q).mem("v128.load", off, 4).get(a).op("f32x4.mul").op("f32x4.add").mem("v128.store", off, 4);
      }
      fw.end();
    }
    bind(fw, t, L.forward);
    fw.call(RUN_FORWARD, "step forward");
    // loss of the observation against the target row
    const S = L.loss;
    addr(fw, t, S.target);
    fw.set(p);
    addr(fw, t, S.err);
    fw.set(q);
    const m = fw.local("i32");
    if (S.mask) {
      addr(fw, t, S.mask);
      fw.set(m);
    }
    for (let n = 0; n < S.n; n++) for (let v = 0; v < vectors; v++) {
      const off = n * rowBytes + 16 * v;
      fw.i32(0).mem("v128.load", S.pred + off, 4).get(p).mem("v128.load", off, 4).op("f32x4.sub").set(d);
      if (S.mask) fw.get(m).mem("v128.load", off, 4).set(w);
      else fw.i32(0).mem("v128.load", S.laneMask + 16 * v, 4).set(w);
      if (S.l1) {
        // err = w sign(d), sign(d) = d > 0 ? 1 : d < 0 ? -1 : 0; loss += w |d|
        fw.get(q).f32x4(1).f32x4(-1).f32x4(0).get(d).f32x4(0).op("f32x4.lt").op("v128.bitselect");
        fw.get(d).f32x4(0).op("f32x4.gt").op("v128.bitselect").get(w).op("f32x4.mul").mem("v128.store", off, 4);
        fw.get(accL).get(d).op("f32x4.abs").get(w).op("f32x4.mul").op("f32x4.add").set(accL);
      } else {
        fw.get(q).get(d).get(w).op("f32x4.mul").mem("v128.store", off, 4);
        fw.get(accL).get(d).get(d).op("f32x4.mul").get(w).op("f32x4.mul").op("f32x4.add").set(accL);
      }
      fw.get(accW).get(w).op("f32x4.add").set(accW);
    }
    fw.get(t).i32(1).op("i32.add").tee(t).get(T).op("i32.lt_s").brIf(0).end();
    fw.i32(0).get(accL).mem("v128.store", S.sums, 4);
    fw.i32(0).get(accW).mem("v128.store", S.sums + 16, 4);
  }

  // ---------------- backward(T) ----------------
  const bw = new FnBuilder("backward", ["i32"]);
  {
    const T = 0;
    const t = bw.local("i32");
    const p = bw.local("i32");
    const scale = bw.local("v128");
    const a = bw.local("v128");
    const cur = L.cotangents.map(() => bw.local("i32"));
    const other = L.cotangents.map(() => bw.local("i32"));
    const S = L.loss;
    bw.i32(0).mem("v128.load32_splat", S.scale, 2).set(scale);
    L.cotangents.forEach((c, k) => {
      bw.i32(c.a).set(cur[k]!).i32(c.b).set(other[k]!);
    });
    bw.get(T).i32(1).op("i32.sub").tee(t).i32(0).op("i32.ge_s").ifThen().loop();
    // the observation's cotangent: scale * err[t]
    addr(bw, t, S.err);
    bw.set(p);
    for (let n = 0; n < S.n; n++) for (let v = 0; v < vectors; v++) {
      const off = n * rowBytes + 16 * v;
      bw.i32(0).get(p).mem("v128.load", off, 4).get(scale).op("f32x4.mul").mem("v128.store", S.ctPred + off, 4);
    }
    bind(bw, t, L.adjoint);
    L.cotangents.forEach((c, k) => {
      bw.i32(0).get(cur[k]!).mem("i32.store", c.input, 2);
      if (c.output !== null) bw.i32(0).get(other[k]!).mem("i32.store", c.output, 2);
    });
    bw.call(RUN_ADJOINT, "step adjoint");
    if (L.forcing) {
      const F = L.forcing;
      const c = L.cotangents[L.forcedCotangent]!;
      if (c.output !== null) {
        bw.get(t).i32(4).op("i32.mul").mem("f32.load", F.alpha, 2).f32(0).op("f32.gt").ifThen();
        bw.f32x4(1).get(t).i32(4).op("i32.mul").mem("v128.load32_splat", F.alpha, 2).op("f32x4.sub").set(a);
        for (let i = F.start; i < F.stop; i++) for (let v = 0; v < vectors; v++) {
          const off = i * rowBytes + 16 * v;
          bw.get(other[L.forcedCotangent]!).get(other[L.forcedCotangent]!).mem("v128.load", off, 4).get(a).op("f32x4.mul").mem("v128.store", off, 4);
        }
        bw.end();
      }
    }
    // the new cotangents become the next (earlier) step's input
    L.cotangents.forEach((c, k) => {
      if (c.output === null) return;
      bw.get(cur[k]!).get(other[k]!).set(cur[k]!).set(other[k]!);
    });
    bw.get(t).i32(1).op("i32.sub").tee(t).i32(0).op("i32.ge_s").brIf(0).end().end();
    // where each state's final cotangent is, for the host
    L.cotangents.forEach((c, k) => {
      bw.i32(0).get(cur[k]!).mem("i32.store", c.input, 2);
    });
  }
  const imports = [
    { module: "step", name: "forward", params: [] },
    { module: "step", name: "adjoint", params: [] },
  ];
  return { bytes: encodeModule(imports, [fw, bw]), wat: `${fw.wat()}\n${bw.wat()}` };
}
