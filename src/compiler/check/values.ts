// What an expression denotes while the checker elaborates it.
import type { FnDecl, Span } from "../../../grammar/ast.js";
import type { NumExpr } from "../ir/numexpr.js";
import type { Shape } from "../ir/types.js";

export type Val =
  /** A tensor in the current graph. `comp` lists the comprehension variables it varies over
   * (outermost first); its layout is [comp axes..., shape...]. */
  | { k: "tensor"; ref: string; shape: Shape; comp: string[]; diag?: boolean }
  /** A compile-time scalar: a literal, a const, a dim, or arithmetic on them. */
  | { k: "num"; e: NumExpr; dim?: string }
  | { k: "data"; name: string }
  | { k: "dataref"; data: string; field: string }
  | { k: "compvar"; v: string; axisName: string; axis: NumExpr }
  | { k: "str"; value: string }
  | { k: "bool"; value: boolean }
  | { k: "list"; items: Val[] }
  | { k: "fn"; decl: FnDecl }
  /** Already reported; suppresses follow-up errors. */
  | { k: "err" };

export type SymbolKind = "dim" | "const" | "param" | "state" | "input" | "obs" | "data" | "fn" | "let" | "builtin-init";

export interface Sym {
  kind: SymbolKind;
  name: string;
  span: Span;
  shape?: Shape;
  diag?: boolean;
}

export function describeKind(k: SymbolKind): string {
  switch (k) {
    case "dim": return "a dim";
    case "const": return "a const";
    case "param": return "a parameter";
    case "state": return "a latent state";
    case "input": return "an input";
    case "obs": return "an observation";
    case "data": return "a data set";
    case "fn": return "a fn";
    case "let": return "a let binding";
    case "builtin-init": return "an initializer";
  }
}

export function describeVal(v: Val): string {
  switch (v.k) {
    case "tensor": return v.shape.length === 0 ? "a scalar tensor" : "a tensor";
    case "num": return v.dim ? `the dim ${v.dim}` : "a number";
    case "data": return `the data set '${v.name}'`;
    case "dataref": return `the data field '${v.data}.${v.field}'`;
    case "compvar": return `the comprehension variable '${v.v}'`;
    case "str": return "a string";
    case "bool": return "a boolean";
    case "list": return "a list";
    case "fn": return `the fn '${v.decl.name.name}'`;
    case "err": return "an invalid value";
  }
}
