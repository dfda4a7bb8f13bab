// rnnc sweep: the sweep block (grammar, checks, IR), the grid and run layout, the summary, the
// Slurm script, and end to end through bin/rnnc.js: a local sweep with two workers, a worker killed
// mid-run (the others finish, the failure is recorded, --resume completes the run from its
// checkpoint and the summary equals an uninterrupted sweep's), and the Slurm array's per-task mode.
// The sweeps train a tiny PLRNN for 3 epochs of 3 batches (test/sweep/fixtures/tiny.rnn).
// test/sweep/slurm.test.ts runs the same sweep through a real single-node Slurm.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSource } from "../../src/compiler/driver.js";
import { parseGridFlag, planRuns, pointNames, spliceSweep, splitTopLevel, SweepError } from "../../src/runtime/sweep/grid.js";
import type { SweepIndex } from "../../src/runtime/sweep/index-file.js";
import { groupRuns } from "../../src/runtime/sweep/runner.js";
import { arrayRanges, sbatchScript, shellQuote } from "../../src/runtime/sweep/slurm.js";
import { readRunMeasures, renderTable, summarize, type Summary } from "../../src/runtime/sweep/summary.js";
import { makeCli, STACK_LINE, type Cli } from "../helpers/cli.js";
import { ROOT } from "../helpers/specs.js";

const FIXTURE = "test/sweep/fixtures/tiny.rnn";
const TINY = readFileSync(join(ROOT, FIXTURE), "utf8");
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "rnnc-sweep-test-"));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function compile(text: string) {
  const r = compileSource(text, "t.rnn");
  return { r, errors: r.diagnostics.filter((d) => d.severity === "error") };
}

describe("the sweep block", () => {
  it("lowers to the IR's sweep field: the grid in order, values as written, runs", () => {
    const { r, errors } = compile(TINY.replace(/sweep \{[\s\S]*\}\s*$/, "sweep {\n  optimizer.lr = [1e-3, 5e-3]\n  forcing = [sparse(every = 5,\n    units = z[:N]),  # comment\n    gtf(alpha = 0.1)]\n  eval.every = [1, 2]\n  runs = 3\n}\n"));
    expect(errors).toEqual([]);
    expect(r.ir!.sweep).toEqual({
      grid: [
        { key: "optimizer.lr", values: ["1e-3", "5e-3"] },
        { key: "forcing", values: ["sparse(every = 5, units = z[:N])", "gtf(alpha = 0.1)"] },
        { key: "eval.every", values: ["1", "2"] },
      ],
      runs: 3,
    });
  });

  it("is absent from the IR of a spec without a sweep block", () => {
    const { r } = compile(TINY.replace(/sweep \{[\s\S]*\}\s*$/, ""));
    expect(r.ir).toBeDefined();
    expect("sweep" in r.ir!).toBe(false);
  });

  it("reports bad keys and values at their place in the block", () => {
    const bad = (block: string) => compile(TINY.replace(/sweep \{[\s\S]*\}\s*$/, `sweep {\n${block}\n}\n`)).errors;
    const at = (block: string, code: string, msg: string, text: string) => {
      const errs = bad(block);
      const src = TINY.replace(/sweep \{[\s\S]*\}\s*$/, `sweep {\n${block}\n}\n`);
      const hit = errs.find((d) => d.code === code && d.message.includes(msg));
      expect(hit, `${code} "${msg}" among ${JSON.stringify(errs.map((d) => [d.code, d.message]))}`).toBeDefined();
      expect(src.slice(hit!.span.start, hit!.span.end)).toBe(text);
    };
    at("  optimiser.lr = [1e-3]", "RNN-E061", "unknown sweep key 'optimiser.lr'", "optimiser.lr");
    at("  seed = [1, 2]", "RNN-E066", "the seed is not swept", "seed");
    at("  schedule.to = [1e-5]", "RNN-E066", "no 'schedule' setting", "schedule.to");
    at("  eval.drop = [0.1]", "RNN-E061", "only eval.every", "eval.drop");
    at("  seq_len = 20", "RNN-E062", "takes a list of values", "20");
    at("  optimizer.lr = [1e-3, -1]", "RNN-E063", "'lr' = -1 is out of range", "-1");
    at("  optimizer.lr = [1e-3, 1e-3]", "RNN-E066", "listed twice", "1e-3");
    at("  optimizer = [adam]\n  optimizer.lr = [1e-3]", "RNN-E066", "are both swept", "optimizer.lr");
    at("  runs = 0", "RNN-E063", "'runs' = 0", "0");
    at("  runs = 2\n  runs = 3", "RNN-E011", "given twice", "runs");
    at("  seq_len = [20, 5]", "RNN-E063", "with seq_len = 5: sparse forcing every 10 steps", "5");
    // Every grid point is checked, not the spec's own values: the spec's seq_len (20) is not in this grid.
    at("  seq_len = [40, 20]\n  forcing.every = [30]", "RNN-E063", "sparse forcing every 30 steps never forces within sequences of 20 steps", "30");
    expect(bad("  seq_len = [40, 50]\n  forcing.every = [30]")).toEqual([]);
    // Invalid only together (each value is fine with the spec's other settings): reported with the point.
    const long = TINY.replace("seq_len           = 20", "seq_len           = 40").replace(/sweep \{[\s\S]*\}\s*$/, "sweep {\n  seq_len = [40, 25]\n  forcing.every = [30, 5]\n}\n");
    const errs = compile(long).errors;
    expect(errs.map((d) => [d.code, d.message, long.slice(d.span.start, d.span.end)])).toEqual([
      ["RNN-E063", "at the grid point seq_len = 25, forcing.every = 30: sparse forcing every 30 steps never forces within sequences of 25 steps", "30"],
    ]);
  });

  it("is a block keyword: a second block is an error, a misplaced key a syntax error", () => {
    const two = compile(TINY + "\nsweep { runs = 2 }\n").errors;
    expect(two.map((d) => [d.code, d.message])).toContainEqual(["RNN-E004", "a second 'sweep' block"]);
    expect(compile(TINY + "\nsweep { runs 2 }\n").errors[0]?.code).toBe("RNN-E002");
  });
});

