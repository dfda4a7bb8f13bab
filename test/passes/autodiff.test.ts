// The reverse-mode pass against tfjs autodiff: for every zoo spec, the adjoint graph of one step
// (run on the graph tier) must give the same cotangents as tf.grad of <ct, step(z)>.
import * as tf from "@tensorflow/tfjs";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { batchedValues, compileGraph, compileGraphModel } from "../../src/compiler/backends/graph/index.js";
import { compileSource } from "../../src/compiler/driver.js";
import type { Program } from "../../src/compiler/ir/types.js";
import { validateSchema } from "../../src/compiler/ir/verify.js";
import { adjoint, ct, jacobian } from "../../src/compiler/passes/autodiff.js";
import { bindDims } from "../../src/compiler/passes/index.js";
import { Prng } from "../../src/runtime/train/prng.js";

const specDir = join(import.meta.dirname, "..", "..", "specs");
const specs = readdirSync(specDir).filter((f) => f.endsWith(".rnn")).sort();

function bound(f: string): Program {
  const r = compileSource(readFileSync(join(specDir, f), "utf8"), f);
  return bindDims(r.opt!, {});
}

const B = 2;

function randn(rng: Prng, shape: number[], scale = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return tf.tensor(a, shape);
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("reverse-mode autodiff of the step", () => {
  for (const f of specs) {
    it(`${f}: adjoint == tfjs gradients`, () => {
      const p = bound(f);
      const rng = new Prng(7);
      const model = compileGraphModel(tf, p);
      const params: Record<string, tf.Tensor> = {};
      for (const prm of p.params) params[prm.name] = randn(rng, (prm.shape as number[]));
      const eff = model.prelude(params);
      const states: Record<string, tf.Tensor> = {};
      for (const s of p.states) states[s.name] = randn(rng, [B, ...(s.shape as number[])]);
      const inputs: Record<string, tf.Tensor> = {};
      for (const i of p.inputs) inputs[i.name] = randn(rng, [B, ...(i.shape as number[])]);
      const noiseValues = new Map<string, tf.Tensor>();
      const noise = (shape: number[]) => {
        const key = shape.join("x");
        if (!noiseValues.has(key)) noiseValues.set(key, tf.keep(randn(rng, [B, ...shape], 1)));
        return noiseValues.get(key)!;
      };
      const cts: Record<string, tf.Tensor> = {};
      for (const s of p.states) cts[s.name] = randn(rng, [B, ...(s.shape as number[])], 1);

      // Reference: tf.grads of sum(ct * step) with respect to states and effective params.
      const effNames = Object.keys(eff).filter((k) => p.step.inputs.includes(k));
      const stateNames = p.states.map((s) => s.name);
      const xs = [...stateNames.map((k) => states[k]!), ...effNames.map((k) => eff[k]!)];
      const refGrads = tf.grads((...args: tf.Tensor[]) => {
        const st: Record<string, tf.Tensor> = {};
        stateNames.forEach((k, i) => (st[k] = args[i]!));
        const ef: Record<string, tf.Tensor> = { ...eff };
        effNames.forEach((k, i) => (ef[k] = args[stateNames.length + i]!));
        const next = model.step(ef, st, inputs, noise);
        return stateNames.map((k) => tf.sum(tf.mul(next[k]!, cts[k]!))).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
      })(xs);

      // The adjoint graph, fed with every primal value of the step.
      const shapes = new Map<string, number[]>();
      for (const prm of p.params) shapes.set(prm.name, prm.shape as number[]);
      for (const e of p.prelude.eqns) shapes.set(e.out, e.shape as number[]);
      for (const x of [...p.states, ...p.inputs]) shapes.set(x.name, x.shape as number[]);
      const inputShapes = new Map(p.step.inputs.map((i) => [i, shapes.get(i)!]));
      const adj = adjoint(p.step, { wrt: [...stateNames, ...effNames], inputShapes });
      const everything = { ...p.step, outputs: Object.fromEntries([...p.step.inputs, ...p.step.eqns.map((e) => e.out)].map((v) => [v, v])) };
      const batchedIn = new Set([...stateNames, ...p.inputs.map((i) => i.name)]);
      const fwd = compileGraph(tf, everything, batchedIn, shapes).run({ ...eff, ...states, ...inputs }, noise);
      const primalBatched = batchedValues(p.step, batchedIn);
      const adjShapes = new Map(shapes);
      for (const e of p.step.eqns) adjShapes.set(e.out, e.shape as number[]);
      for (const s of p.states) adjShapes.set(ct(s.name), s.shape as number[]);
      const adjBatched = new Set([...adj.inputs.filter((i) => primalBatched.has(i)), ...stateNames.map(ct)]);
      const feed: Record<string, tf.Tensor> = {};
      for (const i of adj.inputs) feed[i] = i.startsWith("ct:") ? cts[i.slice(3)]! : fwd[i]!;
      const got = compileGraph(tf, adj, adjBatched, adjShapes).run(feed);
      const batchedOut = batchedValues(adj, adjBatched);

      [...stateNames, ...effNames].forEach((k, i) => {
        let g = got[k]!;
        // Parameter cotangents come out per sample: sum over the batch.
        if (effNames.includes(k) && batchedOut.has(adj.outputs[k]!)) g = tf.sum(g, 0);
        const ref = refGrads[i]!;
        expect(g.shape, `${f}: ${k}`).toEqual(ref.shape);
        const diff = tf.max(tf.abs(tf.sub(g, ref))).dataSync()[0]!;
        const scale = Math.max(1, tf.max(tf.abs(ref)).dataSync()[0]!);
        expect(diff / scale, `${f}: cotangent of ${k}`).toBeLessThan(1e-4);
      });
    });
  }

  it("the adjoint of every zoo step is a valid IR graph", () => {
    for (const f of specs) {
      const p = bound(f);
      const shapes = new Map<string, (number | string)[]>();
      for (const prm of p.params) shapes.set(prm.name, prm.shape as number[]);
      for (const e of p.prelude.eqns) shapes.set(e.out, e.shape as number[]);
      for (const x of [...p.states, ...p.inputs]) shapes.set(x.name, x.shape as number[]);
      const adj = adjoint(p.step, { inputShapes: new Map(p.step.inputs.map((i) => [i, shapes.get(i)!])) });
      expect(validateSchema({ ...p, step: adj })).toEqual([]);
    }
  });

  it("the Jacobian of a linear step is its matrix", () => {
    // z' = A z for a diag A and an off-diagonal W: J = diag(A) + W.
    const src = `model lin
dims { M = 3 }
params { A : diag[M]; W : [M, M] offdiag }
latent z : [M] { z' = A @ z + W @ z }
observe x : [M] = z`;
    const p = bindDims(compileSource(src, "lin.rnn").opt!, {});
    const shapes = new Map<string, number[]>([["A", [3]], ["W.c", [3, 3]], ["z", [3]]]);
    const J = jacobian(p.step, "z", "z", shapes);
    const W = tf.tensor([[0, 1, 2], [3, 0, 4], [5, 6, 0]]);
    const A = tf.tensor([0.5, -1, 2]);
    const out = compileGraph(tf, J, new Set(["z"]), shapes).run({ A, "W.c": W, z: tf.ones([1, 3]) });
    expect(Array.from(out["jac:z"]!.dataSync())).toEqual([0.5, 1, 2, 3, -1, 4, 5, 6, 2]);
  });
});

describe("simplify", () => {
  it("turns the adjoint's outer products into broadcast products and drops broadcast copies", async () => {
    const { simplifyGraph } = await import("../../src/compiler/passes/simplify.js");
    const p = bound("dendplrnn.rnn");
    const shapes = new Map<string, (number | string)[]>();
    for (const prm of p.params) shapes.set(prm.name, prm.shape as number[]);
    for (const e of p.prelude.eqns) shapes.set(e.out, e.shape as number[]);
    for (const x of [...p.states, ...p.inputs]) shapes.set(x.name, x.shape as number[]);
    const inputShapes = new Map(p.step.inputs.map((i) => [i, shapes.get(i)!]));
    const adj = adjoint(p.step, { inputShapes });
    const all = new Map<string, (number | string)[]>(inputShapes);
    for (const e of p.step.eqns) all.set(e.out, e.shape as number[]);
    all.set(ct("z"), p.states[0]!.shape as number[]);
    const s = simplifyGraph(adj, all);
    const count = (g: typeof adj, op: string) => g.eqns.filter((e) => e.op === op).length;
    expect(count(s, "matmul")).toBeLessThan(count(adj, "matmul"));
    expect(count(s, "broadcast")).toBeLessThanOrEqual(count(adj, "broadcast"));
    expect(validateSchema({ ...p, step: s })).toEqual([]);
  });
});
