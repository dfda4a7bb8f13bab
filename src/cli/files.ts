// Reading spec files for the CLI with clear errors instead of exceptions.
import { readFileSync, statSync } from "node:fs";
import { UsageError } from "./main.js";

export function readSpecFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`cannot read '${path}': no such file`);
  }
  if (st.isDirectory()) throw new UsageError(`'${path}' is a directory, not a spec file`);
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? "read error"}`);
  }
}
