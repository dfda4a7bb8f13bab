// Front door of the grammar stage: text → tokens → CST → AST, with syntax diagnostics.
import { EOF, tokenMatcher, type IRecognitionException, type IToken, type TokenType } from "./chevrotain.js";
import type { SpecFile, Span } from "./ast.js";
import { fileToAst, tokenSpan } from "./cst-to-ast.js";
import { parser } from "./parser.js";
import { isStackOverflow, tooDeepForParser } from "./limits.js";
import * as T from "./tokens.js";
import { DiagnosticBag, type Diagnostic } from "../src/compiler/diagnostics/diagnostic.js";
import { didYouMean, resetSuggestionBudget } from "../src/compiler/check/suggest.js";

export const MAX_NESTING = 256;

export interface ParseResult {
  ast: SpecFile | undefined;
  tokens: IToken[];
  comments: IToken[];
}

const OPENERS = new Map<TokenType, TokenType>([
  [T.LBrace, T.RBrace],
  [T.LParen, T.RParen],
  [T.LBracket, T.RBracket],
]);

/** Just after the last token (trailing comments and blank lines are not code that is missing something). */
function endOfFileSpan(text: string, toks: IToken[]): Span {
  const last = toks[toks.length - 1];
  const end = last ? last.startOffset + last.image.length : 0;
  const lines = text.slice(0, end).split("\n");
  const line = lines.length;
  const col = (lines[lines.length - 1]?.length ?? 0) + 1;
  return { start: end, end, line, col, endLine: line, endCol: col };
}

function describeToken(t: IToken): string {
  if (t.tokenType === EOF) return "the end of the file";
  const img = t.image.length > 24 ? t.image.slice(0, 21) + "..." : t.image;
  return `'${img}'`;
}

const RULE_WORDS: Record<string, string> = {
  file: "the spec",
  topItem: "the spec",
  modelDecl: "the model declaration",
  dataDecl: "a data declaration",
  dimsBlock: "the dims block",
  dimDecl: "a dim declaration",
  requireClause: "a require clause",
  paramsBlock: "the params block",
  paramDecl: "a parameter declaration",
  modifier: "a parameter modifier",
  typeExpr: "a shape",
  constDecl: "a const declaration",
  fnDecl: "a fn declaration",
  fnParam: "a fn parameter",
  inputDecl: "an input declaration",
  latentBlock: "the latent block",
  stateDecl: "a state declaration",
  equation: "an equation",
  observeDecl: "the observe declaration",
  trainBlock: "the train block",
  setting: "a setting",
  evalBlock: "the eval block",
  sweepBlock: "the sweep block",
  sweepEntry: "a sweep entry",
  generateStmt: "a generate statement",
  keepStmt: "a keep statement",
  argList: "an argument list",
  argument: "an argument",
  callSuffix: "a call",
  indexSuffix: "an index",
  indexItem: "an index",
  memberSuffix: "a field access",
  expression: "an expression",
  additive: "an expression",
  multiplicative: "an expression",
  unary: "an expression",
  power: "an expression",
  postfix: "an expression",
  primary: "an expression",
};

function hintFor(rule: string | undefined, expected: string, found: IToken): string[] {
  if (rule === "paramDecl" && expected.includes("':'")) return ["a parameter is declared as `name : [dims] modifiers init = initializer`"];
  if (rule === "stateDecl" && expected.includes("':'")) return ["a latent state is declared with its shape: `latent z : [M] = zeros { ... }`"];
  if (rule === "setting" && expected.includes("'='")) return ["settings are written `key = value`"];
  if (rule === "sweepEntry" && expected.includes("'='")) return ["a sweep entry is written `key = [value, value, ...]` (a key as for --set, e.g. optimizer.lr) or `runs = 3`"];
  if (rule === "dimDecl" && expected.includes("'='")) return ["dims are written `M = 20` or `N = data.features`"];
  if (found.tokenType === T.Equals && expected.includes("'=='")) return ["comparisons use `==`"];
  if (rule === "topItem" || rule === "file")
    return ["top-level declarations are: model, data, dims, params, const, fn, input, latent, observe, train, eval, sweep"];
  return [];
}

