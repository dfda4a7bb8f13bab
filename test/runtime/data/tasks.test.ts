import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SOURCES } from "../../../src/compiler/check/sources.js";
import { DataError } from "../../../src/runtime/data/errors.js";
import type { Rng } from "../../../src/runtime/data/rng-types.js";
import {
  generateTask,
  lorenzEulerTrajectory,
  MAX_TASK_ELEMENTS,
  resolveTaskArgs,
  sineMixSignal,
  TASK_ARGS,
  TASK_CONSTANTS,
  TASKS,
  type TaskSplit,
} from "../../../src/runtime/data/tasks.js";
import { Prng } from "../../../src/runtime/train/prng.js";

const GOLDEN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/tasks/golden.json");

/** A tiny local RNG (mulberry32 + Box–Muller) so the golden values never depend on other code. */
function rng(seed: number): Rng {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()) };
}

/** Element (s, t, c) of a [S, T, C] array. */
const at = (a: { shape: number[]; data: ArrayLike<number> }, s: number, t: number, c = 0): number => {
  const [, T, C] = a.shape as [number, number, number];
  return a.data[(s * T + t) * C + c]!;
};

function expectShapes(sp: TaskSplit, S: number, T: number, I: number, O: number): void {
  expect(sp.input.shape).toEqual([S, T, I]);
  expect(sp.target.shape).toEqual([S, T, O]);
  expect(sp.mask.shape).toEqual([S, T, O]);
  for (const a of [sp.input, sp.target, sp.mask]) {
    expect(a.dtype).toBe("float32");
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
    expect(a.data.every((v) => Number.isFinite(v))).toBe(true);
  }
}

/** Mask (and target) of a sequence-to-one split: 1 (resp. anything) only at the last step. */
function expectSeq2OneMask(sp: TaskSplit): void {
  const [S, T] = sp.mask.shape as [number, number];
  let bad = 0;
  for (let s = 0; s < S; s++) {
    for (let t = 0; t < T; t++) {
      if (at(sp.mask, s, t) !== (t === T - 1 ? 1 : 0)) bad++;
      if (t < T - 1 && at(sp.target, s, t) !== 0) bad++;
    }
  }
  expect(bad).toBe(0);
}

const sameSplit = (a: TaskSplit, b: TaskSplit): boolean =>
  (["input", "target", "mask"] as const).every((k) => a[k].data.length === b[k].data.length && a[k].data.every((v, i) => Object.is(v, b[k].data[i])));

describe("task tables", () => {
  it("has the checker's task sources, with the same argument names, types, defaults and ranges", () => {
    const checkerTasks = Object.entries(SOURCES)
      .filter(([, s]) => s.kind === "task")
      .map(([n]) => n)
      .sort();
    expect(Object.keys(TASKS).sort()).toEqual(checkerTasks);
    expect(Object.keys(TASK_ARGS).sort()).toEqual(checkerTasks);
    for (const name of checkerTasks) {
      const theirs = SOURCES[name]!.args;
      const ours = TASK_ARGS[name]!;
      expect(Object.keys(ours).sort(), name).toEqual(Object.keys(theirs).sort());
      for (const [k, s] of Object.entries(theirs)) {
        expect({ type: ours[k]!.type, default: ours[k]!.default, min: ours[k]!.min, max: ours[k]!.max }, `${name}.${k}`).toEqual({
          type: s.type,
          default: s.default,
          min: s.min,
          max: s.max,
        });
      }
    }
  });

  it("agrees with the checker's sizes and describes every task", () => {
    for (const [name, t] of Object.entries(TASKS)) {
      expect(t.name).toBe(name);
      expect(t.description.length).toBeGreaterThan(10);
      expect(t.reference.length).toBeGreaterThan(10);
      const defaults = Object.fromEntries(Object.entries(SOURCES[name]!.args).map(([k, s]) => [k, s.default!]));
      expect({ inputs: t.inputs({}), targets: t.targets({}) }).toEqual(SOURCES[name]!.sizes(defaults));
    }
    expect(TASKS["flipflop"]!.inputs({ bits: 5 })).toBe(5);
    expect(TASKS["angular_integrator"]!.targets({ channels: 4 })).toBe(4);
  });

  it("applies defaults to partial arguments", () => {
    expect(resolveTaskArgs("sine_mix", { steps: 20 })).toEqual({ trials: 800, steps: 20, noise: 0.1, test_trials: 200, seed: 0 });
  });
});

