// Front door of the grammar stage: text → tokens → CST → AST, with syntax diagnostics.
import { EOF, type IRecognitionException, type IToken, type TokenType } from "./chevrotain.js";
import type { SpecFile, Span } from "./ast.js";
import { fileToAst, tokenSpan } from "./cst-to-ast.js";
import { parser } from "./parser.js";
import * as T from "./tokens.js";
import { DiagnosticBag } from "../src/compiler/diagnostics/diagnostic.js";

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

function endOfFileSpan(text: string): Span {
  const lines = text.split("\n");
  const line = lines.length;
  const col = (lines[lines.length - 1]?.length ?? 0) + 1;
  return { start: text.length, end: text.length, line, col, endLine: line, endCol: col };
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
  if (rule === "setting" && expected.includes("'='")) return ["settings are written `key = value`"];
  if (rule === "dimDecl" && expected.includes("'='")) return ["dims are written `M = 20` or `N = data.features`"];
  if (found.tokenType === T.Equals && expected.includes("'=='")) return ["comparisons use `==`"];
  if (rule === "topItem" || rule === "file")
    return ["top-level declarations are: model, data, dims, params, const, fn, input, latent, observe, train, eval"];
  return [];
}

/** Lex and parse one file; syntax diagnostics go into `bag`. */
export function parseSpec(text: string, bag: DiagnosticBag): ParseResult {
  const lexed = T.lexer.tokenize(text);
  for (const e of lexed.errors) {
    const ch = text.slice(e.offset, e.offset + e.length);
    const shown = [...ch].slice(0, 8).join("");
    const cp = shown.codePointAt(0) ?? 0;
    const isNonAscii = cp > 127;
    bag.report(
      "RNN-E001",
      { start: e.offset, end: e.offset + e.length, line: e.line ?? 1, col: e.column ?? 1, endLine: e.line ?? 1, endCol: (e.column ?? 1) + Math.max(0, e.length - 1) },
      cp < 32 || (cp >= 127 && cp < 160) ? `unexpected control character U+${cp.toString(16).toUpperCase().padStart(4, "0")}` : `unexpected character '${shown}'`,
      {
        label: "not part of the .rnn language",
        hints: isNonAscii ? ["names are ASCII: write 'alpha' instead of 'α', '*' instead of '×'"] : cp === 39 ? [] : ch === "'" ? [] : ch === "`" ? ["strings use double quotes"] : [],
      },
    );
  }
  const toks = lexed.tokens;
  const comments = (lexed.groups["comments"] as IToken[] | undefined) ?? [];

  // Bracket scan before parsing: deep nesting would exhaust the recursive-descent parser's stack,
  // and unclosed brackets are best reported at the bracket that was opened.
  const stack: IToken[] = [];
  let unclosedReported = false;
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
    } else if ([...OPENERS.values()].includes(t.tokenType)) {
      const open = stack[stack.length - 1];
      if (open && OPENERS.get(open.tokenType) === t.tokenType) stack.pop();
    }
  }
  for (const open of stack.slice(0, 1)) {
    unclosedReported = true;
    const closer = OPENERS.get(open.tokenType)!.LABEL ?? "";
    bag.report("RNN-E003", tokenSpan(open), `this ${open.image === "{" ? "block" : "bracket"} is never closed`, {
      label: `expected a matching ${closer} before the end of the file`,
      related: [{ span: endOfFileSpan(text), message: "the file ends here" }],
    });
  }

  parser.input = toks;
  const cst = parser.file();
  for (const err of parser.errors) reportParseError(err, bag, text, unclosedReported);
  const ast = bag.hasErrors ? safeAst(cst) : fileToAst(cst);
  return { ast, tokens: toks, comments };
}

function safeAst(cst: ReturnType<typeof parser.file>): SpecFile | undefined {
  try {
    return fileToAst(cst);
  } catch {
    return undefined;
  }
}

function reportParseError(err: IRecognitionException, bag: DiagnosticBag, text: string, unclosedReported: boolean): void {
  const found = err.token;
  const atEof = found.tokenType === EOF || Number.isNaN(found.startOffset);
  // An unclosed bracket already explains an error at the end of the file.
  if (atEof && unclosedReported) return;
  const span = atEof ? endOfFileSpan(text) : tokenSpan(found);
  const stack = err.context?.ruleStack ?? [];
  const rule = stack[stack.length - 1];
  const where = rule ? RULE_WORDS[rule] ?? "the spec" : "the spec";
  const expected = err.message.length > 0 && err.message.length < 200 ? err.message : undefined;
  const message =
    err.name === "NotAllInputParsedException"
      ? `unexpected ${describeToken(found)} at the top level`
      : expected
        ? `expected ${expected} in ${where}, found ${describeToken(found)}`
        : `unexpected ${describeToken(found)} in ${where}`;
  if (bag.items.some((d) => d.span.start === span.start && d.code === "RNN-E002")) return;
  bag.report(atEof ? "RNN-E003" : "RNN-E002", span, message, {
    label: expected ? `expected ${expected}` : "unexpected here",
    hints: hintFor(rule, expected ?? "", found),
  });
}

