// `rnnc report RUN_DIR`: gathers what a run directory holds, draws the figures that are missing or
// out of date, and writes one self-contained HTML file.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { Program } from "../../compiler/ir/types.js";
import { writeFileAtomic } from "../data/atomic.js";
import { DataError } from "../data/errors.js";
import type { Figure } from "../plots/figures.js";
import { writeFigureFiles } from "../plots/figures.js";
import { readMetrics } from "../plots/metrics.js";
import { ANALYSIS_FILE, FIGURE_DATA, FIGURES_DIR, loadRunData, loadTrainedModel, readFigureData, readRunAnalysis, runFigures, type TrainedModel } from "../plots/run.js";
import { runFigureData, type RunFigureData } from "../plots/data.js";
import { RUN_FILES, runPath, writeJson } from "../run/rundir.js";
import { buildReportHtml, type ReportInput, type RunConfig } from "./html.js";

export const REPORT_FILE = "report.html";

export interface ReportOptions {
  /** Output file (default RUN_DIR/report.html). */
  out?: string;
  /** Recompute the figure data and redraw every figure. */
  refresh?: boolean;
  /** Where the spec is now, if it moved since training (file data are relative to it). */
  spec?: string;
  /** The training and test data, when the figures must be recomputed and the data are not where the spec says. */
  dataFile?: string;
  testFile?: string;
  /** Progress lines. */
  say?: (line: string) => void;
}

export interface ReportResult {
  path: string;
  figures: string[];
  /** Figure files drawn this time. */
  drawn: string[];
  warnings: string[];
}

/** Which run-directory files each figure is drawn from (a figure older than any of them is redrawn). */
const FIGURE_SOURCES: Record<string, string[]> = {
  timeseries: [FIGURE_DATA],
  attractor: [FIGURE_DATA],
  attractor3d: [FIGURE_DATA],
  spectra: [FIGURE_DATA],
  task: [FIGURE_DATA],
  training: [RUN_FILES.metrics],
  measures: [RUN_FILES.metrics],
  fixedpoints: [FIGURE_DATA, ANALYSIS_FILE],
  regions: [ANALYSIS_FILE],
};

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function isStale(dir: string, f: Figure): boolean {
  const drawn = Math.min(mtime(join(dir, FIGURES_DIR, `${f.name}.svg`)), mtime(join(dir, FIGURES_DIR, `${f.name}.png`)));
  if (drawn === 0) return true;
  return (FIGURE_SOURCES[f.name] ?? []).some((src) => mtime(join(dir, src)) > drawn);
}

function readJsonFile<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as T) : undefined;
}

export async function writeReport(dir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`${dir}: no such run directory`);
  if (![RUN_FILES.config, RUN_FILES.ir, RUN_FILES.metrics].some((f) => existsSync(join(dir, f)))) {
    throw new DataError(`${dir} is not a run directory: it has none of ${RUN_FILES.config}, ${RUN_FILES.ir}, ${RUN_FILES.metrics} (rnnc train writes them)`);
  }
  const say = opts.say ?? (() => {});
  const warnings: string[] = [];
  const config = readJsonFile<RunConfig>(runPath(dir, "config"));
  const program = readJsonFile<Program>(runPath(dir, "ir"));
  const specPath = opts.spec ?? config?.spec;

  let model: TrainedModel | undefined;
  const trainedModel = (): TrainedModel => (model ??= loadTrainedModel(dir));

  // The figure data: as training left them, or computed again from the model and its data.
  let figureData: RunFigureData | undefined = opts.refresh ? undefined : readFigureData(dir);
  let figureProblem: string | undefined;
  if (!figureData) {
    try {
      say("rnnc: computing the figure data (a free run of the model on its test data)");
      const m = trainedModel();
      const data = loadRunData(m.program, { ...(specPath ? { spec: specPath } : {}), ...(opts.dataFile ? { dataFile: opts.dataFile } : {}), ...(opts.testFile ? { testFile: opts.testFile } : {}) });
      figureData = runFigureData(m.program, m.params, data, m.paramsFile);
      mkdirSync(join(dir, FIGURES_DIR), { recursive: true });
      writeJson(join(dir, FIGURE_DATA), figureData);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      figureProblem = `The trajectory figures need the trained model and its data, which could not be loaded: ${why}. Give the data with --data/--test (or the spec's new place with --spec) and run rnnc report again.`;
      warnings.push(figureProblem);
    }
  }

  let analysis: ReportInput["analysis"];
  if (existsSync(join(dir, ANALYSIS_FILE))) {
    try {
      let m: TrainedModel | undefined;
      try {
        m = trainedModel();
      } catch {
        m = undefined; // latent points are then shown as they are
      }
      analysis = { marks: readRunAnalysis(dir, m)!.marks };
    } catch (e) {
      analysis = { problem: e instanceof Error ? e.message : String(e) };
      warnings.push(`${ANALYSIS_FILE}: ${analysis.problem}`);
    }
  }

  const figures = runFigures(dir, figureData, analysis && "marks" in analysis ? analysis.marks : undefined, program);
  const stale = opts.refresh ? figures : figures.filter((f) => isStale(dir, f));
  if (stale.length) say(`rnnc: drawing ${stale.map((f) => f.name).join(", ")}`);
  const drawn = await writeFigureFiles(join(dir, FIGURES_DIR), stale);
  const figureFiles = new Set(existsSync(join(dir, FIGURES_DIR)) ? readdirSync(join(dir, FIGURES_DIR)) : []);

  let spec: ReportInput["spec"];
  if (specPath) {
    try {
      spec = { path: specPath, text: readFileSync(specPath, "utf8") };
    } catch (e) {
      spec = { path: specPath, problem: `cannot read it (${(e as NodeJS.ErrnoException).code ?? "error"}); pass --spec FILE` };
    }
  }

  const path = opts.out ?? join(dir, REPORT_FILE);
  const html = await buildReportHtml({
    dir,
    ...(config ? { config } : {}),
    ...(program ? { program } : {}),
    ...(spec ? { spec } : {}),
    history: readMetrics(runPath(dir, "metrics")),
    ...(figureData ? { figureData } : {}),
    ...(figureProblem ? { figureProblem } : {}),
    figures,
    figureFiles,
    figuresHref: relative(dirname(path), join(dir, FIGURES_DIR)).split(sep).join("/") || FIGURES_DIR,
    ...(analysis ? { analysis } : {}),
    generatedAt: new Date(),
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, new TextEncoder().encode(html));
  return { path, figures: figures.map((f) => f.name), drawn, warnings };
}
