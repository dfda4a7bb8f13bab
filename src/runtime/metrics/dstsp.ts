/**
 * D_stsp: state-space divergence KL(p_true ‖ p_gen) between the occupation measures of a reference
 * trajectory and a generated one — the harmonised (GTF / ALRNN Julia) variant of dsr-anchors §4 (a).
 *
 *  - binned (low-dimensional data): N-dimensional histograms with Laplace smoothing;
 *  - GMM (high-dimensional data): an isotropic Gaussian on each point, KL estimated by Monte Carlo.
 */
import type { Rng } from "./rng.js";
import { checkSameDims, checkSeries, columnStats, headRows, type Series } from "./series.js";

// ---------------------------------------------------------------------------------------------
// Binned form
// ---------------------------------------------------------------------------------------------

export interface DstspBinnedOptions {
  /**
   * Legacy edges [−2σ, +2σ] per dimension (around 0, not the mean: the data are assumed
   * z-scored; Brenner et al. 2022). Default: [min − 0.1σ, max + 0.1σ] of the true data.
   */
  legacy?: boolean;
  /** Laplace pseudo-count α added to every cell (default 1e-5). */
  laplace?: number;
}

/**
 * Bin edges per dimension, computed from the TRUE data (σ = corrected standard deviation, like
 * Julia's `std`). Edge values follow numpy.linspace exactly: e_i = lo + i·((hi − lo)/bins), e_bins = hi.
 */
export function binEdges(trueX: Series, bins: number, legacy = false): Float64Array[] {
  const { min, max, std } = columnStats(trueX);
  const edges: Float64Array[] = [];
  for (let n = 0; n < trueX.N; n++) {
    const lo = legacy ? -2 * std[n]! : min[n]! - 0.1 * std[n]!;
    const hi = legacy ? 2 * std[n]! : max[n]! + 0.1 * std[n]!;
    const e = new Float64Array(bins + 1);
    const step = (hi - lo) / bins;
    for (let i = 0; i < bins; i++) e[i] = i * step + lo;
    e[bins] = hi;
    edges.push(e);
  }
  return edges;
}

/**
 * Index of the bin holding x, or −1 when x is outside [e_0, e_bins] (or NaN).
 * Bins are [e_i, e_{i+1}) except the last, which also holds e_bins (numpy.histogramdd's rule).
 */
function binIndex(x: number, e: Float64Array, bins: number): number {
  const lo = e[0]!;
  const hi = e[bins]!;
  if (!(x >= lo && x <= hi)) return -1;
  if (x === hi) return bins - 1;
  // Arithmetic guess, then correct against the stored edges so the result equals a binary search.
  let i = Math.floor(((x - lo) / (hi - lo)) * bins);
  if (!(i >= 0)) i = 0;
  if (i > bins - 1) i = bins - 1;
  while (i > 0 && e[i]! > x) i--;
  while (i < bins - 1 && e[i + 1]! <= x) i++;
  return i;
}

interface SparseHistogram {
  counts: Map<number | string, number>;
  /** number of points that fell inside the binning volume */
  total: number;
}

/**
 * Histogram of the occupied cells only. Cell keys are the row-major flat index when bins^N fits in
 * a safe integer (N ≤ 10 for 30 bins), otherwise a comma-joined index string.
 */
function sparseHistogram(X: Series, edges: Float64Array[], bins: number): SparseHistogram {
  const { data, T, N } = X;
  const numericKeys = Math.pow(bins, N) <= Number.MAX_SAFE_INTEGER;
  const counts = new Map<number | string, number>();
  let total = 0;
  const idx = new Int32Array(N);
  for (let t = 0; t < T; t++) {
    const row = t * N;
    let inside = true;
    for (let n = 0; n < N; n++) {
      const i = binIndex(data[row + n]!, edges[n]!, bins);
      if (i < 0) {
        inside = false;
        break;
      }
      idx[n] = i;
    }
    if (!inside) continue;
    let key: number | string;
    if (numericKeys) {
      let k = 0;
      for (let n = 0; n < N; n++) k = k * bins + idx[n]!;
      key = k;
    } else {
      key = idx.join(",");
    }
    counts.set(key, (counts.get(key) ?? 0) + 1);
    total++;
  }
  return { counts, total };
}

/** p·log(p/q) with the 0·log 0 = 0 convention. */
function klTerm(p: number, q: number): number {
  return p === 0 ? 0 : p * Math.log(p / q);
}

/**
 * Binned D_stsp: KL(p_true ‖ p_gen) over bins^N cells with Laplace smoothing
 * p = (h + α) / (Σh + α·bins^N). Points outside the binning volume are dropped.
 * Returns NaN when no generated point falls inside the volume.
 *
 * Exact for any N: only occupied cells are stored; the (bins^N − |occupied|) cells that are empty
 * in both histograms all carry the same term, which is added in closed form.
 */
