// Fixed points and k-cycles of a piecewise-linear map: SCYFI (Eisenmann et al., NeurIPS 2023,
// DurstewitzLab/SCYFI) generalised from z' = A z + W relu(z) + h to any step the IR proves
// piecewise affine, plus exhaustive enumeration of region sequences when there are few enough.
//
// For a region sequence D_1..D_k the cycle equation z = F_{D_k} o ... o F_{D_1}(z) is linear:
// (I - W_k...W_1) z = W_k(...(W_2 h_1 + h_2)...) + h_k. Its solution is a real cycle iff the true
// map's orbit from it visits exactly D_1..D_k; otherwise SCYFI restarts from the regions the orbit
// did visit (hopping through virtual cycles), and from a fresh random sequence after a real one.
// Loop counts follow SCYFI's defaults (`set_loop_iterations`), and finding a cycle resets both
// counters, as in the reference. Differences, each stricter than the reference: a cycle is new if
// its first point is not on a known orbit within a relative 1e-6 (the reference rounds to 2
// decimals), and a k-cycle is rejected when its orbit closes earlier (minimal period < k) instead of
// comparing with the rounded points of lower orders.
import type { Prng } from "../train/prng.js";
import { luFactor, luSolve } from "./linalg.js";
import { classify, minimalPeriod, onAnyOrbit, type InvariantObject } from "./objects.js";
import { PiecewiseLinearMap } from "./piecewise.js";

/** SCYFI's default loop counts for an order (tuned by its authors on 2-D maps). */
export function scyfiLoopCounts(order: number): { outer: number; inner: number } {
  const outer = order < 8 ? 10 : order < 30 ? 40 : 100;
  const inner = order < 3 ? 20 : order < 6 ? 60 : order < 8 ? 300 : order < 20 ? 1080 : 1115;
  return { outer, inner };
}

export interface CycleSearchOptions {
  maxOrder: number;
  /** only this order (and no lower ones): SCYFI's per-order call */
  onlyOrder?: number;
  /** override SCYFI's defaults for every order */
  outer?: number;
  inner?: number;
  rng: Prng;
  /** initial region sequences: uniform over all codes (SCYFI) or drawn from a pool of region ids */
  sampling: "uniform" | "pool";
  pool?: number[];
  /** enumerate every region sequence of an order when there are at most this many */
  exhaustiveLimit: number;
  /** relative tolerance for "the same point" */
  tol?: number;
}

export interface OrderStats {
  order: number;
  method: "scyfi" | "exhaustive";
  /** region sequences whose cycle equation was solved */
  candidates: number;
  found: number;
  /** exhaustive only: every region sequence was checked, so the list is complete */
  complete: boolean;
  /** order 1, exhaustive only: fixed points of regions that do not contain them */
  virtual?: number;
  seconds: number;
}

export interface PlCycleResult {
  objects: InvariantObject[];
  stats: OrderStats[];
}

/** Working state for one order: the map, reusable buffers and the orbits found so far. */
class OrderSearch {
  readonly n: number;
  readonly found: Float64Array[][] = [];
  readonly objects: InvariantObject[] = [];
  candidates = 0;
  virtual = 0;
  private readonly M: Float64Array;
  private readonly tmp: Float64Array;
  private readonly c: Float64Array;
  private readonly cn: Float64Array;
  private readonly ia: Float64Array;
  readonly orbit: Float64Array[];
  /** the regions the orbit of the last candidate visits */
  readonly actual: Int32Array;

  constructor(readonly pl: PiecewiseLinearMap, readonly k: number, readonly tol: number, readonly method: "scyfi" | "exhaustive") {
    const n = pl.n;
    this.n = n;
    this.M = new Float64Array(n * n);
    this.tmp = new Float64Array(n * n);
    this.c = new Float64Array(n);
    this.cn = new Float64Array(n);
    this.ia = new Float64Array(n * n);
    this.orbit = Array.from({ length: k + 1 }, () => new Float64Array(n));
    this.actual = new Int32Array(k);
  }

  /**
   * Solves the cycle equation of a region sequence and follows the true map from the solution.
   * Returns null when I - W_k...W_1 is singular; otherwise whether the orbit visits the sequence
   * (this.actual holds the regions it visits).
   */
  check(seq: Int32Array): boolean | null {
    const { n, k, pl, M, c, cn, tmp } = this;
    M.fill(0);
    for (let i = 0; i < n; i++) M[i * n + i] = 1;
    c.fill(0);
    for (let i = 0; i < k; i++) {
      const { W, h } = pl.affine(seq[i]!);
      // M <- W M, c <- W c + h
      tmp.fill(0);
      for (let r = 0; r < n; r++) {
        let s = h[r]!;
        for (let q = 0; q < n; q++) {
          const w = W[r * n + q]!;
          if (w === 0) continue;
          s += w * c[q]!;
          for (let t = 0; t < n; t++) tmp[r * n + t]! += w * M[q * n + t]!;
        }
        cn[r] = s;
      }
      M.set(tmp);
      c.set(cn);
    }
    for (let i = 0; i < n * n; i++) this.ia[i] = (i % (n + 1) === 0 ? 1 : 0) - M[i]!;
    const lu = luFactor(this.ia, n, 1e-13);
    this.candidates++;
    if (!lu) return null;
    const z0 = this.orbit[0]!;
    luSolve(lu, c, z0);
    for (let i = 0; i < n; i++) if (!Number.isFinite(z0[i]!)) return null;
    let same = true;
    for (let j = 0; j < k; j++) {
      const id = pl.step(this.orbit[j]!, this.orbit[j + 1]!);
      this.actual[j] = id;
      if (id !== seq[j]) same = false;
    }
    return same;
  }

