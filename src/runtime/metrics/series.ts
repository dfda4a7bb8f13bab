/**
 * A trajectory X: [T, N] stored row-major (time-major): x_t[n] = data[t * N + n].
 *
 * All metrics accept Float32Array or Float64Array storage and do their arithmetic
 * in float64 (float32 values convert exactly).
 */
export type FloatArray = Float32Array | Float64Array;

export interface Series {
  readonly data: FloatArray;
  /** number of time steps (rows) */
  readonly T: number;
  /** number of observed dimensions (columns) */
  readonly N: number;
}

/** Builds a Series, checking that the buffer length matches T·N. */
export function makeSeries(data: FloatArray, T: number, N: number): Series {
  const s: Series = { data, T, N };
  checkSeries(s, "series");
  return s;
}

/** Throws a descriptive Error when `s` is not a well-formed [T, N] series. */
export function checkSeries(s: Series, name: string): void {
  if (s === null || typeof s !== "object" || !(s.data instanceof Float32Array || s.data instanceof Float64Array)) {
    throw new Error(`${name}: expected { data: Float32Array | Float64Array, T, N }`);
  }
  if (!Number.isInteger(s.T) || s.T < 0 || !Number.isInteger(s.N) || s.N < 1) {
    throw new Error(`${name}: T must be a non-negative integer and N a positive integer (got T=${s.T}, N=${s.N})`);
  }
  if (s.data.length !== s.T * s.N) {
    throw new Error(`${name}: data.length ${s.data.length} != T*N = ${s.T}*${s.N}`);
  }
}

/** Throws when the two series do not have the same number of dimensions. */
export function checkSameDims(a: Series, b: Series, nameA: string, nameB: string): void {
  if (a.N !== b.N) {
    throw new Error(`${nameA} has N=${a.N} dimensions but ${nameB} has N=${b.N}`);
  }
}

/** Per-dimension statistics of a series (sample std uses the n−1 denominator, like Julia's `std`). */
export interface ColumnStats {
  min: Float64Array;
  max: Float64Array;
  mean: Float64Array;
  /** corrected (n−1) standard deviation; NaN when T < 2 */
  std: Float64Array;
}

export function columnStats(s: Series): ColumnStats {
  const { data, T, N } = s;
  const min = new Float64Array(N).fill(Infinity);
  const max = new Float64Array(N).fill(-Infinity);
  const mean = new Float64Array(N);
  const std = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    const row = t * N;
    for (let n = 0; n < N; n++) {
      const v = data[row + n]!;
      if (v < min[n]!) min[n] = v;
      if (v > max[n]!) max[n] = v;
      mean[n]! += v;
    }
  }
  for (let n = 0; n < N; n++) mean[n] = mean[n]! / T;
  // Two-pass variance: numerically safer than the sum-of-squares formula.
  for (let t = 0; t < T; t++) {
    const row = t * N;
    for (let n = 0; n < N; n++) {
      const d = data[row + n]! - mean[n]!;
      std[n]! += d * d;
    }
  }
  for (let n = 0; n < N; n++) std[n] = T > 1 ? Math.sqrt(std[n]! / (T - 1)) : NaN;
  return { min, max, mean, std };
}

/** Copies column `n` of a series into a new Float64Array of length T. */
export function column(s: Series, n: number): Float64Array {
  const out = new Float64Array(s.T);
  for (let t = 0, i = n; t < s.T; t++, i += s.N) out[t] = s.data[i]!;
  return out;
}

/** The first `rows` rows of a series (a view, no copy). */
export function headRows(s: Series, rows: number): Series {
  const r = Math.min(rows, s.T);
  return { data: s.data.subarray(0, r * s.N), T: r, N: s.N };
}
