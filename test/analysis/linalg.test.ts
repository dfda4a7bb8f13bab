// Dense linear algebra of the analysis tools against matrices with known spectra and NumPy values.
import { describe, expect, it } from "vitest";
import { abs, eigenvalues, luFactor, luSolve, matMul, qrInPlace, solve, type Complex } from "../../src/runtime/analysis/linalg.js";
import { Prng } from "../../src/runtime/train/prng.js";

function expectSpectrum(got: Complex[], want: [number, number][], tol = 1e-10): void {
  expect(got.length).toBe(want.length);
  // match each expected eigenvalue to a distinct computed one
  const used = new Set<number>();
  for (const [re, im] of want) {
    let best = -1;
    let bestD = Infinity;
    got.forEach((g, i) => {
      const d = Math.hypot(g.re - re, g.im - im);
      if (!used.has(i) && d < bestD) {
        best = i;
        bestD = d;
      }
    });
    expect(bestD, `eigenvalue ${re}+${im}i`).toBeLessThan(tol * Math.max(1, Math.hypot(re, im)));
    used.add(best);
  }
}

describe("eigenvalues", () => {
  it("match numpy.linalg.eigvals on a random 6 x 6 matrix, sorted by modulus", () => {
    const A = [[0.305, -1.04, 0.75, 0.941, -1.951, -1.302], [0.128, -0.316, -0.017, -0.853, 0.879, 0.778], [0.066, 1.127, 0.468, -0.859, 0.369, -0.959], [0.878, -0.05, -0.185, -0.681, 1.223, -0.155], [-0.428, -0.352, 0.532, 0.365, 0.413, 0.431], [2.142, -0.406, -0.512, -0.814, 0.616, 1.129]];
    const numpy: [number, number][] = [[1.226823370097513, 1.744315144602405], [1.226823370097513, -1.744315144602405], [-1.791341655187832, 0], [-0.9247866024647836, 0], [0.7902407587287942, 0.29553562786759136], [0.7902407587287942, -0.29553562786759136]];
    const ev = eigenvalues(A.flat(), 6);
    expectSpectrum(ev, numpy, 1e-12);
    for (let i = 1; i < ev.length; i++) expect(abs(ev[i - 1]!)).toBeGreaterThanOrEqual(abs(ev[i]!) - 1e-12);
  });

  it("find the roots of a companion matrix (x-1)(x+2)(x-0.5)(x^2+1)", () => {
    // x^5 + 0.5x^4 - 1.5x^3 + 1.5x^2 - 2.5x + 1 (numpy.poly of the roots 1, -2, 0.5, ±i)
    const c = [0.5, -1.5, 1.5, -2.5, 1];
    const n = 5;
    const m = new Float64Array(n * n);
    for (let j = 0; j < n; j++) m[j] = -c[j]!;
    for (let i = 1; i < n; i++) m[i * n + i - 1] = 1;
    expectSpectrum(eigenvalues(m, n), [[1, 0], [-2, 0], [0.5, 0], [0, 1], [0, -1]], 1e-10);
  });

  it("handle rotations, a defective block, zeros and 1 x 1", () => {
    const t = 0.3;
    expectSpectrum(eigenvalues([Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)], 2), [[Math.cos(t), Math.sin(t)], [Math.cos(t), -Math.sin(t)]], 1e-14);
    // a Jordan block is ill-conditioned: eigenvalues to about eps^(1/3)
    expectSpectrum(eigenvalues([4, 1, 0, 0, 0, 4, 1, 0, 0, 0, 4, 0, 1e-3, 0, 0, 2], 4), [[4, 0], [4, 0], [4, 0], [2, 0]], 1e-4);
    expectSpectrum(eigenvalues(new Float64Array(9), 3), [[0, 0], [0, 0], [0, 0]]);
    expectSpectrum(eigenvalues([-3.5], 1), [[-3.5, 0]]);
  });

  it("preserve trace and determinant of random 12 x 12 matrices", () => {
    const rng = new Prng(5);
    for (let trial = 0; trial < 5; trial++) {
      const n = 12;
      const m = Float64Array.from({ length: n * n }, () => rng.normal());
      const ev = eigenvalues(m, n);
      let trace = 0;
      for (let i = 0; i < n; i++) trace += m[i * n + i]!;
      expect(ev.reduce((s, e) => s + e.re, 0)).toBeCloseTo(trace, 9);
      expect(Math.abs(ev.reduce((s, e) => s + e.im, 0))).toBeLessThan(1e-9);
      // det from LU vs product of eigenvalues
      const lu = luFactor(m, n)!;
      let det = 1;
      for (let i = 0; i < n; i++) det *= lu.lu[i * n + i]!;
      let swaps = 0;
      const perm = Array.from(lu.perm);
      for (let i = 0; i < n; i++) while (perm[i] !== i) {
        const j = perm[i]!;
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        swaps++;
      }
      if (swaps % 2) det = -det;
      let pr: Complex = { re: 1, im: 0 };
      for (const e of ev) pr = { re: pr.re * e.re - pr.im * e.im, im: pr.re * e.im + pr.im * e.re };
      expect(pr.re / det).toBeCloseTo(1, 8);
    }
  });

  it("reject non-finite matrices", () => {
    expect(() => eigenvalues([1, NaN, 0, 1], 2)).toThrow(/non-finite/);
  });
});

describe("LU and QR", () => {
  it("solve a linear system and detect singular matrices", () => {
    const a = [2, 1, -1, -3, -1, 2, -2, 1, 2];
    const x = solve(a, [8, -11, -3], 3)!;
    expect(Array.from(x).map((v) => +v.toFixed(12))).toEqual([2, 3, -1]);
    expect(solve([1, 2, 2, 4], [1, 1], 2)).toBeNull();
    const f = luFactor([0, 1, 1, 0], 2)!;
    expect(Array.from(luSolve(f, [3, 4]))).toEqual([4, 3]);
  });

  it("Householder QR gives orthonormal Q and Q R = A with a non-negative diagonal", () => {
    const rng = new Prng(2);
    const n = 7;
    const m = 4;
    const a = Float64Array.from({ length: n * m }, () => rng.normal());
    const q = Float64Array.from(a);
    const r = qrInPlace(q, n, m);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) {
      let d = 0;
      for (let k = 0; k < n; k++) d += q[k * m + i]! * q[k * m + j]!;
      expect(d).toBeCloseTo(i === j ? 1 : 0, 12);
    }
    for (const x of r) expect(x).toBeGreaterThan(0);
    // R = Qᵀ A is upper triangular with the returned diagonal
    for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) {
      let d = 0;
      for (let k = 0; k < n; k++) d += q[k * m + i]! * a[k * m + j]!;
      expect(d).toBeCloseTo(i === j ? r[i]! : 0, 12);
    }
  });

  it("matMul multiplies", () => {
    expect(Array.from(matMul([1, 2, 3, 4], [5, 6, 7, 8], 2))).toEqual([19, 22, 43, 50]);
  });
});
