/**
 * Evaluation measures of dynamical-systems reconstruction (harmonised Julia variant,
 * shared/reference/dsr-anchors.md §4 a): D_stsp (binned / GMM), D_H (power-spectrum Hellinger
 * distance) and PE(n) (n-step prediction error).
 */
export type { FloatArray, Series, ColumnStats } from "./series.js";
export { makeSeries, checkSeries, columnStats, column, headRows } from "./series.js";
export type { Rng } from "./rng.js";
export {
  dstsp,
  dstspBinned,
  dstspGmm,
  dstspMethod,
  binEdges,
  drawGmmSamples,
  gmmLogDensity,
  type DstspOptions,
  type DstspBinnedOptions,
  type DstspGmmOptions,
  type DstspMethod,
  type UnderflowMode,
} from "./dstsp.js";
export {
  hellingerPowerSpectrum,
  hellingerPowerSpectrumPerDim,
  hellingerDistance,
  normalizedPowerSpectrum,
  type PowerSpectrumOptions,
} from "./hellinger.js";
export {
  predictionError,
  predictionErrorCurve,
  predictionErrorAsync,
  predictionErrorCurveAsync,
  type StepFn,
  type InitStateFn,
  type ObserveFn,
  type AsyncStepFn,
  type AsyncInitStateFn,
  type AsyncObserveFn,
  type PredictionErrorOptions,
  type PredictionErrorAsyncOptions,
} from "./prediction-error.js";
export { fft, rfft, rfftPower, fftPlan, type ComplexFft } from "./fft.js";
export { gaussianFilter1d, gaussianKernel1d, type PadMode, type GaussianFilterOptions } from "./smoothing.js";
