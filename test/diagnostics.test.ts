// Golden tests for rnnc's diagnostics on a corpus of broken specs: test/golden/err/<name>.rnn.
//
// Each case is a small spec with one realistic mistake (a few have several, to show that the
// parser and the checker recover and report each mistake once). The expected diagnostics are
// written IN the spec as comments, in one of two forms:
//
//  1. A caret line under the offending line (as in rustc's UI tests). The carets mark the columns
//     of the primary span on the nearest line above that is not itself an annotation:
//
//          z' = A @ z + W @ relu(z[M-P:]) + h
//        #              ^^^^^^^^^^^^^^^^^ RNN-E012 error "incompatible shapes" help "M entries"
//
//     `#` comes before the first caret, so a span that starts in column 1 needs form 2.
//
//  2. An explicit line anywhere in the file (lines and columns are 1-based, the end inclusive):
//
//        # expect: RNN-E004 error at 12:1-12:6 "a second 'params' block"
//
// After the code come the severity (error | warning; optional, it then defaults to the code's
// severity in codes.ts, and is asserted either way) and quoted fragments: "..." must occur in the
// message, help "..." in one of the hints, label "..." in the text under the caret, related "..."
// in one of the related notes. A file's diagnostics must be exactly its expectations: same number,
// each matched by code, severity and primary span.
//
// Besides, the whole output of `rnnc check test/golden/err/<name>.rnn` (pretty, no color) is kept
// as a golden file next to the spec, <name>.expected (like stanc3's .expected files), compared
// with toMatchFileSnapshot. After a deliberate change of a message, refresh them with
// `npx vitest run -u test/diagnostics` and review the diff.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compileSource } from "../src/compiler/driver.js";
import { ALL_CODES, CODES, isCode } from "../src/compiler/diagnostics/codes.js";
import type { Diagnostic } from "../src/compiler/diagnostics/diagnostic.js";
import { renderJson, renderPretty, summary } from "../src/compiler/diagnostics/render.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CORPUS = "test/golden/err";
const files = readdirSync(join(ROOT, CORPUS))
  .filter((f) => f.endsWith(".rnn"))
  .sort();

type FragKind = "message" | "help" | "label" | "related";

interface Expectation {
  code: string;
  severity: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  frags: { kind: FragKind; text: string }[];
  /** The annotation's own line, for failure messages. */
  at: number;
}

const CARET = /^(\s*#)(\s*)(\^+)\s+(RNN-[EW]\d{3})\b(.*)$/;
const EXPLICIT = /^\s*#\s*expect:\s*(RNN-[EW]\d{3})\b(?:\s+(error|warning|note)\b)?\s+at\s+(\d+):(\d+)-(\d+):(\d+)(.*)$/;

function parseRest(rest: string, where: string): { severity?: string; frags: Expectation["frags"] } {
  let s = rest.trim();
  let severity: string | undefined;
  const sev = /^(error|warning|note)\b/.exec(s);
  if (sev) {
    severity = sev[1];
    s = s.slice(sev[0].length).trim();
  }
  const frags: Expectation["frags"] = [];
  const re = /\s*(?:(help|label|related)\s+)?"((?:[^"\\]|\\.)*)"/y;
  let m: RegExpExecArray | null;
  while (s.length > 0 && (m = re.exec(s)) !== null) {
    frags.push({ kind: (m[1] as FragKind | undefined) ?? "message", text: m[2]!.replace(/\\(.)/g, "$1") });
    s = s.slice(re.lastIndex);
    re.lastIndex = 0;
  }
  if (s.trim().length > 0) throw new Error(`${where}: cannot read the annotation's rest: ${JSON.stringify(s)}`);
  return { ...(severity ? { severity } : {}), frags };
}

function parseExpectations(text: string, file: string): Expectation[] {
  const lines = text.split("\n");
  const out: Expectation[] = [];
  let target = 0; // the last line that is not an annotation (1-based)
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const where = `${file}:${lineNo}`;
    const caret = CARET.exec(raw);
    const explicit = EXPLICIT.exec(raw);
    if (caret) {
      if (target === 0) throw new Error(`${where}: a caret annotation needs a line above it`);
      const col = caret[1]!.length + caret[2]!.length + 1;
      const code = caret[4]!;
      const rest = parseRest(caret[5]!, where);
      if (!isCode(code)) throw new Error(`${where}: unknown code ${code}`);
      out.push({ code, severity: rest.severity ?? CODES[code].severity, line: target, col, endLine: target, endCol: col + caret[3]!.length - 1, frags: rest.frags, at: lineNo });
      return;
    }
    if (explicit) {
      const code = explicit[1]!;
      if (!isCode(code)) throw new Error(`${where}: unknown code ${code}`);
      const rest = parseRest(explicit[7]!, where);
      out.push({
        code,
        severity: explicit[2] ?? CODES[code].severity,
        line: Number(explicit[3]),
        col: Number(explicit[4]),
        endLine: Number(explicit[5]),
        endCol: Number(explicit[6]),
        frags: rest.frags,
        at: lineNo,
      });
      return;
    }
    // A comment that names a code but is not a well-formed annotation is a typo in the test.
    if (/#.*\bRNN-[EW]\d{3}\b/.test(raw)) throw new Error(`${where}: malformed annotation: ${raw.trim()}`);
    target = lineNo;
  });
  return out;
}

/** A diagnostic written as an annotation (shown when a case fails, ready to paste). */
function asAnnotation(d: Diagnostic): string {
  return `# expect: ${d.code} ${d.severity} at ${d.span.line}:${d.span.col}-${d.span.endLine}:${d.span.endCol} ${JSON.stringify(d.message)}`;
}

