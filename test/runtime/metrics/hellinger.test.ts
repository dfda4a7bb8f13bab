import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  hellingerDistance,
  hellingerPowerSpectrum,
  hellingerPowerSpectrumPerDim,
  normalizedPowerSpectrum,
} from "../../../src/runtime/metrics/hellinger.js";
import { column, type Series } from "../../../src/runtime/metrics/series.js";
import { expected, FIXTURES, head, loadSeries, readNpy, relErr, seededRng } from "./helpers.js";

const lorenzTrue = loadSeries("lorenz_true");
const lorenzGen = loadSeries("lorenz_gen_f32");
const fixedPoint = loadSeries("fixed_point");
const vdpTrue = loadSeries("vdp_true");
const vdpGen = loadSeries("vdp_gen");
const l96True = loadSeries("l96_true");
const l96Gen = loadSeries("l96_gen");

describe("hellingerPowerSpectrum vs numpy.fft.rfft + scipy gaussian_filter1d", () => {
  const ref = expected().hellinger;
  const cases: [string, Series, Series, number, "reflect" | "mirror"][] = [
    ["lorenz_s20", lorenzTrue, lorenzGen, 20, "reflect"],
    ["lorenz_s20_mirror", lorenzTrue, lorenzGen, 20, "mirror"],
    ["lorenz_s5", lorenzTrue, lorenzGen, 5, "reflect"],
    ["lorenz_s0", lorenzTrue, lorenzGen, 0, "reflect"],
    ["lorenz_fixed_point", lorenzTrue, fixedPoint, 20, "reflect"],
    ["lorenz_odd_4999", head(lorenzTrue, 4999), head(lorenzGen, 4999), 20, "reflect"],
    ["lorenz_pow2_4096", head(lorenzTrue, 4096), head(lorenzGen, 4096), 10, "reflect"],
    ["lorenz_short_101_s20", head(lorenzTrue, 101), head(lorenzGen, 101), 20, "reflect"],
    ["vdp", vdpTrue, vdpGen, 20, "reflect"],
    ["l96", l96True, head(l96Gen, 2000), 20, "reflect"],
  ];
  it.each(cases)("%s (rel. err < 1e-12, per dimension too)", (key, X, Y, sigma, padding) => {
    const want = ref[key];
    const got = hellingerPowerSpectrum(X, Y, sigma, { padding });
    expect(relErr(got, want.value), `got ${got}, numpy ${want.value}`).toBeLessThan(1e-12);
    const perDim = hellingerPowerSpectrumPerDim(X, Y, sigma, { padding });
    perDim.forEach((v, i) => expect(relErr(v, want.perDim[i])).toBeLessThan(1e-12));
  });

  it("normalised smoothed spectrum matches scipy element-wise", () => {
    const ps = readNpy(join(FIXTURES, "ps_lorenz_true_s20.npy"));
    const bins = ps.shape[0]!;
    for (let n = 0; n < 3; n++) {
      const got = normalizedPowerSpectrum(column(lorenzTrue, n), 20);
      expect(got.length).toBe(bins);
      let maxRel = 0;
      for (let k = 0; k < bins; k++) {
        const want = ps.data[k * 3 + n]!;
        // relative to the spectrum's peak: tiny high-frequency bins carry FFT round-off of the big ones
        maxRel = Math.max(maxRel, Math.abs(got[k]! - want));
      }
      let peak = 0;
      for (let k = 0; k < bins; k++) peak = Math.max(peak, ps.data[k * 3 + n]!);
      expect(maxRel / peak).toBeLessThan(1e-12);
    }
  });
});

describe("hellingerPowerSpectrum properties", () => {
  it("D_H(X, X) = 0 exactly", () => {
    expect(hellingerPowerSpectrum(lorenzTrue, lorenzTrue)).toBe(0);
    expect(hellingerPowerSpectrum(l96True, l96True, 5)).toBe(0);
  });

  it("is invariant under per-dimension affine maps a·X + b (z-scoring), a of either sign", () => {
    const a = [3.5, -0.2, 1e3];
    const b = [10, -4, 0.5];
    const Y: Series = { data: lorenzTrue.data.map((v, i) => a[i % 3]! * v + b[i % 3]!), T: lorenzTrue.T, N: 3 };
    expect(hellingerPowerSpectrum(lorenzTrue, Y)).toBeLessThan(1e-10);
  });

  it("is symmetric and lies in [0, 1]", () => {
    const rng = seededRng(11);
    const noise: Series = { data: Float64Array.from({ length: 3 * 2000 }, () => rng.normal()), T: 2000, N: 3 };
    const X = head(lorenzTrue, 2000);
    for (const [A, B] of [
      [X, noise],
      [X, head(lorenzGen, 2000)],
      [X, head(fixedPoint, 2000)],
    ] as const) {
      const d1 = hellingerPowerSpectrum(A, B);
      const d2 = hellingerPowerSpectrum(B, A);
      expect(d1).toBeGreaterThanOrEqual(0);
      expect(d1).toBeLessThanOrEqual(1);
      expect(Math.abs(d1 - d2)).toBeLessThan(1e-14);
    }
    // disjoint supports → exactly 1
    expect(hellingerDistance([0.5, 0.5, 0, 0], [0, 0, 0.25, 0.75])).toBe(1);
  });

  it("requires equal lengths and dimensions", () => {
    expect(() => hellingerPowerSpectrum(lorenzTrue, head(lorenzGen, 4000))).toThrow(/same length/);
    expect(() => hellingerPowerSpectrum(lorenzTrue, vdpTrue)).toThrow(/dimensions/);
  });

  it("is NaN for a constant (or non-finite) dimension", () => {
    const c: Series = { data: new Float64Array(3000).fill(0.25), T: 1000, N: 3 };
    expect(hellingerPowerSpectrum(head(lorenzTrue, 1000), c)).toBeNaN();
    const bad = Float64Array.from(head(lorenzGen, 1000).data);
    bad[30] = NaN;
    expect(hellingerPowerSpectrum(head(lorenzTrue, 1000), { data: bad, T: 1000, N: 3 })).toBeNaN();
  });
});
