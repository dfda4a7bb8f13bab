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

/** The tiny dendPLRNN the CLI end-to-end tests train: 5 units, 3 batches of 4 x 30 per epoch. */
export function tinyDendplrnnSpec(epochs: number, withEval: boolean): string {
  return dendplrnnSpec({
    header: `model tiny "a small dendritic PLRNN"`,
    steps: 4000,
    testSteps: 2000,
    M: 5,
    B: 2,
    init: "fixed",
    train: `loss = mse(x, lorenz)
      forcing = sparse(every = 10, units = z[:N])
      optimizer = radam(lr = 3e-3)
      batch_size = 4
      seq_len = 30
      batches_per_epoch = 3
      epochs = ${epochs}
      seed = 2`,
    ...(withEval ? { evalBlock: `eval every 1 epochs {\n  measures = [dstsp(bins = 10), dh(smoothing = 5), pe(steps = 5)]\n  keep best by dstsp\n}` } : {}),
  });
}
