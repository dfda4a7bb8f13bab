// The fused tier against central finite differences (Float64) and against the graph tier (tfjs,
// float32), for every spec of the zoo.
import * as tf from "@tensorflow/tfjs";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileGraphModel } from "../../src/compiler/backends/graph/index.js";
import { FusedKernel, type FusedBatch, type KernelResult } from "../../src/compiler/backends/fused/kernel.js";
import { compileSource } from "../../src/compiler/driver.js";
import type { Program } from "../../src/compiler/ir/types.js";
import { bindDims } from "../../src/compiler/passes/index.js";
import { Prng } from "../../src/runtime/train/prng.js";
import { batchLoss } from "../../src/runtime/train/objective.js";

const specDir = join(import.meta.dirname, "..", "..", "specs");
const specs = readdirSync(specDir).filter((f) => f.endsWith(".rnn")).sort();

/** A small training setting so finite differences stay cheap: B = 3 sequences of 12 steps. */
function program(f: string): Program {
  const r = compileSource(readFileSync(join(specDir, f), "utf8"), f);
  const p = bindDims(r.opt!, {});
  const t = p.train!;
  // keep the spec's forcing, but force within 12 steps
  const forcing = t.forcing.kind === "sparse" ? { ...t.forcing, every: 4 } : t.forcing;
  return { ...p, train: { ...t, batchSize: 3, seqLen: 12, forcing } };
}

function randomParams(p: Program, rng: Prng, scale = 0.4): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const prm of p.params) {
    const n = (prm.shape as number[]).reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
    out[prm.name] = a;
  }
  return out;
}

function randomBatch(p: Program, rng: Prng, B = 3): FusedBatch {
  const T = 12;
  const N = (p.observations[0]!.shape as number[]).reduce((a, b) => a * b, 1);
  const fill = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  if (p.inputs.length === 0) return { kind: "series", B, T, teacher: fill(B * (T + 1) * N), target: fill(B * (T + 1) * N) };
  const I = (p.inputs[0]!.shape as number[]).reduce((a, b) => a * b, 1);
  const mask = Float64Array.from({ length: B * T * N }, (_, i) => (i % 3 === 0 ? 0 : 1));
  return { kind: "task", B, T, input: fill(B * T * I), target: fill(B * T * N), mask };
}

