// `rnnc explain CODE`: the long explanation of a diagnostic code.
import type { Command } from "commander";
import { ALL_CODES, CODES, isCode } from "../compiler/diagnostics/codes.js";
import { closest } from "../compiler/check/suggest.js";
import { EXIT, UsageError } from "./main.js";

export function registerExplain(program: Command, setCode: (c: number) => void): void {
  program
    .command("explain")
    .description("explain a diagnostic code, e.g. rnnc explain RNN-E012 (no code: list all)")
    .argument("[code]", "diagnostic code")
    .action((code: string | undefined) => {
      if (!code) {
        for (const c of ALL_CODES) process.stdout.write(`${c}  ${CODES[c].title}\n`);
        setCode(EXIT.ok);
        return;
      }
      const norm = code.toUpperCase().startsWith("RNN-") ? code.toUpperCase() : `RNN-${code.toUpperCase()}`;
      if (!isCode(norm)) {
        const near = closest(norm, ALL_CODES);
        throw new UsageError(`unknown diagnostic code '${code}'${near ? `; did you mean ${near}?` : ""} (run \`rnnc explain\` for the list)`);
      }
      const info = CODES[norm];
      process.stdout.write(`${norm} (${info.severity}): ${info.title}\n\n${info.explanation}\n`);
      setCode(EXIT.ok);
    });
}