const GREEK: Record<string, string> = {
  α: "alpha", β: "beta", γ: "gamma", δ: "delta", ε: "epsilon", ϵ: "epsilon", ζ: "zeta", η: "eta", θ: "theta", ϑ: "theta",
  ι: "iota", κ: "kappa", λ: "lambda", μ: "mu", ν: "nu", ξ: "xi", π: "pi", ρ: "rho", σ: "sigma", ς: "sigma", τ: "tau",
  υ: "upsilon", φ: "phi", ϕ: "phi", χ: "chi", ψ: "psi", ω: "omega", Γ: "Gamma", Δ: "Delta", Θ: "Theta", Λ: "Lambda",
  Ξ: "Xi", Π: "Pi", Σ: "Sigma", Φ: "Phi", Ψ: "Psi", Ω: "Omega",
};

/** The ASCII spelling of a name with Greek letters, accents or sub-/superscript digits. */
function asciiName(name: string): string {
  let out = "";
  for (const ch of name) {
    if (ch.charCodeAt(0) < 128) out += ch;
    else if (GREEK[ch]) out += GREEK[ch];
    else if ("₀₁₂₃₄₅₆₇₈₉".includes(ch)) out += String("₀₁₂₃₄₅₆₇₈₉".indexOf(ch));
    else if ("⁰¹²³⁴⁵⁶⁷⁸⁹".includes(ch)) out += String("⁰¹²³⁴⁵⁶⁷⁸⁹".indexOf(ch));
    else {
      const base = ch.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
      out += /^[A-Za-z]$/.test(base) ? base : "_";
    }
  }
  return out;
}

