// Vega-Lite specifications of rnnc's figures, built from plain data (no model, no file access).
// Each builder returns the static figure (for SVG/PNG) or, with `interactive`, the same figure with
// hover read-outs and zooming for the HTML report.
import type { EvalPoint, TrainingHistory } from "./metrics.js";
import type { Rows } from "./data.js";

/** A Vega-Lite specification (kept loosely typed: the builders are the only producers). */
export type VlSpec = Record<string, unknown>;

export const COLORS = { true: "#3d3d3d", generated: "#e4572e", stable: "#2a9d8f", unstable: "#c1121f", accent: "#457b9d" } as const;
const SOURCE_SCALE = { domain: ["true", "generated"], range: [COLORS.true, COLORS.generated] };
const WIDTH = 820;

/** The look shared by every figure (white background so PNGs read well anywhere). */
export const THEME = {
  background: "white",
  padding: 8,
  font: "DejaVu Sans, Helvetica, Arial, sans-serif",
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#eee", domainColor: "#888", tickColor: "#888" },
  header: { labelFontSize: 12, titleFontSize: 12 },
  legend: { orient: "top", labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start", fontWeight: "bold" },
};

/** Log axes label only the powers of ten (the minor ticks stay as grid lines). */
const LOG_AXIS = {
  labelExpr: "abs(log(datum.value) / LN10 - round(log(datum.value) / LN10)) > 1e-6 ? '' : datum.value >= 1e-3 && datum.value < 1e5 ? format(datum.value, '~g') : format(datum.value, '.0e')",
};

function top(spec: VlSpec): VlSpec {
  return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", config: THEME, ...spec };
}

/**
 * Hover read-out for a layered chart over x: a rule per x value, invisible until the pointer is
 * nearest to it (Vega-Lite's Voronoi picking), whose tooltip lists `fields`. Only in interactive
 * figures.
 */
function hoverLayers(x: VlSpec, fields: VlSpec[], name = "hover"): VlSpec[] {
  return [
    {
      mark: { type: "rule", color: "#777", strokeDash: [3, 3] },
      params: [{ name, select: { type: "point", encodings: ["x"], nearest: true, on: "pointerover", clear: "pointerout" } }],
      encoding: { x, opacity: { condition: { param: name, value: 0.8, empty: false }, value: 0 }, tooltip: fields },
    },
  ];
}

/** Zoom and pan along x by dragging and scrolling (the scale is bound to the selection). */
const zoomX = { name: "zoom", select: { type: "interval", encodings: ["x"] }, bind: "scales" };

function minMax(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.03;
  return [lo - pad, hi + pad];
}

// ---------------------------------------------------------------- trajectories

export interface TrajectoryPair {
  features: string[];
  true: Rows;
  generated: Rows;
}

/** At most this many features get their own panel; the rest are named in the caption. */
export const MAX_PANELS = 6;

/** True and generated time series, one panel per feature, over the first steps. */
export function timeSeriesSpec(d: TrajectoryPair, interactive = false): VlSpec {
  const n = Math.min(d.features.length, MAX_PANELS);
  const values: VlSpec[] = [];
  const T = Math.max(d.true.length, d.generated.length);
  for (let j = 0; j < n; j++) {
    for (let t = 0; t < T; t++) values.push({ t, feature: d.features[j], true: d.true[t]?.[j] ?? null, generated: d.generated[t]?.[j] ?? null });
  }
  const x = { field: "t", type: "quantitative", title: "time step", scale: { domain: [0, Math.max(1, T - 1)], nice: false } };
  const lines: VlSpec = {
    transform: [{ fold: ["true", "generated"], as: ["source", "value"] }],
    mark: { type: "line", strokeWidth: 1.3, clip: true },
    encoding: {
      x,
      y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
      color: { field: "source", type: "nominal", scale: SOURCE_SCALE, title: null },
    },
    ...(interactive ? { params: [zoomX] } : {}),
  };
  return top({
    data: { values },
    facet: { row: { field: "feature", type: "nominal", title: null, sort: d.features.slice(0, n), header: { labelAngle: 0, labelAlign: "left" } } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: WIDTH,
      height: 110,
      layer: [lines, ...(interactive ? hoverLayers(x, [{ field: "t", title: "step" }, { field: "true", format: ".4~g" }, { field: "generated", format: ".4~g" }]) : [])],
    },
  });
}

/** The 2-D projections shown for n features: every pair of the first three. */
export function projectionPairs(n: number): [number, number][] {
  if (n < 2) return [];
  if (n === 2) return [[0, 1]];
  return [[0, 1], [0, 2], [1, 2]];
}

/** Rows as records {i, f0, f1, ...} (one named dataset shared by every panel that draws it). */
function records(rows: Rows): VlSpec[] {
  return rows.map((r, i) => {
    const o: VlSpec = { i };
    r.forEach((v, j) => (o[`f${j}`] = v));
    return o;
  });
}

/** 2-D projections of the attractor: true on top, generated below, with shared axes per pair. */
export function projectionsSpec(d: TrajectoryPair, interactive = false): VlSpec {
  const pairs = projectionPairs(d.features.length);
  const domain = d.features.map((_, j) => minMax([...d.true.map((r) => r[j]!), ...d.generated.map((r) => r[j]!)]));
  const panel = (source: "true" | "generated", [a, b]: [number, number]): VlSpec => ({
    width: 220,
    height: 220,
    title: { text: `${source}: ${d.features[b]} vs ${d.features[a]}`, fontSize: 12, fontWeight: "normal" },
    data: { name: source },
    mark: { type: "line", strokeWidth: 0.6, opacity: 0.85, clip: true, color: COLORS[source] },
    encoding: {
      x: { field: `f${a}`, type: "quantitative", title: d.features[a], scale: { domain: domain[a] } },
      y: { field: `f${b}`, type: "quantitative", title: d.features[b], scale: { domain: domain[b] } },
      order: { field: "i" },
    },
    ...(interactive ? { params: [{ name: `zoom_${source}_${a}_${b}`, select: "interval", bind: "scales" }] } : {}),
  });
  return top({
    datasets: { true: records(d.true), generated: records(d.generated) },
    vconcat: (["true", "generated"] as const).map((s) => ({ hconcat: pairs.map((p) => panel(s, p)) })),
  });
}

/** A fixed view of 3-D points: rotate by azimuth and elevation, project orthographically. */
export function project3d(points: Rows, azimuth = -55, elevation = 22, center?: number[], scale?: number[]): { u: number; v: number; depth: number }[] {
  const az = (azimuth * Math.PI) / 180;
  const el = (elevation * Math.PI) / 180;
  const c = center ?? [0, 0, 0];
  const s = scale ?? [1, 1, 1];
  return points.map((p) => {
    const x = (p[0]! - c[0]!) / s[0]!;
    const y = (p[1]! - c[1]!) / s[1]!;
    const z = (p[2]! - c[2]!) / s[2]!;
    const xr = x * Math.cos(az) - y * Math.sin(az);
    const yr = x * Math.sin(az) + y * Math.cos(az);
    return { u: xr, v: z * Math.cos(el) - yr * Math.sin(el), depth: z * Math.sin(el) + yr * Math.cos(el) };
  });
}

/** Per-axis centre and half-range of both point sets (for a common normalised 3-D view). */
export function box3d(sets: Rows[]): { center: number[]; scale: number[] } {
  const center: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < 3; j++) {
    const [lo, hi] = minMax(sets.flatMap((s) => s.map((r) => r[j]!)));
    center.push((lo + hi) / 2);
    scale.push((hi - lo) / 2 || 1);
  }
  return { center, scale };
}

