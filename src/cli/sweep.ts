// `rnnc sweep SPEC`: train the cartesian grid of the spec's sweep block (and --grid) x runs, each run
// a child `rnnc train` process writing a normal run directory under one sweep directory with an
// index.json; locally with a pool of workers, or as a Slurm array (--emit slurm, then --task i in
// each array task). The summary table (and summary.json) gives every grid point's final and best
// measures, mean ± sd over its runs, best first.
import type { Command } from "commander";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { availableParallelism, hostname } from "node:os";
import { join, resolve } from "node:path";
import { EXIT, UsageError } from "./main.js";

export interface SweepOpts {
  grid: string[];
  runs?: string;
  jobs?: string;
  out?: string;
  resume?: boolean;
  seed?: string;
  epochs?: string;
  set: string[];
  data?: string;
  test?: string;
  backend: string;
  tier: string;
  retries: string;
  json?: boolean;
  summary?: boolean;
  dryRun?: boolean;
  emit?: string;
  partition?: string;
  time?: string;
  cpusPerTask?: string;
  mem?: string;
  jobName?: string;
  task?: string;
  ensemble?: string;
}

export function registerSweep(program: Command, setCode: (c: number) => void): void {
  program
    .command("sweep")
    .description("train a grid of settings x runs, each a run directory under one sweep directory; locally or as a Slurm array")
    .argument("<spec>", ".rnn spec file (its sweep block gives the grid and the runs)")
    .option("--grid <key=v1,v2>", "sweep a setting over values (keys as for --set; replaces the block's entry) (repeatable)", (v: string, acc: string[]) => [...acc, v], [])
    .option("--runs <n>", "runs per grid point, with seeds base, base + 1, ... (replaces the block's runs)")
    .option("-j, --jobs <n>", "runs trained at once (default and at most: the cores)")
    .option("--out <dir>", "sweep directory (default sweeps/<model>-<time>)")
    .option("--resume", "continue the sweep in --out: skip finished runs, continue interrupted ones from their checkpoints, retry failed ones")
    .option("--seed <n>", "base seed: run r of each grid point uses seed + r (default: the spec's seed)")
    .option("--epochs <n>", "epochs of every run")
    .option("--set <key=value>", "override a setting of every run (repeatable)", (v: string, acc: string[]) => [...acc, v], [])
    .option("--data <file>", "training data of every run instead of the spec's first data set")
    .option("--test <file>", "test data of every run")
    .option("--backend <name>", "auto | node-gpu | node | wasm | cpu", "auto")
    .option("--tier <tier>", "auto | graph | fused", "auto")
    .option("--retries <n>", "retry a failed run this many times, from its checkpoint", "0")
    .option("--json", "print JSON-lines events and the summary as JSON")
    .option("--summary", "print the summary of the sweep in --out and exit (trains nothing)")
    .option("--dry-run", "list the runs and the command of each, and exit")
    .option("--emit <scheduler>", "write a job script instead of training: slurm (an sbatch array, one task per run)")
    .option("--partition <name>", "Slurm partition")
    .option("--time <limit>", "Slurm time limit per run, e.g. 02:00:00")
    .option("--cpus-per-task <n>", "Slurm CPUs per run (default 1)")
    .option("--mem <size>", "Slurm memory per run, e.g. 2G")
    .option("--job-name <name>", "Slurm job name (default rnnc-<model>)")
    .option("--task <i>", "train only run i of the sweep in --out (with --ensemble: ensemble i); what each Slurm array task runs")
    .option("--ensemble <E>", "train runs E at a time as one ensemble (one process, one fused kernel): runs that differ only in seed, optimizer.lr, teacher_noise, clip or schedule; the same run directories")
    .action(async (spec: string, opts: SweepOpts) => setCode(await runSweep(spec, opts)));
}

