// The train and eval blocks: known keys, value types, ranges and defaults. Every default is
// written here once, and the IR records whether each value came from the spec or from here.
import type * as A from "../../../grammar/ast.js";
import type { DiagnosticBag } from "../diagnostics/diagnostic.js";
import { evalNum, namesIn, type NumExpr } from "../ir/numexpr.js";
import type * as IR from "../ir/types.js";
import { didYouMean } from "./suggest.js";
import type { Val } from "./values.js";

export interface ConfigContext {
  bag: DiagnosticBag;
  resolve: (e: A.Expr) => Val;
  states: IR.State[];
  observations: IR.Observation[];
  params: IR.Param[];
  dataKinds: Map<string, { kind: "series" | "task"; sizes: Record<string, number> }>;
  defaultData: string | undefined;
  dimEnv: (name: string) => number | undefined;
  markUsed: (name: string) => void;
  /** Dims named by a require clause that failed: shape errors about them are its consequence. */
  failedRequireDims?: ReadonlySet<string>;
}

/** A call-like option value: `radam(lr = 1e-3)`, `sparse(every = 16)`, or a bare `none`. */
interface Choice {
  name: string;
  nameSpan: A.Span;
  args: Map<string, A.Expr>;
  positional: A.Expr[];
  span: A.Span;
}

export const TRAIN_KEYS = [
  "loss", "forcing", "teacher_noise", "optimizer", "schedule", "batch_size", "seq_len", "batches_per_epoch",
  "epochs", "clip", "regularize", "seed",
] as const;

export const TRAIN_DEFAULTS = {
  teacher_noise: 0,
  batch_size: 16,
  seq_len: 200,
  batches_per_epoch: 50,
  epochs: 1000,
  seed: 1,
};

class Reader {
  constructor(private cx: ConfigContext) {}

  error(code: Parameters<DiagnosticBag["report"]>[0], span: A.Span, msg: string, hints: string[] = []): undefined {
    this.cx.bag.report(code, span, msg, { hints });
    return undefined;
  }

