// The sweep block: a grid of settings (keys written as for `rnnc train --set`) and a number of runs
// per grid point. Keys are checked against the spec, and every grid point is checked as its runs
// will be configured (the train and eval blocks with the point's values in place), so a value that
// makes a point invalid is a diagnostic at the value, not a failed run hours later.
import type * as A from "../../../grammar/ast.js";
import { DiagnosticBag, type Diagnostic } from "../diagnostics/diagnostic.js";
import type * as IR from "../ir/types.js";
import { checkEval, checkTrain, TRAIN_KEYS, type ConfigContext } from "./config.js";
import { didYouMean } from "./suggest.js";

/** Grid points checked one by one; a larger grid has its first points checked (each value is in one of them). */
export const MAX_CHECKED_POINTS = 4096;
/** Diagnostics about combinations of values, at most (the rest are counted in the last one). */
const MAX_POINT_DIAGNOSTICS = 3;

interface Axis {
  key: string;
  head: string;
  arg?: string;
  entry: A.SweepEntry;
  items: A.Expr[];
  texts: string[];
}

const errorCount = (bag: DiagnosticBag) => bag.items.filter((d) => d.severity === "error").length;
const signature = (d: Diagnostic) => `${d.code}|${d.span.start}|${d.span.end}|${d.message}`;
const within = (inner: A.Span, outer: A.Span) => inner.start >= outer.start && inner.end <= outer.end;

