// Shared by train/generate/eval: compile a spec (with --set overrides), print its diagnostics.
import { compileWithOverrides } from "../compiler/driver.js";
import { renderPretty } from "../compiler/diagnostics/render.js";
import type { Program } from "../compiler/ir/types.js";
import { OverrideError, parseOverride } from "../compiler/overrides.js";
import type { BackendChoice } from "../runtime/backend/select.js";
import { readSpecFile } from "./files.js";
import { UsageError } from "./main.js";

export function compileForRun(spec: string, sets: string[]): { program?: Program; overridden: string[] } {
  const text = readSpecFile(spec);
  let overrides;
  try {
    overrides = sets.map(parseOverride);
  } catch (e) {
    if (e instanceof OverrideError) throw new UsageError(e.message);
    throw e;
  }
  let r;
  try {
    r = compileWithOverrides(text, spec, overrides);
  } catch (e) {
    if (e instanceof OverrideError) throw new UsageError(e.message);
    throw e;
  }
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  const color = Boolean(process.stderr.isTTY);
  for (const d of errors) process.stderr.write(renderPretty(d, r.source, { color }) + "\n\n");
  if (errors.length) {
    process.stderr.write(`${spec}: ${errors.length} error${errors.length === 1 ? "" : "s"}; nothing was run\n`);
    return { overridden: r.overridden };
  }
  return { program: r.opt!, overridden: r.overridden };
}

const BACKENDS = ["auto", "node-gpu", "node", "wasm", "cpu"];

export function parseBackend(v: string): BackendChoice {
  if (!BACKENDS.includes(v)) throw new UsageError(`unknown --backend '${v}' (${BACKENDS.join(", ")})`);
  return v as BackendChoice;
}
