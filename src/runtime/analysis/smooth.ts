// Fixed points and k-cycles of a smooth map: minimise q = 1/2 |F^k(z) - z|^2 from many starts
// (Levenberg–Marquardt on the residual, the compiler's exact Jacobians), then polish with Newton's
// method to a tight tolerance, and keep only the points where the residual itself vanishes.
// Minima of q with q > 0 are slow points, never reported as fixed points (the trap of loose
// "speed" tolerances in pyrnn and float32 FixedPointFinder runs). De-duplication happens only
// after polishing, so two starts that converge to one fixed point cannot be counted twice.
import { luFactor, luSolve, maxAbs } from "./linalg.js";
import { classify, minimalPeriod, onAnyOrbit, scaleOf, type InvariantObject } from "./objects.js";
import type { StepMap } from "./system.js";

export interface SmoothSearchOptions {
  /** Levenberg–Marquardt iterations before polishing */
  lmIterations?: number;
  /** Newton iterations of the polish */
  newtonIterations?: number;
  /** a point is a k-periodic point when max|F^k(z) - z| <= tol * (1 + max|z|) after polishing */
  tol?: number;
  /** relative distance under which two polished points are one */
  uniqueTol?: number;
  /** rounds of deflated Newton after the first pass (0: none) */
  deflationRounds?: number;
}

export interface SmoothOrderStats {
  order: number;
  starts: number;
  /** polished to a root of F^k(z) - z (before de-duplication; includes lower-period points) */
  converged: number;
  /** starts whose q stalled at a positive minimum: slow points, rejected */
  slowPoints: number;
  /** the smallest residual max|F^k(z) - z| among the rejected starts */
  bestRejectedResidual: number | null;
  found: number;
  seconds: number;
}

/** F^k at many points, with the orbit points kept (orbit[t] = F^t(z), t = 0..k). */
function orbits(map: StepMap, z: Float64Array, count: number, k: number): Float64Array[] {
  const out: Float64Array[] = [Float64Array.from(z.subarray(0, count * map.n))];
  for (let t = 0; t < k; t++) out.push(map.map(out[t]!, count));
  return out;
}

/** Jacobians of G(z) = F^k(z) - z: J(z_{k-1}) ... J(z_0) - I, per point. */
function residualJacobians(map: StepMap, orbit: Float64Array[], count: number, k: number, withIdentity = true): Float64Array {
  const n = map.n;
  const nn = n * n;
  let prod: Float64Array | null = null;
  for (let t = 0; t < k; t++) {
    const J = map.jacobian(orbit[t]!, count);
    if (!prod) prod = J;
    else {
      const next = new Float64Array(count * nn);
      for (let p = 0; p < count; p++) {
        const a = J.subarray(p * nn, (p + 1) * nn);
        const b = prod.subarray(p * nn, (p + 1) * nn);
        const o = next.subarray(p * nn, (p + 1) * nn);
        for (let i = 0; i < n; i++) for (let q = 0; q < n; q++) {
          const v = a[i * n + q]!;
          if (v === 0) continue;
          for (let j = 0; j < n; j++) o[i * n + j]! += v * b[q * n + j]!;
        }
      }
      prod = next;
    }
  }
  if (withIdentity) for (let p = 0; p < count; p++) for (let i = 0; i < n; i++) prod![p * nn + i * n + i]! -= 1;
  return prod!;
}

function residuals(orbit: Float64Array[], k: number, n: number, count: number): Float64Array {
  const g = new Float64Array(count * n);
  const a = orbit[k]!;
  const z = orbit[0]!;
  for (let i = 0; i < count * n; i++) g[i] = a[i]! - z[i]!;
  return g;
}

/** The rows `rows` of a batch of n-vectors, packed. */
function gather(batch: Float64Array, rows: readonly number[], n: number): Float64Array {
  const out = new Float64Array(rows.length * n);
  rows.forEach((r, a) => out.set(batch.subarray(r * n, (r + 1) * n), a * n));
  return out;
}

const half2 = (g: Float64Array, p: number, n: number) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += g[p * n + i]! ** 2;
  return 0.5 * s;
};

