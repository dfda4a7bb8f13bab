// Small dense linear algebra on row-major arrays, for initializers and adaptive forcing.

/** Largest singular value of an n x n matrix (power iteration on AᵀA). For a symmetric positive
 * definite matrix this is its largest eigenvalue. */
export function spectralNorm(a: ArrayLike<number>, n: number, iterations = 200): number {
  let v = new Float64Array(n).fill(1 / Math.sqrt(n));
  let s = 0;
  for (let it = 0; it < iterations; it++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc += a[i * n + j]! * v[j]!;
      w[i] = acc;
    }
    const u = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += a[i * n + j]! * w[i]!;
      u[j] = acc;
    }
    const norm = Math.sqrt(u.reduce((x, y) => x + y * y, 0));
    if (norm === 0) return 0;
    const next = Math.sqrt(norm);
    v = u.map((x) => x / norm);
    if (Math.abs(next - s) <= 1e-14 * next) return next;
    s = next;
  }
  return s;
}
