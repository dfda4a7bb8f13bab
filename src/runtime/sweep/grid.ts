// The grid of a sweep: `--grid key=v1,v2` flags spliced into the spec's sweep block (so they are
// checked exactly like the block), the cartesian product of the grid x runs as a list of runs, and
// the deterministic directory name of every run (`lr=1e-3,seq_len=100/run-0`), the same for a
// local sweep and a Slurm array.
import { createHash } from "node:crypto";
import type { SpecFile, SweepBlock } from "../../../grammar/ast.js";
import type { SweepPlan } from "../../compiler/ir/types.js";

export class SweepError extends Error {
  override name = "SweepError";
}

export interface GridFlag {
  key: string;
  values: string[];
}

/** Split at the commas that are not inside brackets or strings: `sparse(every = 8, units = z[:N]),none`. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inStr = false;
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inStr) {
      cur += c;
      if (c === "\\" && i + 1 < s.length) cur += s[++i];
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    if (c === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

/** `--grid optimizer.lr=1e-3,5e-4` → { key: "optimizer.lr", values: ["1e-3", "5e-4"] }. */
export function parseGridFlag(s: string): GridFlag {
  const eq = s.indexOf("=");
  if (eq <= 0) throw new SweepError(`--grid expects key=value1,value2,..., got '${s}'`);
  const key = s.slice(0, eq).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(key)) throw new SweepError(`--grid: '${key}' is not a setting name (write it as for --set, e.g. optimizer.lr)`);
  const values = splitTopLevel(s.slice(eq + 1));
  if (values.some((v) => v === "")) throw new SweepError(`--grid ${key}: an empty value in '${s.slice(eq + 1)}'`);
  for (const v of values) if (/[{}#\n]/.test(v)) throw new SweepError(`--grid ${key}: a value may not contain braces, '#' or newlines`);
  return { key, values };
}

/**
 * The spec's text with `--grid` and `--runs` spliced into its sweep block: a key the block has gets
 * the new list, other keys are added, and a spec without a block gets one.
 */
export function spliceSweep(source: string, ast: SpecFile, grid: GridFlag[], runs: number | undefined): string {
  if (grid.length === 0 && runs === undefined) return source;
  const block = ast.items.find((i): i is SweepBlock => i.kind === "sweep");
  const entries = [...grid.map((g) => ({ key: g.key, text: `[${g.values.join(", ")}]` })), ...(runs !== undefined ? [{ key: "runs", text: String(runs) }] : [])];
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.key)) throw new SweepError(`--grid ${e.key} is given twice; list all its values in one flag: --grid ${e.key}=a,b,c`);
    seen.add(e.key);
  }
  if (!block) return `${source}${source.endsWith("\n") ? "" : "\n"}\nsweep {\n${entries.map((e) => `  ${e.key} = ${e.text}\n`).join("")}}\n`;
  const edits: { start: number; end: number; text: string }[] = [];
  const added: string[] = [];
  for (const e of entries) {
    const existing = block.entries.find((x) => x.key.name === e.key);
    if (existing) edits.push({ start: existing.value.span.start, end: existing.value.span.end, text: e.text });
    else added.push(`  ${e.key} = ${e.text}\n`);
  }
  if (added.length) edits.push({ start: block.span.end - 1, end: block.span.end - 1, text: `\n${added.join("")}` });
  edits.sort((a, b) => b.start - a.start);
  let text = source;
  for (const e of edits) text = text.slice(0, e.start) + e.text + text.slice(e.end);
  return text;
}

/** One run of a sweep. */
export interface PlannedRun {
  /** Position in the sweep (the Slurm array task id). */
  index: number;
  /** Run directory, relative to the sweep directory: `lr=1e-3,seq_len=100/run-0`. */
  dir: string;
  /** Index of the grid point. */
  point: number;
  /** The grid point's values by key (source text, as passed to --set). */
  settings: Record<string, string>;
  /** Run number within the grid point, 0-based. */
  run: number;
  seed: number;
}

const MAX_NAME = 120;

/** A value as a piece of a directory name: `sparse(every = 8, units = z[:N])` → `sparse_every=8_units=z_N`. */
function namePart(text: string): string {
  const s = text
    .replace(/\s+/g, "")
    .replace(/[^A-Za-z0-9._+=-]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "");
  return s === "" ? "_" : s;
}

/** The directory name of each grid point, from its values; unique, at most MAX_NAME characters. */
export function pointNames(plan: SweepPlan): string[] {
  const axes = plan.grid;
  if (axes.length === 0) return ["base"];
  // The key's last part (`lr` for optimizer.lr) unless two keys share it.
  const labels = axes.map((a) => {
    const short = a.key.split(".").at(-1)!;
    return axes.filter((b) => b.key.split(".").at(-1) === short).length > 1 ? a.key : short;
  });
  const names: string[] = [];
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  for (let p = 0; p < total; p++) {
    const choice = pointChoice(plan, p);
    let name = axes.map((a, i) => `${labels[i]}=${namePart(a.values[choice[i]!]!)}`).join(",");
    if (name.length > MAX_NAME) name = `${name.slice(0, MAX_NAME - 9)}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
    names.push(name);
  }
  // Values that differ only in characters a file name cannot keep: number them.
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  return names.map((n, p) => ((count.get(n) ?? 0) > 1 ? `${n}~${p}` : n));
}

/** The value index of every axis at grid point p (the first axis varies slowest). */
export function pointChoice(plan: SweepPlan, p: number): number[] {
  const choice: number[] = [];
  let rest = p;
  for (let i = plan.grid.length - 1; i >= 0; i--) {
    const n = plan.grid[i]!.values.length;
    choice[i] = rest % n;
    rest = Math.floor(rest / n);
  }
  return choice;
}

/** Every run of the sweep: grid points in order, `runs` runs each, run r with the seed baseSeed + r. */
export function planRuns(plan: SweepPlan, baseSeed: number): PlannedRun[] {
  const names = pointNames(plan);
  const out: PlannedRun[] = [];
  names.forEach((name, p) => {
    const choice = pointChoice(plan, p);
    const settings = Object.fromEntries(plan.grid.map((a, i) => [a.key, a.values[choice[i]!]!]));
    for (let r = 0; r < plan.runs; r++) out.push({ index: out.length, dir: `${name}/run-${r}`, point: p, settings, run: r, seed: baseSeed + r });
  });
  return out;
}
