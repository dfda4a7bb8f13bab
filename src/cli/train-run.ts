// `rnnc train SPEC` (implementation, loaded on demand so `rnnc check` never loads TensorFlow.js):
// compile, load the data, train with checkpoints and periodic evaluation.
// Precedence of settings (lowest first): rnnc's defaults < the spec < --set < --epochs/--seed.
import { dirname, join, resolve } from "node:path";
import { existsSync } from "node:fs";
import type { Program } from "../compiler/ir/types.js";
import { bindDims, DimBindingError } from "../compiler/passes/index.js";
import { selectBackend, type BackendChoice } from "../runtime/backend/select.js";
import { dataRange, dataSizes, loadData, type LoadedData } from "../runtime/data/datasets.js";
import { initParams, loadParams, readParamMap, saveParams, type ParamValues } from "../runtime/model/params.js";
import { evaluate, type Scores } from "../runtime/eval/evaluate.js";
import { makeSimulator } from "../runtime/eval/simulator.js";
import { readCheckpoint, writeCheckpoint, type CheckpointMeta } from "../runtime/train/checkpoint.js";
import { Prng } from "../runtime/train/prng.js";
import type { Precision } from "../compiler/backends/fused/engine.js";
import { freshCursor, train, type Tier, type TrainEvent, type TrainState } from "../runtime/train/trainer.js";
import { appendMetric, createRunDir, defaultRunDir, modelHash, RUN_FILES, runPath, writeJson } from "../runtime/run/rundir.js";
import { compileForRun, parseBackend } from "./compile-for-run.js";
import { EXIT, UsageError } from "./main.js";
import { Progress } from "./progress.js";

export interface TrainOpts {
  data?: string;
  test?: string;
  epochs?: string;
  seed?: string;
  out?: string;
  set: string[];
  resume?: string;
  backend: string;
  tier: string;
  precision: string;
  json?: boolean;
  printConfig?: boolean;
  initParams?: string;
  paramMap?: string;
  progress?: boolean;
  /** false with --no-figures (rnnc sweep's runs). */
  figures?: boolean;
}

function intFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (name === "seed" ? 0 : 1)) throw new UsageError(`--${name} expects ${name === "seed" ? "a non-negative" : "a positive"} integer, got '${v}'`);
  return n;
}