/**
 * Levenberg–Marquardt on q = 1/2 |G|^2 for every start at once: (JᵀJ + mu I) d = -Jᵀ G, accept
 * the step when q decreases (then mu shrinks), otherwise grow mu and retry from the same point.
 */
function levenbergMarquardt(map: StepMap, z: Float64Array, count: number, k: number, iterations: number, tol: number): { stalled: Uint8Array } {
  const n = map.n;
  const nn = n * n;
  const mu = new Float64Array(count).fill(-1);
  const active = new Uint8Array(count).fill(1);
  const stalled = new Uint8Array(count);
  const orbit = orbits(map, z, count, k);
  const G = residuals(orbit, k, n, count);
  const J = residualJacobians(map, orbit, count, k);
  const A = new Float64Array(nn);
  const rhs = new Float64Array(n);
  const d = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    const idx: number[] = [];
    for (let p = 0; p < count; p++) {
      if (!active[p]) continue;
      const g = G.subarray(p * n, (p + 1) * n);
      const zp = z.subarray(p * n, (p + 1) * n);
      // close enough for Newton, or gone: stop iterating this start
      if (!g.every(Number.isFinite) || !zp.every(Number.isFinite)) {
        active[p] = 0;
        stalled[p] = 1;
        continue;
      }
      if (maxAbs(g) <= 1e-3 * tol ** 0.5 * scaleOf(zp)) {
        active[p] = 0;
        continue;
      }
      idx.push(p);
    }
    if (!idx.length) break;
    const trial = new Float64Array(idx.length * n);
    idx.forEach((p, r) => {
      const Jp = J.subarray(p * nn, (p + 1) * nn);
      const g = G.subarray(p * n, (p + 1) * n);
      let diagMax = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < n; q++) s += Jp[q * n + i]! * Jp[q * n + j]!;
          A[i * n + j] = s;
        }
        diagMax = Math.max(diagMax, A[i * n + i]!);
        let s = 0;
        for (let q = 0; q < n; q++) s += Jp[q * n + i]! * g[q]!;
        rhs[i] = -s;
      }
      if (mu[p]! < 0) mu[p] = 1e-3 * Math.max(diagMax, 1e-12);
      for (let i = 0; i < n; i++) A[i * n + i]! += mu[p]!;
      const lu = luFactor(A, n, 0);
      if (lu) luSolve(lu, rhs, d);
      else d.fill(0);
      for (let i = 0; i < n; i++) trial[r * n + i] = z[p * n + i]! + d[i]!;
    });
    const tOrbit = orbits(map, trial, idx.length, k);
    const tG = residuals(tOrbit, k, n, idx.length);
    const accepted: number[] = [];
    idx.forEach((p, r) => {
      const q0 = half2(G, p, n);
      const q1 = half2(tG, r, n);
      if (Number.isFinite(q1) && q1 < q0) {
        // a relative decrease below 1e-12 is a stall at a positive minimum
        if (q0 - q1 <= 1e-12 * q0 && q1 > 0) {
          active[p] = 0;
          stalled[p] = 1;
        }
        z.set(trial.subarray(r * n, (r + 1) * n), p * n);
        G.set(tG.subarray(r * n, (r + 1) * n), p * n);
        mu[p] = Math.max(mu[p]! / 3, 1e-300);
        accepted.push(r);
      } else {
        mu[p] = mu[p]! * 4;
        if (mu[p]! > 1e30) {
          active[p] = 0;
          stalled[p] = 1;
        }
      }
    });
    if (accepted.length) {
      // fresh Jacobians at the accepted points only
      const sub = tOrbit.map((o) => gather(o, accepted, n));
      const Jn = residualJacobians(map, sub, accepted.length, k);
      accepted.forEach((r, a) => J.set(Jn.subarray(a * nn, (a + 1) * nn), idx[r]! * nn));
    }
  }
  return { stalled };
}

