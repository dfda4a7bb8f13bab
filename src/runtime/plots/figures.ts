// The figures of a run: which ones apply (series or task, with or without training history and
// analysis), what each shows and how to read it, and writing them as SVG and PNG.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AnalysisMarks } from "./analysis.js";
import type { Rows, RunFigureData } from "./data.js";
import type { TrainingHistory } from "./metrics.js";
import { renderSvg, svgToPng } from "./render.js";
import * as S from "./specs.js";

export interface Figure {
  /** File stem in figures/: timeseries → figures/timeseries.svg and .png */
  name: string;
  title: string;
  /** What the figure shows and how to read it (the report prints it under the figure). */
  caption: string;
  spec(interactive: boolean): S.VlSpec;
  /** For the report's rotatable 3-D view. */
  points3d?: { features: string[]; true: Rows; generated: Rows };
}

export interface FigureInputs {
  data?: RunFigureData;
  history?: TrainingHistory;
  analysis?: AnalysisMarks;
  /** The measure that picks the kept parameters (`keep best by`), for the measures figure. */
  keepBestBy?: string | null;
}

function shownFeatures(features: string[]): string {
  return features.length > S.MAX_PANELS ? ` The first ${S.MAX_PANELS} of ${features.length} features are shown.` : "";
}

export function buildFigures(inp: FigureInputs): Figure[] {
  const figs: Figure[] = [];
  const d = inp.data?.data;
  if (d?.kind === "series") {
    const { features } = d;
    const run = d.freeRun;
    const diverged = run.diverged ? " The free run diverged: it left any bounded region, so only its finite start is drawn." : "";
    figs.push({
      name: "timeseries",
      title: "Time series: test data and free run",
      caption: `The test trajectory (grey) and the model's free run (red) started from the same first point, over the first ${d.window.true.length} steps. The model sees no data after the first point. On a chaotic system the two separate after a few oscillations however good the model; what should match is the kind of motion: amplitudes, time scales, switching.${diverged}${shownFeatures(features)}`,
      spec: (i) => S.timeSeriesSpec({ features, ...d.window }, i),
    });
    if (features.length >= 2) {
      figs.push({
        name: "attractor",
        title: "State space: 2-D projections",
        caption: `Long-term behaviour: ${d.attractor.true.length} points of the test data (top) and of the free run after its first ${run.dropped} steps were dropped as transient (bottom), ${d.attractor.stride === 1 ? "every step" : `one every ${d.attractor.stride} steps`}, with the same axes. A good reconstruction has the same geometry; D_stsp measures how far apart the two distributions over state space are.${diverged}`,
        spec: (i) => S.projectionsSpec({ features, ...d.attractor }, i),
      });
    }
    if (features.length >= 3) {
      figs.push({
        name: "attractor3d",
        title: "State space in 3-D",
        caption: `The same points in the space of ${features.slice(0, 3).join(", ")}, test data (left) and free run (right), axes scaled alike. In the HTML report drag to rotate and scroll to zoom.`,
        spec: () => S.attractor3dSpec({ features, ...d.attractor }),
        points3d: { features: features.slice(0, 3), true: d.attractor.true.map((r) => r.slice(0, 3)), generated: d.attractor.generated.map((r) => r.slice(0, 3)) },
      });
    }
    if (d.spectra.frequency.length) {
      figs.push({
        name: "spectra",
        title: "Power spectra",
        caption: `Power spectrum of each feature, z-scored, smoothed with a Gaussian of width ${d.spectra.smoothing} bins and normalised to sum 1, for the test data (grey) and the free run (red); log scale. D_H is the Hellinger distance between these two curves, averaged over features: peaks at the same frequencies mean the same oscillations.${shownFeatures(features)}`,
        spec: (i) => S.spectraSpec({ features, ...d.spectra }, i),
      });
    }
  } else if (d?.kind === "task") {
    figs.push({
      name: "task",
      title: "Task trials: inputs, targets and outputs",
      caption: `The first ${d.trials.length} test trials (not used in training). Top: the inputs. Bottom: the target (dashed, or dots where only some steps are scored) and the network's output (solid) for each output channel.`,
      spec: (i) => S.taskSpec(d, i),
    });
  }
  const h = inp.history;
  if (h && h.epochs.length) {
    const alpha = h.epochs.some((e) => e.gtfAlpha !== undefined) ? " and GTF's alpha (the weight of the data in the forced state)" : "";
    figs.push({
      name: "training",
      title: "Training",
      caption: `The loss of every batch (dots) and its mean per epoch (line) on a log scale, the learning rate${alpha}. The loss is computed under the spec's forcing, so it measures short-term prediction, not the free run.`,
      spec: (i) => S.trainingSpec(h, i),
    });
  }
  if (h && h.evals.length) {
    const best = h.final?.bestEpoch;
    const kept = inp.keepBestBy ? ` The dashed line marks the epoch whose parameters were kept (best by ${S.MEASURE_LABELS[inp.keepBestBy] ?? inp.keepBestBy}).` : "";
    figs.push({
      name: "measures",
      title: "Reconstruction measures over training",
      caption: `The measures of the eval block at each evaluation (lower is better). D_stsp: distance of the state-space distributions of free run and test data; D_H: distance of their power spectra (0 to 1); PE: prediction error a few steps ahead from test points (log scale). During training they use a shorter protocol (fewer PE starting points) than the final evaluation.${best !== undefined ? kept : ""}`,
      spec: (i) => S.measuresSpec(h.evals, best, i),
    });
  }
  const a = inp.analysis;
  if (a && (a.fixedPoints.length || a.cycles.length) && d?.kind === "series" && d.features.length >= 2) {
    const nStable = a.fixedPoints.filter((p) => p.stable).length;
    figs.push({
      name: "fixedpoints",
      title: "Fixed points and cycles",
      caption: `${a.fixedPoints.length} fixed point${a.fixedPoints.length === 1 ? "" : "s"} (${nStable} stable) and ${a.cycles.length} cycle${a.cycles.length === 1 ? "" : "s"} of the trained model, over its free run (grey). Green: stable (all eigenvalues of the Jacobian inside the unit circle), red: unstable. A chaotic attractor typically winds around unstable fixed points.`,
      spec: (i) => S.fixedPointsSpec({ features: d.features, trajectory: d.attractor.generated, fixedPoints: a.fixedPoints, cycles: a.cycles }, i),
    });
  }
  if (a && a.regions.length) {
    figs.push({
      name: "regions",
      title: "Linear regions visited",
      caption: `The share of the free run spent in each linear region of the piecewise-linear model (one bit per ReLU unit: 1 active, 0 inactive), ${a.regions.length} region${a.regions.length === 1 ? "" : "s"} visited. A few dominant regions mean the dynamics are nearly linear most of the time.`,
      spec: (i) => S.regionOccupancySpec(a.regions, 25, i),
    });
  }
  return figs;
}

/** Writes every figure as NAME.svg and NAME.png into `dir`; returns the paths written. */
export async function writeFigureFiles(dir: string, figures: Figure[]): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const f of figures) {
    const svg = await renderSvg(f.spec(false));
    const svgPath = join(dir, `${f.name}.svg`);
    writeFileSync(svgPath, svg);
    const pngPath = join(dir, `${f.name}.png`);
    writeFileSync(pngPath, await svgToPng(svg));
    written.push(svgPath, pngPath);
  }
  return written;
}
