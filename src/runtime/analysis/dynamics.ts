// Orbits of the map: generated trajectories, start states for the searches, the topology graph
// (which attractor each perturbed start converges to) and Lyapunov exponents by the QR method.
import type { Prng } from "../train/prng.js";
import { qrInPlace } from "./linalg.js";
import { distance, scaleOf, type InvariantObject } from "./objects.js";
import type { PiecewiseLinearMap } from "./piecewise.js";
import type { StepMap } from "./system.js";

/** States beyond this magnitude count as a diverged run. */
const DIVERGED = 1e8;

export interface Trajectory {
  /** [steps + 1, n], row t = F^t(z0) (shorter when the run diverged) */
  states: Float64Array;
  length: number;
  diverged: boolean;
}

export function trajectory(map: StepMap, z0: Float64Array, steps: number): Trajectory {
  const n = map.n;
  const states = new Float64Array((steps + 1) * n);
  states.set(z0);
  for (let t = 0; t < steps; t++) {
    const next = states.subarray((t + 1) * n, (t + 2) * n);
    map.map(states.subarray(t * n, (t + 1) * n), 1, next);
    let bad = false;
    for (let i = 0; i < n; i++) if (!(Math.abs(next[i]!) < DIVERGED)) bad = true;
    if (bad) return { states: states.subarray(0, (t + 1) * n), length: t + 1, diverged: true };
  }
  return { states, length: steps + 1, diverged: false };
}

/**
 * Start states for the fixed-point and cycle searches: states visited by trajectories from random
 * initial conditions (and from `extra` states, e.g. a generated run or user-supplied states), a
 * quarter as they are and the rest with Gaussian noise of `noise` times the states' spread.
 */
export function sampleStarts(map: StepMap, count: number, rng: Prng, opts: { extra?: Float64Array; runs?: number; runLength?: number; noise?: number }): Float64Array {
  const n = map.n;
  const runs = opts.runs ?? 16;
  const len = opts.runLength ?? 200;
  const pool: Float64Array[] = [];
  if (opts.extra && opts.extra.length >= n) pool.push(opts.extra);
  const z0 = new Float64Array(runs * n);
  for (let i = 0; i < z0.length; i++) z0[i] = rng.normal();
  const buf = new Float64Array(runs * n * (len + 1));
  buf.set(z0);
  for (let t = 0; t < len; t++) map.map(buf.subarray(t * runs * n, (t + 1) * runs * n), runs, buf.subarray((t + 1) * runs * n, (t + 2) * runs * n));
  pool.push(buf);
  const rows: Float64Array[] = [];
  for (const p of pool) for (let r = 0; r + n <= p.length; r += n) {
    const row = p.subarray(r, r + n);
    if (row.every((v) => Math.abs(v) < DIVERGED)) rows.push(row);
  }
  if (!rows.length) for (let r = 0; r < runs; r++) rows.push(z0.subarray(r * n, (r + 1) * n));
  // spread of the sampled states, pooled over units
  let mean = 0;
  let sq = 0;
  for (const row of rows) for (const v of row) {
    mean += v;
    sq += v * v;
  }
  const m = rows.length * n;
  const sd = Math.sqrt(Math.max(sq / m - (mean / m) ** 2, 0)) || 1;
  const noise = (opts.noise ?? 0.5) * sd;
  const out = new Float64Array(count * n);
  for (let p = 0; p < count; p++) {
    const row = rows[rng.int(rows.length)]!;
    for (let i = 0; i < n; i++) out[p * n + i] = row[i]! + (p < count / 4 ? 0 : noise * rng.normal());
  }
  return out;
}

export interface TopologyEdge {
  from: string;
  /** an attractor's id, "unresolved" (no known attractor reached) or "diverged" */
  to: string;
  count: number;
  probability: number;
}

export interface TopologyOptions {
  perObject: number;
  /** standard deviation of the perturbation (absolute) */
  noise: number;
  maxSteps: number;
}

/**
 * The topology graph: from every object, `perObject` starts perturbed around its first point are
 * iterated until they come within 1e-3 (relative) of a point of a stable object, up to maxSteps.
 */