/** The attractor in 3-D from a fixed viewpoint (the HTML report lets you rotate it). */
export function attractor3dSpec(d: TrajectoryPair): VlSpec {
  const { center, scale } = box3d([d.true, d.generated]);
  const panel = (source: "true" | "generated"): VlSpec => ({
    width: 340,
    height: 300,
    title: { text: `${source} (${d.features.slice(0, 3).join(", ")})`, fontSize: 12, fontWeight: "normal" },
    data: { values: project3d(d[source], -55, 22, center, scale).map((p, i) => ({ i, ...p })) },
    mark: { type: "line", strokeWidth: 0.6, opacity: 0.9, color: COLORS[source] },
    encoding: {
      x: { field: "u", type: "quantitative", axis: null, scale: { domain: [-1.8, 1.8] } },
      y: { field: "v", type: "quantitative", axis: null, scale: { domain: [-1.6, 1.6] } },
      order: { field: "i" },
    },
  });
  return top({ hconcat: [panel("true"), panel("generated")], config: { ...THEME, view: { stroke: null } } });
}

/** Power spectra per feature on a log scale, true against generated. */
export function spectraSpec(d: { features: string[]; frequency: number[]; true: Rows; generated: Rows }, interactive = false): VlSpec {
  const n = Math.min(d.features.length, MAX_PANELS);
  const values: VlSpec[] = [];
  for (let j = 0; j < n; j++) {
    d.frequency.forEach((f, k) => {
      const t = d.true[k]?.[j];
      const g = d.generated[k]?.[j];
      values.push({ f, feature: d.features[j], true: t !== undefined && t > 0 ? t : null, generated: g !== undefined && g > 0 ? g : null });
    });
  }
  const x = { field: "f", type: "quantitative", title: "frequency (cycles per step)" };
  return top({
    data: { values },
    facet: { column: { field: "feature", type: "nominal", title: null, sort: d.features.slice(0, n) } },
    resolve: { scale: { y: "independent" } },
    spec: {
      width: Math.max(180, Math.floor(WIDTH / n) - 20),
      height: 200,
      layer: [
        {
          transform: [{ fold: ["true", "generated"], as: ["source", "value"] }, { filter: "datum.value > 0" }],
          mark: { type: "line", strokeWidth: 1.4, clip: true },
          encoding: {
            x,
            y: { field: "value", type: "quantitative", scale: { type: "log" }, axis: LOG_AXIS, title: "normalised power" },
            color: { field: "source", type: "nominal", scale: SOURCE_SCALE, title: null },
          },
        },
        ...(interactive ? hoverLayers(x, [{ field: "f", title: "frequency", format: ".4~g" }, { field: "true", format: ".3~e" }, { field: "generated", format: ".3~e" }]) : []),
      ],
    },
  });
}

