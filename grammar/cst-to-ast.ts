// CST → AST. Written defensively: after error recovery a CST node may lack children,
// so every accessor tolerates absence and yields a placeholder with a sensible span.
import type { CstElement, CstNode, IToken } from "./chevrotain.js";
import type * as A from "./ast.js";

type Children = Record<string, CstElement[] | undefined>;

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

export function tokenSpan(t: IToken): A.Span {
  const start = t.startOffset;
  const end = (t.endOffset ?? t.startOffset + t.image.length - 1) + 1;
  return {
    start,
    end: Math.max(end, start),
    line: t.startLine ?? 1,
    col: t.startColumn ?? 1,
    endLine: t.endLine ?? t.startLine ?? 1,
    endCol: t.endColumn ?? t.startColumn ?? 1,
  };
}

export function joinSpans(a: A.Span, b: A.Span): A.Span {
  const first = a.start <= b.start ? a : b;
  const last = a.end >= b.end ? a : b;
  return { start: first.start, end: last.end, line: first.line, col: first.col, endLine: last.endLine, endCol: last.endCol };
}

const emptySpan: A.Span = { start: 0, end: 0, line: 1, col: 1, endLine: 1, endCol: 1 };

function nodeSpan(n: CstNode): A.Span {
  const l = n.location;
  if (!l || Number.isNaN(l.startOffset) || l.startOffset === undefined) return emptySpan;
  const endOffset = Number.isNaN(l.endOffset ?? NaN) ? l.startOffset : (l.endOffset as number);
  return {
    start: l.startOffset,
    end: endOffset + 1,
    line: l.startLine ?? 1,
    col: l.startColumn ?? 1,
    endLine: Number.isNaN(l.endLine ?? NaN) ? (l.startLine ?? 1) : (l.endLine as number),
    endCol: Number.isNaN(l.endColumn ?? NaN) ? (l.startColumn ?? 1) : (l.endColumn as number),
  };
}

function kids(n: CstNode): Children {
  return n.children as Children;
}
function nodes(n: CstNode, key: string): CstNode[] {
  return (kids(n)[key] ?? []).filter((e): e is CstNode => !isToken(e));
}
function tokens(n: CstNode, key: string): IToken[] {
  return (kids(n)[key] ?? []).filter(isToken).filter((t) => !Number.isNaN(t.startOffset));
}
function node(n: CstNode, key: string): CstNode | undefined {
  return nodes(n, key)[0];
}
function tok(n: CstNode, key: string): IToken | undefined {
  return tokens(n, key)[0];
}
function ident(t: IToken | undefined, fallback: A.Span): A.Ident {
  return t ? { name: t.image, span: tokenSpan(t) } : { name: "<missing>", span: fallback };
}

/** Every token directly under a node, in source order (for operator chains). */
function orderedTokens(n: CstNode, keys: string[]): IToken[] {
  return keys.flatMap((k) => tokens(n, k)).sort((a, b) => a.startOffset - b.startOffset);
}

export function fileToAst(cst: CstNode, text = ""): A.SpecFile {
  const items: A.TopItem[] = [];
  for (const top of nodes(cst, "topItem")) {
    for (const [key, els] of Object.entries(kids(top))) {
      for (const el of els ?? []) {
        if (isToken(el)) continue;
        const item = topItem(key, el, text);
        if (item) items.push(item);
      }
    }
  }
  return { kind: "file", items, span: nodeSpan(cst) };
}

