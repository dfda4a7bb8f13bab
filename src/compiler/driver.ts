// The pipeline as named stages: parse → check (+ elaborate) → IR → verify. Each stage's output
// can be dumped (`rnnc ir --stage ...`) and is what the golden tests pin down.
import type { SpecFile } from "../../grammar/ast.js";
import { parseSpec } from "../../grammar/index.js";
import { checkSpec, type TypedSymbol } from "./check/checker.js";
import { DiagnosticBag, type Diagnostic } from "./diagnostics/diagnostic.js";
import type { Program } from "./ir/types.js";
import { validateSchema, verifyProgram } from "./ir/verify.js";
import { optimize } from "./passes/index.js";

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

export function compileSource(source: string, file: string): CompileResult {
  const bag = new DiagnosticBag(file);
  const parsed = parseSpec(source, bag);
  const result: CompileResult = { file, source, diagnostics: [] };
  if (parsed.ast) result.ast = parsed.ast;
  // Recovery after a syntax error leaves guesses in the tree; semantic errors about them would
  // only be noise, so checking starts once the file parses.
  if (!bag.hasErrors && parsed.ast) {
    const checked = checkSpec(parsed.ast, bag, file);
    result.symbols = checked.symbols;
    if (checked.program) {
      const schemaErrors = validateSchema(checked.program);
      if (schemaErrors.length) throw new Error(`lowered IR violates the schema: ${schemaErrors.join("; ")}`);
      verifyProgram(checked.program);
      result.ir = checked.program;
      result.opt = optimize(checked.program);
    }
  }
  result.diagnostics = bag.sorted();
  return result;
}
