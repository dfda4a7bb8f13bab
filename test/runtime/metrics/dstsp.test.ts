import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  binEdges,
  drawGmmSamples,
  dstsp,
  dstspBinned,
  dstspGmm,
  dstspMethod,
} from "../../../src/runtime/metrics/dstsp.js";
import type { Rng } from "../../../src/runtime/metrics/rng.js";
import type { Series } from "../../../src/runtime/metrics/series.js";
import { delayEmbed, expected, FIXTURES, head, loadSeries, readNpy, relErr, seededRng } from "./helpers.js";

const lorenzTrue = loadSeries("lorenz_true");
const lorenzGen = loadSeries("lorenz_gen_f32"); // float32 storage on purpose
const fixedPoint = loadSeries("fixed_point");
const vdpTrue = loadSeries("vdp_true");
const vdpGen = loadSeries("vdp_gen");
const l96True = loadSeries("l96_true");
const l96Gen = loadSeries("l96_gen");

// measured agreement with numpy is ~1e-14; 1e-12 leaves room for platform libm differences
const TIGHT = 1e-12;

function shifted(X: Series, by: number): Series {
  return { data: X.data.map((v) => v + by), T: X.T, N: X.N };
}

describe("dstspBinned vs numpy.histogramdd reference", () => {
  const ref = expected().dstsp_binned;
  const cases: [string, () => number][] = [
    ["lorenz_default", () => dstspBinned(lorenzTrue, lorenzGen)],
    ["lorenz_legacy", () => dstspBinned(lorenzTrue, lorenzGen, 30, { legacy: true })],
    ["lorenz_bins10", () => dstspBinned(lorenzTrue, lorenzGen, 10)],
    ["lorenz_laplace1e-3", () => dstspBinned(lorenzTrue, lorenzGen, 30, { laplace: 1e-3 })],
    ["lorenz_reverse", () => dstspBinned(lorenzGen, lorenzTrue)],
    ["lorenz_fixed_point", () => dstspBinned(lorenzTrue, fixedPoint)],
    ["lorenz_half", () => dstspBinned(lorenzTrue, head(lorenzTrue, lorenzTrue.T / 2))],
    ["vdp", () => dstspBinned(vdpTrue, vdpGen)],
    ["l4", () => dstspBinned(delayEmbed(lorenzTrue, [8], 3000), delayEmbed(lorenzGen, [8], 3000))],
    ["l5_bins12", () => dstspBinned(delayEmbed(lorenzTrue, [8, 16], 2000), delayEmbed(lorenzGen, [8, 16], 2000), 12)],
  ];
  it.each(cases)("%s (rel. err < 1e-12)", (key, compute) => {
    const want = ref[key] as number;
    const got = compute();
    expect(relErr(got, want), `got ${got}, numpy ${want}`).toBeLessThan(TIGHT);
  });
});

