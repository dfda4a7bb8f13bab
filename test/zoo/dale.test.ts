// Dale's law and no autapses are reparameterizations applied at every step (LANGUAGE.md,
// modifiers), not only at initialization as in pyrnn (neuro-anchors §0 item 4). After training
// specs/vanilla_dale.rnn, the raw weights have changed sign in places, yet the effective W_rec
// has the column signs of Dale's law (first round(0.8 H) presynaptic units excitatory, the rest
// inhibitory) and a zero diagonal; and the constrained network learned the task (the angular
// integrator, short enough here, 30 steps at speed 0.1, that the angle does not wrap).
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileModel } from "../../src/compiler/backends/interp/index.js";
import { constantBaselineMse, fit, maskedMse, prepare, taskOf, taskOutputs, withData, withSetting, withTrain, zooSource } from "./harness.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("vanilla tanh RNN with Dale's law and no autapses", () => {
  it("keeps column signs and a zero diagonal after training, and learns the integrator", async () => {
    const H = 32;
    let source = withData(zooSource("vanilla_dale"), "builtin.angular_integrator(channels = 2, trials = 128, steps = 30, speed = 0.1, test_trials = 32)");
    source = withSetting(source, "H", H);
    source = withTrain(source, { seq_len: 30, batch_size: 32, batches_per_epoch: 20, epochs: 12, optimizer: "adam(lr = 1e-2)", seed: 3 });
    const p = prepare(source, "vanilla_dale.rnn");
    const task = taskOf(p);
    const r = await fit(tf, p);
    expect(r.outcome).toBe("finished");

    const raw = r.params.get("W_rec")!.data;
    const model = compileModel(p.program);
    const eff = model.effectiveParams(Object.fromEntries([...r.params].map(([k, v]) => [k, v.data])));
    const W = eff["W_rec"]!;
    const excitatory = Math.round(0.8 * H);
    let wrongSign = 0;
    let nonzeroDiagonal = 0;
    let rawFlipped = 0;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < H; j++) {
        const w = W[i * H + j]!;
        if (i === j) {
          if (w !== 0) nonzeroDiagonal++;
          continue;
        }
        if (j < excitatory ? w < 0 : w > 0) wrongSign++;
        // The raw values started in [0, 1/sqrt(H)); a constraint applied once would leave these
        // negative entries in the effective matrix.
        if (j < excitatory && raw[i * H + j]! < 0) rawFlipped++;
        expect(Math.abs(w)).toBeCloseTo(Math.abs(raw[i * H + j]!), 6);
      }
    }
    expect(nonzeroDiagonal).toBe(0);
    expect(wrongSign).toBe(0);
    expect(rawFlipped).toBeGreaterThan(0);
    // Both signs are in use: the inhibitory columns are not all zero.
    expect(W.some((w, k) => k % H >= excitatory && w < -1e-3)).toBe(true);

    const mse = maskedMse(taskOutputs(p.program, r.params, task.test), task.test);
    const constant = constantBaselineMse(task.train, task.test);
    console.log(`angular integrator (Dale): MSE ${mse.toFixed(4)} (constant: ${constant.toFixed(4)}); ${rawFlipped} raw excitatory weights < 0; ${r.seconds.toFixed(1)} s`);
    expect(mse).toBeLessThan(0.5 * constant);
  });
});
