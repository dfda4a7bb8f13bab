// Piecewise-linear structure of a step, proved from the IR (never from the model's name).
//
// The flat step is affine within regions iff every operation that depends on the state is either
// linear in it (add, sub, neg, slice, concat, reshape, transpose, broadcast, pad, sums and means,
// products and matmuls with at most one state-dependent operand, division by a state-independent
// value) or a switch: relu, heaviside, sign, abs, clip, maximum, minimum. Fixing each switch's
// active branch element by element (the region code) leaves an affine map z' = W_D z + h_D.
//
// Two derived graphs do the work:
// - the selector graph returns each switch's selector (its pre-activation, a - b for maximum and
//   minimum), from which the region of a point is read;
// - the masked graph replaces every switch by its branch, chosen by per-sample mask inputs, so it
//   is affine in z for any region, including regions no trajectory visits (SCYFI's virtual
//   cycles). W_D is its Jacobian (the compiler's adjoint) and h_D its value at z = 0.
import type { Eqn, Graph, OpName } from "../../compiler/ir/types.js";
import { ct } from "../../compiler/passes/autodiff.js";
import { CompiledGraph } from "./graph-exec.js";
import { AnalysisError, jacobianRowGraph, NEXT, Z, type FlatStep } from "./system.js";

const LINEAR = new Set<OpName>(["add", "sub", "neg", "slice", "concat", "reshape", "transpose", "broadcast", "pad", "reduce_sum", "reduce_mean"]);
const SWITCH = new Set<OpName>(["relu", "heaviside", "sign", "abs", "clip", "maximum", "minimum"]);

export interface Switch {
  op: OpName;
  /** the value the switch produces */
  out: string;
  /** branches per element: 2 (off/on) or 3 for clip (below, inside, above) */
  branches: 2 | 3;
  /** elements (the output's size) and their position in the region code */
  size: number;
  offset: number;
  line?: number;
}

export type Linearity = { piecewiseLinear: true; switches: Switch[]; codeLength: number } | { piecewiseLinear: false; reason: string };

const sizeOf = (s: readonly unknown[]) => s.reduce<number>((a, d) => a * (d as number), 1);

/** Whether the flat step is piecewise affine in the state, and its switches. */
export function linearity(flat: FlatStep): Linearity {
  // affine: values affine in z within a region; constant: values that depend on z only through the
  // region (heaviside, sign and anything computed from them alone).
  const affine = new Set<string>([Z]);
  const constant = new Set<string>();
  const switches: Switch[] = [];
  let offset = 0;
  const where = (e: Eqn) => (e.src ? ` (spec line ${e.src.line})` : "");
  for (const e of flat.graph.eqns) {
    const depArgs = e.args.filter((a) => affine.has(a));
    if (depArgs.length === 0) {
      if (e.args.some((a) => constant.has(a))) constant.add(e.out);
      continue;
    }
    if (SWITCH.has(e.op)) {
      const size = sizeOf(e.shape);
      switches.push({ op: e.op, out: e.out, branches: e.op === "clip" ? 3 : 2, size, offset, ...(e.src ? { line: e.src.line } : {}) });
      offset += size;
      (e.op === "heaviside" || e.op === "sign" ? constant : affine).add(e.out);
      continue;
    }
    affine.add(e.out);
    if (LINEAR.has(e.op)) continue;
    if ((e.op === "mul" || e.op === "matmul") && depArgs.length === 1) continue;
    if (e.op === "div" && !affine.has(e.args[1]!)) continue;
    const what = e.op === "mul" || e.op === "matmul" ? `a product of two state-dependent values (${e.op})` : e.op === "div" ? "a division by a state-dependent value" : `${e.op} to the state`;
    return { piecewiseLinear: false, reason: `the step applies ${what}${where(e)}` };
  }
  return { piecewiseLinear: true, switches, codeLength: offset };
}

/** Number of region codes (the product of the branch counts), as log2 and, when exact, as a number. */
export function regionCount(switches: Switch[]): { log2: number; exact: number | null } {
  let log2 = 0;
  for (const s of switches) log2 += s.size * Math.log2(s.branches);
  const exact = log2 <= 52 ? Math.round(2 ** log2) : null;
  return { log2, exact };
}

const maskName = (k: number, b: number) => `%an:mask${k}:${b}`;