// ---------------------------------------------------------------- training

/** Loss per epoch (per-batch losses faint behind it), the learning rate and, if used, GTF's alpha. */
export function trainingSpec(h: TrainingHistory, interactive = false): VlSpec {
  const positive = h.epochs.every((e) => e.loss > 0) && h.batches.every((b) => b.loss > 0);
  const yScale = positive ? { type: "log" } : { zero: false };
  const yAxis = positive ? { axis: LOG_AXIS } : {};
  const x = { field: "epoch", type: "quantitative", title: "epoch", scale: { domain: [0, Math.max(1, h.epochs.at(-1)?.epoch ?? 1)] } };
  const loss: VlSpec = {
    width: WIDTH,
    height: 220,
    title: "training loss",
    layer: [
      {
        data: { values: h.batches.map((b) => ({ epoch: b.x, loss: b.loss })) },
        mark: { type: "point", filled: true, size: 6, opacity: 0.25, color: COLORS.accent },
        encoding: { x, y: { field: "loss", type: "quantitative", scale: yScale, ...yAxis, title: "loss" } },
      },
      {
        data: { values: h.epochs },
        layer: [
          { mark: { type: "line", color: COLORS.generated, strokeWidth: 1.6, point: h.epochs.length <= 40 }, encoding: { x, y: { field: "loss", type: "quantitative", scale: yScale } } },
          ...(interactive ? hoverLayers(x, [{ field: "epoch" }, { field: "loss", format: ".4~e" }, { field: "lr", format: ".2~e" }, { field: "seconds", format: ".2f" }], "hover_loss") : []),
        ],
      },
    ],
  };
  const hasAlpha = h.epochs.some((e) => e.gtfAlpha !== undefined);
  const small = (field: string, title: string): VlSpec => ({
    width: hasAlpha ? WIDTH / 2 - 30 : WIDTH,
    height: 90,
    data: { values: h.epochs.filter((e) => Number.isFinite((e as unknown as Record<string, number>)[field])) },
    mark: { type: "line", color: COLORS.accent, strokeWidth: 1.4, interpolate: "step-after" },
    encoding: { x, y: { field, type: "quantitative", title, ...(field === "lr" ? { scale: { type: "log" }, axis: LOG_AXIS } : { scale: { zero: false } }) }, ...(interactive ? { tooltip: [{ field: "epoch" }, { field, format: ".3~e" }] } : {}) },
  });
  const lower = hasAlpha ? { hconcat: [small("lr", "learning rate"), small("gtfAlpha", "GTF alpha")] } : small("lr", "learning rate");
  return top({ vconcat: [loss, lower] });
}

