/**
 * PE(n): n-step-ahead prediction error (dsr-anchors §4 a; Julia `prediction_error`).
 *
 * From every test point x_t: z = initState(x_t), iterate the model n times, observe, and compare
 * with x_{t+n}; PE(n) = mean squared error over all valid starts t ∈ [0, T−n) and all N dimensions.
 *
 * The model is abstract and batched: starts are processed `batchSize` at a time as [B, M] state
 * matrices (row-major), so a vectorised model (e.g. one tfjs call per step) stays fast.
 */
import { checkSeries, type FloatArray, type Series } from "./series.js";

/** One model step on a batch: states [B, M] → next states [B, M] (row-major). */
export type StepFn = (states: FloatArray, batch: number) => FloatArray;
/** Initial latent states from observations: x [B, N] → z [B, M]. */
export type InitStateFn = (x: Float64Array, batch: number) => FloatArray;
/** Observation model: states [B, M] → observations [B, N]. */
export type ObserveFn = (states: FloatArray, batch: number) => FloatArray;

export interface PredictionErrorOptions {
  /** default: identity, z = x (M = N) */
  initState?: InitStateFn;
  /** default: the first N state coordinates (identity observation of the first N units) */
  observe?: ObserveFn;
  /** starts per model call (default 1024) */
  batchSize?: number;
  /**
   * Cap on the number of start points: when more starts are valid, K = maxStarts evenly spaced
   * starts t_j = ⌊j·S/K⌋ (S = number of valid starts) are used instead. Default: all starts.
   */
  maxStarts?: number;
}

export type AsyncStepFn = (states: FloatArray, batch: number) => FloatArray | Promise<FloatArray>;
export type AsyncInitStateFn = (x: Float64Array, batch: number) => FloatArray | Promise<FloatArray>;
export type AsyncObserveFn = (states: FloatArray, batch: number) => FloatArray | Promise<FloatArray>;

export interface PredictionErrorAsyncOptions extends Omit<PredictionErrorOptions, "initState" | "observe"> {
  initState?: AsyncInitStateFn;
  observe?: AsyncObserveFn;
}

interface Plan {
  starts: Float64Array; // start indices, ascending (Float64Array: exact integers, no 2^31 limit)
  batchSize: number;
  n: number;
  /** observe and score after every step 1..n (curve) or only after step n */
  everyStep: boolean;
}

function makePlan(testX: Series, n: number, opts: { batchSize?: number; maxStarts?: number }, everyStep: boolean): Plan {
  checkSeries(testX, "testX");
  if (!Number.isInteger(n) || n < 1) throw new Error(`predictionError: n must be a positive integer (got ${n})`);
  const batchSize = opts.batchSize ?? 1024;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`predictionError: batchSize must be a positive integer`);
  // For the curve every start with at least one target (t < T−1) is used; each PE(k) then averages
  // over exactly the starts t < T−k, as a standalone PE(k) would.
  const validStarts = everyStep ? testX.T - 1 : testX.T - n;
  if (validStarts < 1) throw new Error(`predictionError: testX (T=${testX.T}) is too short for n=${n}`);
  let count = validStarts;
  if (opts.maxStarts !== undefined) {
    if (!Number.isInteger(opts.maxStarts) || opts.maxStarts < 1) throw new Error(`predictionError: maxStarts must be a positive integer`);
    count = Math.min(count, opts.maxStarts);
  }
  const starts = new Float64Array(count);
  for (let j = 0; j < count; j++) starts[j] = count === validStarts ? j : Math.floor((j * validStarts) / count);
  return { starts, batchSize, n, everyStep };
}

function gatherRows(testX: Series, starts: Float64Array, from: number, to: number): Float64Array {
  const N = testX.N;
  const out = new Float64Array((to - from) * N);
  for (let j = from; j < to; j++) {
    const src = starts[j]! * N;
    const dst = (j - from) * N;
    for (let d = 0; d < N; d++) out[dst + d] = testX.data[src + d]!;
  }
  return out;
}

/** Number of rows in the batch (starts[from..to)) that still have a target after k steps: a prefix, since starts ascend. */
function rowsWithTarget(starts: Float64Array, from: number, to: number, k: number, T: number): number {
  let rows = to - from;
  while (rows > 0 && starts[from + rows - 1]! + k >= T) rows--;
  return rows;
}

function checkLength(arr: FloatArray, rows: number, what: string): number {
  if (rows === 0 || arr.length % rows !== 0) {
    throw new Error(`predictionError: ${what} returned ${arr.length} values, not a multiple of the batch size ${rows}`);
  }
  return arr.length / rows;
}

/** Adds Σ (ŷ − x_{t+k})² over the first `rows` rows to sse[k−1]. */
function accumulate(
  testX: Series,
  starts: Float64Array,
  from: number,
  rows: number,
  k: number,
  observed: FloatArray,
  sse: Float64Array,
  count: Float64Array,
): void {
  const N = testX.N;
  if (observed.length !== rows * N) {
    throw new Error(`predictionError: observe returned ${observed.length} values, expected ${rows}x${N}`);
  }
  let acc = 0;
  for (let r = 0; r < rows; r++) {
    const target = (starts[from + r]! + k) * N;
    const o = r * N;
    for (let d = 0; d < N; d++) {
      const e = observed[o + d]! - testX.data[target + d]!;
      acc += e * e;
    }
  }
  sse[k - 1]! += acc;
  count[k - 1]! += rows * N;
}

