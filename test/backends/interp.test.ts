// The IR interpreter against an independent NumPy reference (test/fixtures/models/make_model_fixtures.py):
// every zoo model's effective parameters, init, step, observe and a 50-step free run, plus single ops
// and op chains evaluated by NumPy itself, and the no-allocation-per-step property.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileModel, generate, InterpError, predict, type Model, type NormalSource } from "../../src/compiler/backends/interp/index.js";
import { compileSource } from "../../src/compiler/driver.js";
import type { Eqn, Program } from "../../src/compiler/ir/types.js";
import { bindDims } from "../../src/compiler/passes/bind-dims.js";

const ROOT = join(import.meta.dirname, "..", "..");
const FIX = join(ROOT, "test", "fixtures", "models");
const TOL = 1e-12;

interface Enc {
  shape: number[];
  b64: string;
}

function dec(e: Enc): Float64Array {
  const bytes = Buffer.from(e.b64, "base64");
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function decAll(r: Record<string, Enc> | undefined): Record<string, Float64Array> {
  return Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, dec(v)]));
}

/** Max relative error, relative to max(|expected_i|, 1e-3 · max|expected|); NaN/±Inf must match exactly. */
function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): number {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i]!)) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(e)) {
      if (Number.isNaN(e)) expect(Number.isNaN(a), `${label}[${i}]: expected NaN, got ${a}`).toBe(true);
      else expect(a, `${label}[${i}]`).toBe(e);
      continue;
    }
    const err = Math.abs(a - e) / Math.max(Math.abs(e), 1e-3 * scale, 1e-300);
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol = TOL): void {
  const err = relErr(actual, expected, label);
  expect(err, `${label}: max relative error ${err}`).toBeLessThanOrEqual(tol);
}

function scripted(values: ArrayLike<number>): NormalSource & { used: () => number } {
  let i = 0;
  return {
    normal: () => {
      if (i >= values.length) throw new Error("scripted rng exhausted");
      return values[i++]!;
    },
    used: () => i,
  };
}

function compileSpec(name: string): Program {
  const path = join("specs", `${name}.rnn`);
  const r = compileSource(readFileSync(join(ROOT, path), "utf8"), path);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  expect(errors).toEqual([]);
  return r.opt!;
}

interface ModelFixture {
  model: string;
  dims: Record<string, number>;
  batch: number;
  params: Record<string, Enc>;
  effective: Record<string, Enc>;
  init: { obs: Record<string, Enc>; expected: Record<string, Enc> };
  step: { states: Record<string, Enc>; inputs: Record<string, Enc>; noise?: Enc; expected: Record<string, Enc> };
  observe: { states: Record<string, Enc>; expected: Record<string, Enc> };
  run: { steps: number; x0?: Record<string, Enc>; inputs: Record<string, Enc>; noise?: Enc; latent: Record<string, Enc>; observed: Record<string, Enc> };
}

const ZOO = ["dendplrnn", "dendplrnn_plain", "plrnn", "alrnn", "shplrnn", "lstm", "diru", "vanilla_dale", "ctrnn"];

function bindFor(program: Program, dims: Record<string, number>): Program {
  const sizes: Record<string, number> = {};
  for (const d of program.dims) if (d.source.kind === "data" && dims[d.name] !== undefined) sizes[`${d.source.data}.${d.source.field}`] = dims[d.name]!;
  return bindDims(program, sizes);
}

