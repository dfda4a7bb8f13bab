// Helpers to apply a graph transform to each of a program's graphs without mutating it.
import type { Graph, Program } from "../ir/types.js";

export const GRAPH_KEYS = ["prelude", "init", "step", "observe"] as const;

export function mapGraphs(p: Program, f: (g: Graph, key: (typeof GRAPH_KEYS)[number]) => Graph): Program {
  const out: Program = structuredClone(p);
  for (const k of GRAPH_KEYS) out[k] = f(out[k], k);
  return out;
}
