/**
 * Built-in benchmark dynamical systems (`data d = builtin.lorenz63(steps = 100000, ...)`).
 *
 * Every system is an ODE integrated with classic fourth-order Runge–Kutta at a fixed step:
 * one sample every `dt` time units, each sample reached by `substeps` RK4 steps of size
 * dt / substeps. The run starts from a random state drawn from the caller's seeded RNG, discards
 * `transient` samples (so the data lie on the attractor), keeps `steps` samples for training and
 * then continues the same trajectory for `test_steps` more samples as the test split (a
 * continuation, so the test data are a fresh stretch of the attractor, not a copy of the training
 * data).
 *
 * Post-processing, in this order:
 *  1. statistics: per-dimension mean and std (population, ddof 0) of the clean training part;
 *  2. `standardize = true` (default): both splits are z-scored with the training statistics (a
 *     dimension with std 0 is only centred);
 *  3. `noise` (default 0): Gaussian observation noise added to the training split, with std
 *     `noise` × that dimension's std in the output units (so `noise = 0.05` is "5 % noise", the
 *     convention of the reference data sets); `test_noise` does the same for the test split
 *     (default 0: test data are clean, as in the references);
 *  4. conversion to float32.
 *
 * Random draws (all from the passed RNG, in this order): the initial state, then training noise
 * (row-major, only when noise > 0), then test noise (only when test_noise > 0). The same seed and
 * arguments give the same data, bit for bit.
 *
 * Defaults (sampling steps chosen to match the reference data sets, checked on their statistics):
 *
 * | system          | parameters                          | dt      | substeps | transient | x0 (random)                    |
 * |-----------------|-------------------------------------|---------|----------|-----------|--------------------------------|
 * | lorenz63        | σ=10, ρ=28, β=8/3                   | 0.01    | 1        | 1000      | (8·N, 8·N, 24 + 8·N)           |
 * | rossler         | a=0.2, b=0.2, c=5.7                 | 0.08    | 2        | 1000      | (5·N, 5·N, U(0, 1))            |
 * | lorenz96        | n=10, F=8 (forcing)                 | 0.04    | 2        | 2000      | F + N per variable             |
 * | bursting_neuron | Durstewitz (2009), g_NMDA=10.2, I=0 | 0.5 ms  | 10       | 4000      | (U(−70,−60) mV, U(0,0.05), U(0.07,0.09)) |
 *
 * (N: a standard normal draw, U: uniform.) All systems default to steps = 100000,
 * test_steps = steps, standardize = true, noise = 0, test_noise = 0.
 *
 * Why these sampling steps: the dendPLRNN / ALRNN reference trajectories were matched by
 * simulating candidates and comparing the std of one-step increments and the autocorrelation at
 * lags 10 and 50 of the z-scored series: Lorenz-63 at dt 0.01 (documented); Rössler at dt 0.08
 * (ALRNN example_rossler.npy); Lorenz-96 with n = 10, F = 8 at dt 0.04 (dendPLRNN lorenz96);
 * the bursting neuron at dt 0.5 ms (dendPLRNN burstingneuron, whose skewness and kurtosis per
 * variable also match this model at g_NMDA = 10.2).
 *
 * Why these substeps: each keeps the sampled trajectory within ~1e-4 (relative) of a 20× finer
 * RK4 integration over 10 samples; Lorenz-63 at dt 0.01 needs no substeps (relative error ~3e-6
 * after one time unit, i.e. 100 samples). The bursting neuron needs 10 (step 0.05 ms) because spike timing is sensitive: with
 * 4 substeps the trajectory drifts ~0.5 % per burst cycle, with 10 ~0.03 %. At g_NMDA = 10.2 it
 * is bistable (bursting cycle vs. tonic spiking); its random start is chosen inside the bursting
 * basin.
 */
import { DataError } from "./errors.js";
import type { NdArray } from "./npy.js";
import type { Rng } from "./rng-types.js";

/** A value of a generator argument. */
export type ArgValue = number | boolean;
/** Generator arguments by name (as written in the spec; missing ones take their defaults). */
export type GeneratorArgs = Readonly<Record<string, ArgValue>>;

/** One parameter of a generator: plain data, so the compiler's checker can validate calls. */
export interface GeneratorParamSpec {
  name: string;
  type: "int" | "float" | "bool";
  /** The default value, or `{ sameAs }`: the resolved value of another parameter. */
  default: number | boolean | { sameAs: string };
  /** Inclusive lower bound (exclusive when `exclusiveMin`). */
  min?: number;
  exclusiveMin?: boolean;
  /** Inclusive upper bound. */
  max?: number;
  description: string;
}

