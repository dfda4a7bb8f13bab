/**
 * Numeric delimited-text reading (CSV, TSV, whitespace-separated `.txt` as np.savetxt writes).
 *
 * Rules:
 * - Lines whose first non-blank character is `#` are comments (np.savetxt's header style), and
 *   blank lines are skipped.
 * - Delimiter: explicit, or detected from the first non-comment line: tab if it has one, else `;`,
 *   else `,`, else runs of whitespace. Spaces around fields are ignored, and a pair of double
 *   quotes around a field is stripped.
 * - Header: with `header: "auto"` (default) the first non-comment line is a header when any of
 *   its fields is not a number; `true` / `false` force it.
 * - Numbers: decimal or scientific notation, plus `nan`, `inf`, `-inf`, `infinity` (any case) so
 *   the caller can report non-finite values precisely instead of calling them non-numeric.
 * - Ragged rows, empty fields and non-numeric fields are DataErrors naming `file:line:column`
 *   (1-based; the column is the character column where the field starts).
 */
import { readFileBytes } from "./atomic.js";
import { dataError } from "./errors.js";
import type { NdArray } from "./npy.js";

export interface CsvOptions {
  /** A single character, or "whitespace" for runs of spaces/tabs (" " means the same). */
  delimiter?: string;
  /** Whether the first non-comment line is a header; default "auto". */
  header?: boolean | "auto";
}

/** A parsed table: a float64 [T, N] array plus the header, when there was one. */
export interface CsvTable extends NdArray {
  dtype: "float64";
  data: Float64Array;
  header: string[] | null;
  /** The delimiter used (detected or given); "whitespace" for runs of blanks. */
  delimiter: string;
}

interface Field {
  text: string;
  /** 1-based character column where the field starts. */
  column: number;
}

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const SPECIAL_RE = /^([+-]?)(inf|infinity|nan)$/i;

/** Parse one numeric field; undefined when it is not a number. */
function parseNumber(text: string): number | undefined {
  if (NUMBER_RE.test(text)) return Number(text);
  const m = SPECIAL_RE.exec(text);
  if (!m) return undefined;
  if (m[2]!.toLowerCase() === "nan") return Number.NaN;
  return m[1] === "-" ? -Infinity : Infinity;
}

function isComment(line: string): boolean {
  return /^\s*#/.test(line);
}

function detectDelimiter(line: string): string {
  if (line.includes("\t")) return "\t";
  if (line.includes(";")) return ";";
  if (line.includes(",")) return ",";
  return "whitespace";
}

/** Split a line into trimmed fields, remembering where each starts. */
function splitLine(line: string, delimiter: string): Field[] {
  const fields: Field[] = [];
  if (delimiter === "whitespace") {
    const re = /\S+/g;
    for (let m = re.exec(line); m; m = re.exec(line)) fields.push({ text: unquote(m[0]), column: m.index + 1 });
    return fields;
  }
  let start = 0;
  for (;;) {
    const end = line.indexOf(delimiter, start);
    const raw = line.slice(start, end < 0 ? line.length : end);
    const lead = raw.length - raw.trimStart().length;
    fields.push({ text: unquote(raw.trim()), column: start + lead + 1 });
    if (end < 0) break;
    start = end + delimiter.length;
  }
  return fields;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1).trim() : s;
}

function describeDelimiter(d: string): string {
  return d === "\t" ? "tab" : d === "whitespace" ? "whitespace" : `'${d}'`;
}

/** Parse delimited numeric text. `file` names the source in error messages. */
export function parseCsv(text: string, file: string, opts: CsvOptions = {}): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 byte-order mark
  const lines = text.split(/\r\n|\n|\r/);
  let delimiter = opts.delimiter === " " ? "whitespace" : opts.delimiter;
  if (delimiter !== undefined && delimiter !== "whitespace" && delimiter.length !== 1) {
    throw dataError(file, `delimiter must be a single character or "whitespace", got ${JSON.stringify(delimiter)}`);
  }
  const headerMode = opts.header ?? "auto";

  let header: string[] | null = null;
  let width = -1;
  let widthLine = 0; // the line that fixed the row width, for ragged-row messages
  const values: number[] = [];
  let rows = 0;
  let first = true;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || isComment(line)) continue;
    const lineNo = i + 1;
    delimiter ??= detectDelimiter(line);
    const fields = splitLine(line, delimiter);

    if (first) {
      first = false;
      const looksLikeHeader = fields.some((f) => f.text === "" || parseNumber(f.text) === undefined);
      if (headerMode === true || (headerMode === "auto" && looksLikeHeader)) {
        header = fields.map((f) => f.text);
        width = fields.length;
        widthLine = lineNo;
        continue;
      }
    }

    if (width < 0) {
      width = fields.length;
      widthLine = lineNo;
    } else if (fields.length !== width) {
      const column = fields.length > width ? fields[width]!.column : line.length + 1;
      const what = widthLine === lineNo ? "" : ` (as on line ${widthLine})`;
      throw dataError(
        `${file}:${lineNo}:${column}`,
        `ragged row: ${fields.length} fields, expected ${width}${what} with delimiter ${describeDelimiter(delimiter)}`,
      );
    }
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      if (f.text === "") throw dataError(`${file}:${lineNo}:${f.column}`, `empty field ${k + 1} (missing value?)`);
      const v = parseNumber(f.text);
      if (v === undefined) {
        throw dataError(`${file}:${lineNo}:${f.column}`, `non-numeric value ${JSON.stringify(f.text)} in field ${k + 1}`);
      }
      values.push(v);
    }
    rows++;
  }

  if (rows === 0) throw dataError(file, header ? "no numeric data rows after the header" : "no numeric data rows");
  return { dtype: "float64", shape: [rows, width], data: Float64Array.from(values), header, delimiter: delimiter! };
}

/** Parse delimited numeric text held as UTF-8 bytes (see parseCsv). */
export function parseCsvBytes(bytes: Uint8Array, file: string, opts: CsvOptions = {}): CsvTable {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw dataError(file, "not a UTF-8 text file (binary data? .npy files must have the .npy extension)");
  }
  return parseCsv(text, file, opts);
}

/** Read a delimited numeric text file (see parseCsv). */
export function readCsv(path: string, opts: CsvOptions = {}): CsvTable {
  return parseCsvBytes(readFileBytes(path), path, opts);
}
