// Chevrotain's grammar validations (ambiguities, left recursion) are skipped at CLI startup for
// speed; this test runs them on a fresh parser.
import { describe, expect, it } from "vitest";
import { RnnParser } from "../grammar/parser.js";
import { allTokens, reservedWords } from "../grammar/tokens.js";

describe("grammar", () => {
  it("passes Chevrotain's self-analysis validations", () => {
    expect(() => new RnnParser(true)).not.toThrow();
  });
  it("reserves exactly the hard keywords", () => {
    expect(reservedWords).toEqual(expect.arrayContaining(["model", "latent", "params", "init", "input", "in"]));
    expect(reservedWords).not.toContain("steps");
    expect(allTokens.length).toBeGreaterThan(30);
  });
});
