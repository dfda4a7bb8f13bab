// Dense linear algebra for the analysis tools: row-major n x n Float64Array matrices.
// Eigenvalues of a general real matrix (balancing, Hessenberg reduction, Francis double-shift QR),
// LU solves with partial pivoting, and Householder QR for the Lyapunov spectrum.

export interface Complex {
  re: number;
  im: number;
}

export class LinalgError extends Error {
  override name = "LinalgError";
}

export const abs = (c: Complex): number => Math.hypot(c.re, c.im);

export function identity(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return m;
}

/** c = a b (n x n), written into `out` when given (which must not alias a or b). */
export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return out;
}

/** y = a x (n x n times n). */
export function matVec(a: ArrayLike<number>, x: ArrayLike<number>, n: number, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

/** An LU factorization with partial pivoting, or null when the matrix is singular to working precision. */
export interface Lu {
  n: number;
  lu: Float64Array;
  perm: Int32Array;
}

export function luFactor(a: ArrayLike<number>, n: number, relTol = 1e-14): Lu | null {
  const lu = Float64Array.from(a as ArrayLike<number>);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const scale = Math.max(maxAbs(lu), Number.MIN_VALUE);
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(lu[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(lu[i * n + k]!);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (!(best > relTol * scale)) return null;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = lu[k * n + j]!;
        lu[k * n + j] = lu[p * n + j]!;
        lu[p * n + j] = t;
      }
      const t = perm[k]!;
      perm[k] = perm[p]!;
      perm[p] = t;
    }
    const pivot = lu[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const f = (lu[i * n + k]! /= pivot);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) lu[i * n + j]! -= f * lu[k * n + j]!;
    }
  }
  return { n, lu, perm };
}

export function luSolve(f: Lu, b: ArrayLike<number>, out: Float64Array = new Float64Array(f.n)): Float64Array {
  const { n, lu, perm } = f;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[perm[i]!]!;
    for (let j = 0; j < i; j++) s -= lu[i * n + j]! * y[j]!;
    y[i] = s;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let j = i + 1; j < n; j++) s -= lu[i * n + j]! * out[j]!;
    out[i] = s / lu[i * n + i]!;
  }
  return out;
}

/** x with a x = b, or null when a is singular to working precision. */
export function solve(a: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array | null {
  const f = luFactor(a, n);
  return f ? luSolve(f, b) : null;
}

/** Balances a matrix in place (Parlett–Reinsch, powers of 2, so no rounding): eigenvalues unchanged. */
function balance(a: Float64Array[], n: number): void {
  const RADIX = 2;
  const sqrdx = RADIX * RADIX;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 1; i <= n; i++) {
      let r = 0;
      let c = 0;
      for (let j = 1; j <= n; j++) {
        if (j === i) continue;
        c += Math.abs(a[j]![i]!);
        r += Math.abs(a[i]![j]!);
      }
      if (c === 0 || r === 0) continue;
      let g = r / RADIX;
      let f = 1;
      const s = c + r;
      while (c < g) {
        f *= RADIX;
        c *= sqrdx;
      }
      g = r * RADIX;
      while (c > g) {
        f /= RADIX;
        c /= sqrdx;
      }
      if ((c + r) / f < 0.95 * s) {
        done = false;
        g = 1 / f;
        for (let j = 1; j <= n; j++) a[i]![j]! *= g;
        for (let j = 1; j <= n; j++) a[j]![i]! *= f;
      }
    }
  }
}

