// rnnc sweep through a real Slurm (test/sweep/slurm.sh): a throwaway single-node cluster from
// Debian's slurm-wlm, the fixture's sweep as an sbatch array with one worker killed mid-run and
// the unfinished run resubmitted, compared with the same sweep run locally with -j 2 (the same run
// directories, parameters and summary.json). It installs Slurm when missing and takes a minute or
// two, so it runs only with RNNC_SLURM_TEST=1; when Slurm cannot be installed or started it is
// skipped with the reason.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/specs.js";

const enabled = process.env["RNNC_SLURM_TEST"] === "1";

describe("rnnc sweep on Slurm", () => {
  it.skipIf(!enabled)("gives the same runs and summary as a local -j 2 sweep, and survives a killed worker (RNNC_SLURM_TEST=1)", (ctx) => {
    const r = spawnSync("bash", [join(ROOT, "test", "sweep", "slurm.sh")], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 900_000,
      env: { ...process.env, RNNC: `${process.execPath} --import tsx ${join(ROOT, "test", "helpers", "rnnc-src.ts")}` },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    if (r.status === 77) {
      console.warn(`slurm test skipped: ${out.match(/SKIP: (.*)/)?.[1] ?? out}`);
      ctx.skip();
    }
    expect(r.status, out).toBe(0);
    expect(out).toMatch(/PASS: slurm \d+ s, local \d+ s/);
    expect(out).toMatch(/killed rnnc train \(pid \d+\) of .* mid-run/);
  }, 900_000);
});

if (!enabled) console.info("test/sweep/slurm.test.ts: set RNNC_SLURM_TEST=1 to run rnnc sweep through a real single-node Slurm (installs slurm-wlm with apt-get when missing)");
