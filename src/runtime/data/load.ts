/**
 * Loading a time series from a file, whatever its format.
 *
 * `loadSeries("data/x.npy")`, `loadSeries("runs/a.npz:train")`, `loadSeries("x.csv")`: the format
 * follows the extension, the result is always a validated array of shape [T, N] (or
 * [trials, T, N]) with only finite values, so the trainer never has to re-check.
 */
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { parseCsvBytes, type CsvOptions } from "./csv.js";
import { DataError, dataError } from "./errors.js";
import { listNpzMembers, parseNpy, parseNpz, type NdArray } from "./npy.js";
import { readFileBytes } from "./atomic.js";

export interface LoadOptions {
  /** Resolve relative paths against this directory (e.g. the spec file's folder). */
  baseDir?: string;
  /** Options for delimited text files. */
  csv?: CsvOptions;
}

/** Extensions loadSeries understands. */
export const SERIES_EXTENSIONS = [".npy", ".npz", ".csv", ".tsv", ".txt"] as const;

/**
 * Split `file.npz:member` into file and member. Only a `:` after a `.npz` counts, so Windows
 * drive letters (`C:\data\x.npy`) and colons elsewhere in names are left alone.
 */
export function splitMemberSpec(spec: string): { file: string; member: string | undefined } {
  const m = /^(.*\.npz):([^:/\\]+)$/i.exec(spec);
  return m ? { file: m[1]!, member: m[2]! } : { file: spec, member: undefined };
}

/**
 * Load a series from `.npy`, `.npz` (`file.npz:member`, or the only member), `.csv`, `.tsv` or
 * `.txt`. 1-D arrays become [T, 1]; 2-D [T, N] and 3-D [trials, T, N] are returned as they are.
 * Missing files, unknown extensions, other ranks, empty arrays and NaN/Inf values are DataErrors.
 */
export function loadSeries(spec: string, opts: LoadOptions = {}): NdArray {
  const { file, member } = splitMemberSpec(spec);
  const fullPath = opts.baseDir && !nodePath.isAbsolute(file) ? nodePath.join(opts.baseDir, file) : file;
  const shown = member === undefined ? file : `${file}:${member}`;
  if (!fs.existsSync(fullPath)) {
    const resolved = fullPath === file ? "" : ` (looked for ${fullPath})`;
    throw new DataError(`file not found: ${file}${resolved}`, file);
  }

  const ext = nodePath.extname(file).toLowerCase();
  if (member !== undefined && ext !== ".npz") throw dataError(file, `only .npz archives have members (got '${shown}')`);

  if (!(SERIES_EXTENSIONS as readonly string[]).includes(ext)) {
    throw dataError(file, `unknown data file extension '${ext || "(none)"}' (rnnc reads ${SERIES_EXTENSIONS.join(", ")})`);
  }
  // Messages name the file as the user wrote it, not the resolved path.
  const bytes = readFileBytes(fullPath);
  let arr: NdArray;
  if (ext === ".npy") arr = parseNpy(bytes, file);
  else if (ext === ".npz") arr = loadNpzMember(bytes, file, member);
  else if (ext === ".tsv") arr = parseCsvBytes(bytes, file, { delimiter: "\t", ...opts.csv });
  else arr = parseCsvBytes(bytes, file, opts.csv);
  return checkSeries(arr, shown);
}

function loadNpzMember(bytes: Uint8Array, shownFile: string, member: string | undefined): NdArray {
  const members = listNpzMembers(bytes, shownFile);
  if (member === undefined) {
    if (members.length !== 1) {
      const list = members.map((m) => `'${m}'`).join(", ");
      throw dataError(
        shownFile,
        members.length === 0
          ? "the archive holds no arrays"
          : `the archive holds ${members.length} arrays (${list}): name one as '${shownFile}:<member>'`,
      );
    }
    member = members[0]!;
  }
  return parseNpz(bytes, shownFile, { members: [member] }).get(member)!;
}

/**
 * Validate rank, size and finiteness of a loaded series; reshape 1-D to [T, 1].
 * `name` is used in error messages.
 */
export function checkSeries(arr: NdArray, name: string): NdArray {
  let { shape } = arr;
  if (shape.length === 1) shape = [shape[0]!, 1];
  if (shape.length < 2 || shape.length > 3) {
    throw dataError(
      name,
      `expected a series of shape [T, N] (or [trials, T, N]), got ${shape.length}-D shape [${shape.join(", ")}]`,
    );
  }
  if (shape.some((d) => d === 0)) throw dataError(name, `empty series (shape [${shape.join(", ")}])`);

  let bad = 0;
  let first = -1;
  const { data } = arr;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    const index = unravel(first, shape);
    const v = data[first]!;
    throw dataError(
      name,
      `${bad} non-finite value${bad === 1 ? "" : "s"} (NaN/Inf); the first is ${v} at index [${index.join(", ")}]` +
        ` (${shape.length === 2 ? `row ${index[0]}, column ${index[1]}` : `trial ${index[0]}, step ${index[1]}, column ${index[2]}`}, 0-based)`,
    );
  }
  return shape === arr.shape ? arr : { dtype: arr.dtype, shape, data: arr.data };
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return idx;
}