/** The selector graph (outputs `%an:sel<k>`) and the masked graph (inputs `%an:mask<k>:<branch>`). */
function derivedGraphs(flat: FlatStep, switches: Switch[]): { selector: Graph; masked: Graph; masks: Map<string, number[]> } {
  const byOut = new Map(switches.map((s, k) => [s.out, k]));
  const selEqns: Eqn[] = [];
  const selOutputs: Record<string, string> = {};
  const maskedEqns: Eqn[] = [];
  const masks = new Map<string, number[]>();
  let t = 0;
  const tmp = () => `%an:pl${t++}`;
  for (const e of flat.graph.eqns) {
    selEqns.push(e);
    const k = byOut.get(e.out);
    if (k === undefined) {
      maskedEqns.push(e);
      continue;
    }
    const shape = e.shape;
    const [a, b] = e.args as [string, string | undefined];
    // selector: the pre-activation, or a - b (maximum) / b - a (minimum), at the output's shape
    if (e.op === "maximum" || e.op === "minimum") {
      const s = `%an:sel${k}`;
      selEqns.push({ out: s, op: "sub", args: e.op === "maximum" ? [a, b!] : [b!, a], shape });
      selOutputs[s] = s;
    } else selOutputs[`%an:sel${k}`] = a;
    const em = (op: OpName, args: string[], attrs?: Eqn["attrs"], out = tmp(), s = shape): string => {
      maskedEqns.push({ out, op, args, shape: s, ...(attrs ? { attrs } : {}) });
      return out;
    };
    const cst = (v: number) => em("const", [], { value: v }, tmp(), []);
    const mask = (branch: number) => {
      const m = maskName(k, branch);
      masks.set(m, shape as number[]);
      return m;
    };
    switch (e.op) {
      case "relu": em("mul", [a, mask(1)], undefined, e.out); break;
      case "heaviside": em("reshape", [mask(1)], undefined, e.out); break;
      case "sign": em("sub", [em("mul", [mask(1), cst(2)]), cst(1)], undefined, e.out); break;
      case "abs": em("mul", [a, em("sub", [em("mul", [mask(1), cst(2)]), cst(1)])], undefined, e.out); break;
      case "maximum": case "minimum": {
        // branch 1 picks a (a > b for maximum, a < b for minimum), branch 0 picks b
        em("add", [em("broadcast", [b!]), em("mul", [mask(1), em("sub", [a, b!])])], undefined, e.out);
        break;
      }
      case "clip": {
        const lo = e.attrs!["lo"] as number;
        const hi = e.attrs!["hi"] as number;
        const inside = em("mul", [a, mask(1)]);
        const below = em("mul", [mask(0), cst(lo)]);
        const above = em("mul", [mask(2), cst(hi)]);
        em("add", [em("add", [inside, below]), above], undefined, e.out);
        break;
      }
      default: throw new AnalysisError(`internal: switch ${e.op} has no masked form`);
    }
  }
  const selector: Graph = { inputs: flat.graph.inputs, eqns: selEqns, outputs: selOutputs };
  const masked: Graph = { inputs: [...flat.graph.inputs, ...masks.keys()], eqns: maskedEqns, outputs: { [NEXT]: NEXT } };
  return { selector, masked, masks };
}

export interface Affine {
  /** n x n, row-major */
  W: Float64Array;
  /** n */
  h: Float64Array;
}

/**
 * Regions and per-region affine maps of a piecewise-linear step. A region code holds one branch
 * index per switch element (switches in graph order); for a PLRNN it is the ReLU pattern D.
 * Codes are interned as small integer ids (the hot loops of SCYFI compare and copy ids only);
 * W_D and h_D are computed once per id, on first use.
 */
export class PiecewiseLinearMap {
  readonly n: number;
  readonly codeLength: number;
  /** branches per code element */
  readonly radix: Uint8Array;
  /** the number of codes when it fits a double exactly, else null */
  readonly count: number | null;
  private readonly sel: CompiledGraph;
  private readonly off: CompiledGraph;
  private readonly jac: CompiledGraph;
  private readonly selectors: { values: Float64Array; lo: number; hi: number; clip: boolean; offset: number; size: number }[];
  private readonly codes: Uint8Array[] = [];
  private readonly affines: (Affine | undefined)[] = [];
  private readonly idsByNumber = new Map<number, number>();
  private readonly idsByString = new Map<string, number>();
  private readonly scratch: Uint8Array;