describe("the grid", () => {
  it("splits --grid values at the commas outside brackets and strings", () => {
    expect(splitTopLevel('1e-3, 5e-4')).toEqual(["1e-3", "5e-4"]);
    expect(splitTopLevel("sparse(every = 8, units = z[:N]),gtf(alpha = 0.1)")).toEqual(["sparse(every = 8, units = z[:N])", "gtf(alpha = 0.1)"]);
    expect(splitTopLevel('multistep(at = [0.1, 0.8]),"a,b"')).toEqual(["multistep(at = [0.1, 0.8])", '"a,b"']);
    expect(parseGridFlag("optimizer.lr=1e-3,5e-4")).toEqual({ key: "optimizer.lr", values: ["1e-3", "5e-4"] });
    expect(() => parseGridFlag("lr")).toThrow(SweepError);
    expect(() => parseGridFlag("seq_len=20,,30")).toThrow(/empty value/);
  });

  it("splices --grid and --runs into the block (replacing or adding keys), or adds a block", () => {
    const ast = compileSource(TINY, "t.rnn").ast!;
    const text = spliceSweep(TINY, ast, [{ key: "optimizer.lr", values: ["1e-2"] }, { key: "seq_len", values: ["20", "30"] }], 4);
    expect(compile(text).r.ir!.sweep).toEqual({ grid: [{ key: "optimizer.lr", values: ["1e-2"] }, { key: "seq_len", values: ["20", "30"] }], runs: 4 });
    const bare = TINY.replace(/sweep \{[\s\S]*\}\s*$/, "");
    const added = spliceSweep(bare, compileSource(bare, "t.rnn").ast!, [{ key: "forcing.every", values: ["5", "10"] }], undefined);
    expect(compile(added).r.ir!.sweep).toEqual({ grid: [{ key: "forcing.every", values: ["5", "10"] }], runs: 1 });
    // A bad value from the command line is a diagnostic like one in the file.
    const bad = spliceSweep(TINY, ast, [{ key: "optimizer.lr", values: ["-1"] }], undefined);
    expect(compile(bad).errors.map((d) => d.code)).toEqual(["RNN-E063"]);
    expect(() => spliceSweep(TINY, ast, [{ key: "seq_len", values: ["1"] }, { key: "seq_len", values: ["2"] }], undefined)).toThrow(/given twice/);
  });

  it("plans grid points x runs in order, with deterministic directories and seeds base + r", () => {
    const runs = planRuns({ grid: [{ key: "optimizer.lr", values: ["1e-3", "5e-4"] }, { key: "seq_len", values: ["100", "200", "300"] }], runs: 2 }, 7);
    expect(runs).toHaveLength(12);
    expect(runs.slice(0, 3).map((r) => [r.index, r.dir, r.seed, r.point, r.run])).toEqual([
      [0, "lr=1e-3,seq_len=100/run-0", 7, 0, 0],
      [1, "lr=1e-3,seq_len=100/run-1", 8, 0, 1],
      [2, "lr=1e-3,seq_len=200/run-0", 7, 1, 0],
    ]);
    expect(runs[11]!.dir).toBe("lr=5e-4,seq_len=300/run-1");
    expect(runs[11]!.settings).toEqual({ "optimizer.lr": "5e-4", seq_len: "300" });
    expect(new Set(runs.map((r) => r.dir)).size).toBe(12);
    expect(planRuns({ grid: [], runs: 3 }, 1).map((r) => r.dir)).toEqual(["base/run-0", "base/run-1", "base/run-2"]);
  });

  it("names directories safely, keeps keys apart and numbers values that would collide", () => {
    const names = pointNames({ grid: [{ key: "forcing", values: ["sparse(every = 8, units = z[:N])", "gtf(alpha = 0.1)"] }, { key: "optimizer.lr", values: ["1e-3"] }], runs: 1 });
    expect(names).toEqual(["forcing=sparse_every=8_units=z_N,lr=1e-3", "forcing=gtf_alpha=0.1,lr=1e-3"]);
    expect(pointNames({ grid: [{ key: "optimizer.lr", values: ["1"] }, { key: "schedule.lr", values: ["2"] }], runs: 1 })).toEqual(["optimizer.lr=1,schedule.lr=2"]);
    expect(pointNames({ grid: [{ key: "forcing", values: ["gtf(alpha = 0.1)", "gtf(alpha=0.1)"] }], runs: 1 })).toEqual(["forcing=gtf_alpha=0.1~0", "forcing=gtf_alpha=0.1~1"]);
    for (const n of pointNames({ grid: [{ key: "forcing", values: ["sparse(every = 8, units = z[:N]) ".repeat(20)] }], runs: 1 })) expect(n.length).toBeLessThanOrEqual(120);
  });
});

