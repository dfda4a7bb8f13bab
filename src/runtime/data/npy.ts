/**
 * NumPy `.npy` and `.npz` reading and writing.
 *
 * `.npy` is the lingua franca of dynamical-systems reconstruction: every reference repository
 * stores its trajectories that way, and rnnc writes its parameters as `.npz` so NumPy users can
 * load them directly.
 *
 * Format (numpy.lib.format): magic `\x93NUMPY`, major/minor version bytes, header length (uint16
 * LE in 1.0, uint32 LE in 2.0 and 3.0), then a Python-literal dict header
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` (latin-1 in 1.0/2.0, UTF-8 in
 * 3.0) padded with spaces and a newline so the data starts on a 64-byte boundary, then the raw
 * array bytes.
 *
 * Supported: float32/float64 in either byte order (kept as float32/float64), int32/int64 in either
 * byte order (read only, converted to float64; int64 beyond 2^53 loses precision), C and Fortran
 * order (Fortran data is transposed into row-major on read). Everything else is a DataError.
 */
import { readFileBytes, writeFileAtomic } from "./atomic.js";
import { DataError, dataError } from "./errors.js";
import { encodeZip, extractZipEntry, listZipEntries, type ZipEntry } from "./zip.js";

/** A dense row-major (C-order) array. */
export interface NdArray {
  dtype: "float32" | "float64";
  shape: number[];
  data: Float32Array | Float64Array;
}

/** Options for encoding `.npy` bytes. */
export interface NpyEncodeOptions {
  /** Header format version; default: the oldest that fits (always 1 for rnnc's headers). */
  version?: 1 | 2 | 3;
  /** Store the data in Fortran (column-major) order. Default false. */
  fortranOrder?: boolean;
  /** Byte order of the stored data. Default "little" (what NumPy writes on every common host). */
  byteOrder?: "little" | "big";
}

