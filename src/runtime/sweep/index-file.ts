// The sweep directory's index.json: every run with its settings, seed, status (pending, running,
// done, failed with the error) and measures. Several processes may update it (a local sweep's
// workers, or Slurm array tasks on several nodes), so every update takes a lock (a directory,
// created atomically also on network file systems), reads, changes and writes the file atomically.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic.js";
import { SweepError, type PlannedRun } from "./grid.js";
import type { MeasureName, RunMeasures } from "./summary.js";

export const INDEX_FILE = "index.json";
export const SUMMARY_JSON = "summary.json";
export const SUMMARY_TEXT = "summary.txt";
const LOCK = "index.lock";
/** A lock older than this was left by a killed process. */
const STALE_LOCK_MS = 60_000;

export type RunStatus = "pending" | "running" | "done" | "failed";

export interface IndexedRun extends PlannedRun {
  status: RunStatus;
  /** Why the run failed (the end of its error output, or the signal that killed it). */
  error?: string;
  exitCode?: number | null;
  attempts: number;
  /** Who trains it while running: for a later --resume to tell a live run from a dead one. */
  pid?: number;
  host?: string;
  startedAt?: string;
  finishedAt?: string;
  seconds?: number;
  measures?: RunMeasures;
}

export interface SweepIndex {
  version: 1;
  spec: string;
  specSha256: string;
  model: string;
  grid: { key: string; values: string[] }[];
  runsPerPoint: number;
  baseSeed: number;
  /** The options every run gets: --set, --epochs, --backend, --tier, --data, --test. */
  common: string[];
  keepBestBy: MeasureName | null;
  /** The sweep's options as first given: --resume and --task without options reuse them. */
  options: { grid: string[]; runs?: string; seed?: string; set: string[]; epochs?: string; data?: string; test?: string; backend: string; tier: string; ensemble?: string };
  createdAt: string;
  updatedAt: string;
  runs: IndexedRun[];
}

export function readIndex(sweepDir: string): SweepIndex | undefined {
  const file = join(sweepDir, INDEX_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const ix = JSON.parse(readFileSync(file, "utf8")) as SweepIndex;
    if (ix.version !== 1 || !Array.isArray(ix.runs)) throw new Error("not a sweep index");
    return ix;
  } catch (e) {
    throw new SweepError(`${file} is not a readable sweep index (${e instanceof Error ? e.message : String(e)})`);
  }
}

export function writeIndex(sweepDir: string, ix: SweepIndex): void {
  ix.updatedAt = new Date().toISOString();
  writeFileAtomic(join(sweepDir, INDEX_FILE), new TextEncoder().encode(JSON.stringify(ix, null, 2) + "\n"));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let chain: Promise<unknown> = Promise.resolve();

/** Runs `fn` holding the sweep directory's lock (one at a time within this process too). */
export function withIndexLock<T>(sweepDir: string, fn: () => T): Promise<T> {
  const next = chain.then(async () => {
    const lock = join(sweepDir, LOCK);
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        try {
          if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
        } catch {
          // removed meanwhile by its holder
        }
        if (Date.now() > deadline) throw new SweepError(`${lock} has been held for minutes; if no rnnc sweep is running on ${sweepDir}, remove it`);
        await sleep(20 + Math.random() * 60);
      }
    }
    try {
      return fn();
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  });
  chain = next.catch(() => undefined);
  return next;
}

/** Changes one run's entry and writes the index (then runs `after`, e.g. the summary) under the lock. */
export function updateRun(sweepDir: string, index: number, change: (r: IndexedRun) => void, after?: (ix: SweepIndex) => void): Promise<SweepIndex> {
  return withIndexLock(sweepDir, () => {
    const ix = readIndex(sweepDir);
    if (!ix) throw new SweepError(`${join(sweepDir, INDEX_FILE)} disappeared while the sweep was running`);
    const r = ix.runs[index];
    if (!r) throw new SweepError(`${join(sweepDir, INDEX_FILE)} has no run ${index}`);
    change(r);
    writeIndex(sweepDir, ix);
    after?.(ix);
    return ix;
  });
}
