// `rnnc check FILE...`: 0 when every file is clean (warnings allowed), 1 on any error.
import type { Command } from "commander";
import { compileSource } from "../compiler/driver.js";
import { renderJson, renderPretty, summary } from "../compiler/diagnostics/render.js";
import { readSpecFile } from "./files.js";
import { EXIT, UsageError } from "./main.js";

export function registerCheck(program: Command, setCode: (c: number) => void): void {
  program
    .command("check")
    .description("check specs for errors (exit 0: clean, 1: errors, 2: usage, 101: bug in rnnc)")
    .argument("<files...>", ".rnn spec files")
    .option("--format <format>", "pretty | json", "pretty")
    .option("--color", "color the output (default: when stdout is a terminal)")
    .option("--no-color", "never color")
    .action((files: string[], opts: { format: string; color?: boolean }) => {
      if (!["pretty", "json"].includes(opts.format)) throw new UsageError(`unknown --format '${opts.format}' (pretty or json)`);
      const color = opts.color ?? Boolean(process.stdout.isTTY);
      const sources = files.map((f) => ({ f, text: readSpecFile(f) }));
      const json: unknown[] = [];
      let errors = false;
      for (const { f, text } of sources) {
        // Test hook (test/cli.test.ts): RNNC_FAULT_INJECT=ice fails here as a bug in the compiler
        // would, to pin down exit code 101 and its one-line message. It has no other effect.
        if (process.env["RNNC_FAULT_INJECT"] === "ice") throw new Error(`fault injected while checking ${f} (RNNC_FAULT_INJECT=ice)`);
        const r = compileSource(text, f, { schema: false });
        if (r.diagnostics.some((d) => d.severity === "error")) errors = true;
        if (opts.format === "json") {
          json.push({ file: f, ok: !r.diagnostics.some((d) => d.severity === "error"), diagnostics: r.diagnostics.map(renderJson) });
          continue;
        }
        for (const d of r.diagnostics) process.stdout.write(renderPretty(d, text, { color }) + "\n\n");
        const s = summary(r.diagnostics);
        process.stdout.write(s ? `${f}: ${s}\n` : `${f}: ok\n`);
      }
      if (opts.format === "json") process.stdout.write(JSON.stringify(json, null, 2) + "\n");
      setCode(errors ? EXIT.userError : EXIT.ok);
    });
}
