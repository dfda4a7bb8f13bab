/**
 * Optimizers over tfjs Variables with explicit, serialisable state, following PyTorch's update
 * rules exactly (torch.optim.Adam, AdamW, RAdam, SGD; see each class), so runs can be compared
 * with the PyTorch reference trainers and checkpoints can store and restore every slot.
 *
 * Why not tf.train.*: tfjs optimizers differ from PyTorch (e.g. epsilon placement), have no
 * RAdam, no decoupled weight decay, and their state is not exposed for exact resume.
 *
 * Conventions
 * - Slots carry PyTorch's names: `exp_avg`, `exp_avg_sq`, `momentum_buffer`.
 * - Step counts are per parameter (PyTorch's `state[p]["step"]`): a parameter with no gradient in
 *   a step is not updated and its count does not advance.
 * - Scalars (bias corrections, the RAdam rectification) are computed in float64 in JS and enter
 *   the float32 tensor arithmetic once.
 * - All tensor work runs inside tf.tidy; only the slot variables persist (dispose() frees them).
 */
import * as tf from "@tensorflow/tfjs";

export type OptimizerKind = "adam" | "adamw" | "radam" | "sgd";

/**
 * An ensemble's learning rates: member m owns elements [m * segment, (m + 1) * segment) of every
 * variable. Each scalar the rate enters is computed per member in float64 and enters the float32
 * arithmetic once, exactly as a single run's scalar does.
 */
export interface MemberRates {
  rates: readonly number[];
  segment: number;
}
export type LearningRate = number | MemberRates;

/** f(lr) as the update's factor: a number for one rate, a per-element tensor for an ensemble's. */
function rateFactor(lr: LearningRate, f: (lr: number) => number): number | tf.Tensor {
  if (typeof lr === "number") return f(lr);
  const out = new Float32Array(lr.rates.length * lr.segment);
  lr.rates.forEach((r, m) => out.fill(f(r), m * lr.segment, (m + 1) * lr.segment));
  return tf.tensor1d(out);
}

export interface AdamConfig {
  kind: "adam";
  beta1?: number; // default 0.9
  beta2?: number; // default 0.999
  eps?: number; // default 1e-8
  /** L2 penalty added to the gradient (PyTorch Adam's weight_decay); default 0. */
  weightDecay?: number;
}
export interface AdamWConfig {
  kind: "adamw";
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled decay θ ← θ(1 − lr·λ) before the Adam step; default 1e-2 as in PyTorch. */
  weightDecay?: number;
}
export interface RAdamConfig {
  kind: "radam";
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number; // default 0
  /** PyTorch's decoupled_weight_decay flag: AdamW-style decay instead of L2 in the gradient. */
  decoupledWeightDecay?: boolean;
}
export interface SgdConfig {
  kind: "sgd";
  momentum?: number; // default 0
  dampening?: number; // default 0
  nesterov?: boolean; // default false; needs momentum > 0 and dampening 0
  weightDecay?: number; // default 0, L2 in the gradient
}
export type OptimizerConfig = AdamConfig | AdamWConfig | RAdamConfig | SgdConfig;

/** One slot of one parameter, flattened (row-major) in float32. */
export interface OptimizerSlot {
  param: string;
  slot: string;
  shape: number[];
  values: Float32Array;
}

/** Everything needed to resume an optimizer exactly. Plain data (see optimizerStateToJSON). */
export interface OptimizerState {
  kind: OptimizerKind;
  /** The resolved hyper-parameters, for the record (the optimizer's own config wins on resume). */
  hyper: Record<string, number | boolean>;
  /** Number of step() calls. */
  stepCount: number;
  /** Per-parameter update counts (bias corrections use these). */
  paramSteps: Record<string, number>;
  /** Sorted by param, then slot name. */
  slots: OptimizerSlot[];
}

/** JSON form of OptimizerState: slot values as plain number arrays (float32 values round-trip exactly). */
export interface OptimizerStateJSON extends Omit<OptimizerState, "slots"> {
  slots: Array<Omit<OptimizerSlot, "values"> & { values: number[] }>;
}

export type GradMap = ReadonlyMap<string, tf.Tensor>;
export type VarMap = ReadonlyMap<string, tf.Variable>;

