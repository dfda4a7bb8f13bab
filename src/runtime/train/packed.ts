// The fused tier's trainable parameters as one flat tfjs variable. A training step then costs a
// fixed handful of tfjs ops (one customGrad kernel op, the norm clip, one optimizer update) however
// many parameters the spec has; per-parameter ops would cost more than the kernel itself for the
// small models of this field. Checkpoints keep the per-parameter form: optimizer state is split
// and joined here, so a run can be resumed on either tier.
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
  readonly size: number;

  constructor(private readonly tf: Tf, params: ParamValues, trainable: (name: string) => boolean) {
    let offset = 0;
    for (const [name, v] of params) {
      if (!trainable(name)) continue;
      const size = v.data.length;
      this.entries.push({ name, offset, size, shape: [...v.shape] });
      offset += size;
    }
    this.size = offset;
    const flat = new Float32Array(offset);
    for (const e of this.entries) flat.set(params.get(e.name)!.data, e.offset);
    this.variable = tf.variable(tf.tensor1d(flat, "float32"), true, PACKED);
  }

  /** Per-parameter tensors (slices of the variable, differentiable); call inside tf.tidy. */
  views(): TensorMap {
    const out: TensorMap = {};
    for (const e of this.entries) out[e.name] = this.tf.reshape(this.tf.slice(this.variable, e.offset, e.size), e.shape);
    return out;
  }

  /** Per-parameter subarrays of a flat host array. */
  split(flat: Float32Array): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const e of this.entries) out[e.name] = flat.subarray(e.offset, e.offset + e.size);
    return out;
  }

  /** Per-parameter gradients joined into one flat array. */
  join(parts: Readonly<Record<string, ArrayLike<number>>>): Float32Array {
    const flat = new Float32Array(this.size);
    for (const e of this.entries) flat.set(parts[e.name]!, e.offset);
    return flat;
  }

  /** Current values (copies). */
  values(): Map<string, Float32Array> {
    const flat = this.variable.dataSync() as Float32Array;
    return new Map(this.entries.map((e) => [e.name, flat.slice(e.offset, e.offset + e.size)]));
  }

  /** The flat optimizer's state in per-parameter form (as the graph tier writes it). */
  toParamState(s: OptimizerState): OptimizerState {
    const steps = s.paramSteps[PACKED];
    const paramSteps: Record<string, number> = {};
    if (steps !== undefined) for (const e of [...this.entries].sort((a, b) => a.name.localeCompare(b.name))) paramSteps[e.name] = steps;
    const slots: OptimizerState["slots"] = [];
    for (const e of [...this.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      for (const slot of s.slots.filter((x) => x.param === PACKED).sort((a, b) => (a.slot < b.slot ? -1 : 1))) {
        slots.push({ param: e.name, slot: slot.slot, shape: [...e.shape], values: slot.values.slice(e.offset, e.offset + e.size) });
      }
    }
    return { ...s, paramSteps, slots };
  }

  /**
   * Per-parameter state packed for the flat optimizer. Bias corrections need one step count: the
   * parameters' counts agree unless some had no gradient on the graph tier; the largest is used.
   */
  fromParamState(s: OptimizerState): OptimizerState {
    const counts = this.entries.map((e) => s.paramSteps[e.name]).filter((x): x is number => x !== undefined);
    const paramSteps: Record<string, number> = counts.length ? { [PACKED]: Math.max(...counts) } : {};
    const names = [...new Set(s.slots.map((x) => x.slot))].sort();
    const slots = names.map((slot) => {
      const values = new Float32Array(this.size);
      for (const e of this.entries) {
        const part = s.slots.find((x) => x.param === e.name && x.slot === slot);
        if (part) values.set(part.values, e.offset);
      }
      return { param: PACKED, slot, shape: [this.size], values };
    });
    return { ...s, paramSteps, slots };
  }

  dispose(): void {
    this.variable.dispose();
  }
}