/** Reduction to upper Hessenberg form by stabilized elementary similarity transforms. */
function toHessenberg(a: Float64Array[], n: number): void {
  for (let m = 2; m < n; m++) {
    let x = 0;
    let i = m;
    for (let j = m; j <= n; j++) {
      if (Math.abs(a[j]![m - 1]!) > Math.abs(x)) {
        x = a[j]![m - 1]!;
        i = j;
      }
    }
    if (i !== m) {
      for (let j = m - 1; j <= n; j++) [a[i]![j], a[m]![j]] = [a[m]![j]!, a[i]![j]!];
      for (let j = 1; j <= n; j++) [a[j]![i], a[j]![m]] = [a[j]![m]!, a[j]![i]!];
    }
    if (x !== 0) {
      for (let i2 = m + 1; i2 <= n; i2++) {
        let y = a[i2]![m - 1]!;
        if (y === 0) continue;
        y /= x;
        a[i2]![m - 1] = y;
        for (let j = m; j <= n; j++) a[i2]![j]! -= y * a[m]![j]!;
        for (let j = 1; j <= n; j++) a[j]![m]! += y * a[j]![i2]!;
      }
    }
  }
  // The multipliers left below the subdiagonal are not part of the Hessenberg matrix.
  for (let i = 3; i <= n; i++) for (let j = 1; j < i - 1; j++) a[i]![j] = 0;
}

const sign = (a: number, b: number) => (b >= 0 ? Math.abs(a) : -Math.abs(a));

/** Eigenvalues of an upper Hessenberg matrix (1-based rows), Francis double-shift QR. */
function hessenbergEigenvalues(a: Float64Array[], n: number): Complex[] {
  const wr = new Float64Array(n + 1);
  const wi = new Float64Array(n + 1);
  let anorm = 0;
  for (let i = 1; i <= n; i++) for (let j = Math.max(i - 1, 1); j <= n; j++) anorm += Math.abs(a[i]![j]!);
  let nn = n;
  let t = 0;
  let p = 0, q = 0, r = 0, s = 0, w = 0, x = 0, y = 0, z = 0;
  while (nn >= 1) {
    let its = 0;
    let l: number;
    do {
      for (l = nn; l >= 2; l--) {
        s = Math.abs(a[l - 1]![l - 1]!) + Math.abs(a[l]![l]!);
        if (s === 0) s = anorm;
        if (Math.abs(a[l]![l - 1]!) + s === s) {
          a[l]![l - 1] = 0;
          break;
        }
      }
      x = a[nn]![nn]!;
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn--] = 0;
      } else {
        y = a[nn - 1]![nn - 1]!;
        w = a[nn]![nn - 1]! * a[nn - 1]![nn]!;
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z !== 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -(wi[nn] = z);
          }
          nn -= 2;
        } else {
          if (its === 60) throw new LinalgError("eigenvalues: the QR iteration did not converge");
          if (its % 10 === 0 && its > 0) {
            // exceptional shift
            t += x;
            for (let i = 1; i <= nn; i++) a[i]![i]! -= x;
            s = Math.abs(a[nn]![nn - 1]!) + Math.abs(a[nn - 1]![nn - 2]!);
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = a[m]![m]!;
            r = x - z;
            s = y - z;
            p = (r * s - w) / a[m + 1]![m]! + a[m]![m + 1]!;
            q = a[m + 1]![m + 1]! - z - r - s;
            r = a[m + 2]![m + 1]!;
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(a[m]![m - 1]!) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(a[m - 1]![m - 1]!) + Math.abs(z) + Math.abs(a[m + 1]![m + 1]!));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[i]![i - 2] = 0;
            if (i !== m + 2) a[i]![i - 3] = 0;
          }
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = a[k]![k - 1]!;
              q = a[k + 1]![k - 1]!;
              r = 0;
              if (k !== nn - 1) r = a[k + 2]![k - 1]!;
              if ((x = Math.abs(p) + Math.abs(q) + Math.abs(r)) !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            if ((s = sign(Math.sqrt(p * p + q * q + r * r), p)) !== 0) {
              if (k === m) {
                if (l !== m) a[k]![k - 1] = -a[k]![k - 1]!;
              } else a[k]![k - 1] = -s * x;
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = a[k]![j]! + q * a[k + 1]![j]!;
                if (k !== nn - 1) {
                  p += r * a[k + 2]![j]!;
                  a[k + 2]![j]! -= p * z;
                }
                a[k + 1]![j]! -= p * y;
                a[k]![j]! -= p * x;
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * a[i]![k]! + y * a[i]![k + 1]!;
                if (k !== nn - 1) {
                  p += z * a[i]![k + 2]!;
                  a[i]![k + 2]! -= p * r;
                }
                a[i]![k + 1]! -= p * q;
                a[i]![k]! -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  const out: Complex[] = [];
  for (let i = 1; i <= n; i++) out.push({ re: wr[i]!, im: wi[i]! });
  return out;
}

/**
 * Eigenvalues of a general real n x n matrix (row-major), sorted by decreasing modulus (complex
 * pairs: positive imaginary part first). Throws LinalgError for non-finite entries.
 */
export function eigenvalues(m: ArrayLike<number>, n: number): Complex[] {
  for (let i = 0; i < n * n; i++) if (!Number.isFinite(m[i]!)) throw new LinalgError("eigenvalues: the matrix has non-finite entries");
  if (n === 0) return [];
  const a: Float64Array[] = [new Float64Array(n + 1)];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n + 1);
    for (let j = 0; j < n; j++) row[j + 1] = m[i * n + j]!;
    a.push(row);
  }
  balance(a, n);
  toHessenberg(a, n);
  const ev = hessenbergEigenvalues(a, n);
  return ev.sort((u, v) => abs(v) - abs(u) || v.re - u.re || v.im - u.im);
}

