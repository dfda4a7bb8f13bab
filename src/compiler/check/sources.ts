// Signatures of the built-in data sources the checker knows: their arguments (with defaults and
// ranges) and the fields they expose. The runtime's generators implement the same names; a test
// keeps the two tables in step.

export type ArgType = "int" | "number" | "bool" | "string";

export interface ArgSpec {
  type: ArgType;
  default: number | boolean | string;
  min?: number;
  max?: number;
  doc: string;
}

export interface SourceSpec {
  kind: "series" | "task";
  doc: string;
  args: Record<string, ArgSpec>;
  /** Static sizes of the data set's dims given its arguments. */
  sizes: (args: Record<string, number | boolean | string>) => Record<string, number>;
}

const seriesArgs = (dt: number, transient: number): Record<string, ArgSpec> => ({
  steps: { type: "int", default: 100000, min: 10, doc: "samples in the training trajectory" },
  test_steps: { type: "int", default: 100000, min: 10, doc: "samples in the test trajectory (a separate continuation)" },
  dt: { type: "number", default: dt, min: 1e-6, doc: "sampling interval (RK4 step)" },
  transient: { type: "int", default: transient, min: 0, doc: "initial samples discarded" },
  standardize: { type: "bool", default: true, doc: "z-score every dimension with the training statistics" },
  noise: { type: "number", default: 0, min: 0, doc: "observation noise std, relative to each dimension's std" },
  seed: { type: "int", default: 0, min: 0, doc: "seed of the initial condition and noise" },
});

export const SOURCES: Record<string, SourceSpec> = {
  lorenz63: {
    kind: "series",
    doc: "Lorenz-63 (sigma 10, rho 28, beta 8/3)",
    args: seriesArgs(0.01, 1000),
    sizes: () => ({ features: 3 }),
  },
  rossler: {
    kind: "series",
    doc: "Rössler (a 0.2, b 0.2, c 5.7)",
    args: seriesArgs(0.05, 1000),
    sizes: () => ({ features: 3 }),
  },
  lorenz96: {
    kind: "series",
    doc: "Lorenz-96 with n variables and forcing F",
    args: {
      ...seriesArgs(0.01, 1000),
      n: { type: "int", default: 10, min: 4, doc: "number of variables" },
      forcing: { type: "number", default: 8, doc: "forcing F" },
    },
    sizes: (a) => ({ features: Number(a["n"]) }),
  },
  bursting_neuron: {
    kind: "series",
    doc: "Hindmarsh-Rose bursting neuron (3 variables)",
    args: seriesArgs(0.05, 2000),
    sizes: () => ({ features: 3 }),
  },
  flipflop: {
    kind: "task",
    doc: "N-bit flip-flop: pulses of ±1 per channel; the target holds the last pulse",
    args: {
      bits: { type: "int", default: 3, min: 1, doc: "channels" },
      trials: { type: "int", default: 512, min: 1, doc: "trials in the training set" },
      steps: { type: "int", default: 200, min: 2, doc: "time steps per trial" },
      pulse_prob: { type: "number", default: 0.05, min: 0, max: 1, doc: "probability of a pulse per step and channel" },
      test_trials: { type: "int", default: 128, min: 1, doc: "trials in the test set" },
      seed: { type: "int", default: 0, min: 0, doc: "seed" },
    },
    sizes: (a) => ({ inputs: Number(a["bits"]), targets: Number(a["bits"]) }),
  },
  angular_integrator: {
    kind: "task",
    doc: "integrate angular velocities; the target is the wrapped angle / pi",
    args: {
      channels: { type: "int", default: 2, min: 1, doc: "independent channels" },
      trials: { type: "int", default: 256, min: 1, doc: "trials" },
      steps: { type: "int", default: 100, min: 2, doc: "time steps per trial" },
      speed: { type: "number", default: 0.3, min: 0, doc: "absolute angular speed" },
      switch_prob: { type: "number", default: 0.05, min: 0, max: 1, doc: "probability of redrawing the speed per step" },
      input_noise: { type: "number", default: 0.01, min: 0, doc: "noise std added to the inputs" },
      test_trials: { type: "int", default: 64, min: 1, doc: "trials in the test set" },
      seed: { type: "int", default: 0, min: 0, doc: "seed" },
    },
    sizes: (a) => ({ inputs: Number(a["channels"]), targets: Number(a["channels"]) }),
  },
  sine_mix: {
    kind: "task",
    doc: "sequence-to-one: a sum of three sines; the target is the mean of the next 10 samples",
    args: {
      trials: { type: "int", default: 800, min: 1, doc: "trials" },
      steps: { type: "int", default: 50, min: 2, doc: "sequence length" },
      noise: { type: "number", default: 0.1, min: 0, doc: "noise std" },
      test_trials: { type: "int", default: 200, min: 1, doc: "trials in the test set" },
      seed: { type: "int", default: 0, min: 0, doc: "seed" },
    },
    sizes: () => ({ inputs: 1, targets: 1 }),
  },
  delay_memory: {
    kind: "task",
    doc: "sequence-to-one memory: recall the sum of a short symbol sequence at a marker",
    args: {
      trials: { type: "int", default: 800, min: 1, doc: "trials" },
      steps: { type: "int", default: 50, min: 10, doc: "sequence length" },
      vocab: { type: "int", default: 8, min: 2, doc: "symbols 1..vocab-1" },
      test_trials: { type: "int", default: 200, min: 1, doc: "trials in the test set" },
      seed: { type: "int", default: 0, min: 0, doc: "seed" },
    },
    sizes: () => ({ inputs: 1, targets: 1 }),
  },
  lorenz_seq2one: {
    kind: "task",
    doc: "sequence-to-one: the x-coordinate of a Lorenz run; the target is the mean x of the next 10 steps",
    args: {
      trials: { type: "int", default: 800, min: 1, doc: "trials" },
      steps: { type: "int", default: 50, min: 2, doc: "sequence length" },
      test_trials: { type: "int", default: 200, min: 1, doc: "trials in the test set" },
      seed: { type: "int", default: 0, min: 0, doc: "seed" },
    },
    sizes: () => ({ inputs: 1, targets: 1 }),
  },
};

export const FILE_ARGS: Record<string, ArgSpec> = {
  test: { type: "string", default: "", doc: "a separate test file" },
  split: { type: "number", default: 0, min: 0, max: 0.99, doc: "fraction of the file held out as test data (when no test file)" },
  member: { type: "string", default: "", doc: "member of an .npz archive" },
  standardize: { type: "bool", default: false, doc: "z-score every dimension with the training statistics" },
};

/** Fields of a data set by kind: dims (sizes) and data references. */
export const FIELDS = {
  series: { dims: ["features"], refs: ["train", "test"] },
  task: { dims: ["inputs", "targets"], refs: ["input", "target", "mask", "test"] },
} as const;
