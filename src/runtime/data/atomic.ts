/** Filesystem helpers shared by the data readers and writers. */
import * as fs from "node:fs";
import * as path from "node:path";
import { DataError, dataError } from "./errors.js";

/**
 * Write `bytes` to `file` atomically: write a temporary file in the same directory, then rename
 * it over the target. A crash mid-write never leaves a half-written checkpoint or data file,
 * and readers see either the old or the new content. (Same directory so the rename never crosses
 * a filesystem.)
 */
export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  try {
    const fd = fs.openSync(tmp, "wx");
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // best effort: the original error is the one to report
    }
    throw dataError(file, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
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
