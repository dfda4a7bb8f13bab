#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist", "src", "cli", "main.js");
if (!existsSync(entry)) {
  process.stderr.write("rnnc: the compiled CLI is missing; run `npm run build` in " + root + "\n");
  process.exit(2);
}
let main;
try {
  ({ main } = await import(entry));
} catch (e) {
  process.stderr.write(`rnnc: internal compiler error: the compiled CLI failed to load (${e && e.message ? e.message.split("\n")[0] : e})\nthis is a bug in rnnc, or an incomplete build: run \`npm run build\` in ${root}\n`);
  process.exit(101);
}
process.exitCode = await main(process.argv);
