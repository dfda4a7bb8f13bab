// Fixed points and cycles as reported: location, period, eigenvalues of the k-step Jacobian,
// stability, unstable directions and flags; plus de-duplication of cycles given as point lists.
import { abs, eigenvalues, type Complex } from "./linalg.js";

export interface InvariantObject {
  /** "fp3", "cycle16b", ... stable within one report */
  id: string;
  kind: "fixed_point" | "cycle";
  period: number;
  /** the k points of the orbit (one for a fixed point), each the full flat state */
  points: number[][];
  /** eigenvalues of the k-step Jacobian product, by decreasing modulus */
  eigenvalues: Complex[];
  spectralRadius: number;
  stable: boolean;
  /** |lambda| > 1 */
  unstableDirections: number;
  /** some |lambda| within 1e-9 of 1: linear stability is undecided */
  marginal: boolean;
  /** the dominant eigenvalue is real and negative (period-doubling / flip behaviour) */
  negativeDominant: boolean;
  /** the dominant eigenvalue is complex (rotation around the object) */
  complexDominant: boolean;
  /** max |F^k(z) - z| over the orbit's points, computed with the true map */
  residual: number;
  /** how it was found */
  method: "scyfi" | "exhaustive" | "newton";
  /** piecewise-linear models: the region code of each point */
  regions?: string[];
}

const MARGIN = 1e-9;

/** Stability summary of a k-step Jacobian product. */
export function classify(product: ArrayLike<number>, n: number): Pick<InvariantObject, "eigenvalues" | "spectralRadius" | "stable" | "unstableDirections" | "marginal" | "negativeDominant" | "complexDominant"> {
  const ev = eigenvalues(product, n);
  const rho = ev.length ? abs(ev[0]!) : 0;
  const dom = ev[0];
  // complex eigenvalues come in pairs: the dominant one is complex when its modulus is the largest
  const complexDominant = dom !== undefined && Math.abs(dom.im) > 1e-12 * Math.max(1, rho);
  return {
    eigenvalues: ev,
    spectralRadius: rho,
    stable: rho < 1 - MARGIN,
    unstableDirections: ev.filter((e) => abs(e) > 1 + MARGIN).length,
    marginal: ev.some((e) => Math.abs(abs(e) - 1) <= MARGIN),
    negativeDominant: dom !== undefined && !complexDominant && dom.re < 0,
    complexDominant,
  };
}

/** Max-norm distance. */
export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

export function scaleOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return 1 + m;
}

/** Whether point z lies on one of the orbits (relative tolerance). */
export function onAnyOrbit(z: ArrayLike<number>, orbits: readonly (readonly ArrayLike<number>[])[], tol: number): boolean {
  const t = tol * scaleOf(z);
  for (const o of orbits) for (const p of o) if (distance(z, p) <= t) return true;
  return false;
}

/** The smallest period d of an orbit z_0..z_k (z_d = z_0), given its points z_0..z_{k-1}. */
export function minimalPeriod(points: readonly ArrayLike<number>[], tol: number): number {
  const k = points.length;
  for (let d = 1; d < k; d++) {
    if (k % d !== 0) continue;
    if (distance(points[d]!, points[0]!) <= tol * scaleOf(points[0]!)) return d;
  }
  return k;
}

/** Sorts objects for reporting (period, then stable first, then by location) and names them. */
export function nameObjects(objs: InvariantObject[]): InvariantObject[] {
  objs.sort((a, b) => a.period - b.period || Number(b.stable) - Number(a.stable) || a.unstableDirections - b.unstableDirections || lexicographic(a.points[0]!, b.points[0]!));
  const counters = new Map<number, number>();
  for (const o of objs) {
    const i = (counters.get(o.period) ?? 0) + 1;
    counters.set(o.period, i);
    o.id = o.kind === "fixed_point" ? `fp${i}` : `cycle${o.period}.${i}`;
  }
  return objs;
}

function lexicographic(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Rotates a cycle so that it starts at its lexicographically smallest point (a canonical form). */
export function canonicalRotation<T>(points: number[][], extra?: T[]): { points: number[][]; extra?: T[] } {
  let best = 0;
  for (let i = 1; i < points.length; i++) if (lexicographic(points[i]!, points[best]!) < 0) best = i;
  const rot = <U>(xs: U[]) => [...xs.slice(best), ...xs.slice(0, best)];
  return { points: rot(points), ...(extra ? { extra: rot(extra) } : {}) };
}
