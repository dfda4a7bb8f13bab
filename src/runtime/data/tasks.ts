/**
 * Built-in supervised, input-driven tasks (`data t = builtin.flipflop(bits = 3, ...)`).
 *
 * A task is a set of trials: input [S, T, I], target [S, T, O] and mask [S, T, O] (1 where the
 * loss counts, else 0), all float32. `generateTask` returns a training split of `trials` trials
 * and a test split of `test_trials` trials drawn *after* the training trials from the same RNG,
 * so the two splits are independent draws of the same distribution.
 *
 * | task               | I        | O        | mask            | reference                                         |
 * |--------------------|----------|----------|-----------------|---------------------------------------------------|
 * | flipflop           | bits     | bits     | all ones        | pyrnn `ThreeBitDataset` (FedeClaudi/pyrnn)        |
 * | angular_integrator | channels | channels | all ones        | pyrnn `IntegratorDataset` (commit e8349bb)        |
 * | sine_mix           | 1        | 1        | last step only  | DIRU `SineWaveDataset` (alecrimi/DIRU)            |
 * | delay_memory       | 1        | 1        | last step only  | DIRU `MemoryTaskDataset`                          |
 * | lorenz_seq2one     | 1        | 1        | last step only  | DIRU `NonlinearDynamicsDataset`                   |
 *
 * The exact definitions (and the conventions chosen where the references leave room) are in the
 * JSDoc of each generator below. Common conventions:
 *
 *  - Randomness: every draw comes from the caller's `Rng`, in a fixed documented order (trial by
 *    trial, training trials first, then test trials), so the same RNG state and arguments give
 *    the same data bit for bit. Values are computed in float64 and stored as float32.
 *  - The `seed` argument is accepted and validated but not used here: like the series
 *    generators, the caller picks the RNG stream from it (see the report in datasets.ts's
 *    `loadOne`).
 *  - Sequence-to-one tasks (the DIRU ones) put the scalar target at the last time step; the mask
 *    is 1 there and 0 at every other step, where the target is stored as 0.
 *  - Arguments and their defaults mirror the checker's table `SOURCES` in
 *    src/compiler/check/sources.ts (a test keeps the two in step). Missing arguments take their
 *    defaults; unknown names, wrong types and out-of-range values are `DataError`s.
 */
import { DataError } from "./errors.js";
import type { NdArray } from "./npy.js";
import type { Rng } from "./rng-types.js";

/** One split of a task: [S, T, I], [S, T, O], [S, T, O] float32; mask 1 where the loss counts. */
export interface TaskSplit {
  input: NdArray;
  target: NdArray;
  mask: NdArray;
}

/** Argument values as the compiler hands them over. */
export type TaskArgs = Record<string, number | boolean | string>;

/** A built-in task, described as data. */
export interface TaskSpec {
  name: string;
  description: string;
  /** Where the definition comes from. */
  reference: string;
  /** Input channels I for (possibly partial) arguments. */
  inputs(args: TaskArgs): number;
  /** Target channels O for (possibly partial) arguments. */
  targets(args: TaskArgs): number;
}

/** One argument of a task (the same shape as the checker's `ArgSpec`, minus the doc). */
export interface TaskArgSpec {
  type: "int" | "number" | "bool" | "string";
  default: number | boolean | string;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
}

// ---------------------------------------------------------------------------------------------
// Argument tables (copied from src/compiler/check/sources.ts; test/runtime/data/tasks.test.ts
// fails if they drift apart)
// ---------------------------------------------------------------------------------------------

