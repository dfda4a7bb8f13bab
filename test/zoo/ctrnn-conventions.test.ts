// The CT-RNN conventions of the zoo, checked on the specs as written (neuro-anchors §0 item 5,
// §2.1, §5.1): where the noise enters, the rate function and read-out, and the initial state.
//
// Noise: with W_rec = W_in = b = 0 every unit is a lone leaky unit x' = (1 - a) x + s xi, so the
// per-step innovation x' - (1 - a) x has std s and the stationary variance is s^2 / (1 - (1 - a)^2):
//   inside the alpha term (ctrnn-jax):     s = a sigma           -> a sigma^2 / (2 - a)
//   sqrt(2 alpha) sigma outside (PsychRNN): s = sqrt(2 a) sigma   -> 2 sigma^2 / (2 - a)
//   none (pyrnn):                          s = 0                 -> 0
// Both statistics are measured on free runs of the interpreter (the simulator `rnnc generate` uses).
import { describe, expect, it } from "vitest";
import { compileModel, generate } from "../../src/compiler/backends/interp/index.js";
import { Prng } from "../../src/runtime/train/prng.js";
import { prepare, withSetting, zooSource } from "./harness.js";

interface Convention {
  spec: string;
  noise: "inside_alpha" | "sqrt_2alpha_outside" | "none";
  /** alpha and sigma as the spec declares them. */
  alpha: number;
  sigma: number;
  rate: (x: number) => number;
  /** What the read-out reads: the rate f(x) or the voltage x. */
  readout: "rate" | "voltage";
  init: "zeros" | "ones" | "learned";
}

const relu = (x: number) => Math.max(0, x);
const CONVENTIONS: Convention[] = [
  { spec: "ctrnn", noise: "inside_alpha", alpha: 0.1, sigma: 0.1, rate: Math.tanh, readout: "rate", init: "zeros" },
  { spec: "ctrnn_psychrnn", noise: "sqrt_2alpha_outside", alpha: 0.1, sigma: 0.1, rate: relu, readout: "rate", init: "learned" },
  { spec: "ctrnn_pyrnn", noise: "none", alpha: 0.1, sigma: 0, rate: Math.tanh, readout: "voltage", init: "zeros" },
];

/** The innovation std and stationary variance a convention's formula predicts. */
function predicted(c: Convention): { innovationStd: number; stationaryVariance: number } {
  const s = c.noise === "inside_alpha" ? c.alpha * c.sigma : c.noise === "sqrt_2alpha_outside" ? Math.sqrt(2 * c.alpha) * c.sigma : 0;
  return { innovationStd: s, stationaryVariance: (s * s) / (1 - (1 - c.alpha) ** 2) };
}

/** The spec's model and parameters, with every recurrent, input and bias weight set to zero. */
function leakyOnly(c: Convention, source = zooSource(c.spec)) {
  const p = prepare(source, `${c.spec}.rnn`);
  const model = compileModel(p.program);
  const raw: Record<string, Float32Array> = {};
  for (const [k, v] of p.params) raw[k] = new Float32Array(v.data.length);
  return { p, model, raw };
}