export function dstspBinned(trueX: Series, genX: Series, bins = 30, opts: DstspBinnedOptions = {}): number {
  checkSeries(trueX, "trueX");
  checkSeries(genX, "genX");
  checkSameDims(trueX, genX, "trueX", "genX");
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`dstspBinned: bins must be a positive integer (got ${bins})`);
  const alpha = opts.laplace ?? 1e-5;
  if (!(alpha >= 0)) throw new Error(`dstspBinned: laplace must be >= 0 (got ${alpha})`);
  if (trueX.T < 2) throw new Error(`dstspBinned: trueX needs at least 2 time steps (got ${trueX.T})`);

  const edges = binEdges(trueX, bins, opts.legacy ?? false);
  const hTrue = sparseHistogram(trueX, edges, bins);
  const hGen = sparseHistogram(genX, edges, bins);
  if (hGen.total === 0) return NaN;

  const cells = Math.pow(bins, trueX.N);
  const zTrue = hTrue.total + alpha * cells;
  const zGen = hGen.total + alpha * cells;

  let kl = 0;
  let occupied = 0;
  for (const [key, a] of hTrue.counts) {
    const b = hGen.counts.get(key) ?? 0;
    kl += klTerm((a + alpha) / zTrue, (b + alpha) / zGen);
    occupied++;
  }
  for (const [key, b] of hGen.counts) {
    if (hTrue.counts.has(key)) continue;
    kl += klTerm(alpha / zTrue, (b + alpha) / zGen);
    occupied++;
  }
  const empty = cells - occupied;
  if (empty > 0) kl += empty * klTerm(alpha / zTrue, alpha / zGen);
  return kl;
}

// ---------------------------------------------------------------------------------------------
// GMM form
// ---------------------------------------------------------------------------------------------

/**
 * How to emulate the reference code's drop of Monte-Carlo samples whose density underflows to 0
 * (Julia `filter_outliers`: keeps only samples with p > 0 and q > 0):
 *  - "float32" (default): the Julia code runs in Float32; drop a sample when log p or log q is below
 *    log(2^-149), the smallest positive Float32 (approximate: Julia underflows term by term);
 *  - "float64": the same with log(2^-1074);
 *  - "none": keep every sample (exact log-sum-exp value, may be very large for a far-away model).
 */
export type UnderflowMode = "float32" | "float64" | "none";

const LOG_MIN_DENSITY: Record<UnderflowMode, number> = {
  float32: -149 * Math.LN2,
  float64: -1074 * Math.LN2,
  none: -Infinity,
};

export interface DstspGmmOptions {
  /** variance σ² of every mixture component (GTF 1.0, ALRNN Julia 0.3); default 1.0 */
  scaling?: number;
  /** only the first maxPoints points of each series are mixture centres (default 10 000) */
  maxPoints?: number;
  /** number of Monte-Carlo samples drawn from the true mixture (default 1000) */
  samples?: number;
  /** random source; required unless `mcSamples` is given */
  rng?: Rng;
  /** inject the Monte-Carlo sample points [S, N] instead of drawing them (tests, reproducibility) */
  mcSamples?: Series;
  underflow?: UnderflowMode;
}

/**
 * Draws Monte-Carlo samples from the true-data mixture: first all component indices
 * t_i = ⌊u·T̃⌋ (T̃ = min(T, maxPoints)), then the normals row by row:
 * s_i = x_{t_i} + σ·ε_i, ε_i ~ N(0, I_N).
 */
export function drawGmmSamples(
  trueX: Series,
  opts: { scaling?: number; maxPoints?: number; samples?: number; rng: Rng },
): Series {
  checkSeries(trueX, "trueX");
  const { scaling = 1.0, maxPoints = 10000, samples = 1000, rng } = opts;
  const centres = headRows(trueX, maxPoints);
  if (centres.T < 1) throw new Error("drawGmmSamples: trueX is empty");
  const N = trueX.N;
  const sigma = Math.sqrt(scaling);
  const index = new Int32Array(samples);
  for (let i = 0; i < samples; i++) index[i] = Math.min(centres.T - 1, Math.floor(rng.uniform() * centres.T));
  const out = new Float64Array(samples * N);
  for (let i = 0; i < samples; i++) {
    const row = index[i]! * N;
    for (let n = 0; n < N; n++) out[i * N + n] = centres.data[row + n]! + sigma * rng.normal();
  }
  return { data: out, T: samples, N };
}

/**
 * log of the mixture density at each sample, in the reference code's normalisation
 * (1/T̃)·Σ_t exp(−‖s − μ_t‖² / 2σ²) / σ^N — the (2π)^{N/2} factor is omitted there and cancels in
 * log p − log q. Uses log-sum-exp so nothing underflows.
 */
