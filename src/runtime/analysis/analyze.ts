// `rnnc analyze`: every fixed point and cycle of a trained model, with stability, and for
// piecewise-linear models the region structure, from the IR. See docs/ANALYZE.md.
import { compileModel } from "../../compiler/backends/interp/index.js";
import type { Program } from "../../compiler/ir/types.js";
import { Prng } from "../train/prng.js";
import { lyapunov, sampleStarts, topology, trajectory, type LyapunovResult, type TopologyEdge } from "./dynamics.js";
import { nameObjects, type InvariantObject } from "./objects.js";
import { linearity, PiecewiseLinearMap, regionCount } from "./piecewise.js";
import { findPlCycles, type OrderStats } from "./scyfi.js";
import { findSmoothCycles, type SmoothOrderStats } from "./smooth.js";
import { symbolicAnalysis, type SymbolicReport } from "./symbolic.js";
import { AnalysisError, fixedValues, flattenStep, StepMap, type StateSlot } from "./system.js";

export { AnalysisError };

export interface AnalyzeOptions {
  seed: number;
  /** "auto": SCYFI for piecewise-linear steps, Newton otherwise; "scyfi" fails for smooth steps */
  method: "auto" | "scyfi" | "newton";
  /** largest period searched (default: piecewise linear 8 for n <= 4 state units, else 4; smooth 2) */
  maxCycle?: number;
  /** SCYFI loop counts (default: SCYFI's own, per order) */
  outer?: number;
  inner?: number;
  /** region sequences enumerated exhaustively per order when there are at most this many */
  exhaustiveLimit: number;
  /** SCYFI's initial region sequences (default: uniform when there are at most 2^20 codes, else pool) */
  sampling?: "uniform" | "pool";
  /** start states of the Newton search */
  inits: number;
  /** constant value of every model input, by name */
  inputs: Readonly<Record<string, ArrayLike<number>>>;
  /** first state of the generated trajectory (flat, all states); default: N(0, 1) draws */
  z0?: Float64Array;
  /** first observation for the init graph (models whose initial state is computed from data) */
  firstObservation?: Float64Array;
  /** extra states [count * n] to start the searches from */
  states?: Float64Array;
  /** generated trajectory for the symbolic analysis and the Lyapunov exponents */
  steps: number;
  transient: number;
  /** number of Lyapunov exponents (0: none; n or more: the spectrum) */
  lyapunov: number;
  topology: { perObject: number; noise: number; maxSteps: number } | null;
}

export const DEFAULTS: Omit<AnalyzeOptions, "inputs"> = {
  seed: 0,
  method: "auto",
  exhaustiveLimit: 4096,
  inits: 256,
  steps: 100_000,
  transient: 1000,
  lyapunov: 1,
  topology: { perObject: 32, noise: 0.1, maxSteps: 2000 },
};

export interface AnalysisReport {
  model: { name: string; file: string };
  /** the flat state: every state side by side, in declaration order */
  state: { size: number; layout: { name: string; offset: number; size: number; shape: number[] }[] };
  inputs: Record<string, number[]>;
  seed: number;
  piecewiseLinear: boolean;
  /** why the step is not piecewise linear (smooth models) */
  nonlinearity?: string;
  regions?: { codeLength: number; total: { log2: number; exact: number | null }; switches: { op: string; size: number; branches: number; line?: number }[] };
  method: "scyfi" | "newton";
  maxCycle: number;
  objects: InvariantObject[];
  search: { scyfi?: OrderStats[]; newton?: SmoothOrderStats[]; sampling?: "uniform" | "pool"; poolSize?: number };
  trajectory: { start: "z0" | "init" | "random"; steps: number; transient: number; diverged: boolean };
  symbolic?: SymbolicReport;
  lyapunov?: LyapunovResult;
  topology?: TopologyEdge[];
  seconds: number;
}

export interface AnalysisOutput {
  report: AnalysisReport;
  /** per step of the analysed trajectory: the region's symbol (piecewise-linear models) */
  symbols?: Int32Array;
}