describe("ensemble groups", () => {
  const run = (index: number, settings: Record<string, string>) => ({ index, dir: `d${index}`, point: index, settings, run: 0, seed: 1, status: "pending" as const, attempts: 0 });
  it("group runs that differ only in seed, learning rate, teacher noise, clip size or schedule, in order, E at a time", () => {
    const runs = [
      run(0, { clip: "norm(10)", "optimizer.lr": "1e-3", seq_len: "20" }),
      run(1, { clip: "norm(1)", "optimizer.lr": "1e-3", seq_len: "20" }),
      run(2, { clip: "none", "optimizer.lr": "1e-3", seq_len: "20" }), // another kind of clipping
      run(3, { clip: "norm(10)", "optimizer.lr": "1e-2", seq_len: "20" }),
      run(4, { clip: "norm(10)", "optimizer.lr": "1e-2", seq_len: "30" }), // another sequence length
      run(5, { clip: "norm(5)", "optimizer.lr": "1e-4", seq_len: "20" }),
    ];
    expect(groupRuns(runs, 3).map((g) => g.map((r) => r.index))).toEqual([[0, 1, 3], [2], [4], [5]]);
    expect(groupRuns(runs, 1).map((g) => g.map((r) => r.index))).toEqual([[0], [1], [2], [3], [4], [5]]);
  });
});