describe("interpreter vs the NumPy reference (zoo)", () => {
  for (const name of ZOO) {
    describe(name, () => {
      const fx = JSON.parse(readFileSync(join(FIX, `${name}.json`), "utf8")) as ModelFixture;
      const program = bindFor(compileSpec(name), fx.dims);
      const model = compileModel(program);
      const raw = decAll(fx.params);
      const eff = model.effectiveParams(raw);
      const B = fx.batch;

      it("binds the fixture's dims", () => {
        for (const [k, v] of Object.entries(fx.dims)) expect(program.dims.find((d) => d.name === k)?.value, k).toBe(v);
      });

      it("prelude: effective parameters (constraints)", () => {
        for (const [k, v] of Object.entries(decAll(fx.effective))) expectClose(eff[k]!, v, `eff ${k}`);
        for (const p of model.params) if (!(p.name in fx.effective)) expect(Array.from(eff[p.name]!)).toEqual(Array.from(raw[p.name]!));
      });

      it("init", () => {
        const obs = decAll(fx.init.obs);
        const z = model.initState(eff, obs, B);
        for (const [k, v] of Object.entries(decAll(fx.init.expected))) expectClose(z[k]!, v, `init ${k}`);
      });

      it("step", () => {
        const rng = fx.step.noise ? scripted(dec(fx.step.noise)) : undefined;
        const next = model.step(eff, decAll(fx.step.states), decAll(fx.step.inputs), B, rng);
        for (const [k, v] of Object.entries(decAll(fx.step.expected))) expectClose(next[k]!, v, `step ${k}`);
        if (rng) expect(rng.used()).toBe(dec(fx.step.noise!).length);
      });

      it("observe", () => {
        const y = model.observe(eff, decAll(fx.observe.states), {}, B);
        for (const [k, v] of Object.entries(decAll(fx.observe.expected))) expectClose(y[k]!, v, `observe ${k}`);
      });

      it("50-step free run (t = 0 included)", () => {
        const inputs = decAll(fx.run.inputs);
        const res = generate(model, eff, {
          steps: fx.run.steps,
          ...(fx.run.x0 ? { x0: decAll(fx.run.x0) } : {}),
          ...(Object.keys(inputs).length ? { inputs } : {}),
          ...(fx.run.noise ? { rng: scripted(dec(fx.run.noise)) } : {}),
        });
        for (const [k, v] of Object.entries(decAll(fx.run.latent))) expectClose(res.latent[k]!, v, `latent ${k}`);
        for (const [k, v] of Object.entries(decAll(fx.run.observed))) expectClose(res.observed[k]!, v, `observed ${k}`);
      });

      it("float32 storage stays close", () => {
        const m32 = compileModel(program, { dtype: "float32" });
        const eff32 = m32.effectiveParams(raw);
        const rng = fx.step.noise ? scripted(dec(fx.step.noise)) : undefined;
        const next = m32.step(eff32, decAll(fx.step.states), decAll(fx.step.inputs), B, rng);
        for (const [k, v] of Object.entries(decAll(fx.step.expected))) {
          expect(next[k]).toBeInstanceOf(Float32Array);
          expectClose(next[k]!, v, `f32 step ${k}`, 1e-4);
        }
      });

      it("batched runs equal single runs bit for bit, for any tile size", () => {
        const steps = 20;
        const batch = 3;
        const I = model.inputs.reduce((a, i) => a + i.size, 0);
        const inputs = Object.fromEntries(model.inputs.map((i) => [i.name, Float64Array.from({ length: steps * batch * i.size }, (_, j) => Math.sin(j * 0.37 + i.size))]));
        const x0 = Object.fromEntries(model.observations.map((o) => [o.name, Float64Array.from({ length: batch * o.size }, (_, j) => Math.cos(j * 1.3))]));
        const noise = Float64Array.from({ length: (steps + 1) * batch * 64 }, (_, j) => Math.sin(j * 0.11));
        const opts = (m: Model) => ({ steps, batch, x0, ...(I ? { inputs } : {}), ...(m.usesNoise.step ? { rng: scripted(noise) } : {}) });
        const all = generate(model, eff, opts(model));
        for (const tile of [1, 2]) {
          const mt = compileModel(program, { tile });
          const r = generate(mt, mt.effectiveParams(raw), opts(mt));
          for (const s of model.states) expect(Array.from(r.latent[s.name]!)).toEqual(Array.from(all.latent[s.name]!));
        }
        if (model.usesNoise.step) return; // per-sample runs would draw the noise in another order
        for (let b = 0; b < batch; b++) {
          const pick = (a: Float64Array, per: number, rows: number) => {
            const out = new Float64Array(rows * per);
            for (let t = 0; t < rows; t++) for (let i = 0; i < per; i++) out[t * per + i] = a[(t * batch + b) * per + i]!;
            return out;
          };
          const one = generate(model, eff, {
            steps,
            x0: Object.fromEntries(model.observations.map((o) => [o.name, pick(x0[o.name]!, o.size, 1)])),
            ...(I ? { inputs: Object.fromEntries(model.inputs.map((i) => [i.name, pick(inputs[i.name]!, i.size, steps)])) } : {}),
          });
          for (const s of model.states) expect(Array.from(one.latent[s.name]!), `sample ${b}`).toEqual(Array.from(pick(all.latent[s.name]!, s.size, steps + 1)));
          for (const o of model.observations) expect(Array.from(one.observed[o.name]!)).toEqual(Array.from(pick(all.observed[o.name]!, o.size, steps + 1)));
        }
      });

      if (name === "dendplrnn" || name === "shplrnn") {
        it("predict equals the free runs from every start", () => {
          const N = model.observations[0]!.size;
          const S = 37;
          const n = 6;
          const x0s = Float64Array.from({ length: S * N }, (_, j) => Math.sin(j * 0.7) * 2);
          const all = predict(model, eff, x0s, n, { all: true, batchSize: 8 })["x"]!;
          const last = predict(model, eff, x0s, n)["x"]!;
          expect(all.length).toBe(n * S * N);
          for (const j of [0, 5, 8, 36]) {
            const g = generate(model, eff, { steps: n, x0: x0s.subarray(j * N, (j + 1) * N) }).observed["x"]!;
            for (let k = 1; k <= n; k++) {
              expect(Array.from(all.subarray((k - 1) * S * N + j * N, (k - 1) * S * N + (j + 1) * N))).toEqual(Array.from(g.subarray(k * N, (k + 1) * N)));
            }
            expect(Array.from(last.subarray(j * N, (j + 1) * N))).toEqual(Array.from(g.subarray(n * N, (n + 1) * N)));
          }
        });
      }
    });
  }
});

