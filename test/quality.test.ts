// A CI-sized reconstruction: the README's main-job dendPLRNN (clipped, M 22, B 20) trained for 4000
// batches on generated, z-scored Lorenz-63 must beat the trivial reconstructions of the same test
// trajectory, scored with the same measures (shared/reference/dsr-anchors.md §4): a fixed point
// (D_stsp ~14.7, D_H ~0.87 on this 20 000-step test set) and an iid Gaussian with the data's mean
// and covariance (D_stsp ~3.7, D_H ~0.87). Measured (seeds 4, 1, 2, one ensemble, 63 s on an idle
// 2-core machine): D_stsp 3.64 / 2.14 / 2.90, D_H 0.19 / 0.13 / 0.07, PE(10) 2.5e-3 / 1.9e-3 / 3.0e-3.
// Before the kernel summed parameter cotangents over its lanes (other rounding), the same seeds
// gave D_stsp 0.86 / 2.23 / 2.42: a single seed's result is luck, so two of three must pass.
// The margins allow for other seeds and for kernels that round differently. It guards the whole
// pipeline: data, forcing, fused gradients, optimizer, evaluation.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { dendplrnnSpec } from "./helpers/dendplrnn.js";
import { trainEnsemble } from "../src/runtime/train/ensemble.js";
import { freshCursor } from "../src/runtime/train/trainer.js";
import { prepare, reconstructionScores, testSeries, trivialBaselines, withData } from "./zoo/harness.js";

const SPEC = withData(
  dendplrnnSpec({
    header: `model main "the main job's clipped dendritic PLRNN"`,
    steps: 20000,
    testSteps: 20000,
    M: 22,
    B: 20,
    init: "scaled",
    train: `loss = mse(x, lorenz)
      forcing = sparse(every = 25, units = z[:N])
      teacher_noise = 0.05
      optimizer = radam(lr = 1e-2)
      schedule = exponential(to = 1e-3)
      batch_size = 16
      seq_len = 200
      batches_per_epoch = 50
      epochs = 80
      clip = norm(10)
      seed = 4`,
    evalBlock: "eval every 10 epochs { measures = [dstsp(bins = 30), dh(smoothing = 20), pe(steps = 10)] }",
  }),
  "builtin.lorenz63(steps = 20000, test_steps = 20000, standardize = true)",
);

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("reconstruction quality on a CI budget", () => {
  it("beats the trivial reconstructions of Lorenz-63 (two of three seeds, trained as one ensemble)", async () => {
    // Training a chaotic system is itself chaotic: a seed, or a kernel that rounds differently,
    // moves one run's result a lot (see the header). Three seeds side by side; most must pass.
    const members = [4, 1, 2].map((seed) => prepare(SPEC.replace("seed = 4", `seed = ${seed}`), "small.rnn"));
    const best = members.map(() => ({ dstsp: Infinity, dh: 1, pe: Infinity }));
    const t0 = performance.now();
    const results = await trainEnsemble({
      tf,
      program: members[0]!.program,
      members: members.map((m) => ({ data: m.data, state: { cursor: freshCursor(m.program.train!.seed, m.program.train!), params: m.params, optimizer: null }, program: m.program })),
      hooks: {
        // keep the best of the evaluations every 10 epochs, as `keep best by dstsp` does
        afterEpoch: (k, epoch, s) => {
          if (epoch % 10 !== 0) return;
          const e = reconstructionScores(members[k]!, s.params, undefined, 2000);
          if (Number.isFinite(e.dstsp) && e.dstsp! < best[k]!.dstsp) best[k] = { dstsp: e.dstsp!, dh: e.dh!, pe: e.pe! };
        },
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const verdicts = members.map((m, k) => {
      const baselines = trivialBaselines(testSeries(m));
      const b = best[k]!;
      console.log(
        `Lorenz-63 seed ${m.program.train!.seed} (ensemble of 3, ${seconds.toFixed(1)} s): D_stsp ${b.dstsp.toFixed(2)}, D_H ${b.dh.toFixed(3)}, PE(10) ${b.pe.toExponential(2)}; ` +
          `fixed point ${baselines.fixedPoint.dstsp.toFixed(2)} / ${baselines.fixedPoint.dh.toFixed(3)}, iid Gaussian ${baselines.iidGaussian.dstsp.toFixed(2)} / ${baselines.iidGaussian.dh.toFixed(3)}`,
      );
      return results[k]!.outcome === "finished" &&
        b.dstsp < 0.85 * baselines.iidGaussian.dstsp &&
        b.dstsp < 0.25 * baselines.fixedPoint.dstsp &&
        b.dh < 0.35 * Math.min(baselines.fixedPoint.dh, baselines.iidGaussian.dh) &&
        b.pe < 0.01;
    });
    expect(verdicts.filter(Boolean).length, `seeds 4, 1, 2 beat the baselines: ${verdicts.join(", ")}`).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
