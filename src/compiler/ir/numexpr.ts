// Symbolic numbers shared by the checker, the IR and the passes: dims (M, M - P, H / K) and the
// scalar arguments of initializers (1 / sqrt(M)). Plain JSON so the IR can carry them.

export type NumOp = "+" | "-" | "*" | "/" | "%" | "^" | "neg" | "sqrt" | "exp" | "log" | "min" | "max";
export type NumExpr = number | string | { op: NumOp; args: NumExpr[] };

export function num(op: NumOp, ...args: NumExpr[]): NumExpr {
  return { op, args };
}

/** Value of a NumExpr given known names; undefined when some name is unknown. */
export function evalNum(e: NumExpr, env: (name: string) => number | undefined): number | undefined {
  if (typeof e === "number") return e;
  if (typeof e === "string") return env(e);
  const v = e.args.map((a) => evalNum(a, env));
  if (v.some((x) => x === undefined)) return undefined;
  const [a, b] = v as number[];
  switch (e.op) {
    case "+": return a! + b!;
    case "-": return a! - b!;
    case "*": return a! * b!;
    case "/": return a! / b!;
    case "%": return ((a! % b!) + b!) % b!;
    case "^": return a! ** b!;
    case "neg": return -a!;
    case "sqrt": return Math.sqrt(a!);
    case "exp": return Math.exp(a!);
    case "log": return Math.log(a!);
    case "min": return Math.min(...(v as number[]));
    case "max": return Math.max(...(v as number[]));
  }
}

export function namesIn(e: NumExpr, out: Set<string> = new Set()): Set<string> {
  if (typeof e === "string") out.add(e);
  else if (typeof e === "object") for (const a of e.args) namesIn(a, out);
  return out;
}

const PREC: Record<string, number> = { "+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "^": 3 };

export function printNum(e: NumExpr, parentPrec = 0): string {
  if (typeof e === "number") return Number.isInteger(e) ? String(e) : String(e);
  if (typeof e === "string") return e;
  if (e.op === "neg") return "-" + printNum(e.args[0]!, 4);
  if (e.op in PREC) {
    const p = PREC[e.op]!;
    const s = `${printNum(e.args[0]!, p)} ${e.op} ${printNum(e.args[1]!, e.op === "-" || e.op === "/" ? p + 1 : p)}`;
    return p < parentPrec ? `(${s})` : s;
  }
  return `${e.op}(${e.args.map((a) => printNum(a)).join(", ")})`;
}

/** Substitute known values and fold constants. */
export function simplify(e: NumExpr, env: (name: string) => number | undefined): NumExpr {
  const v = evalNum(e, env);
  if (v !== undefined) return v;
  if (typeof e !== "object") return e;
  return { op: e.op, args: e.args.map((a) => simplify(a, env)) };
}

// ---- canonical polynomials for proving two dim expressions equal ((M - P) + P == M) ----

type Poly = Map<string, number>; // monomial ("" for the constant, "M*P" sorted) → coefficient

function polyOf(e: NumExpr, env: (name: string) => number | undefined): Poly | undefined {
  const v = evalNum(e, env);
  if (v !== undefined) return new Map([["", v]]);
  if (typeof e === "string") return new Map([[e, 1]]);
  if (typeof e === "number") return new Map([["", e]]);
  const ps = e.args.map((a) => polyOf(a, env));
  if (ps.some((p) => p === undefined)) return undefined;
  const [a, b] = ps as Poly[];
  switch (e.op) {
    case "+": return addPoly(a!, b!, 1);
    case "-": return addPoly(a!, b!, -1);
    case "neg": return addPoly(new Map(), a!, -1);
    case "*": {
      const out: Poly = new Map();
      for (const [ma, ca] of a!) for (const [mb, cb] of b!) {
        const m = [...ma.split("*"), ...mb.split("*")].filter(Boolean).sort().join("*");
        out.set(m, (out.get(m) ?? 0) + ca * cb);
      }
      return clean(out);
    }
    default: {
      // Opaque: a quotient of unknowns is its own atom, named by its printed form.
      return new Map([[`(${printNum(simplify(e, env))})`, 1]]);
    }
  }
}

function addPoly(a: Poly, b: Poly, sign: number): Poly {
  const out = new Map(a);
  for (const [m, c] of b) out.set(m, (out.get(m) ?? 0) + sign * c);
  return clean(out);
}

function clean(p: Poly): Poly {
  for (const [m, c] of p) if (Math.abs(c) < 1e-12) p.delete(m);
  return p;
}

/** true: provably equal; false: provably different; undefined: cannot tell yet. */
export function dimsEqual(a: NumExpr, b: NumExpr, env: (name: string) => number | undefined): boolean | undefined {
  const va = evalNum(a, env);
  const vb = evalNum(b, env);
  if (va !== undefined && vb !== undefined) return va === vb;
  const pa = polyOf(a, env);
  const pb = polyOf(b, env);
  if (!pa || !pb) return undefined;
  const diff = addPoly(pa, pb, -1);
  if (diff.size === 0) return true;
  if (diff.size === 1 && diff.has("")) return false;
  return undefined;
}
