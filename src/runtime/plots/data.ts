// The plain data behind the figures of a run, computed once from a trained model and its data and
// stored as figures/data.json, so that `rnnc report` and the figure builders need neither the model
// nor the data again. Everything here is JSON: arrays of rows, rounded to 5 significant digits.
import { compileModel, generate } from "../../compiler/backends/interp/index.js";
import type { EvalPlan, Program } from "../../compiler/ir/types.js";
import type { LoadedData, SeriesData, TaskSplit } from "../data/datasets.js";
import type { NdArray } from "../data/npy.js";
import { makeSimulator } from "../eval/simulator.js";
import { normalizedPowerSpectrum } from "../metrics/index.js";
import type { ParamValues } from "../model/params.js";
import { Prng } from "../train/prng.js";

export type Rows = number[][];

/** A reconstruction of a trajectory (series data): the test data next to a free run of the model. */
export interface SeriesFigureData {
  kind: "series";
  /** Observed feature names, e.g. x[0], x[1], x[2]. */
  features: string[];
  /** The first steps of the test data and of the free run started from its first point. */
  window: { true: Rows; generated: Rows };
  /** Long stretches of both (after the transient), thinned to a few thousand points: the attractor. */
  attractor: { true: Rows; generated: Rows; stride: number };
  /** Smoothed, normalised power spectra per feature, as D_H compares them. */
  spectra: { frequency: number[]; true: Rows; generated: Rows; smoothing: number };
  /** The protocol: free-run length, the discarded transient, and whether the run diverged. */
  freeRun: { steps: number; dropped: number; diverged: boolean };
}

/** An input-driven task: a few test trials with the model's outputs. */
export interface TaskFigureData {
  kind: "task";
  inputs: string[];
  outputs: string[];
  trials: { input: Rows; target: Rows; output: Rows; mask: Rows }[];
}

export interface RunFigureData {
  version: 1;
  model: string;
  title: string;
  /** Which parameters the figures show ("best.npz" or "params.npz"). */
  params: string;
  data: SeriesFigureData | TaskFigureData;
}

export const FIGURE_LIMITS = {
  /** steps of the time-series window */
  window: 1500,
  /** points of each attractor after thinning */
  attractorPoints: 6000,
  /** the contiguous stretch the attractor is thinned from */
  attractorStretch: 12000,
  /** points of each spectrum */
  spectrumPoints: 400,
  /** task trials shown */
  trials: 3,
} as const;

/** 5 significant digits: enough for any plot, a third of the size of full doubles. */
export function round5(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(5)) : v;
}

/** Rows [from, to) of a row-major [T, N] buffer, every `stride`-th, rounded. */
export function rows(data: ArrayLike<number>, N: number, from: number, to: number, stride = 1): Rows {
  const out: Rows = [];
  for (let t = from; t < to; t += stride) {
    const r = new Array<number>(N);
    for (let j = 0; j < N; j++) r[j] = round5(data[t * N + j]!);
    out.push(r);
  }
  return out;
}

function column(data: ArrayLike<number>, T: number, N: number, j: number): Float64Array {
  const c = new Float64Array(T);
  for (let t = 0; t < T; t++) c[t] = data[t * N + j]!;
  return c;
}

/** The length and transient of the evaluation free run: the protocol of runtime/eval/evaluate.ts. */
function freeRunLength(testSteps: number, plan: EvalPlan | null): { steps: number; drop: number } {
  const drop = plan?.drop ?? 0.2;
  const steps = plan?.steps ?? Math.round(testSteps / (1 - drop));
  return { steps, drop: Math.round(steps * drop) };
}

/**
 * Power spectra of both series over the frequencies that carry the true signal (up to where 99.9 %
 * of its power lies, at least a tenth of the band), thinned to at most `points` frequencies.
 */
export function spectra(trueX: ArrayLike<number>, genX: ArrayLike<number>, T: number, N: number, smoothing: number, points: number = FIGURE_LIMITS.spectrumPoints): SeriesFigureData["spectra"] {
  const pt: Float64Array[] = [];
  const pg: Float64Array[] = [];
  for (let j = 0; j < N; j++) {
    pt.push(normalizedPowerSpectrum(column(trueX, T, N, j), smoothing));
    pg.push(normalizedPowerSpectrum(column(genX, T, N, j), smoothing));
  }
  const bins = pt[0]!.length;
  let cut = Math.max(2, Math.ceil(bins / 10));
  for (const p of pt) {
    let acc = 0;
    for (let k = 0; k < bins; k++) {
      acc += Number.isFinite(p[k]!) ? p[k]! : 0;
      if (acc >= 0.999) {
        cut = Math.max(cut, Math.min(bins, Math.ceil((k + 1) * 1.2)));
        break;
      }
    }
  }
  const stride = Math.max(1, Math.ceil(cut / points));
  const frequency: number[] = [];
  const t: Rows = [];
  const g: Rows = [];
  for (let k = 0; k < cut; k += stride) {
    frequency.push(round5(k / T));
    t.push(pt.map((p) => round5(p[k]!)));
    g.push(pg.map((p) => round5(p[k]!)));
  }
  return { frequency, true: t, generated: g, smoothing };
}