const int = (d: number, min?: number, max?: number): TaskArgSpec => ({ type: "int", default: d, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const num = (d: number, min?: number, max?: number): TaskArgSpec => ({ type: "number", default: d, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });

/** Arguments of every task, with their defaults and inclusive ranges. */
export const TASK_ARGS: Readonly<Record<string, Readonly<Record<string, TaskArgSpec>>>> = Object.freeze({
  flipflop: {
    bits: int(3, 1),
    trials: int(512, 1),
    steps: int(200, 2),
    pulse_prob: num(0.05, 0, 1),
    pulses: int(0, 0),
    test_trials: int(128, 1),
    seed: int(0, 0),
  },
  angular_integrator: {
    channels: int(2, 1),
    trials: int(256, 1),
    steps: int(100, 2),
    speed: num(0.3, 0),
    switch_prob: num(0.05, 0, 1),
    input_noise: num(0.01, 0),
    test_trials: int(64, 1),
    seed: int(0, 0),
  },
  sine_mix: {
    trials: int(800, 1),
    steps: int(50, 2),
    noise: num(0.1, 0),
    test_trials: int(200, 1),
    seed: int(0, 0),
  },
  delay_memory: {
    trials: int(800, 1),
    steps: int(50, 12),
    vocab: int(8, 2),
    test_trials: int(200, 1),
    seed: int(0, 0),
  },
  lorenz_seq2one: {
    trials: int(800, 1),
    steps: int(50, 2),
    test_trials: int(200, 1),
    seed: int(0, 0),
  },
});

/** The largest number of elements one array of a split may have (a guard against typos). */
export const MAX_TASK_ELEMENTS = 50_000_000;

/** Fixed constants of the reference definitions that the argument tables do not expose. */
export const TASK_CONSTANTS = Object.freeze({
  /** sine_mix / lorenz_seq2one: the target is the mean of this many samples after the input. */
  horizon: 10,
  /** sine_mix: the three frequency ranges (uniform) and amplitudes; t = linspace(0, 4π, steps + 10). */
  sineFrequencies: [
    [0.5, 2.0],
    [3.0, 5.0],
    [7.0, 10.0],
  ] as const,
  sineAmplitudes: [1, 0.5, 0.25] as const,
  sineSpan: 4 * Math.PI,
  /** delay_memory: the symbol-sequence length L is uniform on [minLength, maxLength] (numpy randint(3, 8)). */
  memoryMinLength: 3,
  memoryMaxLength: 7,
  /** delay_memory: the recall marker sits this many steps before the end (index steps − 5). */
  memoryMarkerOffset: 5,
  /** lorenz_seq2one: Lorenz-63 parameters, explicit-Euler step and initial-state scale. */
  lorenz: { sigma: 10, rho: 28, beta: 8 / 3, dt: 0.01, x0Scale: 5 },
});

/** Resolve (partial) arguments against a task's table: defaults for missing ones, then checks. */
export function resolveTaskArgs(name: string, args: TaskArgs): Record<string, number> {
  const table = TASK_ARGS[name];
  if (!table) throw new DataError(`unknown built-in task '${name}' (tasks: ${Object.keys(TASK_ARGS).join(", ")})`);
  const what = `builtin.${name}`;
  for (const k of Object.keys(args)) {
    if (!(k in table)) throw new DataError(`${what} has no argument '${k}' (it takes: ${Object.keys(table).join(", ")})`);
  }
  const out: Record<string, number> = {};
  for (const [k, s] of Object.entries(table)) {
    const v = args[k] ?? s.default;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new DataError(`${what}: '${k}' must be ${s.type === "int" ? "an integer" : "a finite number"}, got ${JSON.stringify(v)}`);
    }
    if (s.type === "int" && !Number.isInteger(v)) throw new DataError(`${what}: '${k}' must be an integer, got ${v}`);
    if (s.min !== undefined && v < s.min) throw new DataError(`${what}: '${k}' must be >= ${s.min}, got ${v}`);
    if (s.max !== undefined && v > s.max) throw new DataError(`${what}: '${k}' must be <= ${s.max}, got ${v}`);
    out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function array(shape: number[], fill = 0): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  if (fill !== 0) data.fill(fill);
  return { dtype: "float32", shape, data };
}

function emptySplit(S: number, T: number, I: number, O: number, maskFill: number): TaskSplit {
  return { input: array([S, T, I]), target: array([S, T, O]), mask: array([S, T, O], maskFill) };
}

/** A uniform integer in [lo, hi] (inclusive). */
function randint(rng: Rng, lo: number, hi: number): number {
  return lo + Math.min(hi - lo, Math.floor(rng.uniform() * (hi - lo + 1)));
}

/** Sequence-to-one split: target 0 and mask 0 everywhere except at the last step. */
function seq2oneSplit(S: number, T: number): TaskSplit {
  const sp = emptySplit(S, T, 1, 1, 0);
  for (let s = 0; s < S; s++) sp.mask.data[s * T + T - 1] = 1;
  return sp;
}

// ---------------------------------------------------------------------------------------------
// The generators
// ---------------------------------------------------------------------------------------------

/**
 * N-bit flip-flop (pyrnn's `ThreeBitDataset`, generalised to `bits` channels).
 *
 * Per trial and channel: the input is +1 at step 0 (pyrnn's convention `X[0] = 1`, so the held
 * state, and the target, start at +1 and are never 0). Pulses last one sample; the input is 0
 * elsewhere. The target is the sign of the most recent pulse, including a pulse at the current
 * step (sample and hold). Mask: all ones. Two ways to place the pulses:
 *
 *  - `pulses = 0` (default): at every step t = 1..steps−1 a pulse occurs with probability
 *    `pulse_prob`, with sign +1 or −1 with equal probability (a Bernoulli stream, as
 *    FixedPointFinder's `FlipFlopData`, whose pulse at t = 0 has a random sign instead). Draws,
 *    per trial, channel by channel, step by step (t ≥ 1): one uniform (pulse?), and when a pulse
 *    occurs a second uniform (sign: < 0.5 → +1, else −1).
 *  - `pulses = k > 0`: exactly pyrnn's placement (neuro-anchors §1.3): k "+1" times, then k "−1"
 *    times, each int(U(1, steps − 1)), i.e. uniform on 1..steps−2; a "−1" overwrites a "+1" at the
 *    same time. pyrnn uses k = ⌊steps / 200⌋ (10 for its 2048-step example). `pulse_prob` is not
 *    used. Draws, per trial, channel by channel: k uniforms (the "+1" times), then k uniforms.
 */
function flipflop(a: Record<string, number>, S: number, rng: Rng): TaskSplit {
  const B = a["bits"]!;
  const T = a["steps"]!;
  const p = a["pulse_prob"]!;
  const fixedPulses = a["pulses"]!;
  const sp = emptySplit(S, T, B, B, 1);
  const x = sp.input.data;
  const y = sp.target.data;
  for (let s = 0; s < S; s++) {
    for (let c = 0; c < B; c++) {
      const base = s * T * B + c;
      x[base] = 1;
      if (fixedPulses > 0) {
        // int(U(1, T − 1)) in float64; T = 2 leaves no room for pulses (times would be 1 = T − 1).
        const time = () => Math.floor(1 + (T - 2) * rng.uniform());
        for (const sign of [1, -1]) {
          for (let k = 0; k < fixedPulses; k++) {
            const t = time();
            if (t >= 1 && t <= T - 2) x[base + t * B] = sign;
          }
        }
      } else {
        for (let t = 1; t < T; t++) {
          if (rng.uniform() < p) x[base + t * B] = rng.uniform() < 0.5 ? 1 : -1;
        }
      }
      let state = 1;
      for (let t = 0; t < T; t++) {
        const i = base + t * B;
        if (x[i] !== 0) state = x[i]!;
        y[i] = state;
      }
    }
  }
  return sp;
}

/**
 * Angular-velocity integrator (pyrnn's `IntegratorDataset`, last version in commit e8349bb,
 * `_mk` per channel), with the speed set {−speed, +speed} and the noise std `input_noise`
 * exposed as arguments (pyrnn: 0.3 and 0.01, the defaults here).
 *
 * Per trial and channel, independently: s is drawn from {−speed, +speed} with equal probability;
 * then at every step t = 0..steps−1, with probability `switch_prob` s is redrawn from the same set
 * (so it may keep its value), and s_t = s. The target is y_t = atan2(sin θ_t, cos θ_t) / π ∈
 * (−1, 1] with θ_t = Σ_{u ≤ t} s_u (an inclusive cumulative sum, as numpy's cumsum). The input
 * is x_t = s_t + input_noise · N(0, 1); the noise is added after the target is computed, so the
 * target integrates the clean speeds. Mask: all ones.
 *
 * Draws, per trial, channel by channel: one uniform for the initial speed (< 0.5 → −speed);
 * per step one uniform (switch?) and, on a switch, one uniform for the new speed; then `steps`
 * normals for the noise (always drawn, also when input_noise = 0, so the stream does not depend
 * on the noise level).
 */
function angularIntegrator(a: Record<string, number>, S: number, rng: Rng): TaskSplit {
  const C = a["channels"]!;
  const T = a["steps"]!;
  const v = a["speed"]!;
  const p = a["switch_prob"]!;
  const noise = a["input_noise"]!;
  const sp = emptySplit(S, T, C, C, 1);
  const x = sp.input.data;
  const y = sp.target.data;
  const speeds = new Float64Array(T);
  for (let s = 0; s < S; s++) {
    for (let c = 0; c < C; c++) {
      const base = s * T * C + c;
      let speed = rng.uniform() < 0.5 ? -v : v;
      let theta = 0;
      for (let t = 0; t < T; t++) {
        if (rng.uniform() < p) speed = rng.uniform() < 0.5 ? -v : v;
        speeds[t] = speed;
        theta += speed;
        y[base + t * C] = Math.atan2(Math.sin(theta), Math.cos(theta)) / Math.PI;
      }
      for (let t = 0; t < T; t++) x[base + t * C] = speeds[t]! + noise * rng.normal();
    }
  }
  return sp;
}

/**
 * One sine_mix trial's full signal: `steps + 10` samples of
 * s(t) = sin f₁t + 0.5 sin f₂t + 0.25 sin f₃t + noise · N(0, 1) at t = linspace(0, 4π, steps + 10),
 * with f₁ ~ U(0.5, 2), f₂ ~ U(3, 5), f₃ ~ U(7, 10) (DIRU's `SineWaveDataset`, no phases).
 * The first `steps` samples are the input, the mean of the last 10 the target.
 *
 * Draws: three uniforms (f₁, f₂, f₃), then `steps + 10` normals (always drawn, also when
 * noise = 0). Exported so tests can regenerate a trial.
 */
export function sineMixSignal(rng: Rng, steps: number, noise: number): Float64Array {
  const n = steps + TASK_CONSTANTS.horizon;
  const f = TASK_CONSTANTS.sineFrequencies.map(([lo, hi]) => lo + (hi - lo) * rng.uniform());
  const [a1, a2, a3] = TASK_CONSTANTS.sineAmplitudes;
  const dt = TASK_CONSTANTS.sineSpan / (n - 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = i === n - 1 ? TASK_CONSTANTS.sineSpan : i * dt; // numpy.linspace sets the end point exactly
    out[i] = a1 * Math.sin(f[0]! * t) + a2 * Math.sin(f[1]! * t) + a3 * Math.sin(f[2]! * t);
  }
  for (let i = 0; i < n; i++) out[i]! += noise * rng.normal();
  return out;
}

/**
 * Multi-frequency sine, sequence to one (DIRU's `SineWaveDataset`, noise std exposed as `noise`,
 * reference 0.1). Per trial: the signal of `sineMixSignal`; input [steps, 1] = its first `steps`
 * samples; target = the mean of the following 10 samples (noise included, as in DIRU), stored
 * at the last step with mask 1 there; target and mask are 0 at the other steps.
 */
function sineMix(a: Record<string, number>, S: number, rng: Rng): TaskSplit {
  const T = a["steps"]!;
  const H = TASK_CONSTANTS.horizon;
  const sp = seq2oneSplit(S, T);
  for (let s = 0; s < S; s++) {
    const sig = sineMixSignal(rng, T, a["noise"]!);
    for (let t = 0; t < T; t++) sp.input.data[s * T + t] = sig[t]!;
    let m = 0;
    for (let k = 0; k < H; k++) m += sig[T + k]!;
    sp.target.data[s * T + T - 1] = m / H;
  }
  return sp;
}

/**
 * Variable-length memory, sequence to one (DIRU's `MemoryTaskDataset`).
 *
 * Per trial: L ~ uniform integer in 3..7 (numpy randint(3, 8)); symbols ~ uniform integers in
 * 1..vocab−1 (randint(1, vocab)); input [steps, 1] is 0 except x[0..L−1] = the symbols and the
 * recall marker x[steps − 5] = vocab. Target: the sum of the symbols, at the last step (mask 1
 * there, target and mask 0 elsewhere). Raw integer values, no scaling, as in DIRU.
 *
 * As in DIRU, the marker is written after the symbols: for steps < 12 (the checker allows
 * steps ≥ 10) it can overwrite one of the symbols, while the target still sums them all.
 *
 * Draws, per trial: one uniform (L), then L uniforms (the symbols).
 */
function delayMemory(a: Record<string, number>, S: number, rng: Rng): TaskSplit {
  const T = a["steps"]!;
  const vocab = a["vocab"]!;
  const sp = seq2oneSplit(S, T);
  for (let s = 0; s < S; s++) {
    const L = randint(rng, TASK_CONSTANTS.memoryMinLength, TASK_CONSTANTS.memoryMaxLength);
    let sum = 0;
    for (let t = 0; t < L; t++) {
      const sym = randint(rng, 1, vocab - 1);
      sum += sym;
      if (t < T) sp.input.data[s * T + t] = sym;
    }
    sp.input.data[s * T + T - TASK_CONSTANTS.memoryMarkerOffset] = vocab;
    sp.target.data[s * T + T - 1] = sum;
  }
  return sp;
}

/**
 * One lorenz_seq2one trajectory: `length` states [length, 3] (row-major x, y, z) of Lorenz-63
 * (σ 10, ρ 28, β 8/3) under explicit Euler with dt 0.01, the first row being the initial state
 * 5 · (N, N, N) (three normals, in the order x, y, z), each further row one Euler step
 * (all three derivatives from the previous state), as DIRU's `lorenz_step`. Exported for tests.
 */
export function lorenzEulerTrajectory(rng: Rng, length: number): Float64Array {
  const { sigma, rho, beta, dt, x0Scale } = TASK_CONSTANTS.lorenz;
  let x = x0Scale * rng.normal();
  let y = x0Scale * rng.normal();
  let z = x0Scale * rng.normal();
  const out = new Float64Array(length * 3);
  for (let i = 0; i < length; i++) {
    out[3 * i] = x;
    out[3 * i + 1] = y;
    out[3 * i + 2] = z;
    const dx = sigma * (y - x) * dt;
    const dy = (x * (rho - z) - y) * dt;
    const dz = (x * y - beta * z) * dt;
    x += dx;
    y += dy;
    z += dz;
  }
  return out;
}

/**
 * Chaotic dynamics, sequence to one (DIRU's `NonlinearDynamicsDataset`). Per trial: a trajectory
 * of steps + 10 states from `lorenzEulerTrajectory` (no transient, as in DIRU); input [steps, 1] =
 * the x-coordinate of the first `steps` states (initial state included); target = the mean x of
 * the next 10 states, at the last step (mask 1 there, target and mask 0 elsewhere). Unscaled.
 */
function lorenzSeq2One(a: Record<string, number>, S: number, rng: Rng): TaskSplit {
  const T = a["steps"]!;
  const H = TASK_CONSTANTS.horizon;
  const sp = seq2oneSplit(S, T);
  for (let s = 0; s < S; s++) {
    const traj = lorenzEulerTrajectory(rng, T + H);
    for (let t = 0; t < T; t++) sp.input.data[s * T + t] = traj[3 * t]!;
    let m = 0;
    for (let k = 0; k < H; k++) m += traj[3 * (T + k)]!;
    const target = m / H;
    if (!Number.isFinite(target) || !Number.isFinite(traj[3 * (T - 1)]!)) {
      throw new DataError(`builtin.lorenz_seq2one: the Euler trajectory diverged (steps = ${T}); use fewer steps`);
    }
    sp.target.data[s * T + T - 1] = target;
  }
  return sp;
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

type Generator = (a: Record<string, number>, trials: number, rng: Rng) => TaskSplit;

const GENERATORS: Record<string, Generator> = {
  flipflop,
  angular_integrator: angularIntegrator,
  sine_mix: sineMix,
  delay_memory: delayMemory,
  lorenz_seq2one: lorenzSeq2One,
};

const spec = (name: string, description: string, reference: string, io: (a: Record<string, number>) => [number, number]): TaskSpec => ({
  name,
  description,
  reference,
  inputs: (args) => io(resolveTaskArgs(name, args))[0],
  targets: (args) => io(resolveTaskArgs(name, args))[1],
});

/** The built-in tasks by name. */
export const TASKS: Readonly<Record<string, TaskSpec>> = Object.freeze({
  flipflop: spec(
    "flipflop",
    "N-bit flip-flop: ±1 pulses per channel; the target holds the last pulse (starts at +1)",
    "FedeClaudi/pyrnn examples/three_bit_memory.py ThreeBitDataset (neuro-anchors §1.3)",
    (a) => [a["bits"]!, a["bits"]!],
  ),
  angular_integrator: spec(
    "angular_integrator",
    "integrate ±speed angular velocities per channel; the target is the wrapped angle / pi",
    "FedeClaudi/pyrnn examples/tasks/integrator.py IntegratorDataset @ e8349bb (neuro-anchors §1.3)",
    (a) => [a["channels"]!, a["channels"]!],
  ),
  sine_mix: spec(
    "sine_mix",
    "sequence-to-one: a sum of three sines; the target is the mean of the next 10 samples",
    "alecrimi/DIRU dendrite_rnn.py SineWaveDataset (neuro-anchors §4.2)",
    () => [1, 1],
  ),
  delay_memory: spec(
    "delay_memory",
    "sequence-to-one memory: 3-7 symbols, a recall marker at steps-5; the target is their sum",
    "alecrimi/DIRU dendrite_rnn.py MemoryTaskDataset (neuro-anchors §4.2)",
    () => [1, 1],
  ),
  lorenz_seq2one: spec(
    "lorenz_seq2one",
    "sequence-to-one: the x-coordinate of a Lorenz run (Euler, dt 0.01); the target is the mean x of the next 10 steps",
    "alecrimi/DIRU dendrite_rnn.py NonlinearDynamicsDataset (neuro-anchors §4.2)",
    () => [1, 1],
  ),
});

/**
 * Generate a built-in task: `trials` training trials, then `test_trials` test trials from the
 * same RNG. `args` may be partial (defaults from `TASK_ARGS`); bad names or values are
 * `DataError`s.
 */
export function generateTask(name: string, args: TaskArgs, rng: Rng): { train: TaskSplit; test: TaskSplit } {
  const a = resolveTaskArgs(name, args);
  const gen = GENERATORS[name]!;
  const task = TASKS[name]!;
  const width = Math.max(task.inputs(a), task.targets(a));
  const T = a["steps"]!;
  for (const k of ["trials", "test_trials"]) {
    const n = a[k]! * T * width;
    if (n > MAX_TASK_ELEMENTS) {
      throw new DataError(`builtin.${name}: ${k} × steps × channels = ${n} values is more than the limit of ${MAX_TASK_ELEMENTS}`);
    }
  }
  const train = gen(a, a["trials"]!, rng);
  const test = gen(a, a["test_trials"]!, rng);
  return { train, test };
}
