import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../../src/runtime/data/errors.js";
import {
  encodeNpy,
  encodeNpz,
  listNpzMembers,
  parseNpy,
  parseNpz,
  readNpy,
  readNpz,
  readNpzMemberNames,
  writeNpy,
  writeNpz,
  type NdArray,
} from "../../../src/runtime/data/npy.js";
import { encodeZip } from "../../../src/runtime/data/zip.js";
import { expected, fixture, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(tmp.cleanup);

function expectMatches(arr: NdArray, name: string, dtype: "float32" | "float64"): void {
  const e = expected(name);
  expect(arr.dtype).toBe(dtype);
  expect(arr.shape).toEqual(e.shape);
  expect(arr.data).toBeInstanceOf(dtype === "float32" ? Float32Array : Float64Array);
  // Object.is semantics: -0 and subnormals must survive exactly.
  expect(Array.from(arr.data)).toEqual(e.values);
}

function errorOf(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error("expected a DataError");
}

const f4: NdArray = { dtype: "float32", shape: [2, 3], data: Float32Array.from([-0.625, -0.375, -0.125, 0.125, 0.375, 0.625]) };
const f8: NdArray = { dtype: "float64", shape: [2, 3], data: Float64Array.from([0.1, -2.5, 1e300, Math.PI, -0, 5e-324]) };

describe("reading .npy written by numpy", () => {
  it.each([
    ["f4_c.npy", "float32"],
    ["f8_c.npy", "float64"],
    ["f8_1d.npy", "float64"],
    ["f8_scalar.npy", "float64"],
    ["f4_empty.npy", "float32"],
    ["f8_fortran.npy", "float64"],
    ["f4_fortran_3d.npy", "float32"],
    ["f8_be.npy", "float64"],
    ["f4_be.npy", "float32"],
    ["f4_v2.npy", "float32"],
    ["f8_v3.npy", "float64"],
    ["i4.npy", "float64"],
    ["i8.npy", "float64"],
  ] as const)("%s", (name, dtype) => {
    expectMatches(readNpy(fixture(name)), name, dtype);
  });

  it("transposes Fortran order into row-major", () => {
    const a = readNpy(fixture("f8_fortran.npy"));
    expect(Array.from(a.data)).toEqual([0, 1, 2, 3, 4, 5]);
    const b = readNpy(fixture("f4_fortran_3d.npy"));
    expect(Array.from(b.data)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it("reads from a Buffer at an odd byte offset (no alignment assumptions)", () => {
    const bytes = fs.readFileSync(fixture("f8_c.npy"));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expectMatches(parseNpy(shifted.subarray(3), "shifted"), "f8_c.npy", "float64");
  });
});

describe("golden bytes: encodeNpy writes exactly what numpy writes", () => {
  const golden = (name: string) => new Uint8Array(fs.readFileSync(fixture(name)));
  it("float32 and float64, C order, format 1.0", () => {
    expect(encodeNpy(f4)).toEqual(golden("f4_c.npy"));
    expect(encodeNpy(f8)).toEqual(golden("f8_c.npy"));
  });
  it("1-D, 0-D and empty arrays", () => {
    const e = expected("f8_1d.npy");
    expect(encodeNpy({ dtype: "float64", shape: e.shape, data: Float64Array.from(e.values) })).toEqual(golden("f8_1d.npy"));
    expect(encodeNpy({ dtype: "float64", shape: [], data: Float64Array.of(42.5) })).toEqual(golden("f8_scalar.npy"));
    expect(encodeNpy({ dtype: "float32", shape: [0, 3], data: new Float32Array(0) })).toEqual(golden("f4_empty.npy"));
  });
  it("Fortran order", () => {
    const a: NdArray = { dtype: "float64", shape: [2, 3], data: Float64Array.from([0, 1, 2, 3, 4, 5]) };
    expect(encodeNpy(a, { fortranOrder: true })).toEqual(golden("f8_fortran.npy"));
    const b: NdArray = { dtype: "float32", shape: [2, 3, 4], data: Float32Array.from({ length: 24 }, (_, i) => i) };
    expect(encodeNpy(b, { fortranOrder: true })).toEqual(golden("f4_fortran_3d.npy"));
  });
  it("big-endian", () => {
    expect(encodeNpy(f8, { byteOrder: "big" })).toEqual(golden("f8_be.npy"));
    expect(encodeNpy(f4, { byteOrder: "big" })).toEqual(golden("f4_be.npy"));
  });
  it("format versions 2.0 and 3.0", () => {
    expect(encodeNpy(f4, { version: 2 })).toEqual(golden("f4_v2.npy"));
    expect(encodeNpy(f8, { version: 3 })).toEqual(golden("f8_v3.npy"));
  });
});

describe("round trips", () => {
  const shapes = [[], [5], [4, 3], [2, 3, 4], [0, 3], [3, 1, 2, 2]];
  for (const dtype of ["float32", "float64"] as const) {
    for (const version of [1, 2, 3] as const) {
      for (const fortranOrder of [false, true]) {
        for (const byteOrder of ["little", "big"] as const) {
          it(`${dtype} v${version} ${fortranOrder ? "F" : "C"} ${byteOrder}`, () => {
            for (const shape of shapes) {
              const n = shape.reduce((a, b) => a * b, 1);
              const Ctor = dtype === "float32" ? Float32Array : Float64Array;
              const data = Ctor.from(Array.from({ length: n }, (_, i) => ((i * 7919) % 13) - 6.25 + i / 8));
              const arr: NdArray = { dtype, shape, data };
              const back = parseNpy(encodeNpy(arr, { version, fortranOrder, byteOrder }), "mem");
              expect(back).toEqual(arr);
            }
          });
        }
      }
    }
  }

  it("writeNpy / readNpy through the filesystem, atomically", () => {
    const file = path.join(tmp.dir, "rt.npy");
    writeNpy(file, f8);
    expect(readNpy(file)).toEqual(f8);
    writeNpy(file, f4); // overwrite in place
    expect(readNpy(file)).toEqual(f4);
    // no temporary files left behind
    expect(fs.readdirSync(tmp.dir).filter((n) => n.includes(".tmp"))).toEqual([]);
  });

  it("writing into a missing directory is a DataError and leaves nothing behind", () => {
    const err = errorOf(() => writeNpy(path.join(tmp.dir, "no/such/dir/x.npy"), f4));
    expect(err.message).toMatch(/no\/such\/dir\/x\.npy: cannot write \(ENOENT\)/);
  });

  it("rejects inconsistent arrays when encoding", () => {
    expect(() => encodeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array(3) })).toThrow(/needs 4 values, data has 3/);
    expect(() => encodeNpy({ dtype: "float32", shape: [2], data: new Float64Array(2) })).toThrow(/data is a Float64Array/);
    expect(() => encodeNpy({ dtype: "float64", shape: [-1], data: new Float64Array(0) })).toThrow(/non-negative/);
  });
});

describe("npz", () => {
  it("reads np.savez (stored, forced Zip64) and np.savez_compressed (deflate)", () => {
    for (const file of ["savez.npz", "savez_compressed.npz"]) {
      const m = readNpz(fixture(file));
      expect([...m.keys()]).toEqual(["x", "y", "z"]);
      expectMatches(m.get("x")!, "savez.npz:x", "float32");
      expectMatches(m.get("y")!, "savez.npz:y", "float64");
      expectMatches(m.get("z")!, "savez.npz:z", "float64");
    }
    expect(readNpzMemberNames(fixture("single.npz"))).toEqual(["series"]);
  });

  it("reads only the requested members", () => {
    const m = readNpz(fixture("savez_compressed.npz"), { members: ["y"] });
    expect([...m.keys()]).toEqual(["y"]);
  });

  it("round trips stored and deflated archives (Map and Record inputs)", () => {
    for (const compress of [false, true]) {
      const file = path.join(tmp.dir, `rt-${compress}.npz`);
      writeNpz(file, { W: f4, "b.bias": f8 }, { compress });
      const back = readNpz(file);
      expect([...back.keys()]).toEqual(["W", "b.bias"]);
      expect(back.get("W")).toEqual(f4);
      expect(back.get("b.bias")).toEqual(f8);
      const bytes = encodeNpz(new Map([["only", f8]]), { compress });
      expect(parseNpz(bytes, "mem").get("only")).toEqual(f8);
    }
  });

  it("writes deterministic bytes whose members are the exact .npy encodings", () => {
    const a = encodeNpz({ W: f4 });
    const b = encodeNpz({ W: f4 });
    expect(a).toEqual(b);
    // stored member: the .npy bytes appear verbatim after the 30-byte local header and the name
    const npy = encodeNpy(f4);
    expect(a.subarray(30 + "W.npy".length, 30 + "W.npy".length + npy.length)).toEqual(npy);
  });

  it("a missing member is a DataError listing the members", () => {
    const err = errorOf(() => readNpz(fixture("savez.npz"), { members: ["w"] }));
    expect(err.message).toBe(`${fixture("savez.npz")}: no member 'w' in the archive (members: 'x', 'y', 'z')`);
  });

  it("errors inside a member name the member", () => {
    const bad = encodeZip([{ name: "u.npy", data: new Uint8Array(fs.readFileSync(fixture("bad_unicode.npy"))) }]);
    const err = errorOf(() => parseNpz(bad, "p.npz"));
    expect(err.message).toMatch(/^p\.npz:u: unsupported dtype '<U3'/);
  });

  it("corrupt and truncated archives are DataErrors", () => {
    const good = new Uint8Array(fs.readFileSync(fixture("savez_compressed.npz")));
    expect(errorOf(() => parseNpz(good.subarray(0, good.length - 30), "t.npz")).message).toMatch(/^t\.npz: .*(zip|truncated)/);
    expect(errorOf(() => parseNpz(new Uint8Array(10), "s.npz")).message).toMatch(/^s\.npz: not a zip archive/);
    expect(errorOf(() => parseNpz(fs.readFileSync(fixture("f4_c.npy")), "n.npz")).message).toMatch(/not a zip archive/);
    // flip a byte of deflated data: inflate or CRC check must catch it
    const corrupt = Uint8Array.from(good);
    corrupt[80] = corrupt[80]! ^ 0xff;
    expect(errorOf(() => parseNpz(corrupt, "c.npz")).message).toMatch(/^c\.npz:\w: corrupt/);
  });

  it("lists members of an archive in memory", () => {
    expect(listNpzMembers(fs.readFileSync(fixture("savez.npz")), "savez.npz")).toEqual(["x", "y", "z"]);
  });
});

describe(".npy error paths", () => {
  const bytes = () => new Uint8Array(fs.readFileSync(fixture("f4_c.npy")));

  it("missing file", () => {
    const err = errorOf(() => readNpy(path.join(tmp.dir, "nope.npy")));
    expect(err.message).toBe(`file not found: ${path.join(tmp.dir, "nope.npy")}`);
  });

  it("bad magic", () => {
    const b = bytes();
    b[1] = 0x41;
    expect(errorOf(() => parseNpy(b, "data/x.npy")).message).toBe("data/x.npy: bad magic: not a NumPy .npy file (it must start with \\x93NUMPY)");
  });

  it("truncated preamble, header and data", () => {
    const b = bytes();
    expect(errorOf(() => parseNpy(b.subarray(0, 5), "x.npy")).message).toMatch(/^x\.npy: truncated \.npy file \(5 bytes/);
    expect(errorOf(() => parseNpy(b.subarray(0, 60), "x.npy")).message).toMatch(/^x\.npy: truncated \.npy file \(header says/);
    expect(errorOf(() => parseNpy(b.subarray(0, b.length - 1), "x.npy")).message).toBe(
      "x.npy: truncated .npy file: shape (2, 3) needs 24 data bytes, file has 23",
    );
  });

  it("unsupported format version", () => {
    const b = bytes();
    b[6] = 4;
    expect(errorOf(() => parseNpy(b, "x.npy")).message).toMatch(/unsupported \.npy format version 4\.0/);
  });

  it.each([
    ["bad_unicode.npy", /unsupported dtype '<U3' \(string arrays are not numeric; rnnc reads float32\/float64/],
    ["bad_object.npy", /unsupported dtype '\|O' \(object arrays hold pickled Python objects/],
    ["bad_struct.npy", /unsupported dtype: structured array with fields/],
    ["bad_bool.npy", /unsupported dtype '\|b1' \(bool arrays/],
    ["bad_complex.npy", /unsupported dtype '<c16' \(complex arrays/],
  ])("unsupported dtype: %s", (name, re) => {
    const err = errorOf(() => readNpy(fixture(name)));
    expect(err.message.startsWith(`${fixture(name)}: `)).toBe(true);
    expect(err.message).toMatch(re);
    expect(err.file).toBe(fixture(name));
  });

  function withHeader(header: string): Uint8Array {
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(10 + h.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
    new DataView(out.buffer).setUint16(8, h.length, true);
    out.set(h, 10);
    return out;
  }

  it("header not a dict, malformed, or missing keys", () => {
    expect(errorOf(() => parseNpy(withHeader("[1, 2]\n"), "h.npy")).message).toMatch(/^h\.npy: malformed \.npy header \(not a dict\)/);
    expect(errorOf(() => parseNpy(withHeader("{'descr': '<f4', \n"), "h.npy")).message).toMatch(/malformed \.npy header/);
    expect(errorOf(() => parseNpy(withHeader("{'descr': '<f4', 'shape': (1,)}\n"), "h.npy")).message).toMatch(
      /missing key 'fortran_order'/,
    );
    expect(errorOf(() => parseNpy(withHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}\n"), "h.npy")).message).toMatch(
      /'fortran_order' is not True\/False/,
    );
    expect(errorOf(() => parseNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}\n"), "h.npy")).message).toMatch(
      /'shape' is not a tuple of non-negative integers/,
    );
    expect(errorOf(() => parseNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': __import__('os')}\n"), "h.npy")).message).toMatch(
      /malformed/,
    );
  });

  it("accepts Python 2 style headers (long ints, double quotes, no trailing comma)", () => {
    const b = withHeader(`{"descr": "<f8", "fortran_order": False, "shape": (2L,)}\n`);
    const full = new Uint8Array(b.length + 16);
    full.set(b);
    new DataView(full.buffer).setFloat64(b.length, 1.5, true);
    new DataView(full.buffer).setFloat64(b.length + 8, -2, true);
    expect(parseNpy(full, "py2.npy")).toEqual({ dtype: "float64", shape: [2], data: Float64Array.of(1.5, -2) });
  });
});