/** Analyse a bound program with raw (stored) parameter values. */
export function analyze(program: Program, raw: Readonly<Record<string, ArrayLike<number>>>, options: AnalyzeOptions): AnalysisOutput {
  const t0 = performance.now();
  const opts = { ...options };
  const flat = flattenStep(program);
  const n = flat.n;
  const model = compileModel(program);
  const eff = model.effectiveParams(raw);
  const inputs: Record<string, Float64Array> = {};
  for (const name of flat.inputs) {
    const size = flat.fixedShapes.get(name)!.reduce((a, b) => a * b, 1);
    const v = opts.inputs[name];
    if (v === undefined) inputs[name] = new Float64Array(size);
    else if (v.length !== size) throw new AnalysisError(`--input: '${name}' has ${size} units, got ${v.length} values`);
    else inputs[name] = Float64Array.from(v);
  }
  const fixed = fixedValues(flat, eff, inputs);
  const map = new StepMap(flat, fixed);
  const lin = linearity(flat);
  if (opts.method === "scyfi" && !lin.piecewiseLinear) {
    throw new AnalysisError(`${program.model.file}: SCYFI needs a piecewise-linear step, but ${lin.reason}; use --method newton (or auto)`);
  }
  const usePl = lin.piecewiseLinear && opts.method !== "newton";
  const pl = lin.piecewiseLinear ? new PiecewiseLinearMap(flat, lin.switches, fixed) : null;
  // SCYFI costs grow with n^3 per step of a candidate: longer default periods only for small maps
  const maxCycle = opts.maxCycle ?? (usePl ? (n <= 4 ? 8 : 4) : 2);
  const rng = new Prng(opts.seed);

  // The generated trajectory: symbolic analysis, Lyapunov exponents, and starts for the searches.
  let start: AnalysisReport["trajectory"]["start"];
  let z0: Float64Array;
  if (opts.z0) {
    if (opts.z0.length !== n) throw new AnalysisError(`--z0 has ${opts.z0.length} values, but the state has ${n} units`);
    z0 = Float64Array.from(opts.z0);
    start = "z0";
  } else if (opts.firstObservation) {
    const init = model.initState(eff, opts.firstObservation, 1);
    z0 = new Float64Array(n);
    for (const s of flat.states) z0.set(init[s.name]!.subarray(0, s.size), s.offset);
    start = "init";
  } else {
    // A constant initial state (zeros) is often a fixed point itself: start from a random state.
    z0 = new Float64Array(n);
    for (let i = 0; i < n; i++) z0[i] = rng.normal();
    start = "random";
  }
  if (opts.states && opts.states.length % n !== 0) throw new AnalysisError(`--states holds ${opts.states.length} values, not a whole number of ${n}-unit states`);
  const run = trajectory(map, z0, opts.transient + opts.steps);
  const kept = Math.max(0, run.length - opts.transient);
  const orbit = run.states.subarray(Math.min(opts.transient, run.length) * n);

  const report: AnalysisReport = {
    model: { name: program.model.name, file: program.model.file },
    state: { size: n, layout: flat.states.map((s: StateSlot) => ({ name: s.name, offset: s.offset, size: s.size, shape: s.shape })) },
    inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Array.from(v)])),
    seed: opts.seed,
    piecewiseLinear: lin.piecewiseLinear,
    ...(lin.piecewiseLinear ? {} : { nonlinearity: lin.reason }),
    method: usePl ? "scyfi" : "newton",
    maxCycle,
    objects: [],
    search: {},
    trajectory: { start, steps: kept, transient: opts.transient, diverged: run.diverged },
    seconds: 0,
  };
  if (lin.piecewiseLinear) {
    report.regions = {
      codeLength: lin.codeLength,
      total: regionCount(lin.switches),
      switches: lin.switches.map((s) => ({ op: s.op, size: s.size, branches: s.branches, ...(s.line !== undefined ? { line: s.line } : {}) })),
    };
  }

  let objects: InvariantObject[];
  if (usePl) {
    const sampling = opts.sampling ?? (pl!.count !== null && pl!.count <= 1 << 20 ? "uniform" : "pool");
    let pool: number[] | undefined;
    if (sampling === "pool") {
      // regions of the generated run and of trajectories from random starts
      const seen = orbit.subarray(0, Math.min(kept, 20_000) * n);
      const starts = sampleStarts(map, 2048, rng, { extra: opts.states ? concat(opts.states, seen) : seen });
      const ids = new Set<number>();
      for (let p = 0; p < 2048; p++) ids.add(pl!.regionOf(starts.subarray(p * n, (p + 1) * n)));
      for (let t = 0; t < Math.min(kept, 20_000); t++) ids.add(pl!.regionOf(orbit.subarray(t * n, (t + 1) * n)));
      pool = [...ids];
      report.search.poolSize = pool.length;
    }
    report.search.sampling = sampling;
    const res = findPlCycles(pl!, {
      maxOrder: maxCycle,
      ...(opts.outer !== undefined ? { outer: opts.outer } : {}),
      ...(opts.inner !== undefined ? { inner: opts.inner } : {}),
      rng,
      sampling,
      ...(pool ? { pool } : {}),
      exhaustiveLimit: opts.exhaustiveLimit,
    });
    objects = res.objects;
    report.search.scyfi = res.stats;
  } else {
    const extra = opts.states ? concat(opts.states, orbit.subarray(0, Math.min(kept, 10_000) * n)) : orbit.subarray(0, Math.min(kept, 10_000) * n);
    const starts = sampleStarts(map, opts.inits, rng, { extra });
    objects = [];
    report.search.newton = [];
    for (let k = 1; k <= maxCycle; k++) {
      const lower = objects.filter((o) => k % o.period === 0).flatMap((o) => o.points);
      const r = findSmoothCycles(map, starts, opts.inits, k, {}, lower);
      objects.push(...r.objects);
      report.search.newton.push(r.stats);
    }
  }
  report.objects = nameObjects(objects);

  if (pl && kept > 0) {
    const sym = symbolicAnalysis(pl, orbit, kept, Math.log2(pl.radix.reduce((a, r) => a * r, 1)) );
    report.symbolic = sym.report;
    report.lyapunov = opts.lyapunov > 0 && kept > 1 ? lyapunov(map, pl, orbit, kept, opts.lyapunov, rng) : undefined;
    if (opts.topology) report.topology = topology(map, report.objects, rng, opts.topology);
    report.seconds = (performance.now() - t0) / 1000;
    return { report: dropUndefined(report), symbols: sym.symbols };
  }
  if (opts.lyapunov > 0 && kept > 1) report.lyapunov = lyapunov(map, null, orbit, kept, opts.lyapunov, rng);
  if (opts.topology) report.topology = topology(map, report.objects, rng, opts.topology);
  report.seconds = (performance.now() - t0) / 1000;
  return { report: dropUndefined(report) };
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function dropUndefined<T extends object>(r: T): T {
  for (const k of Object.keys(r) as (keyof T)[]) if (r[k] === undefined) delete r[k];
  return r;
}
