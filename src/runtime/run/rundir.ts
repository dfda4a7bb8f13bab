// The run directory, rnnc's interchange format:
//   config.json        resolved configuration, with where each value came from
//   ir.json            the bound IR of the spec
//   params.npz         the latest parameters (NumPy-readable, named as in the spec)
//   best.npz           the best parameters by the eval block's `keep best by` measure
//   checkpoints/last.json, checkpoints/best.json   everything needed to resume exactly
//   metrics.jsonl      one JSON event per line
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Program } from "../../compiler/ir/types.js";
import { writeFileAtomic } from "../data/atomic.js";

export const RUN_FILES = {
  config: "config.json",
  ir: "ir.json",
  params: "params.npz",
  best: "best.npz",
  last: join("checkpoints", "last.json"),
  bestCheckpoint: join("checkpoints", "best.json"),
  metrics: "metrics.jsonl",
} as const;

export function runPath(dir: string, file: keyof typeof RUN_FILES): string {
  return join(dir, RUN_FILES[file]);
}

export function createRunDir(dir: string): void {
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
}

export function defaultRunDir(model: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  let dir = join("runs", `${model}-${stamp}`);
  for (let i = 2; existsSync(dir); i++) dir = join("runs", `${model}-${stamp}-${i}`);
  return dir;
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"));
}

/**
 * A run's metrics.jsonl, one JSON event per line. Lines are kept in memory until `flush` (an
 * append per batch costs as much as a large ensemble's model step): the trainer flushes before
 * every checkpoint, so after a crash the file is never behind the checkpoint a resume starts from.
 */
export class MetricsLog {
  private lines: string[] = [];
  private readonly file: string;

  constructor(dir: string) {
    this.file = runPath(dir, "metrics");
  }

  append(event: Record<string, unknown>): void {
    this.lines.push(JSON.stringify({ time: new Date().toISOString(), ...event }) + "\n");
  }

  flush(): void {
    if (this.lines.length === 0) return;
    appendFileSync(this.file, this.lines.join(""));
    this.lines = [];
  }
}

/** A stable hash of the model part of the IR (not the training settings or the sweep), for resume checks. */
export function modelHash(p: Program): string {
  const rest: Record<string, unknown> = { ...p, train: null, eval: null, model: null };
  delete rest["sweep"]; // absent in specs without a sweep block, so their hashes are unchanged
  return createHash("sha256").update(JSON.stringify(rest)).digest("hex").slice(0, 16);
}