function topItem(key: string, n: CstNode, text: string): A.TopItem | undefined {
  const span = nodeSpan(n);
  switch (key) {
    case "modelDecl": {
      const title = tok(n, "StringLiteral");
      return { kind: "model", name: ident(tok(n, "Identifier"), span), ...(title ? { title: unquote(title.image) } : {}), span };
    }
    case "dataDecl":
      return { kind: "data", name: ident(tok(n, "Identifier"), span), source: expr(node(n, "expression"), span), span };
    case "dimsBlock": {
      const items: (A.DimDecl | A.RequireClause)[] = [];
      for (const d of nodes(n, "dimDecl")) {
        const s = nodeSpan(d);
        items.push({ kind: "dim", name: ident(tok(d, "Identifier"), s), value: expr(node(d, "expression"), s), span: s });
      }
      for (const r of nodes(n, "requireClause")) {
        const s = nodeSpan(r);
        items.push({ kind: "require", cond: expr(node(r, "expression"), s), span: s });
      }
      items.sort((a, b) => a.span.start - b.span.start);
      return { kind: "dims", items, span, keywordSpan: kwSpan(n, "Dims", span) };
    }
    case "paramsBlock":
      return { kind: "params", params: nodes(n, "paramDecl").map(paramDecl), span, keywordSpan: kwSpan(n, "Params", span) };
    case "constDecl":
      return { kind: "const", name: ident(tok(n, "Identifier"), span), value: expr(node(n, "expression"), span), span };
    case "fnDecl":
      return {
        kind: "fn",
        name: ident(tok(n, "Identifier"), span),
        params: nodes(n, "fnParam").map((p) => {
          const s = nodeSpan(p);
          const t = node(p, "typeExpr");
          return { name: ident(tok(p, "Identifier"), s), ...(t ? { type: typeExpr(t, s) } : {}), span: s };
        }),
        body: expr(node(n, "expression"), span),
        span,
      };
    case "inputDecl":
      return {
        kind: "input",
        name: ident(tok(n, "Identifier"), span),
        type: typeExpr(node(n, "typeExpr"), span),
        source: expr(node(n, "expression"), span),
        span,
      };
    case "latentBlock":
      return {
        kind: "latent",
        states: nodes(n, "stateDecl").map((s) => {
          const sp = nodeSpan(s);
          const init = node(s, "expression");
          return {
            name: ident(tok(s, "Identifier"), sp),
            type: typeExpr(node(s, "typeExpr"), sp),
            ...(init ? { init: expr(init, sp) } : {}),
            span: sp,
          };
        }),
        equations: nodes(n, "equation").map(equation),
        span,
        keywordSpan: kwSpan(n, "Latent", span),
      };
    case "observeDecl":
      return {
        kind: "observe",
        name: ident(tok(n, "Identifier"), span),
        type: typeExpr(node(n, "typeExpr"), span),
        value: expr(node(n, "expression"), span),
        span,
      };
    case "trainBlock":
      return { kind: "train", settings: nodes(n, "setting").map(setting), span, keywordSpan: kwSpan(n, "Train", span) };
    case "evalBlock": {
      const items: (A.GenerateStmt | A.KeepStmt | A.Setting)[] = [
        ...nodes(n, "setting").map(setting),
        ...nodes(n, "generateStmt").map((g): A.GenerateStmt => {
          const s = nodeSpan(g);
          const es = nodes(g, "expression");
          return { kind: "generate", length: expr(es[0], s), ...(es[1] ? { from: expr(es[1], s) } : {}), span: s };
        }),
        ...nodes(n, "keepStmt").map((k): A.KeepStmt => {
          const s = nodeSpan(k);
          return { kind: "keep", measure: ident(tok(k, "Identifier"), s), span: s };
        }),
      ];
      items.sort((a, b) => a.span.start - b.span.start);
      const every = node(n, "expression");
      return { kind: "eval", ...(every ? { every: expr(every, span) } : {}), items, span, keywordSpan: kwSpan(n, "Eval", span) };
    }
    case "sweepBlock":
      return { kind: "sweep", entries: nodes(n, "sweepEntry").map((e) => sweepEntry(e, text)), span, keywordSpan: kwSpan(n, "Sweep", span) };
  }
  return undefined;
}

function kwSpan(n: CstNode, key: string, fallback: A.Span): A.Span {
  const t = tok(n, key);
  return t ? tokenSpan(t) : fallback;
}

function paramDecl(n: CstNode): A.ParamDecl {
  const span = nodeSpan(n);
  const init = node(n, "expression");
  return {
    kind: "param",
    names: tokens(n, "Identifier").map((t) => ident(t, span)),
    type: typeExpr(node(n, "typeExpr"), span),
    modifiers: nodes(n, "modifier").map((m) => {
      const s = nodeSpan(m);
      const al = node(m, "argList");
      return { name: ident(tok(m, "Identifier"), s), args: al ? argList(al) : [], span: s };
    }),
    ...(init ? { init: expr(init, span) } : {}),
    span,
  };
}

