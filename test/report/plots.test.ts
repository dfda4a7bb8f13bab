// The figure builders and their inputs, on synthetic data: what each figure draws, the spectra and
// metrics it is drawn from, the analysis reader, and that SVG and PNG come out as real images.
import { describe, expect, it } from "vitest";
import { analysisMarks } from "../../src/runtime/plots/analysis.js";
import { buildFigures } from "../../src/runtime/plots/figures.js";
import { parseMetrics } from "../../src/runtime/plots/metrics.js";
import { renderSvg, svgToPng } from "../../src/runtime/plots/render.js";
import { rows, spectra, type RunFigureData } from "../../src/runtime/plots/data.js";
import { COLORS, fixedPointsSpec, project3d, regionOccupancySpec, timeSeriesSpec } from "../../src/runtime/plots/specs.js";

/** A noisy-free 3-D spiral: [T, 3] rows. */
function spiral(T: number, phase = 0): number[][] {
  return Array.from({ length: T }, (_, t) => [Math.cos(t / 20 + phase), Math.sin(t / 20 + phase), Math.sin(t / 55)]);
}

function seriesData(): RunFigureData {
  const freq = Array.from({ length: 50 }, (_, k) => k / 1000);
  const peak = (k: number) => [Math.exp(-((k - 8) ** 2)), Math.exp(-((k - 8) ** 2)) + 1e-6, 1e-3];
  return {
    version: 1,
    model: "toy",
    title: "a toy",
    params: "best.npz",
    data: {
      kind: "series",
      features: ["x[0]", "x[1]", "x[2]"],
      window: { true: spiral(300), generated: spiral(300, 0.3) },
      attractor: { true: spiral(800), generated: spiral(800, 1), stride: 1 },
      spectra: { frequency: freq, true: freq.map((_, k) => peak(k)), generated: freq.map((_, k) => peak(k)), smoothing: 5 },
      freeRun: { steps: 1000, dropped: 200, diverged: false },
    },
  };
}

const METRICS = [
  { type: "start", epochs: 4, batchesPerEpoch: 2 },
  { type: "batch", epoch: 1, batch: 1, loss: 1.0 },
  { type: "batch", epoch: 1, batch: 2, loss: 0.8 },
  { type: "epoch", epoch: 1, loss: 0.9, lr: 1e-3, seconds: 1.5 },
  { type: "eval", epoch: 1, dstsp: 5, dh: 0.5, pe: 0.1, diverged: false, compared: 100 },
  { type: "batch", epoch: 2, batch: 1, loss: 0.5 },
  { type: "epoch", epoch: 2, loss: 0.45, lr: 5e-4, seconds: 1.2, gtfAlpha: 0.3 },
  { type: "eval", epoch: 2, dstsp: 2, dh: 0.2, pe: 0.05, diverged: false, compared: 100 },
  // resumed: the start repeats, the epoch is rewritten with its final value
  { type: "start", epochs: 4, batchesPerEpoch: 2, resumedAt: { epoch: 2, batch: 0 } },
  { type: "epoch", epoch: 2, loss: 0.4, lr: 5e-4, seconds: 1.2 },
  { type: "final", dstsp: 1.5, dh: 0.15, pe: 0.04, diverged: false, bestEpoch: 2, compared: 1000 },
].map((e) => JSON.stringify(e)).join("\n") + '\n{"type":"epoch","epo';

describe("metrics.jsonl", () => {
  it("reads epochs, evaluations and the final scores; a repeated epoch keeps its last value; a cut line is ignored", () => {
    const h = parseMetrics(METRICS);
    expect(h.epochs.map((e) => [e.epoch, e.loss])).toEqual([[1, 0.9], [2, 0.4]]);
    expect(h.evals.map((e) => e.dstsp)).toEqual([5, 2]);
    expect(h.final).toMatchObject({ dstsp: 1.5, bestEpoch: 2 });
    expect(h.plannedEpochs).toBe(4);
    expect(h.batches.map((b) => b.x)).toEqual([0.5, 1, 1.5]);
  });
  it("thins per-batch losses evenly", () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ type: "batch", epoch: 1, batch: i + 1, loss: i }));
    const h = parseMetrics([JSON.stringify({ type: "start", epochs: 1, batchesPerEpoch: 1000 }), ...lines].join("\n"), 100);
    expect(h.batches.length).toBe(100);
    expect(h.batches[1]!.loss).toBe(10);
  });
});