  /** Records the orbit in this.orbit as a cycle if it is primitive and new; returns whether it was. */
  accept(): boolean {
    const { k, n } = this;
    const pts = this.orbit.slice(0, k);
    if (minimalPeriod(pts, this.tol) < k) return false;
    if (onAnyOrbit(pts[0]!, this.found, this.tol)) return false;
    this.found.push(pts.map((p) => Float64Array.from(p)));
    let residual = 0;
    for (let i = 0; i < n; i++) residual = Math.max(residual, Math.abs(this.orbit[k]![i]! - this.orbit[0]![i]!));
    const cls = classify(this.M, n);
    this.objects.push({
      id: "",
      kind: k === 1 ? "fixed_point" : "cycle",
      period: k,
      points: pts.map((p) => Array.from(p)),
      ...cls,
      residual,
      method: this.method,
      regions: Array.from(this.actual, (a) => this.pl.name(a)),
    });
    return true;
  }
}

function randomSequence(pl: PiecewiseLinearMap, k: number, opts: CycleSearchOptions, out = new Int32Array(k)): Int32Array {
  const code = new Uint8Array(pl.codeLength);
  for (let i = 0; i < k; i++) {
    if (opts.sampling === "pool" && opts.pool && opts.pool.length) out[i] = opts.pool[opts.rng.int(opts.pool.length)]!;
    else {
      for (let j = 0; j < code.length; j++) code[j] = opts.rng.int(pl.radix[j]!);
      out[i] = pl.idOf(code);
    }
  }
  return out;
}

/** SCYFI for one order. */
function scyfiOrder(pl: PiecewiseLinearMap, k: number, opts: CycleSearchOptions, tol: number): OrderSearch {
  const search = new OrderSearch(pl, k, tol, "scyfi");
  const defaults = scyfiLoopCounts(k);
  const outer = opts.outer ?? defaults.outer;
  const inner = opts.inner ?? defaults.inner;
  const seq = new Int32Array(k);
  let i = -1;
  while (i < outer) {
    i += 1;
    randomSequence(pl, k, opts, seq);
    let c = 0;
    while (c < inner) {
      c += 1;
      const same = search.check(seq);
      if (same === null) {
        randomSequence(pl, k, opts, seq);
        continue;
      }
      if (same && search.accept()) {
        i = 0;
        c = 0;
      }
      if (same) randomSequence(pl, k, opts, seq);
      else seq.set(search.actual);
    }
  }
  return search;
}

/** Every region sequence of one order over the given region ids. */
function exhaustiveOrder(pl: PiecewiseLinearMap, k: number, ids: number[], tol: number): OrderSearch {
  const search = new OrderSearch(pl, k, tol, "exhaustive");
  const R = ids.length;
  const seq = new Int32Array(k);
  const total = R ** k;
  for (let t = 0; t < total; t++) {
    let r = t;
    for (let j = k - 1; j >= 0; j--) {
      seq[j] = ids[r % R]!;
      r = Math.floor(r / R);
    }
    const same = search.check(seq);
    if (same) search.accept();
    else if (same === false && k === 1) search.virtual++;
  }
  return search;
}

/** Fixed points and cycles of orders 1..maxOrder (or only `onlyOrder`). */
export function findPlCycles(pl: PiecewiseLinearMap, opts: CycleSearchOptions): PlCycleResult {
  const tol = opts.tol ?? 1e-6;
  const objects: InvariantObject[] = [];
  const stats: OrderStats[] = [];
  const ids = pl.count !== null && pl.count <= opts.exhaustiveLimit ? Array.from({ length: pl.count }, (_, i) => pl.idOf(pl.codeAt(i))) : null;
  const orders = opts.onlyOrder !== undefined ? [opts.onlyOrder] : Array.from({ length: opts.maxOrder }, (_, i) => i + 1);
  for (const k of orders) {
    const t0 = performance.now();
    const exhaustive = ids !== null && ids.length ** k <= opts.exhaustiveLimit;
    const search = exhaustive ? exhaustiveOrder(pl, k, ids, tol) : scyfiOrder(pl, k, opts, tol);
    objects.push(...search.objects);
    stats.push({
      order: k,
      method: exhaustive ? "exhaustive" : "scyfi",
      candidates: search.candidates,
      found: search.objects.length,
      complete: exhaustive,
      ...(exhaustive && k === 1 ? { virtual: search.virtual } : {}),
      seconds: (performance.now() - t0) / 1000,
    });
  }
  return { objects, stats };
}

/**
 * The analytic fixed point of one region, and whether it lies in that region (real) or not
 * (virtual: the ALRNN papers' per-region fixed points without this check can be either).
 */
export function regionFixedPoint(pl: PiecewiseLinearMap, id: number): { point: Float64Array; real: boolean; spectralRadius: number; unstableDirections: number } | null {
  const search = new OrderSearch(pl, 1, 1e-6, "exhaustive");
  const same = search.check(Int32Array.of(id));
  if (same === null) return null;
  const cls = classify(pl.affine(id).W, pl.n);
  return { point: Float64Array.from(search.orbit[0]!), real: same, spectralRadius: cls.spectralRadius, unstableDirections: cls.unstableDirections };
}
