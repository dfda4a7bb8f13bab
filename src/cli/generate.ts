// `rnnc generate` (free-running trajectories) and `rnnc eval` (the reconstruction measures).
import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Program } from "../compiler/ir/types.js";
import { bindDims, DimBindingError } from "../compiler/passes/index.js";
import { loadSeries } from "../runtime/data/load.js";
import { readNpy, writeNpy, type NdArray } from "../runtime/data/npy.js";
import { evaluate } from "../runtime/eval/evaluate.js";
import { makeSimulator } from "../runtime/eval/simulator.js";
import { loadParams, readParamMap, type ParamValues } from "../runtime/model/params.js";
import { RUN_FILES } from "../runtime/run/rundir.js";
import { compileForRun } from "./compile-for-run.js";
import { EXIT, UsageError } from "./main.js";

/** `--params` takes a run directory (its best.npz if present, else params.npz) or a .npz file. */
export function resolveParamsPath(p: string): string {
  if (!existsSync(p)) throw new UsageError(`--params: '${p}' does not exist`);
  if (statSync(p).isDirectory()) {
    for (const f of [RUN_FILES.best, RUN_FILES.params]) if (existsSync(join(p, f))) return join(p, f);
    throw new UsageError(`--params: '${p}' has neither ${RUN_FILES.best} nor ${RUN_FILES.params}`);
  }
  return p;
}

/** Bind the spec's data-dependent dims from a data file's feature count, or from the params. */
function bindFor(ir: Program, features: number | undefined, spec: string): Program | undefined {
  const sizes: Record<string, number> = {};
  for (const d of ir.dims) if (d.source.kind === "data" && d.value === undefined && features !== undefined) sizes[`${d.source.data}.${d.source.field}`] = features;
  try {
    return bindDims(ir, sizes);
  } catch (e) {
    if (e instanceof DimBindingError) {
      process.stderr.write(`${spec}: ${e.message}${features === undefined ? " (give --from DATA.npy so rnnc can bind it)" : ""}\n`);
      return undefined;
    }
    throw e;
  }
}

export function registerGenerate(program: Command, setCode: (c: number) => void): void {
  program
    .command("generate")
    .description("free-running trajectory of a trained model (latent and observed)")
    .argument("<spec>", ".rnn spec file")
    .requiredOption("--params <run-dir|params.npz>", "trained parameters")
    .requiredOption("--steps <n>", "number of steps after the initial state")
    .option("--z0 <file.npy>", "the full latent initial state (one value per latent unit)")
    .option("--from <data.npy>", "use the spec's initial-state rule on the first observation of this file")
    .requiredOption("--out <traj.npy>", "output: [steps+1, N] observed; the latent goes to <out>.latent.npy")
    .option("--set <key=value>", "override a setting (repeatable)", (v: string, acc: string[]) => [...acc, v], [])
    .option("--param-map <file.json>", "rename/transpose parameters exported elsewhere (see rnnc train --help)")
    .action((spec: string, opts: { params: string; steps: string; z0?: string; from?: string; out: string; set: string[]; paramMap?: string }) => {
      const steps = Number(opts.steps);
      if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps expects a positive integer, got '${opts.steps}'`);
      if ((opts.z0 === undefined) === (opts.from === undefined)) throw new UsageError("give exactly one of --z0 FILE.npy (latent state) or --from DATA.npy (first observation)");
      const compiled = compileForRun(spec, opts.set);
      if (!compiled.program) return setCode(EXIT.userError);
      const fromData = opts.from ? loadSeries(opts.from) : undefined;
      const features = fromData?.shape[fromData.shape.length - 1];
      const program = bindFor(compiled.program, features, spec);
      if (!program) return setCode(EXIT.userError);
      const params: ParamValues = loadParams(resolveParamsPath(opts.params), program, opts.paramMap ? readParamMap(opts.paramMap) : {});
      const sim = makeSimulator(program, params);
      let traj;
      if (opts.z0) {
        const z0 = readNpy(opts.z0);
        if (z0.data.length !== sim.latentSize) throw new UsageError(`--z0: ${opts.z0} has ${z0.data.length} values, but the latent state has ${sim.latentSize} units`);
        traj = sim.generateFromLatent(Float64Array.from(z0.data), steps);
      } else {
        const N = fromData!.shape[fromData!.shape.length - 1]!;
        if (N !== sim.features) throw new UsageError(`--from: ${opts.from} has ${N} features, the model observes ${sim.features}`);
        traj = sim.generateFromObservation(Float64Array.from(fromData!.data.subarray(0, N)), steps);
      }
      writeNpy(opts.out, { dtype: "float64", shape: [steps + 1, sim.features], data: traj.observed });
      const latentPath = opts.out.replace(/\.npy$/i, "") + ".latent.npy";
      writeNpy(latentPath, { dtype: "float64", shape: [steps + 1, sim.latentSize], data: traj.latent });
      process.stdout.write(`rnnc: wrote ${opts.out} [${steps + 1}, ${sim.features}] and ${latentPath} [${steps + 1}, ${sim.latentSize}]\n`);
      setCode(EXIT.ok);
    });

  program
    .command("eval")
    .description("D_stsp, D_H and PE of trained parameters on a test trajectory")
    .argument("<spec>", ".rnn spec file")
    .requiredOption("--params <run-dir|params.npz>", "trained parameters")
    .requiredOption("--data <test.npy>", "test trajectory [T, N]")
    .option("--json", "print the scores as JSON")
    .option("--set <key=value>", "override a setting (repeatable)", (v: string, acc: string[]) => [...acc, v], [])
    .option("--param-map <file.json>", "rename/transpose parameters exported elsewhere (see rnnc train --help)")
    .action((spec: string, opts: { params: string; data: string; json?: boolean; set: string[]; paramMap?: string }) => {
      const compiled = compileForRun(spec, opts.set);
      if (!compiled.program) return setCode(EXIT.userError);
      const test: NdArray = loadSeries(opts.data);
      if (test.shape.length !== 2) throw new UsageError(`--data: expected a [T, N] trajectory, got [${test.shape.join(", ")}]`);
      const program = bindFor(compiled.program, test.shape[1], spec);
      if (!program) return setCode(EXIT.userError);
      const params = loadParams(resolveParamsPath(opts.params), program, opts.paramMap ? readParamMap(opts.paramMap) : {});
      const sim = makeSimulator(program, params);
      // The free run is 1.25 x the length of the given test data (the harmonised protocol).
      const plan = program.eval ? { ...program.eval, steps: null } : { everyEpochs: 1, steps: null, drop: 0.2, from: { data: "", field: "test" }, measures: [{ kind: "dstsp" as const, bins: 30, method: "auto" as const, scaling: 1 }, { kind: "dh" as const, smoothing: 20 }, { kind: "pe" as const, steps: 20 }], keepBestBy: null };
      const s = evaluate(sim, test, plan);
      if (opts.json) process.stdout.write(JSON.stringify(s) + "\n");
      else {
        const rows: [string, string][] = [];
        if (s.dstsp !== undefined) rows.push(["D_stsp", s.dstsp.toFixed(4)]);
        if (s.dh !== undefined) rows.push(["D_H", s.dh.toFixed(4)]);
        if (s.pe !== undefined) rows.push([`PE(${plan.measures.find((m) => m.kind === "pe")?.steps ?? 20})`, s.pe.toExponential(4)]);
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(8)} ${v}\n`);
        process.stdout.write(`(${s.compared} free-running steps compared${s.diverged ? "; the free run diverged" : ""})\n`);
      }
      setCode(EXIT.ok);
    });
}
