// `rnnc analyze`: fixed points, cycles, stability, linear subregions and symbolic codes of trained
// parameters (see docs/ANALYZE.md). The work is in src/runtime/analysis/.
import type { Command } from "commander";
import { writeFileSync } from "node:fs";
import type { Program } from "../compiler/ir/types.js";
import { bindDims, DimBindingError } from "../compiler/passes/index.js";
import { loadSeries } from "../runtime/data/load.js";
import { readNpy, writeNpy } from "../runtime/data/npy.js";
import { analyze, AnalysisError, DEFAULTS, type AnalyzeOptions } from "../runtime/analysis/analyze.js";
import { renderReport, reportJson } from "../runtime/analysis/report.js";
import { loadParamsExact, readParamMap } from "../runtime/model/params.js";
import { compileForRun } from "./compile-for-run.js";
import { resolveParamsPath } from "./generate.js";
import { EXIT, UsageError } from "./main.js";

interface AnalyzeCliOptions {
  params: string;
  input: string[];
  maxCycle?: string;
  method: string;
  outer?: string;
  inner?: string;
  exhaustiveLimit?: string;
  sampling?: string;
  inits?: string;
  steps?: string;
  transient?: string;
  lyapunov?: string;
  topology: boolean;
  perturb?: string;
  z0?: string;
  from?: string;
  states?: string;
  symbols?: string;
  seed?: string;
  json?: boolean;
  out?: string;
  set: string[];
  paramMap?: string;
}

function int(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new UsageError(`${flag} expects an integer >= ${min}, got '${v}'`);
  return x;
}

function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!(x > 0) || !Number.isFinite(x)) throw new UsageError(`${flag} expects a positive number, got '${v}'`);
  return x;
}

/** `--input 0.5,0,1` (the model's one input), `--input u=0.5,0,1` (by name) or `--input u=FILE.npy`. */
function parseInputs(values: string[], program: Program): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  const names = program.inputs.map((i) => i.name);
  for (const v of values) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(v);
    let name: string;
    let text: string;
    if (m) {
      [, name, text] = m as unknown as [string, string, string];
      if (!names.includes(name)) throw new UsageError(`--input: the model has no input '${name}'${names.length ? ` (inputs: ${names.join(", ")})` : " (it has no inputs)"}`);
    } else {
      if (names.length !== 1) throw new UsageError(names.length ? `--input: the model has ${names.length} inputs (${names.join(", ")}); write --input NAME=VALUES` : "--input: the model has no inputs");
      name = names[0]!;
      text = v;
    }
    if (/\.npy$/i.test(text)) out[name] = Float64Array.from(readNpy(text).data);
    else {
      const xs = text.split(",").map((s) => s.trim());
      if (!xs.length || xs.some((s) => s === "" || !Number.isFinite(Number(s)))) throw new UsageError(`--input: '${text}' is not a comma-separated list of numbers or a .npy file`);
      out[name] = Float64Array.from(xs.map(Number));
    }
  }
  return out;
}

