// The PyTorch reference loop (bench/torch_reference.py, Debian's python3-torch, one thread): median
// wall and CPU ms per optimizer step of each case, batch 16 x 200. Installs python3-torch when missing.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface Timing {
  wall: number;
  cpu: number;
}

export function torchTimes(reps: number, warmup: number): Record<string, Timing> | null {
  const py = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const has = spawnSync(py, ["-c", "import torch"]).status === 0;
  if (!has) {
    process.stderr.write("bench: installing Debian's python3-torch for the reference loop...\n");
    const r = spawnSync("bash", ["-c", "(apt-get update -qq && apt-get install -y -qq python3-torch) >/dev/null 2>&1"], { stdio: "inherit" });
    if (r.status !== 0) {
      process.stderr.write("bench: python3-torch could not be installed; the PyTorch column is left out\n");
      return null;
    }
  }
  const out = execFileSync(py, [join(import.meta.dirname, "torch_reference.py"), String(reps), String(warmup)], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, Timing>;
}
