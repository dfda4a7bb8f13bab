// The WebAssembly SIMD backend on its own: vectorised transcendental functions against the host's
// float64 Math, broadcasting and reductions against the interpreter, and zero-copy attachment.
import { describe, expect, it } from "vitest";
import { GraphExec } from "../../src/compiler/backends/fused/exec.js";
import { Slot, WasmArena, WasmGraphExec, lanesFor } from "../../src/compiler/backends/wasm/exec.js";
import type { Eqn, Graph } from "../../src/compiler/ir/types.js";

/** A one-input graph y = op(x) over per-sample vectors of n elements. */
function unary(op: Eqn["op"], n: number): Graph {
  return { inputs: ["x"], eqns: [{ op, args: ["x"], out: "y", shape: [n] }], outputs: { y: "y" } };
}

function run(g: Graph, n: number, B: number, fill: (b: number, i: number) => number, params: Record<string, number[]> = {}) {
  const spec = {
    name: "step" as const,
    graph: g,
    params: new Map(Object.entries(params).map(([k, v]) => [k, [v.length]])),
    batched: new Map([["x", [n]]]),
    outputSizes: new Map(Object.keys(g.outputs).map((k) => [k, n])),
  };
  const wasm = new WasmGraphExec(spec, B, new WasmArena());
  const js = new GraphExec(spec, B);
  const p64 = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Float64Array.from(v)]));
  wasm.bind(p64);
  js.bind(p64);
  const L = wasm.lanes;
  for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) {
    const v = Math.fround(fill(b, i));
    wasm.input("x")[i * L + b] = v;
    js.input("x")[b * n + i] = v;
  }
  wasm.run(B);
  js.run(B);
  const out = Object.keys(g.outputs)[0]!;
  return { got: (b: number, i: number) => wasm.output(out)[i * L + b]!, want: (b: number, i: number) => js.output(out)[b * n + i]! };
}

describe("WebAssembly SIMD backend", () => {
  it("rounds the batch up to whole vectors (and whole 8-vector blocks beyond 32)", () => {
    expect([1, 4, 5, 16, 20, 32, 33, 64, 65].map(lanesFor)).toEqual([4, 4, 8, 16, 20, 32, 64, 64, 96]);
  });

  for (const [op, lo, hi, tol] of [["exp", -80, 80, 3e-7], ["tanh", -12, 12, 3e-7], ["sigmoid", -40, 40, 3e-7]] as const) {
    it(`${op} is computed in SIMD to within a few float32 ulps of float64 Math (${lo}..${hi})`, () => {
      const n = 250;
      const B = 8;
      const { got, want } = run(unary(op, n), n, B, (b, i) => lo + ((hi - lo) * (b * n + i)) / (B * n - 1));
      let worst = 0;
      for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) {
        const w = want(b, i);
        worst = Math.max(worst, Math.abs(got(b, i) - w) / Math.max(Math.abs(w), 1e-30));
      }
      expect(worst).toBeLessThan(tol);
    });
  }

  it("tanh keeps its relative precision near zero and its sign", () => {
    const n = 64;
    const { got, want } = run(unary("tanh", n), n, 4, (b, i) => (b % 2 ? -1 : 1) * 1e-6 * 1.3 ** i);
    for (let b = 0; b < 4; b++) for (let i = 0; i < n; i++) expect(Math.abs(got(b, i) - want(b, i)) / Math.abs(want(b, i))).toBeLessThan(3e-7);
  });

  it("broadcasts parameters, reduces, and multiplies matrices like the interpreter", () => {
    const n = 6;
    const g: Graph = {
      inputs: ["x", "W", "c"],
      eqns: [
        { op: "matmul", args: ["W", "x"], out: "wx", shape: [n] },
        { op: "add", args: ["wx", "c"], out: "a", shape: [n] },
        { op: "relu", args: ["a"], out: "r", shape: [n] },
        { op: "reduce_sum", args: ["r"], out: "s", shape: [], attrs: { axes: [0] } },
        { op: "mul", args: ["r", "s"], out: "y", shape: [n] },
      ],
      outputs: { y: "y" },
    };
    const W = Array.from({ length: n * n }, (_, k) => Math.sin(k));
    const spec = { W, c: Array.from({ length: n }, (_, k) => 0.1 * k - 0.2) };
    // W is [n, n]: pass it through a graph input of that shape
    const s = {
      name: "step" as const,
      graph: g,
      params: new Map<string, number[]>([["W", [n, n]], ["c", [n]]]),
      batched: new Map([["x", [n]]]),
      outputSizes: new Map([["y", n]]),
    };
    const B = 5;
    const wasm = new WasmGraphExec(s, B, new WasmArena());
    const js = new GraphExec(s, B);
    const p = { W: Float64Array.from(spec.W), c: Float64Array.from(spec.c) };
    wasm.bind(p);
    js.bind(p);
    const L = wasm.lanes;
    for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) {
      const v = Math.fround(Math.cos(b * 7 + i));
      wasm.input("x")[i * L + b] = v;
      js.input("x")[b * n + i] = v;
    }
    wasm.run(B);
    js.run(B);
    for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) expect(wasm.output("y")[i * L + b]).toBeCloseTo(js.output("y")[b * n + i]!, 5);
  });

  it("reads an attached input slot in place and survives memory growth", () => {
    const n = 3;
    const arena = new WasmArena();
    const exec = new WasmGraphExec({ name: "step", graph: unary("neg", n), params: new Map(), batched: new Map([["x", [n]]]), outputSizes: new Map([["y", n]]) }, 4, arena);
    const slot = new Slot(arena, arena.alloc(4 * n * exec.lanes), n * exec.lanes);
    slot.view.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    exec.attachIn("x", slot);
    arena.alloc(1 << 20); // grows the memory: views are re-made
    exec.run(4);
    expect(Array.from(exec.output("y"))).toEqual([-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12]);
  });
});
