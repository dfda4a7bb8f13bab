// analyze() end to end on models whose fixed points, cycles and exponents are known exactly:
// smooth maps (Newton search, slow points rejected), Lyapunov exponents, the topology graph, the
// symbolic analysis of a piecewise-linear model, and determinism under a seed.
import { describe, expect, it } from "vitest";
import { analyze, AnalysisError, DEFAULTS, type AnalyzeOptions } from "../../src/runtime/analysis/analyze.js";
import type { InvariantObject } from "../../src/runtime/analysis/objects.js";
import { fixture, maps, plrnn2d, plrnnProgram, zoo } from "./helpers.js";
import { initParams } from "../../src/runtime/model/params.js";
import { regionFixedPoint } from "../../src/runtime/analysis/scyfi.js";
import { Prng } from "../../src/runtime/train/prng.js";

const fast: AnalyzeOptions = { ...DEFAULTS, inputs: {}, inits: 64, steps: 3000, transient: 500, topology: null };

/** x* > 0 with x* = tanh(w x*), by bisection (independent of the code under test). */
function tanhRoot(w: number): number {
  let lo = 1e-9;
  let hi = 1;
  for (let i = 0; i < 200; i++) {
    const m = (lo + hi) / 2;
    if (Math.tanh(w * m) - m > 0) lo = m;
    else hi = m;
  }
  return (lo + hi) / 2;
}

const byPeriod = (objs: InvariantObject[], k: number) => objs.filter((o) => o.period === k);