/** A built-in data generator, described as data. */
export interface GeneratorSpec {
  name: string;
  description: string;
  /** Where the equations and parameter values come from. */
  reference: string;
  params: readonly GeneratorParamSpec[];
  /** Number of observed features (N of the [T, N] output) for resolved arguments. */
  features: (args: GeneratorArgs) => number;
  /** Names of the observed variables, in column order, for resolved arguments. */
  variables: (args: GeneratorArgs) => string[];
}

/** What a generator returns. */
export interface GeneratedData {
  /** [steps, N] float32. */
  train: NdArray;
  /** [test_steps, N] float32, the continuation of the training trajectory. */
  test: NdArray;
  meta: {
    name: string;
    /** Sampling interval in the system's time units. */
    dt: number;
    /** All arguments after defaults were applied. */
    args: Record<string, ArgValue>;
    /** Per-dimension mean and std of the clean training data, in the system's own units. */
    mean: number[];
    std: number[];
    /** Whether the outputs were z-scored with mean/std. */
    standardized: boolean;
    variables: string[];
  };
}

/** A problem with a generator call, for the checker's diagnostics. */
export interface GeneratorArgProblem {
  /** The argument at fault, or null for the call as a whole (unknown generator). */
  param: string | null;
  message: string;
}

// ---------------------------------------------------------------------------------------------
// The parameter table
// ---------------------------------------------------------------------------------------------

const MAX_SAMPLES = 10_000_000;

interface SystemDefaults {
  dt: number;
  maxDt: number;
  substeps: number;
  transient: number;
}

/** Parameters every generator has; the integration defaults differ per system. */
function commonParams(d: SystemDefaults): GeneratorParamSpec[] {
  return [
    { name: "steps", type: "int", default: 100_000, min: 1, max: MAX_SAMPLES, description: "number of training samples" },
    {
      name: "test_steps",
      type: "int",
      default: { sameAs: "steps" },
      min: 0,
      max: MAX_SAMPLES,
      description: "number of test samples, continuing the training trajectory (default: equal to steps)",
    },
    {
      name: "dt",
      type: "float",
      default: d.dt,
      min: 0,
      exclusiveMin: true,
      max: d.maxDt,
      description: "sampling interval between consecutive samples, in the system's time units",
    },
    {
      name: "substeps",
      type: "int",
      default: d.substeps,
      min: 1,
      max: 10_000,
      description: "RK4 steps per sample (step size dt / substeps); raise it for accuracy at large dt",
    },
    {
      name: "transient",
      type: "int",
      default: d.transient,
      min: 0,
      max: MAX_SAMPLES,
      description: "samples integrated and discarded before the training data, so the data lie on the attractor",
    },
    {
      name: "standardize",
      type: "bool",
      default: true,
      description: "z-score every dimension with the training split's mean and std (applied to both splits)",
    },
    {
      name: "noise",
      type: "float",
      default: 0,
      min: 0,
      max: 10,
      description: "Gaussian observation noise on the training split, std as a fraction of each dimension's std",
    },
    {
      name: "test_noise",
      type: "float",
      default: 0,
      min: 0,
      max: 10,
      description: "Gaussian observation noise on the test split, std as a fraction of each dimension's std",
    },
  ];
}

function floatParam(name: string, def: number, min: number, max: number, description: string, exclusiveMin = false): GeneratorParamSpec {
  return { name, type: "float", default: def, min, max, description, ...(exclusiveMin ? { exclusiveMin } : {}) };
}

/**
 * The built-in generators. Plain data (plus two small functions of the arguments) so the
 * compiler's checker can validate `builtin.NAME(...)` calls and bind `NAME.features` without
 * generating anything.
 */
