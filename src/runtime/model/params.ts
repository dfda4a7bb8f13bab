// Parameter values: initialization from the IR's init specs (with rnnc's seeded PRNG), and
// params.npz in and out (one array per parameter, named as in the spec, NumPy-readable).
import type { InitSpec, Param, Program } from "../../compiler/ir/types.js";
import { DataError } from "../data/errors.js";
import { readFileSync } from "node:fs";
import { readNpz, writeNpz, type NdArray } from "../data/npy.js";
import type { Prng } from "../train/prng.js";
import { spectralNorm } from "../linalg.js";

/** Raw (stored) parameter values, float32 row-major, keyed by spec name. */
export type ParamValues = Map<string, { shape: number[]; data: Float32Array }>;

export function storedShape(p: Param): number[] {
  return p.shape.map((d) => {
    if (typeof d !== "number") throw new Error(`parameter ${p.name}: shape not bound`);
    return d;
  });
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Statistics of the training data some initializers need (uniform_range). */
export interface DataStats {
  min: number;
  max: number;
}

/** (I + RᵀR/M) / max|eig|, R ~ N(0, 1): the PLRNN references' initial A + W. */
export function normalizedPd(n: number, rng: Prng): Float64Array {
  const r = new Float64Array(n * n);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += r[k * n + i]! * r[k * n + j]!;
      m[i * n + j] = s / n + (i === j ? 1 : 0);
    }
  }
  const lambda = spectralNorm(m, n, 1000);
  for (let i = 0; i < m.length; i++) m[i]! /= lambda;
  return m;
}

function orthogonal(rows: number, cols: number, rng: Prng): Float64Array {
  // Gram-Schmidt on the longer side of a Gaussian matrix.
  const tall = rows >= cols;
  const n = tall ? rows : cols;
  const k = tall ? cols : rows;
  const q: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    let v = new Float64Array(n);
    for (;;) {
      for (let i = 0; i < n; i++) v[i] = rng.normal();
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < n; i++) d += u[i]! * v[i]!;
        for (let i = 0; i < n; i++) v[i]! -= d * u[i]!;
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
      norm = Math.sqrt(norm);
      if (norm > 1e-8) {
        v = v.map((x) => x / norm);
        break;
      }
    }
    q.push(v);
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = tall ? q[j]![i]! : q[i]![j]!;
  return out;
}

function fans(shape: number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  // The last axis is the input; leading axes beyond the matrix (e.g. compartments) are stacked copies.
  return { fanIn: shape[shape.length - 1]!, fanOut: shape[shape.length - 2]! };
}

function num(x: unknown): number {
  if (typeof x !== "number") throw new Error("initializer argument not bound");
  return x;
}

/** Initial values of every parameter, deterministic in the PRNG's state. */
export function initParams(p: Program, rng: Prng, stats: (data: string) => DataStats): ParamValues {
  const out: ParamValues = new Map();
  const pdDraws = new Map<string, Float64Array>();
  const groupHasDiag = new Set(p.params.filter((x) => x.init.scheme === "normalized_pd" && x.structure === "diag").map((x) => (x.init as { group: string }).group));
  for (const prm of p.params) {
    const shape = storedShape(prm);
    const n = size(shape);
    const v = new Float64Array(n);
    const init: InitSpec = prm.init;
    const { fanIn, fanOut } = fans(prm.structure === "diag" ? [shape[0]!, shape[0]!] : shape);
    switch (init.scheme) {
      case "zeros": break;
      case "ones": v.fill(1); break;
      case "constant": v.fill(num(init.value)); break;
      case "uniform": for (let i = 0; i < n; i++) v[i] = num(init.lo) + (num(init.hi) - num(init.lo)) * rng.uniform(); break;
      case "normal": for (let i = 0; i < n; i++) v[i] = num(init.mean) + num(init.std) * rng.normal(); break;
      case "torch_default": {
        const b = 1 / Math.sqrt(fanIn);
        for (let i = 0; i < n; i++) v[i] = -b + 2 * b * rng.uniform();
        break;
      }
      case "glorot": {
        const b = Math.sqrt(6 / (fanIn + fanOut));
        for (let i = 0; i < n; i++) v[i] = -b + 2 * b * rng.uniform();
        break;
      }
      case "glorot_normal": {
        const s = Math.sqrt(2 / (fanIn + fanOut));
        for (let i = 0; i < n; i++) v[i] = s * rng.normal();
        break;
      }
      case "kaiming": {
        const s = Math.sqrt(2 / fanIn);
        for (let i = 0; i < n; i++) v[i] = s * rng.normal();
        break;
      }
      case "orthogonal": {
        const rows = shape[shape.length - 2]!;
        const cols = shape[shape.length - 1]!;
        for (let k = 0; k < n / (rows * cols); k++) v.set(orthogonal(rows, cols, rng), k * rows * cols);
        break;
      }
      case "identity": {
        if (prm.structure === "diag") v.fill(1);
        else for (let i = 0; i < Math.min(shape[0]!, shape[1]!); i++) v[i * shape[1]! + i] = 1;
        break;
      }
      case "normalized_pd": {
        const m = shape[0]!;
        let draw = pdDraws.get(init.group);
        if (!draw) {
          draw = normalizedPd(m, rng);
          pdDraws.set(init.group, draw);
        }
        if (prm.structure === "diag") for (let i = 0; i < m; i++) v[i] = draw[i * m + i]!;
        else {
          v.set(draw);
          // Shared with a diag parameter: this one is the off-diagonal part of the same draw.
          if (groupHasDiag.has(init.group)) for (let i = 0; i < m; i++) v[i * m + i] = 0;
        }
        break;
      }
      case "uniform_range": {
        const s = stats(init.data);
        const lo = init.negate ? -s.max : s.min;
        const hi = init.negate ? -s.min : s.max;
        for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rng.uniform();
        break;
      }
    }
    // Constraints act on the stored value; `positive` stores softplus⁻¹ of the initial value.
    if (prm.constraints.some((c) => c.kind === "positive")) {
      for (let i = 0; i < n; i++) {
        const x = Math.max(v[i]!, 1e-4);
        v[i] = x > 20 ? x : Math.log(Math.expm1(x));
      }
    }
    out.set(prm.name, { shape, data: Float32Array.from(v) });
  }
  return out;
}

