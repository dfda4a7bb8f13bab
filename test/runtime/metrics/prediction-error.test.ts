import { describe, expect, it } from "vitest";
import {
  predictionError,
  predictionErrorAsync,
  predictionErrorCurve,
  predictionErrorCurveAsync,
  type StepFn,
} from "../../../src/runtime/metrics/prediction-error.js";
import type { FloatArray, Series } from "../../../src/runtime/metrics/series.js";
import { expected, head, loadSeries, relErr, seededRng } from "./helpers.js";

/** Batched z' = A z (row-major [B, M]). */
function linearStep(A: number[][]): StepFn {
  const M = A.length;
  return (z: FloatArray, B: number) => {
    const out = new Float64Array(B * M);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < M; i++) {
        let s = 0;
        for (let j = 0; j < M; j++) s += A[i]![j]! * z[b * M + j]!;
        out[b * M + i] = s;
      }
    }
    return out;
  };
}

const pe = expected().prediction_error;
const x = loadSeries("pe_linear_x");

describe("predictionError vs numpy reference", () => {
  it("linear model: PE(1..20) curve and PE(20) (rel. err < 1e-12)", () => {
    const step = linearStep(pe.A_model);
    const curve = predictionErrorCurve(step, x, 20);
    expect(curve.length).toBe(20);
    curve.forEach((v, k) => expect(relErr(v, pe.curve[k]), `k=${k + 1}`).toBeLessThan(1e-12));
    expect(relErr(predictionError(step, x, 20), pe.pe20)).toBeLessThan(1e-12);
    // each curve entry is a standalone PE(k)
    expect(relErr(predictionError(step, x, 7), curve[6]!)).toBeLessThan(1e-12);
  });

  it("maxStarts uses evenly spaced starts ⌊j·S/K⌋", () => {
    const step = linearStep(pe.A_model);
    expect(relErr(predictionError(step, x, 20, { maxStarts: 97 }), pe.pe20_max97)).toBeLessThan(1e-12);
    const curve = predictionErrorCurve(step, x, 20, { maxStarts: 97 });
    curve.forEach((v, k) => expect(relErr(v, pe.curve_max97[k]), `k=${k + 1}`).toBeLessThan(1e-12));
  });

  it("latent model with M > N: tanh RNN, z0 = [x, 0, 0], observe first N units", () => {
    const { W, b, rows, curve: want } = pe.tanh;
    const M = 5;
    const step: StepFn = (z, B) => {
      const out = new Float64Array(B * M);
      for (let r = 0; r < B; r++)
        for (let i = 0; i < M; i++) {
          let s = b[i];
          for (let j = 0; j < M; j++) s += W[i][j] * z[r * M + j]!;
          out[r * M + i] = Math.tanh(s);
        }
      return out;
    };
    const initState = (xb: Float64Array, B: number) => {
      const z = new Float64Array(B * M);
      for (let r = 0; r < B; r++) for (let d = 0; d < 3; d++) z[r * M + d] = xb[r * 3 + d]!;
      return z;
    };
    const X = head(loadSeries("lorenz_true"), rows);
    // default observe = first N units; batch size deliberately not a divisor of T
    const curve = predictionErrorCurve(step, X, 10, { initState, batchSize: 333 });
    curve.forEach((v, k) => expect(relErr(v, want[k]), `k=${k + 1}`).toBeLessThan(1e-12));
    const explicitObserve = predictionErrorCurve(step, X, 10, {
      initState,
      observe: (z, B) => {
        const o = new Float64Array(B * 3);
        for (let r = 0; r < B; r++) for (let d = 0; d < 3; d++) o[r * 3 + d] = z[r * M + d]!;
        return o;
      },
    });
    explicitObserve.forEach((v, k) => expect(relErr(v, want[k])).toBeLessThan(1e-12));
  });
});

describe("predictionError properties", () => {
  it("is exactly 0 for a perfect model of a (noise-free) linear system", () => {
    const A = [
      [0.9, -0.3, 0.1],
      [0.3, 0.9, 0.0],
      [0.0, 0.2, 0.95],
    ];
    const step = linearStep(A);
    const T = 3000;
    const data = new Float64Array(T * 3);
    data.set([1, -0.5, 2]);
    for (let t = 1; t < T; t++) data.set(step(data.subarray((t - 1) * 3, t * 3), 1), t * 3);
    const X: Series = { data, T, N: 3 };
    expect(predictionError(step, X, 20)).toBe(0);
    expect(Array.from(predictionErrorCurve(step, X, 20)).every((v) => v === 0)).toBe(true);
  });

  it("does not depend on the batch size (beyond summation order)", () => {
    const step = linearStep(pe.A_model);
    const ref = predictionErrorCurve(step, x, 20, { batchSize: 1024 });
    for (const batchSize of [1, 7, 5000]) {
      const c = predictionErrorCurve(step, x, 20, { batchSize });
      c.forEach((v, k) => expect(relErr(v, ref[k]!)).toBeLessThan(1e-12));
    }
  });

  it("async variants give the same numbers (Promise-returning model calls)", async () => {
    const step = linearStep(pe.A_model);
    const asyncStep = async (z: FloatArray, B: number) => step(z, B);
    expect(await predictionErrorAsync(asyncStep, x, 20)).toBe(predictionError(step, x, 20));
    const c = await predictionErrorCurveAsync(asyncStep, x, 20, { batchSize: 100, observe: async (z) => z });
    const s = predictionErrorCurve(step, x, 20, { batchSize: 100 });
    expect(Array.from(c)).toEqual(Array.from(s));
  });

  it("passes shrinking batches to the model and validates shapes", () => {
    const seen: number[] = [];
    const step: StepFn = (z, B) => {
      seen.push(B);
      expect(z.length).toBe(B * 3);
      return z;
    };
    const X = head(x, 50);
    predictionErrorCurve(step, X, 5, { batchSize: 64 });
    // 49 starts with ≥ 1 target; after k steps only starts t < 50 − k remain
    expect(seen).toEqual([49, 48, 47, 46, 45]);
    expect(() => predictionError(step, head(x, 10), 10)).toThrow(/too short/);
    expect(() => predictionError((z, B) => z.subarray(0, B), X, 2)).toThrow();
    const rng = seededRng(1);
    expect(predictionError((z) => z.map(() => rng.normal()), X, 3)).toBeGreaterThan(0);
  });
});
