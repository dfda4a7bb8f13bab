// Trains the runs of a sweep, each as a child `rnnc train` process (the same node and rnnc as this
// one), so a crash or a kill of one run cannot take down the others. A run with a checkpoint is
// continued (`rnnc train --resume DIR`), so a killed run loses at most its current epoch. A local
// sweep runs a pool of such workers; a Slurm array task runs one.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { updateRun, type IndexedRun, type SweepIndex } from "./index-file.js";
import { readRunMeasures } from "./summary.js";

/** The log of the `rnnc train` processes of a run, in its run directory. */
export const RUN_LOG = "train.log";

export type RunnerEvent =
  | { type: "start"; run: IndexedRun; resume: boolean; attempt: number; pid: number | undefined }
  | { type: "epoch"; run: IndexedRun; epoch: number; loss: number }
  | { type: "end"; run: IndexedRun; status: "done" | "failed" | "interrupted"; error?: string; seconds: number; willRetry: boolean };

export interface RunnerContext {
  /** Absolute path of the sweep directory. */
  sweepDir: string;
  /** The spec, as the runs get it. */
  spec: string;
  /** Options every run gets (--set, --epochs, --backend, ...), before its grid values. */
  common: string[];
  /** How to start rnnc: [node, ...node options, rnnc's entry script]. */
  command: string[];
  /** Retries of a failed run within this sweep (each continues from its checkpoint). */
  retries: number;
  onEvent: (e: RunnerEvent) => void;
  /** Called under the index lock after a run ends (writes the summary). */
  afterUpdate: (ix: SweepIndex) => void;
  /** Set by stop(): no new runs start. */
  stopping: boolean;
  children: Set<ChildProcess>;
}

/** This process's node and entry script, for the runs and for Slurm scripts. */
export function rnncCommand(): string[] {
  return [process.execPath, ...process.execArgv, process.argv[1]!];
}

/** The argument list of one run's `rnnc train`. */
export function trainArgs(ctx: Pick<RunnerContext, "spec" | "common">, run: IndexedRun, dir: string, resume: boolean): string[] {
  return [
    "train",
    ctx.spec,
    resume ? "--resume" : "--out",
    dir,
    "--seed",
    String(run.seed),
    ...ctx.common,
    ...Object.entries(run.settings).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
    "--json",
    "--no-progress",
    "--no-figures",
  ];
}

/** The end of a failed run's error output: its last lines, without blank ones. */
function errorTail(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  const tail = lines.slice(-12).join("\n");
  return tail.length > 2000 ? "..." + tail.slice(-2000) : tail;
}

/** Temporary files of atomic writes (`.params.npz.PID.RANDOM.tmp`) that a killed run left behind. */
const STALE_TEMP = /^\..+\.\d+\.[a-z0-9]+\.tmp$/;

function removeStaleTemps(dir: string): void {
  for (const d of [dir, join(dir, "checkpoints")]) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (STALE_TEMP.test(f)) rmSync(join(d, f), { force: true });
  }
}