describe("CT-RNN noise conventions", () => {
  for (const c of CONVENTIONS) {
    it(`${c.spec}: ${c.noise} — innovation std and stationary variance match the formula`, () => {
      const { model, raw } = leakyOnly(c);
      const eff = model.effectiveParams(raw);
      const H = model.states[0]!.size;
      const B = 64;
      const steps = 400;
      const rng = new Prng(7);
      const run = generate(model, eff, { steps, batch: B, rng: { normal: () => rng.normal() }, observed: false });
      const x = run.latent[model.states[0]!.name]!; // [steps + 1, B, H]
      const at = (t: number, i: number) => x[t * B * H + i]!;
      // Innovations over the whole run; the stationary variance from every 20th step after a burn-in
      // of 100 steps (10 time constants), where successive samples are nearly independent (0.9^20).
      let innovation = 0;
      let n = 0;
      for (let t = 0; t < steps; t++) for (let i = 0; i < B * H; i++, n++) innovation += (at(t + 1, i) - (1 - c.alpha) * at(t, i)) ** 2;
      let variance = 0;
      let m = 0;
      for (let t = 100; t <= steps; t += 20) for (let i = 0; i < B * H; i++, m++) variance += at(t, i) ** 2;
      const want = predicted(c);
      const innovationStd = Math.sqrt(innovation / n);
      variance /= m;
      if (c.noise === "none") {
        expect(innovationStd).toBeLessThan(1e-12);
        expect(variance).toBeLessThan(1e-12);
        return;
      }
      // about 1e5 samples: sampling errors of a fraction of a percent; 4 % separates the conventions
      // (their innovation stds differ by a factor sqrt(2 / alpha) = 4.5) and catches a wrong alpha.
      expect(Math.abs(innovationStd / want.innovationStd - 1)).toBeLessThan(0.04);
      expect(Math.abs(variance / want.stationaryVariance - 1)).toBeLessThan(0.04);
    });
  }

  it("the three conventions really differ (inside alpha is alpha / sqrt(2 alpha) times the PsychRNN noise)", () => {
    const [jax, psych] = CONVENTIONS.map(predicted);
    expect(jax!.innovationStd).toBeCloseTo(0.01, 12);
    expect(psych!.innovationStd).toBeCloseTo(Math.sqrt(0.2) * 0.1, 12);
  });
});

describe("CT-RNN rate, read-out and initial state", () => {
  for (const c of CONVENTIONS) {
    it(`${c.spec}: ${c.readout === "rate" ? (c.rate === relu ? "ReLU" : "tanh") + " rate" : "voltage"} read-out, initial state ${c.init}`, () => {
      const { p, model, raw } = leakyOnly(c);
      const state = model.states[0]!;
      const H = state.size;
      const obs = model.observations[0]!;
      // A read-out matrix with distinct entries, and a state with both signs and values beyond ±1.
      const readout = p.program.params.find((q) => q.name === "W_out")!;
      raw["W_out"] = Float32Array.from({ length: obs.size * H }, (_, i) => Math.sin(i + 1));
      if (c.init === "learned") raw[`${state.name}0`] = Float32Array.from({ length: H }, (_, i) => 0.25 * i - 3);
      const eff = model.effectiveParams(raw);
      expect(readout.trainable).toBe(true);

      const z = Float64Array.from({ length: H }, (_, i) => 3 * Math.cos(i));
      const y = model.observe(eff, { [state.name]: z })[obs.name]!;
      for (let o = 0; o < obs.size; o++) {
        let want = 0;
        for (let j = 0; j < H; j++) want += raw["W_out"]![o * H + j]! * (c.readout === "rate" ? c.rate(z[j]!) : z[j]!);
        expect(y[o]).toBeCloseTo(want, 5);
      }

      const x0 = model.initState(eff, undefined, 1)[state.name]!;
      const wantInit = c.init === "learned" ? Array.from(raw[`${state.name}0`]!) : new Array<number>(H).fill(c.init === "ones" ? 1 : 0);
      expect(Array.from(x0)).toEqual(wantInit);
      if (c.init === "learned") {
        const x0Param = p.program.params.find((q) => q.name === `${state.name}0`);
        expect(x0Param?.trainable).toBe(true);
      }
    });
  }

  it("ctrnn-jax's x0 = 1 is one word away: `latent x : [H] = ones`", () => {
    const source = zooSource("ctrnn").replace(/latent x : \[H\] = zeros/, "latent x : [H] = ones");
    const { model, raw } = leakyOnly(CONVENTIONS[0]!, withSetting(source, "H", 8));
    const x0 = model.initState(model.effectiveParams(raw), undefined, 2)[model.states[0]!.name]!;
    expect(Array.from(x0)).toEqual(new Array<number>(16).fill(1));
  });
});
