// A compact, jaxpr-like text form of the IR for humans (`rnnc ir --stage ir --text`).
import { printNum, type NumExpr } from "./numexpr.js";
import type { Graph, Program } from "./types.js";

const shape = (s: NumExpr[]) => `[${s.map((d) => printNum(d)).join(",")}]`;

function attrs(a: Record<string, NumExpr | NumExpr[]> | undefined): string {
  if (!a) return "";
  return "{" + Object.entries(a).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.map((x) => printNum(x)).join(",")}]` : printNum(v)}`).join(" ") + "}";
}

export function printGraph(name: string, g: Graph): string {
  const lines = [`${name}(${g.inputs.join(", ")}) {`];
  for (const e of g.eqns) lines.push(`  ${e.out}:${shape(e.shape)} = ${e.op}${attrs(e.attrs)} ${e.args.join(" ")}`.trimEnd());
  lines.push(`  return ${Object.entries(g.outputs).map(([k, v]) => (k === v ? k : `${k}=${v}`)).join(", ")}`);
  lines.push("}");
  return lines.join("\n");
}

export function printProgram(p: Program): string {
  const out: string[] = [`model ${p.model.name}`];
  out.push(`dims ${p.dims.map((d) => `${d.name}=${d.value ?? (d.source.kind === "data" ? `${d.source.data}.${d.source.field}` : d.source.kind === "expr" ? printNum(d.source.expr) : "?")}`).join(" ")}`);
  for (const r of p.requires) out.push(`require ${r.text}`);
  for (const prm of p.params) {
    const cs = prm.constraints.map((c) => c.kind + (c.kind === "dale" ? `(${c.excitatory})` : "")).join(" ");
    out.push(`param ${prm.name}:${prm.structure === "diag" ? "diag" : ""}${shape(prm.shape)} init=${prm.init.scheme}${cs ? " " + cs : ""}${prm.trainable ? "" : " frozen"}`);
  }
  for (const s of p.states) out.push(`state ${s.name}:${shape(s.shape)}`);
  for (const i of p.inputs) out.push(`input ${i.name}:${shape(i.shape)} from ${i.data}`);
  for (const o of p.observations) out.push(`observe ${o.name}:${shape(o.shape)}`);
  for (const k of ["prelude", "init", "step", "observe"] as const) out.push(printGraph(k, p[k]));
  if (p.sweep) out.push(`sweep ${[...p.sweep.grid.map((a) => `${a.key}=[${a.values.join(", ")}]`), `runs=${p.sweep.runs}`].join(" ")}`);
  return out.join("\n");
}