function finiteRows(data: Float64Array, N: number): number {
  // Rows up to the first non-finite or exploded value (a diverged run has nothing to plot after it).
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!) || Math.abs(data[i]!) > 1e6) return Math.floor(i / N);
  return data.length / N;
}

/** x[0], x[1], ...: the observation's name with each index. */
export function featureNames(program: Program, n: number): string[] {
  const name = program.observations[0]?.name ?? "x";
  return Array.from({ length: n }, (_, j) => `${name}[${j}]`);
}

/** Figure data of a model of a series: the evaluation protocol's free run next to the test data. */
export function seriesFigureData(program: Program, params: ParamValues, data: SeriesData): SeriesFigureData {
  const test: NdArray = data.test;
  const [T, N] = test.shape as [number, number];
  const sim = makeSimulator(program, params);
  const { steps, drop } = freeRunLength(T, program.eval);
  const observed = sim.freeRun(Float64Array.from(test.data.subarray(0, N)), steps);
  const good = finiteRows(observed, N);
  const diverged = good < steps + 1;

  const windowSteps = Math.min(FIGURE_LIMITS.window, T, steps + 1);
  const window = { true: rows(test.data, N, 0, windowSteps), generated: rows(observed, N, 0, Math.min(windowSteps, good)) };

  // The attractor: a contiguous stretch after the transient, thinned evenly.
  const stretch = (from: number, to: number) => {
    const len = Math.max(0, Math.min(to - from, FIGURE_LIMITS.attractorStretch));
    return { from: to - len, to, stride: Math.max(1, Math.ceil(len / FIGURE_LIMITS.attractorPoints)) };
  };
  const st = stretch(0, T);
  const sg = stretch(Math.min(drop + 1, good), good);
  const stride = Math.max(st.stride, sg.stride);
  const attractor = { true: rows(test.data, N, st.from, st.to, stride), generated: rows(observed, N, sg.from, sg.to, stride), stride };

  // Spectra of equal lengths, as D_H compares them: the first n test points and n kept free-run points.
  const dh = program.eval?.measures.find((m) => m.kind === "dh");
  const smoothing = dh?.kind === "dh" ? dh.smoothing : 20;
  const keptFrom = drop + 1;
  const n = Math.min(T, Math.max(0, good - keptFrom));
  const spec = n >= 16 && !diverged
    ? spectra(test.data.subarray(0, n * N), observed.subarray(keptFrom * N, (keptFrom + n) * N), n, N, smoothing)
    : { frequency: [], true: [], generated: [], smoothing };
  return {
    kind: "series",
    features: featureNames(program, N),
    window,
    attractor,
    spectra: spec,
    freeRun: { steps, dropped: drop, diverged },
  };
}

/** Figure data of a task network: the first test trials, run with their inputs. */
export function taskFigureData(program: Program, params: ParamValues, split: TaskSplit, trials: number = FIGURE_LIMITS.trials): TaskFigureData {
  const [S, T, I] = split.input.shape as [number, number, number];
  const O = split.target.shape[2]!;
  const model = compileModel(program);
  const raw: Record<string, Float32Array> = {};
  for (const [k, v] of params) raw[k] = v.data;
  const eff = model.effectiveParams(raw);
  const obsName = model.observations[0]!.name;
  const rng = new Prng(0);
  const out: TaskFigureData["trials"] = [];
  for (let s = 0; s < Math.min(S, trials); s++) {
    const input = split.input.data.subarray(s * T * I, (s + 1) * T * I);
    // Step t reads input t and its observation is compared with target t (the training objective).
    const r = generate(model, eff, { steps: T, ...(model.inputs.length ? { inputs: input } : {}), rng: { normal: () => rng.normal() }, latent: false });
    const observed = r.observed[obsName]!;
    out.push({
      input: rows(input, I, 0, T),
      target: rows(split.target.data.subarray(s * T * O, (s + 1) * T * O), O, 0, T),
      mask: rows(split.mask.data.subarray(s * T * O, (s + 1) * T * O), O, 0, T),
      output: rows(observed, O, 1, T + 1),
    });
  }
  const inName = program.inputs[0]?.name ?? "u";
  return {
    kind: "task",
    inputs: Array.from({ length: I }, (_, j) => `${inName}[${j}]`),
    outputs: featureNames(program, O),
    trials: out,
  };
}

/** The figure data of a trained model on the data set its loss is computed on. */
export function runFigureData(program: Program, params: ParamValues, data: Map<string, LoadedData>, paramsFile: string): RunFigureData {
  const evalData = program.eval ? data.get(program.eval.from.data) : undefined;
  const lossData = program.train ? data.get(program.train.loss.target.data) : undefined;
  const d = evalData ?? lossData ?? [...data.values()][0];
  if (!d) throw new Error("the model has no data to plot");
  return {
    version: 1,
    model: program.model.name,
    title: program.model.title ?? "",
    params: paramsFile,
    data: d.kind === "series" ? seriesFigureData(program, params, d) : taskFigureData(program, params, d.test),
  };
}
