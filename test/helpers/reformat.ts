// Re-layout of a spec on its token stream: the same tokens, joined by random white space (spaces,
// tabs, newlines, CRLF), with its comments kept, dropped or new ones added, and `;` separators
// added after declarations and block items (where the grammar allows them).
import type { SpecFile } from "../../grammar/ast.js";
import { lex } from "./specs.js";

/** A small seeded PRNG (mulberry32), so a fast-check integer drives a whole layout. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPACES = [" ", "  ", "\t", "\n", "\n\n", " \t \n    ", "\r\n", "\n\t\t", " # a new comment\n", "\n# a comment line ; { ( [ \" '\n", "   #\n"];

/** End offsets (exclusive) of declarations and block items: a `;` may follow each. */
export function itemEnds(ast: SpecFile): Set<number> {
  const ends = new Set<number>();
  for (const item of ast.items) {
    ends.add(item.span.end);
    const inner =
      item.kind === "dims" ? item.items : item.kind === "params" ? item.params : item.kind === "latent" ? item.equations : item.kind === "train" ? item.settings : item.kind === "eval" ? item.items : [];
    for (const x of inner) ends.add(x.span.end);
  }
  return ends;
}

export interface ReformatOptions {
  /** Offsets after which a `;` is legal (from itemEnds). */
  semicolonsAfter?: Set<number>;
  /** Chance to keep the original text between two tokens (and so its comments). */
  keepGap?: number;
}

export function reformat(text: string, random: () => number, opts: ReformatOptions = {}): string {
  const { tokens } = lex(text);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const out: string[] = [];
  // Leading gap: the file's opening comments, or new white space.
  const first = tokens[0]?.startOffset ?? text.length;
  out.push(random() < (opts.keepGap ?? 0.3) ? text.slice(0, first) : random() < 0.5 ? "" : pick(SPACES));
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    out.push(t.image);
    const end = t.startOffset + t.image.length;
    const next = tokens[i + 1]?.startOffset ?? text.length;
    const gap = text.slice(end, next);
    if (opts.semicolonsAfter?.has(end) && random() < 0.5) out.push(pick([";", " ;", ";\n", " ; ;"]));
    const r = random();
    if (r < (opts.keepGap ?? 0.3)) out.push(gap);
    else if (gap === "" && r < 0.6) out.push(""); // tokens that were adjacent may stay adjacent
    else out.push(pick(SPACES));
  }
  return out.join("");
}
