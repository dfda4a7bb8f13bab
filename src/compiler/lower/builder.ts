// Emits SSA equations into one IR graph. The checker drives it while it types expressions,
// so every emitted equation already carries a checked shape.
import type { Span } from "../../../grammar/ast.js";
import type { Eqn, Graph, OpName, Shape } from "../ir/types.js";
import type { NumExpr } from "../ir/numexpr.js";

export class GraphBuilder {
  readonly eqns: Eqn[] = [];
  readonly inputs: string[] = [];
  readonly outputs: Record<string, string> = {};
  private counter = 0;

  constructor(readonly prefix: string) {}

  useInput(name: string): string {
    if (!this.inputs.includes(name)) this.inputs.push(name);
    return name;
  }

  emit(op: OpName, args: string[], shape: Shape, attrs?: Record<string, NumExpr | NumExpr[]>, span?: Span, out?: string): string {
    const name = out ?? `%${this.prefix}${++this.counter}`;
    const eqn: Eqn = { out: name, op, args, shape };
    if (attrs && Object.keys(attrs).length > 0) eqn.attrs = attrs;
    if (span) eqn.src = { line: span.line, col: span.col };
    this.eqns.push(eqn);
    return name;
  }

  /** Give the last equation producing `value` a readable name (a let binding, a next state). */
  rename(value: string, name: string): string {
    const eqn = this.eqns.find((e) => e.out === value);
    if (!eqn || !value.startsWith("%") || this.eqns.some((e) => e.out === name)) return value;
    eqn.out = name;
    for (const e of this.eqns) e.args = e.args.map((a) => (a === value ? name : a));
    for (const k of Object.keys(this.outputs)) if (this.outputs[k] === value) this.outputs[k] = name;
    return name;
  }

  build(): Graph {
    return { inputs: [...this.inputs], eqns: this.eqns, outputs: { ...this.outputs } };
  }
}
