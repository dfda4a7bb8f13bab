import { describe, expect, it } from "vitest";
import { parseCsv, readCsv } from "../../../src/runtime/data/csv.js";
import { DataError } from "../../../src/runtime/data/errors.js";
import { expected, fixture } from "./helpers.js";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("expected a DataError");
}

describe("numeric CSV", () => {
  it("reads np.savetxt output: whitespace, comma with header, comment header", () => {
    const want = expected("savetxt.txt");
    const txt = readCsv(fixture("savetxt.txt"));
    expect(txt.delimiter).toBe("whitespace");
    expect(txt.header).toBeNull();
    const hdr = readCsv(fixture("savetxt_header.csv"));
    expect(hdr.header).toEqual(["x", "y", "z"]);
    const com = readCsv(fixture("savetxt_comment.csv"));
    expect(com.header).toBeNull();
    for (const t of [txt, hdr, com]) {
      expect(t.dtype).toBe("float64");
      expect(t.shape).toEqual(want.shape);
      expect(Array.from(t.data)).toEqual(want.values);
    }
  });

  it("detects tab and semicolon delimiters, CRLF line ends, a BOM, blank and comment lines", () => {
    const tab = parseCsv("\ufeff# comment\r\na\tb\r\n1\t2\r\n\r\n3\t4\r\n", "t.tsv");
    expect(tab.delimiter).toBe("\t");
    expect(tab.header).toEqual(["a", "b"]);
    expect(tab.shape).toEqual([2, 2]);
    expect(Array.from(tab.data)).toEqual([1, 2, 3, 4]);
    const semi = parseCsv("1;2;3\n  # indented comment\n4;5;6\n", "s.csv");
    expect(semi.delimiter).toBe(";");
    expect(Array.from(semi.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("accepts spaces around fields, quoted numbers, scientific notation, nan/inf", () => {
    const t = parseCsv('"x", "y"\n 1.5e3 , -.25\n"+2" , 1E-2\nnan, -inf\n', "q.csv");
    expect(t.header).toEqual(["x", "y"]);
    expect(Array.from(t.data)).toEqual([1500, -0.25, 2, 0.01, Number.NaN, -Infinity]);
  });

  it("honours an explicit delimiter and header setting", () => {
    const t = parseCsv("1|2\n3|4\n", "p.txt", { delimiter: "|" });
    expect(t.shape).toEqual([2, 2]);
    const forced = parseCsv("10,20\n3,4\n", "h.csv", { header: true });
    expect(forced.header).toEqual(["10", "20"]);
    expect(forced.shape).toEqual([1, 2]);
    expect(messageOf(() => parseCsv("a,b\n1,2\n", "n.csv", { header: false }))).toBe(
      'n.csv:1:1: non-numeric value "a" in field 1',
    );
  });

  it("a single column", () => {
    const t = parseCsv("v\n1\n2\n3\n", "one.csv");
    expect(t.shape).toEqual([3, 1]);
  });

  it("ragged rows name file:line:column", () => {
    expect(messageOf(() => parseCsv("1,2,3\n4,5\n", "r.csv"))).toBe(
      "r.csv:2:4: ragged row: 2 fields, expected 3 (as on line 1) with delimiter ','",
    );
    expect(messageOf(() => parseCsv("x,y\n1,2\n# c\n3,4,5\n", "r.csv"))).toBe(
      "r.csv:4:5: ragged row: 3 fields, expected 2 (as on line 1) with delimiter ','",
    );
  });

  it("non-numeric and empty fields name file:line:column", () => {
    expect(messageOf(() => parseCsv("1,2\n3, abc\n", "d/x.csv"))).toBe('d/x.csv:2:4: non-numeric value "abc" in field 2');
    expect(messageOf(() => parseCsv("1,2\n3,\n", "x.csv"))).toBe("x.csv:2:3: empty field 2 (missing value?)");
    expect(messageOf(() => parseCsv("1.5,2\n1,5;2\n", "x.csv"))).toMatch(/^x\.csv:2:3: non-numeric value "5;2"/);
  });

  it("files without data rows", () => {
    expect(messageOf(() => parseCsv("# nothing\n\n", "e.csv"))).toBe("e.csv: no numeric data rows");
    expect(messageOf(() => parseCsv("a,b\n", "e.csv"))).toBe("e.csv: no numeric data rows after the header");
  });

  it("a bad delimiter option", () => {
    expect(messageOf(() => parseCsv("1,2\n", "x.csv", { delimiter: "::" }))).toMatch(/delimiter must be a single character/);
  });
});