describe("argument validation", () => {
  const bad: [string, Record<string, number | boolean | string>, RegExp][] = [
    ["nope", {}, /unknown built-in task 'nope'/],
    ["flipflop", { bitz: 3 }, /no argument 'bitz'/],
    ["flipflop", { bits: 0 }, /'bits' must be >= 1/],
    ["flipflop", { bits: 2.5 }, /'bits' must be an integer/],
    ["flipflop", { pulse_prob: 1.5 }, /'pulse_prob' must be <= 1/],
    ["flipflop", { pulse_prob: -0.1 }, /'pulse_prob' must be >= 0/],
    ["flipflop", { steps: "200" }, /'steps' must be an integer/],
    ["angular_integrator", { input_noise: true }, /'input_noise' must be a finite number/],
    ["angular_integrator", { speed: Number.NaN }, /'speed' must be a finite number/],
    ["sine_mix", { steps: 1 }, /'steps' must be >= 2/],
    ["delay_memory", { vocab: 1 }, /'vocab' must be >= 2/],
    ["delay_memory", { steps: 11 }, /'steps' must be >= 12/],
    ["lorenz_seq2one", { test_trials: 0 }, /'test_trials' must be >= 1/],
    ["lorenz_seq2one", { seed: -1 }, /'seed' must be >= 0/],
  ];
  it.each(bad)("%s %j is a DataError", (name, args, msg) => {
    expect(() => generateTask(name, args, rng(1))).toThrow(DataError);
    expect(() => generateTask(name, args, rng(1))).toThrow(msg);
  });

  it("refuses absurd sizes before allocating", () => {
    expect(() => generateTask("flipflop", { trials: 1_000_000, steps: 1000, bits: 3 }, rng(1))).toThrow(DataError);
    expect(() => generateTask("flipflop", { trials: 1_000_000, steps: 1000, bits: 3 }, rng(1))).toThrow(String(MAX_TASK_ELEMENTS));
  });
});

describe("shapes and determinism", () => {
  const cases: [string, Record<string, number>, number, number][] = [
    ["flipflop", { bits: 3, trials: 7, steps: 30, test_trials: 4 }, 3, 3],
    ["angular_integrator", { channels: 2, trials: 7, steps: 30, test_trials: 4 }, 2, 2],
    ["sine_mix", { trials: 7, steps: 30, test_trials: 4 }, 1, 1],
    ["delay_memory", { trials: 7, steps: 30, test_trials: 4 }, 1, 1],
    ["lorenz_seq2one", { trials: 7, steps: 30, test_trials: 4 }, 1, 1],
  ];
  it.each(cases)("%s", (name, args, I, O) => {
    const a = generateTask(name, args, rng(42));
    expectShapes(a.train, 7, 30, I, O);
    expectShapes(a.test, 4, 30, I, O);
    // Same RNG seed → bit-identical data; another seed → different data; test ≠ train.
    const b = generateTask(name, args, rng(42));
    expect(sameSplit(a.train, b.train) && sameSplit(a.test, b.test)).toBe(true);
    const c = generateTask(name, args, rng(43));
    expect(sameSplit(a.train, c.train)).toBe(false);
    const trainHead = generateTask(name, { ...args, test_trials: 4, trials: 4 }, rng(42)).train;
    expect(sameSplit(trainHead, a.test)).toBe(false);
    // The test split is the continuation of the same stream: trials S..S+3 of a bigger training set.
    const big = generateTask(name, { ...args, trials: 11 }, rng(42)).train;
    const n = 30 * I;
    expect(Array.from(big.input.data.slice(7 * n, 11 * n))).toEqual(Array.from(a.test.input.data));
    // Works with the project's PRNG too.
    const p = generateTask(name, args, new Prng(7));
    const q = generateTask(name, args, new Prng(7));
    expect(sameSplit(p.train, q.train)).toBe(true);
  });

  it("uses the defaults when arguments are missing", () => {
    const t = generateTask("delay_memory", {}, rng(3));
    expectShapes(t.train, 800, 50, 1, 1);
    expectShapes(t.test, 200, 50, 1, 1);
  });

  it("matches the golden values (draw order is stable)", () => {
    const golden = JSON.parse(fs.readFileSync(GOLDEN, "utf8")) as {
      args: Record<string, Record<string, number>>;
      seed: number;
      values: Record<string, Record<string, number[]>>;
    };
    for (const [name, args] of Object.entries(golden.args)) {
      const t = generateTask(name, args, rng(golden.seed));
      const got = { input: Array.from(t.train.input.data), target: Array.from(t.train.target.data), test_target: Array.from(t.test.target.data) };
      expect(got, name).toEqual(golden.values[name]);
    }
  });
});

