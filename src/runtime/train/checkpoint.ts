// Checkpoints: everything a run needs to continue exactly (parameters, optimizer slots, PRNG
// streams, data cursor, the best score so far), in one JSON file written atomically (temp file +
// rename), so an interrupted write never leaves a broken checkpoint behind.
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../data/atomic.js";
import type { ParamValues } from "../model/params.js";
import { optimizerStateFromJSON, optimizerStateToJSON, type OptimizerStateJSON } from "./optimizers.js";
import type { TrainState } from "./trainer.js";

export const CHECKPOINT_VERSION = 1;

export interface CheckpointMeta {
  /** Hash of the IR the checkpoint belongs to; resuming with a different model is refused. */
  irHash: string;
  best: { measure: string; value: number; epoch: number } | null;
  savedAt: string;
}

interface CheckpointFile {
  version: number;
  meta: CheckpointMeta;
  cursor: TrainState["cursor"];
  params: Record<string, { shape: number[]; values: number[] }>;
  optimizer: OptimizerStateJSON | null;
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

export function writeCheckpoint(path: string, state: TrainState, meta: CheckpointMeta): void {
  const params: CheckpointFile["params"] = {};
  for (const [k, v] of state.params) params[k] = { shape: v.shape, values: Array.from(v.data) };
  const file: CheckpointFile = {
    version: CHECKPOINT_VERSION,
    meta,
    cursor: state.cursor,
    params,
    optimizer: state.optimizer ? optimizerStateToJSON(state.optimizer) : null,
  };
  writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(file)));
}

export function readCheckpoint(path: string): { state: TrainState; meta: CheckpointMeta } {
  if (!existsSync(path)) throw new CheckpointError(`no checkpoint at ${path}`);
  let file: CheckpointFile;
  try {
    file = JSON.parse(readFileSync(path, "utf8")) as CheckpointFile;
  } catch (e) {
    throw new CheckpointError(`${path} is not a readable checkpoint (${(e as Error).message})`);
  }
  if (file.version !== CHECKPOINT_VERSION || !file.cursor || !file.params) throw new CheckpointError(`${path} is not an rnnc checkpoint of version ${CHECKPOINT_VERSION}`);
  const params: ParamValues = new Map();
  for (const [k, v] of Object.entries(file.params)) params.set(k, { shape: v.shape, data: Float32Array.from(v.values) });
  return {
    state: { cursor: file.cursor, params, optimizer: file.optimizer ? optimizerStateFromJSON(file.optimizer) : null },
    meta: file.meta,
  };
}