describe("smooth maps: Newton search", () => {
  const tanh1d = fixture("tanh1d.rnn");
  const xs = tanhRoot(2);

  it("z' = tanh(2z): exactly the fixed points 0 (unstable) and ±x* (stable), no 2-cycle", () => {
    const { report } = analyze(tanh1d, { w: [2], b: [0] }, { ...fast, topology: { perObject: 32, noise: 0.1, maxSteps: 500 } });
    expect(report.piecewiseLinear).toBe(false);
    const fps = byPeriod(report.objects, 1);
    expect(fps.map((o) => o.points[0]![0]!).sort((a, b) => a - b).map((x) => +x.toFixed(12))).toEqual([-xs, 0, xs].map((x) => +x.toFixed(12)));
    for (const o of fps) {
      const x = o.points[0]![0]!;
      expect(o.eigenvalues[0]!.re).toBeCloseTo(2 * (1 - x * x), 12);
      expect(o.stable).toBe(x !== 0);
      expect(o.residual).toBeLessThan(1e-12);
    }
    expect(byPeriod(report.objects, 2)).toEqual([]);
    // topology: the unstable origin sends perturbed starts to both attractors, each keeps its own
    const from0 = report.topology!.filter((e) => e.from === fps.find((o) => o.points[0]![0] === 0)!.id);
    expect(from0.map((e) => e.to).sort()).toEqual(fps.filter((o) => o.stable).map((o) => o.id).sort());
    for (const o of fps.filter((x) => x.stable)) expect(report.topology!.filter((e) => e.from === o.id)).toEqual([{ from: o.id, to: o.id, count: 32, probability: 1 }]);
    // the trajectory converges to ±x*: the largest Lyapunov exponent is log |f'(x*)|
    expect(report.lyapunov!.exponents[0]).toBeCloseTo(Math.log(2 * (1 - xs * xs)), 2);
  });

  it("z' = tanh(-2z): the fixed point 0 has a negative dominant eigenvalue; ±x* is a stable 2-cycle", () => {
    const { report } = analyze(tanh1d, { w: [-2], b: [0] }, fast);
    const [fp] = byPeriod(report.objects, 1);
    expect(fp!.points[0]![0]).toBe(0);
    expect(fp!.negativeDominant).toBe(true);
    expect(fp!.eigenvalues[0]!.re).toBeCloseTo(-2, 12);
    const cycles = byPeriod(report.objects, 2);
    expect(cycles.length).toBe(1);
    expect(cycles[0]!.points.map((p) => p[0]!).sort((a, b) => a - b)[1]).toBeCloseTo(xs, 12);
    expect(cycles[0]!.spectralRadius).toBeCloseTo((2 * (1 - xs * xs)) ** 2, 12);
    expect(cycles[0]!.stable).toBe(true);
  });

  it("a slow point is never reported as a fixed point", () => {
    const slow = fixture("slow1d.rnn");
    // z' = z + 1e-3 + z^2: |F(z) - z| >= 1e-3 everywhere, smallest at z = 0
    const none = analyze(slow, { a: [1e-3], b: [1] }, fast).report;
    expect(none.objects).toEqual([]);
    const s = none.search.newton![0]!;
    expect(s.slowPoints).toBeGreaterThan(0);
    expect(s.bestRejectedResidual).toBeGreaterThanOrEqual(1e-3 - 1e-15);
    // z' = z - 1e-2 + z^2: fixed points ±0.1, F'(±0.1) = 1 ± 0.2
    const two = analyze(slow, { a: [-1e-2], b: [1] }, fast).report;
    const fps = byPeriod(two.objects, 1).sort((a, b) => a.points[0]![0]! - b.points[0]![0]!);
    expect(fps.map((o) => o.points[0]![0])).toEqual([expect.closeTo(-0.1, 14), expect.closeTo(0.1, 14)]);
    expect(fps.map((o) => o.stable)).toEqual([true, false]);
  });

  it("two tanh units, W = 2I: all 9 fixed points (4 stable, 4 one-saddles, the two-saddle at 0)", () => {
    const { report } = analyze(fixture("tanh2d.rnn"), { W: [2, 0, 0, 2], b: [0, 0] }, fast);
    const fps = byPeriod(report.objects, 1);
    expect(fps.length).toBe(9);
    const key = (p: number[]) => p.map((x) => Math.round(x / xs)).join(",");
    expect(fps.map((o) => key(o.points[0]!)).sort()).toEqual(["-1,-1", "-1,0", "-1,1", "0,-1", "0,0", "0,1", "1,-1", "1,0", "1,1"]);
    for (const o of fps) expect(o.unstableDirections).toBe(o.points[0]!.filter((x) => Math.abs(x) < 1e-9).length);
  });

  it("a two-state LSTM: fixed points are roots of the interpreter's own step", () => {
    const p = fixture("lstm2.rnn");
    const raw: Record<string, Float64Array> = {};
    for (const [k, v] of initParams(p, new Prng(1), () => ({ min: 0, max: 1 }))) raw[k] = Float64Array.from(v.data);
    const { report } = analyze(p, raw, { ...fast, inputs: { u: [0.5] } });
    expect(report.state.layout.map((s) => s.name)).toEqual(["h", "c"]);
    expect(report.objects.length).toBeGreaterThan(0);
    const { map } = maps(p, raw, { u: [0.5] });
    for (const o of report.objects) {
      let z: Float64Array = Float64Array.from(o.points[0]!);
      for (let t = 0; t < o.period; t++) z = map.map(z, 1);
      for (let i = 0; i < z.length; i++) expect(z[i]).toBeCloseTo(o.points[0]![i]!, 9);
    }
  });

  it("asking SCYFI for a smooth model is an AnalysisError naming the operation", () => {
    expect(() => analyze(fixture("tanh1d.rnn"), { w: [2], b: [0] }, { ...fast, method: "scyfi" })).toThrow(AnalysisError);
    expect(() => analyze(fixture("tanh1d.rnn"), { w: [2], b: [0] }, { ...fast, method: "scyfi" })).toThrow(/tanh.*line 15/);
  });
});

describe("Lyapunov exponents", () => {
  it("the spectrum of a linear PLRNN (W = 0) is log|a_i| (to O(1/T) from the random initial frame)", () => {
    const raw = plrnn2d(0.5, -0.8, 0, 0, 0.1, 0.2);
    const { report } = analyze(plrnnProgram(2), raw, { ...fast, lyapunov: 2, steps: 20_000 });
    expect(report.lyapunov!.exponents[0]).toBeCloseTo(Math.log(0.8), 3);
    expect(report.lyapunov!.exponents[1]).toBeCloseTo(Math.log(0.5), 3);
  });
});

