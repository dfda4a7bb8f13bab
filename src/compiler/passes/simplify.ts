// Algebraic simplifications that make generated loops cheaper (pure IR → IR, bound shapes):
//  - a broadcast feeding only elementwise operations of the broadcast shape is dropped: NumPy
//    broadcasting in the consumer does the same without materializing the copy;
//  - a matrix product with an inner dimension of 1 (an outer product, as reverse mode produces
//    for every matrix-vector product) becomes an elementwise product, which fuses with its neighbours.
import { evalNum } from "../ir/numexpr.js";
import type { Eqn, Graph, Shape } from "../ir/types.js";

const ELEMENTWISE = new Set(["add", "sub", "mul", "div", "pow", "maximum", "minimum"]);

const n = (d: unknown) => evalNum(d as number, () => undefined);
const same = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => n(d) === n(b[i]));

export function simplifyGraph(g: Graph, inputShapes: Map<string, Shape>): Graph {
  const shapes = new Map<string, Shape>(inputShapes);
  for (const e of g.eqns) shapes.set(e.out, e.shape);
  const users = new Map<string, Eqn[]>();
  for (const e of g.eqns) for (const a of e.args) users.set(a, [...(users.get(a) ?? []), e]);
  const outputs = new Set(Object.values(g.outputs));

  const replace = new Map<string, string>();
  for (const e of g.eqns) {
    if (e.op !== "broadcast" || outputs.has(e.out)) continue;
    const us = users.get(e.out) ?? [];
    const ok = us.length > 0 && us.every((u) => {
      if (!ELEMENTWISE.has(u.op) || !same(u.shape, e.shape)) return false;
      const other = u.args[0] === e.out ? u.args[1]! : u.args[0]!;
      return other !== e.out && same(shapes.get(other)!, e.shape);
    });
    if (ok) replace.set(e.out, e.args[0]!);
  }

  const eqns: Eqn[] = [];
  for (const e0 of g.eqns) {
    if (replace.has(e0.out)) continue;
    const e = { ...e0, args: e0.args.map((a) => replace.get(a) ?? a) };
    if (e.op === "matmul") {
      const sa = shapes.get(e.args[0]!)!;
      const sb = shapes.get(e.args[1]!)!;
      if (sa.length >= 2 && sb.length >= 2 && n(sa[sa.length - 1]) === 1 && n(sb[sb.length - 2]) === 1) {
        // [.., m, 1] @ [.., 1, n] is the broadcast product of the two.
        const { attrs: _unused, ...rest } = e;
        void _unused;
        eqns.push({ ...rest, op: "mul" });
        continue;
      }
    }
    eqns.push(e);
  }
  const outs = Object.fromEntries(Object.entries(g.outputs).map(([key, v]) => [key, replace.get(v) ?? v]));
  return { inputs: g.inputs, eqns, outputs: outs };
}
