// Two renderers of diagnostics: a human one (file:line:col, the source line, a caret under the
// span, notes and hints) and a machine one (JSON, one object per diagnostic).
import type { Diagnostic } from "./diagnostic.js";

export interface RenderOptions {
  color?: boolean;
}

const RED = "\x1b[31;1m";
const YELLOW = "\x1b[33;1m";
const BLUE = "\x1b[34;1m";
const BOLD = "\x1b[1m";
const RESET = "\x1b[0m";

/** Longest part of a source line shown in a snippet. */
const MAX_LINE = 160;

/** Tabs and control characters would misplace the caret; show them as single spaces. */
function printable(line: string): string {
  return line.replace(/[\t\x00-\x1f\x7f]/g, " ");
}

export function renderPretty(d: Diagnostic, source: string, opts: RenderOptions = {}): string {
  const c = (code: string, s: string) => (opts.color ? code + s + RESET : s);
  const sevColor = d.severity === "error" ? RED : d.severity === "warning" ? YELLOW : BLUE;
  const lines = source.split("\n");
  const out: string[] = [];
  out.push(`${c(sevColor, `${d.severity}[${d.code}]`)}${c(BOLD, `: ${d.message}`)}`);
  const lineNo = d.span.line;
  const gutter = String(Math.max(lineNo, ...d.related.map((r) => r.span.line))).length;
  const pad = " ".repeat(gutter);
  out.push(`${pad}${c(BLUE, "-->")} ${d.file}:${d.span.line}:${d.span.col}`);
  out.push(`${pad} ${c(BLUE, "|")}`);
  const snippet = (line: number, col: number, endLine: number, endCol: number, label: string | undefined, mark: string, color: string) => {
    const text = lines[line - 1];
    if (text === undefined) {
      out.push(`${pad} ${c(BLUE, "|")} ${c(color, mark)}${label ? " " + c(color, label) : ""}`);
      return;
    }
    // A long line is shown as a window of at most MAX_LINE characters around the span's start.
    const first = Math.max(0, col - 1);
    const left = text.length > MAX_LINE && first > MAX_LINE - 40 ? first - 60 : 0;
    const cut = text.slice(left, left + MAX_LINE);
    const lead = left > 0 ? "…" : "";
    const shown = printable(lead + cut + (left + MAX_LINE < text.length ? "…" : ""));
    out.push(`${c(BLUE, String(line).padStart(gutter))} ${c(BLUE, "|")} ${shown}`);
    const start = first - left + lead.length;
    const last = (endLine === line ? Math.max(endCol, col) : text.length) - left + lead.length;
    const width = Math.max(1, Math.min(last, shown.length + 1) - start);
    out.push(`${pad} ${c(BLUE, "|")} ${" ".repeat(Math.min(start, shown.length))}${c(color, mark.repeat(width))}${label ? " " + c(color, label) : ""}`);
  };
  snippet(d.span.line, d.span.col, d.span.endLine, d.span.endCol, d.label, "^", sevColor);
  for (const r of d.related) {
    if (r.span.line === d.span.line && r.span.start === d.span.start) continue;
    out.push(`${pad} ${c(BLUE, "|")}`);
    out.push(`${pad} ${c(BLUE, "=")} ${d.file}:${r.span.line}:${r.span.col}: ${r.message}`);
    snippet(r.span.line, r.span.col, r.span.endLine, r.span.endCol, undefined, "-", BLUE);
  }
  if (d.dims) out.push(`${pad} ${c(BLUE, "=")} note: with ${Object.entries(d.dims).map(([k, v]) => `${k} = ${v}`).join(", ")}`);
  for (const h of d.hints) out.push(`${pad} ${c(BLUE, "=")} help: ${h}`);
  return out.join("\n");
}

export function renderJson(d: Diagnostic): Record<string, unknown> {
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: d.file,
    span: { start: [d.span.line, d.span.col], end: [d.span.endLine, d.span.endCol], offset: [d.span.start, d.span.end] },
    ...(d.label ? { label: d.label } : {}),
    related: d.related.map((r) => ({ message: r.message, span: { start: [r.span.line, r.span.col], end: [r.span.endLine, r.span.endCol] } })),
    hints: d.hints,
    ...(d.dims ? { dims: d.dims } : {}),
  };
}

export function summary(diags: Diagnostic[]): string {
  const e = diags.filter((d) => d.severity === "error").length;
  const w = diags.filter((d) => d.severity === "warning").length;
  const parts = [];
  if (e) parts.push(`${e} error${e === 1 ? "" : "s"}`);
  if (w) parts.push(`${w} warning${w === 1 ? "" : "s"}`);
  return parts.join(", ");
}
