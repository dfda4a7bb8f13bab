// The checker: resolves names, binds dims, infers the static shape of every expression and,
// as it goes, elaborates the model's equations into IR graphs (prelude, init, step, observe).
// Diagnostics are collected in an explicit bag; an expression that failed yields `err`, which
// silences follow-up errors about the same value.
import type * as A from "../../../grammar/ast.js";
import { joinSpans } from "../../../grammar/cst-to-ast.js";
import { DiagnosticBag } from "../diagnostics/diagnostic.js";
import type { DiagnosticCode } from "../diagnostics/codes.js";
import { dimsEqual, evalNum, namesIn, num, printNum, simplify, type NumExpr } from "../ir/numexpr.js";
import type * as IR from "../ir/types.js";
import { GraphBuilder } from "../lower/builder.js";
import { closest, didYouMean, resetSuggestionBudget } from "./suggest.js";
import { FIELDS, FILE_ARGS, SOURCES, type ArgSpec } from "./sources.js";
import { describeKind, describeVal, type Sym, type Val } from "./values.js";
import { checkEval, checkTrain, type ConfigContext } from "./config.js";
import { checkSweep } from "./sweep.js";

const ELEMENTWISE_UNARY = new Set(["relu", "tanh", "sigmoid", "softplus", "exp", "log", "sqrt", "abs", "square", "sign"]);
const REDUCTIONS = new Set(["sum", "mean", "max", "min"]);
const OTHER_BUILTINS = ["clip", "concat", "flatten", "transpose", "noise", "maximum", "minimum"];
export const BUILTIN_FUNCTIONS = [...ELEMENTWISE_UNARY, ...REDUCTIONS, ...OTHER_BUILTINS];
const INITIALIZERS = ["zeros", "ones", "identity", "glorot", "glorot_normal", "kaiming", "orthogonal", "torch_default", "constant", "uniform", "normal", "normalized_pd", "uniform_range"];
const MODIFIERS = ["offdiag", "no_autapses", "dale", "positive", "frozen"];
/** Shape errors: silent when they involve a dim whose require clause already failed. */
/** Inline expansions of fn bodies per spec (a real model needs a few dozen). */
const MAX_FN_EXPANSIONS = 10_000;
const SHAPE_CODES = new Set<DiagnosticCode>(["RNN-E012", "RNN-E013", "RNN-E016", "RNN-E017", "RNN-E019", "RNN-E043"]);

export interface TypedSymbol {
  name: string;
  kind: string;
  shape?: string;
  value?: number | string;
}

export interface CheckResult {
  program: IR.Program | undefined;
  /** The typed view: every declared name with its kind and shape (for `rnnc ir --stage typed`). */
  symbols: TypedSymbol[];
}

interface GraphCtx {
  b: GraphBuilder;
  where: "prelude" | "init" | "step" | "observe" | "param-init";
  /** The state whose next value is being defined (gives noise() its default shape). */
  target?: { shape: IR.Shape };
  locals: Map<string, Val>;
  comp: { v: string; axisName: string; axis: NumExpr }[];
  fnStack: string[];
}

export function checkSpec(file: A.SpecFile, bag: DiagnosticBag, fileName: string): CheckResult {
  resetSuggestionBudget();
  return new Checker(file, bag, fileName).run();
}

class Checker {
  private syms = new Map<string, Sym>();
  private used = new Set<string>();
  private dimValues = new Map<string, number>();
  private dimExprs = new Map<string, NumExpr>();
  private dims: IR.Dim[] = [];
  /** Dims named by a require clause that was proved false, and dim errors waiting for the require clauses. */
  private failedRequireDims = new Set<string>();
  /** States of the latent block being checked that have no next-state equation (RNN-E040). */
  private missingNext = new Set<string>();
  private pendingDimErrors: { names: string[]; report: () => void }[] = [];
  private requires: IR.Require[] = [];
  private data: IR.DataSource[] = [];
  private dataKinds = new Map<string, { kind: "series" | "task"; sizes: Record<string, number> }>();
  private params: IR.Param[] = [];
  private effective = new Map<string, string>();
  private inputs: IR.Input[] = [];
  private states: IR.State[] = [];
  private observations: IR.Observation[] = [];
  private fns = new Map<string, A.FnDecl>();
  /** fn bodies expanded so far; bounded because expansion can grow exponentially (see callFn). */
  private fnExpansions = 0;
  private firstOverLimitCall: A.Span | undefined;
  private consts = new Map<string, NumExpr>();
  private prelude = new GraphBuilder("p");
  private initG = new GraphBuilder("i");
  private stepG = new GraphBuilder("s");
  private observeG = new GraphBuilder("o");

  constructor(private file: A.SpecFile, private bag: DiagnosticBag, private fileName: string) {}

  private err(code: DiagnosticCode, span: A.Span, message: string, extra: Parameters<DiagnosticBag["report"]>[3] = {}): Val {
    // One declaration of several parameters (`Wf, Wi : [H, H] init = ...`) is checked once per
    // name; the same mistake is reported once.
    if (this.bag.items.some((d) => d.code === code && d.span.start === span.start && d.span.end === span.end && d.message === message)) return { k: "err" };
    const dims = this.dimsIn(`${message} ${extra.label ?? ""}`);
    // A shape error about dims whose require clause failed is its consequence (z[:N] with N > M).
    if (SHAPE_CODES.has(code) && Object.keys(dims).some((n) => this.failedRequireDims.has(n))) return { k: "err" };
    this.bag.report(code, span, message, { ...(Object.keys(dims).length ? { dims } : {}), ...extra });
    return { k: "err" };
  }

  /** Known values of the dims a message mentions (shown as a note under the snippet), in the order mentioned. */
  private dimsIn(text: string): Record<string, number> {
    const found: [number, string, number][] = [];
    for (const [name, v] of this.dimValues) {
      const m = new RegExp(`\\b${name}\\b`).exec(text);
      if (m) found.push([m.index, name, v]);
    }
    found.sort((a, b) => a[0] - b[0]);
    return Object.fromEntries(found.map(([, name, v]) => [name, v]));
  }

  private dimEnv = (name: string): number | undefined => this.dimValues.get(name) ?? (this.consts.has(name) ? evalNum(this.consts.get(name)!, this.dimEnv) : undefined);

  private showShape(shape: IR.Shape): string {
    const sym = `[${shape.map((d) => printNum(d)).join(", ")}]`;
    const vals = shape.map((d) => evalNum(d, this.dimEnv));
    const numeric = shape.every((d) => typeof d === "number");
    if (numeric || vals.some((v) => v === undefined)) return sym;
    return `${sym} = [${vals.join(", ")}]`;
  }

  // ------------------------------------------------------------------ driver
  run(): CheckResult {
    const items = this.file.items;
    this.checkStructure(items);
    this.declareGlobals(items);
    for (const it of items) if (it.kind === "data") this.checkData(it);
    const dimsBlock = items.find((i): i is A.DimsBlock => i.kind === "dims");
    if (dimsBlock) this.checkDims(dimsBlock);
    for (const it of items) if (it.kind === "const") this.checkConst(it);
    for (const it of items) if (it.kind === "params") for (const p of it.params) this.checkParam(p);
    for (const it of items) if (it.kind === "input") this.checkInput(it);
    for (const it of items) if (it.kind === "latent") this.declareStates(it);
    for (const it of items) if (it.kind === "observe") this.declareObservation(it);
    for (const it of items) if (it.kind === "latent") this.checkLatent(it);
    for (const it of items) if (it.kind === "observe") this.checkObserve(it);

    const model = items.find((i): i is A.ModelDecl => i.kind === "model");
    const cfg: ConfigContext = {
      bag: this.bag,
      resolve: (e) => this.configValue(e),
      states: this.states,
      observations: this.observations,
      params: this.params,
      dataKinds: this.dataKinds,
      defaultData: this.data[0]?.name,
      dimEnv: this.dimEnv,
      markUsed: (n) => this.used.add(n),
      failedRequireDims: this.failedRequireDims,
    };
    const trainBlock = items.find((i): i is A.TrainBlock => i.kind === "train");
    const train = trainBlock ? checkTrain(trainBlock, cfg) : null;
    const evalBlock = items.find((i): i is A.EvalBlock => i.kind === "eval");
    const evalPlan = evalBlock ? checkEval(evalBlock, cfg) : null;
    const sweepBlock = items.find((i): i is A.SweepBlock => i.kind === "sweep");
    const sweep = sweepBlock ? checkSweep(sweepBlock, trainBlock, evalBlock, cfg) : null;
    this.warnUnused();

    const symbols: TypedSymbol[] = [...this.syms.values()].map((s) => {
      const t: TypedSymbol = { name: s.name, kind: s.kind };
      if (s.shape) t.shape = (s.diag ? "diag" : "") + this.showShape(s.shape);
      if (s.kind === "dim") {
        const v = this.dimValues.get(s.name);
        t.value = v ?? printNum(this.dimExprs.get(s.name) ?? s.name);
      }
      if (s.kind === "const") t.value = printNum(this.consts.get(s.name) ?? 0);
      return t;
    });
    if (this.bag.hasErrors) return { program: undefined, symbols };
    const program: IR.Program = {
      irVersion: 1,
      model: { name: model?.name.name ?? "model", ...(model?.title ? { title: model.title } : {}), file: this.fileName },
      dims: this.dims,
      requires: this.requires,
      data: this.data,
      params: this.params,
      inputs: this.inputs,
      states: this.states,
      observations: this.observations,
      prelude: this.prelude.build(),
      init: this.initG.build(),
      step: this.stepG.build(),
      observe: this.observeG.build(),
      train,
      eval: evalPlan,
      ...(sweep ? { sweep } : {}),
    };
    return { program, symbols };
  }

  private checkStructure(items: A.TopItem[]): void {
    const models = items.filter((i) => i.kind === "model");
    if (models.length === 0) {
      const first = items[0]?.span ?? this.file.span;
      this.err("RNN-E004", { ...first, end: Math.min(first.start + 1, first.end), endLine: first.line, endCol: first.col }, "the spec has no 'model' declaration", {
        hints: ["start the file with `model NAME \"a short description\"`"],
      });
    }
    for (const kind of ["model", "dims", "params", "train", "eval", "sweep", "latent"] as const) {
      const all = items.filter((i) => i.kind === kind);
      for (const extra of all.slice(1)) {
        const sp = "keywordSpan" in extra ? extra.keywordSpan : extra.span;
        this.err("RNN-E004", sp, `a second '${kind}' ${kind === "model" ? "declaration" : "block"}`, {
          related: [{ span: "keywordSpan" in all[0]! ? (all[0] as A.DimsBlock).keywordSpan : all[0]!.span, message: "the first one is here" }],
          hints: [kind === "latent" ? "declare several states in one block: `latent h : [H], c : [H] { ... }`" : kind === "model" ? "a file describes one model: keep one 'model' line" : `merge both into one '${kind}' block`],
        });
      }
    }
    if (!items.some((i) => i.kind === "latent") && models.length > 0) {
      this.err("RNN-E004", models[0]!.span, "the model has no 'latent' block", { hints: ["declare the state and its update: `latent z : [M] { z' = ... }`"] });
    }
  }

  private declare(name: A.Ident, kind: Sym["kind"], extra: Partial<Sym> = {}): boolean {
    if (name.name === "<missing>") return false;
    const prev = this.syms.get(name.name);
    if (prev) {
      this.err("RNN-E011", name.span, `'${name.name}' is already declared as ${describeKind(prev.kind)}`, {
        label: "declared again here",
        related: [{ span: prev.span, message: "first declared here" }],
      });
      return false;
    }
    if (BUILTIN_FUNCTIONS.includes(name.name) && kind !== "fn") {
      // Shadowing a built-in function name is legal but confusing only for fns; other kinds are fine.
    }
    this.syms.set(name.name, { kind, name: name.name, span: name.span, ...extra });
    return true;
  }

  private declareGlobals(items: A.TopItem[]): void {
    for (const it of items) {
      switch (it.kind) {
        case "data": this.declare(it.name, "data"); break;
        case "dims": for (const d of it.items) if (d.kind === "dim") this.declare(d.name, "dim"); break;
        case "const": this.declare(it.name, "const"); break;
        case "fn":
          if (this.declare(it.name, "fn")) this.fns.set(it.name.name, it);
          break;
        case "params": for (const p of it.params) for (const n of p.names) this.declare(n, "param"); break;
        case "input": this.declare(it.name, "input"); break;
        case "latent": for (const s of it.states) this.declare(s.name, "state"); break;
        case "observe": this.declare(it.name, "obs"); break;
        default: break;
      }
    }
  }