/** Noise replayed identically on every evaluation (finite differences need a fixed sample). */
function replay(seed: number) {
  let rng = new Prng(seed);
  return { reset: () => (rng = new Prng(seed)), source: { normal: () => rng.normal() } };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("fused tier", () => {
  for (const f of specs) {
    it(`${f}: gradients match central finite differences (float64)`, () => {
      const p = program(f);
      const rng = new Prng(11);
      const raw64: Record<string, Float64Array> = {};
      const params = randomParams(p, rng);
      for (const [k, v] of Object.entries(params)) raw64[k] = Float64Array.from(v);
      const batch = randomBatch(p, rng);
      const kernel = new FusedKernel(p, 3, "float64");
      const noise = replay(5);
      const alpha = p.train!.forcing.kind === "gtf_adaptive" ? 0.3 : 0;
      const lossAt = (r: Record<string, Float64Array>) => {
        noise.reset();
        return kernel.run(r, batch, { gtfAlpha: alpha, rng: noise.source }).loss;
      };
      noise.reset();
      const { grads } = kernel.run(raw64, batch, { gtfAlpha: alpha, rng: noise.source });
      const h = 1e-6;
      const check = new Prng(3);
      for (const prm of p.params) {
        const n = raw64[prm.name]!.length;
        for (let s = 0; s < Math.min(n, 4); s++) {
          const i = check.int(n);
          const plus = { ...raw64, [prm.name]: Float64Array.from(raw64[prm.name]!) };
          const minus = { ...raw64, [prm.name]: Float64Array.from(raw64[prm.name]!) };
          plus[prm.name]![i]! += h;
          minus[prm.name]![i]! -= h;
          const fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
          const g = grads[prm.name]![i]!;
          const err = Math.abs(g - fd) / Math.max(1e-3, Math.abs(fd), Math.abs(g));
          expect(err, `${f}: d loss / d ${prm.name}[${i}] = ${g} vs finite difference ${fd}`).toBeLessThan(1e-5);
        }
      }
    });

    it(`${f}: the WebAssembly SIMD kernel (float32) agrees with the JavaScript kernel (float64)`, () => {
      const p = program(f);
      const rng = new Prng(13);
      const params = randomParams(p, rng, 0.25);
      const batch = randomBatch(p, rng);
      const alpha = p.train!.forcing.kind === "gtf_adaptive" ? 0.3 : 0;
      const results = (["float64", "float32"] as const).map((precision) => {
        const noise = replay(7);
        return new FusedKernel(p, 3, precision).run(params, batch, { gtfAlpha: alpha, rng: noise.source });
      });
      const [exact, simd] = results as [KernelResult, KernelResult];
      expect(Math.abs(simd.loss - exact.loss) / Math.max(1e-6, exact.loss)).toBeLessThan(1e-5);
      for (const [k, g] of Object.entries(exact.grads)) {
        let scale = 1e-6;
        for (const x of g) scale = Math.max(scale, Math.abs(x));
        for (let i = 0; i < g.length; i++) expect(Math.abs(simd.grads[k]![i]! - g[i]!) / scale, `${f}: ${k}[${i}]`).toBeLessThan(1e-4);
      }
    });

    it(`${f}: an ensemble kernel gives every model exactly what it gets alone`, () => {
      const p = program(f);
      const alpha = p.train!.forcing.kind === "gtf_adaptive" ? 0.3 : 0;
      // 3 samples: one vector per model; 37: several unrolled blocks per model, padding lanes
      for (const B of f === "dendplrnn.rnn" || f === "ctrnn.rnn" ? [3, 37] : [3]) {
        const rng = new Prng(21 + B);
        const models = [0, 1, 2].map((m) => ({ params: randomParams(p, rng, 0.2 + 0.05 * m), batch: randomBatch(p, rng, B), seed: 100 + m, alpha: alpha * (1 + m / 4) }));
        const together = new FusedKernel(p, B, "float32", 3).runModels(
          models.map((m) => m.params),
          models.map((m) => m.batch),
          models.map((m) => ({ gtfAlpha: m.alpha, rng: replay(m.seed).source })),
        );
        models.forEach((m, k) => {
          const alone = new FusedKernel(p, B, "float32").run(m.params, m.batch, { gtfAlpha: m.alpha, rng: replay(m.seed).source });
          expect(together[k]!.loss, `${f}: B ${B}, model ${k}: loss`).toBe(alone.loss);
          for (const [name, g] of Object.entries(alone.grads)) expect(Array.from(together[k]!.grads[name]!), `${f}: B ${B}, model ${k}: d loss / d ${name}`).toEqual(Array.from(g));
        });
      }
    });

    it(`${f}: loss and gradients agree with the graph tier (float32)`, () => {
      const p = program(f);
      const rng = new Prng(12);
      const params = randomParams(p, rng, 0.25);
      const batch = randomBatch(p, rng);
      if (p.step.eqns.some((e) => e.op === "noise")) {
        // Noisy steps draw in different orders on the two tiers; compare with the noise switched off.
        p.step = {
          ...p.step,
          eqns: p.step.eqns.flatMap((e) =>
            e.op === "noise"
              ? [{ out: `${e.out}~0`, op: "const" as const, args: [], shape: [], attrs: { value: 0 } }, { ...e, op: "broadcast" as const, args: [`${e.out}~0`] }]
              : [e],
          ),
        };
      }
      const kernel = new FusedKernel(p, 3);
      const alpha = p.train!.forcing.kind === "gtf_adaptive" ? 0.3 : 0;
      const fused = kernel.run(params, batch, { gtfAlpha: alpha, rng: { normal: () => 0 } });
      const model = compileGraphModel(tf, p);
      const vars = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, tf.variable(tf.tensor(v, p.params.find((x) => x.name === k)!.shape as number[]))]));
      const N = (p.observations[0]!.shape as number[]).reduce((a, b) => a * b, 1);
      const tbatch = batch.kind === "series"
        ? { kind: "series" as const, teacher: tf.tensor(Float32Array.from(batch.teacher), [3, 13, N]), target: tf.tensor(Float32Array.from(batch.target), [3, 13, N]) }
        : { kind: "task" as const, input: tf.tensor(Float32Array.from(batch.input), [3, 12, batch.input.length / 36]), target: tf.tensor(Float32Array.from(batch.target), [3, 12, N]), mask: tf.tensor(Float32Array.from(batch.mask!), [3, 12, N]) };
      const { value, grads } = tf.variableGrads(() => batchLoss({ tf, model, program: { ...p, train: { ...p.train!, regularize: [] } }, plan: { ...p.train!, regularize: [] }, gtfAlpha: alpha, noise: (s) => tf.zeros([3, ...s]) }, vars, tbatch) as tf.Scalar, Object.values(vars));
      expect(Math.abs(value.dataSync()[0]! - fused.loss) / Math.max(1e-6, fused.loss)).toBeLessThan(1e-4);
      for (const [k, v] of Object.entries(vars)) {
        const g = grads[v.name]!.dataSync();
        const fg = fused.grads[k]!;
        let scale = 1e-6;
        for (const x of fg) scale = Math.max(scale, Math.abs(x));
        for (let i = 0; i < fg.length; i++) expect(Math.abs(g[i]! - fg[i]!) / scale, `${f}: ${k}[${i}]`).toBeLessThan(2e-3);
      }
      for (const v of Object.values(vars)) v.dispose();
    });
  }

  it("prints its generated source, which contains no spec-chosen identifiers", () => {
    const hostile = `model evil
dims { M = 3 }
params { constructor : diag[M]; process : [M, M]; __proto__x : [M] }
latent require_ : [M] = zeros { require_' = constructor @ require_ + process @ tanh(require_) + __proto__x }
observe x : [M] = require_
data d = builtin.lorenz63(steps = 100)
train { loss = mse(x, d) }`;
    const r = compileSource(hostile, "evil.rnn");
    expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    for (const precision of ["float32", "float64"] as const) {
      const src = new FusedKernel(bindDims(r.opt!, {}), 2, precision).source();
      expect(src).toContain(precision === "float32" ? "f32x4.add" : "for (let");
      for (const word of ["constructor", "process", "__proto__x", "require_"]) expect(src).not.toContain(word);
    }
  });
});
