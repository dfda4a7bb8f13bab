// `rnnc train SPEC` (implementation, loaded on demand so `rnnc check` never loads TensorFlow.js):
// compile, load the data, train with checkpoints and periodic evaluation.
// Precedence of settings (lowest first): rnnc's defaults < the spec < --set < --epochs/--seed.
import { dirname, join, resolve } from "node:path";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { RUN_LOG } from "../runtime/sweep/runner.js";
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
import { defaultModelsPerCall, memberSettingsKey, trainEnsemble } from "../runtime/train/ensemble.js";
import { freshCursor, train, type Tier, type TrainEvent, type TrainResult, type TrainState } from "../runtime/train/trainer.js";
import { atomicBatch, beginAtomicBatch, commitAtomicBatch, discardAtomicBatch } from "../runtime/data/atomic.js";
import { createRunDir, defaultRunDir, MetricsLog, modelHash, RUN_FILES, runPath, writeJson } from "../runtime/run/rundir.js";
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
  /** --ensemble E: E seeds side by side in one kernel. */
  ensemble?: string;
}

function intFlag(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (name === "seed" ? 0 : 1)) throw new UsageError(`--${name} expects ${name === "seed" ? "a non-negative" : "a positive"} integer, got '${v}'`);
  if (name === "ensemble" && n > 4096) throw new UsageError(`--ensemble ${n}: at most 4096 members per process`);
  return n;
}

/** One run being trained: its model, data, directory and where it stands. */
interface RunContext {
  spec: string;
  program: Program;
  plan: NonNullable<Program["train"]>;
  data: Map<string, LoadedData>;
  dir: string;
  state: TrainState;
  hash: string;
  best: CheckpointMeta["best"];
}

/** How a run reports: text lines, JSON lines (tagged with the member in ensembles), a progress bar. */
interface RunOutput {
  json: boolean;
  out: (line: string) => void;
  say: (line: string) => void;
  progress: Progress | null;
  /** Ensembles: the member's index and directory (added to JSON events and text lines). */
  member?: { index: number; dir: string };
}

/**
 * Compiles the spec with `sets`, loads its data (built-in generators are seeded by the run's
 * seed), and opens the run directory: fresh with initial parameters, or resumed from its checkpoint.
 */
function prepareRun(spec: string, sets: string[], opts: Pick<TrainOpts, "data" | "test" | "initParams" | "paramMap">, where: { resume: string } | { out: string | undefined }, backend: string | null, compile = compileForRun): RunContext | number {
  const compiled = compile(spec, sets);
  if (!compiled.program) return EXIT.userError;
  const ir = compiled.program;
  if (!ir.train) {
    process.stderr.write(`${spec}: the spec has no train block; add one, e.g. train { loss = mse(x, data) }\n`);
    return EXIT.userError;
  }
  const rngRoot = new Prng(ir.train.seed);
  const data = loadData(ir, { baseDir: dirname(resolve(spec)), ...(opts.data ? { dataFile: opts.data } : {}), ...(opts.test ? { testFile: opts.test } : {}), rng: (s) => rngRoot.fork(s) });
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
  if (backend === null) {
    printConfig(program, compiled.overridden, data);
    return EXIT.ok;
  }
  const hash = modelHash(program);
  if ("resume" in where) {
    const dir = where.resume;
    const ck = readCheckpoint(runPath(dir, "last"));
    if (ck.meta.irHash !== hash) throw new UsageError(`${dir} was trained with a different model than ${spec}; resume needs the same spec`);
    createRunDir(dir);
    return { spec, program, plan, data, dir, state: ck.state, hash, best: ck.meta.best };
  }
  const dir = where.out ?? defaultRunDir(program.model.name);
  if (existsSync(runPath(dir, "last"))) throw new UsageError(`${dir} already holds a run; continue it with --resume ${dir}, or choose another --out`);
  createRunDir(dir);
  let params: ParamValues;
  if (opts.initParams) params = loadParams(opts.initParams, program, opts.paramMap ? readParamMap(opts.paramMap) : {});
  else {
    const ranges = new Map([...data].map(([k, d]) => [k, dataRange(d)]));
    params = initParams(program, rngRoot.fork("init"), (name) => ranges.get(name)!);
  }
  writeJson(runPath(dir, "config"), configRecord(program, compiled.overridden, data, backend, spec));
  writeJson(runPath(dir, "ir"), program);
  saveParams(runPath(dir, "params"), params);
  return { spec, program, plan, data, dir, state: { cursor: freshCursor(plan.seed, plan), params, optimizer: null }, hash, best: null };
}

