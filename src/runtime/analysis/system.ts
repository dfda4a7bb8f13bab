// A trained model as a deterministic map F: R^n -> R^n for analysis, built from the IR.
//
// The step graph is rewritten into a "flat" graph: one batched input holding every state side by
// side (declaration order), the model's inputs held at constant values, noise draws replaced by
// zeros (the deterministic skeleton), and one output with every next state side by side. F and its
// Jacobian run on the interpreter's generated float64 loops; the Jacobian is the compiler's
// reverse-mode adjoint of the flat graph (passes/autodiff.ts), evaluated with one unit cotangent
// per sample, so a batch of P points yields P full Jacobians. No finite differences.
import type { Eqn, Graph, Program, Shape } from "../../compiler/ir/types.js";
import { adjoint, ct } from "../../compiler/passes/autodiff.js";
import { CompiledGraph } from "./graph-exec.js";

export const Z = "%an:z";
export const NEXT = "%an:next";

export class AnalysisError extends Error {
  override name = "AnalysisError";
}

export interface StateSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function numeric(shape: Shape, what: string): number[] {
  return shape.map((d) => {
    if (typeof d !== "number") throw new AnalysisError(`${what} has a symbolic shape: the dims are not bound`);
    return d;
  });
}

/** The flat step graph and the shapes of its inputs (see the file comment). */
export interface FlatStep {
  graph: Graph;
  n: number;
  states: StateSlot[];
  /** unbatched inputs: effective parameters (by value name) and constant model inputs */
  fixedShapes: Map<string, number[]>;
  /** value name in the step graph -> parameter name (effective parameters are keyed by parameter) */
  paramOf: Map<string, string>;
  /** model input names read by the step */
  inputs: string[];
}

export function flattenStep(p: Program): FlatStep {
  if (p.states.length === 0 || Object.keys(p.step.outputs).length === 0) {
    throw new AnalysisError(`${p.model.file}: the model has no latent step to analyse`);
  }
  const states: StateSlot[] = [];
  let n = 0;
  for (const s of p.states) {
    const shape = numeric(s.shape, `state '${s.name}'`);
    states.push({ name: s.name, shape, offset: n, size: sizeOf(shape) });
    n += sizeOf(shape);
  }
  const stateNames = new Set(states.map((s) => s.name));
  const paramOf = new Map<string, string>();
  const paramShape = new Map<string, number[]>();
  for (const prm of p.params) {
    const value = Object.hasOwn(p.prelude.outputs, prm.name) ? p.prelude.outputs[prm.name]! : prm.name;
    paramOf.set(value, prm.name);
    const stored = numeric(prm.shape, `parameter '${prm.name}'`);
    paramShape.set(value, stored);
  }
  const inputShape = new Map(p.inputs.map((i) => [i.name, numeric(i.shape, `input '${i.name}'`)] as const));
  const fixedShapes = new Map<string, number[]>();
  const inputs: string[] = [];
  for (const name of p.step.inputs) {
    if (stateNames.has(name)) continue;
    const ps = paramShape.get(name);
    if (ps) fixedShapes.set(name, ps);
    else if (inputShape.has(name)) {
      fixedShapes.set(name, inputShape.get(name)!);
      inputs.push(name);
    } else throw new AnalysisError(`step input '${name}' is neither a state, a parameter nor an input`);
  }
  const eqns: Eqn[] = [];
  for (const s of states) {
    const flat = s.shape.length === 1 ? s.name : `%an:flat:${s.name}`;
    eqns.push({ out: flat, op: "slice", args: [Z], shape: [s.size], attrs: { axis: 0, start: s.offset, stop: s.offset + s.size } });
    if (flat !== s.name) eqns.push({ out: s.name, op: "reshape", args: [flat], shape: s.shape });
  }
  let zeros = 0;
  for (const e of p.step.eqns) {
    if (e.op === "noise") {
      // The deterministic skeleton: every noise draw is zero.
      const c = `%an:zero${zeros++}`;
      eqns.push({ out: c, op: "const", args: [], shape: [], attrs: { value: 0 } });
      eqns.push({ out: e.out, op: "broadcast", args: [c], shape: e.shape });
    } else eqns.push(e);
  }
  const parts: string[] = [];
  for (const s of states) {
    const v = p.step.outputs[s.name];
    if (v === undefined) throw new AnalysisError(`the step has no next value for state '${s.name}'`);
    if (s.shape.length === 1) parts.push(v);
    else {
      const r = `%an:out:${s.name}`;
      eqns.push({ out: r, op: "reshape", args: [v], shape: [s.size] });
      parts.push(r);
    }
  }
  eqns.push({ out: NEXT, op: "concat", args: parts, shape: [n], attrs: { axis: 0 } });
  const graph: Graph = { inputs: [Z, ...fixedShapes.keys()], eqns, outputs: { [NEXT]: NEXT } };
  return { graph, n, states, fixedShapes, paramOf, inputs };
}

/**
 * The graph of one Jacobian row per sample: the primal graph, then its adjoint with respect to
 * `wrt`, fed the cotangent `ct:<out>` (a unit vector per sample). Output `%an:jrow`.
 */
