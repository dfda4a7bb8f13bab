// `rnnc ir SPEC --stage ast|typed|ir|opt`: print one stage of the pipeline.
import type { Command } from "commander";
import { compileSource } from "../compiler/driver.js";
import { renderPretty } from "../compiler/diagnostics/render.js";
import { printProgram } from "../compiler/ir/print.js";
import { readSpecFile } from "./files.js";
import { EXIT, UsageError } from "./main.js";
import { FusedKernel } from "../compiler/backends/fused/kernel.js";
import type { Program } from "../compiler/ir/types.js";
import { bindDims, DimBindingError } from "../compiler/passes/index.js";

/** The fused tier's generated code (dims baked in; data-bound dims need built-in data). */
function kernelSource(p: Program, spec: string): string {
  if (!p.train) throw new UsageError(`${spec}: the kernel stage needs a train block`);
  let bound: Program;
  try {
    bound = bindDims(p, {});
  } catch (e) {
    if (e instanceof DimBindingError) throw new UsageError(`${spec}: ${e.message}; the kernel is generated for concrete dims`);
    throw e;
  }
  return new FusedKernel(bound, bound.train!.batchSize).source();
}

const STAGES = ["ast", "typed", "ir", "opt", "kernel"];

export function registerIr(program: Command, setCode: (c: number) => void): void {
  program
    .command("ir")
    .description("print a stage of the compiler: ast, typed (names with shapes), ir, opt (after passes), kernel (the fused tier's generated code)")
    .argument("<spec>", ".rnn spec file")
    .option("--stage <stage>", STAGES.join(" | "), "ir")
    .option("--text", "print the IR as compact text instead of JSON")
    .action((spec: string, opts: { stage: string; text?: boolean }) => {
      if (!STAGES.includes(opts.stage)) throw new UsageError(`unknown --stage '${opts.stage}' (${STAGES.join(", ")})`);
      const text = readSpecFile(spec);
      const r = compileSource(text, spec);
      const errors = r.diagnostics.filter((d) => d.severity === "error");
      if (opts.stage === "ast" && r.ast) {
        process.stdout.write(JSON.stringify(r.ast, null, 2) + "\n");
      } else if (errors.length > 0) {
        for (const d of errors) process.stderr.write(renderPretty(d, text) + "\n\n");
        process.stderr.write(`${spec}: cannot produce the ${opts.stage} stage because of the errors above\n`);
        setCode(EXIT.userError);
        return;
      } else if (opts.stage === "kernel") {
        process.stdout.write(kernelSource(r.opt!, spec) + "\n");
      } else if (opts.stage === "typed") {
        process.stdout.write(JSON.stringify(r.symbols, null, 2) + "\n");
      } else {
        const p = opts.stage === "opt" ? r.opt! : r.ir!;
        process.stdout.write((opts.text ? printProgram(p) : JSON.stringify(p, null, 2)) + "\n");
      }
      setCode(errors.length ? EXIT.userError : EXIT.ok);
    });
}
