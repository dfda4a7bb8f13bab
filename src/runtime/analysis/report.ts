// The readable report of `rnnc analyze` and its JSON form.
import type { AnalysisReport } from "./analyze.js";
import type { Complex } from "./linalg.js";
import type { InvariantObject } from "./objects.js";

const num = (x: number, digits = 4): string => {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e5 ? x.toFixed(digits).replace(/\.?0+$/, "") || "0" : x.toExponential(2);
};

const complex = (c: Complex): string => (Math.abs(c.im) <= 1e-12 * Math.max(1, Math.abs(c.re)) ? num(c.re) : `${num(c.re)}${c.im < 0 ? "-" : "+"}${num(Math.abs(c.im))}i`);

function eigenSummary(ev: Complex[], max = 3): string {
  const shown: string[] = [];
  for (let i = 0; i < ev.length && shown.length < max; i++) {
    const c = ev[i]!;
    if (c.im < 0 && i > 0 && ev[i - 1]!.im === -c.im && ev[i - 1]!.re === c.re) continue; // the conjugate is implied by ±
    shown.push(c.im !== 0 && Math.abs(c.im) > 1e-12 * Math.max(1, Math.abs(c.re)) ? `${num(c.re)}±${num(Math.abs(c.im))}i` : complex(c));
  }
  return shown.join(", ") + (ev.length > shown.length ? ", ..." : "");
}

function location(p: number[], max = 6): string {
  return `[${p.slice(0, max).map((x) => num(x, 3)).join(", ")}${p.length > max ? `, ... (${p.length})` : ""}]`;
}

function table(rows: string[][], indent = "  "): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => (r[j] ?? "").length)));
  return rows.map((r) => indent + r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]!))).join("  ")).join("\n");
}

function flags(o: InvariantObject): string {
  const f: string[] = [];
  if (o.marginal) f.push("marginal");
  if (o.negativeDominant) f.push("negative dominant");
  if (o.complexDominant) f.push("complex dominant");
  return f.join(", ");
}