/** The run's event log, periodic evaluation and checkpoints, and its ending (final scores, figures). */
function runCallbacks(ctx: RunContext, io: RunOutput) {
  const { program, plan, dir } = ctx;
  const evalPlan = program.eval;
  const testData = evalPlan ? ctx.data.get(evalPlan.from.data) : undefined;
  const canEval = evalPlan && testData?.kind === "series";
  const tag = io.member ? { member: io.member.index, dir: io.member.dir } : {};
  const prefix = io.member ? `[${io.member.dir}] ` : "";
  const emit = (e: Record<string, unknown>, text: string | null) => {
    if (io.json) io.out(JSON.stringify({ ...e, ...tag }));
    else if (text !== null) io.out(prefix + text);
  };
  const score = (params: ParamValues, quick: boolean): Scores | undefined => {
    if (!canEval || testData.kind !== "series") return undefined;
    const sim = makeSimulator(program, params);
    return evaluate(sim, testData.test, evalPlan, quick ? { peStarts: 2000 } : {});
  };
  const meta = (): CheckpointMeta => ({ irHash: ctx.hash, best: ctx.best, savedAt: new Date().toISOString() });
  const metrics = new MetricsLog(dir);
  /** Flushes the metrics first: after a crash, metrics.jsonl is never behind a checkpoint. */
  const checkpoint = (file: "last" | "bestCheckpoint", s: TrainState) => {
    metrics.flush();
    writeCheckpoint(runPath(dir, file), s, meta());
  };
  let lastEpoch: { epoch: number; loss: number } | undefined;

  const onEvent = (e: TrainEvent) => {
    if (e.type === "epoch") lastEpoch = { epoch: e.epoch, loss: e.loss };
    metrics.append(e as unknown as Record<string, unknown>);
    if (e.type === "batch") {
      io.progress?.batch(e.epoch, e.batch, e.loss);
      return;
    }
    if (io.json) return emit(e, null);
    if (e.type === "epoch") {
      if (!io.progress?.enabled) emit(e, `epoch ${e.epoch}/${plan.epochs}  loss ${e.loss.toExponential(4)}  lr ${e.lr.toExponential(2)}  ${e.seconds.toFixed(2)} s${e.gtfAlpha !== undefined ? `  gtf alpha ${e.gtfAlpha.toFixed(3)}` : ""}`);
    } else if (e.type === "start" && e.resumedAt) emit(e, `rnnc: resuming at epoch ${e.resumedAt.epoch + 1}, batch ${e.resumedAt.batch + 1}`);
  };

  const afterEpoch = (done: number, s: TrainState) => {
    saveParams(runPath(dir, "params"), s.params);
    if (canEval && (done % evalPlan.everyEpochs === 0 || done === plan.epochs)) {
      const sc = score(s.params, true)!;
      const evt = { type: "eval", epoch: done, ...sc };
      metrics.append(evt);
      io.progress?.clear();
      emit(evt, `eval  epoch ${done}  ${formatScores(sc)}`);
      const key = evalPlan.keepBestBy;
      const v = key ? sc[key] : undefined;
      if (key && v !== undefined && Number.isFinite(v) && (!ctx.best || v < ctx.best.value)) {
        ctx.best = { measure: key, value: v, epoch: done };
        saveParams(runPath(dir, "best"), s.params);
        checkpoint("bestCheckpoint", s);
      }
    }
    checkpoint("last", s);
  };

  /** Writes the end state; returns the run's exit code. */
  const finish = async (result: TrainResult, figures: boolean): Promise<number> => {
    if (!io.json && io.progress?.enabled && lastEpoch) io.say(`${prefix}trained to epoch ${lastEpoch.epoch}/${plan.epochs}  loss ${lastEpoch.loss.toExponential(4)}`);
    if (result.outcome === "nan") {
      checkpoint("last", result.lastGood);
      saveParams(runPath(dir, "params"), result.lastGood.params);
      process.stderr.write(`rnnc: ${prefix}${result.nanMessage}\nrnnc: the last good parameters are in ${runPath(dir, "params")}; resume with --resume ${dir}\n`);
      return EXIT.userError;
    }
    checkpoint("last", result.state);
    saveParams(runPath(dir, "params"), result.state.params);
    if (result.outcome === "stopped") return 130;
    const best = ctx.best;
    const finalParams = best && evalPlan?.keepBestBy ? readCheckpoint(runPath(dir, "bestCheckpoint")).state.params : result.state.params;
    const final = score(finalParams, false);
    if (final) {
      const evt = { type: "final", ...final, ...(best ? { bestEpoch: best.epoch } : {}) };
      metrics.append(evt);
      metrics.flush();
      emit(evt, `final ${best ? `(best by ${best.measure}, epoch ${best.epoch})` : "(last epoch)"}: ${formatScores(final)}`);
    }
    // Figures of the run (figures/*.svg|png, drawn from the same model and data); plotting never fails training.
    if (figures) await import("../runtime/plots/run.js")
      .then((plots) => plots.writeRunFigures(dir, { program, params: finalParams, paramsFile: best && evalPlan?.keepBestBy ? RUN_FILES.best : RUN_FILES.params }, ctx.data))
      .then(({ files }) => io.say(`${prefix}rnnc: ${files.length / 2} figures in ${join(dir, "figures")}; the whole run in one page: rnnc report ${dir}`))
      .catch((e: unknown) => process.stderr.write(`rnnc: warning: the figures could not be drawn (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); the trained model is unaffected\n`));
    return EXIT.ok;
  };
  return { onEvent, afterEpoch, finish, metrics };
}

