// Flip-flop accuracy on a CI budget: the zoo's CT-RNN (specs/ctrnn.rnn: leaky tanh units, noise
// inside the alpha term) trained for 200 batches on a shorter 3-bit flip-flop must hold the bits:
// sign accuracy on held-out trials well above the constant predictor's, and a loss far below it.
// With alpha = 0.1 the read-out needs a few steps to follow a flip, which bounds what a short run
// reaches (about 0.90 here; the constant "+1" predictor scores about 0.65).
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { constantBaselineMse, fit, maskedMse, prepare, signAccuracy, taskOf, taskOutputs, withData, withSetting, withTrain, zooSource } from "./harness.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("3-bit flip-flop (CT-RNN)", () => {
  it("holds the bits on held-out trials", async () => {
    let source = withData(zooSource("ctrnn"), "builtin.flipflop(bits = 3, trials = 256, steps = 100, pulse_prob = 0.03, test_trials = 64)");
    source = withSetting(source, "H", 32);
    source = withTrain(source, { optimizer: "adam(lr = 1e-2)", seq_len: 100, batches_per_epoch: 20, epochs: 10, seed: 2 });
    const p = prepare(source, "ctrnn.rnn");
    const task = taskOf(p);
    const r = await fit(tf, p);
    expect(r.outcome).toBe("finished");

    const outputs = taskOutputs(p.program, r.params, task.test);
    const accuracy = signAccuracy(outputs, task.test);
    const alwaysPlus = signAccuracy(new Float64Array(outputs.length).fill(1), task.test);
    const mse = maskedMse(outputs, task.test);
    const constant = constantBaselineMse(task.train, task.test);
    console.log(`flip-flop: accuracy ${accuracy.toFixed(3)} (always +1: ${alwaysPlus.toFixed(3)}), MSE ${mse.toFixed(3)} (constant: ${constant.toFixed(3)}), ${r.seconds.toFixed(1)} s`);
    expect(accuracy).toBeGreaterThan(0.85);
    expect(accuracy).toBeGreaterThan(alwaysPlus + 0.15);
    expect(mse).toBeLessThan(0.6 * constant);
  });
});