describe("dstspBinned properties", () => {
  it("is exactly 0 for identical data, for any N (sparse keys up to N=10, string keys beyond)", () => {
    expect(dstspBinned(lorenzTrue, lorenzTrue)).toBe(0);
    const wide = delayEmbed(lorenzTrue, [3, 6, 9, 12, 15, 18, 21, 24, 27], 3000); // N = 12: 30^12 > 2^53
    expect(wide.N).toBe(12);
    expect(dstspBinned(wide, wide)).toBe(0);
    const ten = delayEmbed(lorenzTrue, [4, 8, 12, 16, 20, 24, 28], 3000); // N = 10
    expect(dstspBinned(ten, ten)).toBe(0);
  });

  it("numeric and string cell keys give identical results", () => {
    // Duplicating a column never splits a cell (both copies fall into the same bin); it only
    // multiplies the number of cells. With α = 0 empty cells contribute nothing, so the value must
    // not change — whether keys are numbers (6^12 ≤ 2^53) or strings (6^24 > 2^53).
    const dup = (X: Series, copies: number): Series => {
      const N = X.N + copies;
      const out = new Float64Array(X.T * N);
      for (let t = 0; t < X.T; t++) {
        for (let d = 0; d < X.N; d++) out[t * N + d] = X.data[t * X.N + d]!;
        for (let c = 0; c < copies; c++) out[t * N + X.N + c] = X.data[t * X.N]!;
      }
      return { data: out, T: X.T, N };
    };
    // gen ⊇ true, so every true-occupied cell is gen-occupied and KL stays finite with α = 0
    const gen: Series = { data: Float64Array.from([...lorenzTrue.data, ...lorenzGen.data]), T: 2 * lorenzTrue.T, N: 3 };
    const bins = 6;
    const base = dstspBinned(lorenzTrue, gen, bins, { laplace: 0 });
    expect(base).toBeGreaterThan(0);
    expect(Math.pow(bins, 3 + 21)).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
    expect(dstspBinned(dup(lorenzTrue, 9), dup(gen, 9), bins, { laplace: 0 })).toBe(base);
    expect(dstspBinned(dup(lorenzTrue, 21), dup(gen, 21), bins, { laplace: 0 })).toBe(base);
  });

  it("returns NaN when no generated point falls inside the binning volume; drops NaN/±Inf points", () => {
    expect(dstspBinned(lorenzTrue, shifted(lorenzGen, 100))).toBeNaN();
    const withBad = Float64Array.from(lorenzGen.data);
    withBad[0] = NaN;
    withBad[4] = Infinity;
    const bad: Series = { data: withBad, T: lorenzGen.T, N: 3 };
    const clean: Series = { data: Float64Array.from(lorenzGen.data.subarray(6)), T: lorenzGen.T - 2, N: 3 };
    expect(dstspBinned(lorenzTrue, bad)).toBeCloseTo(dstspBinned(lorenzTrue, clean), 12);
  });

  it("is non-negative and grows for worse models", () => {
    const good = dstspBinned(lorenzTrue, lorenzGen);
    const bad = dstspBinned(lorenzTrue, fixedPoint);
    expect(good).toBeGreaterThan(0);
    expect(bad).toBeGreaterThan(good);
  });

  it("edges are linspace(min − 0.1σ, max + 0.1σ) of the true data (σ with n−1), legacy ±2σ", () => {
    const X: Series = { data: Float64Array.from([0, 1, 2, 3, 4]), T: 5, N: 1 };
    const sd = Math.sqrt(2.5);
    const e = binEdges(X, 4)[0]!;
    expect(e[0]).toBeCloseTo(-0.1 * sd, 15);
    expect(e[4]).toBe(4 + 0.1 * sd);
    const l = binEdges(X, 4, true)[0]!;
    expect(l[0]).toBeCloseTo(-2 * sd, 15);
    expect(l[4]).toBeCloseTo(2 * sd, 15);
  });

  it("validates its inputs", () => {
    expect(() => dstspBinned(lorenzTrue, vdpGen)).toThrow(/dimensions/);
    expect(() => dstspBinned(lorenzTrue, lorenzGen, 0)).toThrow(/bins/);
    expect(() => dstspBinned({ data: new Float64Array(5), T: 2, N: 3 }, lorenzGen)).toThrow(/data.length/);
  });
});

