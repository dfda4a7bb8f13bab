import { describe, expect, it } from "vitest";
import { crc32, encodeZip, extractZipEntry, listZipEntries } from "../../../src/runtime/data/zip.js";

const enc = new TextEncoder();

/**
 * Build by hand a one-member stored archive that uses every Zip64 structure: local header and
 * central directory with 0xFFFFFFFF placeholders plus Zip64 extra fields, a Zip64
 * end-of-central-directory record and its locator, and a classic EOCD full of placeholders.
 */
function zip64Archive(name: string, data: Uint8Array): Uint8Array {
  const nm = enc.encode(name);
  const parts: Uint8Array[] = [];
  const push = (size: number, fill: (dv: DataView) => void, tail?: Uint8Array) => {
    const b = new Uint8Array(size + (tail?.length ?? 0));
    fill(new DataView(b.buffer));
    if (tail) b.set(tail, size);
    parts.push(b);
    return b.length;
  };
  const crc = crc32(data);
  let offset = 0;
  // local header + zip64 extra (size, compressed size)
  offset += push(30 + nm.length + 20, (dv) => {
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, 45, true);
    dv.setUint32(14, crc, true);
    dv.setUint32(18, 0xffffffff, true);
    dv.setUint32(22, 0xffffffff, true);
    dv.setUint16(26, nm.length, true);
    dv.setUint16(28, 20, true);
    new Uint8Array(dv.buffer).set(nm, 30);
    dv.setUint16(30 + nm.length, 1, true);
    dv.setUint16(32 + nm.length, 16, true);
    dv.setBigUint64(34 + nm.length, BigInt(data.length), true);
    dv.setBigUint64(42 + nm.length, BigInt(data.length), true);
  });
  parts.push(data);
  offset += data.length;
  const cdOffset = offset;
  // central directory entry + zip64 extra (size, compressed size, local header offset)
  const cdSize = push(46 + nm.length + 28, (dv) => {
    dv.setUint32(0, 0x02014b50, true);
    dv.setUint16(4, 45, true);
    dv.setUint16(6, 45, true);
    dv.setUint32(16, crc, true);
    dv.setUint32(20, 0xffffffff, true);
    dv.setUint32(24, 0xffffffff, true);
    dv.setUint16(28, nm.length, true);
    dv.setUint16(30, 28, true);
    dv.setUint32(42, 0xffffffff, true);
    new Uint8Array(dv.buffer).set(nm, 46);
    const e = 46 + nm.length;
    dv.setUint16(e, 1, true);
    dv.setUint16(e + 2, 24, true);
    dv.setBigUint64(e + 4, BigInt(data.length), true);
    dv.setBigUint64(e + 12, BigInt(data.length), true);
    dv.setBigUint64(e + 20, 0n, true);
  });
  const zip64Eocd = cdOffset + cdSize;
  push(56, (dv) => {
    dv.setUint32(0, 0x06064b50, true);
    dv.setBigUint64(4, 44n, true);
    dv.setBigUint64(24, 1n, true);
    dv.setBigUint64(32, 1n, true);
    dv.setBigUint64(40, BigInt(cdSize), true);
    dv.setBigUint64(48, BigInt(cdOffset), true);
  });
  push(20, (dv) => {
    dv.setUint32(0, 0x07064b50, true);
    dv.setBigUint64(8, BigInt(zip64Eocd), true);
    dv.setUint32(16, 1, true);
  });
  push(22, (dv) => {
    dv.setUint32(0, 0x06054b50, true);
    dv.setUint16(8, 0xffff, true);
    dv.setUint16(10, 0xffff, true);
    dv.setUint32(12, 0xffffffff, true);
    dv.setUint32(16, 0xffffffff, true);
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

describe("zip", () => {
  it("computes the standard CRC-32 check value", () => {
    expect(crc32(enc.encode("123456789"))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("reads Zip64 central directories and end records", () => {
    const payload = enc.encode("hello zip64");
    const bytes = zip64Archive("a.npy", payload);
    const entries = listZipEntries(bytes, "z.npz");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ name: "a.npy", size: payload.length, compressedSize: payload.length, localHeaderOffset: 0 });
    expect(extractZipEntry(bytes, entries[0]!, "z.npz")).toEqual(payload);
  });

  it("round trips names, empty members, stored and deflated data; tolerates an archive comment", () => {
    const members = [
      { name: "empty.bin", data: new Uint8Array(0) },
      { name: "ünïcode.npy", data: enc.encode("x".repeat(1000)) },
    ];
    for (const compress of [false, true]) {
      const bytes = encodeZip(members, { compress });
      // append a comment to the end record, as some zip tools do
      const withComment = new Uint8Array(bytes.length + 5);
      withComment.set(bytes);
      withComment.set(enc.encode("hello"), bytes.length);
      new DataView(withComment.buffer).setUint16(bytes.length - 2, 5, true);
      for (const b of [bytes, withComment]) {
        const entries = listZipEntries(b, "m.zip");
        expect(entries.map((e) => e.name)).toEqual(["empty.bin", "ünïcode.npy"]);
        expect(entries.map((e) => e.method)).toEqual(compress ? [8, 8] : [0, 0]);
        expect(entries.map((e) => extractZipEntry(b, e, "m.zip"))).toEqual(members.map((m) => m.data));
      }
    }
  });

  it("rejects duplicate member names when writing", () => {
    expect(() => encodeZip([{ name: "a", data: new Uint8Array(1) }, { name: "a", data: new Uint8Array(1) }])).toThrow(/duplicate member name 'a'/);
  });

  it("rejects encrypted members and unknown compression methods", () => {
    const bytes = encodeZip([{ name: "a.npy", data: new Uint8Array(4) }]);
    const [entry] = listZipEntries(bytes, "e.npz");
    expect(() => extractZipEntry(bytes, { ...entry!, flags: 1 }, "e.npz", "a")).toThrow(/^e\.npz:a: encrypted zip members are not supported/);
    expect(() => extractZipEntry(bytes, { ...entry!, method: 14 }, "e.npz", "a")).toThrow(/unsupported zip compression method 14/);
  });
});