export const GENERATORS: Readonly<Record<string, GeneratorSpec>> = {
  lorenz63: {
    name: "lorenz63",
    description: "Lorenz-63 chaotic attractor: x' = σ(y − x), y' = x(ρ − z) − y, z' = xy − βz",
    reference: "Lorenz (1963), J. Atmos. Sci. 20:130; standard chaotic parameters σ=10, ρ=28, β=8/3",
    params: [
      ...commonParams({ dt: 0.01, maxDt: 0.1, substeps: 1, transient: 1000 }),
      floatParam("sigma", 10, 0, 1000, "σ (Prandtl number)", true),
      floatParam("rho", 28, 0, 1000, "ρ (Rayleigh number)", true),
      floatParam("beta", 8 / 3, 0, 1000, "β (geometric factor)", true),
    ],
    features: () => 3,
    variables: () => ["x", "y", "z"],
  },
  rossler: {
    name: "rossler",
    description: "Rössler attractor: x' = −y − z, y' = x + a·y, z' = b + z(x − c)",
    reference: "Rössler (1976), Phys. Lett. A 57:397; chaotic parameters a=0.2, b=0.2, c=5.7",
    params: [
      ...commonParams({ dt: 0.08, maxDt: 1, substeps: 2, transient: 1000 }),
      floatParam("a", 0.2, -10, 10, "a"),
      floatParam("b", 0.2, -10, 10, "b"),
      floatParam("c", 5.7, -100, 100, "c"),
    ],
    features: () => 3,
    variables: () => ["x", "y", "z"],
  },
  lorenz96: {
    name: "lorenz96",
    description: "Lorenz-96 ring: x_i' = (x_{i+1} − x_{i−2}) x_{i−1} − x_i + F, indices mod n",
    reference: "Lorenz (1996), ECMWF seminar on predictability; n=10, F=8 as in the dendPLRNN benchmark",
    params: [
      ...commonParams({ dt: 0.04, maxDt: 0.5, substeps: 2, transient: 2000 }),
      { name: "n", type: "int", default: 10, min: 4, max: 10_000, description: "number of variables (features)" },
      floatParam("forcing", 8, -100, 100, "forcing F (the standard F = 8 is chaotic)"),
    ],
    features: (args) => Number(args["n"] ?? 10),
    variables: (args) => Array.from({ length: Number(args["n"] ?? 10) }, (_, i) => `x${i}`),
  },
  bursting_neuron: {
    name: "bursting_neuron",
    description:
      "3-variable conductance-based bursting neuron (membrane potential V in mV, K+ gate n, slow M-current gate h), " +
      "time in ms",
    reference:
      "Durstewitz (2009), Neural Networks 22:1189 (the bursting-neuron benchmark of Schmidt et al. 2021 and " +
      "Brenner et al. 2022): C_m V' = I − g_L(V−E_L) − g_Na m∞(V)(V−E_Na) − g_K n(V−E_K) − g_M h(V−E_K) − " +
      "g_NMDA s∞(V) V; n' = (n∞(V) − n)/τ_n; h' = (h∞(V) − h)/τ_h, with C_m=6, g_L=8, E_L=−80, g_Na=20, " +
      "E_Na=60, V_hNa=−20, k_Na=15, g_K=10, E_K=−90, V_hK=−25, k_K=5, τ_n=1, g_M=25, V_hM=−15, k_M=5, " +
      "τ_h=200, s∞(V) = 1/(1 + 0.33 exp(−0.0625 V)), x∞(V) = 1/(1 + exp((V_hx − V)/k_x))",
    params: [
      ...commonParams({ dt: 0.5, maxDt: 10, substeps: 10, transient: 4000 }),
      floatParam("g_nmda", 10.2, 0, 100, "NMDA conductance g_NMDA (the bifurcation parameter; 10.2 gives bursting)"),
      floatParam("current", 0, -1000, 1000, "injected current I"),
    ],
    features: () => 3,
    variables: () => ["V", "n", "h"],
  },
};

// ---------------------------------------------------------------------------------------------
// Argument checking
// ---------------------------------------------------------------------------------------------

function formatValue(v: ArgValue): string {
  return String(v);
}

/**
 * Check a call's arguments against the table; an empty list means the call is valid.
 * Checks: known generator, known parameter names, types (int / float / bool), ranges.
 */