describe("dstspGmm vs numpy/scipy logsumexp reference (same Monte-Carlo samples)", () => {
  const ref = expected().dstsp_gmm;
  const names = ["l96_s1", "l96_s03_max1500", "l96_shifted"] as const;

  function injectedSamples(name: string): { samples: Series; normals: Float64Array } {
    const c = ref[name];
    const normals = readNpy(join(FIXTURES, `gmm_${name}_normals.npy`)).data as Float64Array;
    const N = l96True.N;
    const sigma = Math.sqrt(c.scaling);
    const out = new Float64Array(c.samples * N);
    c.index.forEach((t: number, i: number) => {
      for (let d = 0; d < N; d++) out[i * N + d] = l96True.data[t * N + d]! + sigma * normals[i * N + d]!;
    });
    return { samples: { data: out, T: c.samples, N }, normals };
  }

  /** Replays numpy's draws through the Rng interface: uniforms that floor to the stored indices, then the normals. */
  function scriptedRng(name: string, normals: Float64Array): Rng {
    const c = ref[name];
    const nTrue = Math.min(l96True.T, c.maxPoints);
    const uniforms = (c.index as number[]).map((t) => (t + 0.5) / nTrue);
    let u = 0;
    let z = 0;
    return { uniform: () => uniforms[u++]!, normal: () => normals[z++]! };
  }

  it.each(names)("%s with injected samples (rel. err < 1e-12)", (name) => {
    const c = ref[name];
    const gen = c.shift ? shifted(l96Gen, c.shift) : l96Gen;
    const { samples } = injectedSamples(name);
    const got = dstspGmm(l96True, gen, { scaling: c.scaling, maxPoints: c.maxPoints, mcSamples: samples });
    expect(relErr(got, c.value), `got ${got}, numpy ${c.value}`).toBeLessThan(TIGHT);
  });

  it.each(names)("%s drawing through the Rng interface reproduces the sampling protocol", (name) => {
    const c = ref[name];
    const gen = c.shift ? shifted(l96Gen, c.shift) : l96Gen;
    const { samples, normals } = injectedSamples(name);
    const drawn = drawGmmSamples(l96True, { scaling: c.scaling, maxPoints: c.maxPoints, samples: c.samples, rng: scriptedRng(name, normals) });
    expect(Array.from(drawn.data)).toEqual(Array.from(samples.data));
    const got = dstspGmm(l96True, gen, { scaling: c.scaling, maxPoints: c.maxPoints, samples: c.samples, rng: scriptedRng(name, normals) });
    expect(relErr(got, c.value)).toBeLessThan(TIGHT);
  });

  it("underflow 'none' keeps every sample (numpy value without the drop); 'float64' drops none here", () => {
    const c = ref.l96_shifted;
    expect(c.dropped).toBeGreaterThan(0);
    const gen = shifted(l96Gen, c.shift);
    const { samples } = injectedSamples("l96_shifted");
    const none = dstspGmm(l96True, gen, { scaling: c.scaling, mcSamples: samples, underflow: "none" });
    expect(relErr(none, c.value_none)).toBeLessThan(TIGHT);
    const f64 = dstspGmm(l96True, gen, { scaling: c.scaling, mcSamples: samples, underflow: "float64" });
    expect(f64).toBeCloseTo(none, 9); // nothing is below 2^-1074 here
  });
});

describe("dstspGmm properties", () => {
  it("is 0 for identical data and NaN when every sample underflows", () => {
    const rng = seededRng(42);
    expect(dstspGmm(l96True, l96True, { rng, samples: 200 })).toBe(0);
    expect(dstspGmm(l96True, shifted(l96Gen, 1000), { rng, samples: 50 })).toBeNaN();
    expect(Number.isFinite(dstspGmm(l96True, shifted(l96Gen, 1000), { rng, samples: 50, underflow: "none" }))).toBe(true);
  });

  it("is reproducible for a seeded rng and requires rng or samples", () => {
    const a = dstspGmm(l96True, l96Gen, { rng: seededRng(7), samples: 300 });
    const b = dstspGmm(l96True, l96Gen, { rng: seededRng(7), samples: 300 });
    expect(a).toBe(b);
    expect(() => dstspGmm(l96True, l96Gen)).toThrow(/rng/);
    expect(() => dstspGmm(l96True, l96Gen, { rng: seededRng(1), scaling: 0 })).toThrow(/scaling/);
  });

  it("stays finite in high dimension where plain exp() would underflow (log-sum-exp)", () => {
    // 7-D, σ² = 0.01: typical squared distances ≫ 2·745·σ², so exp(-d²/2σ²) is 0 in float64
    const got = dstspGmm(l96True, l96Gen, { rng: seededRng(3), samples: 100, scaling: 0.01, underflow: "none" });
    expect(Number.isFinite(got)).toBe(true);
    expect(got).toBeGreaterThan(0);
  });
});

describe("dstsp dispatcher", () => {
  it("bins for N < 6 (GTF rule), GMM otherwise; the threshold is an option", () => {
    expect(dstspMethod(3)).toBe("binned");
    expect(dstspMethod(5)).toBe("binned");
    expect(dstspMethod(6)).toBe("gmm");
    expect(dstspMethod(7, 11)).toBe("binned");
    expect(dstsp(lorenzTrue, lorenzGen)).toBe(dstspBinned(lorenzTrue, lorenzGen));
    expect(dstsp(lorenzTrue, lorenzGen, { bins: 10, legacy: true })).toBe(dstspBinned(lorenzTrue, lorenzGen, 10, { legacy: true }));
    const gmm = dstsp(l96True, l96Gen, { rng: seededRng(9), samples: 100 });
    expect(gmm).toBe(dstspGmm(l96True, l96Gen, { rng: seededRng(9), samples: 100 }));
    const binned7 = dstsp(l96True, l96Gen, { binThreshold: 11, bins: 5 });
    expect(binned7).toBe(dstspBinned(l96True, l96Gen, 5));
  });
});
