// Diagnostics are plain data: a stable code, a severity, a primary span, related spans and hints.
// Renderers (pretty, JSON) live in render.ts; the explanations of each code in codes.ts.
import type { Span } from "../../../grammar/ast.js";
import { CODES, type DiagnosticCode } from "./codes.js";

export type Severity = "error" | "warning" | "note";

export interface Related {
  span: Span;
  message: string;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  file: string;
  span: Span;
  /** Short text drawn under the caret. */
  label?: string;
  related: Related[];
  hints: string[];
  /** Dimension values known at the time of the error, shown as a note (`M = 20, P = 2`). */
  dims?: Record<string, number>;
}

/** Collects diagnostics of one file; passed explicitly (no global logger). */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  constructor(readonly file: string) {}

  report(
    code: DiagnosticCode,
    span: Span,
    message: string,
    extra: { label?: string; related?: Related[]; hints?: string[]; dims?: Record<string, number>; severity?: Severity } = {},
  ): Diagnostic {
    const d: Diagnostic = {
      code,
      severity: extra.severity ?? CODES[code].severity,
      message,
      file: this.file,
      span,
      related: extra.related ?? [],
      hints: extra.hints ?? [],
    };
    if (extra.label !== undefined) d.label = extra.label;
    if (extra.dims !== undefined && Object.keys(extra.dims).length > 0) d.dims = extra.dims;
    this.items.push(d);
    return d;
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  /** Diagnostics in source order (stable for golden files). */
  sorted(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.span.start - b.span.start || a.code.localeCompare(b.code));
  }
}

/** An error inside rnnc itself (exit code 101), never the user's fault. */
export class InternalCompilerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InternalCompilerError";
  }
}

export function ice(message: string): never {
  throw new InternalCompilerError(message);
}