// ---- op-level cases ----

interface OpCase {
  name: string;
  batch: number;
  inputs: { name: string; shape: number[]; batched: boolean; data: Enc }[];
  eqns: Eqn[];
  outputs: string[];
  expected: Record<string, Enc>;
}

const emptyGraph = { inputs: [], eqns: [], outputs: {} };

/** A program whose step graph is the case: batched operands are inputs, unbatched ones parameters; outputs become states. */
function programFor(c: { inputs: { name: string; shape: number[]; batched: boolean }[]; eqns: Eqn[]; outputs: string[] }): Program {
  const shapes = new Map<string, number[]>([...c.inputs.map((i) => [i.name, i.shape] as const), ...c.eqns.map((e) => [e.out, e.shape as number[]] as const)]);
  const states = c.outputs.map((o) => ({ name: `o_${o}`, shape: shapes.get(o)! }));
  return {
    irVersion: 1,
    model: { name: "ops", file: "ops.rnn" },
    dims: [],
    requires: [],
    data: [],
    params: c.inputs.filter((i) => !i.batched).map((i) => ({ name: i.name, shape: i.shape, structure: "dense", init: { scheme: "zeros" }, constraints: [], trainable: true })),
    inputs: c.inputs.filter((i) => i.batched).map((i) => ({ name: i.name, shape: i.shape, data: "d", field: "input" })),
    states,
    observations: [],
    prelude: emptyGraph,
    init: {
      inputs: [],
      eqns: [{ out: "c0", op: "const", args: [], shape: [], attrs: { value: 0 } }, ...states.map((s) => ({ out: `${s.name}_0`, op: "broadcast" as const, args: ["c0"], shape: s.shape }))],
      outputs: Object.fromEntries(states.map((s) => [s.name, `${s.name}_0`])),
    },
    step: { inputs: c.inputs.map((i) => i.name), eqns: c.eqns, outputs: Object.fromEntries(c.outputs.map((o) => [`o_${o}`, o])) },
    observe: emptyGraph,
    train: null,
    eval: null,
  };
}

describe("ops vs NumPy (per-sample semantics plus the batch axis)", () => {
  const cases = JSON.parse(readFileSync(join(FIX, "ops.json"), "utf8")) as OpCase[];
  for (const c of cases) {
    it(c.name, () => {
      const program = programFor(c);
      const params = Object.fromEntries(c.inputs.filter((i) => !i.batched).map((i) => [i.name, dec(i.data)]));
      const inputs = Object.fromEntries(c.inputs.filter((i) => i.batched).map((i) => [i.name, dec(i.data)]));
      for (const tile of [undefined, 1, 2]) {
        const model = compileModel(program, tile ? { tile } : {});
        const out = model.step(model.effectiveParams(params), {}, inputs, c.batch);
        for (const o of c.outputs) expectClose(out[`o_${o}`]!, dec(c.expected[o]!), `${c.name} ${o} (tile ${tile ?? "auto"})`);
      }
    });
  }
});