/** Options for encoding `.npz` archives. */
export interface NpzEncodeOptions {
  /** Deflate the members (like np.savez_compressed). Default false (stored, like np.savez). */
  compress?: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ARRAY_ALIGN = 64;
/** numpy >= 1.? pads the header so the growth axis can gain digits in place; we match its bytes. */
const GROWTH_AXIS_MAX_DIGITS = 21;
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Header literal parsing (a tiny subset of Python literals: dict, tuple, list, str, int, bool,
// None). We never eval anything.
// ---------------------------------------------------------------------------------------------

type PyValue = string | number | boolean | null | PyValue[] | PyTuple | Map<string, PyValue>;

/** Tuples are kept apart from lists: a list `descr` means a structured dtype. */
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

class HeaderSyntaxError extends Error {}

function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const skipWs = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const fail = (what: string): never => {
    throw new HeaderSyntaxError(`${what} at character ${pos}`);
  };
  const expect = (ch: string) => {
    skipWs();
    if (text[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };

  function parseSequence(close: string): { items: PyValue[]; trailingComma: boolean } {
    const items: PyValue[] = [];
    let trailingComma = false;
    skipWs();
    while (text[pos] !== close) {
      items.push(parseValue());
      skipWs();
      trailingComma = false;
      if (text[pos] === ",") {
        pos++;
        trailingComma = true;
        skipWs();
      } else if (text[pos] !== close) {
        fail(`expected ',' or '${close}'`);
      }
    }
    pos++;
    return { items, trailingComma };
  }

  function parseValue(): PyValue {
    skipWs();
    const ch = text[pos];
    if (ch === undefined) return fail("unexpected end of header");
    if (ch === "{") {
      pos++;
      const map = new Map<string, PyValue>();
      skipWs();
      while (text[pos] !== "}") {
        const key = parseValue();
        if (typeof key !== "string") fail("dict key is not a string");
        expect(":");
        map.set(key as string, parseValue());
        skipWs();
        if (text[pos] === ",") {
          pos++;
          skipWs();
        } else if (text[pos] !== "}") {
          fail("expected ',' or '}'");
        }
      }
      pos++;
      return map;
    }
    if (ch === "(") {
      pos++;
      const { items, trailingComma } = parseSequence(")");
      // `(3)` is just 3 in Python; `(3,)` is a 1-tuple.
      return items.length === 1 && !trailingComma ? items[0]! : new PyTuple(items);
    }
    if (ch === "[") {
      pos++;
      return parseSequence("]").items;
    }
    if (ch === "'" || ch === '"') {
      pos++;
      let out = "";
      while (pos < text.length && text[pos] !== ch) {
        if (text[pos] === "\\" && pos + 1 < text.length) pos++;
        out += text[pos++];
      }
      if (pos >= text.length) fail("unterminated string");
      pos++;
      return out;
    }
    const m = /^(?:[+-]?\d+L?|True|False|None)/.exec(text.slice(pos, pos + 40));
    if (!m) return fail(`unexpected '${ch}'`);
    pos += m[0].length;
    if (m[0] === "True") return true;
    if (m[0] === "False") return false;
    if (m[0] === "None") return null;
    return Number.parseInt(m[0], 10); // Python 2 headers write longs as `3L`
  }

  const value = parseValue();
  skipWs();
  if (pos !== text.length) fail("trailing characters after the header dict");
  return value;
}

// ---------------------------------------------------------------------------------------------
// dtypes
// ---------------------------------------------------------------------------------------------

interface DtypeInfo {
  kind: "f" | "i";
  size: 4 | 8;
  littleEndian: boolean;
}

function unsupportedDtype(file: string, descr: string): DataError {
  let hint = "";
  const kind = descr.replace(/^[<>|=]/, "")[0];
  if (kind === "O") hint = "object arrays hold pickled Python objects; ";
  else if (kind === "U" || kind === "S" || kind === "a") hint = "string arrays are not numeric; ";
  else if (kind === "b" || kind === "?") hint = "bool arrays: convert with .astype(np.float32); ";
  else if (kind === "c") hint = "complex arrays: save real and imaginary parts separately; ";
  else if (kind === "V") hint = "void/structured arrays are not supported; ";
  return dataError(file, `unsupported dtype '${descr}' (${hint}rnnc reads float32/float64 arrays, and int32/int64 converted to float64)`);
}

function parseDescr(descr: PyValue, file: string): DtypeInfo {
  if (Array.isArray(descr)) {
    throw dataError(file, `unsupported dtype: structured array with fields ${JSON.stringify(descr)} (rnnc reads float32/float64 arrays)`);
  }
  if (typeof descr !== "string") throw dataError(file, "malformed .npy header ('descr' is not a string)");
  const m = /^([<>|=]?)([fi])([48])$/.exec(descr);
  if (!m) throw unsupportedDtype(file, descr);
  const order = m[1]!;
  // '|' (not applicable) only makes sense for 1-byte types; '=' and '' mean native order.
  if (order === "|") throw unsupportedDtype(file, descr);
  const littleEndian = order === "<" || ((order === "=" || order === "") && HOST_LITTLE_ENDIAN);
  return { kind: m[2] as "f" | "i", size: Number(m[3]) as 4 | 8, littleEndian };
}

// ---------------------------------------------------------------------------------------------
// Order helpers
// ---------------------------------------------------------------------------------------------

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reorder column-major (Fortran) data of the given shape into row-major (C) order. */
function fortranToC<T extends Float32Array | Float64Array>(src: T, shape: readonly number[]): T {
  const k = shape.length;
  const n = src.length;
  const dst = new (src.constructor as new (n: number) => T)(n);
  if (k <= 1 || n === 0) {
    dst.set(src);
    return dst;
  }
  if (k === 2) {
    const [rows, cols] = shape as [number, number];
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dst[i * cols + j] = src[i + j * rows]!;
    return dst;
  }
  // General case: walk the output in C order, keeping the Fortran offset of the current index.
  const fstride = new Array<number>(k);
  fstride[0] = 1;
  for (let d = 1; d < k; d++) fstride[d] = fstride[d - 1]! * shape[d - 1]!;
  const idx = new Array<number>(k).fill(0);
  let off = 0;
  for (let o = 0; o < n; o++) {
    dst[o] = src[off]!;
    let d = k - 1;
    idx[d]!++;
    off += fstride[d]!;
    while (d > 0 && idx[d] === shape[d]) {
      off -= shape[d]! * fstride[d]!;
      idx[d] = 0;
      d--;
      idx[d]!++;
      off += fstride[d]!;
    }
  }
  return dst;
}

/** Row-major → column-major: C data of shape s is Fortran data of the reversed shape. */
function cToFortran<T extends Float32Array | Float64Array>(src: T, shape: readonly number[]): T {
  return fortranToC(src, [...shape].reverse());
}

function byteSwapInPlace(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// .npy reading
// ---------------------------------------------------------------------------------------------

/**
 * Parse `.npy` bytes. `file` names the source in error messages (a path or `archive.npz:member`).
 */
export function parseNpy(bytes: Uint8Array, file: string): NdArray {
  if (bytes.length < 10) {
    throw dataError(file, `truncated .npy file (${bytes.length} bytes; the preamble alone is 10 bytes)`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw dataError(file, "bad magic: not a NumPy .npy file (it must start with \\x93NUMPY)");
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1 && minor === 0) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if ((major === 2 || major === 3) && minor === 0) {
    if (bytes.length < 12) throw dataError(file, `truncated .npy file (${bytes.length} bytes)`);
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw dataError(file, `unsupported .npy format version ${major}.${minor} (rnnc reads 1.0, 2.0 and 3.0)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    throw dataError(file, `truncated .npy file (header says ${headerLen} bytes, file has ${bytes.length - headerStart} after the preamble)`);
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);

  let header: PyValue;
  try {
    header = parsePyLiteral(headerText);
  } catch (e) {
    if (e instanceof HeaderSyntaxError) throw dataError(file, `malformed .npy header (${e.message}): ${JSON.stringify(headerText.trim())}`);
    throw e;
  }
  if (!(header instanceof Map)) throw dataError(file, `malformed .npy header (not a dict): ${JSON.stringify(headerText.trim())}`);
  for (const key of ["descr", "fortran_order", "shape"]) {
    if (!header.has(key)) throw dataError(file, `malformed .npy header (missing key '${key}'): ${JSON.stringify(headerText.trim())}`);
  }
  const dtype = parseDescr(header.get("descr")!, file);
  const fortranOrder = header.get("fortran_order");
  if (typeof fortranOrder !== "boolean") throw dataError(file, "malformed .npy header ('fortran_order' is not True/False)");
  const shapeValue = header.get("shape");
  if (!(shapeValue instanceof PyTuple) || !shapeValue.items.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw dataError(file, "malformed .npy header ('shape' is not a tuple of non-negative integers)");
  }
  const shape = shapeValue.items as number[];
  const count = product(shape);
  const byteCount = count * dtype.size;
  if (bytes.length - dataStart < byteCount) {
    throw dataError(
      file,
      `truncated .npy file: shape (${shape.join(", ")}) needs ${byteCount} data bytes, file has ${bytes.length - dataStart}`,
    );
  }

  // Copy into a fresh, aligned buffer (Node Buffers can start at any offset), fixing byte order.
  const raw = new Uint8Array(byteCount);
  raw.set(bytes.subarray(dataStart, dataStart + byteCount));
  if (dtype.littleEndian !== HOST_LITTLE_ENDIAN) byteSwapInPlace(raw, dtype.size);

  let data: Float32Array | Float64Array;
  if (dtype.kind === "f") {
    data = dtype.size === 4 ? new Float32Array(raw.buffer) : new Float64Array(raw.buffer);
  } else if (dtype.size === 4) {
    data = Float64Array.from(new Int32Array(raw.buffer));
  } else {
    const ints = new BigInt64Array(raw.buffer);
    data = new Float64Array(count);
    for (let i = 0; i < count; i++) data[i] = Number(ints[i]!);
  }
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return { dtype: dtype.kind === "f" && dtype.size === 4 ? "float32" : "float64", shape: [...shape], data };
}

/** Read a `.npy` file. Missing files and malformed content are DataErrors. */
export function readNpy(path: string): NdArray {
  return parseNpy(readFileBytes(path), path);
}

// ---------------------------------------------------------------------------------------------
// .npy writing
// ---------------------------------------------------------------------------------------------

function checkArray(arr: NdArray, what: string): void {
  if (!arr.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new DataError(`${what}: shape [${arr.shape.join(", ")}] is not a list of non-negative integers`);
  }
  const expectedType = arr.dtype === "float32" ? Float32Array : arr.dtype === "float64" ? Float64Array : undefined;
  if (!expectedType) throw new DataError(`${what}: unsupported dtype '${String(arr.dtype)}' (rnnc writes float32/float64)`);
  if (!(arr.data instanceof expectedType)) throw new DataError(`${what}: dtype is ${arr.dtype} but data is a ${arr.data.constructor.name}`);
  if (arr.data.length !== product(arr.shape)) {
    throw new DataError(`${what}: shape [${arr.shape.join(", ")}] needs ${product(arr.shape)} values, data has ${arr.data.length}`);
  }
}

/** Python's repr of a tuple of ints: `()`, `(3,)`, `(2, 3)`. */
function pyTupleRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** Encode an array as `.npy` bytes, byte-identical to what numpy 2.x writes for the same array. */
export function encodeNpy(arr: NdArray, opts: NpyEncodeOptions = {}): Uint8Array {
  checkArray(arr, "encodeNpy");
  const fortranOrder = opts.fortranOrder ?? false;
  const big = opts.byteOrder === "big";
  const descr = `${big ? ">" : "<"}${arr.dtype === "float32" ? "f4" : "f8"}`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? "True" : "False"}, 'shape': ${pyTupleRepr(arr.shape)}, }`;
  if (arr.shape.length > 0) {
    const growthAxis = fortranOrder ? arr.shape[arr.shape.length - 1]! : arr.shape[0]!;
    header += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(growthAxis).length));
  }
  // Our headers are ASCII, so 1.0 always fits unless the header exceeds 65535 bytes (it cannot
  // for realistic ranks); versions 2 and 3 are available on request.
  const headerBytes = new TextEncoder().encode(header);
  const version = opts.version ?? 1;
  const preamble = version === 1 ? 10 : 12;
  const hlen = headerBytes.length + 1; // + the final newline
  const padlen = ARRAY_ALIGN - ((preamble + hlen) % ARRAY_ALIGN);
  const totalHeader = hlen + padlen;
  if (version === 1 && totalHeader > 0xffff) {
    if (opts.version === 1) throw new DataError(`encodeNpy: header of ${totalHeader} bytes is too big for format 1.0`);
    return encodeNpy(arr, { ...opts, version: 2 });
  }

  let data = arr.data;
  if (fortranOrder && arr.shape.length > 1) data = cToFortran(data, arr.shape);
  const itemSize = arr.dtype === "float32" ? 4 : 8;
  const out = new Uint8Array(preamble + totalHeader + data.length * itemSize);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, totalHeader, true);
  else dv.setUint32(8, totalHeader, true);
  out.set(headerBytes, preamble);
  out.fill(0x20, preamble + headerBytes.length, preamble + totalHeader - 1);
  out[preamble + totalHeader - 1] = 0x0a;
  const body = out.subarray(preamble + totalHeader);
  body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (big === HOST_LITTLE_ENDIAN) byteSwapInPlace(body, itemSize);
  return out;
}

/** Write an array to a `.npy` file atomically (temp file + rename). */
export function writeNpy(path: string, arr: NdArray, opts: NpyEncodeOptions = {}): void {
  writeFileAtomic(path, encodeNpy(arr, opts));
}

// ---------------------------------------------------------------------------------------------
// .npz
// ---------------------------------------------------------------------------------------------

/** The member name NumPy shows for a zip entry: `a.npy` → `a`. */
function memberName(entryName: string): string {
  return entryName.endsWith(".npy") ? entryName.slice(0, -4) : entryName;
}

function npzEntries(bytes: Uint8Array, file: string): Map<string, ZipEntry> {
  const map = new Map<string, ZipEntry>();
  for (const e of listZipEntries(bytes, file)) {
    if (e.name.endsWith("/")) continue; // directory entries carry no data
    map.set(memberName(e.name), e);
  }
  return map;
}

/** Member names of an `.npz` held in memory (without the `.npy` suffix), in archive order. */
export function listNpzMembers(bytes: Uint8Array, file: string): string[] {
  return [...npzEntries(bytes, file).keys()];
}

/**
 * Parse `.npz` bytes into arrays keyed by member name (without `.npy`). With `members`, only
 * those are decoded, and a missing one is a DataError listing what the archive holds.
 */
export function parseNpz(bytes: Uint8Array, file: string, opts: { members?: string[] } = {}): Map<string, NdArray> {
  const entries = npzEntries(bytes, file);
  const wanted = opts.members ?? [...entries.keys()];
  const out = new Map<string, NdArray>();
  for (const name of wanted) {
    const entry = entries.get(name);
    if (!entry) {
      const have = [...entries.keys()].map((k) => `'${k}'`).join(", ") || "none";
      throw dataError(file, `no member '${name}' in the archive (members: ${have})`);
    }
    out.set(name, parseNpy(extractZipEntry(bytes, entry, file, name), `${file}:${name}`));
  }
  return out;
}

/** Read an `.npz` file (see parseNpz). */
export function readNpz(path: string, opts: { members?: string[] } = {}): Map<string, NdArray> {
  return parseNpz(readFileBytes(path), path, opts);
}

/** Member names of an `.npz` file (without `.npy`). */
export function readNpzMemberNames(path: string): string[] {
  return listNpzMembers(readFileBytes(path), path);
}

/** Encode arrays as `.npz` bytes; each key becomes member `<key>.npy`, as np.savez does. */
export function encodeNpz(arrays: Map<string, NdArray> | Record<string, NdArray>, opts: NpzEncodeOptions = {}): Uint8Array {
  const entries = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  const members = entries.map(([name, arr]) => {
    if (name.length === 0) throw new DataError("encodeNpz: member names must not be empty");
    return { name: `${name}.npy`, data: encodeNpy(arr) };
  });
  return encodeZip(members, { compress: opts.compress ?? false });
}

/** Write arrays to an `.npz` file atomically (temp file + rename). */
export function writeNpz(path: string, arrays: Map<string, NdArray> | Record<string, NdArray>, opts: NpzEncodeOptions = {}): void {
  writeFileAtomic(path, encodeNpz(arrays, opts));
}