/** Ctrl-C: stop after the current batch with a checkpoint; a second Ctrl-C quits at once. */
function stopOnSigint(progress: Progress | null): { stopRequested: () => boolean; release: () => void } {
  let requested = false;
  const onSigint = () => {
    if (requested) process.exit(130);
    requested = true;
    progress?.clear();
    process.stderr.write("\nrnnc: stopping after this batch and writing a checkpoint (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSigint);
  return { stopRequested: () => requested, release: () => process.off("SIGINT", onSigint) };
}

export async function runTrain(spec: string, opts: TrainOpts): Promise<number> {
  const epochs = intFlag(opts.epochs, "epochs");
  const seed = intFlag(opts.seed, "seed");
  const ensemble = intFlag(opts.ensemble, "ensemble");
  const backendChoice = parseBackend(opts.backend);
  if (!["auto", "graph", "fused"].includes(opts.tier)) throw new UsageError(`unknown --tier '${opts.tier}' (auto, graph, fused)`);
  if (!["float32", "float64"].includes(opts.precision)) throw new UsageError(`unknown --precision '${opts.precision}' (float32, float64)`);
  const sets = [...opts.set, ...(epochs !== undefined ? [`epochs=${epochs}`] : [])];
  const withSeed = (s: number | undefined) => [...sets, ...(s !== undefined ? [`seed=${s}`] : [])];
  if (opts.printConfig) {
    const r = prepareRun(spec, withSeed(seed), opts, { out: undefined }, null);
    return typeof r === "number" ? r : EXIT.ok;
  }
  const ensembleDir = opts.resume && existsSync(join(opts.resume, ENSEMBLE_FILE)) ? opts.resume : undefined;
  if (ensemble !== undefined || ensembleDir) return runEnsemble(spec, opts, withSeed, seed, ensemble, ensembleDir);

  const json = Boolean(opts.json);
  const out = (line: string) => process.stdout.write(line + "\n");
  const say = (line: string) => {
    if (!json) out(line);
  };
  const sel = await selectBackend(backendChoice);
  const ctx = prepareRun(spec, withSeed(seed), opts, opts.resume ? { resume: opts.resume } : { out: opts.out }, sel.name);
  if (typeof ctx === "number") return ctx;
  const { program, plan, data, dir } = ctx;
  const tf = sel.tf;
  // The fused kernel runs on the host (WebAssembly or JavaScript); native/GPU backends run whole
  // tfjs graphs faster.
  const tier: Tier = opts.tier === "auto" ? (sel.name === "cpu" || sel.name === "wasm" ? "fused" : "graph") : (opts.tier as Tier);

  say(`rnnc: training ${program.model.name} (${spec}) on ${[...data.values()].map((d) => d.description).join(", ")}`);
  const skipped = sel.fellBackFrom?.length ? ` (${sel.fellBackFrom.map((f) => f.name).join(", ")} not available; --backend ${sel.fellBackFrom[0]!.name} says why)` : "";
  say(`rnnc: ${tier} tier${tier === "fused" ? ` (${opts.precision})` : ""} on the ${sel.name} backend${skipped}; run directory ${dir}`);
  if (json) out(JSON.stringify({ type: "config", backend: sel.name, tier, dir, model: program.model.name }));

  const progress = new Progress({ enabled: !json && opts.progress !== false && Boolean(process.stdout.isTTY), epochs: plan.epochs, batches: plan.batchesPerEpoch });
  const sigint = stopOnSigint(progress);
  const cb = runCallbacks(ctx, { json, out, say, progress });
  let result: TrainResult;
  try {
    result = await train({
      tier,
      precision: opts.precision as Precision,
      tf,
      program,
      data,
      state: ctx.state,
      // an epoch's files are synced together (atomicBatch)
      hooks: { event: cb.onEvent, shouldStop: sigint.stopRequested, afterEpoch: (done, s) => atomicBatch(() => cb.afterEpoch(done, s)) },
    });
  } finally {
    cb.metrics.flush();
  }
  sigint.release();
  progress.clear();
  const code = await cb.finish(result, opts.figures !== false);
  if (code === 130) say(`rnnc: stopped; continue with: rnnc train ${spec} --resume ${dir}`);
  else if (code === EXIT.ok) say(`rnnc: done; parameters in ${runPath(dir, ctx.best ? "best" : "params")}`);
  return code;
}

/** The file in an ensemble's directory that lists its members. */
export const ENSEMBLE_FILE = "ensemble.json";

interface EnsembleFile {
  spec: string;
  /** dirs relative to the file's directory; `set`: the member's own settings (rnnc sweep's grid values) */
  members: { dir: string; seed: number; set?: string[] }[];
}

/**
 * `rnnc train SPEC --ensemble E`: E members with seeds seed, seed + 1, ... in DIR/run-0 ...
 * (each a complete run directory), trained side by side in one fused kernel; `--resume DIR`
 * continues all of them. Members that stand at different points (a kill between their
 * checkpoints) continue in groups, each member exactly where it stopped.
 */
async function runEnsemble(spec: string, opts: TrainOpts, withSeed: (s: number | undefined) => string[], seed: number | undefined, size: number | undefined, resumeDir: string | undefined): Promise<number> {
  if (opts.tier === "graph") throw new UsageError("--ensemble trains on the fused tier; leave out --tier graph");
  if (opts.precision !== "float32") throw new UsageError("--ensemble runs the float32 WebAssembly kernel; leave out --precision float64");
  if (opts.initParams) throw new UsageError("--ensemble initialises every member from its seed; --init-params is for single runs");
  const json = Boolean(opts.json);
  const out = (line: string) => process.stdout.write(line + "\n");
  const say = (line: string) => {
    if (!json) out(line);
  };
  const sel = await selectBackend(parseBackend(opts.backend));
  let root: string;
  let file: EnsembleFile;
  if (resumeDir) {
    root = resumeDir;
    file = JSON.parse(readFileSync(join(root, ENSEMBLE_FILE), "utf8")) as EnsembleFile;
    if (size !== undefined && size !== file.members.length) throw new UsageError(`${root} holds an ensemble of ${file.members.length}, not ${size}`);
  } else {
    const base = seed ?? compileForRun(spec, withSeed(undefined)).program?.train?.seed ?? 0;
    const program0 = compileForRun(spec, withSeed(base)).program;
    if (!program0) return EXIT.userError;
    root = opts.out ?? defaultRunDir(program0.model.name);
    if (existsSync(join(root, ENSEMBLE_FILE))) throw new UsageError(`${root} already holds an ensemble; continue it with --resume ${root}, or choose another --out`);
    file = { spec, members: Array.from({ length: size! }, (_, k) => ({ dir: `run-${k}`, seed: base + k })) };
    mkdirSync(root, { recursive: true });
    writeJson(join(root, ENSEMBLE_FILE), file);
  }
  // The members compile the same spec and differ in the seed (and, from rnnc sweep, their own
  // settings): compile once per own settings and put each member's seed in, as a seed override
  // sets train.seed and nothing else. (Not shared when the seed override did not take effect.)
  const compiledByOwnSettings = new Map<string, ReturnType<typeof compileForRun>>();
  const compileMember = (m: EnsembleFile["members"][number]) => (_: string, sets: string[]) => {
    const key = JSON.stringify(m.set ?? []);
    let c = compiledByOwnSettings.get(key);
    if (!c) {
      c = compileForRun(spec, sets);
      if (c.program?.train?.seed !== m.seed) return c;
      compiledByOwnSettings.set(key, c);
    }
    const program = structuredClone(c.program!);
    program.train!.seed = m.seed;
    return { program, overridden: c.overridden };
  };
  const contexts: RunContext[] = [];
  for (const m of file.members) {
    const dir = join(root, m.dir);
    const where = resumeDir && existsSync(runPath(dir, "last")) ? { resume: dir } : { out: dir };
    // a member that never reached a checkpoint starts afresh (rnnc sweep's log of it stays)
    if ("out" in where && existsSync(dir)) for (const f of readdirSync(dir)) if (f !== RUN_LOG) rmSync(join(dir, f), { recursive: true, force: true });
    const ctx = prepareRun(spec, [...withSeed(m.seed), ...(m.set ?? [])], opts, where, sel.name, compileMember(m));
    if (typeof ctx === "number") return ctx;
    contexts.push(ctx);
  }
  // the members may differ in seed (and so in generated data and initialisation) and in what the
  // host applies per member: learning rate and schedule, teacher noise, clipping, regularisation weights, forcing alpha
  const first = memberSettingsKey(contexts[0]!.program);
  for (const c of contexts) if (memberSettingsKey(c.program) !== first) throw new UsageError(`${c.dir}: the members of an ensemble must share the model and settings; they may differ only in seed, learning rate and schedule, teacher noise, clipping, regularisation weights and forcing alpha`);
  const { program, plan } = contexts[0]!;
  say(`rnnc: training an ensemble of ${contexts.length} ${program.model.name} (${spec}), seeds ${file.members.map((m) => m.seed).join(", ")}`);
  say(`rnnc: fused tier (float32, ${Math.min(contexts.length, defaultModelsPerCall(plan.batchSize))} models per kernel call) on the ${sel.name} backend; run directories ${join(root, "run-*")}`);
  if (json) out(JSON.stringify({ type: "config", backend: sel.name, tier: "fused", dir: root, model: program.model.name, ensemble: contexts.length }));

  const sigint = stopOnSigint(null);
  const callbacks = contexts.map((ctx, k) => runCallbacks(ctx, { json, out, say, progress: null, member: { index: k, dir: file.members[k]!.dir } }));
  // one text line per epoch for the whole ensemble (the members' own lines would be E per epoch)
  const epochLosses = new Map<number, number[]>();
  const summarize = (k: number, e: TrainEvent) => {
    if (json || e.type !== "epoch") return callbacks[k]!.onEvent(e);
    callbacks[k]!.metrics.append(e as unknown as Record<string, unknown>);
    const l = epochLosses.get(e.epoch) ?? [];
    l.push(e.loss);
    epochLosses.set(e.epoch, l);
    if (l.length === contexts.length) {
      const sorted = [...l].sort((a, b) => a - b);
      out(`epoch ${e.epoch}/${plan.epochs}  loss median ${sorted[Math.floor(sorted.length / 2)]!.toExponential(4)} (${sorted[0]!.toExponential(2)} .. ${sorted[sorted.length - 1]!.toExponential(2)})  lr ${e.lr.toExponential(2)}  ${e.seconds.toFixed(2)} s`);
      epochLosses.delete(e.epoch);
    }
  };
  // members at different points of training (a kill between their checkpoints) go in groups
  const groups = new Map<string, number[]>();
  contexts.forEach((c, k) => {
    const key = `${c.state.cursor.epoch}/${c.state.cursor.batch}`;
    groups.set(key, [...(groups.get(key) ?? []), k]);
  });
  const codes: number[] = new Array<number>(contexts.length).fill(EXIT.ok);
  for (const members of groups.values()) {
    // All members' files of an epoch are synced together (atomic.ts, beginAtomicBatch): the batch
    // opens with the first member's afterEpoch and commits with the last one still training.
    const stoppedByNan = new Set<number>();
    let written = 0;
    let results: TrainResult[];
    try {
      results = await trainEnsemble({
        tf: sel.tf,
        program,
        members: members.map((k) => ({ data: contexts[k]!.data, state: contexts[k]!.state, program: contexts[k]!.program })),
        hooks: {
          event: (i, e) => {
            if (e.type === "nan") stoppedByNan.add(i);
            summarize(members[i]!, e);
          },
          afterEpoch: async (i, done, s) => {
            if (written++ === 0) beginAtomicBatch();
            callbacks[members[i]!]!.afterEpoch(done, s);
            if (written === members.length - stoppedByNan.size) {
              written = 0;
              await commitAtomicBatch();
            }
          },
          shouldStop: sigint.stopRequested,
        },
      });
      await commitAtomicBatch();
    } catch (e) {
      // the members' checkpoints stay at their last committed epoch
      discardAtomicBatch();
      throw e;
    } finally {
      for (const k of members) callbacks[k]!.metrics.flush();
    }
    for (const [i, r] of results.entries()) {
      const k = members[i]!;
      codes[k] = await callbacks[k]!.finish(r, opts.figures !== false);
      // for rnnc sweep: how each member ended
      if (json) out(JSON.stringify({ type: "member-end", member: k, dir: file.members[k]!.dir, status: codes[k] === EXIT.ok ? "done" : codes[k] === 130 ? "stopped" : "failed", ...(r.nanMessage ? { error: r.nanMessage } : {}) }));
    }
    if (sigint.stopRequested()) break;
  }
  sigint.release();
  if (sigint.stopRequested() || codes.includes(130)) {
    say(`rnnc: stopped; continue with: rnnc train ${spec} --resume ${root}`);
    return 130;
  }
  const failedRuns = codes.filter((c) => c !== EXIT.ok).length;
  if (failedRuns) {
    say(`rnnc: ${contexts.length - failedRuns} of ${contexts.length} members done; ${failedRuns} stopped on a non-finite loss`);
    return EXIT.userError;
  }
  say(`rnnc: done; ${contexts.length} run directories in ${root}`);
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
