import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../../src/runtime/data/errors.js";
import { checkSeries, loadSeries, splitMemberSpec } from "../../../src/runtime/data/load.js";
import { writeNpy, writeNpz, type NdArray } from "../../../src/runtime/data/npy.js";
import { expected, fixture, tempDir } from "./helpers.js";

const tmp = tempDir();
afterAll(tmp.cleanup);
const at = (name: string) => path.join(tmp.dir, name);

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("expected a DataError");
}

const series = (shape: number[], fill = (i: number) => i): NdArray => ({
  dtype: "float64",
  shape,
  data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
});

describe("loadSeries", () => {
  it("dispatches on the extension", () => {
    expect(loadSeries(fixture("f4_c.npy")).shape).toEqual([2, 3]);
    expect(loadSeries(fixture("single.npz")).shape).toEqual([4, 3]);
    expect(loadSeries(`${fixture("savez.npz")}:x`).shape).toEqual([2, 3]);
    expect(loadSeries(fixture("savetxt_header.csv")).shape).toEqual(expected("savetxt_header.csv").shape);
    expect(loadSeries(fixture("savetxt.txt")).shape).toEqual([4, 3]);
    fs.writeFileSync(at("t.tsv"), "a\tb\n1\t2\n3\t4\n");
    expect(Array.from(loadSeries(at("t.tsv")).data)).toEqual([1, 2, 3, 4]);
  });

  it("resolves relative paths against baseDir", () => {
    expect(loadSeries("f4_c.npy", { baseDir: path.dirname(fixture("f4_c.npy")) }).shape).toEqual([2, 3]);
    expect(messageOf(() => loadSeries("nope.npy", { baseDir: tmp.dir }))).toBe(`file not found: nope.npy (looked for ${at("nope.npy")})`);
  });

  it("reshapes 1-D to [T, 1] and keeps 3-D [trials, T, N]", () => {
    const one = loadSeries(fixture("f8_1d.npy"));
    expect(one.shape).toEqual([5, 1]);
    expect(Array.from(one.data)).toEqual(expected("f8_1d.npy").values);
    writeNpy(at("trials.npy"), series([2, 4, 3]));
    expect(loadSeries(at("trials.npy")).shape).toEqual([2, 4, 3]);
  });

  it("missing file", () => {
    expect(messageOf(() => loadSeries(at("missing.npy")))).toBe(`file not found: ${at("missing.npy")}`);
    expect(messageOf(() => loadSeries(`${at("missing.npz")}:x`))).toBe(`file not found: ${at("missing.npz")}`);
  });

  it("an .npz with several members needs a member name, and lists them", () => {
    expect(messageOf(() => loadSeries(fixture("savez.npz")))).toBe(
      `${fixture("savez.npz")}: the archive holds 3 arrays ('x', 'y', 'z'): name one as '${fixture("savez.npz")}:<member>'`,
    );
    expect(messageOf(() => loadSeries(`${fixture("savez.npz")}:w`))).toBe(
      `${fixture("savez.npz")}: no member 'w' in the archive (members: 'x', 'y', 'z')`,
    );
    writeNpz(at("empty.npz"), {});
    expect(messageOf(() => loadSeries(at("empty.npz")))).toMatch(/the archive holds no arrays/);
  });

  it("rejects unknown extensions, members of non-archives, bad ranks and empty series", () => {
    fs.writeFileSync(at("x.json"), "[]");
    expect(messageOf(() => loadSeries(at("x.json")))).toMatch(/unknown data file extension '\.json' \(rnnc reads \.npy, \.npz, \.csv, \.tsv, \.txt\)/);
    expect(messageOf(() => loadSeries(fixture("f8_scalar.npy")))).toMatch(/expected a series of shape \[T, N\].*got 0-D shape \[\]/);
    writeNpy(at("4d.npy"), series([1, 2, 3, 4]));
    expect(messageOf(() => loadSeries(at("4d.npy")))).toMatch(/got 4-D shape \[1, 2, 3, 4\]/);
    expect(messageOf(() => loadSeries(fixture("f4_empty.npy")))).toMatch(/empty series \(shape \[0, 3\]\)/);
  });

  it("NaN/Inf values: how many and where the first is", () => {
    const data = series([4, 3]);
    data.data[7] = Number.NaN;
    data.data[11] = Infinity;
    writeNpy(at("nan.npy"), data);
    expect(messageOf(() => loadSeries(at("nan.npy")))).toBe(
      `${at("nan.npy")}: 2 non-finite values (NaN/Inf); the first is NaN at index [2, 1] (row 2, column 1, 0-based)`,
    );
    fs.writeFileSync(at("inf.csv"), "1,2\n3,inf\n");
    expect(messageOf(() => loadSeries(at("inf.csv")))).toMatch(/1 non-finite value \(NaN\/Inf\); the first is Infinity at index \[1, 1\]/);
    const trials = series([2, 2, 2]);
    trials.data[5] = -Infinity;
    expect(messageOf(() => checkSeries(trials, "t"))).toMatch(/at index \[1, 0, 1\] \(trial 1, step 0, column 1, 0-based\)/);
  });

  it("splits file.npz:member only after .npz", () => {
    expect(splitMemberSpec("a/b.npz:train")).toEqual({ file: "a/b.npz", member: "train" });
    expect(splitMemberSpec("C:\\data\\x.npy")).toEqual({ file: "C:\\data\\x.npy", member: undefined });
    expect(splitMemberSpec("weird:name.npy")).toEqual({ file: "weird:name.npy", member: undefined });
  });
});
