// Shared helpers for the fuzz, property and CLI tests: the model zoo, the token vocabulary, and
// the invariants every compile must satisfy whatever its input.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { IToken } from "../../grammar/chevrotain.js";
import * as T from "../../grammar/tokens.js";
import { CODES } from "../../src/compiler/diagnostics/codes.js";
import { renderJson, renderPretty } from "../../src/compiler/diagnostics/render.js";
import type { CompileResult } from "../../src/compiler/driver.js";
import { validateSchema, verifyProgram } from "../../src/compiler/ir/verify.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ZooSpec {
  name: string;
  /** Relative to the repository root, e.g. `specs/plrnn.rnn`. */
  path: string;
  text: string;
}

export function zooSpecs(): ZooSpec[] {
  const dir = join(ROOT, "specs");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".rnn"))
    .sort()
    .map((f) => ({ name: f.replace(/\.rnn$/, ""), path: `specs/${f}`, text: readFileSync(join(dir, f), "utf8") }));
}

export interface Lexed {
  tokens: IToken[];
  comments: IToken[];
  errors: number;
}

export function lex(text: string): Lexed {
  const r = T.lexer.tokenize(text);
  return { tokens: r.tokens, comments: (r.groups["comments"] as IToken[] | undefined) ?? [], errors: r.errors.length };
}

/** Every distinct token image of the zoo, plus the operators and keywords the zoo does not use. */
export function vocabulary(specs: ZooSpec[]): string[] {
  const words = new Set<string>();
  for (const s of specs) for (const t of lex(s.text).tokens) words.add(t.image);
  for (const w of [...T.reservedWords, "every", "generate", "keep", "best", "by", "epochs", "steps", "sequences", "batches"]) words.add(w);
  for (const op of ["{", "}", "(", ")", "[", "]", ",", ";", ":", ".", "'", "==", "!=", "<=", ">=", "<", ">", "=", "^", "**", "+", "-", "*", "/", "%", "@"]) words.add(op);
  return [...words].sort();
}

/** Odd things a damaged or hand-mangled file contains. */
export const ODD_PIECES = [
  "\0", "\uFEFF", "\u00A0", "\u200B", "\r", "\r\n", "\t", "\v", "\f", "#", "# comment\n", "\"", "\"unterminated", "`", "\\",
  "α", "×", "−", "“AW”", "’", "≤", "😀", "\uD800", "\uDC00", "e", "1e309", "1e-400", "0", "-0", "0.0", "99999999999999999999999",
  "NaN", "Infinity", "__proto__", "constructor", "toString", "hasOwnProperty", "z'", "z''", "[]", "()", "{}", "sum(b in B: )",
];

/** The IR without source positions (`src: {line, col}`), for comparing layouts of one spec. */
export function withoutPositions(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(withoutPositions);
  if (x === null || typeof x !== "object") return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) if (k !== "src") out[k] = withoutPositions(v);
  return out;
}

/**
 * What every compile must satisfy, however malformed its input: well-formed diagnostics that
 * render, an IR exactly when there are no errors, and an IR that passes the schema and verifier.
 * Throws (with the reason) on the first violation.
 */
export function checkInvariants(r: CompileResult, text: string): void {
  const fail = (msg: string): never => {
    throw new Error(`${msg}\n--- input (${text.length} chars) ---\n${JSON.stringify(text.length > 2000 ? text.slice(0, 2000) + "…" : text)}`);
  };
  if (!Array.isArray(r.diagnostics)) fail("diagnostics is not an array");
  for (const d of r.diagnostics) {
    if (!(d.code in CODES)) fail(`unknown diagnostic code ${String(d.code)}`);
    if (!["error", "warning", "note"].includes(d.severity)) fail(`bad severity ${String(d.severity)}`);
    if (typeof d.message !== "string" || d.message.length === 0) fail(`${d.code} has an empty message`);
    for (const s of [d.span, ...d.related.map((x) => x.span)]) {
      const ok =
        Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.start <= s.end && s.end <= text.length &&
        Number.isInteger(s.line) && Number.isInteger(s.col) && s.line >= 1 && s.col >= 1 && s.endLine >= s.line;
      if (!ok) fail(`${d.code} '${d.message}' has a bad span ${JSON.stringify(s)}`);
    }
    try {
      renderPretty(d, text);
      renderPretty(d, text, { color: true });
      JSON.stringify(renderJson(d));
    } catch (e) {
      fail(`rendering ${d.code} '${d.message}' threw ${String(e)}`);
    }
  }
  const hasErrors = r.diagnostics.some((d) => d.severity === "error");
  if (hasErrors && (r.ir || r.opt)) fail("an IR was produced despite errors");
  if (!hasErrors && !r.ir) fail("no errors were reported, yet no IR was produced");
  for (const p of [r.ir, r.opt]) {
    if (!p) continue;
    const schema = validateSchema(p);
    if (schema.length) fail(`IR violates the schema: ${schema.join("; ")}`);
    verifyProgram(p);
  }
}
