import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../../src/runtime/backend/select.js";
import {
  Adam,
  AdamW,
  clipByGlobalNorm,
  createOptimizer,
  globalNorm,
  optimizerStateFromJSON,
  optimizerStateToJSON,
  RAdam,
  Sgd,
  type Optimizer,
  type OptimizerConfig,
} from "../../../src/runtime/train/optimizers.js";

// ---------------------------------------------------------------------------------------------
// Fixture (test/fixtures/train/make_optim_fixtures.py: PyTorch's update rules in float64 NumPy)

interface FixtureCase {
  name: string;
  problem: "lsq" | "rosen";
  optimizer: OptimizerConfig;
  lrs: number[];
  clipMaxNorm: number | null;
  init: Record<string, { shape: number[]; values: number[] }>;
  /** Per step: the raw gradient the reference used, and the parameters after the step. */
  trajectory: Array<{ grads: Record<string, number[]>; params: Record<string, number[]> }>;
  preClipNorms: number[] | null;
  finalState: Record<string, { step: number } & Record<string, number[] | number>>;
}
interface Fixture {
  steps: number;
  problems: { lsq: { X: number[][]; Y: number[][] } };
  cases: FixtureCase[];
}
const fixture = JSON.parse(
  readFileSync(new URL("../../fixtures/train/optim_fixtures.json", import.meta.url), "utf8"),
) as Fixture;

/**
 * Relative error of a float32 run against the float64 reference, measured against
 * max(|reference|, 1e-2) so coordinates passing through zero are compared absolutely.
 */
function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1e-2));
  }
  return worst;
}

let varCounter = 0;

function makeVars(c: FixtureCase): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  for (const [name, { shape, values }] of Object.entries(c.init)) {
    vars.set(name, tf.variable(tf.tensor(values, shape, "float32"), true, `${c.name}_${name}_${varCounter++}`));
  }
  return vars;
}

function lossFor(c: FixtureCase, vars: Map<string, tf.Variable>): () => tf.Scalar {
  if (c.problem === "lsq") {
    const { X, Y } = fixture.problems.lsq;
    const W = vars.get("W")!;
    const b = vars.get("b")!;
    // loss = sum((X W + b - Y)^2) / (2 n)
    return () => {
      const r = tf.sub(tf.add(tf.matMul(tf.tensor2d(X), W), b), tf.tensor2d(Y));
      return tf.div(tf.sum(tf.square(r)), 2 * X.length);
    };
  }
  const p = vars.get("p")!;
  // loss = (1 - x)^2 + 100 (y - x^2)^2
  return () => {
    const [x, y] = tf.unstack(p);
    return tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x))))) as tf.Scalar;
  };
}

/** Gradients keyed by our parameter names (tf.variableGrads keys them by tfjs variable name). */
function gradsOf(loss: () => tf.Scalar, vars: Map<string, tf.Variable>): Map<string, tf.Tensor> {
  const { value, grads } = tf.variableGrads(loss, [...vars.values()]);
  value.dispose();
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of vars) out.set(name, grads[v.name]);
  return out;
}

/**
 * Run a fixture case. "replay" feeds the reference's own gradients (open loop), which tests the
 * optimizer arithmetic alone; "autodiff" computes float32 gradients with tfjs (closed loop), where
 * float32 error in the gradient itself (e.g. cancellation in y − x²) feeds back into the path.
 */
