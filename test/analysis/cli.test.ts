// `rnnc analyze` end to end through bin/rnnc.js: the report, the JSON document, determinism under
// --seed, and clear exit-1 messages (never a stack trace) for bad input.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readNpy, writeNpz } from "../../src/runtime/data/npy.js";
import { makeCli, STACK_LINE, type Cli, type CliResult } from "../helpers/cli.js";
import { FIXTURES } from "./helpers.js";

let cli: Cli;
let tmp: string;
const PLRNN = join(FIXTURES, "plrnn2d.rnn");
const TANH = join(FIXTURES, "tanh1d.rnn");
const vec = (...a: number[]) => ({ dtype: "float64" as const, shape: [a.length], data: Float64Array.from(a) });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "rnnc-analyze-"));
  cli = await makeCli();
  // SCYFI's 16-cycle system, stored in float64 (analysed at full precision)
  writeNpz(join(tmp, "p16.npz"), { A: vec(0.8377689000000008, 0.96461297), W: { dtype: "float64", shape: [2, 2], data: Float64Array.of(0, -0.6437499999999996, 0.52505308, 0) }, h: vec(0.37298253000000087, -0.97931491) });
  mkdirSync(join(tmp, "run"));
  writeNpz(join(tmp, "run", "params.npz"), { w: { dtype: "float32", shape: [1, 1], data: Float32Array.of(-2) }, b: { dtype: "float32", shape: [1], data: Float32Array.of(0) } });
  writeNpz(join(tmp, "bad.npz"), { A: vec(1, 2), h: vec(0, 0) });
});
afterAll(() => {
  cli?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function ok(r: CliResult): void {
  expect(r.stderr, `${cli.how}\n${r.stderr}`).not.toMatch(STACK_LINE);
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

function failsCleanly(r: CliResult, code: number, message: RegExp): void {
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stderr).not.toMatch(/internal compiler error/);
  expect(r.code, r.stdout + r.stderr).toBe(code);
  expect(r.stderr).toMatch(message);
}

describe.concurrent("rnnc analyze", () => {
  it("finds the two 16-cycles of SCYFI's test system and prints a report", async () => {
    const r = await cli.run(["analyze", PLRNN, "--params", join(tmp, "p16.npz"), "--max-cycle", "16", "--outer", "10", "--inner", "50", "--steps", "2000"]);
    ok(r);
    expect(r.stdout).toMatch(/step: piecewise linear, switches 2 relu \(line 15\): 4 region codes/);
    expect(r.stdout).toMatch(/cycle16\.1 +16 +yes/);
    expect(r.stdout).toMatch(/cycle16\.2 +16 +no/);
    expect(r.stdout).toMatch(/period 1: every region sequence, 4 candidates, 1 found, 3 virtual/);
    expect(r.stdout).toMatch(/regions visited: \d of 4/);
    expect(r.stdout).toMatch(/largest Lyapunov exponent: -?\d/);
  });

  it("--json is a complete document, identical for the same --seed", async () => {
    const args = ["analyze", PLRNN, "--params", join(tmp, "p16.npz"), "--max-cycle", "16", "--outer", "10", "--inner", "50", "--steps", "2000", "--json", "--seed", "7", "--symbols", join(tmp, "sym.npy")];
    const [a, b] = await Promise.all([cli.run(args), cli.run(args)]);
    ok(a);
    ok(b);
    const strip = (s: string) => JSON.stringify({ ...JSON.parse(s), seconds: 0, search: (JSON.parse(s).search.scyfi as { seconds: number }[]).map((x) => ({ ...x, seconds: 0 })) });
    expect(strip(a.stdout)).toBe(strip(b.stdout));
    const doc = JSON.parse(a.stdout);
    expect(doc.method).toBe("scyfi");
    const cycles = doc.objects.filter((o: { period: number }) => o.period === 16);
    expect(cycles.length).toBe(2);
    for (const c of cycles) {
      expect(c.points.length).toBe(16);
      expect(c.eigenvalues.length).toBe(2);
      expect(c.residual).toBeLessThan(1e-10);
      expect(typeof c.stable).toBe("boolean");
    }
    expect(readNpy(join(tmp, "sym.npy")).shape).toEqual([doc.symbolic.steps]);
  });

  it("smooth model from a run directory: fixed point and 2-cycle, by Newton", async () => {
    const r = await cli.run(["analyze", TANH, "--params", join(tmp, "run"), "--json", "--inits", "32", "--steps", "500"]);
    ok(r);
    const doc = JSON.parse(r.stdout);
    expect(doc.method).toBe("newton");
    expect(doc.objects.map((o: { id: string }) => o.id)).toEqual(["fp1", "cycle2.1"]);
    expect(doc.objects[0].negativeDominant).toBe(true);
  });

  it("exit 1 with a clear message for SCYFI on a smooth model", async () => {
    failsCleanly(await cli.run(["analyze", TANH, "--params", join(tmp, "run"), "--method", "scyfi"]), 1, /SCYFI needs a piecewise-linear step, but the step applies tanh to the state \(spec line 15\)/);
  });

  it("exit 1 when the parameters do not match the spec", async () => {
    failsCleanly(await cli.run(["analyze", PLRNN, "--params", join(tmp, "bad.npz")]), 1, /missing 'W'/);
  });

  it("exit 2 for bad options", async () => {
    failsCleanly(await cli.run(["analyze", PLRNN, "--params", join(tmp, "p16.npz"), "--input", "1,2"]), 2, /no inputs/);
    failsCleanly(await cli.run(["analyze", PLRNN, "--params", join(tmp, "p16.npz"), "--max-cycle", "0"]), 2, /--max-cycle expects an integer >= 1/);
    failsCleanly(await cli.run(["analyze", PLRNN, "--params", join(tmp, "nope.npz")]), 2, /does not exist/);
  });
});