export const MEASURE_LABELS: Record<string, string> = { dstsp: "D_stsp", dh: "D_H", pe: "PE" };

/** The evaluation measures over training, the kept-best epoch marked. */
export function measuresSpec(evals: EvalPoint[], bestEpoch?: number, interactive = false): VlSpec {
  const kinds = (["dstsp", "dh", "pe"] as const).filter((k) => evals.some((e) => e[k] !== undefined));
  const x = { field: "epoch", type: "quantitative", title: "epoch" };
  const panel = (k: (typeof kinds)[number]): VlSpec => ({
    width: Math.floor(WIDTH / Math.max(1, kinds.length)) - 30,
    height: 160,
    title: { text: MEASURE_LABELS[k]!, fontSize: 12 },
    layer: [
      {
        data: { values: evals.filter((e) => e[k] !== undefined && Number.isFinite(e[k])).map((e) => ({ epoch: e.epoch, value: e[k], diverged: e.diverged })) },
        mark: { type: "line", point: { filled: true, size: 30 }, color: COLORS.accent },
        encoding: {
          x,
          y: { field: "value", type: "quantitative", title: null, scale: { zero: false, ...(k === "pe" ? { type: "log" } : {}) }, ...(k === "pe" ? { axis: LOG_AXIS } : {}) },
          ...(interactive ? { tooltip: [{ field: "epoch" }, { field: "value", title: MEASURE_LABELS[k], format: ".4~g" }, { field: "diverged" }] } : {}),
        },
      },
      ...(bestEpoch !== undefined
        ? [{ data: { values: [{ epoch: bestEpoch }] }, mark: { type: "rule", color: COLORS.stable, strokeDash: [4, 3] }, encoding: { x, ...(interactive ? { tooltip: [{ field: "epoch", title: "kept best at epoch" }] } : {}) } }]
        : []),
    ],
  });
  return top({ hconcat: kinds.map(panel) });
}

// ---------------------------------------------------------------- tasks

export interface TaskTrial {
  input: Rows;
  target: Rows;
  output: Rows;
  mask: Rows;
}

