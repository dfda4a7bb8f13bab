// Signatures of the built-in data sources the checker knows: their arguments (with defaults and
// ranges) and the fields they expose. Series signatures are read from the runtime's generator
// table (plain data); the task generators copy this table's defaults and a test keeps them in step.
import { GENERATORS } from "../../runtime/data/generators.js";

export type ArgType = "int" | "number" | "bool" | "string";

export interface ArgSpec {
  type: ArgType;
  /** Absent: the runtime derives it (e.g. test_steps defaults to steps). */
  default?: number | boolean | string;
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

/** Series generators: their signatures come from the runtime's table, plus the seed of their data stream. */
function seriesSources(): Record<string, SourceSpec> {
  const out: Record<string, SourceSpec> = {};
  for (const g of Object.values(GENERATORS)) {
    const args: Record<string, ArgSpec> = {};
    for (const p of g.params) {
      const spec: ArgSpec = {
        type: p.type === "float" ? "number" : p.type,
        doc: p.description,
        ...(typeof p.default === "object" ? {} : { default: p.default }),
        ...(p.min !== undefined ? { min: p.exclusiveMin ? p.min + Number.EPSILON : p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
      };
      args[p.name] = spec;
    }
    args["seed"] = { type: "int", default: 0, min: 0, doc: "seed of the initial condition and noise" };
    out[g.name] = {
      kind: "series",
      doc: g.description,
      args,
      sizes: (a) => ({ features: g.features(a as Record<string, number | boolean>) }),
    };
  }
  return out;
}

/** The arguments every task has: trial counts, trial length and the seed of its data stream. */
function taskArgs(trials: number, steps: number, minSteps: number, testTrials: number, stepsDoc = "time steps per trial"): Record<string, ArgSpec> {
  return {
    trials: { type: "int", default: trials, min: 1, doc: "trials in the training set" },
    steps: { type: "int", default: steps, min: minSteps, doc: stepsDoc },
    test_trials: { type: "int", default: testTrials, min: 1, doc: "trials in the test set" },
    seed: { type: "int", default: 0, min: 0, doc: "seed" },
  };
}

export const SOURCES: Record<string, SourceSpec> = {
  ...seriesSources(),
  flipflop: {
    kind: "task",
    doc: "N-bit flip-flop: pulses of ±1 per channel; the target holds the last pulse",
    args: {
      ...taskArgs(512, 200, 2, 128),
      bits: { type: "int", default: 3, min: 1, doc: "channels" },
      pulse_prob: { type: "number", default: 0.05, min: 0, max: 1, doc: "probability of a pulse per step and channel" },
      pulses: { type: "int", default: 0, min: 0, doc: "if > 0: this many +1 and as many -1 pulse times per channel, placed as pyrnn does (pulse_prob unused)" },
    },
    sizes: (a) => ({ inputs: Number(a["bits"]), targets: Number(a["bits"]) }),
  },
  angular_integrator: {
    kind: "task",
    doc: "integrate angular velocities; the target is the wrapped angle / pi",
    args: {
      ...taskArgs(256, 100, 2, 64),
      channels: { type: "int", default: 2, min: 1, doc: "independent channels" },
      speed: { type: "number", default: 0.3, min: 0, doc: "absolute angular speed" },
      switch_prob: { type: "number", default: 0.05, min: 0, max: 1, doc: "probability of redrawing the speed per step" },
      input_noise: { type: "number", default: 0.01, min: 0, doc: "noise std added to the inputs" },
    },
    sizes: (a) => ({ inputs: Number(a["channels"]), targets: Number(a["channels"]) }),
  },
  sine_mix: {
    kind: "task",
    doc: "sequence-to-one: a sum of three sines; the target is the mean of the next 10 samples",
    args: {
      ...taskArgs(800, 50, 2, 200, "sequence length"),
      noise: { type: "number", default: 0.1, min: 0, doc: "noise std" },
    },
    sizes: () => ({ inputs: 1, targets: 1 }),
  },
  delay_memory: {
    kind: "task",
    doc: "sequence-to-one memory: recall the sum of a short symbol sequence at a marker",
    args: {
      ...taskArgs(800, 50, 12, 200, "sequence length (the recall marker sits 5 steps before the end)"),
      vocab: { type: "int", default: 8, min: 2, doc: "symbols 1..vocab-1" },
    },
    sizes: () => ({ inputs: 1, targets: 1 }),
  },
  lorenz_seq2one: {
    kind: "task",
    doc: "sequence-to-one: the x-coordinate of a Lorenz run; the target is the mean x of the next 10 steps",
    args: {
      ...taskArgs(800, 50, 2, 200, "sequence length"),
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