export function gmmLogDensity(points: Series, centres: Series, sigma: number): Float64Array {
  const { N } = centres;
  const Tc = centres.T;
  // float64 copies keep the hot loops monomorphic (inputs may be Float32Array)
  const mu = toFloat64(centres.data);
  const pts = toFloat64(points.data);
  const out = new Float64Array(points.T);
  const exponents = new Float64Array(Tc);
  const sample = new Float64Array(N);
  const invTwoVar = 0.5 / (sigma * sigma);
  const logNorm = -N * Math.log(sigma) - Math.log(Tc);
  for (let i = 0; i < points.T; i++) {
    for (let n = 0; n < N; n++) sample[n] = pts[i * N + n]!;
    let best = -Infinity;
    let sawNaN = false;
    for (let t = 0, c = 0; t < Tc; t++, c += N) {
      let d2 = 0;
      for (let n = 0; n < N; n++) {
        const d = sample[n]! - mu[c + n]!;
        d2 += d * d;
      }
      const e = -d2 * invTwoVar;
      exponents[t] = e;
      if (e > best) best = e;
      else if (e !== e) sawNaN = true;
    }
    if (sawNaN) {
      out[i] = NaN;
      continue;
    }
    if (best === -Infinity) {
      out[i] = -Infinity; // every component infinitely far away
      continue;
    }
    let sum = 0;
    const cutoff = best - 746; // exp(< −745.2) is exactly 0 in float64: skip the call
    for (let t = 0; t < Tc; t++) {
      const e = exponents[t]!;
      if (e > cutoff) sum += Math.exp(e - best);
    }
    out[i] = best + Math.log(sum) + logNorm;
  }
  return out;
}

function toFloat64(a: Float32Array | Float64Array): Float64Array {
  return a instanceof Float64Array ? a : Float64Array.from(a);
}

/**
 * GMM D_stsp: mean over Monte-Carlo samples s ~ p_true of log p_true(s) − log p_gen(s), where each
 * mixture puts an isotropic Gaussian of variance `scaling` on each of the first `maxPoints` points of
 * its series (one-directional KL, Hershey & Olsen 2007). The two series may differ in length.
 * Returns NaN when every sample is dropped as underflowing (see `underflow`).
 */
export function dstspGmm(trueX: Series, genX: Series, opts: DstspGmmOptions = {}): number {
  checkSeries(trueX, "trueX");
  checkSeries(genX, "genX");
  checkSameDims(trueX, genX, "trueX", "genX");
  const { scaling = 1.0, maxPoints = 10000, samples = 1000, underflow = "float32" } = opts;
  if (!(scaling > 0) || !Number.isFinite(scaling)) throw new Error(`dstspGmm: scaling (σ²) must be > 0 (got ${scaling})`);
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new Error(`dstspGmm: maxPoints must be a positive integer`);
  if (!(underflow in LOG_MIN_DENSITY)) throw new Error(`dstspGmm: unknown underflow mode "${underflow}"`);
  const centresTrue = headRows(trueX, maxPoints);
  const centresGen = headRows(genX, maxPoints);
  if (centresTrue.T < 1 || centresGen.T < 1) throw new Error("dstspGmm: trueX and genX must be non-empty");

  let mc: Series;
  if (opts.mcSamples !== undefined) {
    mc = opts.mcSamples;
    checkSeries(mc, "mcSamples");
    checkSameDims(trueX, mc, "trueX", "mcSamples");
  } else {
    if (opts.rng === undefined) throw new Error("dstspGmm: pass `rng` (or injected `mcSamples`) to draw the Monte-Carlo samples");
    if (!Number.isInteger(samples) || samples < 1) throw new Error(`dstspGmm: samples must be a positive integer`);
    mc = drawGmmSamples(trueX, { scaling, maxPoints, samples, rng: opts.rng });
  }

  const sigma = Math.sqrt(scaling);
  const logP = gmmLogDensity(mc, centresTrue, sigma);
  const logQ = gmmLogDensity(mc, centresGen, sigma);
  const floor = LOG_MIN_DENSITY[underflow];
  let sum = 0;
  let kept = 0;
  for (let i = 0; i < mc.T; i++) {
    const lp = logP[i]!;
    const lq = logQ[i]!;
    if (lp < floor || lq < floor) continue;
    sum += lp - lq;
    kept++;
  }
  return kept === 0 ? NaN : sum / kept;
}

// ---------------------------------------------------------------------------------------------
// Dispatcher
// ---------------------------------------------------------------------------------------------

export interface DstspOptions extends DstspBinnedOptions, DstspGmmOptions {
  /** bins per dimension for the binned form (default 30) */
  bins?: number;
  /**
   * Use binning when N < binThreshold, the GMM form otherwise. Default 6 (GTF's rule
   * `N < 6 ? BIN : GMM`); the ALRNN Julia code uses 11.
   */
  binThreshold?: number;
}

export type DstspMethod = "binned" | "gmm";

/** Which form `dstsp` uses for N-dimensional data. */
export function dstspMethod(N: number, binThreshold = 6): DstspMethod {
  return N < binThreshold ? "binned" : "gmm";
}

/** D_stsp with the harmonised choice of form: binned for N < binThreshold (6), GMM otherwise. */
export function dstsp(trueX: Series, genX: Series, opts: DstspOptions = {}): number {
  checkSeries(trueX, "trueX");
  if (dstspMethod(trueX.N, opts.binThreshold ?? 6) === "binned") {
    return dstspBinned(trueX, genX, opts.bins ?? 30, opts);
  }
  return dstspGmm(trueX, genX, opts);
}
