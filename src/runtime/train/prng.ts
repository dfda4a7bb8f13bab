/**
 * rnnc's seeded pseudo-random number generator.
 *
 * Why our own: tfjs initializers ignore their seed argument, so every random number a run uses
 * (initialisation, batch order, noise) comes from here, and the full generator state is plain
 * JSON so a checkpoint can store it and `--resume` continues bit-exactly.
 *
 * Core: xoshiro128** 1.1 (Blackman & Vigna, 2018) — four 32-bit state words, so every operation
 * is exact with `Math.imul` and `>>> 0` in JS; period 2^128 − 1.
 *
 * Determinism across machines: integer paths are exact everywhere. `normal()` uses Math.log,
 * Math.sqrt, Math.cos and Math.sin; V8 implements the transcendental ones with its own fdlibm
 * port (not the platform libm), so results are identical across OSes for a given Node major.
 */

/** Ziggurat tables for the standard normal, 128 layers, 25-bit signed draws (Marsaglia & Tsang 2000). */
const ZIG_R = 3.442619855899;
const ZIG_K = new Float64Array(128);
const ZIG_W = new Float64Array(128);
const ZIG_F = new Float64Array(128);
{
  const m = 0x1000000; // 2^24: the magnitude range of a 25-bit signed draw
  const v = 9.91256303526217e-3; // area of each layer
  let d = ZIG_R;
  let t = d;
  const q = v / Math.exp(-0.5 * d * d);
  ZIG_K[0] = (d / q) * m;
  ZIG_K[1] = 0;
  ZIG_W[0] = q / m;
  ZIG_W[127] = d / m;
  ZIG_F[0] = 1;
  ZIG_F[127] = Math.exp(-0.5 * d * d);
  for (let i = 126; i >= 1; i--) {
    d = Math.sqrt(-2 * Math.log(v / d + Math.exp(-0.5 * d * d)));
    ZIG_K[i + 1] = (d / t) * m;
    t = d;
    ZIG_F[i] = Math.exp(-0.5 * d * d);
    ZIG_W[i] = d / m;
  }
}

/** The ziggurat's constants, for generators that draw addNormalNoise's stream elsewhere (wasm/normals.ts). */
export const ZIGGURAT = { R: ZIG_R, K: ZIG_K, W: ZIG_W, F: ZIG_F } as const;

/** Plain-JSON generator state (what checkpoints store). */
export interface PrngState {
  algorithm: "xoshiro128**";
  /** The four state words, each an unsigned 32-bit integer. */
  s: [number, number, number, number];
  /** Cached second value of the last Box–Muller pair, or null when none is pending. */
  spareNormal: number | null;
}

/** Arrays the fill helpers accept. */
export type NumericArray = number[] | Float32Array | Float64Array;

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const TWO_PI = 2 * Math.PI;

/** lowbias32 (C. Wellons): a bijective 32-bit avalanche mixer, used for seeding and forking. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Split a safe integer into its two's-complement 64-bit low/high words. */
function splitInt(n: number): [number, number] {
  return [n >>> 0, Math.floor(n / TWO_POW_32) >>> 0];
}

/**
 * Expand two 32-bit words into a 128-bit state. (a, b) is an injective function of (lo, hi), and
 * s0/s1 are bijections of a/b, so distinct inputs always give distinct states.
 */
function expand(lo: number, hi: number, tag: number): [number, number, number, number] {
  const a = mix32((lo + 0x9e3779b9 + tag) >>> 0);
  const b = mix32(((hi + 0x7f4a7c15) ^ a) >>> 0);
  const s: [number, number, number, number] = [
    mix32(a ^ 0x243f6a88),
    mix32(b ^ 0x85a308d3),
    mix32((a + b + 0x13198a2e) >>> 0),
    mix32((a ^ rotl(b, 16) ^ 0x03707344) >>> 0),
  ];
  return nonZero(s);
}

/** xoshiro's one forbidden state is all zeros. */
function nonZero(s: [number, number, number, number]): [number, number, number, number] {
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 0x9e3779b9;
  return s;
}

