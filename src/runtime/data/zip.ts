/**
 * A small zip reader/writer, just enough for NumPy's `.npz` archives.
 *
 * Reading supports what `np.savez` / `np.savez_compressed` (Python's zipfile) produce: stored
 * (method 0) and deflated (method 8) members, Zip64 extra fields (numpy always forces Zip64 on
 * its local headers, so their size fields read 0xFFFFFFFF: sizes are therefore always taken from
 * the central directory) and the Zip64 end-of-central-directory record. Writing produces a plain
 * (non-Zip64) archive with fixed timestamps so the same arrays always give the same bytes.
 */
import * as zlib from "node:zlib";
import { dataError } from "./errors.js";

/** One member as listed in the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  /** General-purpose flags (bit 0: encrypted). */
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** A member to write. */
export interface ZipMemberInput {
  name: string;
  data: Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, as zip uses). Node >= 20.15 ships zlib.crc32; keep a table fallback so an
// older runtime still works.
// ---------------------------------------------------------------------------------------------

let crcTable: Uint32Array | undefined;

function crc32Fallback(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** CRC-32 of `bytes` as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  return typeof native === "function" ? native(bytes) >>> 0 : crc32Fallback(bytes);
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(dv: DataView, offset: number): number {
  // Archives we read fit in memory, so every offset is far below 2^53.
  return Number(dv.getBigUint64(offset, true));
}

const utf8 = new TextDecoder("utf-8");

/** Locate the end-of-central-directory record (it ends with a comment of up to 65535 bytes). */
function findEocd(bytes: Uint8Array, dv: DataView, file: string): number {
  if (bytes.length < EOCD_SIZE) throw dataError(file, `not a zip archive (only ${bytes.length} bytes)`);
  const stop = Math.max(0, bytes.length - EOCD_SIZE - U16_MAX);
  for (let pos = bytes.length - EOCD_SIZE; pos >= stop; pos--) {
    if (dv.getUint32(pos, true) === SIG_EOCD && pos + EOCD_SIZE + dv.getUint16(pos + 20, true) <= bytes.length) {
      return pos;
    }
  }
  throw dataError(file, "not a zip archive (no end-of-central-directory record; truncated or not an .npz?)");
}

/** List the members of a zip archive held in memory. */
export function listZipEntries(bytes: Uint8Array, file: string): ZipEntry[] {
  const dv = view(bytes);
  const eocd = findEocd(bytes, dv, file);
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);

  // Zip64: the real values live in the Zip64 EOCD record, found through the locator just before.
  if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc >= 0 && dv.getUint32(loc, true) === SIG_ZIP64_LOCATOR) {
      const rec = u64(dv, loc + 8);
      if (rec + 56 > bytes.length || dv.getUint32(rec, true) !== SIG_ZIP64_EOCD) {
        throw dataError(file, "corrupt zip archive (bad Zip64 end-of-central-directory record)");
      }
      count = u64(dv, rec + 32);
      cdSize = u64(dv, rec + 40);
      cdOffset = u64(dv, rec + 48);
    }
  }
  if (cdOffset + cdSize > bytes.length) {
    throw dataError(file, "corrupt or truncated zip archive (central directory lies past the end of the file)");
  }

  const entries: ZipEntry[] = [];
  let pos = cdOffset;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > bytes.length || dv.getUint32(pos, true) !== SIG_CENTRAL) {
      throw dataError(file, `corrupt zip archive (central directory entry ${i} is malformed)`);
    }
    const flags = dv.getUint16(pos + 8, true);
    const method = dv.getUint16(pos + 10, true);
    const crc = dv.getUint32(pos + 16, true);
    let compressedSize = dv.getUint32(pos + 20, true);
    let size = dv.getUint32(pos + 24, true);
    const nameLen = dv.getUint16(pos + 28, true);
    const extraLen = dv.getUint16(pos + 30, true);
    const commentLen = dv.getUint16(pos + 32, true);
    let localHeaderOffset = dv.getUint32(pos + 42, true);
    const nameStart = pos + 46;
    const extraStart = nameStart + nameLen;
    const end = extraStart + extraLen + commentLen;
    if (end > bytes.length) throw dataError(file, `corrupt zip archive (central directory entry ${i} is truncated)`);
    const name = utf8.decode(bytes.subarray(nameStart, extraStart));

    // Zip64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF are present,
    // in the order size, compressed size, local header offset.
    if (size === U32_MAX || compressedSize === U32_MAX || localHeaderOffset === U32_MAX) {
      let p = extraStart;
      const extraEnd = extraStart + extraLen;
      while (p + 4 <= extraEnd) {
        const id = dv.getUint16(p, true);
        const len = dv.getUint16(p + 2, true);
        if (id === 0x0001) {
          let q = p + 4;
          const fieldEnd = p + 4 + len;
          if (size === U32_MAX && q + 8 <= fieldEnd) {
            size = u64(dv, q);
            q += 8;
          }
          if (compressedSize === U32_MAX && q + 8 <= fieldEnd) {
            compressedSize = u64(dv, q);
            q += 8;
          }
          if (localHeaderOffset === U32_MAX && q + 8 <= fieldEnd) localHeaderOffset = u64(dv, q);
          break;
        }
        p += 4 + len;
      }
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset });
    pos = end;
  }
  return entries;
}

/**
 * Decompress one member and check its CRC. Error messages name it `<file>:<label>` (the label
 * defaults to the entry name; .npz readers pass the member name without `.npy`).
 */