function codePoint(ch: string): string {
  return "U+" + (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
}

/** A span inside one token, from its `from`-th to its `to`-th UTF-16 unit (end exclusive). */
function subSpan(t: IToken, from: number, to: number): Span {
  const col = t.startColumn ?? 1;
  const line = t.startLine ?? 1;
  return { start: t.startOffset + from, end: t.startOffset + to, line, col: col + from, endLine: line, endCol: col + to - 1 };
}

/** RNN-E001 for the look-alike tokens (lexed as what they stand for, so parsing goes on). */
function reportLookAlike(t: IToken, bag: DiagnosticBag): void {
  if (t.tokenType === T.NonAsciiName) {
    const units = [...t.image];
    let from = -1;
    let to = 0;
    let pos = 0;
    for (const ch of units) {
      if (ch.charCodeAt(0) >= 128) {
        if (from < 0) from = pos;
        to = pos + ch.length;
      }
      pos += ch.length;
    }
    const bad = t.image.slice(from, to);
    const first = [...bad][0]!;
    const fixed = asciiName(t.image);
    bag.report("RNN-E001", subSpan(t, from, to), bad === t.image ? `unexpected character '${first}'` : `unexpected character '${first}' in the name '${t.image}'`, {
      label: "names are written in ASCII letters, digits and '_'",
      hints: [`write '${fixed}' instead of '${t.image}'`],
    });
    return;
  }
  if (t.tokenType === T.OddString) {
    const q = t.image[0]!;
    bag.report("RNN-E001", subSpan(t, 0, t.image.length), `unexpected character '${q}'`, {
      label: "strings are written in straight double quotes",
      hints: [`write "${t.image.slice(1, -1)}"`],
    });
    return;
  }
  const ascii = T.lookAlikes.get(t.tokenType);
  if (ascii !== undefined) {
    const shown = ascii === "'" ? "an ASCII apostrophe (')" : `'${ascii}'`;
    bag.report("RNN-E001", tokenSpan(t), `unexpected character '${t.image}' (${codePoint(t.image)})`, {
      label: `looks like ${ascii === "'" ? "a prime" : shown} but is not ASCII`,
      hints: [`write ${shown} instead of '${t.image}'`],
    });
  }
}

/** Symbols from formulas that have a spelled-out form in the language. */
const SYMBOL_HINTS: Record<string, string> = {
  "√": "write sqrt(x) for a square root",
  "∑": "write sum(x) or sum(b in B: ...) for a sum",
  "∏": "there is no product reduction; write the factors with *",
  "⊙": "write '*' for the elementwise product",
  "∘": "write '*' for the elementwise product",
  "⊗": "write '@' for a matrix product",
  "←": "equations are written with '=': `z' = ...`",
  "→": "equations are written with '=': `z' = ...`",
  "≈": "comparisons are written ==, !=, <, <=, > and >=",
  "∞": "there is no infinity; use a large number such as 1e9",
  "…": "write the elements out; there is no ellipsis",
};

/** Tokens that can start a top-level declaration: where parsing resumes after junk at the top level. */
const TOP_KEYWORDS = ["model", "data", "dims", "params", "const", "let", "fn", "input", "latent", "observe", "train", "eval", "sweep"];
const TOP_STARTERS = new Set<TokenType>([T.Model, T.Data, T.Dims, T.Params, T.Const, T.Let, T.Fn, T.Input, T.Latent, T.Observe, T.Train, T.Eval, T.Sweep]);

interface Unclosed {
  open: IToken;
  /** The closer of an enclosing bracket that came while this one was still open. */
  closedBy?: IToken;
  diag?: Diagnostic;
  /** A syntax error showed where the closer was missed. */
  located?: boolean;
}

/** Lex and parse one file; syntax diagnostics go into `bag`. */
export function parseSpec(text: string, bag: DiagnosticBag): ParseResult {
  resetSuggestionBudget();
  const lexed = T.lexer.tokenize(text);
  /** Lines with a character the lexer skipped: syntax errors there are its consequence. */
  const lexErrorLines = new Set<number>();
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    const shown = [...ch].slice(0, 8).join("");
    const cp = shown.codePointAt(0) ?? 0;
    const isNonAscii = cp > 127;
    lexErrorLines.add(e.line ?? 1);
    bag.report(
      "RNN-E001",
      { start: e.offset, end: e.offset + e.length, line: e.line ?? 1, col: e.column ?? 1, endLine: e.line ?? 1, endCol: (e.column ?? 1) + Math.max(0, e.length - 1) },
      cp < 32 || (cp >= 127 && cp < 160) ? `unexpected control character ${codePoint(shown)}` : `unexpected character '${shown}'`,
      {
        label: "not part of the .rnn language",
        hints: SYMBOL_HINTS[[...shown][0] ?? ""]
          ? [SYMBOL_HINTS[[...shown][0]!]!]
          : isNonAscii
          ? ["the .rnn language is written in ASCII: spell symbols out ('alpha' for 'α', '*' for '×', sqrt(x) for '√x')"]
          : ch.startsWith("`") ? ["strings are written in double quotes"] : ch.startsWith("'") ? [] : [],
      },
    );
  }
  const toks = lexed.tokens;
  const comments = (lexed.groups["comments"] as IToken[] | undefined) ?? [];
  for (const t of toks) if (t.tokenType !== T.Identifier && t.tokenType.CATEGORIES?.length) reportLookAlike(t, bag);
  // Names become keys of plain objects (graph outputs, settings); assigning `__proto__` there
  // would replace the object's prototype instead of adding a key.
  for (const t of toks) {
    if (t.image === "__proto__") bag.report("RNN-E002", tokenSpan(t), "'__proto__' cannot be used as a name", { label: "reserved name", hints: ["choose another name"] });
  }
  // A prime marks the next value of a state and follows its name (z'); the grammar accepts it
  // after any operand, so other uses (0.5', (a + b)', x[0]') are reported here.
  toks.forEach((t, i) => {
    const prev = toks[i - 1];
    if (!tokenMatcher(t, T.Prime) || (prev && tokenMatcher(prev, T.Identifier))) return;
    bag.report("RNN-E002", tokenSpan(t), "a prime (') must follow the name of a state", {
      label: "not after a name",
      hints: ["the next value of a state is written z' (in an equation: z' = ..., or read: tanh(c'))"],
    });
  });
  for (const s of (lexed.groups["oddspace"] as IToken[] | undefined) ?? []) {
    if (s.startOffset === 0 && s.image === "\uFEFF") continue; // a byte-order mark is harmless
    const ch = s.image[0]!;
    bag.report("RNN-E001", tokenSpan(s), ch === "\u00A0" ? "unexpected non-breaking space (U+00A0)" : `unexpected invisible character ${codePoint(ch)}`, {
      label: "looks like a space but is not one",
      hints: ["replace it with an ordinary space"],
    });
  }

  // Bracket scan before parsing: deep nesting would exhaust the recursive-descent parser's stack,
  // and unclosed brackets are best reported at the bracket that was opened. A closer that matches
  // an enclosing opener closes it and leaves the brackets opened inside it unclosed.
  const stack: IToken[] = [];
  const unclosed: Unclosed[] = [];
  const closers = [...OPENERS.values()];
  for (const t of toks) {
    if (OPENERS.has(t.tokenType)) {
      stack.push(t);
      if (stack.length > MAX_NESTING) {
        bag.report("RNN-E005", tokenSpan(t), `brackets nested more than ${MAX_NESTING} levels deep`, {
          label: "nesting limit reached here",
          hints: ["this file is probably damaged; no model needs this much nesting"],
        });
        return { ast: undefined, tokens: toks, comments };
      }
    } else if (closers.includes(t.tokenType)) {
      let i = stack.length - 1;
      while (i >= 0 && OPENERS.get(stack[i]!.tokenType) !== t.tokenType) i--;
      if (i < 0) continue; // a stray closer: the parser reports it
      for (const open of stack.splice(i + 1)) unclosed.push({ open, closedBy: t });
      stack.pop();
    }
  }
  for (const open of stack) unclosed.push({ open });
  unclosed.sort((a, b) => a.open.startOffset - b.open.startOffset);
  for (const u of unclosed) {
    const closer = OPENERS.get(u.open.tokenType)!.LABEL ?? "";
    const what = u.open.image === "{" ? "block" : u.open.image === "(" ? "parenthesis" : "bracket";
    u.diag = bag.report("RNN-E003", tokenSpan(u.open), `this ${what} is never closed`, {
      label: u.closedBy ? `expected a matching ${closer} before the enclosing '${u.closedBy.image}'` : `expected a matching ${closer} before the end of the file`,
      related: [
        u.closedBy
          ? { span: tokenSpan(u.closedBy), message: `this '${u.closedBy.image}' closes the enclosing ${u.closedBy.image === "}" ? "block" : "bracket"} while '${u.open.image}' is still open` }
          : { span: endOfFileSpan(text, toks), message: "the file ends here" },
      ],
    });
  }

  // Long chains of signs or powers (`x = ------1`) nest the parser as deeply as brackets do.
  const deep = tooDeepForParser(toks);
  if (deep) return tooDeep(bag, tokenSpan(deep), toks, comments);

  // Parse; junk at the top level stops Chevrotain's `file` rule, so parsing resumes at the next
  // top-level keyword (and the later declarations are still checked for syntax errors).
  let input = toks;
  let cst: ReturnType<typeof parser.file> | undefined;
  const errors: IRecognitionException[] = [];
  for (let round = 0; round < 1000; round++) {
    parser.input = input;
    let part: ReturnType<typeof parser.file>;
    try {
      part = parser.file();
    } catch (e) {
      // A backstop for the estimate above: the stack a caller leaves us varies.
      if (!isStackOverflow(e)) throw e;
      parser.input = [];
      return tooDeep(bag, input[0] ? tokenSpan(input[0]) : endOfFileSpan(text, toks), toks, comments);
    }
    if (!cst) cst = part;
    else {
      // Loops, not push(...xs): spreading 100k+ items overflows the stack.
      const items = (cst.children["topItem"] ??= []);
      for (const item of part.children["topItem"] ?? []) items.push(item);
    }
    for (const err of parser.errors) errors.push(err);
    // Resume only where `file` stopped: errors Chevrotain recovered from inside the file already
    // had the rest of the file parsed (resuming after them re-parsed it once per error: quadratic).
    const stop = parser.errors.find((e) => e.name === "NotAllInputParsedException" && e.token.tokenType !== EOF);
    if (!stop) break;
    const at = input.findIndex((t) => t.startOffset === stop.token.startOffset);
    const next = input.findIndex((t, i) => i > at && TOP_STARTERS.has(t.tokenType));
    if (at < 0 || next < 0) break;
    input = input.slice(next);
  }
  const seen: { lastIndex: number; lastKey?: string } = { lastIndex: -Infinity };
  for (const err of errors) reportParseError(err, bag, text, toks, unclosed, lexErrorLines, seen);
  const ast = bag.hasErrors ? safeAst(cst!, text) : fileToAst(cst!, text);
  return { ast, tokens: toks, comments };
}