  choice(e: A.Expr, options: Record<string, string[]>, what: string): Choice | undefined {
    let name: string | undefined;
    let nameSpan = e.span;
    let argList: A.Arg[] = [];
    if (e.kind === "name") name = e.name;
    else if (e.kind === "call" && e.callee.kind === "name") {
      name = e.callee.name;
      nameSpan = e.callee.span;
      argList = e.args;
    }
    if (name === undefined) return this.error("RNN-E062", e.span, `${what} must be one of: ${Object.keys(options).join(", ")}`);
    const allowed = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!allowed) return this.error("RNN-E061", nameSpan, `unknown ${what} '${name}'`, [...didYouMean(name, Object.keys(options)), `choices: ${Object.keys(options).join(", ")}`]);
    const args = new Map<string, A.Expr>();
    const positional: A.Expr[] = [];
    for (const a of argList) {
      if (a.kind === "named") {
        if (!allowed.includes(a.name)) {
          this.error("RNN-E061", a.nameSpan, `${name}() has no setting '${a.name}'`, [...didYouMean(a.name, allowed), allowed.length ? `${name}() takes: ${allowed.join(", ")}` : `${name}() takes no settings`]);
          continue;
        }
        if (args.has(a.name)) {
          this.error("RNN-E061", a.nameSpan, `'${a.name}' is given twice`);
          continue;
        }
        args.set(a.name, a.value);
      } else if (a.kind === "positional") positional.push(a.value);
      else this.error("RNN-E062", a.span, "a comprehension is not a setting");
    }
    return { name, nameSpan, args, positional, span: e.span };
  }

  number(e: A.Expr, key: string, range: { min?: number; max?: number; gt?: number; int?: boolean; units?: string[] } = {}): number | undefined {
    if (e.kind === "num" && e.unit !== undefined && !(range.units ?? []).includes(e.unit)) {
      return this.error("RNN-E065", e.span, `'${key}' does not take the unit '${e.unit}'`, range.units?.length ? [`use ${range.units.join(" or ")}`] : ["write the plain number"]);
    }
    let v: number | undefined;
    if (e.kind === "num") v = e.value;
    else if (e.kind === "unary" && e.op === "-" && e.operand.kind === "num") v = -e.operand.value;
    else {
      const r = this.cx.resolve(e);
      if (r.k === "err") return undefined;
      if (r.k === "num") v = evalNum(r.e, this.cx.dimEnv);
      if (v === undefined) return this.error("RNN-E062", e.span, `'${key}' must be a number`, []);
    }
    if (range.int && !Number.isInteger(v)) return this.error("RNN-E062", e.span, `'${key}' must be an integer, got ${v}`);
    if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max) || (range.gt !== undefined && v <= range.gt)) {
      const lo = range.gt !== undefined ? `> ${range.gt}` : range.min !== undefined ? `>= ${range.min}` : "";
      const hi = range.max !== undefined ? `<= ${range.max}` : "";
      return this.error("RNN-E063", e.span, `'${key}' = ${v} is out of range: it must be ${[lo, hi].filter(Boolean).join(" and ")}`);
    }
    return v;
  }

  bool(e: A.Expr, key: string): boolean | undefined {
    if (e.kind === "bool") return e.value;
    return this.error("RNN-E062", e.span, `'${key}' must be true or false`);
  }

  /** `z[:N]` → a unit range of a state. */
  units(e: A.Expr): IR.UnitRange | undefined {
    const base = e.kind === "index" ? e.object : e;
    // A state whose declaration failed, or an unknown name: already reported.
    if (base.kind === "name" && !this.cx.states.some((s) => s.name === base.name) && this.cx.resolve(base).k === "err") return undefined;
    if (base.kind !== "name" || !this.cx.states.some((s) => s.name === base.name)) {
      return this.error("RNN-E062", e.span, "forced units are a state or a slice of one, e.g. z[:N]", this.cx.states.length ? [`states: ${this.cx.states.map((s) => s.name).join(", ")}`] : []);
    }
    const st = this.cx.states.find((s) => s.name === base.name)!;
    if (st.shape.length !== 1) return this.error("RNN-E062", e.span, "forcing applies to a vector state");
    if (e.kind !== "index") return { state: st.name, start: 0, stop: st.shape[0]! };
    const item = e.items[0];
    if (e.items.length !== 1 || !item || item.kind !== "slice") return this.error("RNN-E062", e.span, "forced units are a contiguous slice such as z[:N]");
    const bound = (x: A.Expr | undefined, dflt: NumExpr): NumExpr | undefined => {
      if (!x) return dflt;
      const r = this.cx.resolve(x);
      if (r.k === "num") return r.e;
      if (r.k !== "err") this.error("RNN-E016", x.span, "a slice bound must be made of literals and dims");
      return undefined;
    };
    const start = bound(item.start, 0);
    const stop = bound(item.stop, st.shape[0]!);
    if (start === undefined || stop === undefined) return undefined;
    const sv = evalNum(start, this.cx.dimEnv);
    const tv = evalNum(stop, this.cx.dimEnv);
    const size = evalNum(st.shape[0]!, this.cx.dimEnv);
    const involved = [...namesIn(start), ...namesIn(stop), ...namesIn(st.shape[0]!)];
    if (involved.some((n) => this.cx.failedRequireDims?.has(n))) return undefined;
    if (sv !== undefined && tv !== undefined && (sv < 0 || tv <= sv || (size !== undefined && tv > size) || !Number.isInteger(sv) || !Number.isInteger(tv))) {
      return this.error("RNN-E016", item.span, `the forced units [${sv}:${tv}] are ${tv <= sv ? "an empty range" : `not within the ${size ?? "?"} units of '${st.name}'`}`, [
        "slices are half-open, start:stop, with 0 <= start < stop <= the state's size; usually the observed units: z[:N]",
      ]);
    }
    return { state: st.name, start, stop };
  }

  dataRef(e: A.Expr, key: string): IR.DataRef | undefined {
    const r = this.cx.resolve(e);
    if (r.k === "err") return undefined;
    if (r.k === "data") {
      const info = this.cx.dataKinds.get(r.name);
      return { data: r.name, field: info?.kind === "task" ? "target" : "train" };
    }
    if (r.k === "dataref") return { data: r.data, field: r.field };
    return this.error("RNN-E062", e.span, `'${key}' must be a data set or one of its fields, e.g. lorenz or task.target`);
  }
}