export function extractZipEntry(bytes: Uint8Array, entry: ZipEntry, file: string, label: string = entry.name): Uint8Array {
  const where = `${file}:${label}`;
  if (entry.flags & 1) throw dataError(where, "encrypted zip members are not supported");
  const dv = view(bytes);
  const lh = entry.localHeaderOffset;
  if (lh + 30 > bytes.length || dv.getUint32(lh, true) !== SIG_LOCAL) {
    throw dataError(where, "corrupt zip archive (bad local file header)");
  }
  // The local header's own size fields may be Zip64 placeholders; only its name/extra lengths
  // are needed here, to find where the data starts.
  const dataStart = lh + 30 + dv.getUint16(lh + 26, true) + dv.getUint16(lh + 28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > bytes.length) throw dataError(where, "truncated zip archive (member data runs past the end of the file)");
  const raw = bytes.subarray(dataStart, dataEnd);

  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw;
  } else if (entry.method === 8) {
    try {
      const out = zlib.inflateRawSync(raw);
      data = new Uint8Array(out.buffer, out.byteOffset, out.length); // a plain view, not a Buffer
    } catch (e) {
      throw dataError(where, `corrupt deflate data (${(e as Error).message})`);
    }
  } else {
    throw dataError(where, `unsupported zip compression method ${entry.method} (rnnc reads stored and deflate members)`);
  }
  if (data.length !== entry.size) {
    throw dataError(where, `corrupt zip member (expected ${entry.size} bytes after decompression, got ${data.length})`);
  }
  if (crc32(data) !== entry.crc32) throw dataError(where, "corrupt zip member (CRC-32 mismatch)");
  return data;
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

// DOS date 1980-01-01, time 00:00: fixed so identical content gives identical archives.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const VERSION_NEEDED = 20; // 2.0: deflate
const VERSION_MADE_BY = (3 << 8) | 20; // Unix host, so the permission bits below are honoured

/**
 * Encode members as a zip archive. `compress: true` deflates members (like np.savez_compressed),
 * otherwise they are stored (like np.savez).
 */
export function encodeZip(members: ZipMemberInput[], opts: { compress?: boolean; level?: number } = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  const enc = new TextEncoder();

  for (const m of members) {
    if (seen.has(m.name)) throw new Error(`zip: duplicate member name '${m.name}'`);
    seen.add(m.name);
    const name = enc.encode(m.name);
    // Bit 11: the name is UTF-8 (only needed, and only set, when it is not plain ASCII).
    const flags = name.length !== m.name.length || /[^\x00-\x7f]/.test(m.name) ? 0x0800 : 0;
    const crc = crc32(m.data);
    const method = opts.compress ? 8 : 0;
    const body = opts.compress ? zlib.deflateRawSync(m.data, { level: opts.level ?? 6 }) : m.data;
    if (body.length >= U32_MAX || m.data.length >= U32_MAX || offset >= U32_MAX) {
      throw new Error("zip: archives of 4 GiB or more are not supported");
    }

    const local = new Uint8Array(30 + name.length);
    const ldv = view(local);
    ldv.setUint32(0, SIG_LOCAL, true);
    ldv.setUint16(4, VERSION_NEEDED, true);
    ldv.setUint16(6, flags, true);
    ldv.setUint16(8, method, true);
    ldv.setUint16(10, DOS_TIME, true);
    ldv.setUint16(12, DOS_DATE, true);
    ldv.setUint32(14, crc, true);
    ldv.setUint32(18, body.length, true);
    ldv.setUint32(22, m.data.length, true);
    ldv.setUint16(26, name.length, true);
    ldv.setUint16(28, 0, true);
    local.set(name, 30);

    const cen = new Uint8Array(46 + name.length);
    const cdv = view(cen);
    cdv.setUint32(0, SIG_CENTRAL, true);
    cdv.setUint16(4, VERSION_MADE_BY, true);
    cdv.setUint16(6, VERSION_NEEDED, true);
    cdv.setUint16(8, flags, true);
    cdv.setUint16(10, method, true);
    cdv.setUint16(12, DOS_TIME, true);
    cdv.setUint16(14, DOS_DATE, true);
    cdv.setUint32(16, crc, true);
    cdv.setUint32(20, body.length, true);
    cdv.setUint32(24, m.data.length, true);
    cdv.setUint16(28, name.length, true);
    // extra length, comment length, disk number, internal attributes: all 0
    cdv.setUint32(38, (0o100644 << 16) >>> 0, true); // regular file, rw-r--r--
    cdv.setUint32(42, offset, true);
    cen.set(name, 46);

    chunks.push(local, body);
    central.push(cen);
    offset += local.length + body.length;
  }

  const cdOffset = offset;
  let cdSize = 0;
  for (const c of central) cdSize += c.length;
  if (members.length >= U16_MAX || cdOffset + cdSize >= U32_MAX) {
    throw new Error("zip: too many members or archive too large (Zip64 writing is not supported)");
  }
  const eocd = new Uint8Array(EOCD_SIZE);
  const edv = view(eocd);
  edv.setUint32(0, SIG_EOCD, true);
  edv.setUint16(8, members.length, true);
  edv.setUint16(10, members.length, true);
  edv.setUint32(12, cdSize, true);
  edv.setUint32(16, cdOffset, true);

  const parts = [...chunks, ...central, eocd];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
