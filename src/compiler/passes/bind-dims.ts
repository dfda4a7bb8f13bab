// Dim binding: once the data are loaded, every dim gets its value, every shape and attribute
// becomes a plain number, and the deferred require clauses are checked.
import { evalNum, type NumExpr } from "../ir/numexpr.js";
import type { Program } from "../ir/types.js";
import { mapGraphs } from "./graphs.js";

export class DimBindingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DimBindingError";
  }
}

/** `dataSizes` maps "data.field" (e.g. "lorenz.features") to its size. */
export function bindDims(p: Program, dataSizes: Record<string, number>): Program {
  const values = new Map<string, number>();
  const env = (n: string) => values.get(n);
  const dims = p.dims.map((d) => {
    let v: number | undefined = d.value;
    if (d.source.kind === "data") {
      const key = `${d.source.data}.${d.source.field}`;
      const given = dataSizes[key];
      if (given === undefined && v === undefined) throw new DimBindingError(`dim ${d.name} = ${key} has no value: the data were not loaded`);
      if (given !== undefined && v !== undefined && given !== v) throw new DimBindingError(`dim ${d.name} = ${key}: the spec expects ${v}, the data have ${given}`);
      v = given ?? v;
    } else if (d.source.kind === "expr") v = evalNum(d.source.expr, env);
    else v = d.source.value;
    if (v === undefined || !Number.isInteger(v) || v <= 0) throw new DimBindingError(`dim ${d.name} evaluates to ${v}, not a positive integer`);
    values.set(d.name, v);
    return { ...d, value: v };
  });
  for (const r of p.requires) {
    const l = evalNum(r.lhs, env);
    const rv = evalNum(r.rhs, env);
    const ok = l !== undefined && rv !== undefined && ({ "==": l === rv, "!=": l !== rv, "<=": l <= rv, ">=": l >= rv, "<": l < rv, ">": l > rv } as const)[r.op];
    if (!ok) throw new DimBindingError(`require ${r.text} does not hold with the data: ${l} ${r.op} ${rv}${r.src ? ` (spec line ${r.src.line})` : ""}`);
  }
  const n = (e: NumExpr): number => {
    const v = evalNum(e, env);
    if (v === undefined) throw new DimBindingError(`cannot evaluate ${JSON.stringify(e)}`);
    return v;
  };
  const bound = mapGraphs({ ...p, dims, requires: [] }, (g) => ({
    ...g,
    eqns: g.eqns.map((e) => ({
      ...e,
      shape: e.shape.map(n),
      ...(e.attrs ? { attrs: Object.fromEntries(Object.entries(e.attrs).map(([k, v]) => [k, Array.isArray(v) ? v.map(n) : n(v)])) } : {}),
    })),
  }));
  const shapeOf = <T extends { shape: NumExpr[] }>(x: T): T => ({ ...x, shape: x.shape.map(n) });
  return {
    ...bound,
    params: bound.params.map((prm) => {
      const init = { ...prm.init } as Record<string, unknown>;
      for (const k of ["lo", "hi", "mean", "std", "value"]) if (k in init) init[k] = n(init[k] as NumExpr);
      return { ...shapeOf(prm), init: init as typeof prm.init };
    }),
    inputs: bound.inputs.map(shapeOf),
    states: bound.states.map(shapeOf),
    observations: bound.observations.map(shapeOf),
    train: bound.train && bound.train.forcing.kind !== "none"
      ? { ...bound.train, forcing: { ...bound.train.forcing, units: { ...bound.train.forcing.units, start: n(bound.train.forcing.units.start), stop: n(bound.train.forcing.units.stop) } } }
      : bound.train,
  };
}
