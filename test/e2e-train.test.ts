// End to end: `rnnc train` writes a complete run directory, resumes exactly, and `generate` and
// `eval` read it back; bad inputs are clear errors with a non-zero exit, never a stack trace.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readNpy, readNpz, writeNpy, writeNpz } from "../src/runtime/data/npy.js";
import { tinyDendplrnnSpec } from "./helpers/dendplrnn.js";
import { interruptWhen } from "./helpers/interrupt.js";

const root = join(import.meta.dirname, "..");
const entry = join(root, "test", "helpers", "rnnc-src.ts");

function rnnc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", entry, ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const SPEC = tinyDendplrnnSpec(3, true);

let dir: string;
let spec: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-e2e-"));
  spec = join(dir, "tiny.rnn");
  writeFileSync(spec, SPEC);
});

describe("rnnc train / generate / eval", () => {
  it("trains and writes the run directory", () => {
    const out = join(dir, "run");
    const r = rnnc("train", spec, "--out", out, "--backend", "cpu");
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/epoch 3\/3/);
    expect(r.out).toMatch(/D_stsp/);
    for (const f of ["config.json", "ir.json", "params.npz", "best.npz", "metrics.jsonl", join("checkpoints", "last.json"), join("checkpoints", "best.json")]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const params = readNpz(join(out, "params.npz"));
    expect([...params.keys()].sort()).toEqual(["A", "H", "L", "W", "alpha", "h"]);
    expect(params.get("W")!.shape).toEqual([5, 5]);
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config.settings.epochs).toEqual({ value: 3, origin: "spec" });
    expect(config.settings.teacher_noise.origin).toBe("default");
    const events = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(events.some((e) => e.type === "eval")).toBe(true);
  });

  it("--precision float64 trains the same model on the exact JavaScript kernel", () => {
    const losses = (precision: string) => {
      const out = join(dir, `run-${precision}`);
      const r = rnnc("train", spec, "--out", out, "--backend", "cpu", "--precision", precision, "--epochs", "1", "--no-figures");
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`fused tier (${precision})`);
      return readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.type === "epoch").map((e) => e.loss as number);
    };
    const [a, b] = [losses("float32"), losses("float64")];
    // one epoch of 3 batches from the same start: the two arithmetics agree to float32 rounding
    expect(Math.abs(a[0]! - b[0]!) / b[0]!).toBeLessThan(1e-4);
    const bad = rnnc("train", spec, "--precision", "float16");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown --precision 'float16'/);
  });

  it("prints the resolved configuration with the origin of every value", () => {
    const r = rnnc("train", spec, "--print-config", "--set", "optimizer.lr=1e-4", "--epochs", "7");
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/epochs\s+7\s+\[cli\]/);
    expect(r.out).toMatch(/optimizer\s+.*"lr":0\.0001.*\[cli\]/);
    expect(r.out).toMatch(/batch_size\s+4\s+\[spec\]/);
    expect(r.out).toMatch(/teacher_noise\s+0\s+\[default\]/);
  });

  it("a bad --set is a diagnostic pointing into the edited spec", () => {
    const r = rnnc("train", spec, "--set", "optimizer.lr=-1");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/RNN-E063/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("Ctrl-C writes a checkpoint; --resume continues to the same parameters as an uninterrupted run", async () => {
    const full = join(dir, "full");
    const long = ["--backend", "cpu", "--epochs", "60", "--set", "batches_per_epoch=8", "--set", "eval.every=1000"];
    expect(rnnc("train", spec, "--out", full, ...long).code).toBe(0);
    const part = join(dir, "part");
    const { code, stdout, sent } = await interruptWhen(["train", spec, "--out", part, ...long], /epoch 2\/60/);
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stdout).toMatch(/--resume/);
    const again = rnnc("train", spec, "--resume", part, ...long);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/resuming at epoch/);
    const a = readNpz(join(full, "params.npz"));
    const b = readNpz(join(part, "params.npz"));
    for (const [k, v] of a) expect(Array.from(b.get(k)!.data), k).toEqual(Array.from(v.data));
  });

  it("generate: free run from a first observation and from a full latent state", () => {
    const run = join(dir, "run");
    const from = join(dir, "x0.npy");
    writeNpy(from, { dtype: "float64", shape: [2, 3], data: Float64Array.from([0.1, -0.2, 0.3, 0, 0, 0]) });
    const out = join(dir, "traj.npy");
    let r = rnnc("generate", spec, "--params", run, "--steps", "50", "--from", from, "--out", out);
    expect(r.code, r.err).toBe(0);
    const traj = readNpy(out);
    expect(traj.shape).toEqual([51, 3]);
    expect(Array.from(traj.data.subarray(0, 3)).map((v) => +v.toFixed(6))).toEqual([0.1, -0.2, 0.3]);
    expect(readNpy(out.replace(".npy", ".latent.npy")).shape).toEqual([51, 5]);
    const z0 = join(dir, "z0.npy");
    writeNpy(z0, { dtype: "float64", shape: [5], data: Float64Array.from([0.5, 0.1, -0.1, 0.2, 0]) });
    r = rnnc("generate", spec, "--params", join(run, "params.npz"), "--steps", "10", "--z0", z0, "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(Array.from(readNpy(out.replace(".npy", ".latent.npy")).data.subarray(0, 5))).toEqual([0.5, 0.1, -0.1, 0.2, 0]);
  });

  it("eval prints D_stsp, D_H and PE", () => {
    const test = join(dir, "test.npy");
    const T = 3000;
    const data = new Float64Array(T * 3);
    for (let t = 0; t < T; t++) for (let n = 0; n < 3; n++) data[t * 3 + n] = Math.sin(0.05 * t + n);
    writeNpy(test, { dtype: "float64", shape: [T, 3], data });
    const r = rnnc("eval", spec, "--params", join(dir, "run"), "--data", test, "--json");
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out);
    expect(Number.isFinite(s.dstsp)).toBe(true);
    expect(s.dh).toBeGreaterThanOrEqual(0);
    expect(s.dh).toBeLessThanOrEqual(1);
    expect(Number.isFinite(s.pe)).toBe(true);
  });

  it("parameters that do not match the spec are a clear error listing the differences", () => {
    const bad = join(dir, "bad.npz");
    writeNpz(bad, { A: { dtype: "float32", shape: [4], data: new Float32Array(4) }, extra: { dtype: "float32", shape: [1], data: new Float32Array(1) } });
    const r = rnnc("eval", spec, "--params", bad, "--data", join(dir, "test.npy"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/'A' is \[4\] in the file but \[5\] in the spec/);
    expect(r.err).toMatch(/missing 'W'/);
    expect(r.err).toMatch(/unexpected 'extra'/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("missing and malformed data files are clear errors", () => {
    let r = rnnc("train", spec, "--data", join(dir, "nope.npy"), "--out", join(dir, "r2"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not found/);
    const junk = join(dir, "junk.npy");
    writeFileSync(junk, "this is not numpy");
    r = rnnc("train", spec, "--data", junk, "--out", join(dir, "r3"));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/junk\.npy/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
