// End to end: `rnnc train --ensemble E` writes E complete run directories that are byte for byte
// the separate runs of their seeds, and Ctrl-C + --resume continues the whole ensemble exactly.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tinyDendplrnnSpec } from "./helpers/dendplrnn.js";
import { interruptWhen } from "./helpers/interrupt.js";

const root = join(import.meta.dirname, "..");
const entry = join(root, "test", "helpers", "rnnc-src.ts");

function rnnc(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", entry, ...args], { cwd: root, encoding: "utf8", timeout: 180_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** metrics.jsonl without the wall-clock fields. */
function metrics(dir: string): unknown[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => {
    const { seconds: _s, time: _t, ...rest } = JSON.parse(l) as Record<string, unknown>;
    return rest;
  });
}

let dir: string;
let spec: string;
const LONG = ["--backend", "cpu", "--epochs", "40", "--set", "batches_per_epoch=8", "--set", "eval.every=20", "--no-figures"];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-ensemble-"));
  spec = join(dir, "tiny.rnn");
  writeFileSync(spec, tinyDendplrnnSpec(3, true));
});

describe("rnnc train --ensemble", () => {
  it("member k is the separate run with seed + k, file for file", () => {
    const ens = join(dir, "ens");
    const r = rnnc("train", spec, "--ensemble", "3", "--seed", "4", "--out", ens, ...LONG);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/ensemble of 3/);
    expect(r.out).toMatch(/epoch 40\/40  loss median/);
    expect(JSON.parse(readFileSync(join(ens, "ensemble.json"), "utf8")).members).toEqual([0, 1, 2].map((k) => ({ dir: `run-${k}`, seed: 4 + k })));
    for (const k of [0, 1, 2]) {
      const sep = join(dir, `sep-${k}`);
      const s = rnnc("train", spec, "--seed", String(4 + k), "--out", sep, ...LONG);
      expect(s.code, s.err).toBe(0);
      const member = join(ens, `run-${k}`);
      for (const f of ["params.npz", "best.npz"]) expect(readFileSync(join(member, f)).equals(readFileSync(join(sep, f))), `run-${k}/${f}`).toBe(true);
      expect(metrics(member)).toEqual(metrics(sep));
      expect(existsSync(join(member, "checkpoints", "last.json"))).toBe(true);
    }
  }, 300_000);

  it("Ctrl-C stops every member with a checkpoint; --resume continues them to the same parameters", async () => {
    const part = join(dir, "part");
    const { code, stdout, sent } = await interruptWhen(["train", spec, "--ensemble", "3", "--seed", "4", "--out", part, ...LONG], /epoch 2\/40/);
    expect(sent).toBe(true);
    expect(code).toBe(130);
    expect(stdout).toMatch(/--resume/);
    const again = rnnc("train", spec, "--resume", part, ...LONG);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toMatch(/resuming at epoch/);
    for (const k of [0, 1, 2]) {
      expect(readFileSync(join(part, `run-${k}`, "params.npz")).equals(readFileSync(join(dir, "ens", `run-${k}`, "params.npz"))), `run-${k}`).toBe(true);
    }
  }, 300_000);

  it("refuses what an ensemble cannot do, with a clear message", () => {
    const r = rnnc("train", spec, "--ensemble", "2", "--precision", "float64", "--out", join(dir, "bad"));
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/float32/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const z = rnnc("train", spec, "--ensemble", "0");
    expect(z.code).not.toBe(0);
    expect(z.err).toMatch(/--ensemble expects a positive integer/);
  });
});
