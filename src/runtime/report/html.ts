// The HTML run report: one self-contained file (Vega, the figures' data, styles and scripts all
// inlined) with the summary, interactive figures, the measures table, the analysis, the resolved
// configuration and the spec.
import { readFileSync } from "node:fs";
import type { Program } from "../../compiler/ir/types.js";
import type { AnalysisMarks } from "../plots/analysis.js";
import type { RunFigureData } from "../plots/data.js";
import type { Figure } from "../plots/figures.js";
import type { TrainingHistory } from "../plots/metrics.js";
import { compileToVega, vegaBrowserScriptPath } from "../plots/render.js";
import { MEASURE_LABELS } from "../plots/specs.js";
import { REPORT_CSS, REPORT_SCRIPT } from "./browser.js";
import { escapeHtml, highlightSpec } from "./highlight.js";

export interface ReportInput {
  dir: string;
  config?: RunConfig;
  program?: Program;
  /** The spec file as it is now (config.json's `spec`), or why it could not be read. */
  spec?: { path: string; text?: string; problem?: string };
  history: TrainingHistory;
  figureData?: RunFigureData;
  /** Why there are no data figures, when there are none. */
  figureProblem?: string;
  figures: Figure[];
  /** Figure files present in the run's figures/ folder (e.g. "timeseries.png"). */
  figureFiles: Set<string>;
  /** The figures/ folder relative to the report file (for links). */
  figuresHref: string;
  analysis?: { marks: AnalysisMarks } | { problem: string };
  generatedAt: Date;
}

/** config.json as `rnnc train` writes it. */
export interface RunConfig {
  spec?: string;
  model?: string;
  backend?: string;
  data?: Record<string, string>;
  dims?: Record<string, number>;
  settings?: Record<string, { value: unknown; origin: string }>;
  precedence?: string;
}

/** Embeds JSON in a <script> element: `<` is escaped so no `</script>` can end it early. */
function jsonScript(id: string, value: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, "\\u003c")}</script>`;
}

function fmt(v: number | undefined, digits = 4): string {
  if (v === undefined) return "–";
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(digits - 1) : Number(v.toPrecision(digits)).toString();
}

/** A configuration value as the spec would write it: radam(lr = 0.001, ...), z[0:3], lorenz.train. */
export function formatSetting(v: unknown): string {
  if (v === null || v === undefined) return "none";
  if (typeof v !== "object") return String(v);
  if (Array.isArray(v)) return `[${v.map(formatSetting).join(", ")}]`;
  const o = v as Record<string, unknown>;
  if (typeof o["data"] === "string" && typeof o["field"] === "string" && Object.keys(o).length === 2) return `${o["data"]}.${o["field"]}`;
  if (typeof o["state"] === "string" && "start" in o && "stop" in o) return `${o["state"]}[${o["start"]}:${o["stop"]}]`;
  const args = Object.entries(o).filter(([k]) => k !== "kind").map(([k, x]) => `${k} = ${formatSetting(x)}`);
  return typeof o["kind"] === "string" ? (args.length ? `${o["kind"]}(${args.join(", ")})` : String(o["kind"])) : `{${args.join(", ")}}`;
}

function parameterCount(p: Program | undefined): number | undefined {
  if (!p) return undefined;
  let n = 0;
  for (const q of p.params) {
    if (!q.shape.every((d) => typeof d === "number")) return undefined;
    if (q.trainable) n += (q.shape as number[]).reduce((a, b) => a * b, 1);
  }
  return n;
}

function summary(inp: ReportInput): string {
  const h = inp.history;
  const last = h.epochs.at(-1);
  const planned = h.plannedEpochs ?? inp.program?.train?.epochs;
  const seconds = h.epochs.reduce((s, e) => s + (Number.isFinite(e.seconds) ? e.seconds : 0), 0);
  const measures = h.final ?? h.evals.at(-1);
  const which = h.final ? `final evaluation${h.final.bestEpoch !== undefined ? `, parameters of epoch ${h.final.bestEpoch}` : ""}` : h.evals.length ? `last evaluation, epoch ${h.evals.at(-1)!.epoch}` : "";
  const cards: string[] = [];
  const card = (k: string, v: string, d = "") => cards.push(`<div class="card"><div class="k">${escapeHtml(k)}</div><div class="v">${v}</div><div class="d">${escapeHtml(d)}</div></div>`);
  for (const k of ["dstsp", "dh", "pe"] as const) {
    const v = measures?.[k];
    if (v !== undefined) card(MEASURE_LABELS[k]!, fmt(v), which);
  }
  if (measures && "diverged" in measures && measures.diverged) card("free run", `<span class="warn">diverged</span>`, "the model's trajectory left every bounded region");
  card("epochs", last ? `${last.epoch}${planned ? ` / ${planned}` : ""}` : "0", last && planned && last.epoch < planned ? "stopped early: resume with --resume" : "completed");
  if (last) card("final loss", fmt(last.loss), `training time ${seconds >= 120 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`}`);
  const nParams = parameterCount(inp.program);
  if (nParams !== undefined) card("trainable parameters", nParams.toLocaleString("en-US"), inp.figureData ? `figures use ${inp.figureData.params}` : "");
  const guide = inp.figureData?.data.kind === "task"
    ? `This model is trained on a task: inputs drive the network and its outputs are compared with targets. The figures show test trials it never saw during training.`
    : `rnnc judges a reconstruction by letting the trained model run freely from one data point and comparing its long-term behaviour with held-out test data. <b>D_stsp</b> compares where in state space the two trajectories spend their time (0 = identical distributions), <b>D_H</b> compares their power spectra (0 to 1), and <b>PE</b> is the error of predictions a few steps ahead from many test points. Lower is better for all three; values are comparable between runs on the same data.`;
  return `<section id="summary"><h2>Summary</h2><div class="cards">${cards.join("")}</div><p class="note">${guide}</p></section>`;
}

