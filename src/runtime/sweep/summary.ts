// The summary of a sweep: every run's final and best measures read from its metrics.jsonl, their
// mean ± sd per grid point, sorted by the spec's keep-best measure (or the final loss). The JSON
// holds no times or absolute paths, so a local sweep and a Slurm sweep of the same grid give the
// same file.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic.js";
import type { SweepIndex } from "./index-file.js";

export const MEASURES = ["dstsp", "dh", "pe", "loss"] as const;
export type MeasureName = (typeof MEASURES)[number];
const LABEL: Record<MeasureName, string> = { dstsp: "D_stsp", dh: "D_H", pe: "PE", loss: "loss" };

export interface RunMeasures {
  /** Epochs trained (the last epoch event). */
  epochs: number;
  /** The `final` event (the kept-best model on the full evaluation) and the last epoch's loss. */
  final: Partial<Record<MeasureName, number>>;
  /** The lowest value of each measure over the evaluations during training, and the lowest epoch loss. */
  best: Partial<Record<MeasureName, number>>;
  bestEpoch?: number;
  diverged?: boolean;
}

/** Reads a run's metrics.jsonl; undefined when there is none. A resumed run's repeated epochs count once (the last). */
export function readRunMeasures(runDir: string): RunMeasures | undefined {
  const file = join(runDir, "metrics.jsonl");
  if (!existsSync(file)) return undefined;
  const epochs = new Map<number, number>();
  const evals = new Map<number, Record<string, unknown>>();
  let final: Record<string, unknown> | undefined;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line cut by a kill
    }
    if (e["type"] === "epoch" && typeof e["epoch"] === "number" && typeof e["loss"] === "number") epochs.set(e["epoch"], e["loss"]);
    else if (e["type"] === "eval" && typeof e["epoch"] === "number") evals.set(e["epoch"], e);
    else if (e["type"] === "final") final = e;
  }
  const out: RunMeasures = { epochs: epochs.size ? Math.max(...epochs.keys()) : 0, final: {}, best: {} };
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  if (epochs.size) {
    const last = epochs.get(out.epochs);
    if (num(last) !== undefined) out.final.loss = last!;
    const finite = [...epochs.values()].filter((v) => Number.isFinite(v));
    if (finite.length) out.best.loss = Math.min(...finite);
  }
  for (const m of ["dstsp", "dh", "pe"] as const) {
    const f = num(final?.[m]);
    if (f !== undefined) out.final[m] = f;
    const vals = [...evals.values()].map((e) => num(e[m])).filter((v): v is number => v !== undefined);
    if (vals.length) out.best[m] = Math.min(...vals);
  }
  if (typeof final?.["bestEpoch"] === "number") out.bestEpoch = final["bestEpoch"];
  if (final?.["diverged"] === true) out.diverged = true;
  return out;
}

export interface Stat {
  mean: number;
  /** Sample standard deviation; null with one run. */
  sd: number | null;
  n: number;
}

function stat(values: number[]): Stat | undefined {
  if (values.length === 0) return undefined;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : null;
  return { mean, sd, n: values.length };
}

export interface SummaryRun {
  index: number;
  dir: string;
  settings: Record<string, string>;
  run: number;
  seed: number;
  status: string;
  error?: string;
  epochs?: number;
  final?: Partial<Record<MeasureName, number>>;
  best?: Partial<Record<MeasureName, number>>;
}

export interface SummaryPoint {
  rank: number;
  point: number;
  dir: string;
  settings: Record<string, string>;
  runs: number;
  done: number;
  failed: number;
  final: Partial<Record<MeasureName, Stat>>;
  best: Partial<Record<MeasureName, Stat>>;
}

export interface Summary {
  model: string;
  grid: { key: string; values: string[] }[];
  runsPerPoint: number;
  baseSeed: number;
  /** The measure the points are sorted by (its final mean, lowest first). */
  sortedBy: MeasureName;
  measures: MeasureName[];
  points: SummaryPoint[];
  runs: SummaryRun[];
}

