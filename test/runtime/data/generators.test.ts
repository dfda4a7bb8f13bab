import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/runtime/data/errors.js";
import {
  GENERATORS,
  checkGeneratorArgs,
  generate,
  integrate,
  makeRk4Scratch,
  resolveGeneratorArgs,
  rk4Step,
  vectorField,
  type GeneratorArgs,
} from "../../../src/runtime/data/generators.js";
import { testRng } from "./helpers.js";

const NAMES = Object.keys(GENERATORS);

function columnStats(data: ArrayLike<number>, T: number, n: number): { mean: number[]; std: number[] } {
  const mean = new Array<number>(n).fill(0);
  const std = new Array<number>(n).fill(0);
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) mean[i]! += data[t * n + i]!;
  for (let i = 0; i < n; i++) mean[i]! /= T;
  for (let t = 0; t < T; t++) for (let i = 0; i < n; i++) std[i]! += (data[t * n + i]! - mean[i]!) ** 2;
  return { mean, std: std.map((s) => Math.sqrt(s / T)) };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe("the GENERATORS table", () => {
  it("is consistent: names, defaults within their own types and ranges", () => {
    for (const [key, spec] of Object.entries(GENERATORS)) {
      expect(spec.name).toBe(key);
      expect(spec.description.length).toBeGreaterThan(10);
      const defaults: Record<string, number | boolean> = {};
      for (const p of spec.params) {
        if (typeof p.default === "object") {
          expect(spec.params.some((q) => q.name === (p.default as { sameAs: string }).sameAs)).toBe(true);
          continue;
        }
        defaults[p.name] = p.default;
      }
      expect(checkGeneratorArgs(key, defaults)).toEqual([]);
      for (const common of ["steps", "test_steps", "dt", "substeps", "transient", "standardize", "noise", "test_noise"]) {
        expect(spec.params.map((p) => p.name)).toContain(common);
      }
    }
  });

  it("resolves defaults, including test_steps = steps", () => {
    const a = resolveGeneratorArgs("lorenz63", { steps: 500 });
    expect(a).toMatchObject({ steps: 500, test_steps: 500, dt: 0.01, substeps: 1, transient: 1000, standardize: true, noise: 0 });
    expect(a["beta"]).toBeCloseTo(8 / 3, 15);
    expect(resolveGeneratorArgs("lorenz96", { n: 20 })).toMatchObject({ n: 20, forcing: 8, dt: 0.04 });
  });

  it("gives the feature count as a function of the arguments", () => {
    expect(GENERATORS["lorenz63"]!.features(resolveGeneratorArgs("lorenz63", {}))).toBe(3);
    expect(GENERATORS["lorenz96"]!.features(resolveGeneratorArgs("lorenz96", {}))).toBe(10);
    expect(GENERATORS["lorenz96"]!.features(resolveGeneratorArgs("lorenz96", { n: 36 }))).toBe(36);
    expect(GENERATORS["lorenz96"]!.variables(resolveGeneratorArgs("lorenz96", { n: 4 }))).toEqual(["x0", "x1", "x2", "x3"]);
  });

  it("reports bad calls as problems the checker can turn into diagnostics", () => {
    expect(checkGeneratorArgs("lorenz64", {})).toEqual([
      { param: null, message: "unknown generator 'builtin.lorenz64' (available: lorenz63, rossler, lorenz96, bursting_neuron)" },
    ]);
    const problems = checkGeneratorArgs("lorenz63", { stepz: 10, steps: 1.5, dt: 0, standardize: 1, noise: -1, sigma: true });
    expect(problems.map((p) => p.param)).toEqual(["stepz", "steps", "dt", "standardize", "noise", "sigma"]);
    expect(problems[0]!.message).toMatch(/builtin\.lorenz63 has no parameter 'stepz' \(parameters: steps, test_steps/);
    expect(problems[1]!.message).toBe("'steps' must be an integer, got 1.5");
    expect(problems[2]!.message).toBe("'dt' must be > 0 and <= 0.1, got 0");
    expect(problems[3]!.message).toBe("'standardize' must be true or false, got 1");
    expect(problems[4]!.message).toBe("'noise' must be >= 0 and <= 10, got -1");
    expect(problems[5]!.message).toBe("'sigma' must be a finite number, got true");
  });

  it("generate throws a DataError for bad calls", () => {
    expect(() => generate("lorenz63", { steps: 0 }, testRng(1))).toThrow(DataError);
    expect(() => generate("lorenz63", { steps: 0 }, testRng(1))).toThrow(/builtin\.lorenz63\(steps = 0\): 'steps' must be >= 1/);
    expect(() => generate("nope", {}, testRng(1))).toThrow(/unknown generator 'builtin\.nope'/);
  });
});

describe("vector fields at known points", () => {
  const at = (name: string, x: number[], args: GeneratorArgs = {}) => {
    const out = new Float64Array(x.length);
    vectorField(name, args)(Float64Array.from(x), out);
    return Array.from(out);
  };
  it("Lorenz-63", () => {
    const v = at("lorenz63", [1, 2, 3]);
    expect(v[0]).toBe(10); // σ(y − x)
    expect(v[1]).toBe(23); // x(ρ − z) − y
    expect(v[2]).toBeCloseTo(-6, 14); // xy − βz
  });
  it("Rössler", () => {
    const v = at("rossler", [1, 2, 3]);
    expect(v[0]).toBe(-5);
    expect(v[1]).toBeCloseTo(1.4, 14);
    expect(v[2]).toBeCloseTo(-13.9, 13);
  });
  it("Lorenz-96 (cyclic indices)", () => {
    expect(at("lorenz96", [1, 2, 3, 4], { n: 4 })).toEqual([3, 5, 11, 1]);
  });
  it("bursting neuron (values from an independent NumPy implementation)", () => {
    const v = at("bursting_neuron", [-60, 0.1, 0.05]);
    expect(v[0]).toBeCloseTo(-5.1434554168041835, 12);
    expect(v[1]).toBeCloseTo(-0.09908894880559936, 14);
    expect(v[2]).toBeCloseTo(-0.0002493830271200689, 16);
  });
});

describe("RK4 integration", () => {
  const f = vectorField("lorenz63");
  const start = integrate(f, Float64Array.of(1, 1, 20), 0.01, 10, 2000, 1); // a point on the attractor

  it("has fourth-order accuracy: one step's error shrinks ~32x when h halves (local error O(h^5))", () => {
    const s = makeRk4Scratch(3);
    const errs = [0.02, 0.01].map((h) => {
      const x = Float64Array.from(start);
      rk4Step(f, x, h, s);
      const ref = integrate(f, start, h, 1000, 0, 2).subarray(3);
      return maxAbsDiff(x, ref);
    });
    const ratio = errs[0]! / errs[1]!;
    expect(ratio).toBeGreaterThan(25);
    expect(ratio).toBeLessThan(40);
  });

  it("the default dt = 0.01 with one substep matches a 100x finer integration over one time unit", () => {
    const coarse = integrate(f, start, 0.01, 1, 0, 101);
    const fine = integrate(f, start, 0.01, 100, 0, 101);
    // after 100 steps through chaos the states (of size ~20) still agree to ~1e-4
    expect(maxAbsDiff(coarse, fine)).toBeLessThan(1e-3);
  });

  it("each generator's default step agrees with a 20x finer one over 10 samples", () => {
    for (const name of NAMES) {
      const a = resolveGeneratorArgs(name, {});
      const g = vectorField(name);
      const x0 = generate(name, { steps: 1, test_steps: 0, standardize: false, transient: 200 }, testRng(3));
      const s0 = Float64Array.from(x0.train.data);
      const dt = a["dt"] as number;
      const sub = a["substeps"] as number;
      const coarse = integrate(g, s0, dt, sub, 0, 11);
      const fine = integrate(g, s0, dt, sub * 20, 0, 11);
      const scale = Math.max(...Array.from(fine, Math.abs));
      expect(maxAbsDiff(coarse, fine) / scale, name).toBeLessThan(1e-4);
    }
  });

  it("reproduces the largest Lyapunov exponent of Lorenz-63 (≈ 0.906)", () => {
    // Benettin's method: follow a neighbour at distance d0, renormalise every sample.
    const d0 = 1e-8;
    const dt = 0.01;
    const x = Float64Array.from(start);
    const y = Float64Array.of(start[0]! + d0, start[1]!, start[2]!);
    const s = makeRk4Scratch(3);
    let sum = 0;
    const samples = 50_000; // 500 time units
    for (let k = 0; k < samples; k++) {
      rk4Step(f, x, dt, s);
      rk4Step(f, y, dt, s);
      const d = Math.hypot(y[0]! - x[0]!, y[1]! - x[1]!, y[2]! - x[2]!);
      sum += Math.log(d / d0);
      for (let i = 0; i < 3; i++) y[i] = x[i]! + ((y[i]! - x[i]!) * d0) / d;
    }
    expect(Math.abs(sum / (samples * dt) - 0.9056)).toBeLessThan(0.04);
  });
});

describe("generate", () => {
  it("returns float32 [steps, N] train and [test_steps, N] test with metadata", () => {
    const g = generate("lorenz63", { steps: 2000, test_steps: 500 }, testRng(1));
    expect(g.train.dtype).toBe("float32");
    expect(g.train.data).toBeInstanceOf(Float32Array);
    expect(g.train.shape).toEqual([2000, 3]);
    expect(g.test.shape).toEqual([500, 3]);
    expect(g.meta).toMatchObject({ name: "lorenz63", dt: 0.01, standardized: true, variables: ["x", "y", "z"] });
    expect(g.meta.args).toMatchObject({ steps: 2000, test_steps: 500, sigma: 10, rho: 28 });
    expect(g.meta.mean).toHaveLength(3);
    const l96 = generate("lorenz96", { steps: 100, n: 7 }, testRng(1));
    expect(l96.train.shape).toEqual([100, 7]);
    expect(l96.test.shape).toEqual([100, 7]); // test_steps defaults to steps
  });

  it("standardizes with the training statistics: train has mean 0 and std 1", () => {
    for (const name of NAMES) {
      const g = generate(name, { steps: 3000, test_steps: 3000 }, testRng(7));
      const n = g.train.shape[1]!;
      const { mean, std } = columnStats(g.train.data, 3000, n);
      for (let i = 0; i < n; i++) {
        expect(Math.abs(mean[i]!), `${name} mean ${i}`).toBeLessThan(1e-5);
        expect(Math.abs(std[i]! - 1), `${name} std ${i}`).toBeLessThan(1e-5);
      }
      // the test split is transformed with the same (train) statistics, so it is only roughly z-scored
      const t = columnStats(g.test.data, 3000, n);
      for (let i = 0; i < n; i++) expect(Math.abs(t.mean[i]!)).toBeLessThan(1.5);
    }
  });

  it("without standardization the data are in the system's units; meta holds the statistics", () => {
    const g = generate("lorenz63", { steps: 20_000, test_steps: 0, standardize: false }, testRng(2));
    const { mean, std } = columnStats(g.train.data, 20_000, 3);
    for (let i = 0; i < 3; i++) {
      expect(g.meta.mean[i]).toBeCloseTo(mean[i]!, 3);
      expect(g.meta.std[i]).toBeCloseTo(std[i]!, 3);
    }
    // stays on the attractor: bounded, z positive
    let maxX = 0;
    let maxY = 0;
    let minZ = Infinity;
    let maxZ = -Infinity;
    for (let t = 0; t < 20_000; t++) {
      maxX = Math.max(maxX, Math.abs(g.train.data[3 * t]!));
      maxY = Math.max(maxY, Math.abs(g.train.data[3 * t + 1]!));
      minZ = Math.min(minZ, g.train.data[3 * t + 2]!);
      maxZ = Math.max(maxZ, g.train.data[3 * t + 2]!);
    }
    expect(maxX).toBeLessThan(25);
    expect(maxX).toBeGreaterThan(15); // visits both wings, not stuck near a fixed point
    expect(maxY).toBeLessThan(30);
    expect(minZ).toBeGreaterThan(0);
    expect(maxZ).toBeLessThan(55);
    expect(mean[2]).toBeGreaterThan(20); // the attractor's z centre is ≈ 23.5
    expect(mean[2]).toBeLessThan(27);
  });

  it("is deterministic for a seed, and different seeds differ", () => {
    for (const name of NAMES) {
      const args = { steps: 300, test_steps: 50, transient: 500 };
      const a = generate(name, args, testRng(11));
      const b = generate(name, args, testRng(11));
      const c = generate(name, args, testRng(12));
      expect(a.train.data).toEqual(b.train.data);
      expect(a.test.data).toEqual(b.test.data);
      expect(maxAbsDiff(a.train.data, c.train.data), name).toBeGreaterThan(0.1);
    }
  });

  it("the test split continues the training trajectory", () => {
    const args = { standardize: false, transient: 100 } as const;
    const split = generate("rossler", { ...args, steps: 300, test_steps: 200 }, testRng(5));
    const whole = generate("rossler", { ...args, steps: 500, test_steps: 0 }, testRng(5));
    expect(split.train.data).toEqual(whole.train.data.subarray(0, 900));
    expect(split.test.data).toEqual(whole.train.data.subarray(900));
  });

  it("adds observation noise with std = noise × each dimension's std, to the training split only", () => {
    const clean = generate("lorenz63", { steps: 20_000, test_steps: 100 }, testRng(9));
    const noisy = generate("lorenz63", { steps: 20_000, test_steps: 100, noise: 0.1 }, testRng(9));
    expect(noisy.test.data).toEqual(clean.test.data);
    const diff = noisy.train.data.map((v, i) => v - clean.train.data[i]!);
    const { mean, std } = columnStats(diff, 20_000, 3);
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(mean[i]!)).toBeLessThan(0.005);
      expect(std[i]).toBeGreaterThan(0.095);
      expect(std[i]).toBeLessThan(0.105);
    }
    // unstandardized: noise std scales with each dimension's std
    const rawClean = generate("lorenz63", { steps: 20_000, test_steps: 10, standardize: false }, testRng(9));
    const rawNoisy = generate("lorenz63", { steps: 20_000, test_steps: 10, standardize: false, noise: 0.1, test_noise: 0.2 }, testRng(9));
    const rawDiff = rawNoisy.train.data.map((v, i) => v - rawClean.train.data[i]!);
    const raw = columnStats(rawDiff, 20_000, 3);
    for (let i = 0; i < 3; i++) expect(raw.std[i]! / (0.1 * rawClean.meta.std[i]!)).toBeCloseTo(1, 1);
    expect(maxAbsDiff(rawNoisy.test.data, rawClean.test.data)).toBeGreaterThan(0);
  });

  it("lands the bursting neuron on its bursting cycle (slow gate h oscillates) for many seeds", () => {
    for (let seed = 0; seed < 5; seed++) {
      const g = generate("bursting_neuron", { steps: 1500, test_steps: 0, standardize: false, transient: 3000 }, testRng(seed));
      expect(g.meta.std[2], `seed ${seed}`).toBeGreaterThan(0.005); // tonic spiking would give ≈ 0.0007
      expect(g.meta.std[0]).toBeGreaterThan(15);
    }
  });

  it("reports a diverging integration as a DataError with advice", () => {
    expect(() => generate("lorenz96", { steps: 1000, dt: 0.5, substeps: 1, forcing: 30 }, testRng(1))).toThrow(
      /diverged at sample \d+ \(dt = 0\.5, substeps = 1\); use a smaller dt or more substeps/,
    );
  });
});