/**
 * Householder QR of an n x m matrix (row-major, m <= n) in place: on return `a` holds the thin Q
 * (n x m, orthonormal columns) and the returned array the diagonal of R, made non-negative by
 * flipping the signs of Q's columns (so log R_ii is defined for full-rank input).
 */
export function qrInPlace(a: Float64Array, n: number, m: number): Float64Array {
  const v = new Float64Array(n * m); // Householder vectors, column k in v[k*n ..]
  const rdiag = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm = Math.hypot(norm, a[i * m + k]!);
    const alpha = a[k * m + k]! > 0 ? -norm : norm;
    const vk = v.subarray(k * n, (k + 1) * n);
    for (let i = k; i < n; i++) vk[i] = a[i * m + k]!;
    vk[k]! -= alpha;
    let vnorm2 = 0;
    for (let i = k; i < n; i++) vnorm2 += vk[i]! * vk[i]!;
    if (vnorm2 > 0) {
      for (let j = k; j < m; j++) {
        let d = 0;
        for (let i = k; i < n; i++) d += vk[i]! * a[i * m + j]!;
        const f = (2 * d) / vnorm2;
        for (let i = k; i < n; i++) a[i * m + j]! -= f * vk[i]!;
      }
    } else vk.fill(0);
    rdiag[k] = a[k * m + k]!;
    for (let i = k; i < n; i++) vk[i] = vnorm2 > 0 ? vk[i]! / Math.sqrt(vnorm2) : 0;
  }
  // Q = H_0 H_1 ... H_{m-1} applied to the first m columns of the identity.
  a.fill(0);
  for (let j = 0; j < m; j++) a[j * m + j] = 1;
  for (let k = m - 1; k >= 0; k--) {
    const vk = v.subarray(k * n, (k + 1) * n);
    for (let j = 0; j < m; j++) {
      let d = 0;
      for (let i = k; i < n; i++) d += vk[i]! * a[i * m + j]!;
      if (d === 0) continue;
      for (let i = k; i < n; i++) a[i * m + j]! -= 2 * d * vk[i]!;
    }
  }
  for (let k = 0; k < m; k++) {
    if (rdiag[k]! < 0) {
      rdiag[k] = -rdiag[k]!;
      for (let i = 0; i < n; i++) a[i * m + k] = -a[i * m + k]!;
    }
  }
  return rdiag;
}
