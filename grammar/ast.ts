// The typed abstract syntax tree. Every node carries the source span it came from,
// so every later diagnostic can point at the exact token range.

export interface Span {
  /** 0-based character offsets, end exclusive. */
  start: number;
  end: number;
  /** 1-based line and column of the first and last character. */
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "@" | "^" | "==" | "!=" | "<=" | ">=" | "<" | ">";

export type Expr =
  | { kind: "num"; value: number; text: string; unit?: string; span: Span }
  | { kind: "str"; value: string; span: Span }
  | { kind: "bool"; value: boolean; span: Span }
  | { kind: "name"; name: string; primed: boolean; span: Span }
  | { kind: "member"; object: Expr; name: string; nameSpan: Span; span: Span }
  | { kind: "unary"; op: "-" | "+"; operand: Expr; span: Span }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; opSpan: Span; span: Span }
  | { kind: "call"; callee: Expr; args: Arg[]; span: Span }
  | { kind: "index"; object: Expr; items: IndexItem[]; span: Span }
  | { kind: "list"; items: Expr[]; span: Span }
  /** Recovery placeholder where the parser found no expression. */
  | { kind: "error"; span: Span };

export type Arg =
  | { kind: "positional"; value: Expr; span: Span }
  | { kind: "named"; name: string; nameSpan: Span; value: Expr; span: Span }
  | { kind: "binder"; variable: string; varSpan: Span; axis: string; axisSpan: Span; body: Expr; span: Span };

export type IndexItem =
  | { kind: "at"; value: Expr; span: Span }
  | { kind: "slice"; start?: Expr; stop?: Expr; span: Span };

export interface Ident {
  name: string;
  span: Span;
}

export interface TypeExpr {
  /** `diag` in `diag[M]`; undefined for a dense `[M, M]`. */
  structure?: Ident;
  dims: Expr[];
  span: Span;
}

export interface ModelDecl { kind: "model"; name: Ident; title?: string; span: Span }
export interface DataDecl { kind: "data"; name: Ident; source: Expr; span: Span }
export interface DimDecl { kind: "dim"; name: Ident; value: Expr; span: Span }
export interface RequireClause { kind: "require"; cond: Expr; span: Span }
export interface DimsBlock { kind: "dims"; items: (DimDecl | RequireClause)[]; span: Span; keywordSpan: Span }
export interface Modifier { name: Ident; args: Arg[]; span: Span }
export interface ParamDecl {
  kind: "param";
  names: Ident[];
  type: TypeExpr;
  modifiers: Modifier[];
  init?: Expr;
  span: Span;
}
export interface ParamsBlock { kind: "params"; params: ParamDecl[]; span: Span; keywordSpan: Span }
export interface ConstDecl { kind: "const"; name: Ident; value: Expr; span: Span }
export interface FnParam { name: Ident; type?: TypeExpr; span: Span }
export interface FnDecl { kind: "fn"; name: Ident; params: FnParam[]; body: Expr; span: Span }
export interface InputDecl { kind: "input"; name: Ident; type: TypeExpr; source: Expr; span: Span }
export interface StateDecl { name: Ident; type: TypeExpr; init?: Expr; span: Span }
export interface Equation {
  kind: "equation";
  target: Ident;
  primed: boolean;
  /** `d[k] = ... for k in K`: the index written on the left and the comprehension. */
  index?: Ident;
  forVar?: Ident;
  forAxis?: Ident;
  value: Expr;
  span: Span;
}
export interface LatentBlock { kind: "latent"; states: StateDecl[]; equations: Equation[]; span: Span; keywordSpan: Span }
export interface ObserveDecl { kind: "observe"; name: Ident; type: TypeExpr; value: Expr; span: Span }
export interface Setting { kind: "setting"; key: Ident; value: Expr; span: Span }
export interface TrainBlock { kind: "train"; settings: Setting[]; span: Span; keywordSpan: Span }
export interface GenerateStmt { kind: "generate"; length: Expr; from?: Expr; span: Span }
export interface KeepStmt { kind: "keep"; measure: Ident; span: Span }
export interface EvalBlock {
  kind: "eval";
  every?: Expr;
  items: (GenerateStmt | KeepStmt | Setting)[];
  span: Span;
  keywordSpan: Span;
}

/**
 * `optimizer.lr = [1e-3, 5e-4]` (a grid axis; the key is written as for `--set`) or `runs = 3`.
 * `texts` are the source texts of the values (the list's items), spliced as `--set key=text`.
 */
export interface SweepEntry { kind: "sweepEntry"; key: Ident; value: Expr; texts: string[]; span: Span }
export interface SweepBlock { kind: "sweep"; entries: SweepEntry[]; span: Span; keywordSpan: Span }

export type TopItem =
  | ModelDecl
  | DataDecl
  | DimsBlock
  | ParamsBlock
  | ConstDecl
  | FnDecl
  | InputDecl
  | LatentBlock
  | ObserveDecl
  | TrainBlock
  | EvalBlock
  | SweepBlock;

export interface SpecFile {
  kind: "file";
  items: TopItem[];
  span: Span;
}
