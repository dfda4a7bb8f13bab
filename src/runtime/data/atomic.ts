/** Filesystem helpers shared by the data readers and writers. */
import * as fs from "node:fs";
import * as path from "node:path";
import { DataError, dataError } from "./errors.js";

/** A temporary file written next to its target, not yet renamed over it. */
interface TempFile {
  file: string;
  tmp: string;
}

/** The temp files written since `beginAtomicBatch`, synced and renamed by `commitAtomicBatch`. */
let batch: TempFile[] | null = null;

/**
 * Write `bytes` to `file` atomically: write a temporary file in the same directory, fsync it,
 * then rename it over the target. A crash mid-write never leaves a half-written checkpoint or
 * data file, and readers see either the old or the new content. (Same directory so the rename
 * never crosses a filesystem.) Inside an atomic batch the fsync and rename wait for its commit.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const t = writeTemp(file, bytes, !batch);
  if (batch) batch.push(t);
  else publish([t]);
}

/**
 * Defers the fsync and rename of the files writeFileAtomic writes from now on to
 * `commitAtomicBatch`. The fsyncs are most of what a checkpoint costs (an ensemble writes two
 * files per member and epoch); a commit runs them side by side, so the filesystem syncs them in a
 * few shared journal commits instead of one each. Every file is still renamed into place only
 * after its own content is on disk, so no file is ever seen, or left by a crash, half-written.
 */
export function beginAtomicBatch(): void {
  if (batch) throw new Error("beginAtomicBatch: a batch is already open");
  batch = [];
}

/** At most this many files are open at once while a commit syncs them. */
const SYNC_CONCURRENCY = 64;

/** Syncs the batch's files in parallel (on libuv's threads), then renames each in the order written. */
export async function commitAtomicBatch(): Promise<void> {
  const files = batch ?? [];
  batch = null;
  for (let i = 0; i < files.length; i += SYNC_CONCURRENCY) {
    const chunk = files.slice(i, i + SYNC_CONCURRENCY);
    const synced = await Promise.allSettled(chunk.map((t) => syncFile(t.tmp)));
    const bad = synced.findIndex((r) => r.status === "rejected");
    if (bad >= 0) throw failed(chunk[bad]!.file, files, (synced[bad] as PromiseRejectedResult).reason);
  }
  publish(files);
}

/** Runs `fn` in an atomic batch and commits it; drops it when `fn` throws. */
export async function atomicBatch(fn: () => void): Promise<void> {
  beginAtomicBatch();
  try {
    fn();
  } catch (e) {
    discardAtomicBatch();
    throw e;
  }
  await commitAtomicBatch();
}

/** Drops an open batch (after an error): its targets keep their previous content. */
export function discardAtomicBatch(): void {
  removeTemps(batch ?? []);
  batch = null;
}

async function syncFile(file: string): Promise<void> {
  // fsync through any descriptor of a file flushes all of its written data
  const h = await fs.promises.open(file, "r+");
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

function writeTemp(file: string, bytes: Uint8Array, sync: boolean): TempFile {
  const t = { file, tmp: path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`) };
  try {
    const fd = fs.openSync(t.tmp, "wx");
    try {
      fs.writeSync(fd, bytes);
      if (sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw failed(file, [t], e);
  }
  return t;
}

/** Renames synced temp files over their targets, in order. */
function publish(files: TempFile[]): void {
  for (const [i, t] of files.entries()) {
    try {
      fs.renameSync(t.tmp, t.file);
    } catch (e) {
      throw failed(t.file, files.slice(i), e);
    }
  }
}

/** The error for a failed write of `file`; removes the temp files not renamed yet. */
function failed(file: string, temps: TempFile[], e: unknown): DataError {
  removeTemps(temps);
  return dataError(file, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
}

function removeTemps(temps: TempFile[]): void {
  for (const t of temps) {
    try {
      fs.rmSync(t.tmp, { force: true });
    } catch {
      // best effort: the original error is the one to report
    }
  }
}

/** Read a whole file, turning "not found" and other I/O failures into DataErrors. */
export function readFileBytes(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataError(`file not found: ${file}`, file);
    if (code === "EISDIR") throw dataError(file, "is a directory, not a data file");
    throw dataError(file, `cannot read (${code ?? (e as Error).message})`);
  }
}