/** Newton's method on G(z) = F^k(z) - z; returns per start whether it converged and the final residual. */
function newtonPolish(map: StepMap, z: Float64Array, count: number, k: number, iterations: number, tol: number): { ok: Uint8Array; residual: Float64Array } {
  const n = map.n;
  const nn = n * n;
  const ok = new Uint8Array(count);
  const residual = new Float64Array(count).fill(Infinity);
  let todo = Array.from({ length: count }, (_, p) => p);
  for (let it = 0; it <= iterations && todo.length; it++) {
    const pts = gather(z, todo, n);
    const orbit = orbits(map, pts, todo.length, k);
    const G = residuals(orbit, k, n, todo.length);
    const next: number[] = [];
    const needJ: number[] = [];
    todo.forEach((p, r) => {
      const g = G.subarray(r * n, (r + 1) * n);
      const res = maxAbs(g);
      residual[p] = Number.isFinite(res) ? res : Infinity;
      if (!Number.isFinite(res)) return;
      if (res <= tol * scaleOf(pts.subarray(r * n, (r + 1) * n))) {
        ok[p] = 1;
        return;
      }
      needJ.push(r);
    });
    if (it === iterations || !needJ.length) break;
    const sub = orbit.map((o) => gather(o, needJ, n));
    const J = residualJacobians(map, sub, needJ.length, k);
    const d = new Float64Array(n);
    needJ.forEach((r, a) => {
      const p = todo[r]!;
      const lu = luFactor(J.subarray(a * nn, (a + 1) * nn), n, 1e-15);
      if (!lu) return;
      luSolve(lu, G.subarray(r * n, (r + 1) * n), d);
      for (let i = 0; i < n; i++) z[p * n + i]! -= d[i]!;
      next.push(p);
    });
    todo = next;
  }
  return { ok, residual };
}

/**
 * Deflated Newton (Farrell, Birkisson & Funke 2015): Newton on M(z) G(z) with
 * M(z) = prod_i (|z - r_i|^-2 + 1) over the known roots r_i, so iterates are pushed away from roots
 * already found. With d the plain Newton step, the deflated step is d / (1 - grad(log M) . d).
 * Used from starts that converged to known roots and from midpoints between known objects,
 * where the saddles separating their basins usually are.
 */
function deflatedNewton(map: StepMap, z: Float64Array, count: number, k: number, roots: readonly ArrayLike<number>[], iterations: number, tol: number): void {
  const n = map.n;
  const nn = n * n;
  let todo = Array.from({ length: count }, (_, p) => p);
  const d = new Float64Array(n);
  const grad = new Float64Array(n);
  for (let it = 0; it < iterations && todo.length; it++) {
    const pts = gather(z, todo, n);
    const orbit = orbits(map, pts, todo.length, k);
    const G = residuals(orbit, k, n, todo.length);
    const J = residualJacobians(map, orbit, todo.length, k);
    const next: number[] = [];
    todo.forEach((p, r) => {
      const g = G.subarray(r * n, (r + 1) * n);
      const zp = pts.subarray(r * n, (r + 1) * n);
      if (!(maxAbs(g) > tol * scaleOf(zp)) || !zp.every(Number.isFinite)) return;
      const lu = luFactor(J.subarray(r * nn, (r + 1) * nn), n, 1e-15);
      if (!lu) return;
      luSolve(lu, g, d);
      for (let i = 0; i < n; i++) d[i] = -d[i]!;
      grad.fill(0);
      for (const root of roots) {
        let dist2 = 0;
        for (let i = 0; i < n; i++) dist2 += (zp[i]! - root[i]!) ** 2;
        if (dist2 === 0) continue;
        // d/dz log(|z - r|^-2 + 1) = -2 (z - r) |z - r|^-4 / (|z - r|^-2 + 1)
        const f = (-2 / (dist2 * dist2)) / (1 / dist2 + 1);
        for (let i = 0; i < n; i++) grad[i]! += f * (zp[i]! - root[i]!);
      }
      let gd = 0;
      for (let i = 0; i < n; i++) gd += grad[i]! * d[i]!;
      const tau = 1 / (1 - gd);
      if (!Number.isFinite(tau)) return;
      // cap the step: deflation can send an iterate far away near a known root
      const len = maxAbs(d) * Math.abs(tau);
      const cap = 10 * scaleOf(zp);
      const scale = len > cap ? (tau * cap) / len : tau;
      for (let i = 0; i < n; i++) z[p * n + i]! += scale * d[i]!;
      next.push(p);
    });
    todo = next;
  }
}