function runCase(c: FixtureCase, mode: "replay" | "autodiff") {
  const vars = makeVars(c);
  const loss = lossFor(c, vars);
  const opt = createOptimizer(c.optimizer);
  let worstParam = 0;
  let worstNorm = 0;
  for (let i = 0; i < c.lrs.length; i++) {
    let grads: Map<string, tf.Tensor>;
    if (mode === "autodiff") grads = gradsOf(loss, vars);
    else grads = new Map([...vars].map(([name, v]) => [name, tf.tensor(c.trajectory[i].grads[name], v.shape, "float32")]));
    if (c.clipMaxNorm !== null) {
      const clipped = clipByGlobalNorm(grads, c.clipMaxNorm);
      worstNorm = Math.max(worstNorm, Math.abs(clipped.norm - c.preClipNorms![i]) / c.preClipNorms![i]);
      tf.dispose([...grads.values()]);
      grads = clipped.grads;
    }
    opt.step(grads, vars, c.lrs[i]);
    tf.dispose([...grads.values()]);
    for (const [name, v] of vars) worstParam = Math.max(worstParam, relErr(v.dataSync(), c.trajectory[i].params[name]));
  }
  const state = opt.getState();
  let worstSlot = 0;
  for (const [param, expected] of Object.entries(c.finalState)) {
    expect(state.paramSteps[param]).toBe(expected.step);
    for (const [slot, values] of Object.entries(expected)) {
      if (slot === "step") continue;
      const s = state.slots.find((x) => x.param === param && x.slot === slot);
      expect(s, `${param}/${slot}`).toBeDefined();
      worstSlot = Math.max(worstSlot, relErr(s!.values, values as number[]));
    }
  }
  expect(state.slots.length).toBe(Object.values(c.finalState).reduce((n, s) => n + Object.keys(s).length - 1, 0));
  opt.dispose();
  tf.dispose([...vars.values()]);
  return Math.max(worstParam, worstNorm, worstSlot);
}

// ---------------------------------------------------------------------------------------------

beforeAll(() => {
  tf.env().set("IS_TEST", true);
});

const cases = fixture.cases.map((c) => [c.name, c] as const);

describe.each(["cpu", "wasm"] as const)("optimizers replay the PyTorch-rule reference to 1e-5 (%s backend)", (backend) => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it.each(cases)("%s", (_name, c) => {
    // Measured: at most 8.1e-6 (float32 rounding of O(1) parameters), identical on cpu and wasm.
    expect(runCase(c, "replay")).toBeLessThan(1e-5);
  });
});

describe("optimizers on float32 autodiff gradients follow the reference to 1e-4 (closed loop, cpu)", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it.each(cases)("%s", (_name, c) => {
    // Measured: at most 4.1e-5 (adam_clipped_rosen's pre-clip norm, from float32 gradients).
    expect(runCase(c, "autodiff")).toBeLessThan(1e-4);
  });
});