describe("spectra", () => {
  it("puts a sine's peak at its frequency and cuts the band where the power ends", () => {
    const T = 2048;
    const f0 = 64 / T; // cycles per step
    const x = Float64Array.from({ length: T * 2 }, (_, i) => (i % 2 === 0 ? Math.sin(2 * Math.PI * f0 * (i >> 1)) : Math.cos(2 * Math.PI * 2 * f0 * (i >> 1))));
    const s = spectra(x, x, T, 2, 0);
    const argmax = (col: number) => s.true.reduce((best, r, k) => (r[col]! > s.true[best]![col]! ? k : best), 0);
    expect(s.frequency[argmax(0)]).toBeCloseTo(f0, 6);
    expect(s.frequency[argmax(1)]).toBeCloseTo(2 * f0, 6);
    expect(s.frequency.at(-1)!).toBeLessThan(0.5); // not the whole band up to Nyquist
    expect(s.frequency.at(-1)!).toBeGreaterThan(2 * f0);
    expect(s.generated).toEqual(s.true);
  });
  it("rows() rounds to 5 significant digits and thins by stride", () => {
    expect(rows(Float64Array.from([1.23456789, 2, 3, 4, 5, 6]), 2, 0, 3, 2)).toEqual([[1.2346, 2], [5, 6]]);
  });
});

describe("figures", () => {
  it("a series run gets time series, projections, 3-D, spectra, training and measures figures", () => {
    const figs = buildFigures({ data: seriesData(), history: parseMetrics(METRICS), keepBestBy: "dstsp" });
    expect(figs.map((f) => f.name)).toEqual(["timeseries", "attractor", "attractor3d", "spectra", "training", "measures"]);
    expect(figs.find((f) => f.name === "attractor3d")!.points3d!.true.length).toBe(800);
    for (const f of figs) expect(f.caption.length).toBeGreaterThan(80);
  });
  it("analysis adds fixed points and regions; a task gets its trials; nothing without data", () => {
    const analysis = analysisMarks({ fixed_points: [{ x: [0, 0, 0], stable: false }], regions: [{ region: "01", count: 3 }] });
    expect(buildFigures({ data: seriesData(), analysis }).map((f) => f.name)).toContain("fixedpoints");
    expect(buildFigures({ data: seriesData(), analysis }).map((f) => f.name)).toContain("regions");
    const task: RunFigureData = { version: 1, model: "t", title: "", params: "params.npz", data: { kind: "task", inputs: ["u[0]"], outputs: ["y[0]"], trials: [{ input: [[1], [0]], target: [[1], [1]], output: [[0.5], [0.9]], mask: [[1], [1]] }] } };
    expect(buildFigures({ data: task }).map((f) => f.name)).toEqual(["task"]);
    expect(buildFigures({})).toEqual([]);
  });

  it("renders the time series as SVG with both trajectories, the legend and every feature, and as a PNG", async () => {
    const d = seriesData().data as Extract<RunFigureData["data"], { kind: "series" }>;
    const svg = await renderSvg(timeSeriesSpec({ features: d.features, ...d.window }));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain(`stroke="${COLORS.true}"`);
    expect(svg).toContain(`stroke="${COLORS.generated}"`);
    for (const label of ["x[0]", "x[1]", "x[2]", "generated", "time step"]) expect(svg).toContain(`>${label}<`);
    const png = await svgToPng(svg);
    expect(Buffer.from(png.subarray(1, 4)).toString()).toBe("PNG");
    const width = Buffer.from(png).readUInt32BE(16);
    const svgWidth = Number(/width="(\d+)"/.exec(svg)![1]);
    expect(width).toBe(svgWidth * 2);
  });

  it("every figure of a series run renders, interactive or not", async () => {
    const analysis = analysisMarks({ fixed_points: [{ x: [0.1, 0, 0.2], stable: true }], cycles: [{ period: 2, points: [[1, 0, 0], [-1, 0, 0]], stable: false }], regions: [{ region: "01", fraction: 0.7 }, { region: "11", fraction: 0.3 }] });
    for (const f of buildFigures({ data: seriesData(), history: parseMetrics(METRICS), analysis, keepBestBy: "dstsp" })) {
      for (const interactive of [false, true]) {
        const svg = await renderSvg(f.spec(interactive));
        expect(svg, f.name).toMatch(/^<svg[\s\S]*<\/svg>$/);
        expect(svg.length, f.name).toBeGreaterThan(2000);
      }
    }
  });

  it("marks stable and unstable fixed points in their colours and draws cycles", async () => {
    const svg = await renderSvg(fixedPointsSpec({ features: ["a", "b"], trajectory: spiral(100), fixedPoints: [{ x: [0, 0], stable: true, kind: "fixed point" }, { x: [1, 1], stable: false, kind: "fixed point" }], cycles: [{ period: 2, stable: false, points: [[0.5, 0], [-0.5, 0]] }] }));
    expect(svg).toContain(`fill="${COLORS.stable}"`);
    expect(svg).toContain(`fill="${COLORS.unstable}"`);
    expect(svg).toContain(">stable<");
    expect(svg).toContain(">unstable<");
  });

  it("region occupancy shows the most visited regions first and the rest as one share", async () => {
    const regions = Array.from({ length: 40 }, (_, i) => ({ region: i.toString(2).padStart(6, "0"), fraction: (40 - i) / 820 }));
    const svg = await renderSvg(regionOccupancySpec(regions, 10));
    expect(svg).toContain(">1. 000000<");
    expect(svg).toContain(">10. 001001<");
    expect(svg).not.toContain(">11. ");
    expect(svg).toMatch(/the other 30: \d+\.\d %/);
  });

  it("the static 3-D view is an orthographic rotation (lengths along the view are kept)", () => {
    const [p] = project3d([[1, 0, 0]], 90, 0);
    expect(Math.hypot(p!.u, p!.v, p!.depth)).toBeCloseTo(1, 12);
    const [q] = project3d([[0, 0, 1]], 0, 0);
    expect(q!.v).toBeCloseTo(1, 12);
  });
});

