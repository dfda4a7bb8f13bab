// A spec as highlighted HTML, tokenized by the language's own lexer (grammar/tokens.ts), so the
// report colours exactly the words the compiler treats as keywords, numbers, strings and comments.
import * as T from "../../../grammar/tokens.js";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

const HARD = new Set(T.hardKeywords.map((t) => t.name));
const OPERATORS = new Set(["EqEq", "NotEq", "LessEq", "GreaterEq", "Less", "Greater", "Equals", "Power", "Plus", "Minus", "Star", "Slash", "Percent", "At"]);

/** One `<span class="ln">` per line, tokens wrapped in spans by class. */
export function highlightSpec(text: string): string {
  const lexed = T.lexer.tokenize(text);
  const tokens = [...lexed.tokens, ...(lexed.groups["comments"] ?? [])].sort((a, b) => a.startOffset - b.startOffset);
  let html = "";
  let at = 0;
  tokens.forEach((tok, i) => {
    if (tok.startOffset < at) return;
    html += escapeHtml(text.slice(at, tok.startOffset));
    const name = tok.tokenType.name;
    const next = tokens[i + 1];
    const prev = tokens[i - 1];
    let cls: string | undefined;
    if (name === "Comment") cls = "com";
    else if (HARD.has(name)) cls = "kw";
    else if (name === "NumberLiteral") cls = "num";
    else if (name === "StringLiteral" || name === "OddString") cls = "str";
    else if (name === "Prime" || name === "OddPrime") cls = "prime";
    else if (OPERATORS.has(name)) cls = "op";
    // Soft keywords are keywords only where they have their meaning: `25 epochs`, `eval every`,
    // `generate ...`, `keep best by` (not `steps = 100` inside a call).
    else if (name === "Unit") cls = prev?.tokenType.name === "NumberLiteral" ? "kw2" : undefined;
    else if (["Every", "Generate", "Keep", "Best", "By"].includes(name)) cls = next?.tokenType.name === "Equals" ? undefined : "kw2";
    else if (next?.tokenType.name === "LParen") cls = "fn";
    const body = escapeHtml(tok.image);
    html += cls ? `<span class="${cls}">${body}</span>` : body;
    at = tok.startOffset + tok.image.length;
  });
  html += escapeHtml(text.slice(at));
  return html
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => `<span class="ln">${line}</span>`)
    .join("\n");
}
