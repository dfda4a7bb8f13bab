// Trains the runs of a sweep, each as a child `rnnc train` process (the same node and rnnc as this
// one), so a crash or a kill of one run cannot take down the others. A run with a checkpoint is
// continued (`rnnc train --resume DIR`), so a killed run loses at most its current epoch. A local
// sweep runs a pool of such workers; a Slurm array task runs one.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join, relative } from "node:path";
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

type Outcome = "done" | "failed" | "interrupted";

/** Where an ensemble's manifest goes: the group is named after its first run. */
function manifestDir(ctx: RunnerContext, group: IndexedRun[]): string {
  return join(ctx.sweepDir, "ensembles", `group-${group[0]!.index}`);
}

/**
 * The child's arguments for a group of runs of one grid point: one run trains alone; several
 * train as one ensemble (`rnnc train --resume DIR` of a manifest listing their directories and
 * seeds: each member continues from its checkpoint or starts afresh).
 */
function groupArgs(ctx: RunnerContext, group: IndexedRun[], resume: boolean[]): string[] {
  const run = group[0]!;
  if (group.length === 1) return trainArgs(ctx, run, join(ctx.sweepDir, run.dir), resume[0]!);
  const dir = manifestDir(ctx, group);
  mkdirSync(dir, { recursive: true });
  const manifest = {
    spec: ctx.spec,
    members: group.map((r) => ({ dir: relative(dir, join(ctx.sweepDir, r.dir)), seed: r.seed, set: Object.entries(r.settings).map(([k, v]) => `${k}=${v}`) })),
  };
  writeFileSync(join(dir, ENSEMBLE_MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  return [
    "train",
    ctx.spec,
    "--resume",
    dir,
    ...ctx.common,
    "--json",
    "--no-progress",
    "--no-figures",
  ];
}

/** `rnnc train --resume DIR` reads an ensemble's members from this file in DIR (cli/train-run.ts). */
const ENSEMBLE_MANIFEST = "ensemble.json";

/**
 * Trains a group of runs to their end (with retries of the failed ones), as one child process:
 * alone, or as an ensemble when the group has several runs (one grid point, different seeds).
 */
export async function trainGroup(ctx: RunnerContext, group: IndexedRun[]): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  let pending = group;
  for (let attempt = 1; ; attempt++) {
    if (ctx.stopping) {
      for (const r of pending) outcomes.set(r.index, "interrupted");
      return outcomes;
    }
    const dirs = pending.map((r) => join(ctx.sweepDir, r.dir));
    const resume = dirs.map((d) => existsSync(join(d, "checkpoints", "last.json")));
    dirs.forEach((d, i) => {
      // Without a checkpoint nothing is worth keeping (a run killed while starting): start afresh.
      if (!resume[i]) rmSync(d, { recursive: true, force: true });
      else removeStaleTemps(d);
      mkdirSync(d, { recursive: true });
    });
    const args = groupArgs(ctx, pending, resume);
    const logs = dirs.map((d) => openSync(join(d, RUN_LOG), "a"));
    const toAll = (text: string | Buffer) => logs.forEach((l) => writeSync(l, typeof text === "string" ? Buffer.from(text) : text));
    toAll(`# rnnc sweep, attempt ${attempt}${pending.length > 1 ? `, ensemble of ${pending.length}` : ""}: rnnc ${args.join(" ")}\n`);
    const started = Date.now();
    const child = spawn(ctx.command[0]!, [...ctx.command.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    ctx.children.add(child);
    pending.forEach((run, i) => ctx.onEvent({ type: "start", run, resume: resume[i]!, attempt, pid: child.pid }));
    let stderr = "";
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on("error", (e) => {
        stderr += `cannot start rnnc train: ${e.message}\n`;
      });
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
    // an ensemble's JSON events name their member: each goes to that run's log
    const memberEnds = new Map<number, { status: string; error?: string }>();
    createInterface({ input: child.stdout! }).on("line", (line) => {
      type Event = { type?: string; epoch?: number; loss?: number; member?: number; status?: string; error?: string };
      let e: Event | null = null;
      if (line.startsWith("{")) {
        try {
          e = JSON.parse(line) as Event;
        } catch {
          // not an event
        }
      }
      const k = pending.length > 1 ? e?.member : 0;
      if (k === undefined || !logs[k]) toAll(line + "\n");
      else writeSync(logs[k]!, line + "\n");
      if (!e || k === undefined || !pending[k]) return;
      if (e.type === "epoch" && typeof e.epoch === "number" && typeof e.loss === "number") ctx.onEvent({ type: "epoch", run: pending[k]!, epoch: e.epoch, loss: e.loss });
      if (e.type === "member-end" && typeof e.status === "string") memberEnds.set(k, { status: e.status, ...(e.error ? { error: e.error } : {}) });
    });
    child.stderr!.on("data", (b: Buffer) => {
      toAll(b);
      stderr = (stderr + b.toString()).slice(-16_384);
    });
    for (const run of pending) {
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
    }
    const { code, signal } = await closed;
    ctx.children.delete(child);
    logs.forEach((l) => closeSync(l));
    const seconds = (Date.now() - started) / 1000;
    const finish = (r: IndexedRun) => {
      r.exitCode = code;
      r.finishedAt = new Date().toISOString();
      r.seconds = Math.round(seconds * 10) / 10;
      delete r.pid;
    };
    const stopped = code === 130 || (ctx.stopping && (signal === "SIGINT" || signal === "SIGTERM"));
    const crash = signal ? `killed by ${signal}${stderr.trim() ? `\n${errorTail(stderr)}` : ""}` : errorTail(stderr) || `rnnc train exited with code ${code}`;
    const failedNow: IndexedRun[] = [];
    for (const [k, run] of pending.entries()) {
      // a member's own report wins; else the exit code speaks for the whole group
      const own = pending.length > 1 ? memberEnds.get(k) : undefined;
      const status: Outcome = own ? (own.status === "done" ? "done" : own.status === "stopped" ? "interrupted" : "failed") : code === 0 ? "done" : stopped ? "interrupted" : "failed";
      const dir = dirs[k]!;
      if (status === "done") {
        const measures = readRunMeasures(dir);
        await updateRun(ctx.sweepDir, run.index, (r) => {
          finish(r);
          r.status = "done";
          if (measures) r.measures = measures;
        }, ctx.afterUpdate);
        ctx.onEvent({ type: "end", run, status: "done", seconds, willRetry: false });
        outcomes.set(run.index, "done");
      } else if (status === "interrupted") {
        // Stopped by Ctrl-C (this sweep's or the run's own): it wrote a checkpoint; --resume continues it.
        await updateRun(ctx.sweepDir, run.index, (r) => {
          finish(r);
          r.status = "pending";
          r.error = "interrupted; rnnc sweep --resume continues it from its checkpoint";
        }, ctx.afterUpdate);
        ctx.onEvent({ type: "end", run, status: "interrupted", seconds, willRetry: false });
        outcomes.set(run.index, "interrupted");
      } else {
        const error = own?.error ?? crash;
        const willRetry = attempt <= ctx.retries && !ctx.stopping;
        await updateRun(ctx.sweepDir, run.index, (r) => {
          finish(r);
          r.status = "failed";
          r.error = error;
        }, ctx.afterUpdate);
        ctx.onEvent({ type: "end", run, status: "failed", error, seconds, willRetry });
        outcomes.set(run.index, "failed");
        if (willRetry) failedNow.push(run);
      }
    }
    if (failedNow.length === 0) return outcomes;
    pending = failedNow;
  }
}

/** Grid keys an ensemble's members may differ in (the host applies them per member, not the kernel). */
export const MEMBER_KEYS = new Set(["optimizer.lr", "teacher_noise", "clip", "schedule"]);

/**
 * The runs in groups for one child process each: with `ensemble` > 1, runs whose settings differ
 * only in seed and MEMBER_KEYS, in sweep order, up to `ensemble` at a time; else one run each.
 * Deterministic (Slurm array task i is group i of all the runs).
 */
export function groupRuns(runs: IndexedRun[], ensemble: number): IndexedRun[][] {
  const buckets = new Map<string, IndexedRun[][]>();
  const groups: IndexedRun[][] = [];
  for (const run of runs) {
    // a clip's kind (norm, value, none) is shared by an ensemble; only its size may differ
    const key = JSON.stringify(Object.entries(run.settings).map(([k, v]) => (ensemble > 1 && MEMBER_KEYS.has(k) ? [k, k === "clip" ? v.replace(/\(.*$/, "").trim() : ""] : [k, v])));
    const open = buckets.get(key);
    const last = open?.[open.length - 1];
    if (ensemble > 1 && last && last.length < ensemble) last.push(run);
    else {
      const g = [run];
      groups.push(g);
      buckets.set(key, [...(open ?? []), g]);
    }
  }
  return groups;
}

/** Trains `runs` with `workers` children at a time (ensembles of up to `ensemble` runs); returns how each ended, by index. */
export async function runPool(ctx: RunnerContext, runs: IndexedRun[], workers: number, ensemble = 1): Promise<Map<number, Outcome>> {
  const outcomes = new Map<number, Outcome>();
  const groups = groupRuns(runs, ensemble);
  let next = 0;
  const worker = async () => {
    while (!ctx.stopping && next < groups.length) {
      const group = groups[next++]!;
      for (const [i, o] of await trainGroup(ctx, group)) outcomes.set(i, o);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(workers, groups.length)) }, worker));
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
