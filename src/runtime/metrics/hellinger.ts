/**
 * D_H: Hellinger distance between smoothed power spectra (harmonised Julia variant, dsr-anchors §4 a).
 *
 * Per dimension: z-score, PS = |rfft|², Gaussian smoothing (σ = `smoothing`, radius 4σ, scipy
 * "reflect" padding by default), negatives → 0, normalise to sum 1; then
 * H(p, q) = (1/√2)·‖√p − √q‖₂ (= √(1 − Σ√(pq)) for normalised p, q). D_H = mean over dimensions.
 *
 * The ‖√p − √q‖ form is used because it has no cancellation: identical spectra give exactly 0 and
 * small distances keep full relative precision (1 − Σ√(pq) loses ~8 digits near 0).
 */
import { rfftPower } from "./fft.js";
import { gaussianFilter1d, type PadMode } from "./smoothing.js";
import { checkSameDims, checkSeries, column, type Series } from "./series.js";

export interface PowerSpectrumOptions {
  /** kernel radius in σ (default 4, like scipy.ndimage.gaussian_filter1d) */
  truncate?: number;
  /** boundary mode of the smoothing (default "reflect" = scipy's default, half-sample symmetric) */
  padding?: PadMode;
}

/**
 * Normalised, smoothed power spectrum of one real series (length ⌊T/2⌋+1, sums to 1).
 * Returns an all-NaN array when the series is constant or non-finite (z-scoring is undefined).
 */
export function normalizedPowerSpectrum(x: ArrayLike<number>, smoothing: number, opts: PowerSpectrumOptions = {}): Float64Array {
  const T = x.length;
  if (T < 2) throw new Error(`normalizedPowerSpectrum: need at least 2 samples (got ${T})`);
  let mean = 0;
  for (let t = 0; t < T; t++) mean += x[t]!;
  mean /= T;
  let ss = 0;
  for (let t = 0; t < T; t++) ss += (x[t]! - mean) ** 2;
  const std = Math.sqrt(ss / (T - 1));
  const bins = Math.floor(T / 2) + 1;
  if (!(std > 0) || !Number.isFinite(std)) return new Float64Array(bins).fill(NaN);

  const z = new Float64Array(T);
  for (let t = 0; t < T; t++) z[t] = (x[t]! - mean) / std;
  let ps = rfftPower(z);
  if (smoothing > 0) {
    ps = gaussianFilter1d(ps, smoothing, { truncate: opts.truncate ?? 4.0, mode: opts.padding ?? "reflect" });
    // smoothing can leave tiny negative round-off; the reference code zeroes it
    for (let k = 0; k < bins; k++) if (ps[k]! < 0) ps[k] = 0;
  }
  let total = 0;
  for (let k = 0; k < bins; k++) total += ps[k]!;
  if (!(total > 0) || !Number.isFinite(total)) return ps.fill(NaN);
  for (let k = 0; k < bins; k++) ps[k] = ps[k]! / total;
  return ps;
}

/** Hellinger distance (1/√2)‖√p − √q‖₂ of two normalised distributions, clamped to [0, 1]. */
export function hellingerDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new Error(`hellingerDistance: length mismatch ${p.length} vs ${q.length}`);
  let sum = 0;
  for (let k = 0; k < p.length; k++) {
    const d = Math.sqrt(p[k]!) - Math.sqrt(q[k]!);
    sum += d * d;
  }
  const h = Math.sqrt(0.5 * sum);
  return h > 1 ? 1 : h; // NaN passes through
}

function checkPair(trueX: Series, genX: Series): void {
  checkSeries(trueX, "trueX");
  checkSeries(genX, "genX");
  checkSameDims(trueX, genX, "trueX", "genX");
  if (trueX.T !== genX.T) {
    throw new Error(
      `hellingerPowerSpectrum: trueX and genX must have the same length (got T=${trueX.T} and T=${genX.T}); ` +
        `generate exactly as many steps as the reference series has`,
    );
  }
  if (trueX.T < 2) throw new Error(`hellingerPowerSpectrum: need at least 2 time steps (got ${trueX.T})`);
}

/** D_H for each dimension separately (NaN for a dimension that is constant or non-finite). */
export function hellingerPowerSpectrumPerDim(
  trueX: Series,
  genX: Series,
  smoothing = 20,
  opts: PowerSpectrumOptions = {},
): Float64Array {
  checkPair(trueX, genX);
  if (!(smoothing >= 0)) throw new Error(`hellingerPowerSpectrum: smoothing must be >= 0 (got ${smoothing})`);
  const out = new Float64Array(trueX.N);
  for (let n = 0; n < trueX.N; n++) {
    const p = normalizedPowerSpectrum(column(trueX, n), smoothing, opts);
    const q = normalizedPowerSpectrum(column(genX, n), smoothing, opts);
    out[n] = hellingerDistance(p, q);
  }
  return out;
}

/**
 * D_H = mean over dimensions of the Hellinger distance between the smoothed, normalised power
 * spectra of trueX and genX. Both series must have the same length T. Value in [0, 1]; NaN when a
 * dimension of either series is constant or contains non-finite values (e.g. a diverged run —
 * the ALRNN Julia evaluation maps that NaN to 1).
 */
export function hellingerPowerSpectrum(trueX: Series, genX: Series, smoothing = 20, opts: PowerSpectrumOptions = {}): number {
  const perDim = hellingerPowerSpectrumPerDim(trueX, genX, smoothing, opts);
  let sum = 0;
  for (let n = 0; n < perDim.length; n++) sum += perDim[n]!;
  return sum / perDim.length;
}