export function checkGeneratorArgs(name: string, args: GeneratorArgs): GeneratorArgProblem[] {
  const spec = GENERATORS[name];
  if (!spec) {
    return [{ param: null, message: `unknown generator 'builtin.${name}' (available: ${Object.keys(GENERATORS).join(", ")})` }];
  }
  const problems: GeneratorArgProblem[] = [];
  const known = new Map(spec.params.map((p) => [p.name, p]));
  for (const [key, value] of Object.entries(args)) {
    const p = known.get(key);
    if (!p) {
      problems.push({ param: key, message: `builtin.${name} has no parameter '${key}' (parameters: ${[...known.keys()].join(", ")})` });
      continue;
    }
    if (p.type === "bool") {
      if (typeof value !== "boolean") problems.push({ param: key, message: `'${key}' must be true or false, got ${formatValue(value)}` });
      continue;
    }
    if (typeof value !== "number" || !Number.isFinite(value)) {
      problems.push({ param: key, message: `'${key}' must be a finite number, got ${formatValue(value)}` });
      continue;
    }
    if (p.type === "int" && !Number.isInteger(value)) {
      problems.push({ param: key, message: `'${key}' must be an integer, got ${value}` });
      continue;
    }
    const belowMin = p.min !== undefined && (p.exclusiveMin ? value <= p.min : value < p.min);
    const aboveMax = p.max !== undefined && value > p.max;
    if (belowMin || aboveMax) {
      const lo = p.min === undefined ? "" : `${p.exclusiveMin ? ">" : ">="} ${p.min}`;
      const hi = p.max === undefined ? "" : `<= ${p.max}`;
      problems.push({ param: key, message: `'${key}' must be ${[lo, hi].filter(Boolean).join(" and ")}, got ${value}` });
    }
  }
  return problems;
}

