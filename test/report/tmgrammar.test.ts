// The editor grammar agrees with rnnc's lexer: every spec of the zoo is tokenized with the TextMate
// grammar through vscode-textmate and vscode-oniguruma (VS Code's engine), and every token the
// real lexer finds gets the scope its kind calls for; names never look like keywords.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as T from "../../grammar/tokens.js";
import { rnnGrammar, rnnGrammarJson } from "../../scripts/tmgrammar.js";
import { zooSpecs, ROOT } from "../helpers/specs.js";

type Scoped = { startIndex: number; endIndex: number; scopes: string[] };
let tokenizeLine: (line: string, state: unknown) => { tokens: Scoped[]; ruleStack: unknown };
let initial: unknown;

beforeAll(async () => {
  const require = createRequire(import.meta.url);
  const onig = await import("vscode-oniguruma");
  const tm = await import("vscode-textmate");
  const wasm = readFileSync(join(require.resolve("vscode-oniguruma"), "..", "onig.wasm"));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const registry = new tm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new onig.OnigScanner(p), createOnigString: (s: string) => new onig.OnigString(s) }),
    loadGrammar: async () => tm.parseRawGrammar(rnnGrammarJson(), "rnn.tmLanguage.json"),
  });
  const grammar = (await registry.loadGrammar("source.rnn"))!;
  tokenizeLine = (line, state) => grammar.tokenizeLine(line, state as never) as never;
  initial = tm.INITIAL;
});

/** Scopes of every character of a text, line by line. */
function scopesOf(text: string): string[][][] {
  let state = initial;
  return text.split("\n").map((line) => {
    const r = tokenizeLine(line, state);
    state = r.ruleStack;
    const perChar: string[][] = [];
    for (const t of r.tokens) for (let i = t.startIndex; i < Math.min(t.endIndex, line.length); i++) perChar[i] = t.scopes;
    return perChar;
  });
}

const HARD = new Set(T.hardKeywords.map((t) => t.name));
const OPERATOR_TOKENS = new Set(["EqEq", "NotEq", "LessEq", "GreaterEq", "Less", "Greater", "Equals", "Power", "Plus", "Minus", "Star", "Slash", "Percent", "At"]);

/** The scope a token of this lexer kind must carry (a prefix), or a scope it must not. */
function expectation(name: string, next: string | undefined): { has?: RegExp; not?: RegExp } {
  if (name === "Comment") return { has: /^comment\.line/ };
  if (name === "StringLiteral") return { has: /^string\.quoted/ };
  if (name === "NumberLiteral") return { has: /^constant\.numeric/ };
  if (HARD.has(name)) return { has: /^(storage\.type|keyword\.control|constant\.language)/ };
  if (OPERATOR_TOKENS.has(name)) return { has: /^keyword\.operator/ };
  if (name === "Prime") return { has: /^keyword\.operator\.prime/ };
  if (name === "Identifier" && next !== "LParen") return { not: /^(storage|keyword|constant)/ };
  return {};
}

describe("the TextMate grammar", () => {
  it("is the committed file, generated from the token vocabulary", () => {
    expect(readFileSync(join(ROOT, "editors", "vscode", "syntaxes", "rnn.tmLanguage.json"), "utf8")).toBe(rnnGrammarJson());
    const g = JSON.stringify(rnnGrammar());
    for (const t of [...T.hardKeywords, ...T.softKeywords]) expect(g).toContain(String((t.PATTERN as RegExp).source).split("(?!")[0]!.replace(/[()?:]/g, "").split("|")[0]);
  });

  for (const spec of zooSpecs()) {
    it(`highlights ${spec.path} as the lexer reads it`, () => {
      const lexed = T.lexer.tokenize(spec.text);
      const tokens = [...lexed.tokens, ...(lexed.groups["comments"] ?? [])].sort((a, b) => a.startOffset - b.startOffset);
      const scopes = scopesOf(spec.text);
      const seen = new Map<string, number>();
      const wrong: string[] = [];
      tokens.forEach((tok, i) => {
        const name = tok.tokenType.name;
        const { has, not } = expectation(name, tokens[i + 1]?.tokenType.name);
        const at = scopes[tok.startLine! - 1]![tok.startColumn! - 1] ?? [];
        const inner = at.slice(1); // the first is source.rnn
        const where = `${spec.path}:${tok.startLine}:${tok.startColumn} ${JSON.stringify(tok.image)} (${name}) has ${inner.join(" ") || "no scope"}`;
        if (has && !inner.some((s) => has.test(s))) wrong.push(where);
        if (not && inner.some((s) => not.test(s))) wrong.push(where);
        seen.set(name, (seen.get(name) ?? 0) + 1);
      });
      expect(wrong).toEqual([]);
      // Every spec has comments, keywords, numbers and operators: the check above saw them.
      for (const k of ["Comment", "NumberLiteral", "Latent", "Params", "Equals"]) expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
    });
  }

  it("gives units, eval words and next states their scopes only in their place", () => {
    const text = `eval every 25 epochs { generate 1000 steps from lorenz.test; keep best by dstsp }\ndata d = builtin.lorenz63(steps = 100)\nlatent z : [M] = zeros { z' = relu(z) }\nx = 1 \u00d7 2`;
    const s = scopesOf(text);
    const at = (line: number, col: number) => s[line]![col]!.slice(1).join(" ");
    expect(at(0, 5)).toMatch(/keyword\.other/); // every
    expect(at(0, 14)).toMatch(/keyword\.other\.unit/); // epochs
    expect(at(0, 72)).toMatch(/keyword\.other/); // by
    expect(at(1, 27)).not.toMatch(/keyword/); // steps = 100: an argument name
    expect(at(1, 18)).toMatch(/support\.function|entity\.name\.function/); // lorenz63(
    expect(at(2, 25)).toMatch(/variable\.other\.state/); // z'
    expect(at(2, 26)).toMatch(/keyword\.operator\.prime/);
    expect(at(2, 30)).toMatch(/support\.function\.builtin/); // relu
    expect(at(3, 6)).toMatch(/invalid\.illegal\.lookalike/); // ×
  });
});
