// The flip-flop's pyrnn placement (`pulses = k`): exactly pyrnn's ThreeBitDataset (neuro-anchors
// §1.3): per channel k "+1" times and then k "-1" times, each int(U(1, steps - 1)), a "-1"
// overwriting a "+1" at the same time; x[0] = +1; the target is the last non-zero input.
import { describe, expect, it } from "vitest";
import { generateTask } from "../../src/runtime/data/tasks.js";
import { Prng } from "../../src/runtime/train/prng.js";

describe("flipflop with pyrnn's pulse placement", () => {
  it("k +1 and k -1 single-sample pulses per channel inside 1..steps-2, the target holding the last", () => {
    const T = 2048;
    const k = Math.floor(T / 200); // pyrnn's example: 10 of each
    const trials = 40;
    const { train } = generateTask("flipflop", { bits: 3, steps: T, pulses: k, trials, test_trials: 1 }, new Prng(3));
    let plus = 0;
    let minus = 0;
    let wrongTargets = 0;
    for (let s = 0; s < trials; s++) {
      for (let c = 0; c < 3; c++) {
        const input = (t: number) => train.input.data[(s * T + t) * 3 + c]!;
        const target = (t: number) => train.target.data[(s * T + t) * 3 + c]!;
        expect(input(0)).toBe(1);
        expect(input(T - 1)).toBe(0); // int(U(1, T - 1)) <= T - 2
        let p = 0;
        let m = 0;
        let held = 1;
        for (let t = 0; t < T; t++) {
          const x = input(t);
          if (t > 0 && x === 1) p++;
          if (x === -1) m++;
          if (x !== 0) held = x;
          if (target(t) !== held) wrongTargets++;
        }
        // collisions only remove pulses: a "-1" overwrites a "+1"; equal times merge
        expect(p).toBeLessThanOrEqual(k);
        expect(m).toBeLessThanOrEqual(k);
        expect(m).toBeGreaterThanOrEqual(k - 2);
        plus += p;
        minus += m;
      }
    }
    expect(wrongTargets).toBe(0);
    // With 10 draws among 2046 times, collisions are rare: nearly k of each per channel.
    expect(plus / (trials * 3)).toBeGreaterThan(k - 0.5);
    expect(minus / (trials * 3)).toBeGreaterThan(k - 0.5);
  });

  it("ignores pulse_prob, and pulses = 0 keeps the Bernoulli stream", () => {
    const a = generateTask("flipflop", { bits: 2, steps: 300, pulses: 1, pulse_prob: 0.01, trials: 5, test_trials: 1 }, new Prng(9));
    const b = generateTask("flipflop", { bits: 2, steps: 300, pulses: 1, pulse_prob: 0.9, trials: 5, test_trials: 1 }, new Prng(9));
    expect(Array.from(a.train.input.data)).toEqual(Array.from(b.train.input.data));
    const bernoulli = generateTask("flipflop", { bits: 2, steps: 300, pulse_prob: 0.2, trials: 5, test_trials: 1 }, new Prng(9));
    const pulses = Array.from(bernoulli.train.input.data).filter((v) => v !== 0).length;
    expect(pulses).toBeGreaterThan(5 * 2 * 30); // about 0.2 * 299 per channel, far more than 2
  });
});