function typeExpr(n: CstNode | undefined, fallback: A.Span): A.TypeExpr {
  if (!n) return { dims: [], span: fallback };
  const span = nodeSpan(n);
  const s = tok(n, "Identifier");
  return { ...(s ? { structure: ident(s, span) } : {}), dims: nodes(n, "expression").map((e) => expr(e, span)), span };
}

function equation(n: CstNode): A.Equation {
  const span = nodeSpan(n);
  const ids = tokens(n, "Identifier");
  const hasIndex = tok(n, "LBracket") !== undefined;
  const hasFor = tok(n, "For") !== undefined;
  const eq: A.Equation = {
    kind: "equation",
    target: ident(ids[0], span),
    primed: tok(n, "Prime") !== undefined,
    value: expr(node(n, "expression"), span),
    span,
  };
  if (hasIndex) eq.index = ident(ids[1], span);
  if (hasFor) {
    const base = hasIndex ? 2 : 1;
    eq.forVar = ident(ids[base], span);
    eq.forAxis = ident(ids[base + 1], span);
  }
  return eq;
}

function setting(n: CstNode): A.Setting {
  const span = nodeSpan(n);
  return { kind: "setting", key: ident(tok(n, "Identifier"), span), value: expr(node(n, "expression"), span), span };
}

/** `optimizer.lr = [1e-3, 5e-4]`: the dotted key as one name (spanning its parts), the value, and the values' source texts. */
function sweepEntry(n: CstNode, text: string): A.SweepEntry {
  const span = nodeSpan(n);
  const parts = orderedTokens(n, ["Identifier", "Eval"]);
  const first = parts[0];
  const last = parts[parts.length - 1];
  const key: A.Ident = first && last ? { name: parts.map((t) => t.image).join("."), span: joinSpans(tokenSpan(first), tokenSpan(last)) } : { name: "<missing>", span };
  const value = expr(node(n, "expression"), span);
  const items = value.kind === "list" ? value.items : [value];
  // Comments inside a value (a call written over several lines) are dropped, strings kept.
  const texts = items.map((i) =>
    text
      .slice(i.span.start, i.span.end)
      .replace(/"(?:[^"\\\n]|\\.)*"|#[^\n]*/g, (m) => (m.startsWith("#") ? "" : m))
      .replace(/\s+/g, " ")
      .trim(),
  );
  return { kind: "sweepEntry", key, value, texts, span };
}

function argList(n: CstNode): A.Arg[] {
  return nodes(n, "argument").map((a): A.Arg => {
    const span = nodeSpan(a);
    const ids = tokens(a, "Identifier");
    const value = expr(node(a, "expression"), span);
    if (tok(a, "Equals")) return { kind: "named", name: ids[0]?.image ?? "<missing>", nameSpan: ids[0] ? tokenSpan(ids[0]) : span, value, span };
    if (tok(a, "In")) {
      const v = ident(ids[0], span);
      const ax = ident(ids[1], span);
      return { kind: "binder", variable: v.name, varSpan: v.span, axis: ax.name, axisSpan: ax.span, body: value, span };
    }
    return { kind: "positional", value, span };
  });
}

const BINARY_KEYS = ["EqEq", "NotEq", "LessEq", "GreaterEq", "Less", "Greater", "Plus", "Minus", "Star", "Slash", "Percent", "At"];

