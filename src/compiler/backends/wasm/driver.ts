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
  /** float32 lanes per row (all models of an ensemble side by side) */
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
    /** alpha per step and lane (one row of lanes float32 per step; 0 = not forced) */
    alpha: { base: number; stride: number };
    /** per step, one float32: whether any lane is forced */
    forced: number;
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
    /** per vector of a row, two f32x4 accumulators: weighted losses (first lanes / 4), weights (next) */
    sums: number;
    /** the adjoint's input for the observation's cotangent (fixed buffer) */
    ctPred: number;
    /** per lane, the float32 scale of err into the cotangent (2 / denominator for mse) */
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

/**
 * Emits `for (r = 0; r < rows; r++) for (v = 0; v < vectors; v++) body(off, vec)`: `off` (a local) walks rows x vectors of 16 bytes, `vec` the vectors
 * of one row. Ensembles make rows long, so the vectors are a loop rather than unrolled.
 */
function rowLoop(f: FnBuilder, rows: number, vectors: number, body: (off: number, vec: number) => void): void {
  if (rows === 0) return;
  const off = f.local("i32");
  const vec = f.local("i32");
  f.i32(0).set(off).loop();
  f.i32(0).set(vec).loop();
  body(off, vec);
  f.get(off).i32(16).op("i32.add").set(off);
  f.get(vec).i32(16).op("i32.add").tee(vec).i32(vectors * 16).op("i32.lt_s").brIf(0).end();
  f.get(off).i32(rows * vectors * 16).op("i32.lt_s").brIf(0).end();
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
    const al = fw.local("i32");
    const a = fw.local("v128");
    const d = fw.local("v128");
    const w = fw.local("v128");
    const S = L.loss;
    // zero the accumulators
    rowLoop(fw, 2, vectors, (off) => {
      fw.get(off).f32x4(0).mem("v128.store", S.sums, 4);
    });
    fw.i32(0).set(t).loop();
    if (L.forcing) {
      const F = L.forcing;
      // forced step: z[units] = (1 - alpha) z + alpha teacher, alpha per lane (0 leaves z as it is)
      fw.get(t).i32(4).op("i32.mul").mem("f32.load", F.forced, 2).f32(0).op("f32.gt").ifThen();
      addr(fw, t, F.state);
      fw.i32(F.start * rowBytes).op("i32.add").set(p);
      addr(fw, t, F.teacher);
      fw.set(q);
      addr(fw, t, F.alpha);
      fw.set(al);
      rowLoop(fw, F.stop - F.start, vectors, (off, vec) => {
        fw.get(al).get(vec).op("i32.add").mem("v128.load", 0, 4).set(a);
        fw.get(p).get(off).op("i32.add");
        fw.get(p).get(off).op("i32.add").mem("v128.load", 0, 4).f32x4(1).get(a).op("f32x4.sub").op("f32x4.mul");
        fw.get(q).get(off).op("i32.add").mem("v128.load", 0, 4).get(a).op("f32x4.mul").op("f32x4.add");
        fw.mem("v128.store", 0, 4);
      });
      fw.end();
    }
    bind(fw, t, L.forward);
    fw.call(RUN_FORWARD, "step forward");
    // loss of the observation against the target row, accumulated per vector of the row
    addr(fw, t, S.target);
    fw.set(p);
    addr(fw, t, S.err);
    fw.set(q);
    const m = fw.local("i32");
    if (S.mask) {
      addr(fw, t, S.mask);
      fw.set(m);
    }
    rowLoop(fw, S.n, vectors, (off, vec) => {
      fw.get(off).mem("v128.load", S.pred, 4).get(p).get(off).op("i32.add").mem("v128.load", 0, 4).op("f32x4.sub").set(d);
      if (S.mask) fw.get(m).get(off).op("i32.add").mem("v128.load", 0, 4).set(w);
      else fw.get(vec).mem("v128.load", S.laneMask, 4).set(w);
      fw.get(q).get(off).op("i32.add");
      if (S.l1) {
        // err = w sign(d), sign(d) = d > 0 ? 1 : d < 0 ? -1 : 0; loss += w |d|
        fw.f32x4(1).f32x4(-1).f32x4(0).get(d).f32x4(0).op("f32x4.lt").op("v128.bitselect");
        fw.get(d).f32x4(0).op("f32x4.gt").op("v128.bitselect").get(w).op("f32x4.mul").mem("v128.store", 0, 4);
        fw.get(vec).get(vec).mem("v128.load", S.sums, 4).get(d).op("f32x4.abs").get(w).op("f32x4.mul").op("f32x4.add").mem("v128.store", S.sums, 4);
      } else {
        fw.get(d).get(w).op("f32x4.mul").mem("v128.store", 0, 4);
        fw.get(vec).get(vec).mem("v128.load", S.sums, 4).get(d).get(d).op("f32x4.mul").get(w).op("f32x4.mul").op("f32x4.add").mem("v128.store", S.sums, 4);
      }
      fw.get(vec).get(vec).mem("v128.load", S.sums + rowBytes, 4).get(w).op("f32x4.add").mem("v128.store", S.sums + rowBytes, 4);
    });
    fw.get(t).i32(1).op("i32.add").tee(t).get(T).op("i32.lt_s").brIf(0).end();
  }

  // ---------------- backward(T) ----------------
  const bw = new FnBuilder("backward", ["i32"]);
  {
    const T = 0;
    const t = bw.local("i32");
    const p = bw.local("i32");
    const al = bw.local("i32");
    const cur = L.cotangents.map(() => bw.local("i32"));
    const other = L.cotangents.map(() => bw.local("i32"));
    const S = L.loss;
    L.cotangents.forEach((c, k) => {
      bw.i32(c.a).set(cur[k]!).i32(c.b).set(other[k]!);
    });
    bw.get(T).i32(1).op("i32.sub").tee(t).i32(0).op("i32.ge_s").ifThen().loop();
    // the observation's cotangent: scale * err[t], per lane
    addr(bw, t, S.err);
    bw.set(p);
    rowLoop(bw, S.n, vectors, (off, vec) => {
      bw.get(off).get(p).get(off).op("i32.add").mem("v128.load", 0, 4).get(vec).mem("v128.load", S.scale, 4).op("f32x4.mul").mem("v128.store", S.ctPred, 4);
    });
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
        // the forced units' cotangent scales by (1 - alpha), per lane
        bw.get(t).i32(4).op("i32.mul").mem("f32.load", F.forced, 2).f32(0).op("f32.gt").ifThen();
        addr(bw, t, F.alpha);
        bw.set(al);
        bw.get(other[L.forcedCotangent]!).i32(F.start * rowBytes).op("i32.add").set(p);
        rowLoop(bw, F.stop - F.start, vectors, (off, vec) => {
          bw.get(p).get(off).op("i32.add");
          bw.get(p).get(off).op("i32.add").mem("v128.load", 0, 4).f32x4(1).get(al).get(vec).op("i32.add").mem("v128.load", 0, 4).op("f32x4.sub").op("f32x4.mul");
          bw.mem("v128.store", 0, 4);
        });
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