/** Input, target and output traces of task trials: inputs above, target (dashed) against output. */
export function taskSpec(d: { inputs: string[]; outputs: string[]; trials: TaskTrial[] }, interactive = false): VlSpec {
  const x = { field: "t", type: "quantitative", title: "time step" };
  const blocks: VlSpec[] = [];
  d.trials.forEach((trial, s) => {
    const inputs = trial.input.flatMap((r, t) => r.map((v, j) => ({ t, channel: d.inputs[j], value: v })));
    const outs = trial.output.flatMap((r, t) => r.map((v, j) => ({ t, channel: d.outputs[j], output: v, target: trial.target[t]?.[j] ?? null, counts: (trial.mask[t]?.[j] ?? 1) > 0 })));
    // Sequence-to-one tasks score one step per trial: show the target only where it counts.
    const sparse = outs.filter((o) => o.counts).length < outs.length / 2;
    blocks.push({
      vconcat: [
        {
          width: WIDTH,
          height: 70,
          title: { text: `test trial ${s + 1}: inputs`, fontSize: 12, fontWeight: "normal" },
          data: { values: inputs },
          mark: { type: "line", strokeWidth: 1.1, interpolate: "step-after" },
          encoding: { x, y: { field: "value", type: "quantitative", title: null }, color: { field: "channel", type: "nominal", title: "input" }, ...(interactive ? { tooltip: [{ field: "t" }, { field: "channel" }, { field: "value", format: ".3~g" }] } : {}) },
        },
        {
          width: WIDTH,
          height: 110,
          title: { text: `test trial ${s + 1}: target (dashed${sparse ? ", dots where the loss counts" : ""}) and output`, fontSize: 12, fontWeight: "normal" },
          data: { values: outs },
          layer: [
            sparse
              ? { transform: [{ filter: "datum.counts" }], mark: { type: "point", shape: "diamond", size: 60, filled: true }, encoding: { x, y: { field: "target", type: "quantitative" }, color: { field: "channel", type: "nominal", title: "output" } } }
              : { mark: { type: "line", strokeDash: [4, 3], strokeWidth: 1.2, opacity: 0.8 }, encoding: { x, y: { field: "target", type: "quantitative", title: null }, color: { field: "channel", type: "nominal", title: "output" } } },
            { mark: { type: "line", strokeWidth: 1.6 }, encoding: { x, y: { field: "output", type: "quantitative", title: null }, color: { field: "channel", type: "nominal", title: "output" }, ...(interactive ? { tooltip: [{ field: "t" }, { field: "channel" }, { field: "output", format: ".3~g" }, { field: "target", format: ".3~g" }] } : {}) } },
          ],
          resolve: { scale: { y: "shared" } },
        },
      ],
      resolve: { scale: { color: "independent" } },
    });
  });
  return top({ vconcat: blocks, resolve: { scale: { color: "independent" } } });
}

// ---------------------------------------------------------------- analysis

/** A fixed point or a point of a cycle, in observation space. */
export interface FixedPointMark {
  x: number[];
  stable: boolean;
  /** e.g. "fixed point", "2-cycle" */
  kind: string;
  /** extra read-outs for the tooltip (spectral radius, region, ...) */
  info?: Record<string, string | number>;
}

export interface CycleMark {
  period: number;
  stable: boolean;
  info?: Record<string, string | number>;
  /** the cycle's points in observation space, in order */
  points: Rows;
}

/** Fixed points and cycles drawn on the generated trajectory, in the 2-D projections. */
export function fixedPointsSpec(d: { features: string[]; trajectory: Rows; fixedPoints: FixedPointMark[]; cycles: CycleMark[] }, interactive = false): VlSpec {
  const pairs = projectionPairs(d.features.length);
  const stability = { field: "stability", type: "nominal", title: null, scale: { domain: ["stable", "unstable"], range: [COLORS.stable, COLORS.unstable] } };
  const panel = ([a, b]: [number, number]): VlSpec => {
    const x = { field: "a", type: "quantitative", title: d.features[a], scale: { zero: false } };
    const y = { field: "b", type: "quantitative", title: d.features[b], scale: { zero: false } };
    const cyclePoints = d.cycles.flatMap((c, ci) => [...c.points, c.points[0]!].map((p, i) => ({ cycle: ci, i, a: p[a], b: p[b], period: c.period, stability: c.stable ? "stable" : "unstable" })));
    return {
      width: 230,
      height: 230,
      layer: [
        {
          data: { name: "trajectory" },
          mark: { type: "line", strokeWidth: 0.5, color: "#bbb", clip: true },
          encoding: { x: { ...x, field: `f${a}` }, y: { ...y, field: `f${b}` }, order: { field: "i" } },
        },
        ...(cyclePoints.length
          ? [{ data: { values: cyclePoints }, mark: { type: "line", strokeWidth: 1.4, point: { size: 40 } }, encoding: { x, y, order: { field: "i" }, detail: { field: "cycle" }, color: stability, ...(interactive ? { tooltip: [{ field: "period", title: "cycle period" }, { field: "stability" }, { field: "a", title: d.features[a], format: ".4~g" }, { field: "b", title: d.features[b], format: ".4~g" }] } : {}) } }]
          : []),
        {
          data: { values: d.fixedPoints.map((p) => ({ a: p.x[a], b: p.x[b], kind: p.kind, stability: p.stable ? "stable" : "unstable", ...(p.info ?? {}) })) },
          mark: { type: "point", shape: "diamond", size: 140, strokeWidth: 2, filled: true, stroke: "black" },
          encoding: {
            x,
            y,
            color: stability,
            ...(interactive ? { tooltip: [{ field: "kind" }, { field: "stability" }, { field: "a", title: d.features[a], format: ".4~g" }, { field: "b", title: d.features[b], format: ".4~g" }, ...Object.keys(d.fixedPoints[0]?.info ?? {}).map((k) => ({ field: k }))] } : {}),
          },
        },
      ],
    };
  };
  return top({ datasets: { trajectory: records(d.trajectory) }, hconcat: pairs.map(panel) });
}

