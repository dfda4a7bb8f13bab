// The rnnc command line. Each command lives in its own file; this one only wires them up and
// turns any unexpected exception into the "this is a bug in rnnc" exit (101), never a stack trace.
import { Command, CommanderError } from "commander";
import { registerCheck } from "./check.js";
import { registerExplain } from "./explain.js";
import { registerIr } from "./ir.js";
import { registerTrain } from "./train.js";
import { registerGenerate } from "./generate.js";
import { registerReport } from "./report.js";
import { registerAnalyze } from "./analyze.js";
import { registerSweep } from "./sweep.js";

export const EXIT = { ok: 0, userError: 1, usage: 2, internal: 101 } as const;

export class UsageError extends Error {}

/** Error classes (by name, so this file needs no runtime imports) that mean bad input, not a bug. */
const USER_ERRORS = new Set(["DataError", "ParamsMismatchError", "CheckpointError", "BackendUnavailableError", "DimBindingError", "OverrideError", "AnalysisError", "SweepError"]);


/** The command tree: every command with its options (scripts/docs.ts writes docs/commands/ from it). */
export function createProgram(setCode: (c: number) => void): Command {
  const program = new Command();
  program
    .name("rnnc")
    .description("Compile and train recurrent models of dynamical systems described in .rnn specs")
    .version("0.1.0")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .showHelpAfterError("(run `rnnc --help` for usage)");
  registerCheck(program, setCode);
  registerIr(program, setCode);
  registerExplain(program, setCode);
  registerTrain(program, setCode);
  registerGenerate(program, setCode);
  registerReport(program, setCode);
  registerAnalyze(program, setCode);
  registerSweep(program, setCode);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  // `rnnc check ... | head` closes the pipe early: that is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
  let code: number = EXIT.ok;
  const program = createProgram((c) => {
    code = Math.max(code, c);
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`rnnc: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof Error && USER_ERRORS.has(e.name)) {
      // Bad data files, mismatched parameters, unusable checkpoints or backends: the user's to fix.
      process.stderr.write(`rnnc: ${e.message}\n`);
      return EXIT.userError;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`rnnc: internal compiler error: ${msg.split("\n")[0]}\nthis is a bug in rnnc; please report it with the spec that triggered it\n`);
    if (process.env["RNNC_DEBUG"]) process.stderr.write(String(e instanceof Error ? e.stack : e) + "\n");
    return EXIT.internal;
  }
}
