// The rnnc IR: plain JSON data, small and printable (in the spirit of JAX's jaxpr).
// Everything the backends and the runtime need is here; nothing downstream reads the AST.
//
// Shapes are per sample: backends add the leading batch axis to every value that depends on
// a state, an input or noise. Values are named by strings; every graph is in SSA form.
import type { NumExpr } from "./numexpr.js";

export const IR_VERSION = 1;

export type Shape = NumExpr[];

/** Source location carried for error messages at run time (e.g. a failed require). */
export interface SrcRef {
  line: number;
  col: number;
}

export type OpName =
  // elementwise binary (NumPy broadcasting)
  | "add" | "sub" | "mul" | "div" | "pow" | "maximum" | "minimum"
  // elementwise unary
  | "neg" | "relu" | "tanh" | "sigmoid" | "softplus" | "exp" | "log" | "sqrt" | "abs" | "square" | "sign"
  | "clip"          // attrs.lo, attrs.hi
  // linear algebra
  | "matmul"        // NumPy matmul semantics (batched over leading axes)
  // structure
  | "slice"         // attrs.axis, attrs.start, attrs.stop (half-open, numbers after dim binding)
  | "concat"        // attrs.axis
  | "reshape"       // to eqn.shape
  | "transpose"     // attrs.perm
  | "broadcast"     // to eqn.shape
  | "reduce_sum" | "reduce_mean" | "reduce_max" | "reduce_min" // attrs.axes, keep rank: false
  // sources
  | "const"         // attrs.value (a scalar number), shape []
  | "eye"           // identity matrix of eqn.shape
  | "noise"         // a standard normal sample of eqn.shape (scaled explicitly by a following mul)
  | "dale_sign"     // +1 for the first round(excitatory * n) entries, -1 for the rest
  // used by derivatives (passes/autodiff.ts)
  | "heaviside"     // 1 where x > 0, attrs.at0 where x == 0, else 0
  | "pad";          // inverse of slice: x placed at attrs.start along attrs.axis in zeros of eqn.shape

export interface Eqn {
  out: string;
  op: OpName;
  args: string[];
  shape: Shape;
  attrs?: Record<string, NumExpr | NumExpr[]>;
  src?: SrcRef;
}

/** A small SSA graph: named inputs, equations, named outputs. */
export interface Graph {
  inputs: string[];
  eqns: Eqn[];
  outputs: Record<string, string>;
}

export type InitSpec =
  | { scheme: "zeros" | "ones" | "identity" | "glorot" | "glorot_normal" | "kaiming" | "orthogonal" | "torch_default" }
  | { scheme: "constant"; value: NumExpr }
  | { scheme: "uniform"; lo: NumExpr; hi: NumExpr }
  | { scheme: "normal"; mean: NumExpr; std: NumExpr }
  /** (I + RᵀR/M) / max|eig|; diag params take the diagonal, others the off-diagonal; `group` shares one draw. */
  | { scheme: "normalized_pd"; group: string }
  /** U(min, max) of a data set (all entries); negate draws from U(-max, -min). */
  | { scheme: "uniform_range"; data: string; negate: boolean };

export type Constraint =
  | { kind: "offdiag" }
  | { kind: "no_autapses" }
  | { kind: "dale"; excitatory: number }
  | { kind: "positive" };

export interface Param {
  name: string;
  /** Stored shape (a diag[M] parameter is stored as [M]). */
  shape: Shape;
  structure: "dense" | "diag";
  init: InitSpec;
  constraints: Constraint[];
  trainable: boolean;
  src?: SrcRef;
}

export type DimSource =
  | { kind: "value"; value: number }
  | { kind: "expr"; expr: NumExpr }
  | { kind: "data"; data: string; field: string };

export interface Dim {
  name: string;
  source: DimSource;
  /** Known value (after checking or dim binding); absent while it depends on data. */
  value?: number;
}

export interface Require {
  lhs: NumExpr;
  op: "==" | "!=" | "<=" | ">=" | "<" | ">";
  rhs: NumExpr;
  text: string;
  src?: SrcRef;
}

export type DataSource =
  | { name: string; kind: "builtin"; generator: string; args: Record<string, number | boolean | string> }
  | { name: string; kind: "file"; path: string; test?: string; args: Record<string, number | boolean | string> };