export interface Optimizer {
  readonly kind: OptimizerKind;
  /** Resolved hyper-parameters (defaults filled in). */
  readonly hyper: Readonly<Record<string, number | boolean>>;
  /**
   * Update every variable that has a gradient in `grads` (keys are variable names in `vars`).
   * Gradients are not disposed. Throws before changing anything if a gradient has no variable,
   * or shapes/dtypes disagree.
   */
  step(grads: GradMap, vars: VarMap, lr: LearningRate): void;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  dispose(): void;
}

// ---------------------------------------------------------------------------------------------

function checkRange(what: string, v: number, lo: number, hi: number, hiOpen: boolean): void {
  const ok = Number.isFinite(v) && v >= lo && (hiOpen ? v < hi : v <= hi);
  if (!ok) throw new RangeError(`${what} must be in [${lo}, ${hi}${hiOpen ? ")" : "]"}, got ${v}`);
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** Shared slot bookkeeping, validation and (de)serialisation; subclasses supply the update. */
abstract class SlotOptimizer implements Optimizer {
  abstract readonly kind: OptimizerKind;
  abstract readonly hyper: Readonly<Record<string, number | boolean>>;
  /** Slot names this optimizer may hold (for validating restored state). */
  protected abstract readonly slotNames: readonly string[];

  private readonly slots = new Map<string, Map<string, tf.Variable>>();
  private readonly paramSteps = new Map<string, number>();
  private stepCount = 0;

  /** Apply one update to `param` inside a tf.tidy; `t` is this parameter's 1-based step. */
  protected abstract update(name: string, param: tf.Variable, grad: tf.Tensor, t: number, lr: LearningRate): void;

  step(grads: GradMap, vars: VarMap, lr: LearningRate): void {
    for (const r of typeof lr === "number" ? [lr] : lr.rates) if (!Number.isFinite(r) || r < 0) throw new RangeError(`learning rate must be finite and >= 0, got ${r}`);
    for (const [name, g] of grads) {
      const v = vars.get(name);
      if (v === undefined) throw new Error(`optimizer: gradient for unknown variable '${name}'`);
      if (!sameShape(g.shape, v.shape)) {
        throw new Error(`optimizer: gradient for '${name}' has shape [${g.shape}], variable has [${v.shape}]`);
      }
      if (g.dtype !== "float32" || v.dtype !== "float32") {
        throw new Error(`optimizer: '${name}' must be float32 (gradient ${g.dtype}, variable ${v.dtype})`);
      }
      for (const [slot, s] of this.slots.get(name) ?? []) {
        if (!sameShape(s.shape, v.shape)) {
          throw new Error(`optimizer: slot '${slot}' of '${name}' has shape [${s.shape}], variable has [${v.shape}]`);
        }
      }
    }
    this.stepCount++;
    for (const [name, g] of grads) {
      const t = (this.paramSteps.get(name) ?? 0) + 1;
      this.paramSteps.set(name, t);
      const v = vars.get(name)!;
      tf.tidy(() => this.update(name, v, g, t, lr));
    }
  }

  /** The slot variable, or undefined when it does not exist yet. */
  protected getSlot(param: string, slot: string): tf.Variable | undefined {
    return this.slots.get(param)?.get(slot);
  }

  /** Create a (non-trainable) slot variable holding `init`'s value. Call inside tf.tidy. */
  protected createSlot(param: string, slot: string, init: tf.Tensor): tf.Variable {
    let perParam = this.slots.get(param);
    if (perParam === undefined) this.slots.set(param, (perParam = new Map()));
    perParam.get(slot)?.dispose();
    const v = tf.variable(init, false);
    perParam.set(slot, v);
    return v;
  }

  /** The slot, created as zeros shaped like `like` on first use. Call inside tf.tidy. */
  protected zerosSlot(param: string, slot: string, like: tf.Tensor): tf.Variable {
    return this.getSlot(param, slot) ?? this.createSlot(param, slot, tf.zerosLike(like));
  }

  getState(): OptimizerState {
    const slots: OptimizerSlot[] = [];
    for (const param of [...this.slots.keys()].sort()) {
      const perParam = this.slots.get(param)!;
      for (const slot of [...perParam.keys()].sort()) {
        const v = perParam.get(slot)!;
        // Copy: some backends hand out their own storage from dataSync().
        slots.push({ param, slot, shape: [...v.shape], values: Float32Array.from(v.dataSync() as Float32Array) });
      }
    }
    const paramSteps: Record<string, number> = {};
    for (const k of [...this.paramSteps.keys()].sort()) paramSteps[k] = this.paramSteps.get(k)!;
    return { kind: this.kind, hyper: { ...this.hyper }, stepCount: this.stepCount, paramSteps, slots };
  }

  setState(state: OptimizerState): void {
    if (state.kind !== this.kind) throw new Error(`optimizer state is for '${state.kind}', this optimizer is '${this.kind}'`);
    if (!Number.isSafeInteger(state.stepCount) || state.stepCount < 0) throw new Error("optimizer state: bad stepCount");
    for (const [p, t] of Object.entries(state.paramSteps)) {
      if (!Number.isSafeInteger(t) || t < 0) throw new Error(`optimizer state: bad step count for '${p}'`);
    }
    for (const s of state.slots) {
      if (!this.slotNames.includes(s.slot)) throw new Error(`optimizer state: unknown slot '${s.slot}' for ${this.kind}`);
      const size = s.shape.reduce((a, b) => a * b, 1);
      if (s.values.length !== size) {
        throw new Error(`optimizer state: slot '${s.param}/${s.slot}' has ${s.values.length} values for shape [${s.shape}]`);
      }
    }
    this.disposeSlots();
    for (const s of state.slots) {
      // Copy so later changes to the caller's arrays cannot reach the variables.
      tf.tidy(() => this.createSlot(s.param, s.slot, tf.tensor(Float32Array.from(s.values), s.shape, "float32")));
    }
    this.paramSteps.clear();
    for (const [p, t] of Object.entries(state.paramSteps)) this.paramSteps.set(p, t);
    this.stepCount = state.stepCount;
  }

  private disposeSlots(): void {
    for (const perParam of this.slots.values()) for (const v of perParam.values()) v.dispose();
    this.slots.clear();
  }

  dispose(): void {
    this.disposeSlots();
    this.paramSteps.clear();
  }
}

/**
 * Adam and AdamW (torch.optim.Adam / torch.optim.AdamW, amsgrad = False):
 *   Adam:  g ← g + λθ                       AdamW: θ ← θ − γλθ
 *   m ← β1 m + (1−β1) g;   v ← β2 v + (1−β2) g²
 *   θ ← θ − (γ / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
 */
export class Adam extends SlotOptimizer {
  readonly kind: "adam" | "adamw";
  readonly hyper: Readonly<{ beta1: number; beta2: number; eps: number; weightDecay: number }>;
  protected readonly slotNames = ["exp_avg", "exp_avg_sq"] as const;

  constructor(config: Omit<AdamConfig, "kind"> & { kind?: "adam" | "adamw" } = {}) {
    super();
    this.kind = config.kind ?? "adam";
    const hyper = {
      beta1: config.beta1 ?? 0.9,
      beta2: config.beta2 ?? 0.999,
      eps: config.eps ?? 1e-8,
      weightDecay: config.weightDecay ?? (this.kind === "adamw" ? 1e-2 : 0),
    };
    checkBetasEps(this.kind, hyper);
    this.hyper = hyper;
  }

  protected update(name: string, p: tf.Variable, g: tf.Tensor, t: number, lr: LearningRate): void {
    const { beta1, beta2, eps, weightDecay } = this.hyper;
    const m = this.zerosSlot(name, "exp_avg", p);
    const v = this.zerosSlot(name, "exp_avg_sq", p);
    let grad = g;
    let base: tf.Tensor = p;
    if (weightDecay !== 0) {
      if (this.kind === "adamw") base = tf.mul(p, rateFactor(lr, (r) => 1 - r * weightDecay));
      else grad = tf.add(g, tf.mul(p, weightDecay));
    }
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
    const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = 1 - Math.pow(beta2, t);
    const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(bc2)), eps);
    const p1 = tf.sub(base, tf.mul(tf.div(m1, denom), rateFactor(lr, (r) => r / bc1)));
    m.assign(m1);
    v.assign(v1);
    p.assign(p1);
  }
}