describe("piecewise-linear models: symbolic analysis", () => {
  it("on the attracting 16-cycle the visit frequencies are the cycle's own region counts", () => {
    const raw = plrnn2d(0.8377689000000008, 0.96461297, -0.6437499999999996, 0.52505308, 0.37298253000000087, -0.97931491);
    const { report, symbols } = analyze(plrnnProgram(2), raw, { ...fast, maxCycle: 16, steps: 16_000, transient: 2000 });
    const stable = report.objects.find((o) => o.period === 16 && o.stable)!;
    const s = report.symbolic!;
    expect(s.totalRegions.exact).toBe(4);
    for (const v of s.visited) {
      const inCycle = stable.regions!.filter((r) => r === v.region).length;
      expect(Math.abs(v.steps - (s.steps * inCycle) / 16)).toBeLessThanOrEqual(16);
    }
    expect(s.visited[0]!.symbol).toBe(1);
    for (let i = 1; i < s.visited.length; i++) expect(s.visited[i - 1]!.steps).toBeGreaterThanOrEqual(s.visited[i]!.steps);
    expect(s.coverage[s.coverage.length - 1]).toBeCloseTo(1, 12);
    expect(s.sequenceRle.reduce((a, [, n]) => a + n, 0)).toBe(s.steps);
    expect(symbols!.length).toBe(s.steps);
    const rows = new Map<number, number>();
    for (const t of s.transitions) rows.set(t.from, (rows.get(t.from) ?? 0) + t.probability);
    for (const total of rows.values()) expect(total).toBeCloseTo(1, 12);
    // the real fixed point of region "11" is the map's fixed point; the other regions' are virtual
    const real = s.visited.filter((v) => v.fixedPoint?.real);
    const fp = report.objects.find((o) => o.period === 1)!;
    for (const v of real) expect(v.fixedPoint!.point).toEqual(fp.points[0]);
  });

  it("ALRNN: a region's fixed point is real exactly when it lies in its own region", () => {
    const p = zoo("alrnn.rnn");
    for (const seed of [2, 3, 4]) {
      const raw: Record<string, Float64Array> = {};
      for (const [k, v] of initParams(p, new Prng(seed), () => ({ min: -1, max: 1 }))) raw[k] = Float64Array.from(v.data);
      raw["W"] = raw["W"]!.map((x) => 10 * x);
      raw["h"] = Float64Array.from({ length: 20 }, (_, i) => 0.5 * Math.sin(i + seed));
      const { pl } = maps(p, raw);
      let real = 0;
      for (let idx = 0; idx < 4; idx++) {
        const id = pl!.idOf(pl!.codeAt(idx));
        const fp = regionFixedPoint(pl!, id)!;
        expect(fp.real).toBe(pl!.regionOf(fp.point) === id);
        if (fp.real) real++;
      }
      // with 4 regions the fixed-point search is exhaustive: it reports exactly the real ones
      const { report } = analyze(p, raw, { ...fast, maxCycle: 1 });
      expect(report.search.scyfi![0]).toMatchObject({ method: "exhaustive", complete: true, found: real, virtual: 4 - real });
      expect(report.symbolic!.totalRegions.exact).toBe(4);
    }
  });
});

describe("determinism", () => {
  it("the same seed gives the same document", () => {
    const raw = plrnn2d(0.9777689, 0.96461297, -0.14375, 0.52505308, 0.37298253, -0.97931491);
    const a = analyze(plrnnProgram(2), raw, { ...fast, maxCycle: 6, seed: 3, topology: DEFAULTS.topology }).report;
    const b = analyze(plrnnProgram(2), raw, { ...fast, maxCycle: 6, seed: 3, topology: DEFAULTS.topology }).report;
    expect({ ...a, seconds: 0, search: null }).toEqual({ ...b, seconds: 0, search: null });
  });
});
