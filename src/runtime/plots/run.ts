// The figures of a run directory: figures/data.json (the plotted data) and figures/*.svg|png.
// `rnnc train` writes them when it finishes; `rnnc report` reuses them or recomputes them from the
// run's ir.json, parameters and data.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Program } from "../../compiler/ir/types.js";
import { loadData, type LoadedData } from "../data/datasets.js";
import { DataError } from "../data/errors.js";
import { makeSimulator } from "../eval/simulator.js";
import { loadParams, type ParamValues } from "../model/params.js";
import { RUN_FILES, runPath, writeJson } from "../run/rundir.js";
import { Prng } from "../train/prng.js";
import { analysisMarks, type AnalysisMarks } from "./analysis.js";
import { runFigureData, type RunFigureData } from "./data.js";
import { buildFigures, writeFigureFiles, type Figure } from "./figures.js";
import { readMetrics } from "./metrics.js";

export const FIGURES_DIR = "figures";
export const FIGURE_DATA = join(FIGURES_DIR, "data.json");
/** Written by an analysis tool (e.g. `rnnc analyze ... --json > RUN/analysis.json`); optional. */
export const ANALYSIS_FILE = "analysis.json";

export interface TrainedModel {
  program: Program;
  params: ParamValues;
  /** "best.npz" or "params.npz" */
  paramsFile: string;
}

/** The parameters a run's figures show: the kept best if there is one, else the latest. */
export function runParamsFile(dir: string): string | undefined {
  for (const f of [RUN_FILES.best, RUN_FILES.params]) if (existsSync(join(dir, f))) return f;
  return undefined;
}

/** The bound program (ir.json) and parameters of a run directory. */
export function loadTrainedModel(dir: string): TrainedModel {
  const irPath = runPath(dir, "ir");
  if (!existsSync(irPath)) throw new DataError(`${dir} has no ${RUN_FILES.ir}; is it a run directory written by rnnc train?`);
  const program = JSON.parse(readFileSync(irPath, "utf8")) as Program;
  const paramsFile = runParamsFile(dir);
  if (!paramsFile) throw new DataError(`${dir} has neither ${RUN_FILES.best} nor ${RUN_FILES.params}`);
  return { program, params: loadParams(join(dir, paramsFile), program), paramsFile };
}

export interface DataLocation {
  /** The spec the run was trained from (config.json's `spec`): file data are relative to its folder. */
  spec?: string;
  /** Replaces the first data set (as `rnnc train --data` did). */
  dataFile?: string;
  testFile?: string;
}

/** The data a run was trained on, loaded again (built-in generators are seeded, so this is exact). */
export function loadRunData(program: Program, where: DataLocation): Map<string, LoadedData> {
  const root = new Prng(program.train?.seed ?? 1);
  return loadData(program, {
    ...(where.spec ? { baseDir: dirname(resolve(where.spec)) } : {}),
    ...(where.dataFile ? { dataFile: where.dataFile } : {}),
    ...(where.testFile ? { testFile: where.testFile } : {}),
    rng: (s) => root.fork(s),
  });
}

export function readFigureData(dir: string): RunFigureData | undefined {
  const p = join(dir, FIGURE_DATA);
  if (!existsSync(p)) return undefined;
  const d = JSON.parse(readFileSync(p, "utf8")) as RunFigureData;
  return d.version === 1 ? d : undefined;
}

/** The run's analysis.json as figure marks, latent points mapped through the model's observation. */
export function readRunAnalysis(dir: string, model?: TrainedModel): { raw: unknown; marks: AnalysisMarks } | undefined {
  const p = join(dir, ANALYSIS_FILE);
  if (!existsSync(p)) return undefined;
  const raw: unknown = JSON.parse(readFileSync(p, "utf8"));
  let observe: ((z: number[]) => number[]) | undefined;
  if (model) {
    const sim = makeSimulator(model.program, model.params);
    observe = (z) => (z.length === sim.latentSize ? Array.from(sim.observe(Float64Array.from(z), 1)) : z);
  }
  return { raw, marks: analysisMarks(raw, observe) };
}

/** Every figure of a run from what its directory holds. */
export function runFigures(dir: string, data: RunFigureData | undefined, analysis: AnalysisMarks | undefined, program?: Program): Figure[] {
  return buildFigures({
    ...(data ? { data } : {}),
    history: readMetrics(runPath(dir, "metrics")),
    ...(analysis ? { analysis } : {}),
    keepBestBy: program?.eval?.keepBestBy ?? null,
  });
}

/**
 * Computes and writes figures/data.json and every figure as SVG and PNG. Returns the figure files.
 * `data` are the loaded data sets (at the end of training: those trained on).
 */
export async function writeRunFigures(dir: string, model: TrainedModel, data: Map<string, LoadedData>): Promise<{ figureData: RunFigureData; files: string[] }> {
  const figureData = runFigureData(model.program, model.params, data, model.paramsFile);
  mkdirSync(join(dir, FIGURES_DIR), { recursive: true });
  writeJson(join(dir, FIGURE_DATA), figureData);
  const analysis = readRunAnalysis(dir, model)?.marks;
  const figures = runFigures(dir, figureData, analysis, model.program);
  return { figureData, files: await writeFigureFiles(join(dir, FIGURES_DIR), figures) };
}