export function paramsToNpz(values: ParamValues): Map<string, NdArray> {
  const m = new Map<string, NdArray>();
  for (const [k, v] of values) m.set(k, { dtype: "float32", shape: v.shape, data: v.data });
  return m;
}

export function saveParams(path: string, values: ParamValues): void {
  writeNpz(path, paramsToNpz(values));
}

export class ParamsMismatchError extends Error {
  override name = "ParamsMismatchError";
}

/** Read params.npz and check it against the spec: every difference is listed in one error. */
export function loadParams(path: string, p: Program, opts: ParamMap = {}): ParamValues {
  const out: ParamValues = new Map();
  for (const [k, v] of mappedArrays(path, p, opts)) out.set(k, { shape: v.shape, data: Float32Array.from(v.data) });
  return out;
}

/**
 * The parameters as loadParams checks and maps them, at the file's own precision (float64 files
 * stay float64): for analyses of hand-made models, which must see them exactly as written.
 */
export function loadParamsExact(path: string, p: Program, opts: ParamMap = {}): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [k, v] of mappedArrays(path, p, opts)) out[k] = Float64Array.from(v.data);
  return out;
}

function mappedArrays(path: string, p: Program, opts: ParamMap): Map<string, { shape: number[]; data: ArrayLike<number> }> {
  let arrays: Map<string, NdArray>;
  try {
    arrays = readNpz(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${path}: ${(e as Error).message}`);
  }
  const problems: string[] = [];
  const renamed = new Map<string, NdArray>();
  const taken = new Set<string>();
  for (const [name, t] of Object.entries(opts.take ?? {})) {
    const src = arrays.get(t.from);
    if (!src) {
      problems.push(`'${name}' is taken from '${t.from}', which is not in the file`);
      continue;
    }
    taken.add(t.from);
    try {
      renamed.set(name, takePart(src, t));
    } catch (e) {
      problems.push(`'${name}' from '${t.from}': ${(e as Error).message}`);
    }
  }
  for (const [k, v] of arrays) {
    if (taken.has(k) && opts.rename?.[k] === undefined) continue;
    const name = opts.rename?.[k] ?? k;
    if (opts.take?.[name]) problems.push(`'${name}' is both in the file and taken from '${opts.take[name]!.from}'`);
    else renamed.set(name, v);
  }
  const out = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
  for (const prm of p.params) {
    const want = storedShape(prm);
    let a = renamed.get(prm.name);
    if (!a) {
      problems.push(`missing '${prm.name}' (${prm.structure === "diag" ? "diag" : ""}[${want.join(", ")}])`);
      continue;
    }
    if (opts.transpose?.includes(prm.name)) {
      if (a.shape.length !== 2) {
        problems.push(`'${prm.name}' cannot be transposed: it is [${a.shape.join(", ")}]`);
        continue;
      }
      const [r, c] = a.shape as [number, number];
      const t = new Float64Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = a.data[i * c + j]!;
      a = { dtype: "float64", shape: [c, r], data: t };
    }
    if (a.shape.length !== want.length || a.shape.some((d, i) => d !== want[i])) {
      problems.push(`'${prm.name}' is [${a.shape.join(", ")}] in the file but [${want.join(", ")}] in the spec`);
      continue;
    }
    out.set(prm.name, { shape: want, data: a.data });
  }
  const known = new Set(p.params.map((x) => x.name));
  for (const k of renamed.keys()) if (!known.has(k)) problems.push(`unexpected '${k}' (not a parameter of the spec)`);
  if (problems.length) throw new ParamsMismatchError(`${path} does not match the spec's parameters:\n  - ${problems.join("\n  - ")}`);
  return out;
}

/**
 * How parameters exported elsewhere map onto the spec's:
 *   {"rename": {"fc.weight": "W_out"}, "transpose": ["W_out"],
 *    "take": {"Wi": {"from": "lstm.weight_ih_l0", "rows": [0, 64]}, "A": {"from": "AW", "diagonal": true}}}
 * `take` makes one spec parameter from part of a file array (PyTorch stacks an LSTM's four gates
 * in one matrix; the dendPLRNN code keeps A and W in one AW): a block of rows and/or columns
 * ([start, stop)), or the diagonal, then transposed if asked. The arrays a `take` reads may feed
 * several parameters.
 */
export interface ParamMap {
  rename?: Record<string, string>;
  transpose?: string[];
  take?: Record<string, TakeSpec>;
}

export interface TakeSpec {
  from: string;
  rows?: [number, number];
  cols?: [number, number];
  diagonal?: boolean;
  transpose?: boolean;
}

/** The part of a 2-D (or, for rows, 1-D) array a TakeSpec names. */
function takePart(a: NdArray, t: TakeSpec): NdArray {
  let shape = [...a.shape];
  let data = Float64Array.from(a.data);
  const block = (range: [number, number] | undefined, n: number, what: string): [number, number] => {
    if (!range) return [0, n];
    const [lo, hi] = range;
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo < hi && hi <= n)) throw new Error(`${what} [${lo}, ${hi}) is outside 0..${n}`);
    return [lo, hi];
  };
  if (t.rows || t.cols) {
    if (shape.length === 1 && !t.cols) {
      const [r0, r1] = block(t.rows, shape[0]!, "rows");
      data = data.slice(r0, r1);
      shape = [r1 - r0];
    } else {
      if (shape.length !== 2) throw new Error(`a block needs a matrix, the array is [${shape.join(", ")}]`);
      const [R, C] = shape as [number, number];
      const [r0, r1] = block(t.rows, R, "rows");
      const [c0, c1] = block(t.cols, C, "cols");
      const out = new Float64Array((r1 - r0) * (c1 - c0));
      for (let i = r0; i < r1; i++) for (let j = c0; j < c1; j++) out[(i - r0) * (c1 - c0) + (j - c0)] = data[i * C + j]!;
      data = out;
      shape = [r1 - r0, c1 - c0];
    }
  }
  if (t.diagonal) {
    if (shape.length !== 2 || shape[0] !== shape[1]) throw new Error(`a diagonal needs a square matrix, the part is [${shape.join(", ")}]`);
    const n = shape[0]!;
    data = Float64Array.from({ length: n }, (_, i) => data[i * n + i]!);
    shape = [n];
  }
  if (t.transpose) {
    if (shape.length !== 2) throw new Error(`cannot transpose [${shape.join(", ")}]`);
    const [r, c] = shape as [number, number];
    const out = new Float64Array(r * c);
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j]!;
    data = out;
    shape = [c, r];
  }
  return { dtype: "float64", shape, data };
}

