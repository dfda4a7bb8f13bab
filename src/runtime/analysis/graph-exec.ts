// Runs an arbitrary bound IR graph (the flattened step, its adjoint, the region-masked step) on the
// interpreter backend's planner and code generator: generated float64 loops, batched over samples.
// The interpreter's own Model only runs the program's four graphs; the analysis graphs have other
// inputs and outputs, so they get this small executor over the same planGraph/compileFactory.
import { compileFactory, type FloatArray, type GenModule } from "../../compiler/backends/interp/codegen.js";
import { planGraph, sizeOf } from "../../compiler/backends/interp/plan.js";
import type { Graph } from "../../compiler/ir/types.js";
import { cseGraph } from "../../compiler/passes/cse.js";
import { dceGraph } from "../../compiler/passes/dce.js";

export interface GraphIo {
  /** batched inputs (one value per sample) by name, with their per-sample shapes */
  batched: Map<string, number[]>;
  /** unbatched inputs (parameters, constant inputs) by name, with their shapes */
  fixed: Map<string, number[]>;
  /** per-sample sizes of the outputs */
  outputs: Map<string, number>;
}

export class CompiledGraph {
  readonly in: Record<string, Float64Array> = {};
  readonly out: Record<string, Float64Array> = {};
  private readonly gen: GenModule;
  private readonly P: FloatArray[];
  private readonly params: string[];

  constructor(graph: Graph, io: GraphIo, readonly capacity: number) {
    // The adjoint computes every operand's cotangent (parameters' too); only what reaches the
    // outputs is kept, and repeated subexpressions are computed once.
    graph = dceGraph(cseGraph(graph));
    const batchedList = [...io.batched].map(([key, shape]) => ({ key, size: sizeOf(shape) }));
    const plan = planGraph("step", graph, (name) => {
      const b = io.batched.get(name);
      if (b) return { kind: "batched", key: name, shape: b };
      const f = io.fixed.get(name);
      return f ? { kind: "param", param: name, shape: f } : undefined;
    }, batchedList, io.outputs);
    this.params = plan.params;
    const X = plan.x.map((b) => new Float64Array(capacity * b.size));
    plan.x.forEach((b, i) => {
      if (b.role === "in") this.in[b.key] = X[i]!;
      else if (b.role === "out") this.out[b.key] = X[i]!;
    });
    const budget = 1 << 15;
    const per = plan.t.reduce((a, b) => a + b, 0);
    const tile = per === 0 ? capacity : Math.max(1, Math.min(capacity, Math.floor(budget / per)));
    const T = plan.t.map((s) => new Float64Array(tile * s));
    const H = plan.h.map((s) => new Float64Array(s));
    this.P = plan.params.map(() => new Float64Array(0));
    if (plan.noise.length) throw new Error("analysis graphs draw no noise");
    this.gen = compileFactory(plan, tile, [], "float64")(this.P, X, T, H, { rng: undefined });
  }

  /** Binds the unbatched inputs (by name) and recomputes everything that depends on them only. */
  bind(values: Readonly<Record<string, Float64Array>>): this {
    this.params.forEach((name, i) => {
      const v = values[name];
      if (!v) throw new Error(`analysis graph: no value for '${name}'`);
      this.P[i] = v;
    });
    this.gen.hoist();
    return this;
  }

  run(batch: number): void {
    if (batch > this.capacity) throw new Error(`analysis graph: batch ${batch} exceeds capacity ${this.capacity}`);
    this.gen.run(batch);
  }
}