/** Exactly what `rnnc check FILE` prints without color. */
function renderCheck(diags: Diagnostic[], source: string, file: string): string {
  let out = "";
  for (const d of diags) out += renderPretty(d, source) + "\n\n";
  const s = summary(diags);
  return out + (s ? `${file}: ${s}\n` : `${file}: ok\n`);
}

/** 1-based line and column of a 0-based offset. */
function position(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

const cases = files.map((f) => {
  const file = `${CORPUS}/${f}`;
  const source = readFileSync(join(ROOT, file), "utf8");
  return { name: f.replace(/\.rnn$/, ""), file, source };
});

describe("diagnostics corpus (test/golden/err)", () => {
  it("has at least 50 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  describe.each(cases)("$name", ({ name, file, source }) => {
    const expectations = parseExpectations(source, file);
    const result = compileSource(source, file);
    const diags = result.diagnostics;

    it("declares its expected diagnostics", () => {
      expect(expectations.length, `${file} has no annotations`).toBeGreaterThan(0);
    });

    it("reports exactly the expected codes, severities and primary spans", () => {
      const unmatched = [...diags];
      const missing: string[] = [];
      for (const x of expectations) {
        const i = unmatched.findIndex(
          (d) => d.code === x.code && d.severity === x.severity && d.span.line === x.line && d.span.col === x.col && d.span.endLine === x.endLine && d.span.endCol === x.endCol,
        );
        if (i < 0) missing.push(`line ${x.at}: ${x.code} ${x.severity} at ${x.line}:${x.col}-${x.endLine}:${x.endCol}`);
        else unmatched.splice(i, 1);
      }
      const report = [
        ...missing.map((m) => `expected but not reported: ${m}`),
        ...unmatched.map((d) => `reported but not expected: ${asAnnotation(d)}`),
      ];
      expect(report, `${file}:\n${report.join("\n")}`).toEqual([]);
    });

    it("has the expected messages, labels, hints and related notes", () => {
      for (const x of expectations) {
        const d = diags.find((d) => d.code === x.code && d.span.line === x.line && d.span.col === x.col && d.span.endCol === x.endCol);
        if (!d) continue; // reported by the test above
        for (const f of x.frags) {
          const texts = f.kind === "message" ? [d.message] : f.kind === "help" ? d.hints : f.kind === "label" ? [d.label ?? ""] : d.related.map((r) => r.message);
          expect(texts.some((t) => t.includes(f.text)), `${file}:${x.at}: no ${f.kind} of ${x.code} contains ${JSON.stringify(f.text)} (has ${JSON.stringify(texts)})`).toBe(true);
        }
      }
    });

    it("gives every diagnostic a readable message and consistent spans", () => {
      for (const d of diags) {
        const texts = [d.message, d.label ?? "", ...d.hints, ...d.related.map((r) => r.message)];
        for (const t of texts) expect(t, `${file}: ${d.code}`).not.toMatch(/undefined|NaN|\[object |<missing>|<error>|\bnull\b/);
        expect(d.message.trim().length).toBeGreaterThan(0);
        for (const h of d.hints) expect(h.trim().length).toBeGreaterThan(0);
        // line/col agree with the offsets, for the primary span and every related one
        for (const sp of [d.span, ...d.related.map((r) => r.span)]) {
          expect(position(source, sp.start), `${file}: ${d.code} start`).toEqual({ line: sp.line, col: sp.col });
          if (sp.end > sp.start) expect(position(source, sp.end - 1), `${file}: ${d.code} end`).toEqual({ line: sp.endLine, col: sp.endCol });
          expect(sp.end).toBeGreaterThanOrEqual(sp.start);
          expect(sp.end).toBeLessThanOrEqual(source.length);
        }
        // the JSON renderer carries the same span
        const j = renderJson(d) as { span: { start: number[]; end: number[] }; code: string };
        expect(j.code).toBe(d.code);
        expect(j.span.start).toEqual([d.span.line, d.span.col]);
        expect(j.span.end).toEqual([d.span.endLine, d.span.endCol]);
      }
    });

    it("prints the golden output of `rnnc check`", async () => {
      await expect(renderCheck(diags, source, file)).toMatchFileSnapshot(join(ROOT, CORPUS, `${name}.expected`));
    });
  });

  it("covers every diagnostic code in codes.ts", () => {
    const expected = new Set(cases.flatMap((c) => parseExpectations(c.source, c.file).map((x) => x.code)));
    const uncovered = ALL_CODES.filter((c) => !expected.has(c));
    expect(uncovered, `codes without a case in ${CORPUS}: add a broken spec for each`).toEqual([]);
  });

  it("has no expected-file without its spec", () => {
    const specs = new Set(files.map((f) => f.replace(/\.rnn$/, "")));
    const orphans = readdirSync(join(ROOT, CORPUS))
      .filter((f) => f.endsWith(".expected"))
      .map((f) => f.replace(/\.expected$/, ""))
      .filter((n) => !specs.has(n));
    expect(orphans).toEqual([]);
  });
});

describe("the zoo", () => {
  const zoo = readdirSync(join(ROOT, "specs")).filter((f) => f.endsWith(".rnn"));
  it.each(zoo)("specs/%s has no diagnostics", (f) => {
    const source = readFileSync(join(ROOT, "specs", f), "utf8");
    const r = compileSource(source, `specs/${f}`);
    expect(r.diagnostics.map((d) => asAnnotation(d))).toEqual([]);
  });
});