export async function runTrain(spec: string, opts: TrainOpts): Promise<number> {
  const epochs = intFlag(opts.epochs, "epochs");
  const seed = intFlag(opts.seed, "seed");
  const backendChoice = parseBackend(opts.backend);
  const sets = [...opts.set, ...(epochs !== undefined ? [`epochs=${epochs}`] : []), ...(seed !== undefined ? [`seed=${seed}`] : [])];
  const compiled = compileForRun(spec, sets);
  if (!compiled.program) return EXIT.userError;
  const ir = compiled.program;
  if (!ir.train) {
    process.stderr.write(`${spec}: the spec has no train block; add one, e.g. train { loss = mse(x, data) }\n`);
    return EXIT.userError;
  }
  const out = (line: string) => process.stdout.write(line + "\n");
  const json = Boolean(opts.json);
  const say = (line: string) => {
    if (!json) out(line);
  };

  // Data and dims.
  const plan0 = ir.train;
  const rngRoot = new Prng(plan0.seed);
  let data: Map<string, LoadedData>;
  data = loadData(ir, { baseDir: dirname(resolve(spec)), ...(opts.data ? { dataFile: opts.data } : {}), ...(opts.test ? { testFile: opts.test } : {}), rng: (s) => rngRoot.fork(s) });
  let program: Program;
  try {
    program = bindDims(ir, dataSizes(data));
  } catch (e) {
    if (e instanceof DimBindingError) {
      process.stderr.write(`${spec}: ${e.message}\n`);
      return EXIT.userError;
    }
    throw e;
  }
  const plan = program.train!;
  if (opts.printConfig) {
    printConfig(program, compiled.overridden, data);
    return EXIT.ok;
  }

  if (!["auto", "graph", "fused"].includes(opts.tier)) throw new UsageError(`unknown --tier '${opts.tier}' (auto, graph, fused)`);
  if (!["float32", "float64"].includes(opts.precision)) throw new UsageError(`unknown --precision '${opts.precision}' (float32, float64)`);
  const sel = await selectBackend(backendChoice);
  const tf = sel.tf;
  // The fused kernel runs on the host (WebAssembly or JavaScript); native/GPU backends run whole
  // tfjs graphs faster.
  const tier: Tier = opts.tier === "auto" ? (sel.name === "cpu" || sel.name === "wasm" ? "fused" : "graph") : (opts.tier as Tier);

  // Run directory: fresh, or the one being resumed.
  let dir: string;
  let state: TrainState;
  let best: CheckpointMeta["best"] = null;
  const hash = modelHash(program);
  if (opts.resume) {
    dir = opts.resume;
    const ck = readCheckpoint(runPath(dir, "last"));
    if (ck.meta.irHash !== hash) throw new UsageError(`${dir} was trained with a different model than ${spec}; resume needs the same spec`);
    state = ck.state;
    best = ck.meta.best;
  } else {
    dir = opts.out ?? defaultRunDir(program.model.name);
    if (existsSync(runPath(dir, "last"))) throw new UsageError(`${dir} already holds a run; continue it with --resume ${dir}, or choose another --out`);
    createRunDir(dir);
    let params: ParamValues;
    if (opts.initParams) params = loadParams(opts.initParams, program, opts.paramMap ? readParamMap(opts.paramMap) : {});
    else {
      const ranges = new Map([...data].map(([k, d]) => [k, dataRange(d)]));
      params = initParams(program, rngRoot.fork("init"), (name) => ranges.get(name)!);
    }
    state = { cursor: freshCursor(plan.seed, plan), params, optimizer: null };
    writeJson(runPath(dir, "config"), configRecord(program, compiled.overridden, data, sel.name, spec));
    writeJson(runPath(dir, "ir"), program);
    saveParams(runPath(dir, "params"), params);
  }
  createRunDir(dir);

  say(`rnnc: training ${program.model.name} (${spec}) on ${[...data.values()].map((d) => d.description).join(", ")}`);
  const skipped = sel.fellBackFrom?.length ? ` (${sel.fellBackFrom.map((f) => f.name).join(", ")} not available; --backend ${sel.fellBackFrom[0]!.name} says why)` : "";
  say(`rnnc: ${tier} tier${tier === "fused" ? ` (${opts.precision})` : ""} on the ${sel.name} backend${skipped}; run directory ${dir}`);
  if (json) out(JSON.stringify({ type: "config", backend: sel.name, tier, dir, model: program.model.name }));

  const evalPlan = program.eval;
  const testData = evalPlan ? data.get(evalPlan.from.data) : undefined;
  const canEval = evalPlan && testData?.kind === "series";
  const progress = new Progress({ enabled: !json && opts.progress !== false && Boolean(process.stdout.isTTY), epochs: plan.epochs, batches: plan.batchesPerEpoch });
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    progress.clear();
    process.stderr.write("\nrnnc: stopping after this batch and writing a checkpoint (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSigint);

  const score = (params: ParamValues, quick: boolean): Scores | undefined => {
    if (!canEval || testData.kind !== "series") return undefined;
    const sim = makeSimulator(program, params);
    return evaluate(sim, testData.test, evalPlan, quick ? { peStarts: 2000 } : {});
  };
  const meta = (): CheckpointMeta => ({ irHash: hash, best, savedAt: new Date().toISOString() });

  let lastEpoch: { epoch: number; loss: number } | undefined;
  const onEvent = (e: TrainEvent) => {
    if (e.type === "epoch") lastEpoch = { epoch: e.epoch, loss: e.loss };
    appendMetric(dir, e as unknown as Record<string, unknown>);
    if (json) {
      if (e.type !== "batch") out(JSON.stringify(e));
      return;
    }
    if (e.type === "batch") progress.batch(e.epoch, e.batch, e.loss);
    else if (e.type === "epoch") {
      if (!progress.enabled) out(`epoch ${e.epoch}/${plan.epochs}  loss ${e.loss.toExponential(4)}  lr ${e.lr.toExponential(2)}  ${e.seconds.toFixed(2)} s${e.gtfAlpha !== undefined ? `  gtf alpha ${e.gtfAlpha.toFixed(3)}` : ""}`);
    } else if (e.type === "start" && e.resumedAt) say(`rnnc: resuming at epoch ${e.resumedAt.epoch + 1}, batch ${e.resumedAt.batch + 1}`);
  };

  const result = await train({
    tier,
    precision: opts.precision as Precision,
    tf,
    program,
    data,
    state,
    hooks: {
      event: onEvent,
      shouldStop: () => stopRequested,
      afterEpoch: (done, s) => {
        saveParams(runPath(dir, "params"), s.params);
        if (canEval && (done % evalPlan.everyEpochs === 0 || done === plan.epochs)) {
          const sc = score(s.params, true)!;
          const evt = { type: "eval", epoch: done, ...sc };
          appendMetric(dir, evt);
          progress.clear();
          if (json) out(JSON.stringify(evt));
          else out(`eval  epoch ${done}  ${formatScores(sc)}`);
          const key = evalPlan.keepBestBy;
          const v = key ? sc[key] : undefined;
          if (key && v !== undefined && Number.isFinite(v) && (!best || v < best.value)) {
            best = { measure: key, value: v, epoch: done };
            saveParams(runPath(dir, "best"), s.params);
            writeCheckpoint(runPath(dir, "bestCheckpoint"), s, meta());
          }
        }
        writeCheckpoint(runPath(dir, "last"), s, meta());
      },
    },
  });
  process.off("SIGINT", onSigint);
  progress.clear();
  if (!json && progress.enabled && lastEpoch) say(`trained to epoch ${lastEpoch.epoch}/${plan.epochs}  loss ${lastEpoch.loss.toExponential(4)}`);

  if (result.outcome === "nan") {
    writeCheckpoint(runPath(dir, "last"), result.lastGood, meta());
    saveParams(runPath(dir, "params"), result.lastGood.params);
    process.stderr.write(`rnnc: ${result.nanMessage}\nrnnc: the last good parameters are in ${runPath(dir, "params")}; resume with --resume ${dir}\n`);
    return EXIT.userError;
  }
  writeCheckpoint(runPath(dir, "last"), result.state, meta());
  saveParams(runPath(dir, "params"), result.state.params);
  if (result.outcome === "stopped") {
    say(`rnnc: stopped; continue with: rnnc train ${spec} --resume ${dir}`);
    return 130;
  }
  const finalParams = best && evalPlan?.keepBestBy ? readCheckpoint(runPath(dir, "bestCheckpoint")).state.params : result.state.params;
  const final = score(finalParams, false);
  if (final) {
    appendMetric(dir, { type: "final", ...final, ...(best ? { bestEpoch: best.epoch } : {}) });
    if (json) out(JSON.stringify({ type: "final", ...final, ...(best ? { bestEpoch: best.epoch } : {}) }));
    else out(`final ${best ? `(best by ${best.measure}, epoch ${best.epoch})` : "(last epoch)"}: ${formatScores(final)}`);
  }
  // Figures of the run (figures/*.svg|png, drawn from the same model and data); plotting never fails training.
  if (opts.figures !== false) await import("../runtime/plots/run.js")
    .then((plots) => plots.writeRunFigures(dir, { program, params: finalParams, paramsFile: best && evalPlan?.keepBestBy ? RUN_FILES.best : RUN_FILES.params }, data))
    .then(({ files }) => say(`rnnc: ${files.length / 2} figures in ${join(dir, "figures")}; the whole run in one page: rnnc report ${dir}`))
    .catch((e: unknown) => process.stderr.write(`rnnc: warning: the figures could not be drawn (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); the trained model is unaffected\n`));
  say(`rnnc: done; parameters in ${runPath(dir, best ? "best" : "params")}`);
  return EXIT.ok;
}

function formatScores(s: Scores): string {
  const parts: string[] = [];
  if (s.dstsp !== undefined) parts.push(`D_stsp ${s.dstsp.toFixed(3)}`);
  if (s.dh !== undefined) parts.push(`D_H ${s.dh.toFixed(4)}`);
  if (s.pe !== undefined) parts.push(`PE ${s.pe.toExponential(3)}`);
  if (s.diverged) parts.push("(the free run diverged)");
  return parts.join("  ");
}

function configRecord(p: Program, overridden: string[], data: Map<string, LoadedData>, backend: string, spec: string): Record<string, unknown> {
  const t = p.train!;
  const settings: Record<string, { value: unknown; origin: string }> = {};
  const values: Record<string, unknown> = {
    loss: t.loss, forcing: t.forcing, teacher_noise: t.teacherNoise, optimizer: t.optimizer, schedule: t.schedule,
    batch_size: t.batchSize, seq_len: t.seqLen, batches_per_epoch: t.batchesPerEpoch, epochs: t.epochs, clip: t.clip,
    regularize: t.regularize, seed: t.seed,
  };
  for (const [k, v] of Object.entries(values)) settings[k] = { value: v, origin: t.origin[k] ?? "default" };
  if (p.eval) settings["eval.every"] = { value: p.eval.everyEpochs, origin: overridden.includes("eval.every") ? "cli" : "spec" };
  return {
    spec,
    model: p.model.name,
    backend,
    data: Object.fromEntries([...data].map(([k, d]) => [k, d.description])),
    dims: Object.fromEntries(p.dims.map((d) => [d.name, d.value])),
    settings,
    precedence: "default < spec < --set < --epochs/--seed",
  };
}

function printConfig(p: Program, overridden: string[], data: Map<string, LoadedData>): void {
  const rec = configRecord(p, overridden, data, "(not selected)", p.model.file) as { settings: Record<string, { value: unknown; origin: string }>; dims: Record<string, number> };
  process.stdout.write(`dims: ${Object.entries(rec.dims).map(([k, v]) => `${k}=${v}`).join(" ")}\n`);
  const w = Math.max(...Object.keys(rec.settings).map((k) => k.length));
  for (const [k, v] of Object.entries(rec.settings)) process.stdout.write(`${k.padEnd(w)}  ${JSON.stringify(v.value)}  [${v.origin}]\n`);
  process.stdout.write("precedence: default < spec < --set < --epochs/--seed\n");
}

export type { BackendChoice };
