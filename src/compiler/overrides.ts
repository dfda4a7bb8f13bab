// `--set key=value` overrides, applied to the spec's source text so they are checked exactly like
// the spec itself (same parser, same diagnostics, spans into the text the user can see).
//   epochs=300              replaces (or adds) a train setting
//   optimizer.lr=5e-4       replaces (or adds) one named argument of a call-valued setting
//   eval.every=10           the eval block's interval
import type { SpecFile, TopItem, TrainBlock } from "../../grammar/ast.js";

export interface Override {
  key: string;
  value: string;
}

export class OverrideError extends Error {
  override name = "OverrideError";
}

export function parseOverride(s: string): Override {
  const eq = s.indexOf("=");
  if (eq <= 0) throw new OverrideError(`--set expects key=value, got '${s}'`);
  const key = s.slice(0, eq).trim();
  const value = s.slice(eq + 1).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(key)) throw new OverrideError(`--set: '${key}' is not a setting name`);
  if (value === "") throw new OverrideError(`--set ${key}= needs a value`);
  if (/[{}#\n]/.test(value)) throw new OverrideError(`--set ${key}: the value may not contain braces, '#' or newlines`);
  return { key, value };
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The spec's text with the overrides spliced in; the keys that were overridden. */
export function applyOverrides(source: string, ast: SpecFile, overrides: Override[]): { text: string; keys: string[] } {
  const edits: Edit[] = [];
  const keys: string[] = [];
  const train = ast.items.find((i): i is TrainBlock => i.kind === "train");
  const evalBlock = ast.items.find((i): i is Extract<TopItem, { kind: "eval" }> => i.kind === "eval");
  const pendingTrain: string[] = [];
  for (const o of overrides) {
    const [head, arg] = o.key.split(".") as [string, string | undefined];
    if (head === "eval") {
      if (arg !== "every") throw new OverrideError(`--set eval.${arg ?? ""}: only eval.every can be overridden`);
      if (!evalBlock) throw new OverrideError("--set eval.every: the spec has no eval block");
      const unit = /[a-z]/i.test(o.value) ? "" : " epochs";
      if (evalBlock.every) edits.push({ start: evalBlock.every.span.start, end: evalBlock.every.span.end, text: o.value + unit });
      else edits.push({ start: evalBlock.keywordSpan.end, end: evalBlock.keywordSpan.end, text: ` every ${o.value}${unit}` });
      keys.push("eval.every");
      continue;
    }
    keys.push(head);
    const existing = train?.settings.find((s) => s.key.name === head);
    if (!arg) {
      if (existing) edits.push({ start: existing.value.span.start, end: existing.value.span.end, text: o.value });
      else pendingTrain.push(`${head} = ${o.value}`);
      continue;
    }
    if (!existing) throw new OverrideError(`--set ${o.key}: the spec has no '${head}' setting to change; give the whole value: --set '${head}=...'`);
    const v = existing.value;
    if (v.kind === "name") {
      edits.push({ start: v.span.end, end: v.span.end, text: `(${arg} = ${o.value})` });
      continue;
    }
    if (v.kind !== "call") throw new OverrideError(`--set ${o.key}: '${head}' is not a call with arguments`);
    const named = v.args.find((a) => a.kind === "named" && a.name === arg);
    if (named && named.kind === "named") edits.push({ start: named.value.span.start, end: named.value.span.end, text: o.value });
    else {
      const close = v.span.end - 1; // the ')' of the call
      edits.push({ start: close, end: close, text: `${v.args.length ? ", " : ""}${arg} = ${o.value}` });
    }
  }
  if (pendingTrain.length) {
    if (train) edits.push({ start: train.span.end - 1, end: train.span.end - 1, text: `\n  ${pendingTrain.join("\n  ")}\n` });
    else edits.push({ start: source.length, end: source.length, text: `\ntrain {\n  ${pendingTrain.join("\n  ")}\n}\n` });
  }
  edits.sort((a, b) => b.start - a.start);
  let text = source;
  for (const e of edits) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return { text, keys };
}