describe("the summary", () => {
  const metrics = (dir: string, lines: object[]) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "metrics.jsonl"), lines.map((l) => JSON.stringify({ time: "t", ...l })).join("\n") + "\n");
  };

  it("reads final and best measures; a resumed run's repeated epochs count once", () => {
    const d = join(tmp, "m1");
    metrics(d, [
      { type: "epoch", epoch: 1, loss: 0.5 },
      { type: "eval", epoch: 1, dstsp: 3, dh: 0.4, pe: 0.2 },
      { type: "epoch", epoch: 2, loss: 0.9 }, // killed after this; resumed at epoch 2
      { type: "epoch", epoch: 2, loss: 0.3 },
      { type: "eval", epoch: 2, dstsp: 2, dh: 0.5, pe: 0.1 },
      { type: "final", dstsp: 2.5, dh: 0.45, pe: 0.15, bestEpoch: 2 },
    ]);
    expect(readRunMeasures(d)).toEqual({ epochs: 2, final: { loss: 0.3, dstsp: 2.5, dh: 0.45, pe: 0.15 }, best: { loss: 0.3, dstsp: 2, dh: 0.4, pe: 0.1 }, bestEpoch: 2 });
    expect(readRunMeasures(join(tmp, "none"))).toBeUndefined();
  });

  it("gives mean ± sd per grid point, sorted by the keep-best measure, and counts failures", () => {
    const dir = join(tmp, "s1");
    const plan = { grid: [{ key: "seq_len", values: ["10", "20"] }], runs: 2 };
    const runs = planRuns(plan, 1);
    const d = [2, 4, 1, 0];
    runs.forEach((r, i) => metrics(join(dir, r.dir), [{ type: "epoch", epoch: 1, loss: i }, { type: "eval", epoch: 1, dstsp: d[i] }, { type: "final", dstsp: d[i] }]));
    const index = {
      version: 1, spec: "x", specSha256: "", model: "m", grid: plan.grid, runsPerPoint: 2, baseSeed: 1, common: [], keepBestBy: "dstsp", createdAt: "", updatedAt: "",
      options: { grid: [], set: [], backend: "auto", tier: "auto" },
      runs: runs.map((r, i) => ({ ...r, attempts: 1, status: i === 3 ? "failed" : "done", ...(i === 3 ? { error: "killed by SIGKILL" } : {}) })),
    } as SweepIndex;
    const s: Summary = summarize(dir, index);
    expect(s.sortedBy).toBe("dstsp");
    expect(s.points.map((p) => [p.rank, p.dir, p.done, p.failed])).toEqual([[1, "seq_len=20", 1, 1], [2, "seq_len=10", 2, 0]]);
    expect(s.points[1]!.final.dstsp).toEqual({ mean: 3, sd: Math.SQRT2, n: 2 });
    expect(s.points[0]!.final.dstsp).toEqual({ mean: 1, sd: null, n: 1 });
    expect(s.runs[3]).toMatchObject({ status: "failed", error: "killed by SIGKILL" });
    const table = renderTable(s);
    expect(table.split("\n")[0]).toMatch(/^rank\s+seq_len\s+runs\s+D_stsp \*\s+loss\s+best D_stsp$/);
    expect(table).toContain("1/2 (1 failed)");
    expect(table).toContain("3 ± 1.4");
  });
});