export interface Input {
  name: string;
  shape: Shape;
  data: string;
  field: string;
}

export interface State {
  name: string;
  shape: Shape;
}

export interface Observation {
  name: string;
  shape: Shape;
}

/** A reference to a data set or one of its fields, e.g. lorenz, task.target. */
export interface DataRef {
  data: string;
  field: string;
}

/** A contiguous range of units of a state: z[:N]. */
export interface UnitRange {
  state: string;
  start: NumExpr;
  stop: NumExpr;
}

export type Forcing =
  | { kind: "none" }
  | { kind: "sparse"; every: number; units: UnitRange; alpha: number }
  | { kind: "gtf"; alpha: number; units: UnitRange }
  | {
      kind: "gtf_adaptive";
      units: UnitRange;
      alpha0: number;
      gamma: number;
      updateEvery: number;
      bound: "product_upper_bound" | "jacobian_upper_bound" | "batch_maximum" | "arithmetic_mean";
    };

export type Optimizer =
  | { kind: "adam" | "radam"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }
  | { kind: "adamw"; lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }
  | { kind: "sgd"; lr: number; momentum: number; nesterov: boolean; weightDecay: number };

export type Schedule =
  | { kind: "constant" }
  | { kind: "exponential"; to: number }
  /** Milestones below 1 are fractions of the run's epochs (the dendPLRNN convention). */
  | { kind: "multistep"; at: number[]; factor: number };

export type Regularizer =
  | { kind: "l2"; lambda: number; params: string[] }
  /** Manifold-attractor regularization on a fraction of the units (A → 1, W → 0, h → 0). */
  | { kind: "mar"; lambda: number; ratio: number; a: string; w: string; h: string };

export interface Loss {
  kind: "mse" | "mae";
  output: string;
  target: DataRef;
  mask?: DataRef;
}

export interface TrainPlan {
  loss: Loss;
  forcing: Forcing;
  teacherNoise: number;
  optimizer: Optimizer;
  schedule: Schedule;
  batchSize: number;
  seqLen: number;
  batchesPerEpoch: number;
  epochs: number;
  clip: { kind: "none" } | { kind: "norm"; max: number } | { kind: "value"; max: number };
  regularize: Regularizer[];
  seed: number;
  /** Where each setting came from: rnnc's default, the spec, or the command line (--set, --epochs, --seed). */
  origin: Record<string, "spec" | "default" | "cli">;
}

export type Measure =
  | { kind: "dstsp"; bins: number; method: "auto" | "bins" | "gmm"; scaling: number }
  | { kind: "dh"; smoothing: number }
  | { kind: "pe"; steps: number };

export interface EvalPlan {
  everyEpochs: number;
  /** Free-running length; null: 1.25 x the test set's length. */
  steps: number | null;
  /** Fraction of the generated run dropped as transient. */
  drop: number;
  from: DataRef;
  measures: Measure[];
  keepBestBy: Measure["kind"] | null;
}

/**
 * The spec's `sweep` block: a grid of settings and a number of runs per grid point. Each value is
 * the source text that `rnnc sweep` passes to a run as `--set key=value`; run r of a point uses the
 * seed base + r.
 */
export interface SweepPlan {
  /** The axes in the order written; the first varies slowest. */
  grid: { key: string; values: string[] }[];
  runs: number;
}

export interface Program {
  irVersion: typeof IR_VERSION;
  model: { name: string; title?: string; file: string };
  dims: Dim[];
  requires: Require[];
  data: DataSource[];
  params: Param[];
  inputs: Input[];
  states: State[];
  observations: Observation[];
  /** Parameter reparameterizations (constraints), computed once per forward: raw params → effective. */
  prelude: Graph;
  /** Initial state: inputs are effective params and observation names bound to the first data sample. */
  init: Graph;
  /** One latent step: inputs are effective params, states, inputs and noise draws. */
  step: Graph;
  /** Observation model: effective params and states → observations. */
  observe: Graph;
  train: TrainPlan | null;
  eval: EvalPlan | null;
  /** Present only when the spec has a sweep block. */
  sweep?: SweepPlan;
}