/** AdamW with PyTorch's defaults (weight decay 1e-2). */
export class AdamW extends Adam {
  constructor(config: Omit<AdamWConfig, "kind"> = {}) {
    super({ ...config, kind: "adamw" });
  }
}

/**
 * RAdam (torch.optim.RAdam):
 *   g ← g + λθ (or, decoupled, θ ← θ(1 − γλ));   m, v as Adam;   m̂ = m / (1−β1^t)
 *   ρ∞ = 2/(1−β2) − 1;   ρt = ρ∞ − 2tβ2^t / (1−β2^t)
 *   ρt > 5:  θ ← θ − γ m̂ · r_t · √(1−β2^t) / (√v + ε),
 *            r_t = √((ρt−4)(ρt−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρt))
 *   else:    θ ← θ − γ m̂          (un-adapted momentum step; v is still accumulated)
 * Note ε is added to √v before the bias correction here, unlike Adam.
 */
export class RAdam extends SlotOptimizer {
  readonly kind = "radam" as const;
  readonly hyper: Readonly<{ beta1: number; beta2: number; eps: number; weightDecay: number; decoupledWeightDecay: boolean }>;
  protected readonly slotNames = ["exp_avg", "exp_avg_sq"] as const;

  constructor(config: Omit<RAdamConfig, "kind"> = {}) {
    super();
    const hyper = {
      beta1: config.beta1 ?? 0.9,
      beta2: config.beta2 ?? 0.999,
      eps: config.eps ?? 1e-8,
      weightDecay: config.weightDecay ?? 0,
      decoupledWeightDecay: config.decoupledWeightDecay ?? false,
    };
    checkBetasEps("radam", hyper);
    this.hyper = hyper;
  }