function intFlag(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} expects ${min === 0 ? "a non-negative" : "a positive"} integer, got '${v}'`);
  return n;
}

function defaultSweepDir(model: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  let dir = join("sweeps", `${model}-${stamp}`);
  for (let i = 2; existsSync(dir); i++) dir = join("sweeps", `${model}-${stamp}-${i}`);
  return dir;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

export async function runSweep(spec: string, opts: SweepOpts): Promise<number> {
  const { compileSource, compileWithOverrides } = await import("../compiler/driver.js");
  const { renderPretty } = await import("../compiler/diagnostics/render.js");
  const { OverrideError, parseOverride } = await import("../compiler/overrides.js");
  const { readSpecFile } = await import("./files.js");
  const { parseGridFlag, planRuns, spliceSweep, SweepError } = await import("../runtime/sweep/grid.js");
  const ixf = await import("../runtime/sweep/index-file.js");
  const { summarize, renderTable, writeSummary } = await import("../runtime/sweep/summary.js");
  const runner = await import("../runtime/sweep/runner.js");

  const json = Boolean(opts.json);
  const say = (line: string) => {
    if (!json) process.stdout.write(line + "\n");
  };
  const emitJson = (e: Record<string, unknown>) => {
    if (json) process.stdout.write(JSON.stringify(e) + "\n");
  };

  // --summary: only the sweep directory is needed.
  if (opts.summary) {
    if (!opts.out) throw new UsageError("--summary needs the sweep directory: --out DIR");
    const ix = ixf.readIndex(opts.out);
    if (!ix) throw new SweepError(`${opts.out} holds no sweep (no ${ixf.INDEX_FILE})`);
    const s = summarize(opts.out, ix);
    writeSummary(opts.out, s);
    if (json) process.stdout.write(JSON.stringify({ type: "summary", ...s }) + "\n");
    else process.stdout.write(renderTable(s) + "\n");
    return EXIT.ok;
  }

  // --resume and --task without the sweep's options take them from the index (as they were first given).
  if ((opts.resume || opts.task !== undefined) && opts.out) {
    const stored = ixf.readIndex(opts.out)?.options;
    if (stored) {
      if (opts.grid.length === 0 && opts.runs === undefined) {
        opts.grid = stored.grid;
        if (stored.runs !== undefined) opts.runs = stored.runs;
      }
      if (opts.seed === undefined && stored.seed !== undefined) opts.seed = stored.seed;
      if (opts.ensemble === undefined && stored.ensemble !== undefined) opts.ensemble = stored.ensemble;
      const runOptions = opts.set.length || opts.epochs !== undefined || opts.data !== undefined || opts.test !== undefined || opts.backend !== "auto" || opts.tier !== "auto";
      if (!runOptions) {
        opts.set = stored.set;
        for (const k of ["epochs", "data", "test"] as const) if (stored[k] !== undefined) opts[k] = stored[k];
        opts.backend = stored.backend;
        opts.tier = stored.tier;
      }
    }
  }
  const runsFlag = intFlag(opts.runs, "runs", 1);
  const jobsFlag = intFlag(opts.jobs, "jobs", 1);
  const seedFlag = intFlag(opts.seed, "seed", 0);
  const epochsFlag = intFlag(opts.epochs, "epochs", 1);
  const retries = intFlag(opts.retries, "retries", 0) ?? 0;
  const taskFlag = intFlag(opts.task, "task", 0);
  const ensembleFlag = intFlag(opts.ensemble, "ensemble", 1) ?? 1;
  if (ensembleFlag > 1 && (opts.tier === "graph")) throw new UsageError("--ensemble trains on the fused tier; leave out --tier graph");
  if (opts.emit !== undefined && opts.emit !== "slurm") throw new UsageError(`--emit '${opts.emit}': the scheduler rnnc writes scripts for is slurm`);
  if (opts.emit && taskFlag !== undefined) throw new UsageError("--emit writes the script whose tasks use --task; give one of them");
  if (taskFlag !== undefined && !opts.out) throw new UsageError("--task needs the sweep directory: --out DIR");
  const slurmFlags = { partition: opts.partition, time: opts.time, cpusPerTask: opts.cpusPerTask, mem: opts.mem, jobName: opts.jobName };
  if (!opts.emit) for (const [k, v] of Object.entries(slurmFlags)) if (v !== undefined) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} applies to --emit slurm`);
  if (opts.emit) {
    const { checkSlurmOptions } = await import("../runtime/sweep/slurm.js");
    try {
      checkSlurmOptions(slurmFlags);
    } catch (e) {
      if (e instanceof SweepError) throw new UsageError(e.message);
      throw e;
    }
  }
  if (!["auto", "node-gpu", "node", "wasm", "cpu"].includes(opts.backend)) throw new UsageError(`unknown --backend '${opts.backend}' (auto, node-gpu, node, wasm, cpu)`);
  if (!["auto", "graph", "fused"].includes(opts.tier)) throw new UsageError(`unknown --tier '${opts.tier}' (auto, graph, fused)`);

  // The spec, then the spec with --grid/--runs in its sweep block and --set/--epochs: both checked.
  const source = readSpecFile(spec);
  let grid;
  let sets;
  try {
    grid = opts.grid.map(parseGridFlag);
    sets = opts.set.map(parseOverride);
  } catch (e) {
    if (e instanceof OverrideError || e instanceof SweepError) throw new UsageError(e.message);
    throw e;
  }
  const color = Boolean(process.stderr.isTTY);
  const report = (r: { diagnostics: { severity: string }[]; source: string }, file: string): boolean => {
    const errors = r.diagnostics.filter((d) => d.severity === "error") as Parameters<typeof renderPretty>[0][];
    for (const d of errors) process.stderr.write(renderPretty(d, r.source, { color }) + "\n\n");
    if (errors.length) process.stderr.write(`${file}: ${errors.length} error${errors.length === 1 ? "" : "s"}; nothing was run\n`);
    return errors.length > 0;
  };
  const first = compileSource(source, spec);
  if (report(first, spec) || !first.ast) return EXIT.userError;
  const edited = spliceSweep(source, first.ast, grid, runsFlag);
  const label = edited === source ? spec : `${spec} (with --grid/--runs)`;
  const checkSets = [...sets, ...(epochsFlag !== undefined ? [{ key: "epochs", value: String(epochsFlag) }] : [])];
  let compiled;
  try {
    compiled = compileWithOverrides(edited, label, checkSets);
  } catch (e) {
    if (e instanceof OverrideError) throw new UsageError(e.message);
    throw e;
  }
  if (report(compiled, label) || !compiled.opt) return EXIT.userError;
  const program = compiled.opt;
  if (!program.train) {
    process.stderr.write(`${spec}: the spec has no train block; a sweep trains it: add one, e.g. train { loss = mse(x, data) }\n`);
    return EXIT.userError;
  }
  const plan = program.sweep;
  if (!plan) throw new UsageError(`${spec} has no sweep block: add one (sweep { optimizer.lr = [1e-3, 5e-4]; runs = 3 }) or give --grid KEY=V1,V2 / --runs R`);

  // Settings every run gets must not touch what the grid changes (their edits would overlap).
  const gridHeads = new Map(plan.grid.map((a) => [a.key.split(".")[0]!, a.key]));
  for (const s of sets) {
    const head = s.key.split(".")[0]!;
    if (head === "seed") throw new UsageError("--set seed: the runs' seeds are base + r; give the base with --seed");
    const g = plan.grid.find((a) => a.key === s.key || (a.key.split(".")[0] === head && (!a.key.includes(".") || !s.key.includes("."))));
    if (g) throw new UsageError(`--set ${s.key} and the sweep's ${g.key} change the same setting; sweep it, or set it in the spec`);
  }
  if (epochsFlag !== undefined && gridHeads.has("epochs")) throw new UsageError("--epochs and the sweep's epochs change the same setting");
  if (epochsFlag !== undefined && sets.some((s) => s.key === "epochs")) throw new UsageError("--epochs and --set epochs change the same setting; give one");

  const baseSeed = seedFlag ?? program.train.seed;
  const planned = planRuns(plan, baseSeed);
  const sweepDir = resolve(opts.out ?? defaultSweepDir(program.model.name));
  const abs = (f: string | undefined) => (f === undefined ? undefined : resolve(f));
  const common = [
    ...opts.set.flatMap((s) => ["--set", s]),
    ...(epochsFlag !== undefined ? ["--epochs", String(epochsFlag)] : []),
    ...(opts.backend !== "auto" ? ["--backend", opts.backend] : []),
    ...(opts.tier !== "auto" ? ["--tier", opts.tier] : []),
    ...(opts.data ? ["--data", abs(opts.data)!] : []),
    ...(opts.test ? ["--test", abs(opts.test)!] : []),
  ];
  const command = runner.rnncCommand();

  if (opts.dryRun) {
    const { shellQuote } = await import("../runtime/sweep/slurm.js");
    const ctx = { spec, common };
    for (const r of planned) {
      const line = runner.trainArgs(ctx, { ...r, status: "pending", attempts: 0 }, join(sweepDir, r.dir), false).map(shellQuote).join(" ");
      if (json) emitJson({ type: "planned", ...r, command: line });
      else say(`${String(r.index).padStart(4)}  ${r.dir}  seed ${r.seed}  rnnc ${line}`);
    }
    return EXIT.ok;
  }

  // The index: new, or merged with the sweep already in the directory (the same runs keep their state).
  const exists = existsSync(join(sweepDir, ixf.INDEX_FILE));
  if (exists && !opts.resume && taskFlag === undefined) throw new SweepError(`${sweepDir} already holds a sweep; continue it with --resume, or choose another --out`);
  mkdirSync(sweepDir, { recursive: true });
  const specSha256 = createHash("sha256").update(source).digest("hex");
  let dropped = 0;
  const index = await ixf.withIndexLock(sweepDir, () => {
    const old = ixf.readIndex(sweepDir);
    if (old && JSON.stringify(old.common) !== JSON.stringify(common)) {
      throw new SweepError(`the sweep in ${sweepDir} was started with other options for its runs (${old.common.join(" ") || "none"}); give the same --set/--epochs/--backend/--tier/--data/--test`);
    }
    const now = new Date().toISOString();
    const runs = planned.map((p): import("../runtime/sweep/index-file.js").IndexedRun => {
      const prev = old?.runs.find((r) => r.dir === p.dir);
      if (prev && (prev.seed !== p.seed || JSON.stringify(prev.settings) !== JSON.stringify(p.settings))) {
        throw new SweepError(`${join(sweepDir, p.dir)} holds a run with other settings or seed than this sweep's; choose another --out`);
      }
      return prev ? { ...prev, ...p } : { ...p, status: "pending", attempts: 0 };
    });
    dropped = old ? old.runs.filter((r) => !planned.some((p) => p.dir === r.dir)).length : 0;
    const ix: import("../runtime/sweep/index-file.js").SweepIndex = {
      version: 1,
      spec,
      specSha256,
      model: program.model.name,
      grid: plan.grid,
      runsPerPoint: plan.runs,
      baseSeed,
      common,
      keepBestBy: program.eval?.keepBestBy ?? null,
      options: {
        grid: opts.grid,
        set: opts.set,
        backend: opts.backend,
        tier: opts.tier,
        ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(ensembleFlag > 1 ? { ensemble: String(ensembleFlag) } : {}),
        ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
        ...(opts.data !== undefined ? { data: resolve(opts.data) } : {}),
        ...(opts.test !== undefined ? { test: resolve(opts.test) } : {}),
      },
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
      runs,
    };
    ixf.writeIndex(sweepDir, ix);
    return ix;
  });
  if (dropped) say(`rnnc: ${dropped} run${dropped === 1 ? "" : "s"} of the earlier grid in ${sweepDir} ${dropped === 1 ? "is" : "are"} not part of this one (kept on disk, left out of the index)`);
  const afterUpdate = (ix: import("../runtime/sweep/index-file.js").SweepIndex) => {
    const s = summarize(sweepDir, ix);
    writeSummary(sweepDir, s);
  };
  const live = (r: { status: string; pid?: number; host?: string }) => r.status === "running" && r.pid !== undefined && r.host === hostname() && r.pid !== process.pid && isAlive(r.pid);

  // --emit slurm: the array script (of the unfinished runs), nothing trained here.
  if (opts.emit === "slurm") {
    const { sbatchScript } = await import("../runtime/sweep/slurm.js");
    // one task per run, or per ensemble (the groups of all runs, so task numbers never shift)
    const tasks = runner.groupRuns(index.runs, ensembleFlag).map((g, i) => (g.some((r) => r.status !== "done") ? i : -1)).filter((i) => i >= 0);
    if (tasks.length === 0) {
      say(`rnnc: every run of ${sweepDir} is done; nothing to submit`);
      afterUpdate(index);
      return EXIT.ok;
    }
    const logDir = join(sweepDir, "logs");
    mkdirSync(logDir, { recursive: true });
    const taskCommand = [
      ...command,
      "sweep",
      resolve(spec),
      "--out",
      sweepDir,
      ...opts.grid.flatMap((g) => ["--grid", g]),
      ...(runsFlag !== undefined ? ["--runs", String(runsFlag)] : []),
      ...(seedFlag !== undefined ? ["--seed", String(seedFlag)] : []),
      ...(ensembleFlag > 1 ? ["--ensemble", String(ensembleFlag)] : []),
      ...(retries ? ["--retries", String(retries)] : []),
      ...common,
    ];
    const script = sbatchScript({
      jobName: opts.jobName ?? `rnnc-${program.model.name}`,
      ...(opts.partition ? { partition: opts.partition } : {}),
      ...(opts.time ? { time: opts.time } : {}),
      ...(opts.cpusPerTask ? { cpusPerTask: Number(opts.cpusPerTask) } : {}),
      ...(opts.mem ? { mem: opts.mem } : {}),
      ...(jobsFlag ? { throttle: jobsFlag } : {}),
      tasks,
      sweepDir,
      logDir,
      workDir: process.cwd(),
      command: taskCommand,
    });
    const file = join(sweepDir, "sweep.sbatch");
    writeFileSync(file, script, { mode: 0o755 });
    emitJson({ type: "emit", scheduler: "slurm", script: file, tasks: tasks.length, runs: index.runs.length, dir: sweepDir });
    say(`rnnc: wrote ${file}: a Slurm array of ${tasks.length} task${tasks.length === 1 ? "" : "s"} (of ${index.runs.length} runs), ${ensembleFlag > 1 ? `an ensemble of up to ${ensembleFlag} runs` : "one run"} each, into ${sweepDir}`);
    say(`rnnc: submit it with: sbatch ${file}`);
    say(`rnnc: the table at any time: rnnc sweep ${spec} --out ${opts.out ?? sweepDir} --summary`);
    return EXIT.ok;
  }

  const ctx: import("../runtime/sweep/runner.js").RunnerContext = {
    sweepDir,
    spec,
    common,
    command,
    retries,
    stopping: false,
    children: new Set(),
    afterUpdate,
    onEvent: () => undefined,
  };

  // --task i: one run, or with --ensemble one ensemble (a Slurm array task).
  if (taskFlag !== undefined) {
    const groups = runner.groupRuns(index.runs, ensembleFlag);
    const what = ensembleFlag > 1 ? "ensemble" : "run";
    const group = groups[taskFlag];
    if (!group) throw new UsageError(`--task ${taskFlag}: the sweep has ${what}s 0 to ${groups.length - 1}`);
    const todoHere = group.filter((r) => r.status !== "done");
    if (todoHere.length === 0) {
      say(`rnnc: ${what} ${taskFlag} (${group.map((r) => r.dir).join(", ")}) is already done`);
      return EXIT.ok;
    }
    const busyHere = todoHere.find(live);
    if (busyHere) throw new SweepError(`run ${busyHere.index} (${busyHere.dir}) is being trained by process ${busyHere.pid} on ${busyHere.host}`);
    ctx.onEvent = (e) => logEvent(e, say, emitJson, "");
    const onTerm = (sig: NodeJS.Signals) => runner.stopRuns(ctx, sig === "SIGINT" ? "SIGINT" : "SIGTERM");
    process.on("SIGINT", onTerm);
    process.on("SIGTERM", onTerm);
    const outcomes = [...(await runner.trainGroup(ctx, todoHere)).values()];
    process.off("SIGINT", onTerm);
    process.off("SIGTERM", onTerm);
    return outcomes.every((o) => o === "done") ? EXIT.ok : outcomes.includes("interrupted") ? 130 : EXIT.userError;
  }

  // A local sweep: a pool of workers over the runs that are not done.
  const busy = index.runs.filter(live);
  if (busy.length) throw new SweepError(`${busy.length} run${busy.length === 1 ? " is" : "s are"} still being trained by another process (${busy.map((r) => `${r.dir}: pid ${r.pid}`).slice(0, 3).join(", ")}); wait for ${busy.length === 1 ? "it" : "them"} or stop ${busy.length === 1 ? "it" : "them"}`);
  const todo = index.runs.filter((r) => r.status !== "done");
  const cores = availableParallelism();
  const children = runner.groupRuns(todo, ensembleFlag).length || 1;
  let workers = Math.min(jobsFlag ?? cores, children);
  if (jobsFlag !== undefined && jobsFlag > cores) {
    say(`rnnc: -j ${jobsFlag} is more than the ${cores} cores; training ${Math.min(cores, children)} ${ensembleFlag > 1 ? "ensembles" : "runs"} at a time`);
    workers = Math.min(cores, children);
  }
  const points = plan.grid.reduce((n, a) => n * a.values.length, 1);
  emitJson({ type: "sweep", dir: sweepDir, model: program.model.name, points, runsPerPoint: plan.runs, runs: index.runs.length, todo: todo.length, workers });
  say(`rnnc: sweep of ${program.model.name} (${spec}): ${points} grid point${points === 1 ? "" : "s"} x ${plan.runs} run${plan.runs === 1 ? "" : "s"} = ${index.runs.length} runs${todo.length < index.runs.length ? `, ${todo.length} to do` : ""}, ${workers} ${ensembleFlag > 1 ? `ensemble${workers === 1 ? "" : "s"} of up to ${ensembleFlag}` : ""} at a time; sweep directory ${sweepDir}`.replace("  at", " at"));
  let finished = index.runs.length - todo.length;
  ctx.onEvent = (e) => {
    if (e.type === "end" && (e.status === "done" || (e.status === "failed" && !e.willRetry))) finished++;
    logEvent(e, say, emitJson, `${finished}/${index.runs.length} `);
  };
  let interrupts = 0;
  const onInt = () => {
    interrupts++;
    if (interrupts === 1) process.stderr.write("\nrnnc: stopping: the running runs write a checkpoint and stop (Ctrl-C again to stop them at once); rnnc sweep --resume continues\n");
    runner.stopRuns(ctx, "SIGINT");
  };
  const onTerm = () => runner.stopRuns(ctx, "SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const outcomes = await runner.runPool(ctx, todo, workers, ensembleFlag);
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onTerm);

  const final = ixf.readIndex(sweepDir)!;
  const s = summarize(sweepDir, final);
  const table = renderTable(s);
  writeSummary(sweepDir, s);
  if (json) process.stdout.write(JSON.stringify({ type: "summary", ...s }) + "\n");
  else process.stdout.write("\n" + table + "\n\n");
  const failed = final.runs.filter((r) => r.status === "failed");
  const notDone = final.runs.filter((r) => r.status !== "done");
  const resumeCmd = `rnnc sweep ${spec} --out ${opts.out ?? sweepDir} --resume`;
  say(`rnnc: ${final.runs.length - notDone.length} of ${final.runs.length} runs done; summary in ${join(sweepDir, ixf.SUMMARY_TEXT)} and ${ixf.SUMMARY_JSON}, every run in ${ixf.INDEX_FILE}`);
  if ([...outcomes.values()].includes("interrupted") || ctx.stopping) {
    process.stderr.write(`rnnc: stopped with ${notDone.length} run${notDone.length === 1 ? "" : "s"} not done; continue with: ${resumeCmd}\n`);
    return 130;
  }
  if (failed.length) {
    process.stderr.write(`rnnc: ${failed.length} run${failed.length === 1 ? "" : "s"} failed (${failed.slice(0, 3).map((r) => r.dir).join(", ")}${failed.length > 3 ? ", ..." : ""}; the errors are in index.json and each run's train.log); rerun ${failed.length === 1 ? "it" : "them"} with: ${resumeCmd}\n`);
    return EXIT.userError;
  }
  return EXIT.ok;
}

