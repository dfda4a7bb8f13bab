/**
 * Sanity checks against the measured reference floors of dsr-anchors §4 (results_floors.json) on the
 * real dendPLRNN Lorenz-63 test set (T = 100 000), plus the speed requirement at that size.
 * Skipped when ../shared/data is not present.
 */
import { describe, expect, it } from "vitest";
import { dstsp, dstspBinned } from "../../../src/runtime/metrics/dstsp.js";
import { hellingerPowerSpectrum } from "../../../src/runtime/metrics/hellinger.js";
import { columnStats, type Series } from "../../../src/runtime/metrics/series.js";
import { gaussianLike, npyToSeries, readNpy, seededRng, sharedFile } from "./helpers.js";

const testFile = sharedFile("data/dendPLRNN/lorenz63_test.npy");


describe.skipIf(testFile === undefined)("reference floors on dendPLRNN lorenz63_test.npy (T = 100 000)", () => {
  const X = testFile === undefined ? undefined : npyToSeries(readNpy(testFile));
  let gauss: Series | undefined;
  const G = (): Series => (gauss ??= gaussianLike(X!, seededRng(2024)));

  it("iid Gaussian with the same mean/cov: D_stsp ≈ 2.46, D_H ≈ 0.88", () => {
    const d = dstsp(X!, G());
    const h = hellingerPowerSpectrum(X!, G(), 20);
    // numpy with 4 other seeds gives D_stsp 2.37–2.47, D_H 0.877–0.878
    expect(d).toBeGreaterThan(2.25);
    expect(d).toBeLessThan(2.65);
    expect(h).toBeGreaterThan(0.86);
    expect(h).toBeLessThan(0.9);
  });

  it("the test set against itself, and against its own halves, is near the perfect-model floor", () => {
    expect(dstsp(X!, X!)).toBe(0);
    expect(hellingerPowerSpectrum(X!, X!)).toBe(0);
    const half = X!.T / 2;
    const first: Series = { data: X!.data.subarray(0, half * 3), T: half, N: 3 };
    const second: Series = { data: X!.data.subarray(half * 3), T: half, N: 3 };
    // two independent stretches of the true attractor: small divergence (sample-size floor)
    expect(dstspBinned(first, second)).toBeLessThan(0.3);
    expect(hellingerPowerSpectrum(first, second)).toBeLessThan(0.1);
  });

  it("D_H and binned D_stsp run in well under a second at T = 100 000, N = 3", () => {
    hellingerPowerSpectrum(X!, G()); // warm-up (JIT, FFT plan)
    let t0 = performance.now();
    hellingerPowerSpectrum(X!, G());
    const tH = performance.now() - t0;
    t0 = performance.now();
    dstspBinned(X!, G());
    const tD = performance.now() - t0;
    console.log(`T=100000 N=3: D_H ${tH.toFixed(1)} ms, D_stsp(binned) ${tD.toFixed(1)} ms`);
    // generous bounds (shared CI machines); typical values are ~10× lower
    expect(tH).toBeLessThan(1000);
    expect(tD).toBeLessThan(1000);
  });
});