async function figureSection(f: Figure, files: Set<string>, href: string): Promise<string> {
  const links = ["svg", "png"].filter((ext) => files.has(`${f.name}.${ext}`)).map((ext) => `<a href="${escapeHtml(encodeURI(`${href}/${f.name}.${ext}`))}">figures/${f.name}.${ext}</a>`);
  const fileLine = links.length ? `<div class="files">${links.join(" · ")}</div>` : "";
  let body: string;
  if (f.points3d) {
    body = `<div class="viewer3d" id="fig-${f.name}" data-points="data-${f.name}"><div class="controls">drag to rotate, scroll to zoom <button data-act="spin">spin</button><button data-act="reset">reset view</button><label><input type="checkbox" data-act="overlay"> overlay the other trajectory</label></div><div class="panes"></div></div>${jsonScript(`data-${f.name}`, f.points3d)}`;
  } else {
    body = `<div class="fig" id="fig-${f.name}" data-spec="spec-${f.name}"></div>${jsonScript(`spec-${f.name}`, await compileToVega(f.spec(true)))}`;
  }
  return `<section id="${f.name}"><h2>${escapeHtml(f.title)}</h2>${body}<p class="caption">${escapeHtml(f.caption)}</p>${fileLine}</section>`;
}

function measuresTable(inp: ReportInput): string {
  const h = inp.history;
  if (!h.evals.length && !h.final) return "";
  const kinds = (["dstsp", "dh", "pe"] as const).filter((k) => h.evals.some((e) => e[k] !== undefined) || h.final?.[k] !== undefined);
  const head = `<tr><th>epoch</th>${kinds.map((k) => `<th>${MEASURE_LABELS[k]}</th>`).join("")}<th></th></tr>`;
  const best = h.final?.bestEpoch;
  const rows = h.evals.map((e) => `<tr${e.epoch === best ? ' class="best"' : ""}><td class="num">${e.epoch}</td>${kinds.map((k) => `<td class="num">${fmt(e[k])}</td>`).join("")}<td>${e.diverged ? '<span class="warn">diverged</span>' : e.epoch === best ? "kept (best)" : ""}</td></tr>`);
  if (h.final) rows.push(`<tr><td>final</td>${kinds.map((k) => `<td class="num"><b>${fmt(h.final![k])}</b></td>`).join("")}<td>full protocol${h.final.compared ? `, ${h.final.compared.toLocaleString("en-US")} steps compared` : ""}</td></tr>`);
  return `<section id="measures-table"><h2>Measures</h2><table>${head}${rows.join("")}</table><p class="note">Evaluations during training use at most 2000 starting points for PE; the final row uses the whole test set and the kept parameters.</p></section>`;
}

