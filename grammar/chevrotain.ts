// Chevrotain, loaded from its single-file ESM bundle. The package's `exports` entry points at
// ~150 unbundled modules (lodash-es) that take ~0.5 s to load; the bundle it ships alongside
// loads in ~50 ms, which is what keeps `rnnc check` well under a second.
import type * as Chevrotain from "chevrotain";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

async function load(): Promise<typeof Chevrotain> {
  try {
    const api = createRequire(import.meta.url).resolve("chevrotain");
    const bundle = join(dirname(api), "..", "chevrotain.mjs");
    return (await import(pathToFileURL(bundle).href)) as typeof Chevrotain;
  } catch {
    return await import("chevrotain");
  }
}

const chevrotain = await load();
export const { createToken, Lexer, CstParser, EOF, tokenMatcher } = chevrotain;
export type { CstNode, CstElement, IToken, TokenType, IParserErrorMessageProvider, IRecognitionException } from "chevrotain";