  // ------------------------------------------------------------------ data
  private checkData(d: A.DataDecl): void {
    const name = d.name.name;
    const src = d.source;
    if (src.kind !== "call") {
      this.err("RNN-E060", src.span, "a data set is `builtin.NAME(...)` or `file(\"path\")`", { hints: ['e.g. `data lorenz = builtin.lorenz63(steps = 100000)`'] });
      return;
    }
    const callee = src.callee;
    if (callee.kind === "member" && callee.object.kind === "name" && callee.object.name === "builtin") {
      const spec = Object.hasOwn(SOURCES, callee.name) ? SOURCES[callee.name] : undefined;
      if (!spec) {
        this.err("RNN-E060", callee.nameSpan, `unknown built-in data source 'builtin.${callee.name}'`, {
          hints: [...didYouMean(callee.name, Object.keys(SOURCES)).map((h) => h.replace("'", "'builtin.")), `built-in sources: ${Object.keys(SOURCES).join(", ")}`],
        });
        return;
      }
      const args = this.readArgs(src.args, spec.args, `builtin.${callee.name}`);
      this.data.push({ name, kind: "builtin", generator: callee.name, args });
      this.dataKinds.set(name, { kind: spec.kind, sizes: spec.sizes(args) });
      return;
    }
    if (callee.kind === "name" && callee.name === "file") {
      const pos = src.args.filter((a) => a.kind === "positional");
      const path = pos[0]?.kind === "positional" ? pos[0].value : undefined;
      if (!path || path.kind !== "str") {
        this.err(path ? "RNN-E062" : "RNN-E064", path?.span ?? src.span, "file() needs the path of the data file as a string", { hints: ['e.g. `file("data/lorenz63_train.npy", test = "data/lorenz63_test.npy")`'] });
        return;
      }
      const args = this.readArgs(src.args.filter((a) => a !== pos[0]), FILE_ARGS, "file");
      const entry: IR.DataSource = { name, kind: "file", path: path.value, args: {} };
      for (const [k, v] of Object.entries(args)) {
        if (k === "test") {
          if (v !== "") entry.test = String(v);
        } else if (v !== FILE_ARGS[k]!.default) entry.args[k] = v;
      }
      this.data.push(entry);
      this.dataKinds.set(name, { kind: "series", sizes: {} });
      return;
    }
    const shown = callee.kind === "name" ? callee.name : callee.kind === "member" ? callee.name : "?";
    if (Object.hasOwn(SOURCES, shown)) {
      this.err("RNN-E060", callee.span, `'${shown}' is a built-in data source: write 'builtin.${shown}'`, {
        label: `write 'builtin.${shown}'`,
        hints: [`e.g. \`data ${name} = builtin.${shown}(...)\``],
      });
      return;
    }
    this.err("RNN-E060", callee.span, `unknown data source '${shown}'`, {
      hints: [...didYouMean(shown, ["file", ...Object.keys(SOURCES)]).map((h) => (h.includes("'file'") ? h : h.replace("'", "'builtin."))), "a data set is `builtin.NAME(...)` or `file(\"path\")`"],
    });
  }

