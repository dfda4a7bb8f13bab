/**
 * Exact discrete Fourier transforms of arbitrary length, in float64.
 *
 *   X_k = Σ_j x_j · exp(−2πi·jk/n)      (forward, unnormalised — numpy's convention)
 *
 * Power-of-two lengths use an iterative radix-2 Cooley–Tukey FFT; any other length uses
 * Bluestein's chirp-z algorithm on top of it, so the result is the true length-n DFT
 * (not a zero-padded one). Real input of even length is packed into a half-length complex
 * transform, which halves the work for `rfft`.
 */

/** An in-place forward DFT of one fixed length. Not re-entrant (plans own scratch buffers). */
export interface ComplexFft {
  readonly n: number;
  /** Overwrites (re, im) with their DFT. Both arrays must have length n. */
  forward(re: Float64Array, im: Float64Array): void;
}

export function isPowerOfTwo(n: number): boolean {
  return n >= 1 && (n & (n - 1)) === 0;
}

export function nextPowerOfTwo(n: number): number {
  let m = 1;
  while (m < n) m *= 2;
  return m;
}

class Radix2Fft implements ComplexFft {
  readonly n: number;
  private readonly bitReversed: Uint32Array;
  // Twiddles exp(−2πi·j/size) for every stage size ≥ 4, stored stage after stage
  // (stage `size` starts at offset size/2 − 2) so each butterfly group reads them contiguously.
  // Computed directly with cos/sin (no recurrence) for accuracy.
  private readonly twRe: Float64Array;
  private readonly twIm: Float64Array;

  constructor(n: number) {
    if (!isPowerOfTwo(n)) throw new Error(`Radix2Fft: ${n} is not a power of two`);
    this.n = n;
    const bits = Math.round(Math.log2(n));
    this.bitReversed = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0, v = i; b < bits; b++, v >>>= 1) r = (r << 1) | (v & 1);
      this.bitReversed[i] = r;
    }
    this.twRe = new Float64Array(Math.max(n - 2, 0));
    this.twIm = new Float64Array(Math.max(n - 2, 0));
    for (let size = 4; size <= n; size *= 2) {
      const half = size >>> 1;
      const base = half - 2;
      for (let j = 0; j < half; j++) {
        const angle = (2 * Math.PI * j) / size;
        this.twRe[base + j] = Math.cos(angle);
        this.twIm[base + j] = -Math.sin(angle);
      }
    }
  }

  forward(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    const rev = this.bitReversed;
    for (let i = 0; i < n; i++) {
      const j = rev[i]!;
      if (j > i) {
        const tr = re[i]!;
        re[i] = re[j]!;
        re[j] = tr;
        const ti = im[i]!;
        im[i] = im[j]!;
        im[j] = ti;
      }
    }
    // size-2 stage: twiddle 1
    for (let a = 0; a + 1 < n; a += 2) {
      const ar = re[a]!;
      const ai = im[a]!;
      const br = re[a + 1]!;
      const bi = im[a + 1]!;
      re[a] = ar + br;
      im[a] = ai + bi;
      re[a + 1] = ar - br;
      im[a + 1] = ai - bi;
    }
    const twRe = this.twRe;
    const twIm = this.twIm;
    for (let size = 4; size <= n; size *= 2) {
      const half = size >>> 1;
      const base = half - 2;
      for (let start = 0; start < n; start += size) {
        for (let j = 0; j < half; j++) {
          const wr = twRe[base + j]!;
          const wi = twIm[base + j]!;
          const a = start + j;
          const b = a + half;
          const br = re[b]!;
          const bi = im[b]!;
          const tr = br * wr - bi * wi;
          const ti = br * wi + bi * wr;
          const ar = re[a]!;
          const ai = im[a]!;
          re[b] = ar - tr;
          im[b] = ai - ti;
          re[a] = ar + tr;
          im[a] = ai + ti;
        }
      }
    }
  }
}

/** Bluestein: X_k = w_k · Σ_j (x_j w_j) · conj(w_{k−j}),  w_k = exp(−iπk²/n), as a length-m circular convolution. */
class BluesteinFft implements ComplexFft {
  readonly n: number;
  private readonly inner: Radix2Fft;
  private readonly chirpRe: Float64Array;
  private readonly chirpIm: Float64Array;
  // FFT of the conjugate chirp filter
  private readonly filterRe: Float64Array;
  private readonly filterIm: Float64Array;
  private readonly workRe: Float64Array;
  private readonly workIm: Float64Array;

  constructor(n: number) {
    this.n = n;
    const m = nextPowerOfTwo(2 * n - 1);
    this.inner = new Radix2Fft(m);
    this.chirpRe = new Float64Array(n);
    this.chirpIm = new Float64Array(n);
    const twoN = 2 * n;
    for (let k = 0; k < n; k++) {
      // k² mod 2n is exact in integers (k² < 2^53 for any realistic n) and keeps the angle small,
      // avoiding the precision loss of evaluating π·k²/n for large k.
      const r = (k * k) % twoN;
      const angle = (Math.PI * r) / n;
      this.chirpRe[k] = Math.cos(angle);
      this.chirpIm[k] = -Math.sin(angle);
    }
    this.filterRe = new Float64Array(m);
    this.filterIm = new Float64Array(m);
    this.filterRe[0] = this.chirpRe[0]!;
    this.filterIm[0] = -this.chirpIm[0]!;
    for (let k = 1; k < n; k++) {
      this.filterRe[k] = this.filterRe[m - k] = this.chirpRe[k]!;
      this.filterIm[k] = this.filterIm[m - k] = -this.chirpIm[k]!;
    }
    this.inner.forward(this.filterRe, this.filterIm);
    this.workRe = new Float64Array(m);
    this.workIm = new Float64Array(m);
  }