  constructor(readonly flat: FlatStep, readonly switches: Switch[], fixed: Readonly<Record<string, Float64Array>>) {
    const n = flat.n;
    this.n = n;
    this.codeLength = switches.reduce((a, s) => a + s.size, 0);
    this.radix = new Uint8Array(this.codeLength);
    for (const s of switches) this.radix.fill(s.branches, s.offset, s.offset + s.size);
    this.count = regionCount(switches).exact;
    this.scratch = new Uint8Array(this.codeLength);
    const { selector, masked, masks } = derivedGraphs(flat, switches);
    const selOut = new Map(switches.map((s, k) => [`%an:sel${k}`, s.size] as const));
    this.sel = new CompiledGraph(selector, { batched: new Map([[Z, [n]]]), fixed: flat.fixedShapes, outputs: selOut }, 1).bind(fixed);
    this.selectors = switches.map((s, k) => {
      const e = flat.graph.eqns.find((x) => x.out === s.out)!;
      const clip = s.op === "clip";
      return { values: this.sel.out[`%an:sel${k}`]!, clip, lo: clip ? (e.attrs!["lo"] as number) : 0, hi: clip ? (e.attrs!["hi"] as number) : 0, offset: s.offset, size: s.size };
    });
    const batched = new Map<string, number[]>([[Z, [n]], ...masks]);
    this.off = new CompiledGraph(masked, { batched, fixed: flat.fixedShapes, outputs: new Map([[NEXT, n]]) }, 1).bind(fixed);
    const shapes = new Map<string, number[]>([[Z, [n]], ...flat.fixedShapes, ...masks]);
    const jg = jacobianRowGraph(masked, NEXT, Z, shapes);
    this.jac = new CompiledGraph(jg, { batched: new Map([...batched, [ct(NEXT), [n]]]), fixed: flat.fixedShapes, outputs: new Map([["%an:jrow", n]]) }, n).bind(fixed);
    const cts = this.jac.in[ct(NEXT)]!;
    for (let i = 0; i < n; i++) cts[i * n + i] = 1;
  }

  /** The id of a region code (interned). */
  idOf(code: Uint8Array): number {
    if (this.count !== null) {
      let x = 0;
      for (let j = 0; j < code.length; j++) x = x * this.radix[j]! + code[j]!;
      let id = this.idsByNumber.get(x);
      if (id === undefined) {
        id = this.codes.length;
        this.codes.push(Uint8Array.from(code));
        this.idsByNumber.set(x, id);
      }
      return id;
    }
    let key = "";
    for (let j = 0; j < code.length; j++) key += String.fromCharCode(48 + code[j]!);
    let id = this.idsByString.get(key);
    if (id === undefined) {
      id = this.codes.length;
      this.codes.push(Uint8Array.from(code));
      this.idsByString.set(key, id);
    }
    return id;
  }

  code(id: number): Uint8Array {
    return this.codes[id]!;
  }

  /** The region (id) containing z: the branch of every switch element at z. */
  regionOf(z: ArrayLike<number>): number {
    this.sel.in[Z]!.set(z);
    this.sel.run(1);
    const code = this.scratch;
    for (const s of this.selectors) {
      const v = s.values;
      if (s.clip) for (let i = 0; i < s.size; i++) code[s.offset + i] = v[i]! < s.lo ? 0 : v[i]! > s.hi ? 2 : 1;
      else for (let i = 0; i < s.size; i++) code[s.offset + i] = v[i]! > 0 ? 1 : 0;
    }
    return this.idOf(code);
  }

  private setMasks(ex: CompiledGraph, code: Uint8Array, samples: number): void {
    this.switches.forEach((s, k) => {
      for (let b = 0; b < s.branches; b++) {
        const m = ex.in[maskName(k, b)];
        if (!m) continue;
        for (let smp = 0; smp < samples; smp++) {
          const base = smp * s.size;
          for (let i = 0; i < s.size; i++) m[base + i] = code[s.offset + i] === b ? 1 : 0;
        }
      }
    });
  }

  /** W_D and h_D of a region, from the masked graph (computed once per region). */
  affine(id: number): Affine {
    const hit = this.affines[id];
    if (hit) return hit;
    const n = this.n;
    const code = this.codes[id]!;
    this.setMasks(this.off, code, 1);
    this.off.in[Z]!.fill(0);
    this.off.run(1);
    const h = Float64Array.from(this.off.out[NEXT]!.subarray(0, n));
    this.setMasks(this.jac, code, n);
    this.jac.in[Z]!.fill(0);
    this.jac.run(n);
    const W = Float64Array.from(this.jac.out["%an:jrow"]!.subarray(0, n * n));
    const a = { W, h };
    this.affines[id] = a;
    return a;
  }

  /** out = F(z), the exact map: z's region selects the branch. Returns the region id of z. */
  step(z: ArrayLike<number>, out: Float64Array): number {
    const id = this.regionOf(z);
    const { W, h } = this.affine(id);
    const n = this.n;
    for (let i = 0; i < n; i++) {
      let s = h[i]!;
      for (let j = 0; j < n; j++) s += W[i * n + j]! * z[j]!;
      out[i] = s;
    }
    return id;
  }

  /** A readable name of a region: its branch indices, switch by switch ("01|10"). */
  name(id: number): string {
    const code = this.codes[id]!;
    return this.switches.map((s) => Array.from(code.subarray(s.offset, s.offset + s.size)).join("")).join("|");
  }

  /** The code with mixed-radix index `idx` (0 <= idx < count). */
  codeAt(idx: number): Uint8Array {
    const code = new Uint8Array(this.codeLength);
    let r = idx;
    for (let j = this.codeLength - 1; j >= 0; j--) {
      code[j] = r % this.radix[j]!;
      r = Math.floor(r / this.radix[j]!);
    }
    return code;
  }
}
