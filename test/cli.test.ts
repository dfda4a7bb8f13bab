// The rnnc command line end to end: exit codes (0 clean, 1 errors, 2 usage, 101 a bug in rnnc),
// clear messages instead of JavaScript stack traces, `--format json`, `ir`, `explain`, `--help`.
// The spawned runs go through bin/rnnc.js (see helpers/cli.ts); the matrix of every zoo spec x
// every `ir` stage runs in process through the same main(), which is much faster than spawning.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli/main.js";
import { ALL_CODES } from "../src/compiler/diagnostics/codes.js";
import { makeCli, STACK_LINE, type Cli, type CliResult } from "./helpers/cli.js";
import { zooSpecs } from "./helpers/specs.js";

const ZOO = zooSpecs();
let cli: Cli;
let tmp: string;
const file = (name: string, text: string | Buffer): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

function noStackTrace(r: CliResult): void {
  expect(r.stderr, `stderr of a run (${cli.how}):\n${r.stderr}`).not.toMatch(STACK_LINE);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "rnnc-cli-files-"));
  cli = await makeCli();
});
afterAll(() => {
  cli?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe.concurrent("rnnc check: exit codes", () => {
  it("0 when every file is clean (warnings allowed)", async () => {
    const warn = file("warn.rnn", ZOO.find((s) => s.name === "plrnn")!.text.replace("params {", "params {\n  Q : [M] init = zeros"));
    // CRLF line endings and a byte-order mark are fine too.
    const crlf = file("crlf.rnn", ZOO[0]!.text.replace(/\n/g, "\r\n"));
    const bom = file("bom.rnn", "\uFEFF" + ZOO[0]!.text);
    const r = await cli.run(["check", ...ZOO.map((s) => s.path), warn, crlf, bom]);
    noStackTrace(r);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const s of ZOO) expect(r.stdout).toContain(`${s.path}: ok`);
    expect(r.stdout).toMatch(/warn\.rnn: 1 warning/);
    expect(r.stdout).toMatch(/crlf\.rnn: ok/);
    expect(r.stdout).toMatch(/bom\.rnn: ok/);
  });

  it("1 when any file has an error, and every file is still reported", async () => {
    const bad = file("bad.rnn", ZOO[0]!.text.replace(/\bmodel\b/, "modle"));
    const r = await cli.run(["check", ZOO[0]!.path, bad, ZOO[1]!.path]);
    noStackTrace(r);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${ZOO[0]!.path}: ok`);
    expect(r.stdout).toMatch(/error\[RNN-E\d{3}\]/);
    expect(r.stdout).toMatch(/bad\.rnn: \d+ errors?/);
    expect(r.stdout).toContain(`${ZOO[1]!.path}: ok`);
  });

  it("2 for usage errors: a missing file, a directory, an unknown option or --format, no file", async () => {
    const cases: [string[], RegExp][] = [
      [["check", "no/such/file.rnn"], /cannot read 'no\/such\/file\.rnn': no such file/],
      [["check", "specs"], /'specs' is a directory/],
      [["check", "--bogus", ZOO[0]!.path], /unknown option '--bogus'/],
      [["check", "--format", "xml", ZOO[0]!.path], /unknown --format 'xml'/],
      [["check"], /missing required argument/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli.run(args)));
    results.forEach((r, i) => {
      const [args, msg] = cases[i]!;
      noStackTrace(r);
      expect(r.code, `rnnc ${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split("\n").length, r.stderr).toBeLessThanOrEqual(3);
    });
  });

  it("101 with a one-line 'bug in rnnc' message for an internal error (RNNC_FAULT_INJECT=ice)", async () => {
    const r = await cli.run(["check", ZOO[0]!.path], { env: { RNNC_FAULT_INJECT: "ice" } });
    noStackTrace(r);
    expect(r.code).toBe(101);
    expect(r.stderr).toMatch(/^rnnc: internal compiler error: fault injected/);
    expect(r.stderr).toMatch(/this is a bug in rnnc/);
    expect(r.stderr.trim().split("\n")).toHaveLength(2);
  });
});

describe.concurrent("rnnc check: malformed input never crashes it", () => {
  it("binary, empty, NUL, unicode, unclosed, 1 MB of nesting: exit 1, diagnostics, no stack trace", async () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 256;
    const files = [
      file("binary.rnn", bytes),
      file("empty.rnn", ""),
      file("nul.rnn", "model m\0\n"),
      file("unicode.rnn", "model 模型 \"α\"\nlatent z : [M] = zeros { z' = α × z − 1 }\n😀"),
      file("unclosed.rnn", 'model m\nlatent z : [M] = zeros {\n  z\' = relu(z\n"unterminated'),
      file("parens.rnn", "(".repeat(1 << 20)),
      file("minus.rnn", `model m\nconst x = ${"-".repeat(1 << 20)}1\n`),
      file("sum.rnn", `model m\nconst x = ${"a + ".repeat(20_000)}a\n`),
      file("proto.rnn", `${ZOO[0]!.text}\nconst constructor = 1\nconst __proto__ = toString`),
    ];
    const r = await cli.run(["check", "--format", "json", ...files]);
    noStackTrace(r);
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { file: string; ok: boolean; diagnostics: { code: string }[] }[];
    expect(out.map((x) => x.file)).toEqual(files);
    for (const x of out) {
      expect(x.ok, x.file).toBe(false);
      expect(x.diagnostics.length, x.file).toBeGreaterThan(0);
    }
    const codesOf = (name: string) => out.find((x) => x.file.endsWith(name))!.diagnostics.map((d) => d.code);
    expect(codesOf("parens.rnn")).toContain("RNN-E005");
    expect(codesOf("minus.rnn")).toContain("RNN-E005");
    expect(codesOf("sum.rnn")).toContain("RNN-E005");
    // The small ones pretty-printed (source lines with NULs, binary and unicode under carets).
    const p = await cli.run(["check", ...files.slice(0, 5)]);
    noStackTrace(p);
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(/empty\.rnn: 1 error/);
  });
});