describe("optimizer mechanics", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });
  afterAll(() => tf.disposeVariables());

  function setup(seedValues: number[] = [0.5, -1, 2, 0.25]) {
    const vars = new Map<string, tf.Variable>([
      ["w", tf.variable(tf.tensor2d(seedValues, [2, 2]), true, `mech_w_${varCounter++}`)],
      ["h", tf.variable(tf.tensor1d([0.1, -0.2]), true, `mech_h_${varCounter++}`)],
    ]);
    const loss = () => tf.add(tf.sum(tf.square(vars.get("w")!)), tf.sum(tf.exp(vars.get("h")!))) as tf.Scalar;
    return { vars, loss };
  }

  const configs: OptimizerConfig[] = [
    { kind: "adam" },
    { kind: "adamw" },
    { kind: "radam", weightDecay: 0.01 },
    { kind: "sgd", momentum: 0.9, nesterov: true },
  ];

  it.each(configs.map((c) => [c.kind, c] as const))("%s: no tensor leaks over 100 steps", (_k, config) => {
    const { vars, loss } = setup();
    const opt = createOptimizer(config);
    const step = () => {
      const grads = gradsOf(loss, vars);
      opt.step(grads, vars, 1e-3);
      tf.dispose([...grads.values()]);
    };
    step(); // creates the slots
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    const slotCount = opt.getState().slots.length;
    expect(slotCount).toBe(config.kind === "sgd" ? 2 : 4);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before - slotCount);
    tf.dispose([...vars.values()]);
  });

  it.each(configs.map((c) => [c.kind, c] as const))("%s: state survives JSON and resumes bit-exactly", (_k, config) => {
    const a = setup();
    const optA = createOptimizer(config);
    const lrs = Array.from({ length: 20 }, (_, i) => 0.01 * 0.9 ** i);
    const stepWith = (opt: Optimizer, s: typeof a, lr: number) => {
      const grads = gradsOf(s.loss, s.vars);
      opt.step(grads, s.vars, lr);
      tf.dispose([...grads.values()]);
    };
    for (let i = 0; i < 10; i++) stepWith(optA, a, lrs[i]);
    const json = JSON.parse(JSON.stringify(optimizerStateToJSON(optA.getState())));
    const params = new Map([...a.vars].map(([k, v]) => [k, Float32Array.from(v.dataSync())]));
    // A fresh optimizer and fresh variables restored from the saved numbers.
    const b = setup(Array.from(params.get("w")!));
    b.vars.get("h")!.assign(tf.tensor1d(params.get("h")!));
    const optB = createOptimizer(config);
    optB.setState(optimizerStateFromJSON(json));
    expect(optB.getState()).toEqual(optA.getState());
    for (let i = 10; i < 20; i++) {
      stepWith(optA, a, lrs[i]);
      stepWith(optB, b, lrs[i]);
    }
    for (const k of ["w", "h"]) expect(Array.from(b.vars.get(k)!.dataSync())).toEqual(Array.from(a.vars.get(k)!.dataSync()));
    expect(optB.getState().stepCount).toBe(20);
    optA.dispose();
    optB.dispose();
    tf.dispose([...a.vars.values(), ...b.vars.values()]);
  });

  it("getState returns copies; setState copies its input", () => {
    const { vars, loss } = setup();
    const opt = new Adam();
    const grads = gradsOf(loss, vars);
    opt.step(grads, vars, 0.1);
    const s1 = opt.getState();
    s1.slots[0].values[0] = 12345;
    expect(opt.getState().slots[0].values[0]).not.toBe(12345);
    const s2 = opt.getState();
    const opt2 = new Adam();
    opt2.setState(s2);
    s2.slots[0].values[0] = 999;
    expect(opt2.getState().slots[0].values[0]).not.toBe(999);
    tf.dispose([...grads.values(), ...vars.values()]);
    opt.dispose();
    opt2.dispose();
  });

  it("per-parameter step counts: a parameter without a gradient is not stepped", () => {
    const { vars, loss } = setup();
    const opt = new Adam();
    const grads = gradsOf(loss, vars);
    const hBefore = Array.from(vars.get("h")!.dataSync());
    opt.step(new Map([["w", grads.get("w")!]]), vars, 0.1);
    opt.step(grads, vars, 0.1);
    const state = opt.getState();
    expect(state.stepCount).toBe(2);
    expect(state.paramSteps).toEqual({ h: 1, w: 2 });
    expect(state.slots.map((s) => `${s.param}/${s.slot}`)).toEqual(["h/exp_avg", "h/exp_avg_sq", "w/exp_avg", "w/exp_avg_sq"]);
    // Adam's first step moves every coordinate by lr (sign of the gradient): h moved once.
    const hAfter = Array.from(vars.get("h")!.dataSync());
    hAfter.forEach((x, i) => expect(Math.abs(x - hBefore[i])).toBeCloseTo(0.1, 5));
    tf.dispose([...grads.values(), ...vars.values()]);
    opt.dispose();
  });

  it("validates inputs before changing anything", () => {
    const { vars, loss } = setup();
    const opt = new Sgd({ momentum: 0.5 });
    const grads = gradsOf(loss, vars);
    const w0 = Array.from(vars.get("w")!.dataSync());
    const stray = tf.zeros([2]);
    expect(() => opt.step(new Map([...grads, ["nope", stray]]), vars, 0.1)).toThrow(/unknown variable 'nope'/);
    expect(() => opt.step(new Map([["w", stray]]), vars, 0.1)).toThrow(/shape \[2\], variable has \[2,2\]/);
    expect(() => opt.step(grads, vars, Number.NaN)).toThrow(RangeError);
    expect(Array.from(vars.get("w")!.dataSync())).toEqual(w0);
    expect(opt.getState().stepCount).toBe(0);
    expect(() => opt.setState({ ...new Adam().getState() })).toThrow(/'adam', this optimizer is 'sgd'/);
    expect(() =>
      opt.setState({ kind: "sgd", hyper: {}, stepCount: 1, paramSteps: {}, slots: [{ param: "w", slot: "exp_avg", shape: [1], values: new Float32Array(1) }] }),
    ).toThrow(/unknown slot 'exp_avg'/);
    expect(() =>
      opt.setState({ kind: "sgd", hyper: {}, stepCount: 1, paramSteps: {}, slots: [{ param: "w", slot: "momentum_buffer", shape: [2, 2], values: new Float32Array(3) }] }),
    ).toThrow(/3 values for shape \[2,2\]/);
    // A restored slot whose shape does not match the variable is caught at the next step.
    opt.setState({ kind: "sgd", hyper: {}, stepCount: 1, paramSteps: { w: 1 }, slots: [{ param: "w", slot: "momentum_buffer", shape: [4], values: new Float32Array(4) }] });
    expect(() => opt.step(grads, vars, 0.1)).toThrow(/slot 'momentum_buffer' of 'w' has shape \[4\]/);
    tf.dispose([...grads.values(), ...vars.values(), stray]);
    opt.dispose();
  });

  it("validates hyper-parameters and fills PyTorch defaults", () => {
    expect(new Adam().hyper).toEqual({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    expect(new AdamW().hyper).toEqual({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    expect(new AdamW().kind).toBe("adamw");
    expect(new RAdam().hyper).toEqual({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false });
    expect(new Sgd().hyper).toEqual({ momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 });
    expect(() => new Adam({ beta1: 1 })).toThrow(/beta1/);
    expect(() => new RAdam({ eps: -1 })).toThrow(/eps/);
    expect(() => new Sgd({ nesterov: true })).toThrow(/nesterov/);
    expect(() => new Sgd({ momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/nesterov/);
    expect(() => createOptimizer({ kind: "lbfgs" } as unknown as OptimizerConfig)).toThrow(/unknown optimizer/);
  });

  it("RAdam rectification: un-rectified for the first steps (rho_t <= 5), then r_t -> 1", () => {
    const rect = (t: number) => RAdam.rectification(0.999, t).rect;
    expect([1, 2, 3, 4, 5].map(rect)).toEqual([null, null, null, null, null]);
    expect(rect(6)).not.toBeNull();
    expect(rect(6)!).toBeGreaterThan(0);
    expect(rect(6)!).toBeLessThan(0.2);
    expect(rect(100_000)!).toBeCloseTo(1, 3);
    expect(RAdam.rectification(0.999, 1).rhoT).toBeCloseTo(1, 9);
    expect(RAdam.rectification(0.999, 1).rhoInf).toBeCloseTo(1999, 9);
  });
});

describe("clipByGlobalNorm", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  it("scales by max_norm / (norm + 1e-6) when that is < 1, as torch clip_grad_norm_", () => {
    const grads = new Map<string, tf.Tensor>([
      ["a", tf.tensor1d([3, 0])],
      ["b", tf.tensor2d([[0, 4]])],
    ]);
    expect(globalNorm(grads)).toBeCloseTo(5, 6);
    const before = tf.memory().numTensors;
    const { grads: clipped, norm, scale } = clipByGlobalNorm(grads, 1);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(norm).toBeCloseTo(5, 6);
    expect(scale).toBeCloseTo(1 / (5 + 1e-6), 12);
    expect(Array.from(clipped.get("a")!.dataSync())).toEqual([Math.fround(3 * scale), 0]);
    expect(globalNorm(clipped)).toBeCloseTo(1, 5);
    // Inputs untouched.
    expect(Array.from(grads.get("a")!.dataSync())).toEqual([3, 0]);
    // Below the threshold: unscaled copies the caller owns.
    const loose = clipByGlobalNorm(grads, 10);
    expect(loose.scale).toBe(1);
    expect(loose.grads.get("b")).not.toBe(grads.get("b"));
    expect(Array.from(loose.grads.get("b")!.dataSync())).toEqual([0, 4]);
    tf.dispose([...grads.values(), ...clipped.values(), ...loose.grads.values()]);
    expect(tf.memory().numTensors).toBe(before - 2);
  });

  it("handles an empty map and rejects a non-positive max norm", () => {
    expect(clipByGlobalNorm(new Map(), 1)).toEqual({ grads: new Map(), norm: 0, scale: 1 });
    expect(() => clipByGlobalNorm(new Map(), 0)).toThrow(RangeError);
  });

  it("reports a non-finite norm", () => {
    const grads = new Map<string, tf.Tensor>([["a", tf.tensor1d([Number.NaN, 1])]]);
    const r = clipByGlobalNorm(grads, 1);
    expect(Number.isNaN(r.norm)).toBe(true);
    tf.dispose([...grads.values(), ...r.grads.values()]);
  });
});