/** Two independent 32-bit hashes of a stream id; strings and numbers are tagged apart. */
function hashStreamId(id: string | number): [number, number] {
  if (typeof id === "number") {
    if (!Number.isSafeInteger(id)) throw new RangeError(`stream id must be a safe integer or a string, got ${id}`);
    const [lo, hi] = splitInt(id);
    return [mix32((lo ^ 0x6a09e667) >>> 0), mix32((hi ^ mix32(lo) ^ 0xbb67ae85) >>> 0)];
  }
  // FNV-1a over UTF-16 code units, two different offset bases, then mixed.
  let h1 = 0x811c9dc5;
  let h2 = 0x3c6ef372;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h2 >>> 13);
  }
  return [mix32((h1 ^ id.length) >>> 0), mix32((h2 ^ 0xa54ff53a ^ id.length) >>> 0)];
}

export class Prng {
  /**
   * The four state words. A typed array, not four number fields: words ≥ 2^30 are not small
   * integers in V8, so every field write would allocate a heap number (≈10x slower).
   */
  private readonly st = new Uint32Array(4);
  private spare: number | null = null;
  private get s0(): number { return this.st[0]!; }
  private set s0(v: number) { this.st[0] = v; }
  private get s1(): number { return this.st[1]!; }
  private set s1(v: number) { this.st[1] = v; }
  private get s2(): number { return this.st[2]!; }
  private set s2(v: number) { this.st[2] = v; }
  private get s3(): number { return this.st[3]!; }
  private set s3(v: number) { this.st[3] = v; }

  /** `seed`: any safe integer (negative ones too); seeds < 2^53 map to distinct states. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    const [lo, hi] = splitInt(seed);
    [this.s0, this.s1, this.s2, this.s3] = expand(lo, hi, 0);
  }

  /** The live state words (xoshiro128**), for generators that draw this stream elsewhere. */
  stateWords(): Uint32Array {
    return this.st;
  }

  /** A generator positioned at `state` (see getState). */
  static fromState(state: PrngState): Prng {
    const p = new Prng(0);
    p.setState(state);
    return p;
  }

  /** Next raw 32-bit output, an integer in [0, 2^32). */
  nextUint32(): number {
    const st = this.st;
    const s0 = st[0]!;
    const s1 = st[1]!;
    const s2 = st[2]! ^ s0;
    const s3 = st[3]! ^ s1;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    st[0] = s0 ^ s3;
    st[1] = s1 ^ s2;
    st[2] = s2 ^ (s1 << 9);
    st[3] = (s3 << 11) | (s3 >>> 21);
    return result;
  }

