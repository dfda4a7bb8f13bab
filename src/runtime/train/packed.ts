// The fused tier's trainable parameters as one flat tfjs variable. A training step then costs a
// fixed handful of tfjs ops (one customGrad kernel op, the norm clip, one optimizer update) however
// many parameters the spec has; per-parameter ops would cost more than the kernel itself for the
// small models of this field. Checkpoints keep the per-parameter form: optimizer state is split
// and joined here, so a run can be resumed on either tier. An ensemble packs its members one
// after the other (member m at m * size), so one optimizer update moves them all.
import type * as tfType from "@tensorflow/tfjs";
import type { TensorMap } from "../../compiler/backends/graph/index.js";
import type { ParamValues } from "../model/params.js";
import type { OptimizerState } from "./optimizers.js";

type Tf = typeof tfType;

export const PACKED = "rnnc/packed";

interface Entry {
  name: string;
  offset: number;
  size: number;
  shape: number[];
}

export class PackedParams {
  readonly variable: tfType.Variable;
  readonly entries: Entry[] = [];
  /** Floats of one member. */
  readonly size: number;
  readonly members: number;

  /** `params`: one parameter set, or an ensemble's (one per member, all of one layout). */
  constructor(private readonly tf: Tf, params: ParamValues | readonly ParamValues[], trainable: (name: string) => boolean) {
    const sets = params instanceof Map ? [params] : params;
    let offset = 0;
    for (const [name, v] of sets[0]!) {
      if (!trainable(name)) continue;
      const size = v.data.length;
      this.entries.push({ name, offset, size, shape: [...v.shape] });
      offset += size;
    }
    this.size = offset;
    this.members = sets.length;
    const flat = new Float32Array(offset * sets.length);
    sets.forEach((set, m) => {
      for (const e of this.entries) flat.set(set.get(e.name)!.data, m * offset + e.offset);
    });
    this.variable = tf.variable(tf.tensor1d(flat, "float32"), true, PACKED);
  }

  /** Member m's per-parameter tensors (slices of the variable, differentiable); call inside tf.tidy. */
  views(m = 0): TensorMap {
    const out: TensorMap = {};
    for (const e of this.entries) out[e.name] = this.tf.reshape(this.tf.slice(this.variable, m * this.size + e.offset, e.size), e.shape);
    return out;
  }

  /** Member m's per-parameter subarrays of a flat host array (of all members). */
  split(flat: Float32Array, m = 0): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    const at = m * this.size;
    for (const e of this.entries) out[e.name] = flat.subarray(at + e.offset, at + e.offset + e.size);
    return out;
  }

  /** Per-parameter gradients joined into one flat array. */
  join(parts: Readonly<Record<string, ArrayLike<number>>>): Float32Array {
    return this.joinInto(new Float32Array(this.size), parts, 0);
  }

  /** Member m's per-parameter gradients into its part of a flat array of all members. */
  joinInto(flat: Float32Array, parts: Readonly<Record<string, ArrayLike<number>>>, m: number): Float32Array {
    for (const e of this.entries) flat.set(parts[e.name]!, m * this.size + e.offset);
    return flat;
  }

  /** Member m's current values (copies). */
  values(m = 0, flat = this.variable.dataSync() as Float32Array): Map<string, Float32Array> {
    const at = m * this.size;
    return new Map(this.entries.map((e) => [e.name, flat.slice(at + e.offset, at + e.offset + e.size)]));
  }

  /** Member m's part of the flat optimizer's state, in per-parameter form (as the graph tier writes it). */
  toParamState(s: OptimizerState, m = 0): OptimizerState {
    const at = m * this.size;
    const steps = s.paramSteps[PACKED];
    const paramSteps: Record<string, number> = {};
    if (steps !== undefined) for (const e of [...this.entries].sort((a, b) => a.name.localeCompare(b.name))) paramSteps[e.name] = steps;
    const slots: OptimizerState["slots"] = [];
    for (const e of [...this.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      for (const slot of s.slots.filter((x) => x.param === PACKED).sort((a, b) => (a.slot < b.slot ? -1 : 1))) {
        slots.push({ param: e.name, slot: slot.slot, shape: [...e.shape], values: slot.values.slice(at + e.offset, at + e.offset + e.size) });
      }
    }
    return { ...s, paramSteps, slots };
  }

  /**
   * Per-parameter state (one per member) packed for the flat optimizer. Bias corrections need one
   * step count: the parameters' counts agree unless some had no gradient on the graph tier (and
   * an ensemble's members move in step); the largest is used.
   */
  fromParamState(state: OptimizerState | readonly OptimizerState[]): OptimizerState {
    const states = Array.isArray(state) ? (state as readonly OptimizerState[]) : [state as OptimizerState];
    const counts = states.flatMap((s) => this.entries.map((e) => s.paramSteps[e.name]).filter((x): x is number => x !== undefined));
    const paramSteps: Record<string, number> = counts.length ? { [PACKED]: Math.max(...counts) } : {};
    const names = [...new Set(states.flatMap((s) => s.slots.map((x) => x.slot)))].sort();
    const total = this.size * this.members;
    const slots = names.map((slot) => {
      const values = new Float32Array(total);
      states.forEach((s, m) => {
        for (const e of this.entries) {
          const part = s.slots.find((x) => x.param === e.name && x.slot === slot);
          if (part) values.set(part.values, m * this.size + e.offset);
        }
      });
      return { param: PACKED, slot, shape: [total], values };
    });
    return { ...states[0]!, paramSteps, slots };
  }

  dispose(): void {
    this.variable.dispose();
  }
}
