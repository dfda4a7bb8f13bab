// Symbolic analysis of a piecewise-linear model along a generated trajectory (the ALRNN papers'
// linear-subregion tools): the regions visited out of all codes, visit frequencies, the symbolic
// sequence (symbol 1 = the most visited region), the region transition matrix and the coverage
// curve, plus every visited region's analytic fixed point with the real/virtual check the
// reference code lacks.
import type { PiecewiseLinearMap } from "./piecewise.js";
import { regionFixedPoint } from "./scyfi.js";

export interface VisitedRegion {
  symbol: number;
  /** branch indices, switch by switch ("01" for an ALRNN with P = 2) */
  region: string;
  steps: number;
  fraction: number;
  /** the region's own fixed point (z = W_D z + h_D) and whether it lies in the region */
  fixedPoint: { point: number[]; real: boolean; spectralRadius: number; unstableDirections: number } | null;
}

export interface SymbolicReport {
  steps: number;
  /** total number of region codes (2^P for an ALRNN), as log2 and exactly when representable */
  totalRegions: { log2: number; exact: number | null };
  visited: VisitedRegion[];
  /** run-length encoding of the symbolic sequence: [symbol, run length] pairs */
  sequenceRle: [number, number][];
  /** transitions between consecutive steps: counts, and probabilities per origin (rows sum to 1) */
  transitions: { from: number; to: number; count: number; probability: number }[];
  /** fraction of steps that stay in their region */
  selfTransitionFraction: number;
  /** coverage[r] = fraction of steps spent in the r + 1 most visited regions */
  coverage: number[];
}

/** Region fixed points are computed for at most this many of the most visited regions. */
const MAX_REGION_FIXED_POINTS = 256;

export function symbolicAnalysis(pl: PiecewiseLinearMap, states: Float64Array, length: number, log2Total: number): { report: SymbolicReport; symbols: Int32Array } {
  const n = pl.n;
  const ids = new Int32Array(length);
  const counts = new Map<number, number>();
  for (let t = 0; t < length; t++) {
    const id = pl.regionOf(states.subarray(t * n, (t + 1) * n));
    ids[t] = id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  // symbol 1 = most visited; ties broken by first visit (stable sort of first-visit order)
  const order = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)!);
  const symbolOf = new Map(order.map((id, i) => [id, i + 1]));
  const symbols = Int32Array.from(ids, (id) => symbolOf.get(id)!);
  const visited: VisitedRegion[] = order.map((id, i) => {
    const fp = i < MAX_REGION_FIXED_POINTS ? regionFixedPoint(pl, id) : null;
    return {
      symbol: i + 1,
      region: pl.name(id),
      steps: counts.get(id)!,
      fraction: counts.get(id)! / length,
      fixedPoint: fp ? { point: Array.from(fp.point), real: fp.real, spectralRadius: fp.spectralRadius, unstableDirections: fp.unstableDirections } : null,
    };
  });
  const rle: [number, number][] = [];
  for (let t = 0; t < length; t++) {
    const last = rle[rle.length - 1];
    if (last && last[0] === symbols[t]) last[1]++;
    else rle.push([symbols[t]!, 1]);
  }
  const pairCounts = new Map<string, number>();
  const outgoing = new Map<number, number>();
  let selfSteps = 0;
  for (let t = 0; t + 1 < length; t++) {
    const a = symbols[t]!;
    const b = symbols[t + 1]!;
    if (a === b) selfSteps++;
    const key = `${a},${b}`;
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + 1);
    outgoing.set(a, (outgoing.get(a) ?? 0) + 1);
  }
  const transitions = [...pairCounts].map(([key, count]) => {
    const [from, to] = key.split(",").map(Number) as [number, number];
    return { from, to, count, probability: count / outgoing.get(from)! };
  }).sort((x, y) => x.from - y.from || x.to - y.to);
  const coverage: number[] = [];
  let acc = 0;
  for (const v of visited) {
    acc += v.steps;
    coverage.push(acc / length);
  }
  const total = { log2: log2Total, exact: log2Total <= 52 ? Math.round(2 ** log2Total) : null };
  return {
    report: { steps: length, totalRegions: total, visited, sequenceRle: rle, transitions, selfTransitionFraction: length > 1 ? selfSteps / (length - 1) : 0, coverage },
    symbols,
  };
}