describe("flipflop", () => {
  it("the target holds the last pulse (pyrnn: x[0] = +1), pulses are single ±1 samples, mask is ones", () => {
    const B = 4;
    const T = 400;
    const p = 0.05;
    const { train } = generateTask("flipflop", { bits: B, trials: 50, steps: T, pulse_prob: p, test_trials: 1 }, rng(5));
    let pulses = 0;
    let plus = 0;
    let bad = 0;
    for (let s = 0; s < 50; s++) {
      for (let c = 0; c < B; c++) {
        expect(at(train.input, s, 0, c)).toBe(1);
        let last = 0;
        for (let t = 0; t < T; t++) {
          const x = at(train.input, s, t, c);
          if (x !== -1 && x !== 0 && x !== 1) bad++;
          if (x !== 0) last = x;
          if (at(train.target, s, t, c) !== last) bad++;
          if (at(train.mask, s, t, c) !== 1) bad++;
          if (t > 0 && x !== 0) {
            pulses++;
            if (x > 0) plus++;
          }
        }
      }
    }
    expect(bad).toBe(0);
    const n = 50 * B * (T - 1);
    expect(Math.abs(pulses / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    expect(Math.abs(plus / pulses - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / pulses));
  });

  it("pulse_prob 0 gives a constant +1 target; pulse_prob 1 a pulse at every step", () => {
    const none = generateTask("flipflop", { bits: 2, trials: 3, steps: 20, pulse_prob: 0, test_trials: 1 }, rng(1)).train;
    expect(Array.from(none.target.data).every((v) => v === 1)).toBe(true);
    expect(Array.from(none.input.data).filter((v) => v !== 0).length).toBe(3 * 2);
    const all = generateTask("flipflop", { bits: 2, trials: 3, steps: 20, pulse_prob: 1, test_trials: 1 }, rng(1)).train;
    expect(Array.from(all.input.data).every((v) => v === 1 || v === -1)).toBe(true);
    expect(Array.from(all.target.data)).toEqual(Array.from(all.input.data));
  });
});

describe("angular_integrator", () => {
  it("the target is the wrapped cumulative sum of the clean speeds / pi", () => {
    const C = 3;
    const T = 200;
    const speed = 0.3;
    const { train } = generateTask("angular_integrator", { channels: C, trials: 20, steps: T, speed, switch_prob: 0.05, input_noise: 0, test_trials: 1 }, rng(9));
    const s32 = Math.fround(speed);
    let switches = 0;
    let bad = 0;
    let maxErr = 0;
    for (let s = 0; s < 20; s++) {
      for (let c = 0; c < C; c++) {
        let theta = 0;
        for (let t = 0; t < T; t++) {
          const x = at(train.input, s, t, c);
          if (Math.abs(x) !== s32) bad++;
          if (t > 0 && x !== at(train.input, s, t - 1, c)) switches++;
          theta += x > 0 ? speed : -speed;
          const y = at(train.target, s, t, c);
          if (!(y > -1 - 1e-6 && y <= 1)) bad++;
          maxErr = Math.max(maxErr, Math.abs(y - Math.fround(Math.atan2(Math.sin(theta), Math.cos(theta)) / Math.PI)));
          if (at(train.mask, s, t, c) !== 1) bad++;
        }
      }
    }
    expect(bad).toBe(0);
    expect(maxErr).toBe(0);
    // A redraw changes the sign with probability 1/2: sign flips ≈ switch_prob / 2 per step.
    const n = 20 * C * (T - 1);
    expect(Math.abs(switches / n - 0.025)).toBeLessThan(5 * Math.sqrt((0.025 * 0.975) / n));
  });

  it("noise is added to the inputs only, with std input_noise", () => {
    const args = { channels: 2, trials: 50, steps: 100, speed: 0.2, switch_prob: 0.1, test_trials: 1 };
    const clean = generateTask("angular_integrator", { ...args, input_noise: 0 }, rng(11)).train;
    const noisy = generateTask("angular_integrator", { ...args, input_noise: 0.05 }, rng(11)).train;
    // The same draws (the noise normals are always drawn) → same speeds and targets.
    expect(Array.from(noisy.target.data)).toEqual(Array.from(clean.target.data));
    let m = 0;
    let v = 0;
    const n = noisy.input.data.length;
    for (let i = 0; i < n; i++) m += noisy.input.data[i]! - clean.input.data[i]!;
    m /= n;
    for (let i = 0; i < n; i++) v += (noisy.input.data[i]! - clean.input.data[i]! - m) ** 2;
    expect(Math.abs(m)).toBeLessThan(0.005);
    expect(Math.sqrt(v / n)).toBeCloseTo(0.05, 2);
  });
});

describe("sine_mix", () => {
  it("input is the first steps samples, the target the mean of the next 10, at the last step only", () => {
    const T = 40;
    const noise = 0.1;
    const seed = 21;
    const t = generateTask("sine_mix", { trials: 6, steps: T, noise, test_trials: 3 }, rng(seed));
    expectSeq2OneMask(t.train);
    expectSeq2OneMask(t.test);
    const r = rng(seed);
    for (const sp of [t.train, t.test]) {
      for (let s = 0; s < sp.input.shape[0]!; s++) {
        const sig = sineMixSignal(r, T, noise);
        expect(sig.length).toBe(T + 10);
        for (let k = 0; k < T; k++) expect(at(sp.input, s, k)).toBe(Math.fround(sig[k]!));
        const mean = sig.slice(T).reduce((a, b) => a + b, 0) / 10;
        expect(at(sp.target, s, T - 1)).toBe(Math.fround(mean));
      }
    }
  });

  it("the clean signal is sin f1 t + 0.5 sin f2 t + 0.25 sin f3 t on linspace(0, 4pi, steps + 10)", () => {
    // With a constant uniform u the frequencies are known: f = lo + (hi - lo) u.
    const u = 0.25;
    const fixed: Rng = { uniform: () => u, normal: () => 0 };
    const T = 30;
    const sig = sineMixSignal(fixed, T, 0.1);
    const f = TASK_CONSTANTS.sineFrequencies.map(([lo, hi]) => lo + (hi - lo) * u);
    for (let i = 0; i < T + 10; i++) {
      const tt = (4 * Math.PI * i) / (T + 9);
      expect(sig[i]).toBeCloseTo(Math.sin(f[0]! * tt) + 0.5 * Math.sin(f[1]! * tt) + 0.25 * Math.sin(f[2]! * tt), 12);
    }
    // Noise: std `noise` around the clean signal.
    const r = rng(3);
    const r0 = rng(3);
    let v = 0;
    let n = 0;
    for (let k = 0; k < 200; k++) {
      const a = sineMixSignal(r, T, 0.1);
      const b = sineMixSignal(r0, T, 0);
      for (let i = 0; i < a.length; i++, n++) v += (a[i]! - b[i]!) ** 2;
    }
    expect(Math.sqrt(v / n)).toBeCloseTo(0.1, 2);
  });
});

describe("delay_memory", () => {
  it("3-7 symbols in 1..vocab-1, the marker vocab at steps-5, the target their sum at the last step", () => {
    const T = 30;
    const vocab = 6;
    const t = generateTask("delay_memory", { trials: 300, steps: T, vocab, test_trials: 20 }, rng(17));
    expectSeq2OneMask(t.train);
    expectSeq2OneMask(t.test);
    const lengths = new Set<number>();
    const symbols = new Set<number>();
    let bad = 0;
    for (const sp of [t.train, t.test]) {
      for (let s = 0; s < sp.input.shape[0]!; s++) {
        let L = 0;
        while (at(sp.input, s, L) !== 0) L++;
        expect(L).toBeGreaterThanOrEqual(3);
        expect(L).toBeLessThanOrEqual(7);
        lengths.add(L);
        let sum = 0;
        for (let k = 0; k < L; k++) {
          const v = at(sp.input, s, k);
          if (!(Number.isInteger(v) && v >= 1 && v <= vocab - 1)) bad++;
          symbols.add(v);
          sum += v;
        }
        for (let k = L; k < T; k++) if (at(sp.input, s, k) !== (k === T - 5 ? vocab : 0)) bad++;
        if (at(sp.target, s, T - 1) !== sum) bad++;
      }
    }
    expect(bad).toBe(0);
    expect([...lengths].sort()).toEqual([3, 4, 5, 6, 7]);
    expect([...symbols].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it("never lets the recall marker overwrite a symbol (steps >= 12)", () => {
    const t = generateTask("delay_memory", { trials: 200, steps: 12, vocab: 8, test_trials: 1 }, rng(2));
    for (let s = 0; s < 200; s++) {
      expect(at(t.train.input, s, 7)).toBe(8);
      for (let k = 0; k < 7; k++) expect(at(t.train.input, s, k)).toBeLessThan(8);
    }
  });
});

describe("lorenz_seq2one", () => {
  it("Euler trajectory from 5 N(0, I); input = x of the first steps states; target = mean x of the next 10", () => {
    const T = 25;
    const seed = 33;
    const t = generateTask("lorenz_seq2one", { trials: 5, steps: T, test_trials: 2 }, rng(seed));
    expectSeq2OneMask(t.train);
    expectSeq2OneMask(t.test);
    const r = rng(seed);
    for (const sp of [t.train, t.test]) {
      for (let s = 0; s < sp.input.shape[0]!; s++) {
        const traj = lorenzEulerTrajectory(r, T + 10);
        for (let k = 0; k < T; k++) expect(at(sp.input, s, k)).toBe(Math.fround(traj[3 * k]!));
        let m = 0;
        for (let k = T; k < T + 10; k++) m += traj[3 * k]!;
        expect(at(sp.target, s, T - 1)).toBe(Math.fround(m / 10));
      }
    }
  });

  it("the trajectory is explicit Euler (dt 0.01, sigma 10, rho 28, beta 8/3) from 5 times three normals", () => {
    const r = rng(8);
    const r0 = rng(8);
    const traj = lorenzEulerTrajectory(r, 50);
    expect([traj[0], traj[1], traj[2]]).toEqual([5 * r0.normal(), 5 * r0.normal(), 5 * r0.normal()]);
    for (let i = 1; i < 50; i++) {
      const [x, y, z] = [traj[3 * i - 3]!, traj[3 * i - 2]!, traj[3 * i - 1]!];
      expect(traj[3 * i]).toBeCloseTo(x + 0.01 * 10 * (y - x), 10);
      expect(traj[3 * i + 1]).toBeCloseTo(y + 0.01 * (x * (28 - z) - y), 10);
      expect(traj[3 * i + 2]).toBeCloseTo(z + 0.01 * (x * y - (8 / 3) * z), 10);
    }
  });
});

// Regenerate the golden file: UPDATE_TASK_GOLDEN=1 npx vitest run test/runtime/data/tasks.test.ts
if (process.env["UPDATE_TASK_GOLDEN"] === "1") {
  const seed = 2024;
  const args: Record<string, Record<string, number>> = {
    flipflop: { bits: 2, trials: 2, steps: 12, pulse_prob: 0.3, test_trials: 1 },
    angular_integrator: { channels: 2, trials: 2, steps: 8, switch_prob: 0.3, test_trials: 1 },
    sine_mix: { trials: 2, steps: 6, test_trials: 1 },
    delay_memory: { trials: 2, steps: 12, test_trials: 1 },
    lorenz_seq2one: { trials: 2, steps: 6, test_trials: 1 },
  };
  const values: Record<string, Record<string, number[]>> = {};
  for (const [name, a] of Object.entries(args)) {
    const t = generateTask(name, a, rng(seed));
    values[name] = { input: Array.from(t.train.input.data), target: Array.from(t.train.target.data), test_target: Array.from(t.test.target.data) };
  }
  fs.mkdirSync(path.dirname(GOLDEN), { recursive: true });
  fs.writeFileSync(GOLDEN, JSON.stringify({ note: "generateTask outputs with the test's mulberry32 rng; see tasks.test.ts", seed, args, values }, null, 1) + "\n");
}
