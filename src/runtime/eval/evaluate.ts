// The field's reconstruction measures for a trained model: a long free run from the first test
// point compared with the test trajectory (D_stsp, D_H), and n-step prediction errors from many
// test points (PE). Definitions: src/runtime/metrics (the harmonised variant of the references).
import type { EvalPlan } from "../../compiler/ir/types.js";
import type { NdArray } from "../data/npy.js";
import { dstsp, hellingerPowerSpectrum, predictionError } from "../metrics/index.js";
import type { FloatArray, Series } from "../metrics/series.js";
import { Prng } from "../train/prng.js";

/** What evaluation needs from a model (implemented by the interpreter backend). */
export interface Simulator {
  /** Number of observed features. */
  readonly features: number;
  /** Free run of `steps` observations after the initial one, starting from a first observation x0. */
  freeRun(x0: Float64Array, steps: number): Float64Array;
  /** For PE: latent state from observations [B, N], one step, and the observation of states. */
  latentSize: number;
  initState(x: FloatArray, B: number): Float64Array;
  step(states: FloatArray, B: number): Float64Array;
  observe(states: FloatArray, B: number): Float64Array;
}

export interface Scores {
  dstsp?: number;
  dh?: number;
  pe?: number;
  /** The number of free-running steps compared (after dropping the transient). */
  compared: number;
  diverged: boolean;
}

function series(a: NdArray | FloatArray, T: number, N: number): Series {
  return { data: a instanceof Float64Array || a instanceof Float32Array ? a : a.data, T, N };
}

export interface EvaluateOptions {
  /** At most this many starting points for PE (evenly spaced); the full test set by default. */
  peStarts?: number;
  /** Cap on the free-run length (for quick in-training checks). */
  maxSteps?: number;
}

export function evaluate(sim: Simulator, test: NdArray, plan: EvalPlan, opts: EvaluateOptions = {}): Scores {
  const [T, N] = test.shape as [number, number];
  const x0 = Float64Array.from(test.data.subarray(0, N));
  let steps = plan.steps ?? Math.round(T / (1 - plan.drop));
  if (opts.maxSteps) steps = Math.min(steps, opts.maxSteps);
  const drop = Math.round(steps * plan.drop);
  const run = sim.freeRun(x0, steps);
  const kept = run.subarray((drop + 1) * N, (steps + 1) * N);
  const Tg = kept.length / N;
  let diverged = false;
  for (const v of kept) {
    if (!Number.isFinite(v) || Math.abs(v) > 1e6) {
      diverged = true;
      break;
    }
  }
  const scores: Scores = { compared: Tg, diverged };
  const trueX = series(test, T, N);
  const genX = series(Float64Array.from(kept), Tg, N);
  for (const m of plan.measures) {
    if (m.kind === "dstsp") {
      scores.dstsp = diverged ? NaN : dstsp(trueX, genX, { bins: m.bins, ...(m.method === "bins" ? { binThreshold: Infinity } : m.method === "gmm" ? { binThreshold: 0 } : {}), scaling: m.scaling, rng: new Prng(0) });
    } else if (m.kind === "dh") {
      // D_H compares spectra of equal length: the last T generated points, or the first Tg test points.
      const n = Math.min(T, Tg);
      const a = series(test.data.subarray(0, n * N), n, N);
      const b = series(Float64Array.from(kept.subarray(0, n * N)), n, N);
      // A diverged or constant free run has no spectrum: D_H = 1, its maximum (as the ALRNN code does).
      const dh = diverged ? 1 : hellingerPowerSpectrum(a, b, m.smoothing);
      scores.dh = Number.isFinite(dh) ? dh : 1;
    } else {
      scores.pe = predictionError(
        (states, B) => sim.step(states, B),
        trueX,
        m.steps,
        { initState: (x, B) => sim.initState(x, B), observe: (s, B) => sim.observe(s, B), ...(opts.peStarts ? { maxStarts: opts.peStarts } : {}) },
      );
    }
  }
  return scores;
}