function logEvent(e: import("../runtime/sweep/runner.js").RunnerEvent, say: (l: string) => void, emitJson: (e: Record<string, unknown>) => void, progress: string): void {
  if (e.type === "epoch") return;
  if (e.type === "start") {
    emitJson({ type: "run-start", index: e.run.index, dir: e.run.dir, seed: e.run.seed, resume: e.resume, attempt: e.attempt, ...(e.pid !== undefined ? { pid: e.pid } : {}) });
    say(`rnnc: start  ${e.run.dir} (seed ${e.run.seed}${e.resume ? ", continuing from its checkpoint" : ""}${e.attempt > 1 ? `, attempt ${e.attempt}` : ""})`);
    return;
  }
  emitJson({ type: "run-end", index: e.run.index, dir: e.run.dir, status: e.status, seconds: Math.round(e.seconds * 10) / 10, ...(e.error ? { error: e.error } : {}), ...(e.willRetry ? { retry: true } : {}) });
  const t = `${e.seconds.toFixed(1)} s`;
  if (e.status === "done") say(`rnnc: ${progress}done   ${e.run.dir} (${t})`);
  else if (e.status === "interrupted") say(`rnnc: ${progress}stopped ${e.run.dir} (${t}); --resume continues it`);
  else say(`rnnc: ${progress}FAILED ${e.run.dir} (${t}): ${(e.error ?? "").split("\n")[0]}${e.willRetry ? "; retrying from its checkpoint" : ""}`);
}