/** Read and validate a --param-map JSON file. */
export function readParamMap(path: string): ParamMap {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new DataError(`${path}: not a readable JSON parameter map (${(e as Error).message})`);
  }
  const bad = (what: string) => new DataError(`${path}: ${what}; expected {"rename": {"name in file": "name in spec"}, "transpose": ["name in spec"], "take": {"name in spec": {"from": "name in file", "rows": [start, stop], "cols": [start, stop], "diagonal": true, "transpose": true}}}`);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw bad("not a JSON object");
  const { rename, transpose, take, ...extra } = raw as Record<string, unknown>;
  if (Object.keys(extra).length) throw bad(`unknown key${Object.keys(extra).length > 1 ? "s" : ""} ${Object.keys(extra).map((k) => `'${k}'`).join(", ")}`);
  if (rename !== undefined && (typeof rename !== "object" || rename === null || Array.isArray(rename) || Object.values(rename).some((v) => typeof v !== "string"))) throw bad("'rename' must map names to names");
  if (transpose !== undefined && (!Array.isArray(transpose) || transpose.some((v) => typeof v !== "string"))) throw bad("'transpose' must be a list of names");
  const range = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x)));
  const isTake = (v: unknown): v is TakeSpec => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const { from, rows, cols, diagonal, transpose: tr, ...rest } = v as Record<string, unknown>;
    return typeof from === "string" && range(rows) && range(cols) && (diagonal === undefined || typeof diagonal === "boolean") && (tr === undefined || typeof tr === "boolean") && Object.keys(rest).length === 0;
  };
  if (take !== undefined && (typeof take !== "object" || take === null || Array.isArray(take) || !Object.values(take).every(isTake))) throw bad("each 'take' entry must be {\"from\": name, optional \"rows\"/\"cols\": [start, stop], \"diagonal\", \"transpose\"}");
  return {
    ...(rename ? { rename: rename as Record<string, string> } : {}),
    ...(transpose ? { transpose: transpose as string[] } : {}),
    ...(take ? { take: take as Record<string, TakeSpec> } : {}),
  };
}
