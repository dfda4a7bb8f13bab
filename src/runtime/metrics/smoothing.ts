/**
 * 1-D Gaussian smoothing that reproduces scipy.ndimage.gaussian_filter1d (order 0).
 */

/**
 * Boundary handling, named as in scipy.ndimage:
 *  - "reflect": half-sample symmetric, (d c b a | a b c d | d c b a) — scipy's default.
 *  - "mirror":  whole-sample symmetric, (d c b | a b c d | c b a) — what Julia's
 *    ImageFiltering calls "reflect", i.e. what the GTF/ALRNN Julia code actually uses.
 */
export type PadMode = "reflect" | "mirror";

/** Normalised Gaussian weights of radius ⌊truncate·σ + 0.5⌋ (scipy's rule; 161 taps for σ = 20). */
export function gaussianKernel1d(sigma: number, truncate = 4.0): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`gaussianKernel1d: sigma must be > 0 (got ${sigma})`);
  const radius = Math.floor(truncate * sigma + 0.5);
  const weights = new Float64Array(2 * radius + 1);
  const c = -0.5 / (sigma * sigma);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(c * i * i);
    weights[i + radius] = w;
    sum += w;
  }
  for (let i = 0; i < weights.length; i++) weights[i] = weights[i]! / sum;
  return weights;
}

/** Maps an out-of-range index onto [0, len) for the given boundary mode (any distance from the edge). */
export function boundaryIndex(i: number, len: number, mode: PadMode): number {
  if (i >= 0 && i < len) return i;
  if (len === 1) return 0;
  const period = mode === "reflect" ? 2 * len : 2 * len - 2;
  let j = i % period;
  if (j < 0) j += period;
  if (j >= len) j = mode === "reflect" ? period - 1 - j : period - j;
  return j;
}

export interface GaussianFilterOptions {
  /** kernel radius in units of σ (scipy default 4) */
  truncate?: number;
  mode?: PadMode;
}

/** Correlates x with a Gaussian of standard deviation σ; returns a new array. */
export function gaussianFilter1d(x: ArrayLike<number>, sigma: number, opts: GaussianFilterOptions = {}): Float64Array {
  const { truncate = 4.0, mode = "reflect" } = opts;
  const weights = gaussianKernel1d(sigma, truncate);
  const radius = (weights.length - 1) / 2;
  const len = x.length;
  const out = new Float64Array(len);
  if (len === 0) return out;
  // Pad once so the inner loop is branch-free.
  const padded = new Float64Array(len + 2 * radius);
  for (let i = 0; i < padded.length; i++) padded[i] = x[boundaryIndex(i - radius, len, mode)]!;
  const center = weights[radius]!;
  for (let i = 0; i < len; i++) {
    const c = i + radius;
    // the kernel is symmetric: pair the taps to halve the multiplications
    let acc = center * padded[c]!;
    for (let j = 1; j <= radius; j++) acc += weights[radius + j]! * (padded[c + j]! + padded[c - j]!);
    out[i] = acc;
  }
  return out;
}