export function jacobianRowGraph(g: Graph, out: string, wrt: string, inputShapes: Map<string, number[]>): Graph {
  const single: Graph = { inputs: g.inputs, eqns: g.eqns, outputs: { [out]: g.outputs[out]! } };
  const adj = adjoint(single, { wrt: [wrt], inputShapes }, "an");
  return { inputs: [...g.inputs, ct(out)], eqns: [...g.eqns, ...adj.eqns], outputs: { "%an:jrow": adj.outputs[wrt]! } };
}

/** A batched evaluator of F and of its Jacobian, chunked to a fixed capacity. */
export class StepMap {
  readonly n: number;
  private readonly fExec: CompiledGraph;
  private readonly jExec: CompiledGraph;
  private readonly jPoints: number;
  private readonly vjpExec: CompiledGraph;

  constructor(readonly flat: FlatStep, fixed: Readonly<Record<string, Float64Array>>, readonly capacity = 256) {
    const n = flat.n;
    this.n = n;
    const io = { batched: new Map([[Z, [n]]]), fixed: flat.fixedShapes, outputs: new Map([[NEXT, n]]) };
    this.fExec = new CompiledGraph(flat.graph, io, capacity).bind(fixed);
    const shapes = new Map<string, number[]>([[Z, [n]], ...flat.fixedShapes]);
    const jg = jacobianRowGraph(flat.graph, NEXT, Z, shapes);
    // Jacobians are computed for up to jPoints points at once (n samples each).
    this.jPoints = Math.max(1, Math.floor(4096 / n));
    this.jExec = new CompiledGraph(jg, { batched: new Map([[Z, [n]], [ct(NEXT), [n]]]), fixed: flat.fixedShapes, outputs: new Map([["%an:jrow", n]]) }, this.jPoints * n).bind(fixed);
    const cts = this.jExec.in[ct(NEXT)]!;
    for (let b = 0; b < this.jPoints * n; b++) cts[b * n + (b % n)] = 1;
    this.vjpExec = new CompiledGraph(jg, { batched: new Map([[Z, [n]], [ct(NEXT), [n]]]), fixed: flat.fixedShapes, outputs: new Map([["%an:jrow", n]]) }, 1).bind(fixed);
  }

  /** out = J(z)ᵀ v at one point: one adjoint pass, n times cheaper than the full Jacobian. */
  vjp(z: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array = new Float64Array(this.n)): Float64Array {
    this.vjpExec.in[Z]!.set(z);
    this.vjpExec.in[ct(NEXT)]!.set(v);
    this.vjpExec.run(1);
    out.set(this.vjpExec.out["%an:jrow"]!.subarray(0, this.n));
    return out;
  }

  /** out[p] = F(z[p]) for `count` points stored one after the other. */
  map(z: Float64Array, count: number, out: Float64Array = new Float64Array(count * this.n)): Float64Array {
    const n = this.n;
    const zin = this.fExec.in[Z]!;
    const next = this.fExec.out[NEXT]!;
    for (let start = 0; start < count; start += this.capacity) {
      const c = Math.min(this.capacity, count - start);
      zin.set(z.subarray(start * n, (start + c) * n));
      this.fExec.run(c);
      out.set(next.subarray(0, c * n), start * n);
    }
    return out;
  }

  /** out[p] = dF/dz at z[p], row-major n x n per point (rows: outputs). */
  jacobian(z: Float64Array, count: number, out: Float64Array = new Float64Array(count * this.n * this.n)): Float64Array {
    const n = this.n;
    const zin = this.jExec.in[Z]!;
    const rows = this.jExec.out["%an:jrow"]!;
    for (let start = 0; start < count; start += this.jPoints) {
      const c = Math.min(this.jPoints, count - start);
      for (let p = 0; p < c; p++) {
        const src = z.subarray((start + p) * n, (start + p + 1) * n);
        for (let i = 0; i < n; i++) zin.set(src, (p * n + i) * n);
      }
      this.jExec.run(c * n);
      out.set(rows.subarray(0, c * n * n), start * n * n);
    }
    return out;
  }
}

/**
 * The values bound to the flat graph's unbatched inputs: effective parameters (keyed by the step's
 * value names) and the constant inputs. `input` may hold one vector per model input, or a single
 * vector when the model has one input.
 */
export function fixedValues(flat: FlatStep, eff: Readonly<Record<string, ArrayLike<number>>>, inputs: Readonly<Record<string, ArrayLike<number>>>): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [value, shape] of flat.fixedShapes) {
    const prm = flat.paramOf.get(value);
    const src = prm !== undefined ? eff[prm] : inputs[value];
    if (src === undefined) throw new AnalysisError(prm !== undefined ? `parameter '${prm}' is missing` : `no constant value for input '${value}'`);
    if (src.length !== sizeOf(shape)) throw new AnalysisError(`${prm !== undefined ? `parameter '${prm}'` : `input '${value}'`} has ${src.length} values, expected ${sizeOf(shape)}`);
    out[value] = Float64Array.from(src);
  }
  return out;
}