export function checkTrain(block: A.TrainBlock, cx: ConfigContext): IR.TrainPlan | null {
  const r = new Reader(cx);
  const settings = new Map<string, A.Setting>();
  for (const s of block.settings) {
    const k = s.key.name;
    if (!(TRAIN_KEYS as readonly string[]).includes(k)) {
      r.error("RNN-E061", s.key.span, `unknown train setting '${k}'`, [...didYouMean(k, TRAIN_KEYS), `train settings: ${TRAIN_KEYS.join(", ")}`]);
      continue;
    }
    if (settings.has(k)) {
      cx.bag.report("RNN-E011", s.key.span, `train setting '${k}' is given twice`, { related: [{ span: settings.get(k)!.key.span, message: "first given here" }] });
      continue;
    }
    settings.set(k, s);
  }
  const origin: Record<string, "spec" | "default"> = {};
  for (const k of TRAIN_KEYS) origin[k] = settings.has(k) ? "spec" : "default";
  const errorsBefore = cx.bag.items.filter((d) => d.severity === "error").length;

  // loss = mse(x, lorenz [, mask = task.mask])
  let loss: IR.Loss | undefined;
  const lossS = settings.get("loss");
  if (!lossS) {
    r.error("RNN-E064", block.keywordSpan, "the train block needs a loss", ["e.g. `loss = mse(x, lorenz)`"]);
  } else {
    const ch = r.choice(lossS.value, { mse: ["mask"], mae: ["mask"] }, "loss");
    if (ch) {
      if (ch.positional.length !== 2) r.error("RNN-E014", ch.span, `${ch.name}(output, target) takes 2 arguments, got ${ch.positional.length}`, [`e.g. \`loss = ${ch.name}(x, lorenz)\``]);
      else {
        const out = ch.positional[0]!;
        const outName = out.kind === "name" ? out.name : undefined;
        const obs = cx.observations.find((o) => o.name === outName);
        if (!obs) {
          const v = cx.resolve(out);
          if (v.k !== "err") r.error("RNN-E062", out.span, "the first argument of the loss is an observation declared with `observe`", cx.observations.length ? [`observations: ${cx.observations.map((o) => o.name).join(", ")}`] : ["declare one: `observe x : [N] = z[:N]`"]);
        }
        const target = r.dataRef(ch.positional[1]!, "loss target");
        const maskE = ch.args.get("mask");
        const mask = maskE ? r.dataRef(maskE, "mask") : undefined;
        if (mask && maskE && mask.field !== "mask") {
          const isTask = cx.dataKinds.get(mask.data)?.kind === "task";
          r.error("RNN-E062", maskE.span, `the mask is a task's 'mask' field, not '${mask.data}.${mask.field}'`, [isTask ? `write \`mask = ${mask.data}.mask\`` : "a time series has no mask: remove it (every step is compared)"]);
        }
        if (obs && target) {
          if (target.field === "test") r.error("RNN-E062", ch.positional[1]!.span, "the loss cannot train on the test data");
          // The observation must have as many entries as the data (when the checker knows the data's size).
          const info = cx.dataKinds.get(target.data);
          const what = info?.kind === "task" ? "targets" : "features";
          const size = info?.sizes[what];
          const obsSize = obs.shape.length === 1 ? evalNum(obs.shape[0]!, cx.dimEnv) : undefined;
          const failed = obs.shape.some((d) => [...namesIn(d)].some((n) => cx.failedRequireDims?.has(n)));
          if (size !== undefined && obsSize !== undefined && size !== obsSize && !failed) {
            r.error("RNN-E043", out.span, `the observation '${obs.name}' has ${obsSize} entries, but '${target.data}' has ${size} ${what}`, [
              `declare the observation with the data's size: \`dims { ${typeof obs.shape[0] === "string" ? obs.shape[0] : "N"} = ${target.data}.${what} }\``,
            ]);
          }
          loss = { kind: ch.name as "mse", output: obs.name, target, ...(mask ? { mask } : {}) };
        }
      }
    }
  }

  const firstState = cx.states[0];
  const obsSize = cx.observations[0]?.shape[0];
  const defaultUnits = (): IR.UnitRange | undefined => (firstState ? { state: firstState.name, start: 0, stop: obsSize ?? firstState.shape[0]! } : undefined);

  let forcing: IR.Forcing = { kind: "none" };
  const fS = settings.get("forcing");
  if (fS) {
    const ch = r.choice(fS.value, { none: [], sparse: ["every", "units", "alpha"], gtf: ["alpha", "units", "gamma", "update_every", "bound", "alpha0"] }, "forcing");
    if (ch) {
      const unitsE = ch.args.get("units");
      const units = unitsE ? r.units(unitsE) : defaultUnits();
      if (ch.name === "sparse") {
        const everyE = ch.args.get("every") ?? ch.positional[0];
        if (!everyE) r.error("RNN-E064", ch.span, "sparse forcing needs its interval: sparse(every = 16)");
        const every = everyE ? r.number(everyE, "every", { min: 1, int: true, units: ["steps"] }) : undefined;
        const alphaE = ch.args.get("alpha");
        const alpha = alphaE ? r.number(alphaE, "alpha", { min: 0, max: 1 }) : 1;
        if (every !== undefined && units && alpha !== undefined) forcing = { kind: "sparse", every, units, alpha };
      } else if (ch.name === "gtf") {
        const alphaE = ch.args.get("alpha") ?? ch.positional[0];
        if (alphaE && alphaE.kind === "name" && alphaE.name === "adaptive") {
          const gamma = ch.args.get("gamma") ? r.number(ch.args.get("gamma")!, "gamma", { min: 0, max: 1 }) : 0.999;
          const updateEvery = ch.args.get("update_every") ? r.number(ch.args.get("update_every")!, "update_every", { min: 1, int: true }) : 5;
          const alpha0 = ch.args.get("alpha0") ? r.number(ch.args.get("alpha0")!, "alpha0", { min: 0, max: 1 }) : 1;
          const boundE = ch.args.get("bound");
          const bounds = ["product_upper_bound", "jacobian_upper_bound", "batch_maximum", "arithmetic_mean"] as const;
          let bound: (typeof bounds)[number] | undefined = "product_upper_bound";
          if (boundE) {
            const name = boundE.kind === "str" ? boundE.value : boundE.kind === "name" ? boundE.name : "";
            bound = (bounds as readonly string[]).includes(name) ? (name as (typeof bounds)[number]) : r.error("RNN-E062", boundE.span, `unknown bound '${name}'`, [...didYouMean(name, bounds), `bounds: ${bounds.join(", ")}`]);
          }
          if (units && gamma !== undefined && updateEvery !== undefined && alpha0 !== undefined && bound) forcing = { kind: "gtf_adaptive", units, gamma, updateEvery, alpha0, bound };
        } else {
          for (const k of ["gamma", "update_every", "bound", "alpha0"]) if (ch.args.has(k)) r.error("RNN-E061", ch.args.get(k)!.span, `'${k}' applies only to adaptive GTF: gtf(alpha = adaptive, ${k} = ...)`);
          if (!alphaE) r.error("RNN-E064", ch.span, "gtf needs alpha: gtf(alpha = 0.1) or gtf(alpha = adaptive)");
          const alpha = alphaE ? r.number(alphaE, "alpha", { min: 0, max: 1 }) : undefined;
          if (alpha !== undefined && units) forcing = { kind: "gtf", alpha, units };
        }
      }
    }
  }

  const num = (key: keyof typeof TRAIN_DEFAULTS, range: Parameters<Reader["number"]>[2]): number => {
    const s = settings.get(key);
    return (s ? r.number(s.value, key, range) : undefined) ?? TRAIN_DEFAULTS[key];
  };
  const teacherNoise = num("teacher_noise", { min: 0 });
  const batchSize = num("batch_size", { min: 1, int: true, units: ["sequences"] });
  const seqLen = num("seq_len", { min: 1, int: true, units: ["steps"] });
  const batchesPerEpoch = num("batches_per_epoch", { min: 1, int: true, units: ["batches"] });
  const epochs = num("epochs", { min: 1, int: true, units: ["epochs"] });
  const seed = num("seed", { min: 0, int: true });
  if (forcing.kind === "sparse" && forcing.every > seqLen) {
    const fe = settings.get("forcing")!;
    const everyE = fe.value.kind === "call" ? fe.value.args.find((a) => (a.kind === "named" && a.name === "every") || a.kind === "positional") : undefined;
    const where = everyE && everyE.kind !== "binder" ? everyE.value.span : fe.value.span;
    r.error("RNN-E063", where, `sparse forcing every ${forcing.every} steps never forces within sequences of ${seqLen} steps`, [`make \`every\` at most seq_len (${seqLen}), or make the sequences longer`]);
  }

  let optimizer: IR.Optimizer = { kind: "radam", lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
  let schedule: IR.Schedule = { kind: "constant" };
  const oS = settings.get("optimizer");
  if (oS) {
    const adamKeys = ["lr", "beta1", "beta2", "eps", "weight_decay", "decay_to"];
    const ch = r.choice(oS.value, { adam: adamKeys, radam: adamKeys, adamw: adamKeys, sgd: ["lr", "momentum", "nesterov", "weight_decay", "decay_to"] }, "optimizer");
    if (ch) {
      const get = (k: string, d: number, range: Parameters<Reader["number"]>[2] = {}): number => {
        const e = ch.args.get(k) ?? (k === "lr" ? ch.positional[0] : undefined);
        return (e ? r.number(e, k, range) : undefined) ?? d;
      };
      const lr = get("lr", 1e-3, { gt: 0 });
      const wd = get("weight_decay", ch.name === "adamw" ? 1e-2 : 0, { min: 0 });
      if (ch.name === "sgd") {
        const nest = ch.args.get("nesterov");
        optimizer = { kind: "sgd", lr, momentum: get("momentum", 0, { min: 0, max: 1 }), nesterov: nest ? (r.bool(nest, "nesterov") ?? false) : false, weightDecay: wd };
      } else {
        optimizer = { kind: ch.name as "adam", lr, beta1: get("beta1", 0.9, { min: 0, max: 1 }), beta2: get("beta2", 0.999, { min: 0, max: 1 }), eps: get("eps", 1e-8, { gt: 0 }), weightDecay: wd };
      }
      const dt = ch.args.get("decay_to");
      if (dt) {
        const to = r.number(dt, "decay_to", { gt: 0 });
        if (to !== undefined) schedule = { kind: "exponential", to };
      }
    }
  }
  const sS = settings.get("schedule");
  if (sS) {
    if (schedule.kind !== "constant") {
      r.error("RNN-E061", sS.key.span, "the schedule is given twice: by the optimizer's decay_to and by 'schedule'", ["keep one of them"]);
    } else {
      const ch = r.choice(sS.value, { constant: [], exponential: ["to"], multistep: ["at", "factor"] }, "schedule");
      if (ch?.name === "exponential") {
        const toE = ch.args.get("to") ?? ch.positional[0];
        const to = toE ? r.number(toE, "to", { gt: 0 }) : r.error("RNN-E064", ch.span, "exponential needs the final rate: exponential(to = 1e-5)");
        if (to !== undefined) schedule = { kind: "exponential", to };
      } else if (ch?.name === "multistep") {
        const atE = ch.args.get("at");
        const factorE = ch.args.get("factor");
        const factor = factorE ? r.number(factorE, "factor", { gt: 0 }) : 0.1;
        let at: number[] | undefined;
        if (!atE) r.error("RNN-E064", ch.span, "multistep needs its milestones: multistep(at = [0.1, 0.8, 0.9])", ["milestones below 1 are fractions of the epochs"]);
        else if (atE.kind !== "list") r.error("RNN-E062", atE.span, "'at' is a list of epochs or fractions: [0.1, 0.8, 0.9]");
        else {
          const vals = atE.items.map((i) => r.number(i, "at", { gt: 0 }));
          if (vals.every((v) => v !== undefined)) at = vals as number[];
        }
        if (at && factor !== undefined) schedule = { kind: "multistep", at, factor };
      } else if (ch?.name === "constant") schedule = { kind: "constant" };
    }
  }

  let clip: IR.TrainPlan["clip"] = { kind: "none" };
  const cS = settings.get("clip");
  if (cS) {
    const ch = r.choice(cS.value, { none: [], norm: ["max"], value: ["max"] }, "clip");
    if (ch && ch.name !== "none") {
      const e = ch.args.get("max") ?? ch.positional[0];
      const max = e ? r.number(e, "max", { gt: 0 }) : r.error("RNN-E064", ch.span, `${ch.name} clipping needs its threshold: ${ch.name}(10)`);
      if (max !== undefined) clip = { kind: ch.name as "norm", max };
    }
  }

  const regularize: IR.Regularizer[] = [];
  const rS = settings.get("regularize");
  if (rS) {
    const items = rS.value.kind === "list" ? rS.value.items : [rS.value];
    for (const it of items) {
      const ch = r.choice(it, { l2: ["lambda", "on"], mar: ["lambda", "ratio", "A", "W", "h"] }, "regularizer");
      if (!ch) continue;
      const lamE = ch.args.get("lambda") ?? ch.positional[0];
      const lambda = lamE ? r.number(lamE, "lambda", { min: 0 }) : r.error("RNN-E064", ch.span, `${ch.name} needs its weight: ${ch.name}(lambda = 1e-3)`);
      if (lambda === undefined) continue;
      const paramName = (k: string, d: string): string | undefined => {
        const e = ch.args.get(k);
        const n = e ? (e.kind === "name" ? e.name : undefined) : d;
        if (n && cx.params.some((p) => p.name === n)) {
          cx.markUsed(n);
          return n;
        }
        return r.error("RNN-E062", e?.span ?? ch.span, `'${n ?? "?"}' is not a parameter (mar needs the A, W and h of a PLRNN)`, [...(n ? didYouMean(n, cx.params.map((p) => p.name)) : []), "name them: mar(lambda = 1e-2, A = A, W = W, h = h)"]);
      };
      if (ch.name === "l2") {
        const pe = ch.args.get("on");
        let names = cx.params.map((p) => p.name);
        if (pe) {
          const list = pe.kind === "list" ? pe.items : [pe];
          names = [];
          for (const x of list) {
            if (x.kind === "name" && cx.params.some((p) => p.name === x.name)) names.push(x.name);
            else r.error("RNN-E062", x.span, "l2(on = [...]) lists parameters");
          }
        }
        regularize.push({ kind: "l2", lambda, params: names });
      } else {
        const ratioE = ch.args.get("ratio");
        const ratio = ratioE ? r.number(ratioE, "ratio", { min: 0, max: 1 }) : 0.5;
        const a = paramName("A", "A");
        const w = paramName("W", "W");
        const h = paramName("h", "h");
        if (ratio !== undefined && a && w && h) regularize.push({ kind: "mar", lambda, ratio, a, w, h });
      }
    }
  }
  const errorsAfter = cx.bag.items.filter((d) => d.severity === "error").length;
  if (!loss || errorsAfter > errorsBefore) return null;
  return { loss, forcing, teacherNoise, optimizer, schedule, batchSize, seqLen, batchesPerEpoch, epochs, clip, regularize, seed, origin };
}

export const EVAL_KEYS = ["measures", "drop"] as const;

export function checkEval(block: A.EvalBlock, cx: ConfigContext): IR.EvalPlan | null {
  const r = new Reader(cx);
  const errorsBefore = cx.bag.items.filter((d) => d.severity === "error").length;
  const everyEpochs = block.every ? r.number(block.every, "every", { min: 1, int: true, units: ["epochs", "epoch"] }) : 25;
  if (block.every && block.every.kind === "num" && block.every.unit === undefined) {
    r.error("RNN-E065", block.every.span, "the evaluation interval needs its unit: `eval every 25 epochs`");
  }
  let steps: number | null = null;
  let from: IR.DataRef | undefined;
  let measures: IR.Measure[] = [{ kind: "dstsp", bins: 30, method: "auto", scaling: 1 }, { kind: "dh", smoothing: 20 }, { kind: "pe", steps: 20 }];
  let keep: IR.EvalPlan["keepBestBy"] = null;
  let drop = 0.2;
  const seenGen = block.items.filter((i) => i.kind === "generate");
  for (const g of seenGen.slice(1)) r.error("RNN-E011", g.span, "a second generate statement");
  for (const it of block.items) {
    if (it.kind === "generate") {
      const n = r.number(it.length, "generate", { min: 1, int: true, units: ["steps", "step"] });
      if (n !== undefined) steps = n;
      if (it.from) from = r.dataRef(it.from, "from");
    } else if (it.kind === "keep") {
      const m = it.measure.name;
      if (!["dstsp", "dh", "pe"].includes(m)) r.error("RNN-E061", it.measure.span, `unknown measure '${m}'`, [...didYouMean(m, ["dstsp", "dh", "pe"]), "measures: dstsp, dh, pe"]);
      else keep = m as "dstsp";
    } else {
      const k = it.key.name;
      if (k === "measures") {
        const items = it.value.kind === "list" ? it.value.items : [it.value];
        const out: IR.Measure[] = [];
        for (const m of items) {
          const ch = r.choice(m, { dstsp: ["bins", "method", "scaling"], dh: ["smoothing"], pe: ["steps"] }, "measure");
          if (!ch) continue;
          const get = (key: string, d: number, range: Parameters<Reader["number"]>[2]): number | undefined => {
            const e = ch.args.get(key) ?? ch.positional[0];
            return e ? r.number(e, key, range) : d;
          };
          if (ch.name === "dstsp") {
            const bins = get("bins", 30, { min: 2, int: true });
            const scE = ch.args.get("scaling");
            const scaling = scE ? r.number(scE, "scaling", { gt: 0 }) : 1;
            const mE = ch.args.get("method");
            const method = mE ? (mE.kind === "name" || mE.kind === "str" ? (mE.kind === "name" ? mE.name : mE.value) : "") : "auto";
            if (!["auto", "bins", "gmm"].includes(method)) r.error("RNN-E062", mE!.span, `unknown D_stsp method '${method}'`, ["methods: auto, bins, gmm"]);
            else if (bins !== undefined && scaling !== undefined) out.push({ kind: "dstsp", bins, method: method as "auto", scaling });
          } else if (ch.name === "dh") {
            const s = get("smoothing", 20, { min: 0 });
            if (s !== undefined) out.push({ kind: "dh", smoothing: s });
          } else {
            const s = get("steps", 20, { min: 1, int: true, units: ["steps"] });
            if (s !== undefined) out.push({ kind: "pe", steps: s });
          }
        }
        measures = out;
      } else if (k === "drop") {
        const d = r.number(it.value, "drop", { min: 0, max: 0.9 });
        if (d !== undefined) drop = d;
      } else {
        r.error("RNN-E061", it.key.span, `unknown eval setting '${k}'`, [...didYouMean(k, [...EVAL_KEYS, "generate", "keep"]), "eval takes: generate N steps from DATA, measures = [...], drop = 0.2, keep best by MEASURE"]);
      }
    }
  }
  if (keep && !measures.some((m) => m.kind === keep)) {
    const k = block.items.find((i) => i.kind === "keep")!;
    r.error("RNN-E062", k.span, `'keep best by ${keep}' needs ${keep} among the measures`);
  }
  if (!from) {
    const d = cx.defaultData;
    if (!d) {
      r.error("RNN-E064", block.keywordSpan, "eval needs data to compare with: `generate 100000 steps from DATA.test`");
    } else {
      from = { data: d, field: "test" };
      cx.markUsed(d);
    }
  }
  const errorsAfter = cx.bag.items.filter((d) => d.severity === "error").length;
  if (errorsAfter > errorsBefore || !from || everyEpochs === undefined) return null;
  return { everyEpochs, steps, drop, from, measures, keepBestBy: keep };
}
