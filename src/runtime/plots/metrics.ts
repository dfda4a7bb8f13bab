// Reads a run's metrics.jsonl into the series the training figures show. Resumed runs append a
// second `start` event and repeat no completed epoch; should an event repeat, the last one wins.
import { existsSync, readFileSync } from "node:fs";

export interface EpochPoint {
  epoch: number;
  loss: number;
  lr: number;
  seconds: number;
  gtfAlpha?: number;
}

export interface BatchPoint {
  /** fractional epoch: epoch - 1 + batch / batches per epoch */
  x: number;
  loss: number;
}

export interface EvalPoint {
  epoch: number;
  dstsp?: number;
  dh?: number;
  pe?: number;
  diverged: boolean;
}

export interface TrainingHistory {
  epochs: EpochPoint[];
  /** per-batch losses, thinned evenly to at most `maxBatchPoints` */
  batches: BatchPoint[];
  evals: EvalPoint[];
  final?: { dstsp?: number; dh?: number; pe?: number; diverged?: boolean; bestEpoch?: number; compared?: number };
  plannedEpochs?: number;
}

type Event = Record<string, unknown> & { type?: string };

const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

export function parseMetrics(text: string, maxBatchPoints = 2000): TrainingHistory {
  const epochs = new Map<number, EpochPoint>();
  const evals = new Map<number, EvalPoint>();
  const batches: BatchPoint[] = [];
  let final: TrainingHistory["final"];
  let plannedEpochs: number | undefined;
  let batchesPerEpoch = 1;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let e: Event;
    try {
      e = JSON.parse(line) as Event;
    } catch {
      continue; // a line cut short by a crash: the rest of the file is still useful
    }
    if (e.type === "start") {
      plannedEpochs = num(e["epochs"]) ?? plannedEpochs;
      batchesPerEpoch = num(e["batchesPerEpoch"]) ?? batchesPerEpoch;
    } else if (e.type === "batch") {
      const epoch = num(e["epoch"]);
      const batch = num(e["batch"]);
      const loss = num(e["loss"]);
      if (epoch !== undefined && batch !== undefined && loss !== undefined) batches.push({ x: epoch - 1 + batch / batchesPerEpoch, loss });
    } else if (e.type === "epoch") {
      const epoch = num(e["epoch"]);
      const loss = num(e["loss"]);
      if (epoch === undefined || loss === undefined) continue;
      const g = num(e["gtfAlpha"]);
      epochs.set(epoch, { epoch, loss, lr: num(e["lr"]) ?? NaN, seconds: num(e["seconds"]) ?? NaN, ...(g !== undefined ? { gtfAlpha: g } : {}) });
    } else if (e.type === "eval") {
      const epoch = num(e["epoch"]);
      if (epoch === undefined) continue;
      const p: EvalPoint = { epoch, diverged: e["diverged"] === true };
      for (const k of ["dstsp", "dh", "pe"] as const) {
        const v = num(e[k]);
        if (v !== undefined) p[k] = v;
      }
      evals.set(epoch, p);
    } else if (e.type === "final") {
      final = {};
      for (const k of ["dstsp", "dh", "pe", "bestEpoch", "compared"] as const) {
        const v = num(e[k]);
        if (v !== undefined) final[k] = v;
      }
      if (typeof e["diverged"] === "boolean") final.diverged = e["diverged"];
    }
  }
  const stride = Math.max(1, Math.ceil(batches.length / maxBatchPoints));
  return {
    epochs: [...epochs.values()].sort((a, b) => a.epoch - b.epoch),
    batches: batches.filter((_, i) => i % stride === 0),
    evals: [...evals.values()].sort((a, b) => a.epoch - b.epoch),
    ...(final ? { final } : {}),
    ...(plannedEpochs !== undefined ? { plannedEpochs } : {}),
  };
}

export function readMetrics(path: string): TrainingHistory {
  return parseMetrics(existsSync(path) ? readFileSync(path, "utf8") : "");
}
