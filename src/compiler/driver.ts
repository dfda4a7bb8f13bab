// The pipeline as named stages: parse → check (+ elaborate) → IR → verify. Each stage's output
// can be dumped (`rnnc ir --stage ...`) and is what the golden tests pin down.
import type { SpecFile } from "../../grammar/ast.js";
import { parseSpec } from "../../grammar/index.js";
import { MAX_AST_DEPTH, tooDeepNode } from "../../grammar/limits.js";
import { checkSpec, type TypedSymbol } from "./check/checker.js";
import { DiagnosticBag, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { Program } from "./ir/types.js";
import { validateSchema, verifyProgram } from "./ir/verify.js";
import { optimize } from "./passes/index.js";
import { applyOverrides, type Override } from "./overrides.js";

export interface CompileResult {
  file: string;
  source: string;
  diagnostics: Diagnostic[];
  ast?: SpecFile;
  symbols?: TypedSymbol[];
  /** The IR as lowered by the checker. */
  ir?: Program;
  /** The IR after the optimization passes. */
  opt?: Program;
}

export interface CompileOptions {
  /**
   * Validate the lowered IR against its JSON Schema (ajv). On by default; `rnnc check` turns it
   * off because compiling the schema costs more than checking a spec (the hand-written verifier,
   * which checks names and shapes, always runs; the tests validate every zoo IR).
   */
  schema?: boolean;
}

export function compileSource(source: string, file: string, opts: CompileOptions = {}): CompileResult {
  const bag = new DiagnosticBag(file);
  const parsed = parseSpec(source, bag);
  const result: CompileResult = { file, source, diagnostics: [] };
  // The checker's passes recurse over expressions: a generated chain like `a + a + ... + a` with
  // thousands of terms parses in a loop but would overflow them (and JSON.stringify of the AST).
  const deep = parsed.ast && tooDeepNode(parsed.ast);
  if (deep) {
    bag.report("RNN-E005", deep, `expression nested more than ${MAX_AST_DEPTH} levels deep`, {
      label: "nesting limit reached here",
      hints: ["split the expression into let bindings; no model needs this much nesting"],
    });
    parsed.ast = undefined;
  }
  if (parsed.ast) result.ast = parsed.ast;
  // Recovery after a syntax error leaves guesses in the tree; semantic errors about them would
  // only be noise, so checking starts once the file parses.
  if (!bag.hasErrors && parsed.ast) {
    const checked = checkSpec(parsed.ast, bag, file);
    result.symbols = checked.symbols;
    if (checked.program) {
      const schemaErrors = opts.schema === false ? [] : validateSchema(checked.program);
      if (schemaErrors.length) throw new Error(`lowered IR violates the schema: ${schemaErrors.join("; ")}`);
      verifyProgram(checked.program);
      result.ir = checked.program;
      result.opt = optimize(checked.program);
    }
  }
  result.diagnostics = bag.sorted();
  return result;
}

/**
 * Compile with `--set` overrides spliced into the source. Diagnostics point into the edited
 * text, which is returned as `source` so renderers show what was actually checked.
 */
export function compileWithOverrides(source: string, file: string, overrides: Override[]): CompileResult & { overridden: string[] } {
  if (overrides.length === 0) return { ...compileSource(source, file), overridden: [] };
  const first = compileSource(source, file);
  if (!first.ast || first.diagnostics.some((d) => d.severity === "error")) return { ...first, overridden: [] };
  const { text, keys } = applyOverrides(source, first.ast, overrides);
  const r = compileSource(text, `${file} (with --set)`);
  for (const p of [r.ir, r.opt]) {
    if (!p?.train) continue;
    for (const k of keys) if (k in p.train.origin) p.train.origin[k] = "cli";
  }
  return { ...r, overridden: keys };
}
