// Dead-code elimination: drop equations whose values reach no output, and unused inputs.
import type { Graph, Program } from "../ir/types.js";
import { mapGraphs } from "./graphs.js";

export function dceGraph(g: Graph): Graph {
  const live = new Set(Object.values(g.outputs));
  const kept = [];
  for (let i = g.eqns.length - 1; i >= 0; i--) {
    const e = g.eqns[i]!;
    if (!live.has(e.out)) continue;
    kept.push(e);
    for (const a of e.args) live.add(a);
  }
  kept.reverse();
  return { inputs: g.inputs.filter((i) => live.has(i)), eqns: kept, outputs: g.outputs };
}

export function dce(p: Program): Program {
  return mapGraphs(p, dceGraph);
}