export function checkSweep(block: A.SweepBlock, train: A.TrainBlock | undefined, evalBlock: A.EvalBlock | undefined, cx: ConfigContext): IR.SweepPlan | null {
  const bag = cx.bag;
  const before = errorCount(bag);
  let runs = 1;
  const axes: Axis[] = [];
  const seen = new Map<string, A.SweepEntry>();

  for (const e of block.entries) {
    const key = e.key.name;
    if (key === "<missing>") continue;
    const first = seen.get(key);
    if (first) {
      bag.report("RNN-E011", e.key.span, `sweep key '${key}' is given twice`, { related: [{ span: first.key.span, message: "first given here" }], hints: ["list all its values once: `" + key + " = [a, b, c]`"] });
      continue;
    }
    seen.set(key, e);
    if (key === "runs") {
      const v = e.value;
      if (v.kind !== "num") bag.report("RNN-E062", v.span, "'runs' is the number of runs of every grid point, e.g. `runs = 3`");
      else if (v.unit !== undefined) bag.report("RNN-E065", v.span, `'runs' does not take the unit '${v.unit}'`, { hints: ["write the plain number: `runs = 3`"] });
      else if (!Number.isInteger(v.value) || v.value < 1) bag.report("RNN-E063", v.span, `'runs' = ${v.value} is out of range: it must be a positive integer`);
      else runs = v.value;
      continue;
    }
    const [head, arg] = key.split(".") as [string, string | undefined];
    if (head === "seed") {
      bag.report("RNN-E066", e.key.span, "the seed is not swept", {
        label: "runs differ by seed already",
        hints: ["`runs = R` trains R runs of every grid point with the seeds base, base + 1, ..., base + R - 1 (base: the train block's seed, or `rnnc sweep --seed`)"],
      });
      continue;
    }
    if (head === "eval") {
      if (arg !== "every") {
        bag.report("RNN-E061", e.key.span, `'${key}' cannot be swept: of the eval block, only eval.every can`);
        continue;
      }
      if (!evalBlock) {
        bag.report("RNN-E066", e.key.span, "the spec has no eval block whose interval could be swept", { hints: ["add an eval block, or remove this entry"] });
        continue;
      }
    } else if (!(TRAIN_KEYS as readonly string[]).includes(head)) {
      bag.report("RNN-E061", e.key.span, `unknown sweep key '${key}'`, {
        hints: [...didYouMean(head, [...TRAIN_KEYS, "eval", "runs"]).map((h) => (arg === undefined ? h : h.replace(/'([^']*)'/, `'$1.${arg}'`))), "a sweep key is a train setting (seq_len, forcing), an argument of one (optimizer.lr, forcing.every), eval.every, or runs"],
      });
      continue;
    } else if (!train) {
      bag.report("RNN-E066", e.key.span, `the spec has no train block whose '${head}' could be swept`, { hints: ["add a train block: `train { loss = mse(x, data) }`"] });
      continue;
    } else if (arg !== undefined) {
      const s = train.settings.find((x) => x.key.name === head);
      if (!s) {
        bag.report("RNN-E066", e.key.span, `the spec has no '${head}' setting whose '${arg}' could be swept`, {
          hints: [`sweep whole values instead: \`${head} = [..., ...]\`, or give '${head}' in the train block`],
        });
        continue;
      }
      if (s.value.kind !== "call" && s.value.kind !== "name") {
        bag.report("RNN-E066", e.key.span, `'${head}' is not written as a call, so it has no argument '${arg}' to sweep`, {
          related: [{ span: s.value.span, message: `'${head}' is given here` }],
          hints: [`sweep whole values instead: \`${head} = [..., ...]\``],
        });
        continue;
      }
    }
    if (e.value.kind !== "list") {
      bag.report("RNN-E062", e.value.span, `a sweep key takes a list of values: \`${key} = [${e.texts[0] ?? "..."}, ...]\``);
      continue;
    }
    if (e.value.items.length === 0) {
      bag.report("RNN-E062", e.value.span, `the list of values of '${key}' is empty`);
      continue;
    }
    let dup = false;
    e.texts.forEach((t, i) => {
      const j = e.texts.indexOf(t);
      if (j < i) {
        dup = true;
        bag.report("RNN-E066", e.value.kind === "list" ? e.value.items[i]!.span : e.value.span, `the value ${t} is listed twice`, {
          related: [{ span: (e.value as Extract<A.Expr, { kind: "list" }>).items[j]!.span, message: "first listed here" }],
        });
      }
    });
    if (dup) continue;
    axes.push({ key, head, ...(arg !== undefined ? { arg } : {}), entry: e, items: e.value.items, texts: e.texts });
  }
  for (const a of axes) {
    const whole = axes.find((b) => b.head === a.head && !b.arg);
    if (a.arg && whole) {
      bag.report("RNN-E066", a.entry.key.span, `'${a.key}' and '${whole.key}' are both swept`, {
        related: [{ span: whole.entry.key.span, message: `'${whole.key}' is swept here` }],
        hints: [`sweep either whole values of '${a.head}' or its arguments`],
      });
    }
  }
  // The points of the valid keys are checked even when other entries are wrong.
  const conflict = axes.some((a) => a.arg && axes.some((b) => b.head === a.head && !b.arg));
  if (axes.length && train && !conflict) checkPoints(axes, train, evalBlock, cx);
  if (errorCount(bag) > before) return null;
  return { grid: axes.map((a) => ({ key: a.key, values: a.texts })), runs };
}

/** The train and eval blocks as `--set key=value` makes them for one choice of values (undefined: the spec's). */
function configure(axes: Axis[], choice: (number | undefined)[], train: A.TrainBlock, evalBlock: A.EvalBlock | undefined): { train: A.TrainBlock; eval: A.EvalBlock | undefined } {
  const settings = [...train.settings];
  let ev = evalBlock;
  axes.forEach((a, i) => {
    const c = choice[i];
    if (c === undefined) return;
    const value = a.items[c]!;
    if (a.head === "eval") {
      // `--set eval.every=10` means 10 epochs.
      const every: A.Expr = value.kind === "num" && value.unit === undefined ? { ...value, unit: "epochs" } : value;
      if (ev) ev = { ...ev, every };
      return;
    }
    const at = settings.findIndex((s) => s.key.name === a.head);
    if (!a.arg) {
      if (at >= 0) settings[at] = { ...settings[at]!, value };
      else settings.push({ kind: "setting", key: { name: a.head, span: a.entry.key.span }, value, span: a.entry.span });
      return;
    }
    const s = settings[at]!;
    const named: A.Arg = { kind: "named", name: a.arg, nameSpan: a.entry.key.span, value, span: value.span };
    const v = s.value;
    let nv: A.Expr = v;
    if (v.kind === "name") nv = { kind: "call", callee: v, args: [named], span: v.span };
    else if (v.kind === "call") {
      const has = v.args.some((x) => x.kind === "named" && x.name === a.arg);
      nv = { ...v, args: has ? v.args.map((x) => (x.kind === "named" && x.name === a.arg ? { ...x, value } : x)) : [...v.args, named] };
    }
    settings[at] = { ...s, value: nv };
  });
  return { train: { ...train, settings }, eval: ev };
}

/** New diagnostics of the train and eval blocks configured by `choice`, compared with the spec's own. */
function diagnosticsOf(axes: Axis[], choice: (number | undefined)[], train: A.TrainBlock, evalBlock: A.EvalBlock | undefined, cx: ConfigContext, baseline: Set<string>): Diagnostic[] {
  const scratch = new DiagnosticBag(cx.bag.file);
  const sub: ConfigContext = { ...cx, bag: scratch };
  const c = configure(axes, choice, train, evalBlock);
  checkTrain(c.train, sub);
  if (c.eval) checkEval(c.eval, sub);
  return scratch.items.filter((d) => d.severity === "error" && !baseline.has(signature(d)));
}

function checkPoints(axes: Axis[], train: A.TrainBlock, evalBlock: A.EvalBlock | undefined, cx: ConfigContext): void {
  const none = axes.map(() => undefined);
  const baseBag = new DiagnosticBag(cx.bag.file);
  const base = configure(axes, none, train, evalBlock);
  checkTrain(base.train, { ...cx, bag: baseBag });
  if (base.eval) checkEval(base.eval, { ...cx, bag: baseBag });
  const baseline = new Set(baseBag.items.map(signature));
  const reported = new Set(cx.bag.items.map(signature));
  const report = (d: Diagnostic) => {
    const sig = signature(d);
    if (reported.has(sig)) return;
    reported.add(sig);
    cx.bag.items.push(d);
  };
  const total = axes.reduce((n, a) => n * a.items.length, 1);
  const count = Math.min(total, MAX_CHECKED_POINTS);
  let pointErrors = 0;
  let more = 0;
  for (let p = 0; p < count; p++) {
    // Point p in the order rnnc sweep runs them: the first axis varies slowest.
    const choice: number[] = [];
    let rest = p;
    for (let i = axes.length - 1; i >= 0; i--) {
      choice[i] = rest % axes[i]!.items.length;
      rest = Math.floor(rest / axes[i]!.items.length);
    }
    const values = axes.map((a, i) => a.items[choice[i]!]!);
    for (const d of diagnosticsOf(axes, choice, train, evalBlock, cx, baseline)) {
      const inside = values.findIndex((v) => within(d.span, v.span));
      // The value that alone (the other keys as the spec has them) causes it, if one does.
      const alone = axes.findIndex((_, i) => {
        const single = axes.map((__, j) => (j === i ? choice[i] : undefined));
        return diagnosticsOf(axes, single, train, evalBlock, cx, baseline).some((x) => x.code === d.code && x.message === d.message);
      });
      const related = inside >= 0 ? d.related : [{ span: d.span, message: "the setting it concerns" }, ...d.related];
      if (alone >= 0) {
        // About the value itself (e.g. lr = -1): as it is; else (forcing every > seq_len) at the value.
        if (inside === alone) report(d);
        else report({ ...d, span: values[alone]!.span, message: `with ${axes[alone]!.key} = ${axes[alone]!.texts[choice[alone]!]}: ${d.message}`, related });
        continue;
      }
      // Only this combination of values is invalid.
      const at = inside >= 0 ? inside : values.length - 1;
      const where = axes.map((a, i) => `${a.key} = ${a.texts[choice[i]!]}`).join(", ");
      const msg = `at the grid point ${where}: ${d.message}`;
      if (pointErrors >= MAX_POINT_DIAGNOSTICS) {
        more++;
        continue;
      }
      pointErrors++;
      report({ ...d, span: values[at]!.span, message: msg, related });
    }
  }
  if (more > 0) {
    const last = axes[axes.length - 1]!.entry;
    cx.bag.report("RNN-E066", last.key.span, `${more} more grid point${more === 1 ? " is" : "s are"} invalid in the same way`, { hints: ["fix the values above; rnnc check lists the first few"] });
  }
}
