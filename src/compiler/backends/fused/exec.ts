// A generated-code executor for any IR graph (the fused tier's forward, tape and adjoint graphs),
// built on the interpreter backend's planner and code generator. Buffers are allocated once.
import type { Graph } from "../../ir/types.js";
import { compileFactory, generateSource, type GenModule, type NormalSource } from "../interp/codegen.js";
import { planGraph, type GraphPlan, type InputBinding } from "../interp/plan.js";

export interface GraphSpec {
  name: "prelude" | "init" | "step" | "observe";
  graph: Graph;
  /** Inputs bound as parameters (unbatched, by `bind`), with their shapes. */
  params: Map<string, number[]>;
  /** Inputs with a batch axis, with their per-sample sizes and shapes. */
  batched: Map<string, number[]>;
  /** Per-sample size of every output. */
  outputSizes: Map<string, number>;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Plans a graph spec: parameters unbatched, the listed inputs batched. */
export function planSpec(spec: GraphSpec, accumulated?: ReadonlySet<string>): GraphPlan {
  const bindInput = (n: string): InputBinding | undefined => {
    const p = spec.params.get(n);
    if (p) return { kind: "param", param: n, shape: p };
    const b = spec.batched.get(n);
    return b ? { kind: "batched", key: n, shape: b } : undefined;
  };
  const batchedInputs = [...spec.batched].map(([key, s]) => ({ key, size: size(s) }));
  return planGraph(spec.name, spec.graph, bindInput, batchedInputs, spec.outputSizes, accumulated);
}

export class GraphExec {
  readonly in: Record<string, Float64Array> = {};
  readonly out: Record<string, Float64Array> = {};
  readonly plan: GraphPlan;
  readonly source: string;
  private readonly P: Float64Array[];
  private readonly X: Float64Array[];
  private readonly inIdx = new Map<string, number>();
  private readonly outIdx = new Map<string, number>();
  private readonly gen: GenModule;
  rng: NormalSource | undefined;

  constructor(spec: GraphSpec, readonly capacity: number, commits: [string, string][] = []) {
    this.plan = planSpec(spec);
    const X = this.plan.x.map((b) => new Float64Array(capacity * b.size));
    this.X = X;
    this.plan.x.forEach((b, i) => {
      if (b.role === "in") {
        this.in[b.key] = X[i]!;
        this.inIdx.set(b.key, i);
      } else if (b.role === "out") {
        this.out[b.key] = X[i]!;
        this.outIdx.set(b.key, i);
      }
    });
    const tile = capacity;
    const T = this.plan.t.map((s) => new Float64Array(tile * s));
    const H = this.plan.h.map((s) => new Float64Array(s));
    this.P = this.plan.params.map(() => new Float64Array(0));
    const commitIdx = commits.map(([from, to]): [number, number, number] => {
      const xo = this.plan.x.findIndex((b) => b.role === "out" && b.key === from);
      const xi = this.plan.x.findIndex((b) => b.role === "in" && b.key === to);
      return [xi, xo, this.plan.x[xi]!.size];
    });
    this.source = generateSource(this.plan, tile, commitIdx);
    this.gen = compileFactory(this.plan, tile, commitIdx, "float64")(this.P, X, T, H, this);
  }

  /**
   * Point an input or output at another array of the same size (no copy): the generated code reads
   * its buffers from X at every run, so taped values can be written and read in place.
   */
  attachIn(name: string, a: Float64Array): void {
    this.X[this.inIdx.get(name)!] = a;
    this.in[name] = a;
  }

  attachOut(name: string, a: Float64Array): void {
    this.X[this.outIdx.get(name)!] = a;
    this.out[name] = a;
  }

  input(name: string): Float64Array {
    return this.in[name]!;
  }

  output(name: string): Float64Array {
    return this.out[name]!;
  }

  hasInput(name: string): boolean {
    return this.inIdx.has(name);
  }

  bind(params: Readonly<Record<string, Float64Array>>): this {
    this.plan.params.forEach((name, i) => {
      const a = params[name];
      if (!a) throw new Error(`${this.plan.graph}: parameter '${name}' missing`);
      this.P[i] = a;
    });
    this.gen.hoist();
    return this;
  }

  run(nb: number): void {
    this.gen.run(nb);
  }

  commit(nb: number): void {
    this.gen.commit(nb);
  }
}