/** Apply defaults (including `sameAs` defaults) to a call's arguments; assumes they were checked. */
export function resolveGeneratorArgs(name: string, args: GeneratorArgs): Record<string, ArgValue> {
  const spec = GENERATORS[name];
  if (!spec) throw new DataError(`unknown generator 'builtin.${name}' (available: ${Object.keys(GENERATORS).join(", ")})`);
  const out: Record<string, ArgValue> = {};
  for (const p of spec.params) {
    const given = args[p.name];
    if (given !== undefined) out[p.name] = given;
    else if (typeof p.default !== "object") out[p.name] = p.default;
  }
  for (const p of spec.params) {
    if (out[p.name] === undefined && typeof p.default === "object") out[p.name] = out[p.default.sameAs]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Vector fields and the integrator
// ---------------------------------------------------------------------------------------------

/** dx/dt = f(x), written into `out` (no allocation per call). */
export type VectorField = (x: Float64Array, out: Float64Array) => void;

interface SystemImpl {
  dim: (args: GeneratorArgs) => number;
  field: (args: GeneratorArgs) => VectorField;
  initialState: (args: GeneratorArgs, rng: Rng) => Float64Array;
}

const num = (args: GeneratorArgs, key: string): number => args[key] as number;

// Durstewitz (2009) bursting-neuron constants (see the table's reference string).
const BN = {
  Cm: 6, gL: 8, EL: -80, gNa: 20, ENa: 60, VhNa: -20, kNa: 15, gK: 10, EK: -90, VhK: -25, kK: 5,
  tauN: 1, gM: 25, VhM: -15, kM: 5, tauH: 200, ENMDA: 0,
} as const;

const SYSTEMS: Record<string, SystemImpl> = {
  lorenz63: {
    dim: () => 3,
    field: (args) => {
      const sigma = num(args, "sigma");
      const rho = num(args, "rho");
      const beta = num(args, "beta");
      return (x, out) => {
        out[0] = sigma * (x[1]! - x[0]!);
        out[1] = x[0]! * (rho - x[2]!) - x[1]!;
        out[2] = x[0]! * x[1]! - beta * x[2]!;
      };
    },
    // Near the attractor (|x|, |y| ≲ 20, z in ~[5, 45]); the transient does the rest.
    initialState: (_args, rng) => Float64Array.of(8 * rng.normal(), 8 * rng.normal(), 24 + 8 * rng.normal()),
  },
  rossler: {
    dim: () => 3,
    field: (args) => {
      const a = num(args, "a");
      const b = num(args, "b");
      const c = num(args, "c");
      return (x, out) => {
        out[0] = -x[1]! - x[2]!;
        out[1] = x[0]! + a * x[1]!;
        out[2] = b + x[2]! * (x[0]! - c);
      };
    },
    initialState: (_args, rng) => Float64Array.of(5 * rng.normal(), 5 * rng.normal(), rng.uniform()),
  },
  lorenz96: {
    dim: (args) => num(args, "n"),
    field: (args) => {
      const n = num(args, "n");
      const F = num(args, "forcing");
      return (x, out) => {
        for (let i = 0; i < n; i++) {
          const xp1 = x[(i + 1) % n]!;
          const xm1 = x[(i + n - 1) % n]!;
          const xm2 = x[(i + n - 2) % n]!;
          out[i] = (xp1 - xm2) * xm1 - x[i]! + F;
        }
      };
    },
    // A perturbation of the (unstable) uniform state x_i = F; chaos sets in within the transient.
    initialState: (args, rng) => {
      const n = num(args, "n");
      const F = num(args, "forcing");
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) x[i] = F + rng.normal();
      return x;
    },
  },
  bursting_neuron: {
    dim: () => 3,
    field: (args) => {
      const gNMDA = num(args, "g_nmda");
      const I = num(args, "current");
      const sig = (v: number, vh: number, k: number) => 1 / (1 + Math.exp((vh - v) / k));
      return (x, out) => {
        const V = x[0]!;
        const n = x[1]!;
        const h = x[2]!;
        const sInf = 1 / (1 + 0.33 * Math.exp(-0.0625 * V));
        out[0] =
          (I -
            BN.gL * (V - BN.EL) -
            BN.gNa * sig(V, BN.VhNa, BN.kNa) * (V - BN.ENa) -
            BN.gK * n * (V - BN.EK) -
            BN.gM * h * (V - BN.EK) -
            gNMDA * sInf * (V - BN.ENMDA)) /
          BN.Cm;
        out[1] = (sig(V, BN.VhK, BN.kK) - n) / BN.tauN;
        out[2] = (sig(V, BN.VhM, BN.kM) - h) / BN.tauH;
      };
    },
    // At g_NMDA = 10.2 the model is bistable (bursting cycle vs. tonic spiking); starting
    // hyperpolarized with the slow gate h high lands on the bursting cycle (1000 of 1000 random
    // starts in this box did), at a random phase.
    initialState: (_args, rng) => Float64Array.of(-70 + 10 * rng.uniform(), 0.05 * rng.uniform(), 0.07 + 0.02 * rng.uniform()),
  },
};

/** The vector field of a generator for (possibly partial) arguments; defaults fill the rest. */
export function vectorField(name: string, args: GeneratorArgs = {}): VectorField {
  const impl = SYSTEMS[name];
  if (!impl) throw new DataError(`unknown generator 'builtin.${name}'`);
  return impl.field(resolveGeneratorArgs(name, args));
}

/** Scratch buffers for rk4Step, so the inner loop allocates nothing. */
export interface Rk4Scratch {
  k1: Float64Array;
  k2: Float64Array;
  k3: Float64Array;
  k4: Float64Array;
  tmp: Float64Array;
}

export function makeRk4Scratch(n: number): Rk4Scratch {
  return { k1: new Float64Array(n), k2: new Float64Array(n), k3: new Float64Array(n), k4: new Float64Array(n), tmp: new Float64Array(n) };
}

/** One classic RK4 step of size h, updating x in place. */
export function rk4Step(f: VectorField, x: Float64Array, h: number, s: Rk4Scratch): void {
  const n = x.length;
  const { k1, k2, k3, k4, tmp } = s;
  f(x, k1);
  for (let i = 0; i < n; i++) tmp[i] = x[i]! + 0.5 * h * k1[i]!;
  f(tmp, k2);
  for (let i = 0; i < n; i++) tmp[i] = x[i]! + 0.5 * h * k2[i]!;
  f(tmp, k3);
  for (let i = 0; i < n; i++) tmp[i] = x[i]! + h * k3[i]!;
  f(tmp, k4);
  const h6 = h / 6;
  for (let i = 0; i < n; i++) x[i] = x[i]! + h6 * (k1[i]! + 2 * k2[i]! + 2 * k3[i]! + k4[i]!);
}

/**
 * Integrate from x0 (not modified): discard `transient` samples, then record `samples` samples,
 * one every dt, each reached with `substeps` RK4 steps. Returns row-major [samples, n].
 * `onDiverge(sample)` is called (and must throw) when the state stops being finite.
 */
export function integrate(
  f: VectorField,
  x0: Float64Array,
  dt: number,
  substeps: number,
  transient: number,
  samples: number,
  onDiverge: (sample: number) => never = (k) => {
    throw new DataError(`integration diverged at sample ${k}`);
  },
): Float64Array {
  const n = x0.length;
  const x = Float64Array.from(x0);
  const s = makeRk4Scratch(n);
  const h = dt / substeps;
  const out = new Float64Array(samples * n);
  for (let k = -transient; k < samples; k++) {
    // Sample 0 is the state after `transient` samples' worth of integration (x0 when 0).
    if (k >= 0) out.set(x, k * n);
    if (k === samples - 1) break;
    for (let j = 0; j < substeps; j++) rk4Step(f, x, h, s);
    let finite = true;
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!) || Math.abs(x[i]!) > 1e12) finite = false;
    if (!finite) onDiverge(k + transient + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// generate
// ---------------------------------------------------------------------------------------------

function callText(name: string, args: GeneratorArgs): string {
  return `builtin.${name}(${Object.entries(args)
    .map(([k, v]) => `${k} = ${formatValue(v)}`)
    .join(", ")})`;
}

/**
 * Generate a built-in data set. Throws a DataError for an unknown generator, bad arguments, or
 * an integration that diverges (too large a dt for the chosen substeps).
 */
export function generate(name: string, args: GeneratorArgs, rng: Rng): GeneratedData {
  const problems = checkGeneratorArgs(name, args);
  if (problems.length > 0) throw new DataError(`${callText(name, args)}: ${problems.map((p) => p.message).join("; ")}`);
  const spec = GENERATORS[name]!;
  const impl = SYSTEMS[name]!;
  const a = resolveGeneratorArgs(name, args);
  const n = impl.dim(a);
  const steps = num(a, "steps");
  const testSteps = num(a, "test_steps");
  const dt = num(a, "dt");
  const substeps = num(a, "substeps");
  if ((steps + testSteps) * n > 2e8) {
    throw new DataError(`${callText(name, args)}: ${(steps + testSteps) * n} values requested; the limit is 2e8`);
  }

  const x0 = impl.initialState(a, rng);
  const field = impl.field(a);
  const transient = num(a, "transient");
  const diverged = (offset: number) => (k: number): never => {
    throw new DataError(
      `${callText(name, args)}: the integration diverged at sample ${k + offset} (dt = ${dt}, substeps = ${substeps}); ` +
        "use a smaller dt or more substeps",
    );
  };
  const traj = integrate(field, x0, dt, substeps, transient, steps, diverged(0));

  // Statistics of the clean training part, per dimension.
  const mean = new Array<number>(n).fill(0);
  const std = new Array<number>(n).fill(0);
  for (let t = 0; t < steps; t++) for (let i = 0; i < n; i++) mean[i]! += traj[t * n + i]!;
  for (let i = 0; i < n; i++) mean[i]! /= steps;
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < n; i++) {
      const d = traj[t * n + i]! - mean[i]!;
      std[i]! += d * d;
    }
  }
  for (let i = 0; i < n; i++) std[i] = Math.sqrt(std[i]! / steps);

  const standardize = a["standardize"] === true;
  const scale = std.map((s) => (standardize && s > 0 ? s : 1));
  const shift = standardize ? mean : new Array<number>(n).fill(0);
  // Noise std per dimension, in output units: `noise` × the dimension's std there.
  const outStd = std.map((s, i) => s / scale[i]!);

  const split = (part: Float64Array, count: number, noise: number): NdArray => {
    const data = new Float32Array(count * n);
    for (let t = 0; t < count; t++) {
      for (let i = 0; i < n; i++) {
        let v = (part[t * n + i]! - shift[i]!) / scale[i]!;
        if (noise > 0) v += noise * outStd[i]! * rng.normal();
        data[t * n + i] = v;
      }
    }
    return { dtype: "float32", shape: [count, n], data };
  };
  const train = split(traj, steps, num(a, "noise"));
  // The test split continues the trajectory from the last training sample (the same RK4 steps, so
  // the same numbers). Without test noise it is integrated only when first read: training alone
  // never needs it, and it costs as much as the training part. Test noise is drawn from `rng`
  // after the training noise, so with noise it is made at once, before the caller's next draw.
  const testNoise = num(a, "test_noise");
  const lastTrain = traj.slice((steps - 1) * n, steps * n);
  const makeTest = () => split(integrate(field, lastTrain, dt, substeps, 1, testSteps, diverged(steps + transient - 1)), testSteps, testNoise);
  let test: NdArray | undefined = testNoise > 0 ? makeTest() : undefined;
  return {
    train,
    get test() {
      return (test ??= makeTest());
    },
    meta: { name, dt, args: a, mean, std, standardized: standardize, variables: spec.variables(a) },
  };
}