  private readArgs(args: A.Arg[], spec: Record<string, ArgSpec>, what: string): Record<string, number | boolean | string> {
    const out: Record<string, number | boolean | string> = {};
    for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) out[k] = s.default;
    const seen = new Set<string>();
    for (const a of args) {
      if (a.kind !== "named") {
        this.err("RNN-E014", a.span, `the arguments of ${what} are named: write \`key = value\``, { hints: [`${what} takes: ${Object.keys(spec).join(", ")}`] });
        continue;
      }
      const s = Object.hasOwn(spec, a.name) ? spec[a.name] : undefined;
      if (!s) {
        this.err("RNN-E061", a.nameSpan, `${what} has no argument '${a.name}'`, { hints: [...didYouMean(a.name, Object.keys(spec)), `${what} takes: ${Object.keys(spec).join(", ")}`] });
        continue;
      }
      if (seen.has(a.name)) {
        this.err("RNN-E011", a.nameSpan, `argument '${a.name}' is given twice`);
        continue;
      }
      seen.add(a.name);
      const v = this.literal(a.value);
      if (v === undefined) continue;
      if (s.type === "bool" ? typeof v !== "boolean" : s.type === "string" ? typeof v !== "string" : typeof v !== "number") {
        this.err("RNN-E062", a.value.span, `'${a.name}' must be ${s.type === "int" ? "an integer" : s.type === "number" ? "a number" : s.type === "bool" ? "true or false" : "a string"}, not ${typeof v === "string" ? "a string" : typeof v === "boolean" ? "a boolean" : "a number"}`, { hints: [s.doc] });
        continue;
      }
      if (typeof v === "number") {
        if (s.type === "int" && !Number.isInteger(v)) {
          this.err("RNN-E062", a.value.span, `'${a.name}' must be an integer, got ${v}`);
          continue;
        }
        if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) {
          // An exclusive lower bound is stored as min + epsilon (sources.ts): show it as `> min`.
          const near = s.min !== undefined ? Math.round(s.min) : 0;
          const exclusive = s.min !== undefined && s.min !== near && Math.abs(s.min - near) < 1e-9;
          const lo = s.min === undefined ? "" : exclusive ? `> ${near}` : `>= ${s.min}`;
          const bounds = [lo, s.max !== undefined ? `<= ${s.max}` : ""].filter(Boolean).join(" and ");
          this.err("RNN-E063", a.value.span, `'${a.name}' = ${v} is out of range: it must be ${bounds}`, { hints: [`${a.name}: ${s.doc}`] });
          continue;
        }
      }
      out[a.name] = v;
    }
    return out;
  }

  /** A literal setting value: number (constant-folded), string or boolean. */
  private literal(e: A.Expr): number | boolean | string | undefined {
    if (e.kind === "str") return e.value;
    if (e.kind === "bool") return e.value;
    const v = this.scalar(e, { allowUnknown: false });
    if (v === undefined) return undefined;
    const n = evalNum(v, this.dimEnv);
    if (n === undefined) {
      this.err("RNN-E045", e.span, "this value must be known before the data are loaded");
      return undefined;
    }
    return n;
  }

  // ------------------------------------------------------------------ dims
  private checkDims(block: A.DimsBlock): void {
    const decls = block.items.filter((i): i is A.DimDecl => i.kind === "dim");
    const byName = new Map(decls.map((d) => [d.name.name, d]));
    const state = new Map<string, "visiting" | "done">();
    const visit = (d: A.DimDecl, chain: A.DimDecl[]): void => {
      const name = d.name.name;
      if (state.get(name) === "done") return;
      if (state.get(name) === "visiting") {
        const cycle = chain.slice(chain.indexOf(d));
        this.err("RNN-E021", d.name.span, `dims ${cycle.map((c) => c.name.name).join(" -> ")} -> ${name} depend on each other in a cycle`, {
          label: `${name} is defined in terms of itself`,
          hints: ["define one of them by a number or from the data (N = data.features)"],
          related: cycle.slice(1).map((c) => ({ span: c.name.span, message: `${c.name.name} is defined here` })),
        });
        for (const c of cycle) state.set(c.name.name, "done");
        return;
      }
      state.set(name, "visiting");
      for (const dep of this.namesUsed(d.value)) {
        const dd = byName.get(dep);
        if (dd) visit(dd, [...chain, d]);
      }
      if (state.get(name) === "done") return;
      state.set(name, "done");
      this.defineDim(d);
    };
    for (const d of decls) visit(d, []);
    for (const r of block.items) if (r.kind === "require") this.checkRequire(r);
    for (const p of this.pendingDimErrors) if (!p.names.some((n) => this.failedRequireDims.has(n))) p.report();
    this.pendingDimErrors = [];
  }

  private namesUsed(e: A.Expr): string[] {
    switch (e.kind) {
      case "name": return [e.name];
      case "member": return this.namesUsed(e.object);
      case "unary": return this.namesUsed(e.operand);
      case "binary": return [...this.namesUsed(e.left), ...this.namesUsed(e.right)];
      case "call": return [...this.namesUsed(e.callee), ...e.args.flatMap((a) => (a.kind === "binder" ? this.namesUsed(a.body) : this.namesUsed(a.value)))];
      case "index": return [...this.namesUsed(e.object), ...e.items.flatMap((i) => (i.kind === "at" ? this.namesUsed(i.value) : [...(i.start ? this.namesUsed(i.start) : []), ...(i.stop ? this.namesUsed(i.stop) : [])]))];
      case "list": return e.items.flatMap((i) => this.namesUsed(i));
      default: return [];
    }
  }

  private defineDim(d: A.DimDecl): void {
    const name = d.name.name;
    const v = d.value;
    // Bound from a data set: N = lorenz.features
    if (v.kind === "member" && v.object.kind === "name" && this.syms.get(v.object.name)?.kind === "data") {
      const dataName = v.object.name;
      this.used.add(dataName);
      const info = this.dataKinds.get(dataName);
      if (!info) return; // the data declaration already failed
      const allowed: readonly string[] = FIELDS[info.kind].dims;
      if (!allowed.includes(v.name)) {
        this.err("RNN-E024", v.nameSpan, `data set '${dataName}' has no dimension '${v.name}'`, {
          hints: [...didYouMean(v.name, allowed), `${info.kind === "task" ? "a task" : "a series"} has: ${allowed.join(", ")}`],
        });
        return;
      }
      const known = info.sizes[v.name];
      this.dimExprs.set(name, name);
      if (known !== undefined) this.dimValues.set(name, known);
      this.dims.push({ name, source: { kind: "data", data: dataName, field: v.name }, ...(known !== undefined ? { value: known } : {}) });
      return;
    }
    // A data field inside arithmetic (M = lorenz.features * 5): it binds a dim only by itself.
    const field = findDataField(v, (n) => this.syms.get(n)?.kind === "data");
    if (field) {
      this.err("RNN-E020", field.span, `'${printExpr(field)}' can only bind a dim by itself, not inside an expression`, {
        label: "bind this to a dim of its own",
        hints: [`write \`N = ${printExpr(field)}\` and define ${name} from N, e.g. \`${name} = ${printExpr(v).replace(printExpr(field), "N")}\``],
        dims: {},
      });
      return;
    }
    const e = this.scalar(v, { allowUnknown: true, dimsOnly: true });
    if (e === undefined) return;
    const value = evalNum(e, this.dimEnv);
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) {
      // Reported after the require clauses: one that fails on the same dims says it first.
      this.pendingDimErrors.push({
        names: [...namesIn(e)],
        report: () => this.err("RNN-E023", v.span, `dim ${name} = ${printNum(e)} evaluates to ${Number.isInteger(value) ? value : value.toFixed(4)}, not a positive integer`, {
          hints: value > 0 && !Number.isInteger(value) ? ["add a `require` clause so the division is exact, or change the dims"] : ["dims count units, bases or channels: they must be at least 1"],
        }),
      });
      return;
    }
    this.dimExprs.set(name, typeof e === "number" ? name : e);
    if (value !== undefined) this.dimValues.set(name, value);
    this.dims.push({
      name,
      source: typeof e === "number" ? { kind: "value", value: e } : { kind: "expr", expr: e },
      ...(value !== undefined ? { value } : {}),
    });
  }

  private checkRequire(r: A.RequireClause): void {
    const c = r.cond;
    if (c.kind !== "binary" || !["==", "!=", "<=", ">=", "<", ">"].includes(c.op)) {
      this.err("RNN-E020", c.span, "a require clause compares two dim expressions", { hints: ["e.g. `require N <= M` or `require H % K == 0`"] });
      return;
    }
    // Chains like 0 <= P <= M are split into two comparisons.
    const parts: { l: A.Expr; op: string; r: A.Expr }[] = [];
    if (c.left.kind === "binary" && ["<=", "<", ">=", ">", "==", "!="].includes(c.left.op)) {
      parts.push({ l: c.left.left, op: c.left.op, r: c.left.right }, { l: c.left.right, op: c.op, r: c.right });
    } else parts.push({ l: c.left, op: c.op, r: c.right });
    for (const p of parts) {
      const l = this.scalar(p.l, { allowUnknown: true, dimsOnly: true });
      const rr = this.scalar(p.r, { allowUnknown: true, dimsOnly: true });
      if (l === undefined || rr === undefined) continue;
      const lv = evalNum(l, this.dimEnv);
      const rv = evalNum(rr, this.dimEnv);
      const text = `${printNum(l)} ${p.op} ${printNum(rr)}`;
      if (lv !== undefined && rv !== undefined) {
        if (!compare(lv, p.op, rv)) {
          const sides = [[l, lv], [rr, rv]].filter(([x]) => typeof x !== "number").map(([x, v]) => `${printNum(x as NumExpr)} = ${v}`);
          this.err("RNN-E022", r.span, `require ${text} does not hold: ${lv} ${p.op} ${rv} is false`, {
            label: sides.length ? `here ${sides.join(" and ")}` : "this is false",
            dims: {},
          });
          for (const n of [...namesIn(l), ...namesIn(rr)]) this.failedRequireDims.add(n);
        }
        continue;
      }
      // Undecidable now: checked when the data bind the remaining dims.
      this.requires.push({ lhs: l, op: p.op as IR.Require["op"], rhs: rr, text, src: { line: r.span.line, col: r.span.col } });
    }
  }

  // ------------------------------------------------------------------ scalars (dims, consts, init args)
  /** Evaluate a compile-time scalar expression (dims, consts, literals, + - * / % ^ sqrt exp log). */
  private scalar(e: A.Expr, opts: { allowUnknown: boolean; dimsOnly?: boolean }): NumExpr | undefined {
    switch (e.kind) {
      case "num":
        if (e.unit && opts.dimsOnly) {
          this.err("RNN-E065", e.span, `a dim is a plain number, without a unit ('${e.unit}')`, { label: `write ${e.text}` });
          return undefined;
        }
        return e.value;
      case "name": {
        const s = this.syms.get(e.name);
        if (!s) {
          this.unknownName(e.name, e.span, opts.dimsOnly ? ["dim"] : ["dim", "const"]);
          return undefined;
        }
        this.used.add(e.name);
        if (s.kind === "dim") {
          if (!this.dimExprs.has(e.name) && !this.dimValues.has(e.name)) return undefined; // failed earlier
          return this.dimValues.has(e.name) ? (opts.dimsOnly ? e.name : this.dimValues.get(e.name)!) : e.name;
        }
        if (s.kind === "const" && !opts.dimsOnly) {
          const c = this.consts.get(e.name);
          return c;
        }
        this.err("RNN-E045", e.span, `'${e.name}' is ${describeKind(s.kind)}, but a ${opts.dimsOnly ? "dim" : "number"} is needed here`, {
          hints: opts.dimsOnly ? ["dims are integers built from literals and other dims"] : [],
        });
        return undefined;
      }
      case "unary": {
        const v = this.scalar(e.operand, opts);
        return v === undefined ? undefined : e.op === "-" ? (typeof v === "number" ? -v : num("neg", v)) : v;
      }
      case "binary": {
        if (!["+", "-", "*", "/", "%", "^"].includes(e.op)) {
          this.err("RNN-E020", e.opSpan, `'${e.op}' cannot be used in a number or dim expression`);
          return undefined;
        }
        const l = this.scalar(e.left, opts);
        const r = this.scalar(e.right, opts);
        if (l === undefined || r === undefined) return undefined;
        const out = simplify(num(e.op as "+", l, r), opts.dimsOnly ? (n) => (typeof n === "string" ? undefined : undefined) : this.dimEnv);
        const v = evalNum(out, this.dimEnv);
        if (opts.dimsOnly) return v !== undefined && typeof l === "number" && typeof r === "number" ? v : out;
        return v ?? out;
      }
      case "call": {
        if (e.callee.kind === "name" && ["sqrt", "exp", "log"].includes(e.callee.name) && e.args.length === 1 && e.args[0]!.kind === "positional" && !opts.dimsOnly) {
          const v = this.scalar(e.args[0]!.value, opts);
          if (v === undefined) return undefined;
          const out = num(e.callee.name as "sqrt", v);
          return evalNum(out, this.dimEnv) ?? out;
        }
        this.err(opts.dimsOnly ? "RNN-E020" : "RNN-E045", e.span, opts.dimsOnly ? "a dim must be an integer expression of literals and other dims" : "a number is needed here", {
          hints: opts.dimsOnly ? ["e.g. `C = H / K`, `N = data.features`"] : [],
        });
        return undefined;
      }
      case "member": {
        if (e.object.kind === "name" && this.syms.get(e.object.name)?.kind === "data") {
          this.err("RNN-E020", e.span, `a data field can only bind a dim by itself: \`${e.name === "features" ? "N" : "X"} = ${e.object.name}.${e.name}\``, {});
          return undefined;
        }
        this.err("RNN-E045", e.span, "a number is needed here");
        return undefined;
      }
      case "error":
        return undefined;
      default:
        this.err(opts.dimsOnly ? "RNN-E020" : "RNN-E045", e.span, opts.dimsOnly ? "a dim must be an integer expression of literals and other dims" : `a number is needed here, not ${e.kind === "str" ? "a string" : e.kind === "bool" ? "a boolean" : "this expression"}`);
        return undefined;
    }
  }

  private unknownName(name: string, span: A.Span, kinds?: Sym["kind"][], extraCandidates: string[] = []): Val {
    const cands = [...this.syms.values()].filter((s) => !kinds || kinds.includes(s.kind)).map((s) => s.name);
    return this.err("RNN-E010", span, `unknown name '${name}'`, {
      label: "not declared",
      hints: didYouMean(name, [...cands, ...extraCandidates]),
    });
  }

  private checkConst(c: A.ConstDecl): void {
    const v = this.scalar(c.value, { allowUnknown: true });
    if (v !== undefined) this.consts.set(c.name.name, v);
    else this.consts.set(c.name.name, 0);
  }

  // ------------------------------------------------------------------ params
  private shapeOf(t: A.TypeExpr, what: string): IR.Shape | undefined {
    const dims: IR.Shape = [];
    let ok = true;
    for (const d of t.dims) {
      if (d.kind === "name" && !this.syms.has(d.name)) {
        this.err("RNN-E010", d.span, `unknown dim '${d.name}' in the shape of ${what}`, {
          label: "not a declared dim",
          hints: [...didYouMean(d.name, [...this.syms.values()].filter((s) => s.kind === "dim").map((s) => s.name)), "declare it in the dims block: `dims { " + d.name + " = ... }`"],
        });
        ok = false;
        continue;
      }
      const e = this.scalar(d, { allowUnknown: true, dimsOnly: true });
      if (e === undefined) {
        ok = false;
        continue;
      }
      const v = evalNum(e, this.dimEnv);
      if (v !== undefined && (!Number.isInteger(v) || v <= 0)) {
        this.err("RNN-E023", d.span, `shape entry ${printNum(e)} = ${v} is not a positive integer`);
        ok = false;
        continue;
      }
      dims.push(e);
    }
    return ok ? dims : undefined;
  }

  private checkParam(p: A.ParamDecl): void {
    for (const name of p.names) this.checkOneParam(p, name);
  }

  private checkOneParam(p: A.ParamDecl, name: A.Ident): void {
    if (name.name === "<missing>") return;
    const shape = this.shapeOf(p.type, `parameter '${name.name}'`);
    let structure: IR.Param["structure"] = "dense";
    if (p.type.structure) {
      if (p.type.structure.name !== "diag") {
        this.err("RNN-E031", p.type.structure.span, `unknown structure '${p.type.structure.name}'`, { hints: [...didYouMean(p.type.structure.name, ["diag"]), "the only structure prefix is diag[M]; write other properties after the shape (offdiag, positive, ...)"] });
        return;
      }
      structure = "diag";
      if (p.type.dims.length !== 1) {
        this.err("RNN-E032", p.type.span, `diag takes exactly one dim, got ${p.type.dims.length}`, { hints: ["a diagonal M x M matrix is declared `diag[M]` and stored as a vector"] });
        return;
      }
    }
    if (!shape) return;
    const constraints: IR.Constraint[] = [];
    let trainable = true;
    const seen = new Set<string>();
    const square = shape.length === 2 && dimsEqual(shape[0]!, shape[1]!, this.dimEnv) === true;
    for (const m of p.modifiers) {
      const mname = m.name.name;
      if (!MODIFIERS.includes(mname)) {
        this.err("RNN-E031", m.name.span, `unknown parameter modifier '${mname}'`, { hints: [...didYouMean(mname, MODIFIERS), `modifiers: ${MODIFIERS.join(", ")}`] });
        continue;
      }
      if (seen.has(mname)) {
        this.err("RNN-E033", m.name.span, `modifier '${mname}' is given twice`);
        continue;
      }
      seen.add(mname);
      if (mname === "frozen") {
        trainable = false;
        continue;
      }
      if (mname === "positive") {
        if (seen.has("dale")) this.err("RNN-E033", m.name.span, "'positive' conflicts with 'dale' (Dale's law fixes the sign of each column)");
        else constraints.push({ kind: "positive" });
        continue;
      }
      if (structure === "diag" || !square) {
        this.err("RNN-E032", m.name.span, `'${mname}' needs a square matrix, but '${name.name}' is ${structure === "diag" ? "diag" : ""}${this.showShape(shape)}`, {
          hints: mname === "offdiag" ? ["offdiag zeroes the diagonal of an M x M matrix: `W : [M, M] offdiag`"] : [],
        });
        continue;
      }
      if (mname === "offdiag" || mname === "no_autapses") {
        if (constraints.some((c) => c.kind === "offdiag" || c.kind === "no_autapses")) this.err("RNN-E033", m.name.span, "offdiag and no_autapses mean the same thing; keep one");
        else constraints.push({ kind: mname });
        continue;
      }
      // dale(excitatory = r)
      if (seen.has("positive")) {
        this.err("RNN-E033", m.name.span, "'dale' conflicts with 'positive' (Dale's law fixes the sign of each column)");
        continue;
      }
      let ratio = 0.8;
      for (const a of m.args) {
        const key = a.kind === "named" ? a.name : "excitatory";
        if (key !== "excitatory") {
          this.err("RNN-E061", a.kind === "named" ? a.nameSpan : a.span, `dale has no argument '${key}'`, { hints: didYouMean(key, ["excitatory"]) });
          continue;
        }
        const v = a.kind === "binder" ? undefined : this.literal(a.value);
        if (typeof v !== "number" || v < 0 || v > 1) {
          this.err("RNN-E032", a.span, "dale's excitatory fraction must be a number in [0, 1]", { hints: ["e.g. `dale(excitatory = 0.8)`: the first 80% of the units are excitatory"] });
          continue;
        }
        ratio = v;
      }
      constraints.push({ kind: "dale", excitatory: ratio });
    }
    const init = this.checkInit(p.init, shape, structure, name.name);
    if (!init) return;
    this.syms.get(name.name)!.shape = shape;
    this.syms.get(name.name)!.diag = structure === "diag";
    this.params.push({ name: name.name, shape, structure, init, constraints, trainable, src: { line: name.span.line, col: name.span.col } });
    this.effective.set(name.name, this.emitConstraints(name.name, shape, constraints, name.span));
  }

  /** Constraints are reparameterizations applied at every forward pass, never only at init. */
  private emitConstraints(name: string, shape: IR.Shape, cs: IR.Constraint[], span: A.Span): string {
    if (cs.length === 0) return name;
    const b = this.prelude;
    let v = b.useInput(name);
    for (const c of cs) {
      if (c.kind === "positive") v = b.emit("softplus", [v], shape, undefined, span);
      if (c.kind === "dale") {
        // |W| with column signs: the first round(r * n) presynaptic units are excitatory.
        v = b.emit("abs", [v], shape, undefined, span);
        const sign = b.emit("dale_sign", [], [shape[1]!], { excitatory: c.excitatory }, span);
        v = b.emit("mul", [v, sign], shape, undefined, span);
      }
      if (c.kind === "offdiag" || c.kind === "no_autapses") {
        const eye = b.emit("eye", [], shape, undefined, span);
        const one = b.emit("const", [], [], { value: 1 }, span);
        const mask = b.emit("sub", [one, eye], shape, undefined, span);
        v = b.emit("mul", [v, mask], shape, undefined, span);
      }
    }
    b.outputs[name] = v;
    return b.rename(v, `${name}.c`);
  }

  private checkInit(e: A.Expr | undefined, shape: IR.Shape, structure: IR.Param["structure"], pname: string): IR.InitSpec | undefined {
    if (!e) return { scheme: shape.length >= 2 ? "torch_default" : "zeros" };
    let name: string;
    let args: A.Arg[] = [];
    let nameSpan = e.span;
    if (e.kind === "name") name = e.name;
    else if (e.kind === "call" && e.callee.kind === "name") {
      name = e.callee.name;
      args = e.args;
      nameSpan = e.callee.span;
    } else if (e.kind === "num" || e.kind === "unary") {
      const v = this.scalar(e, { allowUnknown: true });
      return v === undefined ? undefined : { scheme: "constant", value: v };
    } else {
      this.err("RNN-E030", e.span, "an initializer is a name such as glorot or a call such as uniform(-0.1, 0.1)");
      return undefined;
    }
    if (!INITIALIZERS.includes(name) && this.syms.has(name)) {
      this.err("RNN-E030", nameSpan, `'${name}' is ${describeKind(this.syms.get(name)!.kind)}, not an initializer`, {
        hints: [`initializers: ${INITIALIZERS.join(", ")}`],
      });
      return undefined;
    }
    if (!INITIALIZERS.includes(name)) {
      this.err("RNN-E030", nameSpan, `unknown initializer '${name}'`, { hints: [...didYouMean(name, INITIALIZERS), `initializers: ${INITIALIZERS.join(", ")}`] });
      return undefined;
    }
    const pos = args.filter((a) => a.kind === "positional").map((a) => (a as { value: A.Expr }).value);
    const named = new Map(args.filter((a): a is Extract<A.Arg, { kind: "named" }> => a.kind === "named").map((a) => [a.name, a]));
    const need = (n: number, usage: string): boolean => {
      if (pos.length !== n) {
        this.err("RNN-E014", e.span, `${name} takes ${n} argument${n === 1 ? "" : "s"}, got ${pos.length}`, { hints: [`usage: ${usage}`] });
        return false;
      }
      return true;
    };
    const sc = (x: A.Expr): NumExpr | undefined => this.scalar(x, { allowUnknown: true });
    switch (name) {
      case "zeros": case "ones": case "glorot": case "glorot_normal": case "kaiming": case "orthogonal": case "torch_default":
        if (!need(0, name)) return undefined;
        if (["glorot", "glorot_normal", "kaiming", "orthogonal"].includes(name) && shape.length < 2) {
          this.err("RNN-E032", nameSpan, `${name} initializes matrices, but '${pname}' is ${this.showShape(shape)}`, { hints: ["vectors usually start at zeros or uniform(lo, hi)"] });
          return undefined;
        }
        return { scheme: name as "zeros" };
      case "identity":
        if (!need(0, "identity")) return undefined;
        if (!(structure === "diag" || (shape.length === 2 && dimsEqual(shape[0]!, shape[1]!, this.dimEnv)))) {
          this.err("RNN-E032", nameSpan, `identity needs a square matrix or a diag parameter, but '${pname}' is ${this.showShape(shape)}`);
          return undefined;
        }
        return { scheme: "identity" };
      case "normalized_pd": {
        if (!need(0, "normalized_pd(group = \"AW\")")) return undefined;
        const square = structure === "diag" || (shape.length === 2 && dimsEqual(shape[0]!, shape[1]!, this.dimEnv) === true);
        if (!square) {
          this.err("RNN-E032", nameSpan, `normalized_pd draws a square matrix, but '${pname}' is ${this.showShape(shape)}`);
          return undefined;
        }
        const g = named.get("group");
        const group = g && g.value.kind === "str" ? g.value.value : `pd:${printNum(shape[0]!)}`;
        return { scheme: "normalized_pd", group };
      }
      case "constant": {
        if (!need(1, "constant(value)")) return undefined;
        const v = sc(pos[0]!);
        return v === undefined ? undefined : { scheme: "constant", value: v };
      }
      case "uniform": case "normal": {
        if (!need(2, name === "uniform" ? "uniform(lo, hi)" : "normal(mean, std)")) return undefined;
        const a = sc(pos[0]!);
        const b = sc(pos[1]!);
        if (a === undefined || b === undefined) return undefined;
        const av = evalNum(a, this.dimEnv);
        const bv = evalNum(b, this.dimEnv);
        if (name === "uniform" && av !== undefined && bv !== undefined && !(av < bv)) {
          this.err("RNN-E032", e.span, `uniform(lo, hi) needs lo < hi, got ${av} and ${bv}`);
          return undefined;
        }
        if (name === "normal" && bv !== undefined && bv < 0) {
          this.err("RNN-E032", pos[1]!.span, `normal(mean, std) needs std >= 0, got ${bv}`);
          return undefined;
        }
        return name === "uniform" ? { scheme: "uniform", lo: a, hi: b } : { scheme: "normal", mean: a, std: b };
      }
      case "uniform_range": {
        if (!need(1, "uniform_range(data, negate = false)")) return undefined;
        const d = pos[0]!;
        if (d.kind !== "name" || this.syms.get(d.name)?.kind !== "data") {
          if (d.kind === "name" && !this.syms.has(d.name)) this.unknownName(d.name, d.span, ["data"]);
          else this.err("RNN-E045", d.span, "uniform_range takes a data set", { hints: ["e.g. `H : [M, B] init = uniform_range(lorenz)`"] });
          return undefined;
        }
        this.used.add(d.name);
        const neg = named.get("negate");
        const negate = neg ? this.literal(neg.value) === true : false;
        return { scheme: "uniform_range", data: d.name, negate };
      }
    }
    return undefined;
  }

  // ------------------------------------------------------------------ inputs, states, observations
  private checkInput(i: A.InputDecl): void {
    const shape = this.shapeOf(i.type, `input '${i.name.name}'`);
    if (!shape) return;
    const src = i.source;
    let data: string | undefined;
    let field = "input";
    if (src.kind === "name") data = src.name;
    else if (src.kind === "member" && src.object.kind === "name") {
      data = src.object.name;
      field = src.name;
    }
    if (!data || this.syms.get(data)?.kind !== "data") {
      if (data && !this.syms.has(data)) this.unknownName(data, src.span, ["data"]);
      else this.err("RNN-E045", src.span, "an input comes from a data set: `input u : [I] from task`");
      return;
    }
    this.used.add(data);
    const info = this.dataKinds.get(data);
    if (info && info.kind !== "task") {
      this.err("RNN-E024", src.span, `'${data}' is a series without inputs; inputs come from a task data set`, { hints: ["e.g. `data task = builtin.flipflop(bits = 3)`"] });
      return;
    }
    if (field !== "input") {
      this.err("RNN-E024", src.span, `inputs are read from the task's 'input' field, not '${field}'`, { hints: [`write \`from ${data}\``] });
      return;
    }
    // The declared size must be the task's number of inputs (when the checker knows it).
    const known = info?.sizes["inputs"];
    const declared = shape.length === 1 ? evalNum(shape[0]!, this.dimEnv) : undefined;
    if (known !== undefined && (shape.length !== 1 || (declared !== undefined && declared !== known))) {
      this.err("RNN-E043", i.type.span, `input '${i.name.name}' is declared ${this.showShape(shape)}, but '${data}' has ${known} input${known === 1 ? "" : "s"} per step`, {
        label: `'${data}' gives [${known}]`,
        hints: [`bind the size to the data: \`dims { I = ${data}.inputs }\` and \`input ${i.name.name} : [I] from ${data}\``],
      });
      return;
    }
    this.syms.get(i.name.name)!.shape = shape;
    this.inputs.push({ name: i.name.name, shape, data, field });
  }

  private declareStates(l: A.LatentBlock): void {
    for (const s of l.states) {
      const shape = this.shapeOf(s.type, `state '${s.name.name}'`);
      if (!shape || s.name.name === "<missing>") continue;
      this.syms.get(s.name.name)!.shape = shape;
      this.states.push({ name: s.name.name, shape });
    }
  }

  private declareObservation(o: A.ObserveDecl): void {
    const shape = this.shapeOf(o.type, `observation '${o.name.name}'`);
    if (!shape) return;
    this.syms.get(o.name.name)!.shape = shape;
    this.observations.push({ name: o.name.name, shape });
  }

  private ctx(b: GraphBuilder, where: GraphCtx["where"]): GraphCtx {
    return { b, where, locals: new Map(), comp: [], fnStack: [] };
  }

  private checkLatent(l: A.LatentBlock): void {
    // Declared names, also of states whose shape failed (already reported): their equations are
    // still equations for a state.
    const stateNames = new Set(l.states.map((s) => s.name.name).filter((n) => n !== "<missing>"));
    // Initial states: zeros, ones, learned, or an expression of params and the first observation.
    for (const s of l.states) {
      const st = this.states.find((x) => x.name === s.name.name);
      if (!st) continue;
      this.checkStateInit(s, st);
    }
    // Equations in any order: sort by dependency, reject cycles.
    const eqs = l.equations;
    const defines = (e: A.Equation) => (e.primed ? `${e.target.name}'` : e.target.name);
    const byKey = new Map<string, A.Equation>();
    /** States whose equation was (probably) written under a misspelled name: E041 says so already. */
    const misspelt = new Set<string>();
    for (const e of eqs) {
      const key = defines(e);
      if (e.target.name === "<missing>") continue;
      if (e.primed && !stateNames.has(e.target.name)) {
        const s = this.syms.get(e.target.name);
        const guess = s ? undefined : closest(e.target.name, stateNames);
        if (guess) misspelt.add(guess);
        this.err("RNN-E041", e.target.span, s ? `'${e.target.name}' is ${describeKind(s.kind)}, not a state of this latent block; only states have next values` : `'${e.target.name}' is not a state of this latent block`, {
          hints: [...(guess ? [`did you mean '${guess}'?`] : []), `the states of this block: ${[...stateNames].join(", ")}`],
        });
        continue;
      }
      const prev = byKey.get(key);
      if (prev) {
        this.err("RNN-E011", e.target.span, e.primed ? `the next value of '${e.target.name}' is defined twice` : `'${key}' is defined twice in this latent block`, {
          related: [{ span: prev.target.span, message: "first defined here" }],
        });
        continue;
      }
      if (!e.primed) {
        const g = this.syms.get(e.target.name);
        if (g) {
          this.err("RNN-E011", e.target.span, `'${e.target.name}' is already declared as ${describeKind(g.kind)}`, {
            label: "declared again here",
            related: [{ span: g.span, message: "first declared here" }],
            hints: g.kind === "state" ? [`did you mean the next value: \`${e.target.name}' = ...\`?`] : ["choose another name for this binding"],
          });
          continue;
        }
      }
      byKey.set(key, e);
    }
    this.missingNext.clear();
    for (const s of stateNames) {
      if (!byKey.has(`${s}'`)) {
        this.missingNext.add(s);
        if (misspelt.has(s)) continue;
        const decl = l.states.find((x) => x.name.name === s);
        // Reads of the missing next value are part of the same mistake: shown here, not reported again.
        const reads: A.Span[] = [];
        const walk = (x: A.Expr): void => {
          if (x.kind === "name" && x.primed && x.name === s) reads.push(x.span);
          for (const ch of childExprs(x)) walk(ch);
        };
        for (const e of byKey.values()) walk(e.value);
        if (decl) {
          this.err("RNN-E040", decl.name.span, `state '${s}' has no next-state equation`, {
            label: `'${s}' is declared here`,
            related: reads.slice(0, 3).map((span) => ({ span, message: `${s}' is read here` })),
            hints: [`add \`${s}' = ...\` to the latent block`],
          });
        }
      }
    }
    const order = this.orderEquations([...byKey.values()], byKey);
    const c = this.ctx(this.stepG, "step");
    // Equations in a cycle are not checked (the cycle is reported); their names are not unknown.
    for (const k of byKey.keys()) if (!order.some((e) => defines(e) === k)) c.locals.set(k, { k: "err" });
    for (const e of order) this.checkEquation(e, c);
    for (const st of this.states) {
      const v = c.locals.get(`${st.name}'`);
      if (v && v.k === "tensor") this.stepG.outputs[st.name] = v.ref;
    }
  }

  private orderEquations(eqs: A.Equation[], byKey: Map<string, A.Equation>): A.Equation[] {
    const key = (e: A.Equation) => (e.primed ? `${e.target.name}'` : e.target.name);
    const deps = (e: A.Equation): string[] => {
      const out: string[] = [];
      const walk = (x: A.Expr): void => {
        if (x.kind === "name") {
          const k = x.primed ? `${x.name}'` : x.name;
          if (byKey.has(k)) out.push(k);
        }
        for (const child of childExprs(x)) walk(child);
      };
      walk(e.value);
      return out;
    };
    const order: A.Equation[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (e: A.Equation, chain: A.Equation[]): void => {
      const k = key(e);
      if (state.get(k) === "done") return;
      if (state.get(k) === "visiting") {
        const cycle = chain.slice(chain.indexOf(e));
        this.err("RNN-E042", e.target.span, `equations depend on each other in a cycle: ${[...cycle.map(key), k].join(" -> ")}`, {
          related: cycle.filter((c) => c !== e).map((c) => ({ span: c.target.span, message: `${key(c)} is defined here` })),
          hints: [cycle.some((c) => c.primed) ? "a value may use the next value of a state (h' = o * tanh(c')), but not the other way round too" : "a binding cannot depend on itself, not even through others: compute one of them from the state and the parameters alone"],
        });
        for (const c of cycle) state.set(key(c), "done");
        return;
      }
      state.set(k, "visiting");
      for (const d of deps(e)) visit(byKey.get(d)!, [...chain, e]);
      if (state.get(k) === "done") return;
      state.set(k, "done");
      order.push(e);
    };
    for (const e of eqs) visit(e, []);
    return order;
  }

  private checkEquation(e: A.Equation, c: GraphCtx): void {
    const key = e.primed ? `${e.target.name}'` : e.target.name;
    const st = e.primed ? this.states.find((s) => s.name === e.target.name) : undefined;
    c.target = st ? { shape: st.shape } : undefined;
    let v: Val;
    if (e.forVar || e.index) {
      if (!e.forVar || !e.forAxis || !e.index || e.index.name !== e.forVar.name) {
        this.err("RNN-E018", (e.index ?? e.target).span, e.forVar ? `the index on the left must be the 'for' variable '${e.forVar.name}'` : "an indexed definition needs a `for` clause", {
          hints: ["write `d[k] = ... for k in K`"],
        });
        c.locals.set(key, { k: "err" });
        return;
      }
      v = this.comprehension(e.forVar, e.forAxis, e.value, c, "stack", e.span);
    } else {
      v = this.expr(e.value, c);
    }
    v = this.materialize(v, c, e.value.span);
    if (v.k === "tensor" && st) {
      if (!this.sameShape(v.shape, st.shape)) {
        this.err("RNN-E043", e.value.span, `the next value of '${st.name}' has shape ${this.showShape(v.shape)}, but '${st.name}' is declared ${this.showShape(st.shape)}`, {
          label: `this is ${this.showShape(v.shape)}`,
        });
        v = { k: "err" };
      }
    }
    if (v.k === "tensor") {
      const ref = c.b.rename(v.ref, key);
      v = { ...v, ref };
    } else if (v.k !== "err") {
      this.err("RNN-E045", e.value.span, `${describeVal(v)} cannot be the value of an equation`);
      v = { k: "err" };
    }
    c.locals.set(key, v);
  }

  private checkStateInit(s: A.StateDecl, st: IR.State): void {
    const c = this.ctx(this.initG, "init");
    const e = s.init;
    let v: Val;
    if (!e || (e.kind === "name" && ["zeros", "ones"].includes(e.name) && !this.syms.has(e.name))) {
      const val = !e || e.kind !== "name" || e.name === "zeros" ? 0 : 1;
      const k = c.b.emit("const", [], [], { value: val });
      v = { k: "tensor", ref: c.b.emit("broadcast", [k], st.shape), shape: st.shape, comp: [] };
    } else if (e.kind === "name" && e.name === "learned" && !this.syms.has("learned")) {
      // A learned initial state is an ordinary parameter named <state>0.
      const pname = `${st.name}0`;
      if (this.syms.has(pname)) {
        this.err("RNN-E011", e.span, `a learned initial state needs the parameter name '${pname}', which is already taken`);
        return;
      }
      this.syms.set(pname, { kind: "param", name: pname, span: e.span, shape: st.shape });
      this.used.add(pname);
      this.params.push({ name: pname, shape: st.shape, structure: "dense", init: { scheme: "zeros" }, constraints: [], trainable: true });
      this.effective.set(pname, pname);
      v = { k: "tensor", ref: c.b.useInput(pname), shape: st.shape, comp: [] };
    } else {
      v = this.materialize(this.expr(e, c), c, e.span);
    }
    if (v.k === "num") v = this.materialize(v, c, e!.span);
    if (v.k === "tensor") {
      if (v.shape.length === 0 && st.shape.length > 0) v = { ...v, ref: c.b.emit("broadcast", [v.ref], st.shape), shape: st.shape };
      if (!this.sameShape(v.shape, st.shape)) {
        const obs = e!.kind === "name" ? this.syms.get(e!.name) : undefined;
        const n = v.shape.length === 1 ? printNum(v.shape[0]!) : undefined;
        const m = st.shape.length === 1 ? printNum(st.shape[0]!) : undefined;
        this.err("RNN-E043", e!.span, `the initial value of '${st.name}' has shape ${this.showShape(v.shape)}, but '${st.name}' is declared ${this.showShape(st.shape)}`, {
          label: `this is ${this.showShape(v.shape)}`,
          hints: obs?.kind === "obs" && n && m ? [`the observation stands for the first data sample; fill the other units, e.g. \`concat(${obs.name}, L @ ${obs.name})\` with a parameter \`L : [${m} - ${n}, ${n}]\``] : [],
        });
        return;
      }
      c.b.outputs[st.name] = c.b.rename(v.ref, `${st.name}_0`);
    } else if (v.k !== "err") {
      this.err("RNN-E045", e!.span, `${describeVal(v)} cannot be an initial state`, { hints: ["use zeros, ones, learned, or an expression of parameters and the first observation"] });
    }
  }

  private checkObserve(o: A.ObserveDecl): void {
    const ob = this.observations.find((x) => x.name === o.name.name);
    if (!ob) return;
    const c = this.ctx(this.observeG, "observe");
    let v = this.materialize(this.expr(o.value, c), c, o.value.span);
    if (v.k === "tensor") {
      if (!this.sameShape(v.shape, ob.shape)) {
        this.err("RNN-E043", o.value.span, `the observation '${ob.name}' is declared ${this.showShape(ob.shape)}, but its value is ${this.showShape(v.shape)}`, {
          label: `this is ${this.showShape(v.shape)}`,
        });
        return;
      }
      this.observeG.outputs[ob.name] = this.observeG.rename(v.ref, ob.name);
    } else if (v.k !== "err") {
      v = this.err("RNN-E045", o.value.span, `${describeVal(v)} cannot be observed`);
    }
  }

  private sameShape(a: IR.Shape, b: IR.Shape): boolean {
    return a.length === b.length && a.every((d, i) => dimsEqual(d, b[i]!, this.dimEnv) === true);
  }

  // ------------------------------------------------------------------ expressions
  /** A compile-time number turned into a scalar tensor where a tensor is needed. */
  private materialize(v: Val, c: GraphCtx, span: A.Span): Val {
    if (v.k === "num") return { k: "tensor", ref: c.b.emit("const", [], [], { value: v.e }, span), shape: [], comp: [] };
    return v;
  }

  private expr(e: A.Expr, c: GraphCtx): Val {
    switch (e.kind) {
      case "num":
        if (e.unit) return this.err("RNN-E065", e.span, `a unit ('${e.unit}') has no meaning inside an equation`);
        return { k: "num", e: e.value };
      case "str": return { k: "str", value: e.value };
      case "bool": return { k: "bool", value: e.value };
      case "error": return { k: "err" };
      case "name": return this.nameRef(e, c);
      case "member": {
        const obj = this.expr(e.object, c);
        if (obj.k === "err") return obj;
        if (obj.k === "data") {
          const info = this.dataKinds.get(obj.name);
          if (!info) return { k: "err" };
          const fields = [...FIELDS[info.kind].dims, ...FIELDS[info.kind].refs];
          if (!fields.includes(e.name as never)) {
            return this.err("RNN-E024", e.nameSpan, `data set '${obj.name}' has no field '${e.name}'`, { hints: [...didYouMean(e.name, fields), `fields: ${fields.join(", ")}`] });
          }
          if ((FIELDS[info.kind].dims as readonly string[]).includes(e.name)) {
            const ref = closest(e.name, FIELDS[info.kind].refs);
            return this.err("RNN-E045", e.span, `'${obj.name}.${e.name}' is a size, not data`, {
              label: `the number of ${e.name}`,
              hints: [...(ref ? [`did you mean '${obj.name}.${ref}'?`] : []), `to use the size, bind it to a dim: \`dims { X = ${obj.name}.${e.name} }\``],
            });
          }
          return { k: "dataref", data: obj.name, field: e.name };
        }
        return this.err("RNN-E045", e.span, `${describeVal(obj)} has no fields`);
      }
      case "unary": {
        const v = this.expr(e.operand, c);
        if (e.op === "+") return v;
        if (v.k === "num") return { k: "num", e: typeof v.e === "number" ? -v.e : num("neg", v.e) };
        if (v.k === "tensor") return { ...v, ref: c.b.emit("neg", [v.ref], this.layoutShape(v), undefined, e.span), diag: v.diag };
        return this.notATensor(v, e.operand.span);
      }
      case "binary": return this.binary(e, c);
      case "call": return this.call(e, c);
      case "index": return this.index(e, c);
      case "list": return this.err("RNN-E045", e.span, "a list cannot be used inside an equation", { hints: ["join vectors with concat(a, b)"] });
    }
  }

  private notATensor(v: Val, span: A.Span): Val {
    if (v.k === "err") return v;
    return this.err("RNN-E045", span, `${describeVal(v)} cannot be used in arithmetic`, {
      hints: v.k === "compvar" ? [`use it as an index, e.g. x[${v.v}]`] : v.k === "data" || v.k === "dataref" ? ["data enter equations through `input` declarations or the loss, not directly"] : [],
    });
  }

  private nameRef(e: Extract<A.Expr, { kind: "name" }>, c: GraphCtx): Val {
    const key = e.primed ? `${e.name}'` : e.name;
    const local = c.locals.get(key);
    if (local) return local;
    if (e.primed) {
      const s = this.syms.get(e.name);
      if (s?.kind === "state" && c.where === "step") {
        if (this.missingNext.has(e.name)) return { k: "err" }; // reported at the state's declaration
        return this.err("RNN-E040", e.span, `'${e.name}'' is read here but has no equation`, { hints: [`add \`${e.name}' = ...\``] });
      }
      return this.err("RNN-E041", e.span, s ? `'${e.name}' is ${describeKind(s.kind)}; only latent states have next values (${e.name}')` : `unknown name '${e.name}'`);
    }
    const compv = c.comp.find((x) => x.v === e.name);
    if (compv) return { k: "compvar", v: compv.v, axisName: compv.axisName, axis: compv.axis };
    const s = this.syms.get(e.name);
    if (!s) {
      if (e.name === "<missing>") return { k: "err" };
      const builtinNames = BUILTIN_FUNCTIONS.includes(e.name);
      if (builtinNames) return this.err("RNN-E045", e.span, `'${e.name}' is a function; call it: ${e.name}(...)`);
      return this.unknownName(e.name, e.span, undefined, [...c.locals.keys()].filter((k) => !k.endsWith("'")));
    }
    this.used.add(e.name);
    switch (s.kind) {
      case "dim":
        if (!this.dimExprs.has(e.name)) return { k: "err" };
        return { k: "num", e: this.dimValues.get(e.name) ?? e.name, dim: e.name };
      case "const":
        return { k: "num", e: this.consts.get(e.name) ?? 0 };
      case "param": {
        const eff = this.effective.get(e.name);
        if (!eff || !s.shape) return { k: "err" };
        if (c.where === "param-init") return this.err("RNN-E045", e.span, "parameters cannot be used here");
        return { k: "tensor", ref: c.b.useInput(eff), shape: s.shape, comp: [], ...(s.diag ? { diag: true } : {}) };
      }
      case "state":
        if (!s.shape) return { k: "err" };
        if (c.where === "init") return this.err("RNN-E045", e.span, `the initial value of a state cannot depend on the state '${e.name}'`, { hints: ["use zeros, ones, learned, parameters, or the observation (bound to the first data sample)"] });
        return { k: "tensor", ref: c.b.useInput(e.name), shape: s.shape, comp: [] };
      case "input":
        if (!s.shape) return { k: "err" };
        if (c.where === "init") return this.err("RNN-E045", e.span, "an initial state cannot depend on an input");
        return { k: "tensor", ref: c.b.useInput(e.name), shape: s.shape, comp: [] };
      case "obs":
        if (!s.shape) return { k: "err" };
        // In an initial-state rule the observation stands for the first data sample.
        if (c.where === "init") return { k: "tensor", ref: c.b.useInput(e.name), shape: s.shape, comp: [] };
        return this.err("RNN-E045", e.span, `the observation '${e.name}' can only be used in the loss or in a state's initial value`, {
          hints: ["equations are written in terms of the latent state"],
        });
      case "data":
        return { k: "data", name: e.name };
      case "fn":
        return { k: "fn", decl: this.fns.get(e.name)! };
      default:
        return { k: "err" };
    }
  }

  /** Shape of a tensor's full layout ([comp axes..., shape...]). */
  private layoutShape(v: Extract<Val, { k: "tensor" }>): IR.Shape {
    return [...this.compAxes(v.comp), ...v.shape];
  }

  private compAxes(vars: string[]): IR.Shape {
    return vars.map((name) => this.compAxisOf(name));
  }

  private compAxisSizes = new Map<string, NumExpr>();
  private compAxisOf(name: string): NumExpr {
    return this.compAxisSizes.get(name) ?? 1;
  }

  /** NumPy broadcasting of two symbolic shapes; undefined when they do not broadcast. */
  private broadcastShapes(a: IR.Shape, b: IR.Shape): IR.Shape | undefined {
    const n = Math.max(a.length, b.length);
    const out: IR.Shape = [];
    for (let i = 0; i < n; i++) {
      const da = a[a.length - n + i];
      const db = b[b.length - n + i];
      if (da === undefined) out.push(db!);
      else if (db === undefined) out.push(da);
      else if (dimsEqual(da, db, this.dimEnv) === true) out.push(da);
      else if (evalNum(da, this.dimEnv) === 1) out.push(db);
      else if (evalNum(db, this.dimEnv) === 1) out.push(da);
      else return undefined;
    }
    return out;
  }

  /** Lay a tensor out over the comprehension variables `comp` and a regular part of rank `rank`. */
  private relayout(v: Extract<Val, { k: "tensor" }>, comp: string[], rank: number, c: GraphCtx): string {
    if (v.comp.length === 0 && (comp.length === 0 || v.shape.length <= rank)) {
      // Leading comprehension axes broadcast from the right already.
      if (comp.length === 0 || v.shape.length === rank || v.shape.length <= rank) return v.ref;
    }
    const same = v.comp.length === comp.length && v.comp.every((x, i) => x === comp[i]) && v.shape.length === rank;
    if (same) return v.ref;
    const target: IR.Shape = [...comp.map((x) => (v.comp.includes(x) ? this.compAxisOf(x) : 1)), ...Array(rank - v.shape.length).fill(1), ...v.shape];
    return c.b.emit("reshape", [v.ref], target);
  }

  private orderComp(a: string[], b: string[], c: GraphCtx): string[] {
    const all = new Set([...a, ...b]);
    return c.comp.map((x) => x.v).filter((x) => all.has(x));
  }

  private elementwise(op: IR.OpName, vals: Val[], spans: A.Span[], c: GraphCtx, opSpan: A.Span, opText: string): Val {
    if (vals.some((v) => v.k === "err")) return { k: "err" };
    for (let i = 0; i < vals.length; i++) if (vals[i]!.k !== "tensor" && vals[i]!.k !== "num") return this.notATensor(vals[i]!, spans[i]!);
    const ts = vals.map((v, i) => (v.k === "num" ? (this.materialize(v, c, spans[i]!) as Extract<Val, { k: "tensor" }>) : (v as Extract<Val, { k: "tensor" }>)));
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      if (t.diag && ts.some((o, j) => j !== i && o.shape.length >= 2)) {
        return this.err("RNN-E045", spans[i]!, `the diag parameter is stored as a vector; adding it elementwise to a matrix would broadcast along rows`, {
          hints: ["apply it to a vector instead: `A @ z + W @ z`"],
        });
      }
    }
    let shape: IR.Shape | undefined = ts[0]!.shape;
    for (let i = 1; i < ts.length; i++) {
      const next: IR.Shape | undefined = shape ? this.broadcastShapes(shape, ts[i]!.shape) : undefined;
      if (!next) {
        return this.err("RNN-E013", opSpan, `operands of '${opText}' do not broadcast: ${this.showShape(ts[i - 1]!.shape)} and ${this.showShape(ts[i]!.shape)}`, {
          label: `${this.showShape(ts[i - 1]!.shape)} ${opText} ${this.showShape(ts[i]!.shape)}`,
          related: [
            { span: spans[i - 1]!, message: `this is ${this.showShape(ts[i - 1]!.shape)}` },
            { span: spans[i]!, message: `this is ${this.showShape(ts[i]!.shape)}` },
          ],
          hints: ["elementwise operations need equal dims (or 1) when aligned from the right; for a matrix product use @"],
        });
      }
      shape = next;
    }
    const comp = ts.reduce<string[]>((acc, t) => this.orderComp(acc, t.comp, c), []);
    const refs = ts.map((t) => this.relayout(t, comp, shape!.length, c));
    const ref = c.b.emit(op, refs, [...this.compAxes(comp), ...shape!], undefined, opSpan);
    return { k: "tensor", ref, shape: shape!, comp };
  }

  private binary(e: Extract<A.Expr, { kind: "binary" }>, c: GraphCtx): Val {
    if (["==", "!=", "<=", ">=", "<", ">"].includes(e.op)) {
      return this.err("RNN-E045", e.opSpan, `comparison '${e.op}' is only allowed in require clauses`);
    }
    const l = this.expr(e.left, c);
    const r = this.expr(e.right, c);
    if (l.k === "err" || r.k === "err") return { k: "err" };
    // Compile-time arithmetic on numbers and dims folds away.
    if (l.k === "num" && r.k === "num" && e.op !== "@") {
      const out = num(e.op as "+", l.e, r.e);
      return { k: "num", e: evalNum(out, this.dimEnv) ?? out };
    }
    if (e.op === "@") return this.matmul(l, r, e, c);
    const op: IR.OpName = ({ "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow", "%": "mul" } as const)[e.op as "+"];
    if (e.op === "%") return this.err("RNN-E045", e.opSpan, "'%' is only defined for dims", { hints: ["e.g. `require H % K == 0`"] });
    return this.elementwise(op, [l, r], [e.left.span, e.right.span], c, e.opSpan, e.op);
  }

  private matmul(l: Val, r: Val, e: Extract<A.Expr, { kind: "binary" }>, c: GraphCtx): Val {
    if (l.k !== "tensor") return this.notMatrix(l, e.left.span);
    if (r.k !== "tensor") return this.notMatrix(r, e.right.span);
    const mismatch = (lhsShape: string, rhsShape: string): Val =>
      this.err("RNN-E012", joinSpans(e.left.span, e.right.span), "matrix product has incompatible shapes", {
        label: `${this.exprText(e.left)} is ${lhsShape} but ${this.exprText(e.right)} is ${rhsShape}`,
        related: [],
        hints: this.matmulHint(l, r),
      });
    // A diag[M] parameter is an M x M diagonal matrix stored as a vector: A @ v is A * v.
    if (l.diag) {
      if (r.shape.length === 0) return mismatch(`diag${this.showShape(l.shape)}`, this.showShape(r.shape));
      if (dimsEqual(l.shape[0]!, r.shape[0]!, this.dimEnv) !== true) return mismatch(`diag${this.showShape(l.shape)}`, this.showShape(r.shape));
      const lv: Extract<Val, { k: "tensor" }> = r.shape.length === 1 ? { ...l, diag: false } : { ...l, diag: false, ref: c.b.emit("reshape", [l.ref], [...this.compAxes(l.comp), l.shape[0]!, 1]), shape: [l.shape[0]!, 1] };
      return this.elementwise("mul", [lv, r], [e.left.span, e.right.span], c, e.opSpan, "@");
    }
    if (r.diag) {
      if (l.shape.length === 0 || dimsEqual(l.shape[l.shape.length - 1]!, r.shape[0]!, this.dimEnv) !== true) return mismatch(this.showShape(l.shape), `diag${this.showShape(r.shape)}`);
      return this.elementwise("mul", [l, { ...r, diag: false }], [e.left.span, e.right.span], c, e.opSpan, "@");
    }
    if (l.shape.length === 0 || r.shape.length === 0 || l.shape.length > 2 || r.shape.length > 2) {
      return mismatch(this.showShape(l.shape), this.showShape(r.shape));
    }
    const k1 = l.shape[l.shape.length - 1]!;
    const k2 = r.shape.length === 1 ? r.shape[0]! : r.shape[0]!;
    if (dimsEqual(k1, k2, this.dimEnv) !== true) return mismatch(this.showShape(l.shape), this.showShape(r.shape));
    const outShape: IR.Shape = [...(l.shape.length === 2 ? [l.shape[0]!] : []), ...(r.shape.length === 2 ? [r.shape[1]!] : [])];
    const comp = this.orderComp(l.comp, r.comp, c);
    if (comp.length === 0) {
      return { k: "tensor", ref: c.b.emit("matmul", [l.ref, r.ref], outShape, undefined, e.opSpan), shape: outShape, comp: [] };
    }
    // Under a comprehension, make both operands matrices over the same batch of comprehension axes.
    const asMatrix = (v: Extract<Val, { k: "tensor" }>, side: "l" | "r"): string => {
      const batch = comp.map((x) => (v.comp.includes(x) ? this.compAxisOf(x) : 1));
      const mat: IR.Shape = v.shape.length === 2 ? v.shape : side === "l" ? [1, v.shape[0]!] : [v.shape[0]!, 1];
      const same = v.comp.length === comp.length && v.shape.length === 2;
      return same ? v.ref : c.b.emit("reshape", [v.ref], [...batch, ...mat]);
    };
    const lm = asMatrix(l, "l");
    const rm = asMatrix(r, "r");
    const m = l.shape.length === 2 ? l.shape[0]! : 1;
    const n = r.shape.length === 2 ? r.shape[1]! : 1;
    const prod = c.b.emit("matmul", [lm, rm], [...this.compAxes(comp), m, n], undefined, e.opSpan);
    const ref = outShape.length === 2 ? prod : c.b.emit("reshape", [prod], [...this.compAxes(comp), ...outShape]);
    return { k: "tensor", ref, shape: outShape, comp };
  }

  private matmulHint(l: Extract<Val, { k: "tensor" }>, r: Extract<Val, { k: "tensor" }>): string[] {
    if (l.diag && r.shape.length >= 1) {
      const d = printNum(l.shape[0]!);
      return [`a diag[${d}] parameter acts as a diagonal ${d} x ${d} matrix: the right side must have ${d} entries`];
    }
    if (r.diag || l.diag) return [];
    if (l.shape.length === 1 && r.shape.length === 1) return ["both sides are vectors; for an elementwise product use *"];
    if (l.shape.length === 2 && r.shape.length === 2 && dimsEqual(l.shape[0]!, r.shape[0]!, this.dimEnv)) return ["did you mean to transpose one side? transpose(X)"];
    if (l.shape.length === 2 && r.shape.length === 1) return [`the right side must have ${printNum(l.shape[1]!)} entries to match the matrix's columns`];
    return [];
  }

  private notMatrix(v: Val, span: A.Span): Val {
    if (v.k === "err") return v;
    if (v.k === "num") return this.err("RNN-E012", span, "matrix product with a scalar", { hints: ["scale with * instead of @"] });
    return this.notATensor(v, span);
  }

  private exprText(e: A.Expr): string {
    const text = printExpr(e);
    return text.length > 40 ? "the left side" : text;
  }

  // ------------------------------------------------------------------ calls
  private call(e: Extract<A.Expr, { kind: "call" }>, c: GraphCtx): Val {
    if (e.callee.kind !== "name") {
      return this.err("RNN-E015", e.callee.span, "only named functions can be called");
    }
    const name = e.callee.name;
    const fn = this.fns.get(name);
    if (fn) {
      this.used.add(name);
      return this.callFn(fn, e, c);
    }
    if (this.syms.has(name)) {
      const s = this.syms.get(name)!;
      return this.err("RNN-E015", e.callee.span, `'${name}' is ${describeKind(s.kind)}, not a function`, { hints: s.kind === "param" || s.kind === "state" ? [`for a matrix product write ${name} @ x`] : [] });
    }
    const pos = e.args.filter((a) => a.kind === "positional").map((a) => (a as { value: A.Expr }).value);
    const named = e.args.filter((a): a is Extract<A.Arg, { kind: "named" }> => a.kind === "named");
    const binders = e.args.filter((a): a is Extract<A.Arg, { kind: "binder" }> => a.kind === "binder");
    const noNamed = (allowed: string[] = []): boolean => {
      for (const a of named) if (!allowed.includes(a.name)) {
        this.err("RNN-E014", a.nameSpan, `${name}() has no argument '${a.name}'`, { hints: allowed.length ? [`it takes: ${allowed.join(", ")}`] : ELEMENTWISE_UNARY.has(name) ? [`${name} takes one argument and no named ones: ${name}(x)`] : [`${name}() takes no named arguments`] });
        return false;
      }
      if (binders.length > 0 && !REDUCTIONS.has(name)) {
        this.err("RNN-E018", binders[0]!.span, `${name}() does not take a comprehension`, { hints: ["comprehensions are written sum(b in B: ...), mean(...), max(...), min(...)"] });
        return false;
      }
      return true;
    };
    const arity = (n: number, usage: string): boolean => {
      if (pos.length !== n) {
        this.err("RNN-E014", e.span, `${name}() takes ${n} argument${n === 1 ? "" : "s"}, got ${pos.length}`, { hints: [`usage: ${usage}`] });
        return false;
      }
      return true;
    };
    if (ELEMENTWISE_UNARY.has(name)) {
      if (!noNamed() || !arity(1, `${name}(x)`)) return { k: "err" };
      const v = this.expr(pos[0]!, c);
      if (v.k === "num") {
        if (["sqrt", "exp", "log"].includes(name)) return { k: "num", e: evalNum(num(name as "sqrt", v.e), this.dimEnv) ?? num(name as "sqrt", v.e) };
        return this.elementwiseUnary(name as IR.OpName, this.materialize(v, c, pos[0]!.span), c, e.span);
      }
      if (v.k !== "tensor") return this.notATensor(v, pos[0]!.span);
      return this.elementwiseUnary(name as IR.OpName, v, c, e.span);
    }
    switch (name) {
      case "clip": {
        if (!noNamed() || !arity(3, "clip(x, lo, hi)")) return { k: "err" };
        const v = this.expr(pos[0]!, c);
        const lo = this.scalar(pos[1]!, { allowUnknown: true });
        const hi = this.scalar(pos[2]!, { allowUnknown: true });
        if (v.k === "err" || lo === undefined || hi === undefined) return { k: "err" };
        const t = this.materialize(v, c, pos[0]!.span);
        if (t.k !== "tensor") return this.notATensor(t, pos[0]!.span);
        return { ...t, ref: c.b.emit("clip", [t.ref], this.layoutShape(t), { lo, hi }, e.span), diag: t.diag };
      }
      case "maximum": case "minimum": {
        if (!noNamed() || !arity(2, `${name}(a, b)`)) return { k: "err" };
        return this.elementwise(name, [this.expr(pos[0]!, c), this.expr(pos[1]!, c)], [pos[0]!.span, pos[1]!.span], c, e.callee.span, name);
      }
      case "concat": return this.concat(e, pos, c, noNamed());
      case "flatten": {
        if (!noNamed() || !arity(1, "flatten(x)")) return { k: "err" };
        const v = this.expr(pos[0]!, c);
        if (v.k !== "tensor") return this.notATensor(v, pos[0]!.span);
        const size = v.shape.reduce<NumExpr>((acc, d) => simplify(num("*", acc, d), this.dimEnv), 1);
        return { k: "tensor", ref: c.b.emit("reshape", [v.ref], [...this.compAxes(v.comp), size], undefined, e.span), shape: [size], comp: v.comp };
      }
      case "transpose": {
        if (!noNamed() || !arity(1, "transpose(X)")) return { k: "err" };
        const v = this.expr(pos[0]!, c);
        if (v.k !== "tensor") return this.notATensor(v, pos[0]!.span);
        if (v.shape.length !== 2 || v.diag) return this.err("RNN-E014", pos[0]!.span, `transpose takes a matrix, got ${this.showShape(v.shape)}`);
        const nc = v.comp.length;
        const perm = [...v.comp.map((_, i) => i), nc + 1, nc];
        const shape = [v.shape[1]!, v.shape[0]!];
        return { k: "tensor", ref: c.b.emit("transpose", [v.ref], [...this.compAxes(v.comp), ...shape], { perm }, e.span), shape, comp: v.comp };
      }
      case "noise": return this.noise(e, pos, named, c);
    }
    if (REDUCTIONS.has(name)) {
      if (binders.length === 1 && pos.length === 0 && named.length === 0) {
        const b = binders[0]!;
        return this.comprehension({ name: b.variable, span: b.varSpan }, { name: b.axis, span: b.axisSpan }, b.body, c, name as "sum", e.span);
      }
      if (!noNamed() || !arity(1, `${name}(x) or ${name}(b in B: expr)`)) return { k: "err" };
      const v = this.materialize(this.expr(pos[0]!, c), c, pos[0]!.span);
      if (v.k !== "tensor") return this.notATensor(v, pos[0]!.span);
      const axes = v.shape.map((_, i) => v.comp.length + i);
      const op = `reduce_${name}` as IR.OpName;
      return { k: "tensor", ref: c.b.emit(op, [v.ref], this.compAxes(v.comp), { axes }, e.span), shape: [], comp: v.comp };
    }
    if (INITIALIZERS.includes(name) || ["mse", "mae", "sparse", "gtf", "radam", "adam", "sgd", "adamw"].includes(name)) {
      return this.err("RNN-E015", e.callee.span, `'${name}' is not a function that can be used in an equation`, { hints: INITIALIZERS.includes(name) ? ["initializers are written after a parameter: `W : [M, M] init = " + name + "`"] : ["this belongs in the train block"] });
    }
    return this.err("RNN-E015", e.callee.span, `unknown function '${name}'`, {
      hints: [...didYouMean(name, [...BUILTIN_FUNCTIONS, ...this.fns.keys()]), "see docs/LANGUAGE.md for the built-in functions"],
    });
  }

  private elementwiseUnary(op: IR.OpName, v: Val, c: GraphCtx, span: A.Span): Val {
    if (v.k !== "tensor") return this.notATensor(v, span);
    return { k: "tensor", ref: c.b.emit(op, [v.ref], this.layoutShape(v), undefined, span), shape: v.shape, comp: v.comp, ...(v.diag ? { diag: true } : {}) };
  }

  private concat(e: Extract<A.Expr, { kind: "call" }>, pos: A.Expr[], c: GraphCtx, ok: boolean): Val {
    if (!ok) return { k: "err" };
    if (pos.length < 1) return this.err("RNN-E014", e.span, "concat() needs at least one argument", { hints: ["usage: concat(a, b, ...)"] });
    const vals = pos.map((p) => this.materialize(this.expr(p, c), c, p.span));
    if (vals.some((v) => v.k === "err")) return { k: "err" };
    for (let i = 0; i < vals.length; i++) if (vals[i]!.k !== "tensor") return this.notATensor(vals[i]!, pos[i]!.span);
    const ts = vals as Extract<Val, { k: "tensor" }>[];
    const rank = ts[0]!.shape.length;
    if (rank === 0) return this.err("RNN-E017", pos[0]!.span, "concat joins vectors, but this is a scalar");
    for (let i = 1; i < ts.length; i++) {
      const t = ts[i]!;
      const lead = ts[0]!.shape.slice(0, -1);
      if (t.shape.length !== rank || !t.shape.slice(0, -1).every((d, j) => dimsEqual(d, lead[j]!, this.dimEnv) === true)) {
        return this.err("RNN-E017", pos[i]!.span, `concat of ${this.showShape(ts[0]!.shape)} and ${this.showShape(t.shape)}: all dims but the last must agree`, {
          label: `this is ${this.showShape(t.shape)}`,
          hints: [t.shape.length !== rank ? `concat joins vectors (or tensors along their last axis), but these have ${rank} and ${t.shape.length} dims` : "concat joins along the last axis; the other dims must be equal"],
        });
      }
    }
    const comp = ts.reduce<string[]>((acc, t) => this.orderComp(acc, t.comp, c), []);
    const total = ts.map((t): NumExpr => t.shape[rank - 1]!).reduce((a, b) => simplify(num("+", a, b), this.dimEnv));
    const shape = [...ts[0]!.shape.slice(0, -1), total];
    const refs = ts.map((t) => {
      if (t.comp.length === comp.length) return t.ref;
      const target = [...comp.map((x) => this.compAxisOf(x)), ...t.shape];
      return c.b.emit("broadcast", [this.relayout(t, comp, rank, c)], target);
    });
    const ref = c.b.emit("concat", refs, [...this.compAxes(comp), ...shape], { axis: comp.length + rank - 1 }, e.span);
    return { k: "tensor", ref, shape, comp };
  }

  private noise(e: Extract<A.Expr, { kind: "call" }>, pos: A.Expr[], named: Extract<A.Arg, { kind: "named" }>[], c: GraphCtx): Val {
    if (c.where !== "step") return this.err("RNN-E044", e.span, "noise() is only allowed in latent equations");
    let shape: IR.Shape | undefined = c.target?.shape;
    if (pos.length > 1) return this.err("RNN-E014", e.span, "noise() takes at most a shape and sigma", { hints: ["usage: noise(sigma = 0.1) or noise([H], sigma = 0.1)"] });
    if (pos.length === 1) {
      const p = pos[0]!;
      if (p.kind !== "list") return this.err("RNN-E014", p.span, "the positional argument of noise() is its shape, e.g. noise([H], sigma = 0.1)");
      shape = this.shapeOf({ dims: p.items, span: p.span }, "noise");
      if (!shape) return { k: "err" };
    }
    if (!shape) {
      const like = this.states[0] ? `[${this.states[0].shape.map((d) => printNum(d)).join(", ")}]` : "[M]";
      return this.err("RNN-E044", e.span, "noise() needs a shape here: it only defaults to the state's shape in a next-state equation", { hints: [`give the shape: noise(${like}, sigma = ...)`] });
    }
    let sigma: NumExpr | undefined;
    for (const a of named) {
      if (a.name !== "sigma") {
        this.err("RNN-E014", a.nameSpan, `noise() has no argument '${a.name}'`, { hints: didYouMean(a.name, ["sigma"]) });
        return { k: "err" };
      }
      sigma = this.scalar(a.value, { allowUnknown: true });
      if (sigma === undefined) return { k: "err" };
      const sv = evalNum(sigma, this.dimEnv);
      if (sv !== undefined && sv < 0) return this.err("RNN-E044", a.value.span, `sigma must be >= 0, got ${sv}`);
    }
    if (sigma === undefined) return this.err("RNN-E044", e.span, "noise() needs its standard deviation: noise(sigma = 0.1)");
    const draw = c.b.emit("noise", [], shape, undefined, e.span);
    const s = c.b.emit("const", [], [], { value: sigma }, e.span);
    return { k: "tensor", ref: c.b.emit("mul", [s, draw], shape, undefined, e.span), shape, comp: [] };
  }

  private callFn(fn: A.FnDecl, e: Extract<A.Expr, { kind: "call" }>, c: GraphCtx): Val {
    if (c.fnStack.includes(fn.name.name)) {
      return this.err("RNN-E019", e.callee.span, `fn '${fn.name.name}' calls itself (${[...c.fnStack, fn.name.name].join(" -> ")}); fns are expanded inline and cannot recurse`);
    }
    // `fn f1(v) = f0(v) + f0(v)`, `fn f2(v) = f1(v) + f1(v)`, ...: each level doubles the inlined
    // code, so a few lines could take the checker hours and all memory.
    if (++this.fnExpansions > MAX_FN_EXPANSIONS) {
      return this.err("RNN-E019", this.firstOverLimitCall ??= e.callee.span, `fns expand to more than ${MAX_FN_EXPANSIONS} inlined calls; the model would be too large`, {
        hints: ["fns are expanded inline at each call: compute a shared value once in a let binding"],
      });
    }
    const args = e.args;
    if (args.some((a) => a.kind !== "positional")) return this.err("RNN-E019", e.span, `the arguments of fn '${fn.name.name}' are positional`);
    if (args.length !== fn.params.length) {
      return this.err("RNN-E019", e.span, `fn '${fn.name.name}' takes ${fn.params.length} argument${fn.params.length === 1 ? "" : "s"}, got ${args.length}`, {
        related: [{ span: fn.name.span, message: "defined here" }],
      });
    }
    const locals = new Map<string, Val>();
    for (let i = 0; i < args.length; i++) {
      const p = fn.params[i]!;
      const v = this.expr((args[i] as { value: A.Expr }).value, c);
      if (v.k === "err") return v;
      if (p.type) {
        const want = this.shapeOf(p.type, `parameter '${p.name.name}' of fn '${fn.name.name}'`);
        if (!want) return { k: "err" };
        const t = this.materialize(v, c, args[i]!.span);
        if (t.k !== "tensor" || !this.sameShape(t.shape, want)) {
          return this.err("RNN-E019", args[i]!.span, `argument '${p.name.name}' of fn '${fn.name.name}' must be ${this.showShape(want)}, got ${t.k === "tensor" ? this.showShape(t.shape) : describeVal(t)}`, {
            related: [{ span: p.span, message: "parameter declared here" }],
          });
        }
      }
      locals.set(p.name.name, v);
    }
    // The body sees globals, its parameters and the enclosing comprehension variables, not the caller's lets.
    const inner: GraphCtx = { ...c, locals, fnStack: [...c.fnStack, fn.name.name] };
    const saveDims = new Map<string, Val>();
    for (const [k, v] of locals) if (v.k === "num") saveDims.set(k, v);
    return this.withFnDims(saveDims, () => this.expr(fn.body, inner));
  }

  /** Inside a fn body, a parameter bound to a number also acts as a dim (for slices like v[:M-P]). */
  private withFnDims<T>(dims: Map<string, Val>, f: () => T): T {
    const saved = new Map<string, number | undefined>();
    const savedExpr = new Map<string, NumExpr | undefined>();
    const savedSym = new Map<string, Sym | undefined>();
    for (const [k, v] of dims) {
      if (v.k !== "num") continue;
      saved.set(k, this.dimValues.get(k));
      savedExpr.set(k, this.dimExprs.get(k));
      savedSym.set(k, this.syms.get(k));
      const value = evalNum(v.e, this.dimEnv);
      if (value !== undefined) this.dimValues.set(k, value);
      else this.dimValues.delete(k);
      this.dimExprs.set(k, v.e);
      this.syms.set(k, { kind: "dim", name: k, span: this.file.span });
    }
    try {
      return f();
    } finally {
      for (const [k, v] of saved) (v === undefined ? this.dimValues.delete(k) : this.dimValues.set(k, v));
      for (const [k, v] of savedExpr) (v === undefined ? this.dimExprs.delete(k) : this.dimExprs.set(k, v));
      for (const [k, v] of savedSym) (v === undefined ? this.syms.delete(k) : this.syms.set(k, v));
    }
  }

  // ------------------------------------------------------------------ comprehensions and indexing
  private comprehension(variable: A.Ident, axis: A.Ident, body: A.Expr, c: GraphCtx, mode: "sum" | "mean" | "max" | "min" | "stack", span: A.Span): Val {
    const s = this.syms.get(axis.name);
    if (!s || s.kind !== "dim") {
      if (!s) return this.err("RNN-E018", axis.span, `'${axis.name}' is not a dim; a comprehension ranges over a declared dim`, { hints: didYouMean(axis.name, [...this.syms.values()].filter((x) => x.kind === "dim").map((x) => x.name)) });
      const size = s.shape?.length === 1 && typeof s.shape[0] === "string" ? s.shape[0] : undefined;
      return this.err("RNN-E018", axis.span, `'${axis.name}' is ${describeKind(s.kind)}; a comprehension ranges over a dim`, {
        hints: size ? [`to range over the entries of '${axis.name}', use its size: \`${variable.name} in ${size}\``] : [],
      });
    }
    if (this.syms.has(variable.name) || c.comp.some((x) => x.v === variable.name)) {
      return this.err("RNN-E018", variable.span, `the comprehension variable '${variable.name}' hides another name`, { hints: ["choose a fresh name such as b or k"] });
    }
    this.used.add(axis.name);
    const size: NumExpr = this.dimValues.get(axis.name) ?? axis.name;
    const key = `${variable.name}`;
    this.compAxisSizes.set(key, size);
    const inner: GraphCtx = { ...c, comp: [...c.comp, { v: key, axisName: axis.name, axis: size }] };
    let v = this.materialize(this.expr(body, inner), inner, body.span);
    if (v.k === "err") return v;
    if (v.k !== "tensor") return this.notATensor(v, body.span);
    if (!v.comp.includes(key)) {
      // The body does not vary with the variable: broadcast it along the axis.
      const comp = this.orderComp(v.comp, [key], inner);
      const ref = c.b.emit("broadcast", [this.relayout(v, comp, v.shape.length, inner)], [...this.compAxes(comp), ...v.shape]);
      v = { ...v, ref, comp };
    }
    const pos = v.comp.indexOf(key);
    const rest = v.comp.filter((x) => x !== key);
    if (mode === "stack") {
      // d[k] = ... for k in K: the axis becomes the value's leading regular axis.
      let ref = v.ref;
      if (pos !== v.comp.length - 1) {
        const perm = [...v.comp.map((_, i) => i).filter((i) => i !== pos), pos, ...v.shape.map((_, i) => v.comp.length + i)];
        ref = c.b.emit("transpose", [ref], [...this.compAxes(rest), size, ...v.shape], { perm });
      }
      return { k: "tensor", ref, shape: [size, ...v.shape], comp: rest };
    }
    const op = `reduce_${mode}` as IR.OpName;
    return { k: "tensor", ref: c.b.emit(op, [v.ref], [...this.compAxes(rest), ...v.shape], { axes: [pos] }, span), shape: v.shape, comp: rest };
  }

  private index(e: Extract<A.Expr, { kind: "index" }>, c: GraphCtx): Val {
    const obj = this.expr(e.object, c);
    if (obj.k === "err") return obj;
    if (obj.k !== "tensor") return this.err("RNN-E016", e.object.span, `${describeVal(obj)} cannot be indexed`);
    if (obj.diag) return this.err("RNN-E016", e.span, "a diag parameter cannot be indexed as a matrix", { hints: ["it is stored as a vector; use it with @ or elementwise"] });
    if (e.items.length > obj.shape.length) {
      return this.err("RNN-E016", e.span, `${e.items.length} indices for a value with ${obj.shape.length} dim${obj.shape.length === 1 ? "" : "s"} ${this.showShape(obj.shape)}`);
    }
    let cur: Extract<Val, { k: "tensor" }> = obj;
    // Walk the regular axes; `axis` is the position in cur.shape of the item's axis.
    let axis = 0;
    const compVars: { v: string; axisPos: number; span: A.Span }[] = [];
    for (const item of e.items) {
      const dim = cur.shape[axis]!;
      if (item.kind === "slice") {
        const start = item.start ? this.indexBound(item.start, c) : 0;
        const stop = item.stop ? this.indexBound(item.stop, c) : dim;
        if (start === undefined || stop === undefined) return { k: "err" };
        const s = normalizeNeg(start, dim);
        const t = normalizeNeg(stop, dim);
        const sv = evalNum(s, this.dimEnv);
        const tv = evalNum(t, this.dimEnv);
        const dv = evalNum(dim, this.dimEnv);
        if (sv !== undefined && tv !== undefined && (sv < 0 || tv > (dv ?? Infinity) || tv <= sv)) {
          const written = `${item.start ? printExpr(item.start) : ""}:${item.stop ? printExpr(item.stop) : ""}`;
          const values = `${sv}:${tv}`;
          return this.err("RNN-E016", item.span, `the slice [${written}]${written === values ? "" : ` = [${values}]`} is ${tv <= sv ? "empty" : "out of range"} for an axis of size ${printNum(dim)}${dv !== undefined && typeof dim !== "number" ? ` = ${dv}` : ""}`, {
            label: tv <= sv ? "this selects nothing" : sv < 0 ? `starts before 0` : `ends after ${dv}`,
            hints: ["slices are half-open, start:stop, with 0 <= start < stop <= the axis size"],
          });
        }
        const len = simplify(num("-", t, s), this.dimEnv);
        const full = dimsEqual(s, 0, this.dimEnv) === true && dimsEqual(t, dim, this.dimEnv) === true;
        if (!full) {
          const shape = cur.shape.map((d, i) => (i === axis ? len : d));
          const ref = c.b.emit("slice", [cur.ref], [...this.compAxes(cur.comp), ...shape], { axis: cur.comp.length + axis, start: s, stop: t }, item.span);
          cur = { ...cur, ref, shape };
        }
        axis++;
        continue;
      }
      // A single index: a comprehension variable or an integer.
      if (item.value.kind === "name" && c.comp.some((x) => x.v === (item.value as { name: string }).name)) {
        const cv = c.comp.find((x) => x.v === (item.value as { name: string }).name)!;
        if (dimsEqual(cv.axis, dim, this.dimEnv) !== true) {
          const dv = evalNum(dim, this.dimEnv);
          return this.err("RNN-E018", item.span, `'${cv.v}' ranges over ${cv.axisName} = ${printNum(cv.axis)}, but it indexes an axis of size ${printNum(dim)}${dv !== undefined && typeof dim !== "number" ? ` = ${dv}` : ""}`, {
            label: `this axis has size ${printNum(dim)}`,
            hints: [`'${cv.v}' may only index axes of size ${cv.axisName}`],
          });
        }
        if (cur.comp.includes(cv.v)) return this.err("RNN-E018", item.span, `'${cv.v}' is used twice as an index`);
        compVars.push({ v: cv.v, axisPos: axis, span: item.span });
        axis++;
        continue;
      }
      const iv = this.indexBound(item.value, c);
      if (iv === undefined) return { k: "err" };
      const i = normalizeNeg(iv, dim);
      const ivv = evalNum(i, this.dimEnv);
      const dv = evalNum(dim, this.dimEnv);
      if (ivv !== undefined && (ivv < 0 || (dv !== undefined && ivv >= dv))) {
        const written = printExpr(item.value);
        return this.err("RNN-E016", item.span, `index ${written}${written === String(ivv) ? "" : ` = ${ivv}`} is out of range for an axis of size ${printNum(dim)}${dv !== undefined && typeof dim !== "number" ? ` = ${dv}` : ""}`, {
          label: ivv < 0 ? "before the first entry" : "past the last entry",
          hints: [dv !== undefined ? `indices start at 0: the last entry is ${typeof dim === "number" ? dv - 1 : `${printNum(dim)} - 1 = ${dv - 1}`}` : "indices start at 0"],
        });
      }
      const shape = cur.shape.filter((_, j) => j !== axis);
      const sliced = c.b.emit("slice", [cur.ref], [...this.compAxes(cur.comp), ...cur.shape.map((d, j) => (j === axis ? 1 : d))], { axis: cur.comp.length + axis, start: i, stop: simplify(num("+", i, 1), this.dimEnv) }, item.span);
      cur = { ...cur, ref: c.b.emit("reshape", [sliced], [...this.compAxes(cur.comp), ...shape]), shape };
      // axis stays: the next item addresses the axis that moved into this position
    }
    if (compVars.length === 0) return cur;
    // Move the indexed axes to the comprehension part of the layout, in scope order.
    const newComp = this.orderComp(cur.comp, compVars.map((x) => x.v), c);
    const nc = cur.comp.length;
    const perm: number[] = [];
    for (const v of newComp) {
      const old = cur.comp.indexOf(v);
      perm.push(old >= 0 ? old : nc + compVars.find((x) => x.v === v)!.axisPos);
    }
    const regular = cur.shape.map((_, i) => i).filter((i) => !compVars.some((x) => x.axisPos === i));
    for (const i of regular) perm.push(nc + i);
    const shape = regular.map((i) => cur.shape[i]!);
    for (const cv of compVars) this.compAxisSizes.set(cv.v, cur.shape[cv.axisPos]!);
    const identity = perm.every((p, i) => p === i);
    const ref = identity ? cur.ref : c.b.emit("transpose", [cur.ref], [...this.compAxes(newComp), ...shape], { perm }, e.span);
    return { k: "tensor", ref, shape, comp: newComp };
  }

  private indexBound(e: A.Expr, c: GraphCtx): NumExpr | undefined {
    const v = this.expr(e, c);
    if (v.k === "err") return undefined;
    if (v.k !== "num") {
      this.err("RNN-E016", e.span, `an index must be an integer made of literals and dims, not ${describeVal(v)}`);
      return undefined;
    }
    const val = evalNum(v.e, this.dimEnv);
    if (val !== undefined && !Number.isInteger(val)) {
      this.err("RNN-E016", e.span, `an index must be an integer, got ${val}`);
      return undefined;
    }
    return val ?? v.e;
  }

  // ------------------------------------------------------------------ config values (train/eval)
  private configValue(e: A.Expr): Val {
    const c = this.ctx(new GraphBuilder("x"), "observe");
    if (e.kind === "name") {
      const s = this.syms.get(e.name);
      // A declaration whose shape failed has been reported; settings that name it stay quiet.
      if (s && (s.kind === "obs" || s.kind === "state" || s.kind === "param") && !s.shape) {
        this.used.add(e.name);
        return { k: "err" };
      }
      if (s?.kind === "obs") {
        this.used.add(e.name);
        return { k: "tensor", ref: e.name, shape: s.shape ?? [], comp: [] };
      }
      if (s?.kind === "state") return { k: "tensor", ref: e.name, shape: s.shape ?? [], comp: [] };
      if (s?.kind === "param") {
        this.used.add(e.name);
        return { k: "tensor", ref: e.name, shape: s.shape ?? [], comp: [] };
      }
    }
    if (e.kind === "list") return { k: "list", items: e.items.map((i) => this.configValue(i)) };
    return this.expr(e, c);
  }

  private warnUnused(): void {
    // With errors, a name is often unused only because the equation that uses it failed
    // (a misspelling, a shape error): the warnings would point at the wrong place.
    if (this.bag.hasErrors) return;
    for (const s of this.syms.values()) {
      if (this.used.has(s.name)) continue;
      if (s.kind === "param") this.bag.report("RNN-W101", s.span, `parameter '${s.name}' is never used`, { hints: ["remove it, or use it in an equation"] });
      else if (s.kind === "const" || s.kind === "fn") this.bag.report("RNN-W102", s.span, `${s.kind} '${s.name}' is never used`, { hints: ["remove it, or use it"] });
      else if (s.kind === "data") this.bag.report("RNN-W103", s.span, `data set '${s.name}' is never used`);
    }
  }
}