export function topology(map: StepMap, objects: InvariantObject[], rng: Prng, opts: TopologyOptions): TopologyEdge[] {
  const n = map.n;
  const attractors = objects.filter((o) => o.stable);
  const edges: TopologyEdge[] = [];
  for (const o of objects) {
    const count = opts.perObject;
    let z: Float64Array = new Float64Array(count * n);
    for (let p = 0; p < count; p++) for (let i = 0; i < n; i++) z[p * n + i] = o.points[0]![i]! + opts.noise * rng.normal();
    let alive = Array.from({ length: count }, (_, p) => p);
    const outcome = new Map<string, number>();
    const record = (to: string) => outcome.set(to, (outcome.get(to) ?? 0) + 1);
    for (let t = 0; t <= opts.maxSteps && alive.length; t++) {
      if (t % 5 === 0 || t === opts.maxSteps) {
        const keep: number[] = [];
        alive.forEach((p, r) => {
          const zp = z.subarray(r * n, (r + 1) * n);
          if (!zp.every((v) => Math.abs(v) < DIVERGED)) return void record("diverged");
          const hit = attractors.find((a) => a.points.some((x) => distance(zp, x) <= 1e-3 * scaleOf(x)));
          if (hit) return void record(hit.id);
          keep.push(r);
        });
        if (keep.length < alive.length) {
          const nz = new Float64Array(keep.length * n);
          keep.forEach((r, a) => nz.set(z.subarray(r * n, (r + 1) * n), a * n));
          z = nz;
          alive = keep.map((r) => alive[r]!);
        }
      }
      if (t < opts.maxSteps && alive.length) z = map.map(z, alive.length);
    }
    for (let i = 0; i < alive.length; i++) record("unresolved");
    for (const [to, c] of [...outcome].sort((a, b) => b[1] - a[1])) edges.push({ from: o.id, to, count: c, probability: c / count });
  }
  return edges;
}

export interface LyapunovResult {
  /** in nats per step, largest first */
  exponents: number[];
  steps: number;
}

/**
 * Lyapunov exponents of the orbit `states` (rows t = 0..T) by the QR method: Q <- QR(J(z_t) Q),
 * exponents = mean log diag R. Jacobians: the region's W_D for piecewise-linear maps, otherwise
 * the compiler's Jacobian of the step (batched over the orbit). The largest exponent alone of a
 * smooth map uses vector-Jacobian products backwards along the orbit, w <- J(z_t)ᵀ w: the product
 * J_0ᵀ...J_{T-1}ᵀ has the singular values of J_{T-1}...J_0, so the growth rate is the same, at one
 * adjoint pass per step instead of n.
 */
export function lyapunov(map: StepMap, pl: PiecewiseLinearMap | null, states: Float64Array, length: number, count: number, rng: Prng): LyapunovResult {
  const n = map.n;
  const m = Math.min(count, n);
  const steps = length - 1;
  if (m === 1 && !pl) {
    let w = new Float64Array(n);
    let next = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = rng.normal();
    let sum = 0;
    for (let t = steps - 1; t >= 0; t--) {
      map.vjp(states.subarray(t * n, (t + 1) * n), w, next);
      let norm = 0;
      for (let i = 0; i < n; i++) norm = Math.hypot(norm, next[i]!);
      sum += Math.log(norm);
      if (norm === 0 || !Number.isFinite(norm)) break;
      for (let i = 0; i < n; i++) next[i]! /= norm;
      [w, next] = [next, w];
    }
    return { exponents: [sum / Math.max(steps, 1)], steps };
  }
  const Q = new Float64Array(n * m);
  for (let i = 0; i < Q.length; i++) Q[i] = rng.normal();
  qrInPlace(Q, n, m);
  const sums = new Float64Array(m);
  const chunk = 256;
  const next = new Float64Array(n * m);
  for (let start = 0; start < steps; start += chunk) {
    const c = Math.min(chunk, steps - start);
    const Js = pl ? null : map.jacobian(states.subarray(start * n, (start + c) * n), c);
    for (let t = 0; t < c; t++) {
      const J = pl ? pl.affine(pl.regionOf(states.subarray((start + t) * n, (start + t + 1) * n))).W : Js!.subarray(t * n * n, (t + 1) * n * n);
      next.fill(0);
      for (let i = 0; i < n; i++) for (let q = 0; q < n; q++) {
        const v = J[i * n + q]!;
        if (v === 0) continue;
        for (let j = 0; j < m; j++) next[i * m + j]! += v * Q[q * m + j]!;
      }
      Q.set(next);
      const r = qrInPlace(Q, n, m);
      for (let j = 0; j < m; j++) sums[j]! += Math.log(r[j]!);
    }
  }
  const exponents = Array.from(sums, (s) => s / Math.max(steps, 1)).sort((a, b) => b - a);
  return { exponents, steps };
}