function analysisSection(inp: ReportInput): string {
  const a = inp.analysis;
  const spec = inp.config?.spec ?? "SPEC";
  if (!a) {
    return `<section id="analysis"><h2>Analysis</h2><p class="note">This run directory has no <code>analysis.json</code>. To see the model's fixed points and cycles on its attractor and the linear regions it visits, run <code>rnnc analyze ${escapeHtml(spec)} --params ${escapeHtml(inp.dir)} --out ${escapeHtml(inp.dir)}/analysis.json</code>, then <code>rnnc report ${escapeHtml(inp.dir)}</code> again.</p></section>`;
  }
  if ("problem" in a) return `<section id="analysis"><h2>Analysis</h2><p class="warn">analysis.json could not be used: ${escapeHtml(a.problem)}</p></section>`;
  const m = a.marks;
  const stab = (stable: boolean) => (stable ? '<span style="color:var(--ok)">stable</span>' : '<span style="color:var(--bad)">unstable</span>');
  const infoKeys = [...new Set([...m.fixedPoints, ...m.cycles].flatMap((p) => Object.keys(p.info ?? {})))];
  const infoCells = (info: Record<string, string | number> | undefined) => infoKeys.map((k) => {
    const v = info?.[k];
    const text = v === undefined ? "" : String(v);
    return `<td${typeof v === "number" ? ' class="num"' : ""} title="${escapeHtml(text)}">${escapeHtml(text.length > 28 ? text.slice(0, 27) + "…" : text)}</td>`;
  }).join("");
  const head = `<tr><th>kind</th><th>stability</th>${infoKeys.map((k) => `<th>${escapeHtml(k)}</th>`).join("")}<th>observation (first point)</th></tr>`;
  const rows = [
    ...m.fixedPoints.map((p) => `<tr><td>fixed point</td><td>${stab(p.stable)}</td>${infoCells(p.info)}<td><code>${p.x.slice(0, 6).map((v) => fmt(v, 3)).join(", ")}</code></td></tr>`),
    ...m.cycles.map((c) => `<tr><td>${c.period}-cycle</td><td>${stab(c.stable)}</td>${infoCells(c.info)}<td><code>${(c.points[0] ?? []).slice(0, 6).map((v) => fmt(v, 3)).join(", ")}</code></td></tr>`),
  ];
  const facts = m.facts.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("");
  return `<section id="analysis"><h2>Analysis</h2>
<p class="note">From <code>analysis.json</code>: ${m.fixedPoints.length} fixed point(s) and ${m.cycles.length} cycle(s) of the trained model, and the linear regions its trajectory visits. Stable: every eigenvalue of the (k-step) Jacobian has modulus below 1. Coordinates are the model's observations of each point.</p>
${facts ? `<table>${facts}</table>` : ""}
${rows.length ? `<h3>Fixed points and cycles</h3><table>${head}${rows.join("")}</table>` : "<p>No fixed points or cycles were found.</p>"}
${m.skipped.length ? `<details><summary>${m.skipped.length} entr${m.skipped.length === 1 ? "y" : "ies"} of analysis.json not shown</summary><ul>${m.skipped.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul></details>` : ""}
</section>`;
}

function configSection(inp: ReportInput): string {
  const c = inp.config;
  if (!c) return "";
  const dims = Object.entries(c.dims ?? {}).map(([k, v]) => `<tr><td><code>${escapeHtml(k)}</code></td><td class="num">${v}</td></tr>`).join("");
  const settings = Object.entries(c.settings ?? {}).map(([k, s]) => `<tr><td><code>${escapeHtml(k)}</code></td><td><code>${escapeHtml(formatSetting(s.value))}</code></td><td><span class="origin ${escapeHtml(s.origin)}">${escapeHtml(s.origin === "cli" ? "--set / flag" : s.origin)}</span></td></tr>`).join("");
  const data = Object.entries(c.data ?? {}).map(([k, v]) => `<tr><td><code>${escapeHtml(k)}</code></td><td>${escapeHtml(v)}</td></tr>`).join("");
  return `<section id="config"><h2>Configuration</h2>
<p class="note">Resolved settings of this run and where each came from (${escapeHtml(c.precedence ?? "default < spec < --set < --epochs/--seed")}). Backend: ${escapeHtml(c.backend ?? "?")}.</p>
<h3>Data</h3><table>${data}</table>
<h3>Dims</h3><table>${dims}</table>
<h3>Training</h3><table><tr><th>setting</th><th>value</th><th>from</th></tr>${settings}</table></section>`;
}

function specSection(inp: ReportInput): string {
  const s = inp.spec;
  if (!s) return "";
  if (s.text === undefined) return `<section id="spec"><h2>Spec</h2><p class="warn">${escapeHtml(s.path)}: ${escapeHtml(s.problem ?? "not readable")}</p></section>`;
  return `<section id="spec"><h2>Spec</h2><p class="note"><code>${escapeHtml(s.path)}</code> as it is on disk now; settings changed on the command line are marked in the configuration above.</p><pre class="spec">${highlightSpec(s.text)}</pre></section>`;
}

export async function buildReportHtml(inp: ReportInput): Promise<string> {
  const model = inp.program?.model.name ?? inp.config?.model ?? "run";
  const title = inp.program?.model.title ?? inp.figureData?.title ?? "";
  const figs: string[] = [];
  for (const f of inp.figures) figs.push(await figureSection(f, inp.figureFiles, inp.figuresHref));
  const figureNote = inp.figureProblem ? `<section id="no-figures"><h2>Figures</h2><p class="warn">${escapeHtml(inp.figureProblem)}</p></section>` : "";
  const nav = [["summary", "Summary"], ...inp.figures.map((f) => [f.name, f.title.split(":")[0]!]), ["measures-table", "Measures"], ["analysis", "Analysis"], ["config", "Configuration"], ["spec", "Spec"]]
    .map(([id, label]) => `<a href="#${id}">${escapeHtml(label!)}</a>`).join("");
  const vega = readFileSync(vegaBrowserScriptPath(), "utf8").replace(/<\/script/gi, "<\\/script");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model)} – rnnc report</title>
<style>${REPORT_CSS}</style></head>
<body>
<header><h1>${escapeHtml(model)}${title ? ` <span style="font-weight:normal;color:var(--muted);font-size:16px">${escapeHtml(title)}</span>` : ""}</h1>
<div class="sub">run directory <code>${escapeHtml(inp.dir)}</code>${inp.config?.spec ? ` · spec <code>${escapeHtml(inp.config.spec)}</code>` : ""} · report written ${escapeHtml(inp.generatedAt.toISOString().replace("T", " ").slice(0, 16))} UTC by rnnc</div>
<nav>${nav}</nav></header>
<main>
${summary(inp)}
${figureNote}
${figs.join("\n")}
${measuresTable(inp)}
${analysisSection(inp)}
${configSection(inp)}
${specSection(inp)}
</main>
<script>${vega}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
