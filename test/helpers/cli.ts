// Runs the rnnc command line end to end, as a user does: `node bin/rnnc.js ARGS`, in a child
// process. The CLI is built into a private directory first (esbuild, well under a second), so
// the test neither waits for a full `tsc` build nor races other builds of the shared dist/;
// bin/rnnc.js is copied next to it and runs unchanged. Without esbuild, it falls back to running
// the TypeScript sources through tsx (test/helpers/rnnc-src.ts).
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./specs.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  /** How the CLI runs (for messages). */
  how: string;
  run(args: string[], opts?: { env?: Record<string, string>; input?: string }): Promise<CliResult>;
  dispose(): void;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** A private build of grammar/ and src/ with esbuild (transpile only, one file per file as tsc does). */
async function buildPrivate(): Promise<string | undefined> {
  // esbuild comes with tsx and vitest; typed loosely so the type check does not depend on it.
  let esbuild: { build(options: Record<string, unknown>): Promise<unknown> };
  try {
    const name = "esbuild";
    esbuild = (await import(name)) as typeof esbuild;
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), "rnnc-cli-test-"));
  await esbuild.build({
    entryPoints: [...tsFiles(join(ROOT, "grammar")), ...tsFiles(join(ROOT, "src"))],
    outdir: join(dir, "dist"),
    outbase: ROOT,
    format: "esm",
    platform: "node",
    target: "node20",
    bundle: false,
    logLevel: "silent",
  });
  mkdirSync(join(dir, "bin"));
  copyFileSync(join(ROOT, "bin", "rnnc.js"), join(dir, "bin", "rnnc.js"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "rnnc-cli-test", type: "module", private: true }));
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

export async function makeCli(): Promise<Cli> {
  const built = process.env["RNNC_TEST_USE_TSX"] ? undefined : await buildPrivate().catch(() => undefined);
  const [argv0, how]: [string[], string] = built
    ? [[join(built, "bin", "rnnc.js")], `node ${join(built, "bin", "rnnc.js")} (bin/rnnc.js over a private esbuild build)`]
    : [["--import", "tsx", join(ROOT, "test", "helpers", "rnnc-src.ts")], "node --import tsx test/helpers/rnnc-src.ts"];
  return {
    how,
    run(args, opts = {}) {
      return new Promise((resolve) => {
        const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
        // Nothing from the test runner's environment may change what the CLI prints.
        delete env["RNNC_DEBUG"];
        if (!opts.env?.["RNNC_FAULT_INJECT"]) delete env["RNNC_FAULT_INJECT"];
        delete env["NODE_OPTIONS"];
        const child = execFile(process.execPath, [...argv0, ...args], { cwd: ROOT, env, maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
          const code = err && typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : err ? null : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
        if (opts.input !== undefined) child.stdin?.end(opts.input);
        else child.stdin?.end();
      });
    },
    dispose() {
      if (built) rmSync(built, { recursive: true, force: true });
    },
  };
}

/** A Node stack trace line (`    at f (file.js:1:2)`): the CLI must never print one. */
export const STACK_LINE = /^\s+at .+[(:]\d+|^\s+at file:|node:internal/m;
