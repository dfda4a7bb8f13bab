// One small clipped dendritic PLRNN on generated Lorenz-63, shared by the training tests; each
// test supplies its own sizes and train block.
export interface DendPlrnnOptions {
  header: string;
  steps: number;
  testSteps: number;
  M: number;
  B: number;
  /** "fixed": ±0.5 and zeros; "scaled": the references' ±1/sqrt(fan-in). */
  init: "fixed" | "scaled";
  train: string;
  evalBlock?: string;
}

export function dendplrnnSpec(o: DendPlrnnOptions): string {
  const scaled = o.init === "scaled";
  return `${o.header}
data lorenz = builtin.lorenz63(steps = ${o.steps}, test_steps = ${o.testSteps})
dims { N = lorenz.features; M = ${o.M}; B = ${o.B} }
params {
  A : diag[M] init = normalized_pd(group = "AW")
  W : [M, M] offdiag init = normalized_pd(group = "AW")
  h : [M] init = ${scaled ? "uniform(-1 / sqrt(M), 1 / sqrt(M))" : "zeros"}
  alpha : [B] init = ${scaled ? "uniform(-1 / sqrt(B), 1 / sqrt(B))" : "uniform(-0.5, 0.5)"}
  H : [M, B] init = uniform_range(lorenz, negate = true)
  L : [M - N, N] init = ${scaled ? "uniform(-1 / sqrt(N), 1 / sqrt(N))" : "uniform(-0.5, 0.5)"}
}
latent z : [M] = concat(x, L @ x) {
  phi = sum(b in B: alpha[b] * (relu(z + H[:, b]) - relu(z)))
  z' = A @ z + W @ phi + h
}
observe x : [N] = z[:N]
train {
${o.train.trim().split("\n").map((l) => "  " + l.trim()).join("\n")}
}${o.evalBlock ? "\n" + o.evalBlock : ""}`;
}
