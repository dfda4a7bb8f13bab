// `rnnc report RUN_DIR`: one self-contained HTML file with the run's figures, measures, analysis,
// configuration and spec. The plotting libraries are loaded only here (and at the end of training).
import type { Command } from "commander";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { EXIT } from "./main.js";

interface ReportFlags {
  out?: string;
  refresh?: boolean;
  spec?: string;
  data?: string;
  test?: string;
}

export function registerReport(program: Command, setCode: (c: number) => void): void {
  program
    .command("report")
    .description("write an HTML report of a run: figures (interactive), measures, analysis, configuration and spec")
    .argument("<run-dir>", "a run directory written by rnnc train")
    .option("--out <file.html>", "where to write the report (default RUN_DIR/report.html)")
    .option("--refresh", "recompute the figure data and redraw every figure")
    .option("--spec <file>", "the spec, if it moved since training (config.json records its old path)")
    .option("--data <file>", "training data, when figures must be recomputed and the run used --data")
    .option("--test <file>", "test data, when figures must be recomputed and the run used --test")
    .action(async (dir: string, flags: ReportFlags) => {
      const { writeReport } = await import("../runtime/report/report.js");
      const r = await writeReport(dir, {
        ...(flags.out ? { out: flags.out } : {}),
        ...(flags.refresh ? { refresh: true } : {}),
        ...(flags.spec ? { spec: flags.spec } : {}),
        ...(flags.data ? { dataFile: flags.data } : {}),
        ...(flags.test ? { testFile: flags.test } : {}),
        say: (line) => process.stderr.write(line + "\n"),
      });
      for (const w of r.warnings) process.stderr.write(`rnnc: warning: ${w}\n`);
      process.stdout.write(`rnnc: wrote ${r.path} (${r.figures.length} figures); open it in a browser: ${pathToFileURL(resolve(r.path)).href}\n`);
      setCode(EXIT.ok);
    });
}
