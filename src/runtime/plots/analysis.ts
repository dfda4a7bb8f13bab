// Reads the analysis of a trained model (fixed points, cycles, region occupancy) from plain JSON,
// such as `analysis.json` in a run directory, into the marks the figures draw. The main producer
// is `rnnc analyze ... --out RUN/analysis.json` (src/runtime/analysis: `objects` with `kind`,
// `points`, `stable`, `spectralRadius`, and `symbolic.visited` regions); the reader also accepts
// the spellings other tools are likely to write (snake_case, `fixed_points`/`cycles` lists, points
// as `z` or `x`, stability as a flag, a word, a spectral radius or eigenvalues). What it cannot
// interpret it leaves out and reports in `skipped`.
import type { Rows } from "./data.js";
import type { CycleMark, FixedPointMark } from "./specs.js";

export interface AnalysisMarks {
  fixedPoints: FixedPointMark[];
  cycles: CycleMark[];
  regions: { region: string; fraction: number }[];
  /** Scalar findings worth a line in the report (Lyapunov exponents, regions visited, ...). */
  facts: [string, string][];
  /** Entries of the file that could not be used, with why (shown in the report). */
  skipped: string[];
}

type Obj = Record<string, unknown>;
/** Maps a latent state to its observation (the model's observation function). */
export type Observe = (z: number[]) => number[];

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isVec = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number");
const isRows = (v: unknown): v is Rows => Array.isArray(v) && v.length > 0 && v.every(isVec);

function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) if (k in o) return o[k];
  return undefined;
}

/** |λ| of an eigenvalue written as a number, [re, im] or {re, im}. */
function modulus(e: unknown): number | undefined {
  if (typeof e === "number") return Math.abs(e);
  if (isVec(e) && e.length === 2) return Math.hypot(e[0]!, e[1]!);
  if (isObj(e) && typeof e["re"] === "number") return Math.hypot(e["re"], typeof e["im"] === "number" ? e["im"] : 0);
  return undefined;
}

function spectralRadius(o: Obj): number | undefined {
  const r = pick(o, "spectral_radius", "spectralRadius", "max_abs_eigenvalue", "maxAbsEigenvalue");
  if (typeof r === "number") return r;
  const eig = pick(o, "eigenvalues", "eigvals", "eig");
  if (Array.isArray(eig) && eig.length) {
    const mods = eig.map(modulus);
    if (mods.every((m) => m !== undefined)) return Math.max(...(mods as number[]));
  }
  return undefined;
}

function stability(o: Obj): boolean | undefined {
  const s = pick(o, "stable", "is_stable", "isStable");
  if (typeof s === "boolean") return s;
  const word = pick(o, "stability", "type", "kind");
  if (typeof word === "string") {
    if (/^(un|saddle|repell)/i.test(word)) return false;
    if (/^(stable|attract|sink)/i.test(word)) return true;
  }
  const r = spectralRadius(o);
  return r === undefined ? undefined : r < 1;
}

function toObserved(o: Obj, observe: Observe | undefined, single: boolean): Rows | undefined {
  const x = pick(o, "x", "observed", "observation", "observations");
  if (single && isVec(x)) return [x];
  if (!single && isRows(x)) return x;
  const z = pick(o, "z", "state", "latent", "point", "points", "states");
  if (single && isVec(z)) return observe ? [observe(z)] : [z];
  if (!single && isRows(z)) return observe ? z.map(observe) : z;
  return undefined;
}

function regionLabel(r: unknown): string | undefined {
  if (typeof r === "string") return r;
  if (typeof r === "number") return String(r);
  if (isVec(r)) return r.map((v) => (v > 0 ? "1" : "0")).join("");
  if (Array.isArray(r) && r.every((v) => typeof v === "boolean")) return r.map((v) => (v ? "1" : "0")).join("");
  return undefined;
}