  /** ρt and the rectification factor r_t (null while ρt <= 5) for 1-based step t. */
  static rectification(beta2: number, t: number): { rhoInf: number; rhoT: number; rect: number | null } {
    const rhoInf = 2 / (1 - beta2) - 1;
    const bc2 = 1 - Math.pow(beta2, t);
    const rhoT = rhoInf - (2 * t * Math.pow(beta2, t)) / bc2;
    const rect =
      rhoT > 5 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : null;
    return { rhoInf, rhoT, rect };
  }

  protected update(name: string, p: tf.Variable, g: tf.Tensor, t: number, lr: LearningRate): void {
    const { beta1, beta2, eps, weightDecay, decoupledWeightDecay } = this.hyper;
    const m = this.zerosSlot(name, "exp_avg", p);
    const v = this.zerosSlot(name, "exp_avg_sq", p);
    let grad = g;
    let base: tf.Tensor = p;
    if (weightDecay !== 0) {
      if (decoupledWeightDecay) base = tf.mul(p, rateFactor(lr, (r) => 1 - r * weightDecay));
      else grad = tf.add(g, tf.mul(p, weightDecay));
    }
    const m1 = tf.add(tf.mul(m, beta1), tf.mul(grad, 1 - beta1));
    const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(grad), 1 - beta2));
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = 1 - Math.pow(beta2, t);
    const { rect } = RAdam.rectification(beta2, t);
    const p1 =
      rect === null
        ? tf.sub(base, tf.mul(m1, rateFactor(lr, (r) => r / bc1)))
        : tf.sub(base, tf.div(tf.mul(m1, rateFactor(lr, (r) => (r * rect * Math.sqrt(bc2)) / bc1)), tf.add(tf.sqrt(v1), eps)));
    m.assign(m1);
    v.assign(v1);
    p.assign(p1);
  }
}

/**
 * SGD (torch.optim.SGD):
 *   g ← g + λθ
 *   momentum μ ≠ 0:  b ← g on the first step, else b ← μb + (1−τ)g;   g ← g + μb (nesterov) or b
 *   θ ← θ − γg
 */
export class Sgd extends SlotOptimizer {
  readonly kind = "sgd" as const;
  readonly hyper: Readonly<{ momentum: number; dampening: number; nesterov: boolean; weightDecay: number }>;
  protected readonly slotNames = ["momentum_buffer"] as const;