describe("the Slurm script", () => {
  it("has one array task per run, the resources, and runs one task of the same sweep", () => {
    expect(arrayRanges([0, 1, 2, 3])).toBe("0-3");
    expect(arrayRanges([7, 1, 2, 3, 9, 10])).toBe("1-3,7,9-10");
    const s = sbatchScript({ jobName: "rnnc-tiny", partition: "cpu", time: "01:00:00", cpusPerTask: 2, mem: "2G", throttle: 4, tasks: [0, 1, 2, 3, 4, 5], sweepDir: "/s", logDir: "/s/logs", workDir: "/w d", command: ["node", "/r/bin/rnnc.js", "sweep", "/w/x.rnn", "--out", "/s", "--set", "forcing=gtf(alpha = 0.1)"] });
    expect(s).toContain("#SBATCH --array=0-5%4\n");
    for (const l of ["--job-name=rnnc-tiny", "--partition=cpu", "--time=01:00:00", "--cpus-per-task=2", "--mem=2G", "--output=/s/logs/%A_%a.out"]) expect(s).toContain(`#SBATCH ${l}\n`);
    expect(s).toContain("cd '/w d'\n");
    expect(s).toContain(`exec node /r/bin/rnnc.js sweep /w/x.rnn --out /s --set 'forcing=gtf(alpha = 0.1)' --task "$SLURM_ARRAY_TASK_ID"\n`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

// ---------------------------------------------------------------- end to end
describe("rnnc sweep end to end", () => {
  let cli: Cli;
  beforeAll(async () => {
    cli = await makeCli();
  });
  afterAll(() => cli?.dispose());

  const index = (dir: string) => JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as SweepIndex;
  const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as Summary;
  const runDirs = (dir: string) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== "logs" && e.name !== "ensembles")
      .flatMap((e) => readdirSync(join(dir, e.name)).map((r) => `${e.name}/${r}`))
      .sort();
  let reference: string;
  /** Polls the sweep's index until `pick` names a process to SIGKILL (or the sweep ends); returns what was killed. */
  const killWhen = async (dir: string, sweep: Promise<unknown>, pick: (runs: SweepIndex["runs"]) => { dir: string; pid: number } | undefined) => {
    let over = false;
    void sweep.then(() => (over = true));
    while (!over) {
      await new Promise((r) => setTimeout(r, 5));
      let ix: SweepIndex;
      try {
        ix = index(dir);
      } catch {
        continue;
      }
      const target = pick(ix.runs);
      if (!target) continue;
      try {
        process.kill(target.pid, "SIGKILL");
        return target;
      } catch {
        // it ended meanwhile: look again
      }
    }
    return undefined;
  };

  it("trains grid x runs with two workers into one sweep directory, with an index and a sorted summary", async () => {
    reference = join(tmp, "local");
    const r = await cli.run(["sweep", FIXTURE, "--out", reference, "-j", "2"]);
    expect(r.stderr, r.stderr).not.toMatch(STACK_LINE);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(runDirs(reference)).toEqual(["lr=1e-3/run-0", "lr=1e-3/run-1", "lr=5e-3/run-0", "lr=5e-3/run-1"]);
    for (const d of runDirs(reference)) {
      const files = readdirSync(join(reference, d));
      for (const f of ["config.json", "ir.json", "params.npz", "best.npz", "metrics.jsonl", "checkpoints", "train.log"]) expect(files).toContain(f);
      expect(files).not.toContain("figures"); // runs of a sweep draw no figures
    }
    const ix = index(reference);
    expect(ix.runs.map((x) => [x.dir, x.status, x.seed, x.settings["optimizer.lr"], x.attempts])).toEqual([
      ["lr=1e-3/run-0", "done", 1, "1e-3", 1],
      ["lr=1e-3/run-1", "done", 2, "1e-3", 1],
      ["lr=5e-3/run-0", "done", 1, "5e-3", 1],
      ["lr=5e-3/run-1", "done", 2, "5e-3", 1],
    ]);
    // Run r uses seed base + r: its config records it, and runs of one point differ.
    const cfg = (d: string) => JSON.parse(readFileSync(join(reference, d, "config.json"), "utf8")) as { settings: Record<string, { value: unknown; origin: string }> };
    expect(cfg("lr=5e-3/run-1").settings["seed"]).toEqual({ value: 2, origin: "cli" });
    expect(cfg("lr=5e-3/run-1").settings["optimizer"]!.value).toMatchObject({ lr: 5e-3 });
    expect(readFileSync(join(reference, "lr=1e-3/run-0/params.npz")).equals(readFileSync(join(reference, "lr=1e-3/run-1/params.npz")))).toBe(false);
    const s = summaryOf(reference);
    expect(s.sortedBy).toBe("dstsp");
    expect(s.measures).toEqual(["dstsp", "dh", "pe", "loss"]);
    expect(s.points.map((p) => p.done)).toEqual([2, 2]);
    const means = s.points.map((p) => p.final.dstsp!.mean);
    expect(means[0]).toBeLessThanOrEqual(means[1]!);
    for (const p of s.points) expect(p.final.dstsp!.mean).toBeCloseTo((s.runs.filter((x) => x.dir.startsWith(p.dir + "/")).reduce((a, x) => a + x.final!.dstsp!, 0)) / 2, 12);
    expect(r.stdout).toContain("D_stsp *");
    expect(readFileSync(join(reference, "summary.txt"), "utf8")).toContain("optimizer.lr");

    // --resume of a finished sweep trains nothing and gives the same summary.
    const again = await cli.run(["sweep", FIXTURE, "--out", reference, "--resume", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    const events = again.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; todo?: number });
    expect(events.filter((e) => e.type === "run-start")).toEqual([]);
    expect(events[0]).toMatchObject({ type: "sweep", todo: 0 });
    expect(summaryOf(reference)).toEqual(s);
    // --summary prints the table of the sweep directory without training.
    const table = await cli.run(["sweep", FIXTURE, "--out", reference, "--summary"]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toBe(readFileSync(join(reference, "summary.txt"), "utf8"));
    // Without --resume an existing sweep is not overwritten.
    const clash = await cli.run(["sweep", FIXTURE, "--out", reference]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/already holds a sweep; continue it with --resume/);
  });

  it("survives a worker killed mid-run: the others finish, the failure is recorded, --resume completes it exactly", async () => {
    const dir = join(tmp, "killed");
    const sweep = cli.run(["sweep", FIXTURE, "--out", dir, "-j", "2"]);
    // Kill the first run seen training with a checkpoint written (mid-run: it has epochs to go).
    const killed = await killWhen(dir, sweep, (runs) => {
      const r = runs.find((x) => x.status === "running" && x.pid && existsSync(join(dir, x.dir, "checkpoints", "last.json")));
      return r ? { dir: r.dir, pid: r.pid! } : undefined;
    });
    const r = await sweep;
    expect(killed, "a run to kill mid-run").toBeDefined();
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(/1 run failed .*rerun it with: rnnc sweep .* --resume/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    const ix = index(dir);
    const failed = ix.runs.filter((x) => x.status !== "done");
    expect(failed.map((x) => x.dir)).toEqual([killed!.dir]);
    expect(failed[0]!.status).toBe("failed");
    expect(failed[0]!.error).toMatch(/^killed by SIGKILL/);
    expect(ix.runs.filter((x) => x.status === "done")).toHaveLength(3);
    expect(existsSync(join(dir, killed!.dir, "checkpoints", "last.json"))).toBe(true);
    expect(summaryOf(dir).points.find((p) => killed!.dir.startsWith(p.dir + "/"))).toMatchObject({ done: 1, failed: 1 });

    // What a kill during an atomic write leaves behind is cleaned up when the run continues.
    writeFileSync(join(dir, killed!.dir, ".params.npz.999.abcd1234.tmp"), "partial");
    const resumed = await cli.run(["sweep", FIXTURE, "--out", dir, "--resume"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`start  ${killed!.dir} (seed ${failed[0]!.seed}, continuing from its checkpoint)`);
    expect(resumed.stdout.match(/rnnc: start /g)).toHaveLength(1);
    const after = index(dir);
    expect(after.runs.every((x) => x.status === "done" && x.error === undefined)).toBe(true);
    expect(after.runs.find((x) => x.dir === killed!.dir)!.attempts).toBe(2);
    // Continued exactly: the same parameters and summary as the sweep nobody interrupted.
    for (const d of runDirs(dir)) {
      expect(readFileSync(join(dir, d, "params.npz")).equals(readFileSync(join(reference, d, "params.npz"))), d).toBe(true);
      expect(readdirSync(join(dir, d)).sort(), d).toEqual(readdirSync(join(reference, d)).sort());
    }
    expect(summaryOf(dir)).toEqual(summaryOf(reference));
  });

  it("--ensemble 3 trains runs as ensembles (across learning rates): the same directories, parameters and summary; a killed ensemble resumes exactly", async () => {
    const dir = join(tmp, "ensemble");
    const sweep = cli.run(["sweep", FIXTURE, "--out", dir, "-j", "2", "--ensemble", "3", "--json"]);
    // Kill an ensemble's process once its three members have checkpoints (mid-run).
    const killed = (await killWhen(dir, sweep, (runs) => {
      const running = runs.filter((x) => x.status === "running" && x.pid && existsSync(join(dir, x.dir, "checkpoints", "last.json")));
      return running.length >= 3 && running.filter((x) => x.pid === running[0]!.pid).length === 3 ? { dir: running[0]!.dir, pid: running[0]!.pid! } : undefined;
    }))?.pid;
    const r = await sweep;
    expect(killed, "an ensemble to kill mid-run").toBeDefined();
    expect(r.stderr).not.toMatch(STACK_LINE);
    const starts = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; pid?: number; dir?: string }).filter((e) => e.type === "run-start");
    // two processes for four runs: an ensemble of three (both learning rates) and one run
    expect(new Set(starts.map((e) => e.pid)).size).toBe(2);
    expect(starts.filter((e) => e.pid === killed).map((e) => e.dir)).toEqual(["lr=1e-3/run-0", "lr=1e-3/run-1", "lr=5e-3/run-0"]);
    const ix = index(dir);
    expect(ix.runs.filter((x) => x.status === "failed").map((x) => x.error)).toEqual([0, 1, 2].map(() => expect.stringMatching(/^killed by SIGKILL/)));
    const resumed = await cli.run(["sweep", FIXTURE, "--out", dir, "--resume"]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/ensembles? of up to 3 at a time/);
    expect(runDirs(dir)).toEqual(runDirs(reference));
    for (const d of runDirs(dir)) {
      for (const f of ["params.npz", "best.npz"]) expect(readFileSync(join(dir, d, f)).equals(readFileSync(join(reference, d, f))), `${d}/${f}`).toBe(true);
      expect(readdirSync(join(dir, d)).sort(), d).toEqual(readdirSync(join(reference, d)).sort());
    }
    expect(summaryOf(dir)).toEqual(summaryOf(reference));
  });

  it("--emit slurm writes the array script; --task i trains exactly run i into the same layout", async () => {
    const dir = join(tmp, "slurm");
    const e = await cli.run(["sweep", FIXTURE, "--out", dir, "--emit", "slurm", "--partition", "debug", "--time", "00:10:00", "--cpus-per-task", "1", "--mem", "1G"]);
    expect(e.code, e.stderr).toBe(0);
    const script = readFileSync(join(dir, "sweep.sbatch"), "utf8");
    expect(script).toContain("#SBATCH --array=0-3\n");
    expect(script).toContain("#SBATCH --partition=debug\n");
    expect(script).toMatch(/exec \S+.* sweep \S+tiny\.rnn --out \S+ --task "\$SLURM_ARRAY_TASK_ID"\n/);
    expect(index(dir).runs.every((x) => x.status === "pending")).toBe(true);
    // What array task 2 runs (the script's command with its id), here without Slurm.
    const line = script.split("\n").find((l) => l.startsWith("exec "))!;
    const args = line.replace(/^exec /, "").replace(/ --task "\$SLURM_ARRAY_TASK_ID"$/, "").split(" ");
    const sweepAt = args.indexOf("sweep");
    const t = await cli.run([...args.slice(sweepAt), "--task", "2"]);
    expect(t.code, t.stdout + t.stderr).toBe(0);
    const ix = index(dir);
    expect(ix.runs.map((x) => x.status)).toEqual(["pending", "pending", "done", "pending"]);
    expect(readFileSync(join(dir, "lr=5e-3/run-0/params.npz")).equals(readFileSync(join(reference, "lr=5e-3/run-0/params.npz")))).toBe(true);
    const done = await cli.run([...args.slice(sweepAt), "--task", "2"]);
    expect(done.stdout).toContain("is already done");
    // Re-emitting with --resume leaves the finished run out of the array.
    const re = await cli.run(["sweep", FIXTURE, "--out", dir, "--emit", "slurm", "--resume"]);
    expect(re.code, re.stderr).toBe(0);
    expect(readFileSync(join(dir, "sweep.sbatch"), "utf8")).toContain("#SBATCH --array=0-1,3\n");
    // --resume without options reuses the ones the sweep was started with.
    const other = join(tmp, "slurm2");
    const g = await cli.run(["sweep", FIXTURE, "--out", other, "--emit", "slurm", "--grid", "seq_len=20,30", "--runs", "1", "--epochs", "2", "-j", "2"]);
    expect(g.code, g.stderr).toBe(0);
    const again = await cli.run(["sweep", FIXTURE, "--out", other, "--emit", "slurm", "--resume", "-j", "2"]);
    expect(again.code, again.stderr).toBe(0);
    const s2 = readFileSync(join(other, "sweep.sbatch"), "utf8");
    expect(s2).toContain("#SBATCH --array=0-3%2\n");
    expect(s2).toMatch(/ --grid seq_len=20,30 --runs 1 --epochs 2 --task /);
    expect(index(other).runs.map((x) => x.dir)).toEqual(["lr=1e-3,seq_len=20/run-0", "lr=1e-3,seq_len=30/run-0", "lr=5e-3,seq_len=20/run-0", "lr=5e-3,seq_len=30/run-0"]);
    const changed = await cli.run(["sweep", FIXTURE, "--out", other, "--emit", "slurm", "--resume", "--epochs", "3"]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain("was started with other options for its runs (--epochs 2)");
  });

  it("records a run that fails with its error, after --retries attempts", async () => {
    const dir = join(tmp, "failing");
    const r = await cli.run(["sweep", FIXTURE, "--grid", "optimizer.lr=1e-3", "--runs", "1", "--data", join(tmp, "missing.npy"), "--retries", "1", "--out", dir, "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const events = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; status?: string; retry?: boolean; attempt?: number });
    expect(events.filter((e) => e.type === "run-start").map((e) => e.attempt)).toEqual([1, 2]);
    expect(events.filter((e) => e.type === "run-end").map((e) => [e.status, e.retry ?? false])).toEqual([["failed", true], ["failed", false]]);
    const ix = index(dir);
    expect(ix.runs[0]).toMatchObject({ status: "failed", attempts: 2, exitCode: 1 });
    expect(ix.runs[0]!.error).toContain("missing.npy");
    expect(ix.runs[0]!.error).not.toMatch(STACK_LINE);
    expect(readFileSync(join(dir, "lr=1e-3/run-0/train.log"), "utf8").match(/# rnnc sweep, attempt/g)).toHaveLength(1); // a fresh start each time (no checkpoint)
    expect(summaryOf(dir).points[0]).toMatchObject({ done: 0, failed: 1 });
  });

  it("rejects bad input with a clear message and exit code, running nothing", async () => {
    const bad = await cli.run(["sweep", FIXTURE, "--grid", "optimizer.lr=1e-3,-1", "--out", join(tmp, "bad1")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error[RNN-E063]: 'lr' = -1 is out of range");
    expect(bad.stderr).toContain("(with --grid/--runs)");
    expect(existsSync(join(tmp, "bad1"))).toBe(false);
    const key = await cli.run(["sweep", FIXTURE, "--grid", "optimiser.lr=1e-3", "--out", join(tmp, "bad2")]);
    expect(key.code).toBe(1);
    expect(key.stderr).toContain("unknown sweep key 'optimiser.lr'");
    const clash = await cli.run(["sweep", FIXTURE, "--set", "optimizer=adam(lr = 1e-3)", "--out", join(tmp, "bad3")]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain("--set optimizer and the sweep's optimizer.lr change the same setting");
    const seed = await cli.run(["sweep", FIXTURE, "--set", "seed=3", "--out", join(tmp, "bad4")]);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain("--seed");
    const noBlock = join(tmp, "noblock.rnn");
    writeFileSync(noBlock, TINY.replace(/sweep \{[\s\S]*\}\s*$/, ""));
    const none = await cli.run(["sweep", noBlock, "--out", join(tmp, "bad5")]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("has no sweep block");
    const emit = await cli.run(["sweep", FIXTURE, "--emit", "pbs"]);
    expect(emit.code).toBe(2);
    const time = await cli.run(["sweep", FIXTURE, "--emit", "slurm", "--time", "soon", "--out", join(tmp, "bad6")]);
    expect(time.code).toBe(2);
    expect(time.stderr).toContain("is not a Slurm time limit");
    for (const x of [bad, key, clash, seed, none, emit, time]) expect(x.stderr).not.toMatch(STACK_LINE);
    // --dry-run lists the runs and their commands.
    const dry = await cli.run(["sweep", FIXTURE, "--grid", "seq_len=20,30", "--runs", "1", "--dry-run", "--out", join(tmp, "dry")]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/).slice(0, 4).join(" "))).toEqual([
      "0 lr=1e-3,seq_len=20/run-0 seed 1",
      "1 lr=1e-3,seq_len=30/run-0 seed 1",
      "2 lr=5e-3,seq_len=20/run-0 seed 1",
      "3 lr=5e-3,seq_len=30/run-0 seed 1",
    ]);
    expect(existsSync(join(tmp, "dry"))).toBe(false);
  });
});
