import { describe, expect, it } from "vitest";
import {
  describeSchedule,
  learningRate,
  resolveMilestones,
  validateSchedule,
  type ScheduleConfig,
} from "../../../src/runtime/train/schedules.js";

describe("learning-rate schedules", () => {
  it("constant", () => {
    const cfg: ScheduleConfig = { kind: "constant", lr: 3e-4 };
    expect(learningRate(cfg, 0, 10)).toBe(3e-4);
    expect(learningRate(cfg, 9, 10)).toBe(3e-4);
  });

  it("exponential decays from lr to lrEnd over the run (ALRNN 1e-3 → 1e-5)", () => {
    const cfg: ScheduleConfig = { kind: "exponential", lr: 1e-3, lrEnd: 1e-5 };
    const E = 2000;
    expect(learningRate(cfg, 0, E)).toBe(1e-3);
    expect(learningRate(cfg, E / 2, E)).toBeCloseTo(1e-4, 15);
    expect(learningRate(cfg, E, E) / 1e-5).toBeCloseTo(1, 12);
    // Matches PyTorch ExponentialLR with gamma = (lrEnd/lr)^(1/E), stepped once per epoch.
    const gamma = Math.pow(1e-5 / 1e-3, 1 / E);
    let torchLr = 1e-3;
    for (let e = 0; e < E; e++) {
      expect(learningRate(cfg, e, E) / torchLr).toBeCloseTo(1, 10);
      torchLr *= gamma;
    }
    // Strictly decreasing.
    expect(learningRate(cfg, 11, E)).toBeLessThan(learningRate(cfg, 10, E));
  });

  it("multistep with fractional milestones reproduces dendPLRNN's MultiStepLR([int(.1E), int(.8E), int(.9E)], 0.1)", () => {
    const cfg: ScheduleConfig = { kind: "multistep", lr: 1e-3, milestones: [0.1, 0.8, 0.9], unit: "fraction", gamma: 0.1 };
    const E = 1000;
    expect(resolveMilestones(cfg, E)).toEqual([100, 800, 900]);
    expect(learningRate(cfg, 0, E)).toBe(1e-3);
    expect(learningRate(cfg, 99, E)).toBe(1e-3);
    expect(learningRate(cfg, 100, E)).toBeCloseTo(1e-4, 18);
    expect(learningRate(cfg, 799, E)).toBeCloseTo(1e-4, 18);
    expect(learningRate(cfg, 800, E)).toBeCloseTo(1e-5, 18);
    expect(learningRate(cfg, 900, E)).toBeCloseTo(1e-6, 18);
    expect(learningRate(cfg, 999, E)).toBeCloseTo(1e-6, 18);
  });

  it("fraction milestones truncate like Python int() (including float artefacts)", () => {
    const cfg: ScheduleConfig = { kind: "multistep", lr: 1, milestones: [0.29, 0.1, 0.5], unit: "fraction", gamma: 0.5 };
    // Python: int(0.29*100) == 28 because 0.29*100 == 28.999999999999996
    expect(resolveMilestones(cfg, 100)).toEqual([10, 28, 50]);
    expect(resolveMilestones(cfg, 15)).toEqual([1, 4, 7]);
  });

  it("multistep with absolute epochs; duplicate milestones apply gamma twice (as PyTorch's Counter)", () => {
    const cfg: ScheduleConfig = { kind: "multistep", lr: 1, milestones: [5, 2, 5], unit: "epoch", gamma: 0.5 };
    expect([0, 1, 2, 4, 5, 9].map((e) => learningRate(cfg, e, 10))).toEqual([1, 1, 0.5, 0.5, 0.125, 0.125]);
  });

  it("validates configs and epoch arguments", () => {
    expect(() => validateSchedule({ kind: "constant", lr: 0 })).toThrow(/lr must be a positive/);
    expect(() => validateSchedule({ kind: "exponential", lr: 1e-3, lrEnd: -1 })).toThrow(/lrEnd/);
    expect(() =>
      validateSchedule({ kind: "multistep", lr: 1, milestones: [1.5], unit: "fraction", gamma: 0.1 }),
    ).toThrow(/fractions in \[0, 1\]/);
    expect(() =>
      validateSchedule({ kind: "multistep", lr: 1, milestones: [2.5], unit: "epoch", gamma: 0.1 }),
    ).toThrow(/non-negative integers/);
    expect(() =>
      validateSchedule({ kind: "multistep", lr: 1, milestones: [1], unit: "epoch", gamma: 0 }),
    ).toThrow(/gamma/);
    expect(() => validateSchedule({ kind: "warmup", lr: 1 } as unknown as ScheduleConfig)).toThrow(/unknown schedule/);
    const ok: ScheduleConfig = { kind: "multistep", lr: 1, milestones: [0.5], unit: "fraction", gamma: 0.1 };
    expect(validateSchedule(ok)).toBe(ok);
    expect(() => learningRate(ok, -1, 10)).toThrow(RangeError);
    expect(() => learningRate(ok, 0, 0)).toThrow(RangeError);
  });

  it("describeSchedule gives a readable log line", () => {
    expect(describeSchedule({ kind: "constant", lr: 0.001 })).toBe("constant lr 0.001");
    expect(describeSchedule({ kind: "exponential", lr: 1e-3, lrEnd: 1e-5 }, 2000)).toMatch(
      /^exponential lr 0\.001 → 0\.00001 over 2000 epochs \(×0\.997700 per epoch\)$/,
    );
    expect(describeSchedule({ kind: "exponential", lr: 1e-3, lrEnd: 1e-5 })).toBe("exponential lr 0.001 → 0.00001 over the run");
    expect(
      describeSchedule({ kind: "multistep", lr: 1e-3, milestones: [0.1, 0.8, 0.9], unit: "fraction", gamma: 0.1 }, 5000),
    ).toBe("multistep lr 0.001, ×0.1 at fractions [0.1, 0.8, 0.9] of the run = epochs [500, 4000, 4500]");
    expect(describeSchedule({ kind: "multistep", lr: 0.1, milestones: [30, 60], unit: "epoch", gamma: 0.5 })).toBe(
      "multistep lr 0.1, ×0.5 at epochs [30, 60]",
    );
  });
});
