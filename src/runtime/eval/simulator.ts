// A trained model as a simulator for generation and evaluation, on the interpreter backend
// (generated loops over Float64Array: no tfjs dispatch, so 100 000-step runs take a second).
import { compileModel, generate, type Model } from "../../compiler/backends/interp/index.js";
import type { Program } from "../../compiler/ir/types.js";
import type { ParamValues } from "../model/params.js";
import { Prng } from "../train/prng.js";
import type { Simulator } from "./evaluate.js";

export interface Trajectory {
  /** [steps + 1, N] observations (t = 0: the initial state's observation). */
  observed: Float64Array;
  /** [steps + 1, latent size] all states side by side, in declaration order. */
  latent: Float64Array;
}

export interface ModelSimulator extends Simulator {
  generateFromObservation(x0: Float64Array, steps: number): Trajectory;
  generateFromLatent(z0: Float64Array, steps: number): Trajectory;
}

export function makeSimulator(program: Program, params: ParamValues, opts: { seed?: number } = {}): ModelSimulator {
  const model: Model = compileModel(program);
  const raw: Record<string, Float32Array> = {};
  for (const [k, v] of params) raw[k] = v.data;
  const eff = model.effectiveParams(raw);
  const obs = model.observations[0]!;
  const states = model.states;
  const latentSize = states.reduce((a, s) => a + s.size, 0);
  const rng = new Prng(opts.seed ?? 0);
  const noise = { normal: () => rng.normal() };

  const collect = (r: ReturnType<typeof generate<Float64Array>>, steps: number): Trajectory => {
    const latent = new Float64Array((steps + 1) * latentSize);
    let offset = 0;
    for (const s of states) {
      const src = r.latent[s.name]!;
      for (let t = 0; t <= steps; t++) latent.set(src.subarray(t * s.size, (t + 1) * s.size), t * latentSize + offset);
      offset += s.size;
    }
    return { observed: r.observed[obs.name]!, latent };
  };
  const splitLatent = (z: Float64Array): Record<string, Float64Array> => {
    const out: Record<string, Float64Array> = {};
    let offset = 0;
    for (const s of states) {
      out[s.name] = z.subarray(offset, offset + s.size);
      offset += s.size;
    }
    return out;
  };

  // PE works on the first state (the latent of the DSR models); other states start at their init.
  const main = states[0]!;
  return {
    features: obs.size,
    latentSize: main.size,
    freeRun(x0, steps) {
      return generate(model, eff, { steps, x0, rng: noise, latent: false }).observed[obs.name]!;
    },
    generateFromObservation(x0, steps) {
      return collect(generate(model, eff, { steps, x0, rng: noise }), steps);
    },
    generateFromLatent(z0, steps) {
      return collect(generate(model, eff, { steps, z0: splitLatent(z0), rng: noise }), steps);
    },
    initState(x, B) {
      return Float64Array.from(model.initState(eff, x, B, noise)[main.name]!);
    },
    step(z, B) {
      return Float64Array.from(model.step(eff, { [main.name]: z }, {}, B, noise)[main.name]!);
    },
    observe(z, B) {
      return Float64Array.from(model.observe(eff, { [main.name]: z }, {}, B, noise)[obs.name]!);
    },
  };
}
