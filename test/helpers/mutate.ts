// Mutations of spec text for the fuzz tests: token-level edits (delete, duplicate, swap, insert or
// replace with a word of the vocabulary), character-level edits (random bytes and unicode), and
// truncation or splicing of two specs. Positions are drawn as plain numbers and reduced modulo the
// current length, so any sequence of mutations applies to any text (and shrinks well).
import fc from "fast-check";
import { lex, ODD_PIECES as ODD } from "./specs.js";

export type Mutation =
  | { kind: "deleteToken"; at: number }
  | { kind: "duplicateToken"; at: number }
  | { kind: "swapTokens"; at: number; with: number }
  | { kind: "insertWord"; at: number; word: string; pad: boolean }
  | { kind: "replaceToken"; at: number; word: string }
  | { kind: "deleteChars"; at: number; count: number }
  | { kind: "insertChars"; at: number; chars: string }
  | { kind: "truncate"; at: number }
  | { kind: "splice"; at: number; other: number; from: number };

export function mutationArb(words: string[], specCount: number): fc.Arbitrary<Mutation> {
  const pos = fc.nat();
  const word = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...words) }, { weight: 1, arbitrary: fc.constantFrom(...ODD) });
  const chars = fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 4 }),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b).toString("latin1")),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((b) => Buffer.from(b).toString("utf8")),
    fc.constantFrom(...ODD),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("deleteToken" as const), at: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("duplicateToken" as const), at: pos }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("swapTokens" as const), at: pos, with: pos }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("insertWord" as const), at: pos, word, pad: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("replaceToken" as const), at: pos, word }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("deleteChars" as const), at: pos, count: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("insertChars" as const), at: pos, chars }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: pos }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("splice" as const), at: pos, other: fc.nat({ max: specCount - 1 }), from: pos }) },
  );
}

export function applyMutation(text: string, m: Mutation, others: string[]): string {
  const toks = m.kind.endsWith("Token") || m.kind.endsWith("Tokens") || m.kind === "insertWord" ? lex(text).tokens : [];
  const tokAt = (n: number) => toks[n % toks.length]!;
  const cut = (s: number, e: number, ins: string) => text.slice(0, s) + ins + text.slice(e);
  const end = (t: { endOffset?: number; startOffset: number; image: string }) => t.startOffset + t.image.length;
  switch (m.kind) {
    case "deleteToken": {
      if (!toks.length) return text;
      const t = tokAt(m.at);
      return cut(t.startOffset, end(t), "");
    }
    case "duplicateToken": {
      if (!toks.length) return text;
      const t = tokAt(m.at);
      return cut(end(t), end(t), " " + t.image);
    }
    case "swapTokens": {
      if (toks.length < 2) return text;
      let a = tokAt(m.at);
      let b = tokAt(m.with);
      if (a === b) return text;
      if (a.startOffset > b.startOffset) [a, b] = [b, a];
      return text.slice(0, a.startOffset) + b.image + text.slice(end(a), b.startOffset) + a.image + text.slice(end(b));
    }
    case "insertWord": {
      const at = toks.length ? tokAt(m.at).startOffset : 0;
      return cut(at, at, m.pad ? ` ${m.word} ` : m.word);
    }
    case "replaceToken": {
      if (!toks.length) return m.word;
      const t = tokAt(m.at);
      return cut(t.startOffset, end(t), m.word);
    }
    case "deleteChars": {
      const at = m.at % (text.length + 1);
      return cut(at, at + m.count, "");
    }
    case "insertChars": {
      const at = m.at % (text.length + 1);
      return cut(at, at, m.chars);
    }
    case "truncate":
      return text.slice(0, m.at % (text.length + 1));
    case "splice": {
      const other = others[m.other % others.length]!;
      return text.slice(0, m.at % (text.length + 1)) + other.slice(m.from % (other.length + 1));
    }
  }
}