function expr(n: CstNode | undefined, fallback: A.Span): A.Expr {
  if (!n) return { kind: "error", span: fallback };
  const span = nodeSpan(n);
  switch (n.name) {
    case "expression":
    case "additive":
    case "multiplicative": {
      const sub = n.name === "expression" ? "additive" : n.name === "additive" ? "multiplicative" : "unary";
      const operands = nodes(n, sub).map((o) => expr(o, span));
      const ops = orderedTokens(n, BINARY_KEYS);
      let acc = operands[0] ?? { kind: "error", span };
      for (let i = 0; i < ops.length; i++) {
        const right = operands[i + 1] ?? ({ kind: "error", span } as A.Expr);
        acc = { kind: "binary", op: ops[i]!.image as A.BinaryOp, left: acc, right, opSpan: tokenSpan(ops[i]!), span: joinSpans(acc.span, right.span) };
      }
      return acc;
    }
    case "unary": {
      const op = tok(n, "Minus") ?? tok(n, "Plus");
      if (op) {
        const operand = expr(node(n, "unary"), span);
        return { kind: "unary", op: op.image as "-" | "+", operand, span };
      }
      return expr(node(n, "power"), span);
    }
    case "power": {
      const base = expr(node(n, "postfix"), span);
      const op = tok(n, "Power");
      if (!op) return base;
      const exponent = expr(node(n, "unary"), span);
      return { kind: "binary", op: "^", left: base, right: exponent, opSpan: tokenSpan(op), span };
    }
    case "postfix": {
      let acc = expr(node(n, "primary"), span);
      const suffixes: { offset: number; el: CstNode | IToken }[] = [
        ...["callSuffix", "indexSuffix", "memberSuffix"].flatMap((k) => nodes(n, k).map((s) => ({ offset: nodeSpan(s).start, el: s as CstNode | IToken }))),
        ...tokens(n, "Prime").map((t) => ({ offset: t.startOffset, el: t as CstNode | IToken })),
      ].sort((a, b) => a.offset - b.offset);
      for (const { el } of suffixes) {
        if (isToken(el)) {
          // A prime marks the next-state value of a name: z'
          const s = joinSpans(acc.span, tokenSpan(el));
          acc = acc.kind === "name" ? { ...acc, primed: true, span: s } : { kind: "error", span: s };
          continue;
        }
        const s = joinSpans(acc.span, nodeSpan(el));
        if (el.name === "callSuffix") {
          const al = node(el, "argList");
          acc = { kind: "call", callee: acc, args: al ? argList(al) : [], span: s };
        } else if (el.name === "indexSuffix") {
          acc = { kind: "index", object: acc, items: nodes(el, "indexItem").map(indexItem), span: s };
        } else {
          const id = ident(tok(el, "Identifier"), s);
          acc = { kind: "member", object: acc, name: id.name, nameSpan: id.span, span: s };
        }
      }
      return acc;
    }
    case "primary": {
      const num = tok(n, "NumberLiteral");
      if (num) {
        const unit = tok(n, "Unit");
        return { kind: "num", value: Number(num.image), text: num.image, ...(unit ? { unit: unit.image } : {}), span };
      }
      const str = tok(n, "StringLiteral");
      if (str) return { kind: "str", value: unquote(str.image), span };
      if (tok(n, "True")) return { kind: "bool", value: true, span };
      if (tok(n, "False")) return { kind: "bool", value: false, span };
      const id = tok(n, "Identifier");
      if (id) return { kind: "name", name: id.image, primed: false, span: tokenSpan(id) };
      if (tok(n, "LParen")) return expr(node(n, "expression"), span);
      if (tok(n, "LBracket")) return { kind: "list", items: nodes(n, "expression").map((e) => expr(e, span)), span };
      return { kind: "error", span };
    }
  }
  return { kind: "error", span };
}

function indexItem(n: CstNode): A.IndexItem {
  const span = nodeSpan(n);
  const colon = tok(n, "Colon");
  const es = nodes(n, "expression");
  if (!colon) return { kind: "at", value: expr(es[0], span), span };
  // `:b` puts the colon first; `a:` / `a:b` put an expression first.
  const colonFirst = es.length === 0 || colon.startOffset < nodeSpan(es[0]!).start;
  if (colonFirst) return { kind: "slice", ...(es[0] ? { stop: expr(es[0], span) } : {}), span };
  return { kind: "slice", start: expr(es[0], span), ...(es[1] ? { stop: expr(es[1], span) } : {}), span };
}

function unquote(s: string): string {
  try {
    return JSON.parse(s) as string;
  } catch {
    return s.slice(1, -1);
  }
}