/** The first `data.field` inside an expression (not the expression itself). */
function findDataField(e: A.Expr, isData: (name: string) => boolean): Extract<A.Expr, { kind: "member" }> | undefined {
  for (const c of childExprs(e)) {
    if (c.kind === "member" && c.object.kind === "name" && isData(c.object.name)) return c;
    const inner = findDataField(c, isData);
    if (inner) return inner;
  }
  return undefined;
}

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case "==": return a === b;
    case "!=": return a !== b;
    case "<=": return a <= b;
    case ">=": return a >= b;
    case "<": return a < b;
    default: return a > b;
  }
}

function normalizeNeg(i: NumExpr, dim: NumExpr): NumExpr {
  return typeof i === "number" && i < 0 ? (typeof dim === "number" ? dim + i : num("+", dim, i)) : i;
}

export function childExprs(e: A.Expr): A.Expr[] {
  switch (e.kind) {
    case "member": return [e.object];
    case "unary": return [e.operand];
    case "binary": return [e.left, e.right];
    case "call": return [e.callee, ...e.args.map((a) => (a.kind === "binder" ? a.body : a.value))];
    case "index": return [e.object, ...e.items.flatMap((i) => (i.kind === "at" ? [i.value] : [i.start, i.stop].filter((x): x is A.Expr => !!x)))];
    case "list": return e.items;
    default: return [];
  }
}

/** Source-like text of an expression, for messages. */
export function printExpr(e: A.Expr): string {
  switch (e.kind) {
    case "num": return e.text + (e.unit ? ` ${e.unit}` : "");
    case "str": return JSON.stringify(e.value);
    case "bool": return String(e.value);
    case "name": return e.name + (e.primed ? "'" : "");
    case "member": return `${printExpr(e.object)}.${e.name}`;
    case "unary": return `${e.op}${printExpr(e.operand)}`;
    case "binary": return `${printExpr(e.left)} ${e.op} ${printExpr(e.right)}`;
    case "call": return `${printExpr(e.callee)}(${e.args.map((a) => (a.kind === "positional" ? printExpr(a.value) : a.kind === "named" ? `${a.name} = ${printExpr(a.value)}` : `${a.variable} in ${a.axis}: ${printExpr(a.body)}`)).join(", ")})`;
    case "index": return `${printExpr(e.object)}[${e.items.map((i) => (i.kind === "at" ? printExpr(i.value) : `${i.start ? printExpr(i.start) : ""}:${i.stop ? printExpr(i.stop) : ""}`)).join(", ")}]`;
    case "list": return `[${e.items.map(printExpr).join(", ")}]`;
    case "error": return "<error>";
  }
}