export function analysisMarks(raw: unknown, observe?: Observe): AnalysisMarks {
  const out: AnalysisMarks = { fixedPoints: [], cycles: [], regions: [], facts: [], skipped: [] };
  if (!isObj(raw)) {
    out.skipped.push("the analysis is not a JSON object");
    return out;
  }
  const info = (o: Obj): Record<string, string | number> => {
    const r: Record<string, string | number> = {};
    if (typeof o["id"] === "string") r["id"] = o["id"];
    const rho = spectralRadius(o);
    if (rho !== undefined) r["|λ|max"] = Number(rho.toPrecision(4));
    if (typeof o["unstableDirections"] === "number") r["unstable directions"] = o["unstableDirections"];
    const regs = pick(o, "regions", "region", "pattern", "signs");
    const region = Array.isArray(regs) && regs.every((x) => typeof x === "string") ? regs[0] : regionLabel(regs);
    if (region !== undefined) r["region"] = region;
    return r;
  };
  // rnnc analyze: one list of invariant objects, fixed points and cycles told apart by `kind`.
  const objects = pick(raw, "objects");
  const fpList: unknown[] = [];
  const cycleList: unknown[] = [];
  if (Array.isArray(objects)) {
    for (const o of objects) {
      const period = isObj(o) ? o["period"] : undefined;
      if (isObj(o) && (o["kind"] === "cycle" || (typeof period === "number" && period > 1))) cycleList.push(o);
      else if (isObj(o) && isRows(o["points"])) fpList.push({ ...o, points: undefined, z: (o["points"] as Rows)[0] });
      else fpList.push(o);
    }
  }
  const fps = [...fpList, ...((pick(raw, "fixed_points", "fixedPoints") as unknown[] | undefined) ?? [])];
  if (Array.isArray(fps)) {
    fps.forEach((fp, i) => {
      if (!isObj(fp)) return void out.skipped.push(`fixed point ${i}: not an object`);
      const x = toObserved(fp, observe, true);
      const stable = stability(fp);
      if (!x || stable === undefined) return void out.skipped.push(`fixed point ${i}: ${!x ? "no coordinates (z or x)" : "no stability (stable, eigenvalues or spectral radius)"}`);
      out.fixedPoints.push({ x: x[0]!, stable, kind: "fixed point", info: info(fp) });
    });
  }
  const cycles = [...cycleList, ...((pick(raw, "cycles", "k_cycles", "kCycles", "periodic_orbits", "periodicOrbits") as unknown[] | undefined) ?? [])];
  if (Array.isArray(cycles)) {
    cycles.forEach((c, i) => {
      if (!isObj(c)) return void out.skipped.push(`cycle ${i}: not an object`);
      const points = toObserved(c, observe, false);
      const stable = stability(c);
      if (!points || stable === undefined) return void out.skipped.push(`cycle ${i}: ${!points ? "no points (z or x)" : "no stability"}`);
      const period = typeof c["period"] === "number" ? c["period"] : points.length;
      out.cycles.push({ period, stable, points, info: info(c) });
    });
  }
  const symbolic = pick(raw, "symbolic");
  const regions = isObj(symbolic) ? symbolic["visited"] : pick(raw, "region_occupancy", "regionOccupancy", "regions");
  const list = isObj(regions) ? pick(regions, "occupancy", "visited", "counts") : regions;
  if (Array.isArray(list)) {
    const parsed = list.map((r) => {
      if (!isObj(r)) return undefined;
      const label = regionLabel(pick(r, "region", "pattern", "signs", "d", "id"));
      const fraction = pick(r, "fraction", "share", "occupancy");
      const count = pick(r, "count", "steps", "visits");
      return label === undefined ? undefined : { region: label, fraction: typeof fraction === "number" ? fraction : undefined, count: typeof count === "number" ? count : undefined };
    });
    const total = parsed.reduce((s, r) => s + (r?.count ?? 0), 0);
    parsed.forEach((r, i) => {
      const fraction = r?.fraction ?? (r?.count !== undefined && total > 0 ? r.count / total : undefined);
      if (!r || fraction === undefined) return void out.skipped.push(`region ${i}: no label or share`);
      out.regions.push({ region: r.region, fraction });
    });
  }
  facts(raw, out.facts);
  return out;
}

/** The analysis's scalar findings, when it has them (rnnc analyze's field names). */
function facts(raw: Obj, out: [string, string][]): void {
  const n = (v: unknown, d = 4) => (typeof v === "number" ? Number(v.toPrecision(d)).toString() : typeof v === "string" ? v : undefined);
  const method = raw["method"];
  if (typeof method === "string") out.push(["search method", `${method}${typeof raw["maxCycle"] === "number" ? `, periods 1..${raw["maxCycle"]}` : ""}`]);
  const lyap = isObj(raw["lyapunov"]) ? raw["lyapunov"]["exponents"] : undefined;
  if (Array.isArray(lyap) && lyap.length) out.push([lyap.length === 1 ? "largest Lyapunov exponent (per step)" : "Lyapunov spectrum (per step)", lyap.map((v) => n(v, 5)).join(", ")]);
  const sym = raw["symbolic"];
  if (isObj(sym) && Array.isArray(sym["visited"])) {
    const total = isObj(sym["totalRegions"]) ? (typeof sym["totalRegions"]["exact"] === "number" ? String(sym["totalRegions"]["exact"]) : `2^${n(sym["totalRegions"]["log2"], 3)}`) : "?";
    out.push(["regions visited", `${sym["visited"].length} of ${total}`]);
    const stay = n(typeof sym["selfTransitionFraction"] === "number" ? 100 * sym["selfTransitionFraction"] : undefined, 3);
    if (stay !== undefined) out.push(["steps that stay in their region", `${stay} %`]);
  }
  const tr = raw["trajectory"];
  if (isObj(tr) && typeof tr["steps"] === "number") out.push(["analysed trajectory", `${tr["steps"]} steps after ${n(tr["transient"]) ?? 0} transient${tr["diverged"] === true ? " (diverged)" : ""}`]);
}