describe.concurrent("rnnc check --format json", () => {
  it("parses, and every diagnostic has code, severity, message and span", async () => {
    const bad = file("json-bad.rnn", ZOO[0]!.text.replace("params {", "params {\n  Q : [M, 3] init = bogus_init"));
    const r = await cli.run(["check", "--format", "json", ZOO[0]!.path, bad]);
    noStackTrace(r);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { file: string; ok: boolean; diagnostics: Record<string, unknown>[] }[];
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ file: ZOO[0]!.path, ok: true });
    expect(out[1]!.ok).toBe(false);
    const diags = out.flatMap((x) => x.diagnostics);
    expect(diags.length).toBeGreaterThan(0);
    for (const d of diags) {
      expect(ALL_CODES).toContain(d["code"]);
      expect(["error", "warning", "note"]).toContain(d["severity"]);
      expect(typeof d["message"]).toBe("string");
      expect(d["span"]).toMatchObject({ start: [expect.any(Number), expect.any(Number)], end: [expect.any(Number), expect.any(Number)] });
    }
    expect(diags.some((d) => d["severity"] === "error")).toBe(true);
  });
});

describe.concurrent("rnnc ir, explain, --help", () => {
  it("rnnc ir prints a stage as JSON or as text (every stage of every spec: in process, below)", async () => {
    const spec = ZOO.find((s) => s.name === "dendplrnn")!.path;
    const [json, text] = await Promise.all([cli.run(["ir", spec, "--stage", "opt"]), cli.run(["ir", spec, "--text"])]);
    noStackTrace(json);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ model: { name: "dendplrnn" } });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.length).toBeGreaterThan(100);
  });

  it("rnnc ir on a spec with errors: exit 1 and the errors on stderr", async () => {
    const r = await cli.run(["ir", file("ir-bad.rnn", "model m\nlatent z : [M] = zeros { z' = z }")]);
    noStackTrace(r);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RNN-E\d{3}/);
  });

  it("rnnc explain CODE prints the explanation; an unknown code exits 2; no code lists them all", async () => {
    const [e, bogus, all] = await Promise.all([cli.run(["explain", "RNN-E012"]), cli.run(["explain", "BOGUS"]), runMain(["explain"])]);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/^RNN-E012 \(error\): /);
    expect(e.stdout.split("\n").length).toBeGreaterThan(3);
    noStackTrace(bogus);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/unknown diagnostic code 'BOGUS'/);
    expect(all.code).toBe(0);
    for (const c of ALL_CODES) expect(all.stdout).toContain(c);
  });

  it("rnnc --help exits 0 and lists the commands; --version prints it", async () => {
    const [h, v] = await Promise.all([cli.run(["--help"]), runMain(["--version"])]);
    expect(h.code).toBe(0);
    for (const c of ["check", "ir", "explain"]) expect(h.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, "m"));
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

/** main() in process, with stdout and stderr captured. */
async function runMain(args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  try {
    const code = await main(["node", "rnnc", ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("in process", () => {
  it("an internal error in JSON mode leaves nothing half-written on stdout", async () => {
    vi.stubEnv("RNNC_FAULT_INJECT", "ice");
    try {
      const r = await runMain(["check", "--format", "json", ZOO[0]!.path]);
      expect(r.code).toBe(101);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/this is a bug in rnnc/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("usage errors of ir: an unknown stage, a missing spec", async () => {
    const s = await runMain(["ir", ZOO[0]!.path, "--stage", "bogus"]);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/unknown --stage 'bogus'/);
    const m = await runMain(["ir", "no/such.rnn"]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/no such file/);
  });
});

describe("rnnc ir --stage ast|typed|ir|opt on every zoo spec (in process)", () => {
  for (const spec of ZOO) {
    it(spec.name, async () => {
      for (const stage of ["ast", "typed", "ir", "opt"]) {
        const r = await runMain(["ir", spec.path, "--stage", stage]);
        expect(r.code, `${spec.path} --stage ${stage}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toBe("");
        const parsed = JSON.parse(r.stdout) as unknown;
        expect(parsed).toBeTruthy();
        if (stage === "ir" || stage === "opt") expect(parsed).toMatchObject({ model: { name: expect.any(String) } });
      }
      const text = await runMain(["ir", spec.path, "--stage", "opt", "--text"]);
      expect(text.code).toBe(0);
      expect(text.stdout.length).toBeGreaterThan(0);
      const check = await runMain(["check", spec.path]);
      expect(check.code).toBe(0);
    });
  }
});