/** Trains one run to its end (with retries); returns how it ended. */
export async function trainOne(ctx: RunnerContext, run: IndexedRun): Promise<"done" | "failed" | "interrupted"> {
  for (let attempt = 1; ; attempt++) {
    if (ctx.stopping) return "interrupted";
    const dir = join(ctx.sweepDir, run.dir);
    const resume = existsSync(join(dir, "checkpoints", "last.json"));
    // Without a checkpoint nothing is worth keeping (a run killed while starting): start afresh.
    if (!resume) rmSync(dir, { recursive: true, force: true });
    else removeStaleTemps(dir);
    mkdirSync(dir, { recursive: true });
    const args = trainArgs(ctx, run, dir, resume);
    const log = openSync(join(dir, RUN_LOG), "a");
    writeSync(log, `# rnnc sweep, attempt ${attempt}: rnnc ${args.join(" ")}\n`);
    const started = Date.now();
    const child = spawn(ctx.command[0]!, [...ctx.command.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    ctx.children.add(child);
    ctx.onEvent({ type: "start", run, resume, attempt, pid: child.pid });
    let stderr = "";
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("error", (e) => {
        stderr += `cannot start rnnc train: ${e.message}\n`;
      });
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      writeSync(log, line + "\n");
      if (!line.startsWith("{")) return;
      try {
        const e = JSON.parse(line) as { type?: string; epoch?: number; loss?: number };
        if (e.type === "epoch" && typeof e.epoch === "number" && typeof e.loss === "number") ctx.onEvent({ type: "epoch", run, epoch: e.epoch, loss: e.loss });
      } catch {
        // not an event
      }
    });
    child.stderr!.on("data", (b: Buffer) => {
      writeSync(log, b);
      stderr = (stderr + b.toString()).slice(-16_384);
    });
    await updateRun(ctx.sweepDir, run.index, (r) => {
      r.status = "running";
      r.attempts = (r.attempts ?? 0) + 1;
      r.startedAt = new Date(started).toISOString();
      if (child.pid !== undefined) r.pid = child.pid;
      r.host = hostname();
      delete r.error;
      delete r.exitCode;
      delete r.finishedAt;
      delete r.seconds;
    });
    const { code, signal } = await closed;
    ctx.children.delete(child);
    closeSync(log);
    const seconds = (Date.now() - started) / 1000;
    const finish = (r: IndexedRun) => {
      r.exitCode = code;
      r.finishedAt = new Date().toISOString();
      r.seconds = Math.round(seconds * 10) / 10;
      delete r.pid;
    };
    if (code === 0) {
      const measures = readRunMeasures(dir);
      await updateRun(ctx.sweepDir, run.index, (r) => {
        finish(r);
        r.status = "done";
        if (measures) r.measures = measures;
      }, ctx.afterUpdate);
      ctx.onEvent({ type: "end", run, status: "done", seconds, willRetry: false });
      return "done";
    }
    // Stopped by Ctrl-C (this sweep's or the run's own): it wrote a checkpoint; --resume continues it.
    if (code === 130 || (ctx.stopping && (signal === "SIGINT" || signal === "SIGTERM"))) {
      await updateRun(ctx.sweepDir, run.index, (r) => {
        finish(r);
        r.status = "pending";
        r.error = "interrupted; rnnc sweep --resume continues it from its checkpoint";
      }, ctx.afterUpdate);
      ctx.onEvent({ type: "end", run, status: "interrupted", seconds, willRetry: false });
      return "interrupted";
    }
    const error = signal ? `killed by ${signal}${stderr.trim() ? `\n${errorTail(stderr)}` : ""}` : errorTail(stderr) || `rnnc train exited with code ${code}`;
    const willRetry = attempt <= ctx.retries && !ctx.stopping;
    await updateRun(ctx.sweepDir, run.index, (r) => {
      finish(r);
      r.status = "failed";
      r.error = error;
    }, ctx.afterUpdate);
    ctx.onEvent({ type: "end", run, status: "failed", error, seconds, willRetry });
    if (!willRetry) return "failed";
  }
}

/** Trains `runs` with `workers` runs at a time; returns how each ended, by index. */
export async function runPool(ctx: RunnerContext, runs: IndexedRun[], workers: number): Promise<Map<number, "done" | "failed" | "interrupted">> {
  const outcomes = new Map<number, "done" | "failed" | "interrupted">();
  let next = 0;
  const worker = async () => {
    while (!ctx.stopping && next < runs.length) {
      const run = runs[next++]!;
      outcomes.set(run.index, await trainOne(ctx, run));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, runs.length)) }, worker));
  return outcomes;
}

/** Stops the sweep: no new runs, and the running ones get `signal` (SIGINT: they checkpoint and stop). */
export function stopRuns(ctx: RunnerContext, signal: NodeJS.Signals): void {
  ctx.stopping = true;
  for (const c of ctx.children) {
    try {
      c.kill(signal);
    } catch {
      // already gone
    }
  }
}
