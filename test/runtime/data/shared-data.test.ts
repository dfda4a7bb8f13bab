/**
 * Checks against the reference data sets in ../shared/data (present on development machines
 * only; every test skips cleanly without them).
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { generate } from "../../../src/runtime/data/generators.js";
import { loadSeries } from "../../../src/runtime/data/load.js";
import { readNpy } from "../../../src/runtime/data/npy.js";
import { SHARED_DATA, testRng } from "./helpers.js";

const shared = (rel: string) => path.join(SHARED_DATA, rel);
const has = (rel: string) => existsSync(shared(rel));

/** Per-dimension z-scored one-step increment std and autocorrelations, averaged over dimensions. */
function dynamicsStats(data: ArrayLike<number>, T: number, n: number): { inc: number; ac10: number; ac50: number } {
  const z = new Float64Array(T * n);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let t = 0; t < T; t++) m += data[t * n + i]!;
    m /= T;
    let v = 0;
    for (let t = 0; t < T; t++) v += (data[t * n + i]! - m) ** 2;
    const s = Math.sqrt(v / T);
    for (let t = 0; t < T; t++) z[t * n + i] = (data[t * n + i]! - m) / s;
  }
  let inc = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let t = 1; t < T; t++) v += (z[t * n + i]! - z[(t - 1) * n + i]!) ** 2;
    inc += Math.sqrt(v / (T - 1));
  }
  const ac = (lag: number) => {
    let r = 0;
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let t = 0; t + lag < T; t++) v += z[t * n + i]! * z[(t + lag) * n + i]!;
      r += v / (T - lag);
    }
    return r / n;
  };
  return { inc: inc / n, ac10: ac(10), ac50: ac(50) };
}

describe.skipIf(!existsSync(SHARED_DATA))("reference data sets (../shared/data)", () => {
  it.skipIf(!has("dendPLRNN/lorenz63_test.npy"))("reads dendPLRNN lorenz63_test.npy (float32, C order)", () => {
    const a = readNpy(shared("dendPLRNN/lorenz63_test.npy"));
    expect(a.dtype).toBe("float32");
    expect(a.shape).toEqual([100_000, 3]);
    // first and last rows as numpy prints them
    expect(Array.from(a.data.subarray(0, 3))).toEqual([0.8411185145378113, 1.1025304794311523, -0.6285343170166016]);
    expect(Array.from(a.data.subarray(299_997))).toEqual([1.7004674673080444, 2.037264347076416, 0.43857046961784363]);
  });

  it.skipIf(!has("ALRNN-DSR/alrnn_python_lorenz63_train.npy"))("reads the ALRNN float64 Fortran-order file", () => {
    const a = readNpy(shared("ALRNN-DSR/alrnn_python_lorenz63_train.npy"));
    expect(a.dtype).toBe("float64");
    expect(a.shape).toEqual([100_000, 3]);
    expect(Array.from(a.data.subarray(0, 3))).toEqual([0.1347074958280894, 0.08458375848570387, -1.6658114260000219]);
    expect(Array.from(a.data.subarray(299_997))).toEqual([0.9148978897390327, 1.2387081623763727, -0.656974792510757]);
  });

  it("loads every shipped file through loadSeries with the documented shapes", () => {
    const files: [string, number[], "float32" | "float64"][] = [
      ["dendPLRNN/lorenz63_train.npy", [100_000, 3], "float32"],
      ["dendPLRNN/burstingneuron_test.npy", [100_000, 3], "float32"],
      ["dendPLRNN/lorenz96_test.npy", [100_000, 10], "float32"],
      ["dendPLRNN/EEG_train.npy", [9640, 64], "float32"],
      ["ALRNN-DSR/alrnn_python_lorenz63_test.npy", [100_000, 3], "float64"],
      ["ALRNN-DSR/example_rossler.npy", [100_000, 3], "float32"],
      ["ALRNN-DSR/example_ECG.npy", [10_000, 5], "float32"],
      ["ALRNN-DSR/example_fmri.npy", [360, 20], "float64"],
      ["GTF-shPLRNN/ECG_pecuzal_5d_test.npy", [100_000, 5], "float64"],
    ];
    for (const [rel, shape, dtype] of files) {
      if (!has(rel)) continue;
      const a = loadSeries(shared(rel));
      expect(a.shape, rel).toEqual(shape);
      expect(a.dtype, rel).toBe(dtype);
    }
  });

  // The generators' default sampling steps were chosen to match these files; the statistics are
  // scale-free (z-scored), so they test dt and the dynamics, not units.
  const cases: [string, string, { inc: number; ac10: number; ac50: number }][] = [
    ["lorenz63", "dendPLRNN/lorenz63_test.npy", { inc: 0.03, ac10: 0.03, ac50: 0.06 }],
    ["rossler", "ALRNN-DSR/example_rossler.npy", { inc: 0.03, ac10: 0.03, ac50: 0.06 }],
    ["lorenz96", "dendPLRNN/lorenz96_test.npy", { inc: 0.03, ac10: 0.03, ac50: 0.06 }],
    ["bursting_neuron", "dendPLRNN/burstingneuron_test.npy", { inc: 0.03, ac10: 0.03, ac50: 0.06 }],
  ];
  for (const [name, rel, tol] of cases) {
    it.skipIf(!has(rel))(`builtin.${name} with default arguments matches the dynamics of ${rel}`, () => {
      const ref = readNpy(shared(rel));
      const [T, n] = ref.shape as [number, number];
      const want = dynamicsStats(ref.data, T, n);
      // the statistics are per-step rates, so a shorter generated series suffices (and is faster)
      const steps = Math.min(T, 50_000);
      const g = generate(name, { steps, test_steps: 0 }, testRng(42));
      expect(g.train.shape).toEqual([steps, n]);
      const got = dynamicsStats(g.train.data, steps, n);
      expect(Math.abs(got.inc / want.inc - 1), `${name} increment std ${got.inc} vs ${want.inc}`).toBeLessThan(tol.inc);
      expect(Math.abs(got.ac10 - want.ac10), `${name} lag-10 autocorrelation ${got.ac10} vs ${want.ac10}`).toBeLessThan(tol.ac10);
      expect(Math.abs(got.ac50 - want.ac50), `${name} lag-50 autocorrelation ${got.ac50} vs ${want.ac50}`).toBeLessThan(tol.ac50);
    });
  }
});
