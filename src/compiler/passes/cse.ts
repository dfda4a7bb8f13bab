// Common-subexpression elimination: an equation identical to an earlier one (same op, arguments,
// attributes and shape) is replaced by it. Noise draws are never merged: each is a fresh sample.
import type { Graph, Program } from "../ir/types.js";
import { mapGraphs } from "./graphs.js";

export function cseGraph(g: Graph): Graph {
  const seen = new Map<string, string>();
  const rename = new Map<string, string>();
  const eqns = [];
  for (const e0 of g.eqns) {
    const e = { ...e0, args: e0.args.map((a) => rename.get(a) ?? a) };
    if (e.op !== "noise") {
      const key = JSON.stringify([e.op, e.args, e.attrs ?? null, e.shape]);
      const prev = seen.get(key);
      // Keep readable names (lets, next states) as definitions; only merge temporaries.
      if (prev !== undefined && e.out.startsWith("%")) {
        rename.set(e.out, prev);
        continue;
      }
      if (prev === undefined) seen.set(key, e.out);
    }
    eqns.push(e);
  }
  const outputs = Object.fromEntries(Object.entries(g.outputs).map(([k, v]) => [k, rename.get(v) ?? v]));
  return { inputs: g.inputs, eqns, outputs };
}

export function cse(p: Program): Program {
  return mapGraphs(p, cseGraph);
}
