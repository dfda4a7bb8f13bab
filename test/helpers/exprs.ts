// Random well-formed .rnn expressions (for fuzzing the checker past the parser): names of a model,
// numbers (odd ones too), operators, built-in calls, indexing, slicing and comprehensions.
import fc from "fast-check";

const NUMBERS = ["0", "1", "2", "0.5", "3", "1e-3", "1e309", "-1", "22", "20", "1e9"];
const UNARY_FNS = ["relu", "tanh", "sigmoid", "softplus", "exp", "log", "sqrt", "abs", "square", "sign", "flatten", "transpose", "sum", "mean", "max", "min"];
const BINARY_FNS = ["maximum", "minimum", "concat"];
const OPS = ["+", "-", "*", "/", "@", "^", "%", "==", "<"];

export function exprArb(names: string[], maxDepth = 4): fc.Arbitrary<string> {
  const { expr } = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: "small", maxDepth, withCrossShrink: true },
      fc.constantFrom(...names),
      fc.constantFrom(...NUMBERS),
      fc.tuple(tie("expr"), fc.constantFrom(...OPS), tie("expr")).map(([a, op, b]) => `${a} ${op} ${b}`),
      tie("expr").map((a) => `-${a}`),
      tie("expr").map((a) => `(${a})`),
      fc.tuple(fc.constantFrom(...UNARY_FNS), tie("expr")).map(([f, a]) => `${f}(${a})`),
      fc.tuple(fc.constantFrom(...BINARY_FNS), tie("expr"), tie("expr")).map(([f, a, b]) => `${f}(${a}, ${b})`),
      fc.tuple(tie("expr"), tie("expr"), tie("expr")).map(([x, lo, hi]) => `clip(${x}, ${lo}, ${hi})`),
      fc.tuple(fc.constantFrom(...names), fc.constantFrom(":", "0", "b", ":N", "1:", "M - N:", ":, b", "0, 0", "-1", "N:2")).map(([n, i]) => `${n}[${i}]`),
      fc.tuple(fc.constantFrom("sum", "mean", "max", "min"), fc.constantFrom("b", "k"), fc.constantFrom("B", "M", "N", "K"), tie("expr")).map(([f, v, ax, body]) => `${f}(${v} in ${ax}: ${body})`),
      fc.tuple(tie("expr")).map(([a]) => `noise(sigma = ${a})`),
      fc.constantFrom("noise([M], sigma = 0.1)", "z'", "x'", "lorenz", "lorenz.features", "[1, 2]", "[]", "\"str\"", "true"),
    ),
  }));
  return expr;
}
