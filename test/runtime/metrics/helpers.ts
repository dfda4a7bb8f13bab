/**
 * Test-only helpers for the metrics suite: a minimal .npy reader (little-endian f4/f8/i8,
 * C order — enough for our fixtures and the shared data files), fixture paths and a seeded RNG.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Rng } from "../../../src/runtime/metrics/rng.js";
import { columnStats, type Series } from "../../../src/runtime/metrics/series.js";

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, "..", "..", "fixtures", "metrics");

export interface NpyArray {
  data: Float32Array | Float64Array;
  shape: number[];
}

export function readNpy(path: string): NpyArray {
  const buf = readFileSync(path);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf.toString("latin1", 4, 6) !== "PY") throw new Error(`${path}: not a .npy file`);
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = buf.toString("latin1", headerStart, headerStart + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error(`${path}: bad header ${header}`);
  if (fortran === "True") throw new Error(`${path}: Fortran order not supported`);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = headerStart + headerLen;
  // copy into an aligned buffer
  const bytes = buf.subarray(offset);
  const ab = new ArrayBuffer(bytes.length);
  new Uint8Array(ab).set(bytes);
  let data: Float32Array | Float64Array;
  if (descr === "<f8") data = new Float64Array(ab, 0, count);
  else if (descr === "<f4") data = new Float32Array(ab, 0, count);
  else throw new Error(`${path}: dtype ${descr} not supported`);
  return { data, shape };
}

/** Loads a 2-D fixture as a Series (1-D arrays become [T, 1]). */
export function loadSeries(name: string): Series {
  return npyToSeries(readNpy(join(FIXTURES, `${name}.npy`)));
}

export function npyToSeries(a: NpyArray): Series {
  const T = a.shape[0]!;
  const N = a.shape.length > 1 ? a.shape[1]! : 1;
  return { data: a.data, T, N };
}

let expectedCache: any;
export function expected(): any {
  expectedCache ??= JSON.parse(readFileSync(join(FIXTURES, "expected.json"), "utf8"));
  return expectedCache;
}

export function sharedFile(rel: string): string | undefined {
  const p = join(here, "..", "..", "..", "..", "shared", rel);
  return existsSync(p) ? p : undefined;
}

/** Relative error |a − b| / |b| (absolute when b = 0). */
export function relErr(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

/** First `rows` rows of X (as float64). */
export function head(X: Series, rows: number): Series {
  return { data: Float64Array.from(X.data.subarray(0, rows * X.N)), T: rows, N: X.N };
}

/** Same construction as delay_embed() in make_fixtures.py: [x_t, y_t, z_t, x_{t−l1}, …]. */
export function delayEmbed(X: Series, lags: number[], rows: number): Series {
  const m = Math.max(...lags);
  const N = X.N + lags.length;
  const out = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    const t = m + r;
    for (let d = 0; d < X.N; d++) out[r * N + d] = X.data[t * X.N + d]!;
    lags.forEach((l, j) => {
      out[r * N + X.N + j] = X.data[(t - l) * X.N]!;
    });
  }
  return { data: out, T: rows, N };
}

/** mulberry32 + Box–Muller: a small seeded Rng for tests. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return {
    uniform,
    normal(): number {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = uniform();
      const v = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
  };
}

/** iid Gaussian sample with the mean and covariance of X (Cholesky of the sample covariance). */
export function gaussianLike(X: Series, rng: { normal(): number }): Series {
  const { T, N, data } = X;
  const { mean } = columnStats(X);
  const cov = Array.from({ length: N }, () => new Float64Array(N));
  for (let t = 0; t < T; t++)
    for (let i = 0; i < N; i++)
      for (let j = 0; j <= i; j++) cov[i]![j]! += (data[t * N + i]! - mean[i]!) * (data[t * N + j]! - mean[j]!);
  const L = Array.from({ length: N }, () => new Float64Array(N));
  for (let i = 0; i < N; i++)
    for (let j = 0; j <= i; j++) {
      let s = cov[i]![j]! / (T - 1);
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = i === j ? Math.sqrt(s) : s / L[j]![j]!;
    }
  const out = new Float64Array(T * N);
  const e = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < N; i++) e[i] = rng.normal();
    for (let i = 0; i < N; i++) {
      let s = mean[i]!;
      for (let k = 0; k <= i; k++) s += L[i]![k]! * e[k]!;
      out[t * N + i] = s;
    }
  }
  return { data: out, T, N };
}