  constructor(config: Omit<SgdConfig, "kind"> = {}) {
    super();
    const hyper = {
      momentum: config.momentum ?? 0,
      dampening: config.dampening ?? 0,
      nesterov: config.nesterov ?? false,
      weightDecay: config.weightDecay ?? 0,
    };
    checkRange("sgd momentum", hyper.momentum, 0, Infinity, true);
    checkRange("sgd dampening", hyper.dampening, 0, 1, false);
    checkRange("sgd weightDecay", hyper.weightDecay, 0, Infinity, true);
    if (hyper.nesterov && (hyper.momentum <= 0 || hyper.dampening !== 0)) {
      throw new RangeError("sgd: nesterov momentum requires momentum > 0 and dampening 0");
    }
    this.hyper = hyper;
  }

  protected update(name: string, p: tf.Variable, g: tf.Tensor, _t: number, lr: LearningRate): void {
    const { momentum, dampening, nesterov, weightDecay } = this.hyper;
    let grad = weightDecay !== 0 ? tf.add(g, tf.mul(p, weightDecay)) : g;
    if (momentum !== 0) {
      const buf = this.getSlot(name, "momentum_buffer");
      let b: tf.Tensor;
      if (buf === undefined) {
        b = tf.clone(grad);
        this.createSlot(name, "momentum_buffer", b);
      } else {
        b = tf.add(tf.mul(buf, momentum), tf.mul(grad, 1 - dampening));
        buf.assign(b);
      }
      grad = nesterov ? tf.add(grad, tf.mul(b, momentum)) : b;
    }
    p.assign(tf.sub(p, tf.mul(grad, rateFactor(lr, (r) => r))));
  }
}

function checkBetasEps(kind: string, h: { beta1: number; beta2: number; eps: number; weightDecay: number }): void {
  checkRange(`${kind} beta1`, h.beta1, 0, 1, true);
  checkRange(`${kind} beta2`, h.beta2, 0, 1, true);
  checkRange(`${kind} eps`, h.eps, 0, Infinity, true);
  checkRange(`${kind} weightDecay`, h.weightDecay, 0, Infinity, true);
}

/** Build an optimizer from its config (the form run configs and fixtures use). */
export function createOptimizer(config: OptimizerConfig): Optimizer {
  switch (config.kind) {
    case "adam":
      return new Adam(config);
    case "adamw":
      return new AdamW(config);
    case "radam":
      return new RAdam(config);
    case "sgd":
      return new Sgd(config);
    default: {
      const never: never = config;
      throw new Error(`unknown optimizer kind '${(never as { kind: string }).kind}'`);
    }
  }
}

export function optimizerStateToJSON(state: OptimizerState): OptimizerStateJSON {
  return { ...state, slots: state.slots.map((s) => ({ ...s, shape: [...s.shape], values: Array.from(s.values) })) };
}

export function optimizerStateFromJSON(json: OptimizerStateJSON): OptimizerState {
  return { ...json, slots: json.slots.map((s) => ({ ...s, shape: [...s.shape], values: Float32Array.from(s.values) })) };
}

// ---------------------------------------------------------------------------------------------

export interface ClipResult {
  /** New tensors owned by the caller (clones when no scaling was needed); inputs are untouched. */
  grads: Map<string, tf.Tensor>;
  /** Global L2 norm before clipping (may be NaN/Infinity: callers should check). */
  norm: number;
  /** The factor applied (1 when not clipped). */
  scale: number;
}

/** Global L2 norm of all gradients: per-tensor sums of squares in float32, combined in float64. */
export function globalNorm(grads: GradMap): number {
  if (grads.size === 0) return 0;
  const sums = tf.tidy(() => tf.stack([...grads.values()].map((g) => tf.sum(tf.square(g)))));
  const values = sums.dataSync();
  sums.dispose();
  let total = 0;
  for (const s of values) total += s;
  return Math.sqrt(total);
}

/**
 * torch.nn.utils.clip_grad_norm_ semantics: coef = maxNorm / (norm + 1e-6); gradients are
 * multiplied by coef when coef < 1. A NaN norm leaves the gradients unscaled (PyTorch would
 * propagate NaN into them); the returned norm tells the caller.
 */
export function clipByGlobalNorm(grads: GradMap, maxNorm: number): ClipResult {
  if (!(maxNorm > 0)) throw new RangeError(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = globalNorm(grads);
  const coef = maxNorm / (norm + 1e-6);
  const scale = coef < 1 ? coef : 1;
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, scale < 1 ? tf.mul(g, scale) : tf.clone(g));
  return { grads: out, norm, scale };
}