export function renderReport(r: AnalysisReport): string {
  const out: string[] = [];
  out.push(`rnnc analyze: ${r.model.file} (${r.model.name}): ${r.state.size} state unit${r.state.size === 1 ? "" : "s"} (${r.state.layout.map((s) => `${s.name}[${s.shape.join(", ")}]`).join(", ")}), seed ${r.seed}`);
  const inputs = Object.entries(r.inputs);
  if (inputs.length) out.push(`inputs held at ${inputs.map(([k, v]) => `${k} = [${v.map((x) => num(x)).join(", ")}]`).join("; ")}`);
  if (r.piecewiseLinear && r.regions) {
    const sw = r.regions.switches.map((s) => `${s.size} ${s.op}${s.line !== undefined ? ` (line ${s.line})` : ""}`).join(", ");
    const total = r.regions.total.exact !== null ? String(r.regions.total.exact) : `2^${num(r.regions.total.log2, 1)}`;
    out.push(`step: piecewise linear, switches ${sw || "none"}: ${total} region code${r.regions.total.exact === 1 ? "" : "s"}`);
  } else out.push(`step: smooth (${r.nonlinearity})`);
  if (r.method === "scyfi") {
    const ex = (r.search.scyfi ?? []).filter((s) => s.method === "exhaustive").map((s) => s.order);
    out.push(`method: SCYFI, periods 1..${r.maxCycle}${ex.length ? `; exhaustive for period${ex.length > 1 ? "s" : ""} ${ex.join(", ")}` : ""}; initial regions ${r.search.sampling}${r.search.poolSize !== undefined ? ` (pool of ${r.search.poolSize})` : ""}`);
  } else out.push(`method: Levenberg–Marquardt on q = ½|F^k(z) - z|², Newton polish, periods 1..${r.maxCycle}`);
  out.push("");
  out.push(`Fixed points and cycles (${r.objects.length}):`);
  if (r.objects.length) {
    const rows = [["id", "period", "stable", "unstable", "|λ|max", "eigenvalues", "residual", "flags", "location (first point)"]];
    for (const o of r.objects) rows.push([o.id, String(o.period), o.stable ? "yes" : "no", String(o.unstableDirections), num(o.spectralRadius), eigenSummary(o.eigenvalues), o.residual.toExponential(1), flags(o) || "-", location(o.points[0]!)]);
    out.push(table(rows));
  } else out.push("  none found");
  out.push("");
  out.push("Search:");
  // periods with nothing new found by SCYFI are summarised in runs
  const scyfi = r.search.scyfi ?? [];
  for (let i = 0; i < scyfi.length; i++) {
    const s = scyfi[i]!;
    if (s.method === "scyfi" && s.found === 0) {
      let j = i;
      while (j + 1 < scyfi.length && scyfi[j + 1]!.method === "scyfi" && scyfi[j + 1]!.found === 0) j++;
      const run = scyfi.slice(i, j + 1);
      const cand = run.reduce((a, x) => a + x.candidates, 0);
      const secs = run.reduce((a, x) => a + x.seconds, 0);
      out.push(`  period${j > i ? `s ${s.order}-${scyfi[j]!.order}` : ` ${s.order}`}: SCYFI, ${cand} candidates, none found, ${num(secs, 2)} s`);
      i = j;
      continue;
    }
    out.push(`  period ${s.order}: ${s.method === "exhaustive" ? "every region sequence" : "SCYFI"}, ${s.candidates} candidates, ${s.found} found${s.virtual !== undefined ? `, ${s.virtual} virtual fixed points (outside their region)` : ""}${s.complete ? " (complete)" : ""}, ${num(s.seconds, 2)} s`);
  }
  for (const s of r.search.newton ?? []) {
    out.push(`  period ${s.order}: ${s.starts} starts, ${s.converged} polished to |F^k(z) - z| <= 1e-10, ${s.slowPoints} stalled at slow points${s.bestRejectedResidual !== null ? ` (best rejected residual ${s.bestRejectedResidual.toExponential(1)})` : ""}, ${s.found} new, ${num(s.seconds, 2)} s`);
  }
  const tr = r.trajectory;
  out.push("");
  out.push(`Trajectory: ${tr.steps} steps after ${tr.transient} transient, from ${tr.start === "z0" ? "--z0" : tr.start === "init" ? "the spec's initial state" : "a random N(0, 1) state"}${tr.diverged ? "; it diverged" : ""}`);
  if (r.lyapunov) {
    const ex = r.lyapunov.exponents;
    out.push(ex.length === 1 ? `  largest Lyapunov exponent: ${num(ex[0]!, 5)} per step` : `  Lyapunov spectrum (per step): ${ex.map((x) => num(x, 5)).join(", ")}`);
  }
  if (r.symbolic) {
    const s = r.symbolic;
    const total = s.totalRegions.exact !== null ? String(s.totalRegions.exact) : `2^${num(s.totalRegions.log2, 1)}`;
    out.push(`  regions visited: ${s.visited.length} of ${total}; ${num(100 * s.selfTransitionFraction, 1)}% of steps stay in their region`);
    const rows = [["symbol", "region", "steps", "fraction", "region's fixed point"]];
    for (const v of s.visited.slice(0, 20)) {
      const fp = v.fixedPoint;
      rows.push([String(v.symbol), v.region.length > 40 ? v.region.slice(0, 37) + "..." : v.region, String(v.steps), num(v.fraction), fp ? `${fp.real ? "real" : "virtual"}, |λ|max ${num(fp.spectralRadius)}, ${fp.unstableDirections} unstable, at ${location(fp.point, 4)}` : "none (I - W_D singular)"]);
    }
    out.push(table(rows, "    "));
    if (s.visited.length > 20) out.push(`    ... ${s.visited.length - 20} more in the JSON document`);
    const cov = s.coverage.slice(0, 10).map((c, i) => `${i + 1}: ${num(100 * c, 1)}%`).join(", ");
    out.push(`  coverage by the most visited regions: ${cov}${s.coverage.length > 10 ? ", ..." : ""}`);
    const tr2 = s.transitions.filter((t) => t.from !== t.to).sort((a, b) => b.count - a.count).slice(0, 10);
    if (tr2.length) out.push(`  most frequent transitions: ${tr2.map((t) => `${t.from}→${t.to} (${num(t.probability, 3)})`).join(", ")}`);
  }
  if (r.topology) {
    out.push("");
    out.push("Topology (where perturbed starts converge):");
    const byFrom = new Map<string, string[]>();
    for (const e of r.topology) byFrom.set(e.from, [...(byFrom.get(e.from) ?? []), `${e.to} ${num(100 * e.probability, 1)}%`]);
    for (const [from, to] of byFrom) out.push(`  ${from} → ${to.join(", ")}`);
  }
  out.push("");
  out.push(`(${num(r.seconds, 2)} s)`);
  return out.join("\n") + "\n";
}

/** JSON with non-finite numbers as strings ("Infinity", "-Infinity", "NaN"), which JSON cannot hold. */
export function reportJson(r: AnalysisReport): string {
  return JSON.stringify(r, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v), 2);
}
