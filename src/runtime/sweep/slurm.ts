// `rnnc sweep --emit slurm`: an sbatch script with one array task per run. Task i runs
// `rnnc sweep SPEC --out DIR --task i` with the sweep's own options, which trains run i of the index
// into the same run directory a local sweep uses (continuing it from its checkpoint when there is
// one) and updates index.json and the summary under the index lock. Submitting the script again
// skips the finished runs; `--emit slurm --resume` writes an array of only the unfinished ones.
import { SweepError } from "./grid.js";

export interface SlurmOptions {
  jobName: string;
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  /** At most this many array tasks at once (`%N`). */
  throttle?: number;
  /** The array task ids (run indices). */
  tasks: number[];
  /** Absolute paths. */
  sweepDir: string;
  logDir: string;
  workDir: string;
  /** The command of one task, without the task id: node, rnnc, `sweep`, its options. */
  command: string[];
}

/** Quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `0-3,7,9-10`: the array ids as Slurm ranges. */
export function arrayRanges(ids: number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

export function checkSlurmOptions(o: { partition?: string; time?: string; cpusPerTask?: string; mem?: string }): void {
  if (o.partition !== undefined && !/^[A-Za-z0-9_.,-]+$/.test(o.partition)) throw new SweepError(`--partition '${o.partition}' is not a partition name`);
  if (o.time !== undefined && !/^(\d+-)?\d+(:\d{1,2}){0,2}$/.test(o.time)) throw new SweepError(`--time '${o.time}' is not a Slurm time limit (MINUTES, HH:MM:SS or D-HH:MM:SS)`);
  if (o.cpusPerTask !== undefined && !/^[1-9]\d*$/.test(o.cpusPerTask)) throw new SweepError(`--cpus-per-task expects a positive integer, got '${o.cpusPerTask}'`);
  if (o.mem !== undefined && !/^\d+[KMGT]?$/i.test(o.mem)) throw new SweepError(`--mem '${o.mem}' is not a Slurm memory size (e.g. 2G, 500M)`);
}

export function sbatchScript(o: SlurmOptions): string {
  if (o.tasks.length === 0) throw new SweepError("no runs are left to submit");
  const lines = [
    "#!/bin/bash",
    `# Written by rnnc sweep --emit slurm: one array task per run of the sweep in ${o.sweepDir}.`,
    "# Submit it with sbatch; submitting it again skips the finished runs and continues interrupted ones",
    "# from their checkpoints. Task i trains run i of index.json into the same run directory as a local",
    "# `rnnc sweep -j N` would; `rnnc sweep ... --summary` prints the table at any time.",
    `#SBATCH --job-name=${o.jobName}`,
    `#SBATCH --array=${arrayRanges(o.tasks)}${o.throttle ? `%${o.throttle}` : ""}`,
    `#SBATCH --output=${o.logDir}/%A_%a.out`,
    "#SBATCH --ntasks=1",
    `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 1}`,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
    "set -eu",
    `cd ${shellQuote(o.workDir)}`,
    `exec ${o.command.map(shellQuote).join(" ")} --task "$SLURM_ARRAY_TASK_ID"`,
    "",
  ];
  return lines.join("\n");
}