export function summarize(sweepDir: string, index: SweepIndex): Summary {
  const runs: SummaryRun[] = index.runs.map((r) => {
    // The index keeps each finished run's measures, so a large sweep's summary reads no run files.
    const m = r.status === "done" ? (r.measures ?? readRunMeasures(join(sweepDir, r.dir))) : undefined;
    return {
      index: r.index,
      dir: r.dir,
      settings: r.settings,
      run: r.run,
      seed: r.seed,
      status: r.status,
      ...(r.error ? { error: r.error } : {}),
      ...(m ? { epochs: m.epochs, final: m.final, best: m.best } : {}),
    };
  });
  const measures = MEASURES.filter((k) => runs.some((r) => r.final?.[k] !== undefined));
  const sortedBy: MeasureName = index.keepBestBy && measures.includes(index.keepBestBy) ? index.keepBestBy : "loss";
  const byPoint = new Map<number, SummaryRun[]>();
  for (const r of index.runs) {
    const list = byPoint.get(r.point) ?? [];
    list.push(runs[r.index]!);
    byPoint.set(r.point, list);
  }
  const points: SummaryPoint[] = [...byPoint].map(([point, list]) => {
    const done = list.filter((r) => r.status === "done");
    const agg = (which: "final" | "best") => {
      const out: Partial<Record<MeasureName, Stat>> = {};
      for (const k of measures) {
        const s = stat(done.map((r) => r[which]?.[k]).filter((v): v is number => v !== undefined));
        if (s) out[k] = s;
      }
      return out;
    };
    return {
      rank: 0,
      point,
      dir: list[0]!.dir.split("/")[0]!,
      settings: list[0]!.settings,
      runs: list.length,
      done: done.length,
      failed: list.filter((r) => r.status === "failed").length,
      final: agg("final"),
      best: agg("best"),
    };
  });
  points.sort((a, b) => {
    const x = a.final[sortedBy]?.mean;
    const y = b.final[sortedBy]?.mean;
    if (x === undefined || y === undefined) return x === undefined && y === undefined ? a.point - b.point : x === undefined ? 1 : -1;
    return x - y || a.point - b.point;
  });
  points.forEach((p, i) => (p.rank = i + 1));
  return { model: index.model, grid: index.grid, runsPerPoint: index.runsPerPoint, baseSeed: index.baseSeed, sortedBy, measures, points, runs };
}

/** A number in `digits` significant digits, exponent form when small or large. */
function fmt(v: number, digits = 4): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-2 || a >= 1e5) return v.toExponential(digits - 2);
  return String(Number(v.toPrecision(digits)));
}

function cell(s: Stat | undefined): string {
  if (!s) return "-";
  return s.sd === null ? fmt(s.mean) : `${fmt(s.mean)} ± ${fmt(s.sd, 2)}`;
}

/** The summary as a text table: one row per grid point, best first. */
export function renderTable(s: Summary): string {
  const keys = s.grid.map((g) => g.key);
  const header = ["rank", ...keys, "runs", ...s.measures.map((m) => (m === s.sortedBy ? `${LABEL[m]} *` : LABEL[m])), ...(s.sortedBy !== "loss" ? [`best ${LABEL[s.sortedBy]}`] : [])];
  const rows = s.points.map((p) => [
    String(p.rank),
    ...keys.map((k) => p.settings[k] ?? ""),
    `${p.done}/${p.runs}${p.failed ? ` (${p.failed} failed)` : ""}`,
    ...s.measures.map((m) => cell(p.final[m])),
    ...(s.sortedBy !== "loss" ? [cell(p.best[s.sortedBy])] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const notes = [
    `* sorted by: final ${LABEL[s.sortedBy]}, mean ± sd over the runs of each grid point (lowest first)`,
    ...(s.sortedBy !== "loss" ? [`final: the kept-best model on the full evaluation; best ${LABEL[s.sortedBy]}: the lowest during training`] : []),
  ];
  return [line(header), ...rows.map(line), "", ...notes].join("\n");
}

/** summary.json and summary.txt in the sweep directory, each written atomically. */
export function writeSummary(sweepDir: string, s: Summary): void {
  const enc = new TextEncoder();
  writeFileAtomic(join(sweepDir, "summary.json"), enc.encode(JSON.stringify(s, null, 2) + "\n"));
  writeFileAtomic(join(sweepDir, "summary.txt"), enc.encode(renderTable(s) + "\n"));
}