export function registerAnalyze(program: Command, setCode: (c: number) => void): void {
  program
    .command("analyze")
    .description("fixed points, cycles, stability, linear subregions and symbolic codes of a trained model")
    .argument("<spec>", ".rnn spec file")
    .requiredOption("--params <run-dir|params.npz>", "trained parameters")
    .option("--input <values>", "constant input: 'v1,v2,...', 'NAME=v1,...' or 'NAME=FILE.npy' (repeatable; default 0)", (v: string, acc: string[]) => [...acc, v], [])
    .option("--max-cycle <k>", "largest period searched (default 8 for piecewise-linear steps, 2 otherwise)")
    .option("--method <m>", "auto | scyfi (piecewise-linear steps only) | newton", "auto")
    .option("--outer <n>", "SCYFI outer loop count (default: SCYFI's per period)")
    .option("--inner <n>", "SCYFI inner loop count (default: SCYFI's per period)")
    .option("--exhaustive-limit <n>", `enumerate every region sequence of a period when there are at most n (default ${DEFAULTS.exhaustiveLimit})`)
    .option("--sampling <s>", "SCYFI's initial regions: uniform | pool (regions seen on trajectories)")
    .option("--inits <n>", `start states of the Newton search (default ${DEFAULTS.inits})`)
    .option("--steps <n>", `generated trajectory for the symbolic analysis and Lyapunov exponents (default ${DEFAULTS.steps})`)
    .option("--transient <n>", `steps dropped before it (default ${DEFAULTS.transient})`)
    .option("--lyapunov <n|all>", "number of Lyapunov exponents, 0 for none (default 1)")
    .option("--no-topology", "skip the topology graph (perturbed starts around every object)")
    .option("--perturb <s>", `noise of the topology graph's starts (default ${DEFAULTS.topology!.noise})`)
    .option("--z0 <file.npy>", "first state of the generated trajectory (every state unit)")
    .option("--from <data.npy>", "start from the spec's initial-state rule on this file's first observation")
    .option("--states <file.npy>", "[T, n] states to start the Newton search from (e.g. rnnc generate's .latent.npy)")
    .option("--symbols <out.npy>", "write the trajectory's symbolic sequence (piecewise-linear models)")
    .option("--seed <n>", "seed of every random choice (default 0)")
    .option("--json", "print the JSON document instead of the report")
    .option("--out <file.json>", "also write the JSON document to a file")
    .option("--set <key=value>", "override a setting (repeatable)", (v: string, acc: string[]) => [...acc, v], [])
    .option("--param-map <file.json>", "rename/transpose parameters exported elsewhere (see rnnc train --help)")
    .action((spec: string, opts: AnalyzeCliOptions) => {
      if (!["auto", "scyfi", "newton"].includes(opts.method)) throw new UsageError(`--method must be auto, scyfi or newton, got '${opts.method}'`);
      if (opts.sampling !== undefined && !["uniform", "pool"].includes(opts.sampling)) throw new UsageError(`--sampling must be uniform or pool, got '${opts.sampling}'`);
      if (opts.z0 !== undefined && opts.from !== undefined) throw new UsageError("give at most one of --z0 and --from");
      const lyap = opts.lyapunov === "all" ? Number.MAX_SAFE_INTEGER : int(opts.lyapunov, "--lyapunov", 0);
      const compiled = compileForRun(spec, opts.set);
      if (!compiled.program) return setCode(EXIT.userError);
      const fromData = opts.from ? loadSeries(opts.from) : undefined;
      const features = fromData?.shape[fromData.shape.length - 1];
      const sizes: Record<string, number> = {};
      for (const d of compiled.program.dims) if (d.source.kind === "data" && d.value === undefined && features !== undefined) sizes[`${d.source.data}.${d.source.field}`] = features;
      let program: Program;
      try {
        program = bindDims(compiled.program, sizes);
      } catch (e) {
        if (e instanceof DimBindingError) throw new AnalysisError(`${spec}: ${e.message}${features === undefined ? " (give --from DATA.npy so rnnc can bind it)" : ""}`);
        throw e;
      }
      const raw = loadParamsExact(resolveParamsPath(opts.params), program, opts.paramMap ? readParamMap(opts.paramMap) : {});
      const analyzeOpts: AnalyzeOptions = {
        ...DEFAULTS,
        inputs: parseInputs(opts.input, program),
        method: opts.method as AnalyzeOptions["method"],
        seed: int(opts.seed, "--seed", 0) ?? DEFAULTS.seed,
        exhaustiveLimit: int(opts.exhaustiveLimit, "--exhaustive-limit", 0) ?? DEFAULTS.exhaustiveLimit,
        inits: int(opts.inits, "--inits", 1) ?? DEFAULTS.inits,
        steps: int(opts.steps, "--steps", 0) ?? DEFAULTS.steps,
        transient: int(opts.transient, "--transient", 0) ?? DEFAULTS.transient,
        lyapunov: lyap ?? DEFAULTS.lyapunov,
        topology: opts.topology ? { ...DEFAULTS.topology!, noise: positive(opts.perturb, "--perturb") ?? DEFAULTS.topology!.noise } : null,
      };
      const maxCycle = int(opts.maxCycle, "--max-cycle", 1);
      if (maxCycle !== undefined) analyzeOpts.maxCycle = maxCycle;
      const outer = int(opts.outer, "--outer", 0);
      if (outer !== undefined) analyzeOpts.outer = outer;
      const inner = int(opts.inner, "--inner", 1);
      if (inner !== undefined) analyzeOpts.inner = inner;
      if (opts.sampling) analyzeOpts.sampling = opts.sampling as "uniform" | "pool";
      if (opts.z0) analyzeOpts.z0 = Float64Array.from(readNpy(opts.z0).data);
      if (fromData) analyzeOpts.firstObservation = Float64Array.from(fromData.data.subarray(0, features!));
      if (opts.states) analyzeOpts.states = Float64Array.from(loadSeries(opts.states).data);
      const { report, symbols } = analyze(program, raw, analyzeOpts);
      const json = reportJson(report);
      if (opts.out) writeFileSync(opts.out, json + "\n");
      if (opts.symbols) {
        if (!symbols) throw new AnalysisError(`--symbols: ${spec} has no piecewise-linear step, so it has no symbolic sequence`);
        writeNpy(opts.symbols, { dtype: "float64", shape: [symbols.length], data: Float64Array.from(symbols) });
      }
      process.stdout.write(opts.json ? json + "\n" : renderReport(report));
      setCode(EXIT.ok);
    });
}
