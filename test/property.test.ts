// Properties of the front end: layout carries no meaning (re-joining a spec's tokens with other
// white space, comments and `;` separators leaves its IR unchanged up to source positions), and
// compiling is deterministic (same input → byte-identical IR, whatever was compiled before).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSource, type CompileResult } from "../src/compiler/driver.js";
import { itemEnds, reformat, rng } from "./helpers/reformat.js";
import { checkInvariants, lex, withoutPositions, zooSpecs } from "./helpers/specs.js";

const ZOO = zooSpecs();
const SEED = 20240612;

function compileClean(text: string, file: string): CompileResult {
  const r = compileSource(text, file);
  checkInvariants(r, text);
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) {
    throw new Error(`${file}: unexpected errors after reformatting:\n${errors.map((d) => `${d.code} ${d.span.line}:${d.span.col} ${d.message}`).join("\n")}\n--- text ---\n${text}`);
  }
  return r;
}

/** The parts of a compile that must not depend on layout. */
function meaning(r: CompileResult): unknown {
  return {
    ir: withoutPositions(r.ir),
    opt: withoutPositions(r.opt),
    symbols: withoutPositions(r.symbols),
    warnings: r.diagnostics.map((d) => d.code).sort(),
  };
}

describe("reformatting a spec leaves its IR unchanged", () => {
  for (const spec of ZOO) {
    describe(spec.name, () => {
      const reference = compileClean(spec.text, spec.path);
      const expected = meaning(reference);
      const semis = itemEnds(reference.ast!);

      it("random white space, comments and `;` between tokens", () => {
        fc.assert(
          fc.property(fc.integer(), fc.constantFrom(0, 0.3, 0.8), (seed, keepGap) => {
            const text = reformat(spec.text, rng(seed), { semicolonsAfter: semis, keepGap });
            // The re-layout really is the same token stream.
            expect(lex(text).tokens.map((t) => t.image).filter((x) => x !== ";")).toEqual(lex(spec.text).tokens.map((t) => t.image).filter((x) => x !== ";"));
            expect(meaning(compileClean(text, spec.path))).toEqual(expected);
          }),
          { seed: SEED, numRuns: 12 },
        );
      });

      it("minimal layout: one space between tokens, no comments", () => {
        const toks = lex(spec.text).tokens.map((t) => t.image);
        expect(meaning(compileClean(toks.join(" "), spec.path))).toEqual(expected);
      });

      it("one token per line, every declaration followed by `;`", () => {
        const text = lex(spec.text)
          .tokens.map((t) => t.image + (semis.has(t.startOffset + t.image.length) ? "\n;" : ""))
          .join("\n");
        expect(text.split(";").length).toBeGreaterThan(semis.size);
        expect(meaning(compileClean(text, spec.path))).toEqual(expected);
      });

      it("CRLF line endings, a byte-order mark, tabs for indentation, trailing white space", () => {
        for (const text of [
          spec.text.replace(/\n/g, "\r\n"),
          "\uFEFF" + spec.text,
          spec.text.replace(/^ +/gm, (s) => "\t".repeat(Math.ceil(s.length / 2))),
          spec.text.replace(/\n/g, "   \t\n") + "\n\n\n",
          spec.text.replace(/#[^\n]*/g, ""),
        ]) {
          expect(meaning(compileClean(text, spec.path))).toEqual(expected);
        }
      });
    });
  }

  it("positions do move: a re-layout changes `src` but nothing else", () => {
    const spec = ZOO[0]!;
    const a = compileClean(spec.text, spec.path);
    const b = compileClean("\n\n\n" + spec.text, spec.path);
    expect(JSON.stringify(a.ir)).not.toEqual(JSON.stringify(b.ir));
    expect(withoutPositions(a.ir)).toEqual(withoutPositions(b.ir));
  });

  it("a `;` inside an expression is an error (the premise of the generator above)", () => {
    const spec = ZOO.find((s) => s.text.includes("W @ phi"))!;
    const r = compileSource(spec.text.replace("W @ phi", "W ; @ phi"), spec.path);
    expect(r.diagnostics.some((d) => d.severity === "error")).toBe(true);
  });
});

describe("compiling is deterministic", () => {
  it("the same spec twice gives byte-identical IR, symbols and diagnostics", () => {
    for (const spec of ZOO) {
      const a = compileSource(spec.text, spec.path);
      const b = compileSource(spec.text, spec.path);
      expect(JSON.stringify(b.ir), spec.path).toEqual(JSON.stringify(a.ir));
      expect(JSON.stringify(b.opt), spec.path).toEqual(JSON.stringify(a.opt));
      expect(JSON.stringify(b.symbols), spec.path).toEqual(JSON.stringify(a.symbols));
      expect(JSON.stringify(b.diagnostics), spec.path).toEqual(JSON.stringify(a.diagnostics));
    }
  });

  it("does not depend on what was compiled before (no state leaks between compiles)", () => {
    const forward = ZOO.map((s) => JSON.stringify(compileSource(s.text, s.path).opt));
    // Broken input in between exercises parser recovery and checker error paths.
    compileSource("model m ) ( [ {", "junk.rnn");
    compileSource(ZOO[0]!.text.slice(0, 300), "cut.rnn");
    const backward = [...ZOO].reverse().map((s) => JSON.stringify(compileSource(s.text, s.path).opt)).reverse();
    expect(backward).toEqual(forward);
  });

  it("the IR round-trips through JSON unchanged", () => {
    for (const spec of ZOO) {
      const r = compileSource(spec.text, spec.path);
      expect(JSON.parse(JSON.stringify(r.ir))).toEqual(r.ir);
    }
  });
});
