import { describe, expect, it } from "vitest";
import { fft, rfft, rfftPower } from "../../../src/runtime/metrics/fft.js";
import { boundaryIndex, gaussianFilter1d, gaussianKernel1d } from "../../../src/runtime/metrics/smoothing.js";
import { column } from "../../../src/runtime/metrics/series.js";
import { expected, FIXTURES, loadSeries, readNpy, seededRng } from "./helpers.js";
import { join } from "node:path";

/** O(n²) reference DFT with exactly reduced angles. */
function naiveDft(re: ArrayLike<number>, im: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * ((j * k) % n)) / n;
      const c = Math.cos(a);
      const s = Math.sin(a);
      sr += re[j]! * c - im[j]! * s;
      si += re[j]! * s + im[j]! * c;
    }
    outRe[k] = sr;
    outIm[k] = si;
  }
  return { re: outRe, im: outIm };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("fft", () => {
  it("matches a naive DFT for every length 1..64 and a few awkward ones (radix-2 and Bluestein)", () => {
    const rng = seededRng(1);
    for (const n of [...Array.from({ length: 64 }, (_, i) => i + 1), 97, 100, 127, 243, 1000, 1024]) {
      const re = Float64Array.from({ length: n }, () => rng.normal());
      const im = Float64Array.from({ length: n }, () => rng.normal());
      const got = fft(re, im);
      const want = naiveDft(re, im);
      const tol = 1e-12 * n;
      expect(maxAbsDiff(got.re, want.re), `n=${n}`).toBeLessThan(tol);
      expect(maxAbsDiff(got.im, want.im), `n=${n}`).toBeLessThan(tol);
    }
  });

  it("rfft equals the first ⌊n/2⌋+1 bins of the complex DFT (odd and even n)", () => {
    const rng = seededRng(2);
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 30, 31, 98, 99, 250]) {
      const x = Float64Array.from({ length: n }, () => rng.normal());
      const got = rfft(x);
      const want = naiveDft(x, new Float64Array(n));
      expect(got.re.length).toBe(Math.floor(n / 2) + 1);
      expect(maxAbsDiff(got.re, want.re.subarray(0, got.re.length)), `n=${n}`).toBeLessThan(1e-12 * n);
      expect(maxAbsDiff(got.im, want.im.subarray(0, got.im.length)), `n=${n}`).toBeLessThan(1e-12 * n);
    }
  });

  it("rfft matches numpy.fft.rfft (n = 5000, prime 4999, 4096) to ~1e-13 of the spectrum scale", () => {
    const x = column(loadSeries("lorenz_true"), 0);
    for (const n of [5000, 4999, 4096]) {
      const ref = readNpy(join(FIXTURES, `rfft_${n}.npy`));
      const got = rfft(x.subarray(0, n));
      let scale = 0;
      let err = 0;
      for (let k = 0; k < got.re.length; k++) {
        const rr = ref.data[2 * k]!;
        const ri = ref.data[2 * k + 1]!;
        scale = Math.max(scale, Math.hypot(rr, ri));
        err = Math.max(err, Math.hypot(got.re[k]! - rr, got.im[k]! - ri));
      }
      expect(err / scale, `n=${n}`).toBeLessThan(1e-13);
    }
  });

  it("rfftPower is |rfft|² and Parseval holds", () => {
    const rng = seededRng(3);
    const n = 1001;
    const x = Float64Array.from({ length: n }, () => rng.normal());
    const p = rfftPower(x);
    // Parseval for odd n: Σx² = (P_0 + 2Σ_{k≥1} P_k) / n
    let energy = 0;
    for (const v of x) energy += v * v;
    let s = p[0]!;
    for (let k = 1; k < p.length; k++) s += 2 * p[k]!;
    expect(s / n).toBeCloseTo(energy, 9);
  });
});

describe("gaussianFilter1d (scipy.ndimage.gaussian_filter1d)", () => {
  const g = readNpy(join(FIXTURES, "gauss_input.npy")).data;
  const ref = expected().gaussian_filter;

  it("kernel has scipy's radius ⌊4σ+0.5⌋ and sums to 1", () => {
    expect(gaussianKernel1d(20).length).toBe(161);
    expect(gaussianKernel1d(2.5).length).toBe(21);
    expect(gaussianKernel1d(2.3).length).toBe(19);
    expect(gaussianKernel1d(20).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });

  it("boundary modes: reflect = d c b a|a b c d|d c b a, mirror = d c b|a b c d|c b a", () => {
    const map = (mode: "reflect" | "mirror") => [-5, -4, -3, -2, -1, 4, 5, 6, 7, 8].map((i) => boundaryIndex(i, 4, mode));
    expect(map("reflect")).toEqual([3, 3, 2, 1, 0, 3, 2, 1, 0, 0]);
    expect(map("mirror")).toEqual([1, 2, 3, 2, 1, 2, 1, 0, 1, 2]);
  });

  const cases: [string, number, "reflect" | "mirror", number, number][] = [
    ["reflect_s20", 20, "reflect", 300, 7],
    ["mirror_s20", 20, "mirror", 300, 7],
    ["reflect_s20_short", 20, "reflect", 50, 1],
    ["mirror_s20_short", 20, "mirror", 50, 1],
    ["reflect_s2_5", 2.5, "reflect", 300, 7],
  ];
  it.each(cases)("%s matches scipy to 1e-14", (key, sigma, mode, len, stride) => {
    const out = gaussianFilter1d(g.subarray(0, len), sigma, { mode });
    const want: number[] = ref[key];
    const got = Array.from(out).filter((_, i) => i % stride === 0);
    expect(got.length).toBe(want.length);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-14);
  });
});