  forward(re: Float64Array, im: Float64Array): void {
    const n = this.n;
    const m = this.inner.n;
    const wr = this.workRe;
    const wi = this.workIm;
    const cr = this.chirpRe;
    const ci = this.chirpIm;
    for (let k = 0; k < n; k++) {
      const xr = re[k]!;
      const xi = im[k]!;
      wr[k] = xr * cr[k]! - xi * ci[k]!;
      wi[k] = xr * ci[k]! + xi * cr[k]!;
    }
    wr.fill(0, n);
    wi.fill(0, n);
    this.inner.forward(wr, wi);
    // pointwise product with the filter, conjugated so that a second forward FFT acts as an inverse
    const fr = this.filterRe;
    const fi = this.filterIm;
    for (let k = 0; k < m; k++) {
      const ar = wr[k]!;
      const ai = wi[k]!;
      const br = fr[k]!;
      const bi = fi[k]!;
      wr[k] = ar * br - ai * bi;
      wi[k] = -(ar * bi + ai * br);
    }
    this.inner.forward(wr, wi);
    // inverse = conj(forward(conj(·)))/m, then multiply by the chirp
    const scale = 1 / m;
    for (let k = 0; k < n; k++) {
      const ar = wr[k]! * scale;
      const ai = -wi[k]! * scale;
      re[k] = ar * cr[k]! - ai * ci[k]!;
      im[k] = ar * ci[k]! + ai * cr[k]!;
    }
  }
}

const planCache = new Map<number, ComplexFft>();
const PLAN_CACHE_LIMIT = 16;

/** A cached forward DFT plan of length n ≥ 1 (radix-2 when n is a power of two, else Bluestein). */
export function fftPlan(n: number): ComplexFft {
  if (!Number.isInteger(n) || n < 1) throw new Error(`fftPlan: length must be a positive integer (got ${n})`);
  let plan = planCache.get(n);
  if (plan === undefined) {
    plan = isPowerOfTwo(n) ? new Radix2Fft(n) : new BluesteinFft(n);
    if (planCache.size >= PLAN_CACHE_LIMIT) planCache.clear();
    planCache.set(n, plan);
  }
  return plan;
}

/** Out-of-place complex DFT. */
export function fft(re: ArrayLike<number>, im: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  if (im.length !== n) throw new Error("fft: re and im must have the same length");
  const outRe = Float64Array.from(re);
  const outIm = Float64Array.from(im);
  if (n > 0) fftPlan(n).forward(outRe, outIm);
  return { re: outRe, im: outIm };
}

/**
 * DFT of a real signal of length n ≥ 1: the first ⌊n/2⌋+1 coefficients, like numpy.fft.rfft.
 */
export function rfft(x: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = x.length;
  if (n < 1) throw new Error("rfft: empty input");
  const bins = Math.floor(n / 2) + 1;
  if (n % 2 === 1) {
    const { re, im } = fft(x, new Float64Array(n));
    return { re: re.slice(0, bins), im: im.slice(0, bins) };
  }
  // Even n = 2h: z_j = x_{2j} + i·x_{2j+1}, Z = DFT_h(z); then split Z into the DFTs of the
  // even and odd samples (E_k, O_k) and recombine X_k = E_k + exp(−2πik/n)·O_k.
  const h = n / 2;
  const zr = new Float64Array(h);
  const zi = new Float64Array(h);
  for (let j = 0; j < h; j++) {
    zr[j] = x[2 * j]!;
    zi[j] = x[2 * j + 1]!;
  }
  fftPlan(h).forward(zr, zi);
  const re = new Float64Array(bins);
  const im = new Float64Array(bins);
  for (let k = 0; k <= h; k++) {
    const a = k % h;
    const b = (h - k) % h;
    const ar = zr[a]!;
    const ai = zi[a]!;
    const br = zr[b]!;
    const bi = zi[b]!;
    const er = 0.5 * (ar + br);
    const ei = 0.5 * (ai - bi);
    const or = 0.5 * (ai + bi);
    const oi = -0.5 * (ar - br);
    const angle = (2 * Math.PI * k) / n;
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    re[k] = er + c * or + s * oi;
    im[k] = ei + c * oi - s * or;
  }
  return { re, im };
}

/** |rfft(x)|², length ⌊n/2⌋+1. */
export function rfftPower(x: ArrayLike<number>): Float64Array {
  const { re, im } = rfft(x);
  const out = new Float64Array(re.length);
  for (let k = 0; k < out.length; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  return out;
}