describe("interpreter behaviour", () => {
  const tiny = (eqns: Eqn[], outputs: string[], inputs: { name: string; shape: number[]; batched: boolean }[] = []) => compileModel(programFor({ inputs, eqns, outputs }));

  it("refuses unbound (symbolic) shapes with a clear error", () => {
    const p = compileSpec("dendplrnn");
    expect(() => compileModel(p)).toThrow(InterpError);
    expect(() => compileModel(p)).toThrow(/symbolic.*bindDims/);
  });

  it("reports an eqn whose declared shape disagrees with NumPy", () => {
    expect(() => tiny([{ out: "r", op: "add", args: ["a", "b"], shape: [3] }], ["r"], [{ name: "a", shape: [2, 3], batched: true }, { name: "b", shape: [3], batched: false }])).toThrow(/declares shape \[3\] but NumPy gives \[2, 3\]/);
  });

  it("draws noise sample-major per eqn, in graph order, independent of the tile size", () => {
    const eqns: Eqn[] = [
      { out: "n1", op: "noise", args: [], shape: [2] },
      { out: "n2", op: "noise", args: [], shape: [3] },
      { out: "r", op: "concat", args: ["n1", "n2"], shape: [5], attrs: { axis: 0 } },
    ];
    for (const tile of [1, 2, 4]) {
      const m = compileModel(programFor({ inputs: [], eqns, outputs: ["r"] }), { tile });
      const draws = Float64Array.from({ length: 20 }, (_, i) => i);
      const out = m.step(m.effectiveParams({}), {}, {}, 4, scripted(draws))["o_r"]!;
      // n1 takes draws 0..7 ([4, 2]), n2 draws 8..19 ([4, 3])
      expect(Array.from(out)).toEqual([0, 1, 8, 9, 10, 2, 3, 11, 12, 13, 4, 5, 14, 15, 16, 6, 7, 17, 18, 19]);
    }
    const m = compileModel(programFor({ inputs: [], eqns, outputs: ["r"] }));
    expect(() => m.step(m.effectiveParams({}), {}, {}, 1)).toThrow(/draws noise/);
  });

  it("broadcasts an unbatched output to every sample and copies outputs that alias inputs", () => {
    const m = tiny([{ out: "c", op: "const", args: [], shape: [], attrs: { value: 3 } }, { out: "r", op: "broadcast", args: ["c"], shape: [2] }], ["r", "a"], [{ name: "a", shape: [2], batched: true }]);
    const out = m.step(m.effectiveParams({}), {}, { a: [1, 2, 3, 4, 5, 6] }, 3);
    expect(Array.from(out["o_r"]!)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(Array.from(out["o_a"]!)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("executors: advance commits next states; sharing buffers; batch below capacity", () => {
    const program = bindDims(compileSpec("alrnn"), {});
    const m = compileModel(program);
    const raw = decAll((JSON.parse(readFileSync(join(FIX, "alrnn.json"), "utf8")) as ModelFixture).params);
    const eff = m.effectiveParams(raw);
    const step = m.executor("step", 4).bind(eff);
    const obs = m.executor("observe", 4, { share: step.in }).bind(eff);
    expect(obs.in["z"]).toBe(step.in["z"]);
    step.in["z"]!.set(Float64Array.from({ length: 80 }, (_, i) => Math.sin(i)));
    const ref = m.step(eff, { z: step.in["z"]!.slice(0, 40) }, {}, 2)["z"]!.slice();
    const tail = step.in["z"]!.slice(40);
    step.advance(2);
    expect(Array.from(step.in["z"]!.subarray(0, 40))).toEqual(Array.from(ref));
    expect(Array.from(step.in["z"]!.subarray(40))).toEqual(Array.from(tail)); // samples 2, 3 untouched
    obs.run(2);
    expect(Array.from(obs.out["x"]!.subarray(0, 6))).toEqual([ref[0], ref[1], ref[2], ref[20], ref[21], ref[22]]);
    expect(() => step.run(5)).toThrow(/outside/);
    expect(() => m.executor("step", 2).run()).toThrow(/bind/);
  });

  it("recomputes parameter-only values when the parameters change (hoisting is per bind)", () => {
    const program = bindDims(compileSpec("dendplrnn"), {});
    const fx = JSON.parse(readFileSync(join(FIX, "dendplrnn.json"), "utf8")) as ModelFixture;
    const raw = decAll(fx.params);
    const raw2 = { ...raw, H: raw["H"]!.map((v) => v * 0.5) };
    const states = decAll(fx.step.states);
    const m = compileModel(program);
    const a = m.step(m.effectiveParams(raw), states, {}, 3)["z"]!.slice();
    const b = m.step(m.effectiveParams(raw2), states, {}, 3)["z"]!.slice();
    const fresh = compileModel(program);
    expect(Array.from(b)).toEqual(Array.from(fresh.step(fresh.effectiveParams(raw2), states, {}, 3)["z"]!));
    expect(Array.from(b)).not.toEqual(Array.from(a));
    // an executor reads the arrays by reference: after an in-place change, bind again
    const eff = m.effectiveParams(raw);
    const ex = m.executor("step", 3).bind(eff);
    (ex.in["z"] as Float64Array).set(states["z"]!);
    (eff["H"] as Float64Array).set(raw2["H"]!);
    ex.bind(eff).run();
    expect(Array.from(ex.out["z"]!)).toEqual(Array.from(b));
  });

  it("generate: z0 or x0, errors and the t = 0 convention", () => {
    const program = bindDims(compileSpec("plrnn"), {});
    const m = compileModel(program);
    const fx = JSON.parse(readFileSync(join(FIX, "plrnn.json"), "utf8")) as ModelFixture;
    const eff = m.effectiveParams(decAll(fx.params));
    expect(() => generate(m, eff, { steps: 3 })).toThrow(/pass x0 or z0/);
    const x0 = [0.5, -0.5, 1];
    const a = generate(m, eff, { steps: 3, x0 });
    expect(a.latent["z"]!.length).toBe(4 * 15);
    expect(Array.from(a.observed["x"]!.subarray(0, 3))).toEqual(x0);
    const b = generate(m, eff, { steps: 3, z0: { z: a.latent["z"]!.subarray(0, 15) } });
    expect(Array.from(b.latent["z"]!)).toEqual(Array.from(a.latent["z"]!));
    const c = generate(m, eff, { steps: 2, z0: { z: a.latent["z"]!.subarray(15, 30) }, latent: false });
    expect(c.latent).toEqual({});
    expect(Array.from(c.observed["x"]!)).toEqual(Array.from(a.observed["x"]!.subarray(3)));
    expect(() => generate(m, eff, { steps: 2, x0: [1, 2] })).toThrow(/elements/);
  });

  it("treats names like constructor and __proto__ as plain names", () => {
    const inputs = [{ name: "constructor", shape: [2], batched: false }, { name: "__proto__", shape: [2], batched: true }, { name: "toString", shape: [2], batched: true }];
    const m = tiny([{ out: "valueOf", op: "add", args: ["constructor", "__proto__"], shape: [2] }, { out: "hasOwnProperty", op: "mul", args: ["valueOf", "toString"], shape: [2] }], ["hasOwnProperty"], inputs);
    const eff = m.effectiveParams(Object.fromEntries([["constructor", new Float64Array([1, 2])]]));
    const out = m.step(eff, {}, Object.fromEntries([["__proto__", [10, 20, 30, 40]], ["toString", [1, 2, 3, 4]]]), 2);
    expect(Array.from(out["o_hasOwnProperty"]!)).toEqual([11, 44, 93, 168]);
    expect(() => m.effectiveParams({})).toThrow(/'constructor' is missing/);
  });

  it("allocates nothing per step", () => {
    const program = bindDims(compileSpec("dendplrnn"), {});
    const m = compileModel(program);
    const fx = JSON.parse(readFileSync(join(FIX, "dendplrnn.json"), "utf8")) as ModelFixture;
    const eff = m.effectiveParams(decAll(fx.params));
    const states = decAll(fx.step.states);
    // the convenience calls return the same record and buffers every time
    const a = m.step(eff, states, {}, 3);
    const zA = a["z"];
    const b = m.step(eff, { z: a["z"]! }, {}, 3);
    expect(b).toBe(a);
    expect(b["z"]).toBe(zA);
    // count typed-array constructions and views while stepping and generating
    const counts = { n: 0 };
    const Orig = globalThis.Float64Array;
    const proto = Orig.prototype as unknown as Record<string, unknown>;
    const saved = ["subarray", "slice", "map", "filter"].map((k) => [k, proto[k]] as const);
    globalThis.Float64Array = new Proxy(Orig, { construct: (t, args) => (counts.n++, Reflect.construct(t, args)) });
    for (const [k, f] of saved) proto[k] = function (this: unknown, ...args: unknown[]) { counts.n++; return (f as (...a: unknown[]) => unknown).apply(this, args); };
    let perSteps: number[] = [];
    try {
      const ex = m.executor("step", 16).bind(eff);
      counts.n = 0;
      for (let i = 0; i < 1000; i++) ex.advance();
      for (let i = 0; i < 100; i++) m.step(eff, states, {}, 3);
      expect(counts.n).toBe(0);
      perSteps = [10, 1000].map((steps) => {
        counts.n = 0;
        generate(m, eff, { steps, x0: [0.1, 0.2, 0.3] });
        return counts.n;
      });
    } finally {
      globalThis.Float64Array = Orig;
      for (const [k, f] of saved) proto[k] = f;
    }
    expect(perSteps[0]).toBeGreaterThan(0); // the counter sees generate's result arrays
    expect(perSteps[1]).toBe(perSteps[0]); // allocations per generate call do not grow with the steps
  });
});