function defaultObserve(N: number): ObserveFn {
  return (states, batch) => {
    const M = states.length / batch;
    if (M === N) return states;
    if (M < N) throw new Error(`predictionError: state dimension M=${M} < N=${N}; pass an observe function`);
    const out = new Float64Array(batch * N);
    for (let b = 0; b < batch; b++) for (let d = 0; d < N; d++) out[b * N + d] = states[b * M + d]!;
    return out;
  };
}

const identityInit: InitStateFn = (x) => x;

/** Shrinks a [rows0, M] state batch to its first `rows` rows (a view). */
function firstRows(states: FloatArray, rows0: number, rows: number): FloatArray {
  if (rows === rows0) return states;
  const M = states.length / rows0;
  return states.subarray(0, rows * M);
}

function finish(sse: Float64Array, count: Float64Array): Float64Array {
  const out = new Float64Array(sse.length);
  for (let k = 0; k < sse.length; k++) out[k] = count[k]! > 0 ? sse[k]! / count[k]! : NaN;
  return out;
}

function runSync(step: StepFn, testX: Series, plan: Plan, opts: PredictionErrorOptions): Float64Array {
  const initState = opts.initState ?? identityInit;
  const observe = opts.observe ?? defaultObserve(testX.N);
  const { starts, batchSize, n, everyStep } = plan;
  const sse = new Float64Array(n);
  const count = new Float64Array(n);
  for (let from = 0; from < starts.length; from += batchSize) {
    const to = Math.min(from + batchSize, starts.length);
    let rows = to - from;
    let z = initState(gatherRows(testX, starts, from, to), rows);
    checkLength(z, rows, "initState");
    for (let k = 1; k <= n; k++) {
      const live = everyStep ? rowsWithTarget(starts, from, to, k, testX.T) : rows;
      if (live === 0) break;
      z = firstRows(z, rows, live);
      rows = live;
      z = step(z, rows);
      checkLength(z, rows, "step");
      if (everyStep || k === n) accumulate(testX, starts, from, rows, k, observe(z, rows), sse, count);
    }
  }
  return finish(sse, count);
}

async function runAsync(
  step: AsyncStepFn,
  testX: Series,
  plan: Plan,
  opts: PredictionErrorAsyncOptions,
): Promise<Float64Array> {
  const initState = opts.initState ?? identityInit;
  const observe = opts.observe ?? defaultObserve(testX.N);
  const { starts, batchSize, n, everyStep } = plan;
  const sse = new Float64Array(n);
  const count = new Float64Array(n);
  for (let from = 0; from < starts.length; from += batchSize) {
    const to = Math.min(from + batchSize, starts.length);
    let rows = to - from;
    let z = await initState(gatherRows(testX, starts, from, to), rows);
    checkLength(z, rows, "initState");
    for (let k = 1; k <= n; k++) {
      const live = everyStep ? rowsWithTarget(starts, from, to, k, testX.T) : rows;
      if (live === 0) break;
      z = firstRows(z, rows, live);
      rows = live;
      z = await step(z, rows);
      checkLength(z, rows, "step");
      if (everyStep || k === n) accumulate(testX, starts, from, rows, k, await observe(z, rows), sse, count);
    }
  }
  return finish(sse, count);
}

/** PE(n): MSE of the n-step-ahead prediction from every start t ∈ [0, T−n), averaged over t and dims. */
export function predictionError(step: StepFn, testX: Series, n = 20, opts: PredictionErrorOptions = {}): number {
  return runSync(step, testX, makePlan(testX, n, opts, false), opts)[n - 1]!;
}

/**
 * The curve [PE(1), …, PE(n)] in one pass; entry k−1 equals predictionError(…, k) (each k averages
 * over its own valid starts t < T−k; with maxStarts the subsampled start set is shared).
 */
export function predictionErrorCurve(step: StepFn, testX: Series, n = 20, opts: PredictionErrorOptions = {}): Float64Array {
  return runSync(step, testX, makePlan(testX, n, opts, true), opts);
}

/** predictionError for models whose calls return Promises (e.g. tfjs `.data()`). */
export async function predictionErrorAsync(
  step: AsyncStepFn,
  testX: Series,
  n = 20,
  opts: PredictionErrorAsyncOptions = {},
): Promise<number> {
  return (await runAsync(step, testX, makePlan(testX, n, opts, false), opts))[n - 1]!;
}

/** predictionErrorCurve for models whose calls return Promises. */
export async function predictionErrorCurveAsync(
  step: AsyncStepFn,
  testX: Series,
  n = 20,
  opts: PredictionErrorAsyncOptions = {},
): Promise<Float64Array> {
  return runAsync(step, testX, makePlan(testX, n, opts, true), opts);
}
