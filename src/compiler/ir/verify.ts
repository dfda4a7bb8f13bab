// Two checks of an IR program: the JSON Schema (structure) and a semantic verifier in the spirit
// of JAX's check_jaxpr: every name defined before use, shapes recomputed per op and compared.
// Tests run the verifier after every pass.
import { Ajv } from "ajv";
import { dimsEqual, evalNum, type NumExpr } from "./numexpr.js";
import { IR_SCHEMA } from "./schema.js";
import type { Eqn, Graph, Program, Shape } from "./types.js";

let validator: ReturnType<Ajv["compile"]> | undefined;

export function validateSchema(p: unknown): string[] {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(IR_SCHEMA);
  if (validator(p)) return [];
  return (validator.errors ?? []).slice(0, 20).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`);
}

export class IRVerifyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IRVerifyError";
  }
}

const ELEMENTWISE = new Set(["add", "sub", "mul", "div", "pow", "maximum", "minimum"]);
const UNARY = new Set(["neg", "relu", "tanh", "sigmoid", "softplus", "exp", "log", "sqrt", "abs", "square", "sign", "clip"]);

export function verifyProgram(p: Program): void {
  const env = (name: string): number | undefined => p.dims.find((d) => d.name === name)?.value;
  const fail = (g: string, msg: string): never => {
    throw new IRVerifyError(`${g}: ${msg}`);
  };
  const params = new Map(p.params.map((x) => [x.name, x.structure === "diag" ? [x.shape[0]!] : x.shape]));
  const effective = new Map<string, Shape>();
  const preludeShapes = verifyGraph("prelude", p.prelude, new Map(params), env, fail);
  for (const prm of p.params) {
    const out = Object.hasOwn(p.prelude.outputs, prm.name) ? p.prelude.outputs[prm.name] : undefined;
    effective.set(out ?? prm.name, out ? preludeShapes.get(out)! : params.get(prm.name)!);
  }
  const states = new Map(p.states.map((s) => [s.name, s.shape]));
  const inputs = new Map(p.inputs.map((s) => [s.name, s.shape]));
  const obs = new Map(p.observations.map((s) => [s.name, s.shape]));
  const initShapes = verifyGraph("init", p.init, new Map([...effective, ...obs]), env, fail);
  const stepShapes = verifyGraph("step", p.step, new Map([...effective, ...states, ...inputs]), env, fail);
  const obsShapes = verifyGraph("observe", p.observe, new Map([...effective, ...states, ...inputs]), env, fail);
  for (const s of p.states) {
    for (const [gname, g, shapes] of [["step", p.step, stepShapes], ["init", p.init, initShapes]] as const) {
      const out = g.outputs[s.name];
      if (!out) fail(gname, `no output for state '${s.name}'`);
      if (!sameShape(shapes.get(out!)!, s.shape, env)) fail(gname, `output for '${s.name}' has the wrong shape`);
    }
  }
  for (const o of p.observations) {
    const out = p.observe.outputs[o.name];
    if (!out) fail("observe", `no output for observation '${o.name}'`);
    if (!sameShape(obsShapes.get(out!)!, o.shape, env)) fail("observe", `output '${o.name}' has the wrong shape`);
  }
  if (p.train) {
    if (!obs.has(p.train.loss.output)) fail("train", `loss output '${p.train.loss.output}' is not an observation`);
    if (p.train.forcing.kind !== "none" && !states.has(p.train.forcing.units.state)) fail("train", "forcing names an unknown state");
  }
  for (const d of [...(p.train ? [p.train.loss.target.data] : []), ...(p.eval ? [p.eval.from.data] : [])]) {
    if (!p.data.some((x) => x.name === d)) fail("data", `unknown data set '${d}'`);
  }
}

function sameShape(a: Shape, b: Shape, env: (n: string) => number | undefined): boolean {
  return a.length === b.length && a.every((d, i) => dimsEqual(d, b[i]!, env) !== false);
}

function product(s: Shape, env: (n: string) => number | undefined): number | undefined {
  let n = 1;
  for (const d of s) {
    const v = evalNum(d, env);
    if (v === undefined) return undefined;
    n *= v;
  }
  return n;
}

function verifyGraph(
  name: string,
  g: Graph,
  available: Map<string, Shape>,
  env: (n: string) => number | undefined,
  fail: (g: string, msg: string) => never,
): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  for (const i of g.inputs) {
    const s = available.get(i);
    if (!s) fail(name, `input '${i}' is not available to this graph`);
    shapes.set(i, s!);
  }
  for (const e of g.eqns) {
    if (shapes.has(e.out)) fail(name, `'${e.out}' is defined twice`);
    for (const a of e.args) if (!shapes.has(a)) fail(name, `'${e.out}' uses '${a}' before it is defined`);
    const args = e.args.map((a) => shapes.get(a)!);
    const bad = checkEqn(e, args, env);
    if (bad) fail(name, `${e.out} = ${e.op}(${e.args.join(", ")}): ${bad}`);
    shapes.set(e.out, e.shape);
  }
  for (const [k, v] of Object.entries(g.outputs)) if (!shapes.has(v)) fail(name, `output '${k}' refers to undefined '${v}'`);
  return shapes;
}

function broadcast(shapes: Shape[], env: (n: string) => number | undefined): Shape | undefined {
  const n = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < n; i++) {
    let d: NumExpr = 1;
    for (const s of shapes) {
      const x = s[s.length - n + i];
      if (x === undefined || evalNum(x, env) === 1) continue;
      if (evalNum(d, env) === 1) d = x;
      else if (dimsEqual(d, x, env) === false) return undefined;
    }
    out.push(d);
  }
  return out;
}

/** The reason an equation is ill-formed, or undefined. */
function checkEqn(e: Eqn, args: Shape[], env: (n: string) => number | undefined): string | undefined {
  const eq = (a: Shape, b: Shape) => sameShape(a, b, env);
  if (ELEMENTWISE.has(e.op)) {
    if (args.length !== 2) return "needs two operands";
    const b = broadcast(args, env);
    return b && eq(b, e.shape) ? undefined : "operands do not broadcast to the result";
  }
  if (UNARY.has(e.op)) return args.length === 1 && eq(args[0]!, e.shape) ? undefined : "shape changes in an elementwise op";
  switch (e.op) {
    case "matmul": {
      const [a, b] = args as [Shape, Shape];
      if (!a || !b || a.length < 1 || b.length < 1) return "needs two tensors";
      const k1 = a[a.length - 1]!;
      const k2 = b.length === 1 ? b[0]! : b[b.length - 2]!;
      return dimsEqual(k1, k2, env) === false ? "inner dims differ" : undefined;
    }
    case "reshape": case "broadcast": {
      if (args.length !== 1) return "needs one operand";
      if (e.op === "reshape") {
        const pa = product(args[0]!, env);
        const pb = product(e.shape, env);
        return pa !== undefined && pb !== undefined && pa !== pb ? `element count ${pa} != ${pb}` : undefined;
      }
      const b = broadcast([args[0]!, e.shape], env);
      return b && eq(b, e.shape) ? undefined : "cannot broadcast to the result";
    }
    case "slice": {
      const axis = evalNum(e.attrs?.["axis"] as NumExpr, env);
      if (axis === undefined || !args[0] || axis >= args[0].length) return "bad axis";
      return args[0].length === e.shape.length ? undefined : "rank changes";
    }
    case "concat": return args.length >= 1 ? undefined : "needs operands";
    case "transpose": {
      const perm = e.attrs?.["perm"] as number[] | undefined;
      if (!perm || !args[0] || perm.length !== args[0].length) return "bad permutation";
      return eq(perm.map((i) => args[0]![i]!), e.shape) ? undefined : "result shape does not match the permutation";
    }
    case "reduce_sum": case "reduce_mean": case "reduce_max": case "reduce_min": {
      const axes = (e.attrs?.["axes"] as number[] | undefined) ?? [];
      if (!args[0]) return "needs an operand";
      const kept = args[0].filter((_, i) => !axes.includes(i));
      return eq(kept, e.shape) ? undefined : "result shape does not match the reduced axes";
    }
    case "const": return e.shape.length === 0 && e.attrs?.["value"] !== undefined ? undefined : "a const is a scalar with a value";
    case "eye": return e.shape.length === 2 ? undefined : "eye is a matrix";
    case "noise": return args.length === 0 ? undefined : "noise takes no operands";
    case "heaviside": return args.length === 1 && eq(args[0]!, e.shape) ? undefined : "heaviside is elementwise";
    case "pad": {
      const axis = evalNum(e.attrs?.["axis"] as NumExpr, env);
      if (axis === undefined || !args[0] || args[0].length !== e.shape.length) return "pad keeps the rank";
      return undefined;
    }
    case "dale_sign": return args.length === 0 && e.shape.length === 1 && e.attrs?.["excitatory"] !== undefined ? undefined : "dale_sign is a vector with an excitatory fraction";
  }
  return undefined;
}