/**
 * The share of time steps the trajectory spends in each linear region: the most visited regions as
 * bars, and the coverage curve (the share of steps in the r most visited regions) for all of them.
 */
export function regionOccupancySpec(regions: { region: string; fraction: number }[], maxBars = 25, interactive = false): VlSpec {
  const sorted = [...regions].sort((p, q) => q.fraction - p.fraction);
  const shown = sorted.slice(0, maxBars);
  const rest = sorted.slice(maxBars).reduce((s, r) => s + r.fraction, 0);
  // Region codes of big models run to hundreds of bits: the axis shows their start, the tooltip all.
  const label = (r: string) => (r.length > 24 ? `${r.slice(0, 23)}…` : r);
  const bars = shown.map((r, i) => ({ ...r, label: `${i + 1}. ${label(r.region)}` }));
  let acc = 0;
  const coverage = sorted.map((r, i) => ({ rank: i + 1, covered: (acc += r.fraction) }));
  const many = sorted.length > 50;
  return top({
    hconcat: [
      {
        width: 300,
        height: { step: 16 },
        title: { text: rest > 0 ? `the ${shown.length} most visited (the other ${sorted.length - shown.length}: ${(100 * rest).toFixed(1)} %)` : `all ${shown.length} regions`, fontSize: 12, fontWeight: "normal" },
        data: { values: bars },
        mark: { type: "bar", color: COLORS.accent },
        encoding: {
          y: { field: "label", type: "nominal", sort: null, title: "region (branch of each piecewise-linear unit)", axis: { labelFont: "DejaVu Sans Mono, monospace", labelLimit: 260 } },
          x: { field: "fraction", type: "quantitative", title: "fraction of time steps", axis: { format: "%" } },
          ...(interactive ? { tooltip: [{ field: "region" }, { field: "fraction", format: ".2%" }] } : {}),
        },
      },
      {
        width: 300,
        height: 300,
        title: { text: "coverage: steps in the r most visited regions", fontSize: 12, fontWeight: "normal" },
        data: { values: coverage },
        mark: { type: "line", color: COLORS.generated, strokeWidth: 1.8, interpolate: "step-after" },
        encoding: {
          x: { field: "rank", type: "quantitative", title: "r (regions, most visited first)", ...(many ? { scale: { type: "log" }, axis: LOG_AXIS } : {}) },
          y: { field: "covered", type: "quantitative", title: "share of time steps", scale: { domain: [0, 1] }, axis: { format: "%" } },
          ...(interactive ? { tooltip: [{ field: "rank", title: "regions" }, { field: "covered", title: "share of steps", format: ".1%" }] } : {}),
        },
      },
    ],
  });
}
