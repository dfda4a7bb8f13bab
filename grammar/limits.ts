// Limits that keep pathological input (generated or damaged files) from exhausting the stack of
// the recursive-descent parser or of the recursive passes over expressions. Exceeding one is a
// user error (RNN-E005), never a crash: `rnnc check` must survive any input.
import { type IToken, tokenMatcher } from "./chevrotain.js";
import type { Span } from "./ast.js";
import * as T from "./tokens.js";

/**
 * Parser stack budget, in units of one unary-minus rule. Measured under Node 20 with the default
 * stack: the parser overflows at about 1,900 units (one nested bracket costs ~8.5, a unary sign 1,
 * a `^` 2). Half of that leaves room for the caller's own frames (a test runner, a language server).
 */
export const MAX_PARSE_UNITS = 1000;
const BRACKET_UNITS = 9;

/** Deepest AST (nodes within nodes) handed to the checker, whose passes recurse over expressions. */
export const MAX_AST_DEPTH = 400;

export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

/** Tokens after which a `+`/`-` is binary (they end an operand). */
function endsOperand(t: IToken | undefined): boolean {
  if (!t) return false;
  return (
    tokenMatcher(t, T.Identifier) ||
    tokenMatcher(t, T.NumberLiteral) ||
    tokenMatcher(t, T.StringLiteral) ||
    tokenMatcher(t, T.True) ||
    tokenMatcher(t, T.False) ||
    tokenMatcher(t, T.RParen) ||
    tokenMatcher(t, T.RBracket) ||
    tokenMatcher(t, T.Prime)
  );
}

/**
 * An upper estimate of how deep the parser will recurse, token by token: brackets, unary signs
 * and `^` chains nest; a binary operator or a separator ends a chain of signs. Returns the first
 * token at which the estimate exceeds MAX_PARSE_UNITS, or undefined.
 */
export function tooDeepForParser(toks: IToken[]): IToken | undefined {
  // One entry per open bracket (plus the top level): the units of the sign/power chain open there.
  const chains: number[] = [0];
  let units = 0;
  let prev: IToken | undefined;
  for (const t of toks) {
    const isOpen = tokenMatcher(t, T.LParen) || tokenMatcher(t, T.LBracket) || tokenMatcher(t, T.LBrace);
    const isClose = tokenMatcher(t, T.RParen) || tokenMatcher(t, T.RBracket) || tokenMatcher(t, T.RBrace);
    const top = chains.length - 1;
    if (isOpen) {
      chains.push(0);
      units += BRACKET_UNITS;
    } else if (isClose) {
      if (chains.length > 1) {
        units -= BRACKET_UNITS + chains.pop()!;
        // A closed block ends any chain around it; a closed bracket is an operand inside it.
        if (tokenMatcher(t, T.RBrace)) {
          units -= chains[chains.length - 1]!;
          chains[chains.length - 1] = 0;
        }
      }
    } else if ((tokenMatcher(t, T.Minus) || tokenMatcher(t, T.Plus)) && !endsOperand(prev)) {
      chains[top]! += 1;
      units += 1;
    } else if (tokenMatcher(t, T.Power)) {
      chains[top]! += 2;
      units += 2;
    } else if (!endsOperand(t) && !tokenMatcher(t, T.Dot)) {
      // A binary operator, separator or keyword: the chain of signs and powers at this level ends.
      units -= chains[top]!;
      chains[top] = 0;
    }
    if (units > MAX_PARSE_UNITS) return t;
    prev = t;
  }
  return undefined;
}

/** The span of the first node nested more than `max` levels deep in `root`, found without recursion. */
export function tooDeepNode(root: object, max = MAX_AST_DEPTH): Span | undefined {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, depth]);
      continue;
    }
    const node = v as Record<string, unknown>;
    const isNode = typeof node["kind"] === "string";
    const d = isNode ? depth + 1 : depth;
    if (d > max) return (node["span"] as Span | undefined) ?? { start: 0, end: 0, line: 1, col: 1, endLine: 1, endCol: 1 };
    for (const [k, x] of Object.entries(node)) {
      if (k === "span" || k.endsWith("Span")) continue;
      if (x !== null && typeof x === "object") stack.push([x, d]);
    }
  }
  return undefined;
}