/**
 * k-periodic orbits (k = order) of F from the given starts: every start is minimised, polished,
 * checked (residual, minimal period k), de-duplicated, and classified by the eigenvalues of the
 * k-step Jacobian product. Then rounds of deflated Newton look for roots not yet found, from the
 * starts and from midpoints between the orbits found (`lower`: points of the orbits of periods
 * dividing k found before, which are roots of F^k(z) - z too).
 */
export function findSmoothCycles(map: StepMap, starts: Float64Array, count: number, order: number, opts: SmoothSearchOptions = {}, lower: readonly ArrayLike<number>[] = []): { objects: InvariantObject[]; stats: SmoothOrderStats } {
  const t0 = performance.now();
  const n = map.n;
  const tol = opts.tol ?? 1e-10;
  const uniqueTol = opts.uniqueTol ?? 1e-6;
  const found: Float64Array[][] = [];
  const objects: InvariantObject[] = [];
  let converged = 0;
  let slow = 0;
  let bestRejected: number | null = null;
  const consider = (z: Float64Array, m: number, ok: Uint8Array) => {
    for (let p = 0; p < m; p++) {
      if (!ok[p]) continue;
      const zp = z.slice(p * n, (p + 1) * n);
      const orbit = orbits(map, zp, 1, order);
      const pts = orbit.slice(0, order);
      if (minimalPeriod(pts, uniqueTol) < order) continue;
      if (onAnyOrbit(zp, found, uniqueTol)) continue;
      found.push(pts);
      const prod = residualJacobians(map, orbit, 1, order, false);
      objects.push({
        id: "",
        kind: order === 1 ? "fixed_point" : "cycle",
        period: order,
        points: pts.map((x) => Array.from(x)),
        ...classify(prod, n),
        residual: maxAbs(residuals(orbit, order, n, 1)),
        method: "newton",
      });
    }
  };
  const z = Float64Array.from(starts.subarray(0, count * n));
  const { stalled } = levenbergMarquardt(map, z, count, order, opts.lmIterations ?? 200, tol);
  const { ok, residual } = newtonPolish(map, z, count, order, opts.newtonIterations ?? 30, tol);
  for (let p = 0; p < count; p++) {
    if (ok[p]) converged++;
    else {
      if (stalled[p] || Number.isFinite(residual[p]!)) slow++;
      if (Number.isFinite(residual[p]!)) bestRejected = bestRejected === null ? residual[p]! : Math.min(bestRejected, residual[p]!);
    }
  }
  consider(z, count, ok);
  for (let round = 0; round < (opts.deflationRounds ?? 3); round++) {
    const roots: ArrayLike<number>[] = [...lower, ...found.flat()];
    if (!roots.length) break;
    const before = objects.length;
    // starts: the origin, midpoints between known roots, and a subset of the original starts
    const extra: number[][] = [new Array<number>(n).fill(0)];
    for (let a = 0; a < roots.length && extra.length < 24; a++) for (let b = a + 1; b < roots.length && extra.length < 24; b++) extra.push(Array.from(roots[a]!, (v, i) => 0.5 * (v + roots[b]![i]!)));
    const sub = Math.min(count, 16);
    const m = extra.length + sub;
    const zs = new Float64Array(m * n);
    extra.forEach((e, i) => zs.set(e, i * n));
    zs.set(starts.subarray(0, sub * n), extra.length * n);
    deflatedNewton(map, zs, m, order, roots, 30, tol);
    const polished = newtonPolish(map, zs, m, order, opts.newtonIterations ?? 30, tol);
    consider(zs, m, polished.ok);
    if (objects.length === before) break;
  }
  return {
    objects,
    stats: { order, starts: count, converged, slowPoints: slow, bestRejectedResidual: bestRejected, found: objects.length, seconds: (performance.now() - t0) / 1000 },
  };
}