function tooDeep(bag: DiagnosticBag, span: Span, tokens: IToken[], comments: IToken[]): ParseResult {
  bag.report("RNN-E005", span, "expression nested too deeply", {
    label: "nesting limit reached here",
    hints: ["brackets, signs (`- - x`) and powers (`a^b^c`) nest; this file is probably damaged, no model needs this much nesting"],
  });
  return { ast: undefined, tokens, comments };
}

function safeAst(cst: ReturnType<typeof parser.file>, text: string): SpecFile | undefined {
  try {
    return fileToAst(cst, text);
  } catch {
    return undefined;
  }
}

/** Tokens after a syntax error within which a further one is taken for its echo (recovery guesses). */
const ECHO_TOKENS = 3;

function reportParseError(
  err: IRecognitionException,
  bag: DiagnosticBag,
  text: string,
  toks: IToken[],
  unclosed: Unclosed[],
  lexErrorLines: Set<number>,
  seen: { lastIndex: number; lastKey?: string },
): void {
  const found = err.token;
  const atEof = found.tokenType === EOF || Number.isNaN(found.startOffset);
  // An unclosed bracket already explains an error at the end of the file.
  if (atEof && unclosed.length > 0) return;
  const span = atEof ? endOfFileSpan(text, toks) : tokenSpan(found);
  // A character the lexer skipped explains the syntax errors on its line.
  if (!atEof && lexErrorLines.has(span.line)) return;
  const stack = err.context?.ruleStack ?? [];
  const rule = stack[stack.length - 1];
  const where = rule ? RULE_WORDS[rule] ?? "the spec" : "the spec";
  let expected = err.message.length > 0 && err.message.length < 200 ? err.message : undefined;
  const prev = (err as { previousToken?: IToken }).previousToken;
  const hasPrev = prev !== undefined && !Number.isNaN(prev.startOffset) && prev.tokenType !== EOF;
  // A missing closer is explained by the unclosed bracket: point at where it was expected there.
  const u = expected ? [...unclosed].reverse().find((x) => OPENERS.get(x.open.tokenType)!.LABEL === expected && x.open.startOffset < found.startOffset) : undefined;
  if (u?.diag) {
    // Where the parser first missed the closer is a better guess than the end of the file.
    if (found !== u.closedBy && !u.closedBy && !u.located) {
      u.located = true;
      u.diag.label = `expected a matching ${expected} before ${describeToken(found)}`;
      u.diag.related = [{
        span,
        message: TOP_STARTERS.has(found.tokenType) ? `${describeToken(found)} starts the next declaration: close the ${u.open.image === "{" ? "block" : "bracket"} before it` : `expected ${expected} before ${describeToken(found)}`,
      }];
    }
    return;
  }
  let message: string;
  let label: string;
  let hints = hintFor(rule, expected ?? "", found);
  const requireEq = found.tokenType === T.Equals && lineTokensBefore(found, toks).some((t) => t.tokenType === T.Require);
  const initEq = found.tokenType === T.Equals && (rule === "paramsBlock" || rule === "paramDecl") && hasPrev && prev.tokenType !== T.Init;
  if (initEq) {
    message = "expected 'init' before '=' in a parameter declaration";
    label = "expected 'init' before '='";
    hints = ["an initializer is written after the shape and the modifiers: `h : [M] init = zeros`"];
  } else if (requireEq) {
    message = "expected a comparison in a require clause, found '='";
    label = "write '==' here";
    hints = ["comparisons are written ==, !=, <, <=, > and >=, e.g. `require H % K == 0`"];
  } else if (err.name === "NotAllInputParsedException" || (rule === "file" && (expected === "EOF" || !expected))) {
    message = `unexpected ${describeToken(found)} at the top level`;
    label = "a declaration cannot start here";
    if (["def", "function", "func", "lambda"].includes(found.image)) hints = ["helper functions are written `fn NAME(v : [M], P) = expression`", ...hints];
    else if (found.tokenType === T.Identifier || T.softKeywords.includes(found.tokenType)) hints = [...didYouMean(found.image, TOP_KEYWORDS), ...hints];
    if (found.tokenType === T.RBrace) hints = ["this '}' closes no block; remove it or check the blocks above", ...hints];
  } else {
    if (expected && expected.includes("a number") && expected.includes("a name")) expected = "an expression";
    const after = expected === "an expression" && hasPrev ? ` after ${describeToken(prev)}` : ` in ${where}`;
    message = expected ? `expected ${expected}${after}, found ${describeToken(found)}` : `unexpected ${describeToken(found)} in ${where}`;
    label = expected ? `expected ${expected}` : "unexpected here";
  }
  if (bag.items.some((d) => d.span.start === span.start && d.code === "RNN-E002")) return;
  // After a syntax error the parser guesses how the statement went on; an error a few tokens
  // later is usually an echo of that guess, not a second mistake.
  // The same complaint again and again (a block misread as another kind) is one mistake.
  const index = atEof ? toks.length : toks.findIndex((t) => t.startOffset === found.startOffset);
  if (index >= 0 && index - seen.lastIndex <= ECHO_TOKENS) return;
  const key = `${rule} ${expected ?? message}`;
  if (key === seen.lastKey) return;
  if (index >= 0) seen.lastIndex = index;
  seen.lastKey = key;
  bag.report(atEof ? "RNN-E003" : "RNN-E002", span, message, { label, hints });
}

/** The tokens on the line of `found` that precede it. */
function lineTokensBefore(found: IToken, toks: IToken[]): IToken[] {
  return toks.filter((t) => t.startLine === found.startLine && t.startOffset < found.startOffset);
}