  /**
   * Uniform double in [0, 1) with 53-bit resolution (every multiple of 2^-53 equally likely).
   * Consumes two 32-bit outputs: the top 27 bits of the first and the top 26 of the second
   * (the same construction as MT19937's genrand_res53).
   */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /**
   * Standard normal via the basic Box–Muller transform. Values come in pairs; the second is
   * cached and is part of the serialised state, so a resume between the two is exact.
   */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: keeps log finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** Unbiased integer in [0, n), for 1 <= n <= 2^53 (rejection sampling, no modulo bias). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) && n !== TWO_POW_53) throw new RangeError(`int(n): n must be an integer, got ${n}`);
    if (n < 1) throw new RangeError(`int(n): n must be >= 1, got ${n}`);
    if (n <= TWO_POW_32) {
      // Reject the top (2^32 mod n) values so every residue is equally likely.
      const limit = TWO_POW_32 - (TWO_POW_32 % n);
      for (;;) {
        const x = this.nextUint32();
        if (x < limit) return x % n;
      }
    }
    const limit = TWO_POW_53 - (TWO_POW_53 % n);
    for (;;) {
      const x = (this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6);
      if (x < limit) return x % n;
    }
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`permutation(n): n must be a non-negative integer, got ${n}`);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return this.shuffle(out);
  }

  /** Shuffle in place (Fisher–Yates) and return the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /**
   * Fill with uniform values in [lo, hi). Note: writing into a Float32Array rounds to float32,
   * which can round a value just below `hi` up to `hi` itself.
   */
  fillUniform<A extends NumericArray>(arr: A, lo = 0, hi = 1): A {
    const width = hi - lo;
    for (let i = 0; i < arr.length; i++) arr[i] = lo + width * this.uniform();
    return arr;
  }

  /**
   * Add N(0, std²) noise to every element, by the ziggurat method (Marsaglia & Tsang 2000, with
   * the layer index drawn from bits independent of the value, after Leong et al. 2005): about
   * ten times faster than normal(), for bulk noise such as teacher noise. A different sequence
   * from normal() for the same state; the state is the generator's alone (no cached spare).
   * Elements [start, end) only, when given (a row of a batch without a subarray for it).
   */
  addNormalNoise<A extends NumericArray>(arr: A, std: number, start = 0, end = arr.length): A {
    for (let i = start; i < end; i++) {
      const u = this.nextUint32();
      const layer = u & 127;
      const hz = (u >>> 7) - 0x1000000; // signed 25-bit
      const x = (hz < 0 ? -hz : hz) < ZIG_K[layer]! ? hz * ZIG_W[layer]! : this.zigguratEdge(hz, layer);
      arr[i] = arr[i]! + std * x;
    }
    return arr;
  }

  /** The ziggurat's rejection steps (about 1.5% of draws): wedges and the tail beyond R. */
  private zigguratEdge(hz: number, layer: number): number {
    for (;;) {
      const x = hz * ZIG_W[layer]!;
      if (layer === 0) {
        // the tail: Marsaglia's exponential rejection for |x| > R
        let t: number;
        let y: number;
        do {
          t = -Math.log(1 - this.uniform()) / ZIG_R;
          y = -Math.log(1 - this.uniform());
        } while (y + y < t * t);
        return hz > 0 ? ZIG_R + t : -ZIG_R - t;
      }
      if (ZIG_F[layer]! + this.uniform() * (ZIG_F[layer - 1]! - ZIG_F[layer]!) < Math.exp(-0.5 * x * x)) return x;
      const u = this.nextUint32();
      layer = u & 127;
      hz = (u >>> 7) - 0x1000000;
      if ((hz < 0 ? -hz : hz) < ZIG_K[layer]!) return hz * ZIG_W[layer]!;
    }
  }

  /** Fill with N(mean, std²) values, in order (consumes cached spares like repeated normal()). */
  fillNormal<A extends NumericArray>(arr: A, mean = 0, std = 1): A {
    for (let i = 0; i < arr.length; i++) arr[i] = mean + std * this.normal();
    return arr;
  }

  /**
   * Derive an independent child stream keyed by `streamId` WITHOUT advancing this generator, so
   * `root.fork("init")` is the same however many other streams are forked, and in any order.
   * Each child word is a bijection of the parent word (keyed by the id's hash), so distinct parent
   * states give distinct children; the pending spare normal is not inherited.
   */
  fork(streamId: string | number): Prng {
    const [h1, h2] = hashStreamId(streamId);
    const words = [this.s0, this.s1, this.s2, this.s3];
    const child = new Prng(0);
    const s = words.map((w, i) => {
      const k1 = mix32((h1 + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
      const k2 = mix32((h2 ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
      return mix32(((mix32((w ^ k1) >>> 0) + k2) >>> 0));
    }) as [number, number, number, number];
    [child.s0, child.s1, child.s2, child.s3] = nonZero(s);
    return child;
  }

  /** Derive a child stream by consuming four outputs of this one (this generator advances). */
  split(): Prng {
    const child = new Prng(0);
    const s: [number, number, number, number] = [
      mix32((this.nextUint32() ^ 0x243f6a88) >>> 0),
      mix32((this.nextUint32() ^ 0x85a308d3) >>> 0),
      mix32((this.nextUint32() ^ 0x13198a2e) >>> 0),
      mix32((this.nextUint32() ^ 0x03707344) >>> 0),
    ];
    [child.s0, child.s1, child.s2, child.s3] = nonZero(s);
    return child;
  }

  /** An independent copy at the same position (including any cached spare normal). */
  clone(): Prng {
    return Prng.fromState(this.getState());
  }

  getState(): PrngState {
    return { algorithm: "xoshiro128**", s: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spare };
  }

  setState(state: PrngState): void {
    if (state === null || typeof state !== "object") throw new TypeError("PRNG state must be an object");
    if (state.algorithm !== "xoshiro128**") throw new Error(`unsupported PRNG algorithm '${String(state.algorithm)}'`);
    const s = state.s;
    if (!Array.isArray(s) || s.length !== 4 || !s.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)) {
      throw new Error("PRNG state 's' must be four unsigned 32-bit integers");
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new Error("PRNG state must not be all zeros");
    const spare = state.spareNormal;
    if (spare !== null && !(typeof spare === "number" && Number.isFinite(spare))) {
      throw new Error("PRNG state 'spareNormal' must be a finite number or null");
    }
    [this.s0, this.s1, this.s2, this.s3] = [s[0], s[1], s[2], s[3]];
    this.spare = spare;
  }
}