describe("analysis.json", () => {
  it("reads rnnc analyze's document: objects split into fixed points and cycles, visited regions, facts", () => {
    const doc = {
      method: "scyfi",
      maxCycle: 4,
      objects: [
        { id: "fp1", kind: "fixed_point", period: 1, points: [[1, 2, 3, 4]], eigenvalues: [{ re: 0.5, im: 0.1 }], spectralRadius: 0.51, stable: true, unstableDirections: 0, regions: ["0101"] },
        { id: "cycle2a", kind: "cycle", period: 2, points: [[0, 0, 0, 0], [1, 1, 1, 1]], eigenvalues: [{ re: 1.5, im: 0 }], spectralRadius: 1.5, stable: false, unstableDirections: 1 },
      ],
      symbolic: { visited: [{ symbol: 1, region: "0101", steps: 30, fraction: 0.75, fixedPoint: null }, { symbol: 2, region: "1101", steps: 10, fraction: 0.25, fixedPoint: null }], totalRegions: { log2: 4, exact: 16 }, selfTransitionFraction: 0.9 },
      lyapunov: { exponents: [0.0123] },
      trajectory: { start: "init", steps: 1000, transient: 100, diverged: false },
    };
    // the observation of a 4-unit state is its first two units
    const m = analysisMarks(doc, (z) => z.slice(0, 2));
    expect(m.fixedPoints).toEqual([{ x: [1, 2], stable: true, kind: "fixed point", info: { id: "fp1", "|λ|max": 0.51, "unstable directions": 0, region: "0101" } }]);
    expect(m.cycles).toHaveLength(1);
    expect(m.cycles[0]).toMatchObject({ period: 2, stable: false, points: [[0, 0], [1, 1]] });
    expect(m.regions).toEqual([{ region: "0101", fraction: 0.75 }, { region: "1101", fraction: 0.25 }]);
    expect(Object.fromEntries(m.facts)).toMatchObject({ "regions visited": "2 of 16", "largest Lyapunov exponent (per step)": "0.0123" });
    expect(m.skipped).toEqual([]);
  });
  it("reads other spellings, derives stability from eigenvalues and shares from counts, and says what it skipped", () => {
    const m = analysisMarks({
      fixed_points: [{ z: [0, 0], eigenvalues: [[0.3, 0.4]] }, { z: [1, 1], eigenvalues: [[1.2, 0]] }, { stable: true }, "junk"],
      region_occupancy: [{ pattern: [1, 0], count: 3 }, { pattern: [0, 0], count: 1 }],
    });
    expect(m.fixedPoints.map((p) => p.stable)).toEqual([true, false]);
    expect(m.regions).toEqual([{ region: "10", fraction: 0.75 }, { region: "00", fraction: 0.25 }]);
    expect(m.skipped).toEqual(["fixed point 2: no coordinates (z or x)", "fixed point 3: not an object"]);
    expect(analysisMarks([1, 2]).skipped).toEqual(["the analysis is not a JSON object"]);
  });
});
