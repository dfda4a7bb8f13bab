// Loads the data sets a program declares: built-in generators or files, with train/test splits.
import type { DataSource, Program } from "../../compiler/ir/types.js";
import { DataError } from "./errors.js";
import { generate } from "./generators.js";
import { loadSeries } from "./load.js";
import type { NdArray } from "./npy.js";
import type { Rng } from "./rng-types.js";
import { generateTask, TASKS } from "./tasks.js";

export interface SeriesData {
  kind: "series";
  name: string;
  /** [T, N] */
  train: NdArray;
  /** [T_test, N]; the training data when none was given. */
  test: NdArray;
  /** Shown in logs: where the data came from. */
  description: string;
}

export interface TaskSplit {
  /** [S, T, I], [S, T, O], [S, T, O] (1 where the loss counts). */
  input: NdArray;
  target: NdArray;
  mask: NdArray;
}

export interface TaskData {
  kind: "task";
  name: string;
  train: TaskSplit;
  test: TaskSplit;
  description: string;
}

export type LoadedData = SeriesData | TaskData;

/** Sizes the dims of the program bind to: "lorenz.features" → 3. */
export function dataSizes(data: Map<string, LoadedData>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, d] of data) {
    if (d.kind === "series") out[`${name}.features`] = d.train.shape[d.train.shape.length - 1]!;
    else {
      out[`${name}.inputs`] = d.train.input.shape[2]!;
      out[`${name}.targets`] = d.train.target.shape[2]!;
    }
  }
  return out;
}

function as2d(a: NdArray, what: string): NdArray {
  if (a.shape.length === 2) return a;
  throw new DataError(`${what}: expected a [T, N] trajectory, got an array of shape [${a.shape.join(", ")}]`);
}

function standardize(train: NdArray, others: NdArray[]): void {
  const [T, N] = train.shape as [number, number];
  for (let j = 0; j < N; j++) {
    let m = 0;
    for (let t = 0; t < T; t++) m += train.data[t * N + j]!;
    m /= T;
    let v = 0;
    for (let t = 0; t < T; t++) v += (train.data[t * N + j]! - m) ** 2;
    const s = Math.sqrt(v / Math.max(1, T - 1)) || 1;
    for (const a of [train, ...others]) {
      const rows = a.shape[0]!;
      for (let t = 0; t < rows; t++) a.data[t * N + j] = (a.data[t * N + j]! - m) / s;
    }
  }
}

export interface LoadDataOptions {
  /** Directory relative file paths are resolved against (the spec's folder). */
  baseDir?: string;
  /** Replaces the spec's first data set with a file (`rnnc train --data`). */
  dataFile?: string;
  testFile?: string;
  rng: (stream: string) => Rng;
}

export function loadData(p: Program, opts: LoadDataOptions): Map<string, LoadedData> {
  const out = new Map<string, LoadedData>();
  p.data.forEach((src, i) => {
    const override = i === 0 && opts.dataFile ? opts.dataFile : undefined;
    out.set(src.name, loadOne(src, override, i === 0 ? opts.testFile : undefined, opts));
  });
  return out;
}

function loadOne(src: DataSource, dataFile: string | undefined, testFile: string | undefined, opts: LoadDataOptions): LoadedData {
  if (src.kind === "builtin" && !dataFile) {
    if (TASKS[src.generator]) {
      const t = generateTask(src.generator, src.args, opts.rng(`data:${src.name}:${Number(src.args["seed"] ?? 0)}`));
      return { kind: "task", name: src.name, train: t.train, test: t.test, description: `builtin.${src.generator}` };
    }
    const { seed, ...args } = src.args;
    void seed; // the seed picks the PRNG stream below
    const g = generate(src.generator, args as Record<string, number | boolean>, opts.rng(`data:${src.name}:${Number(seed ?? 0)}`));
    return {
      kind: "series",
      name: src.name,
      train: g.train,
      // read when needed: generate() integrates the test split lazily
      get test() {
        return g.test;
      },
      // The arguments that shape the data; config.json records all of them.
      description: `builtin.${src.generator}(${["steps", "test_steps", "dt", "noise"].filter((k) => k in g.meta.args).map((k) => `${k} = ${g.meta.args[k]}`).join(", ")})`,
    };
  }
  const path = dataFile ?? (src as Extract<DataSource, { kind: "file" }>).path;
  const member = src.kind === "file" ? src.args["member"] : undefined;
  const spec = member ? `${path}:${member}` : path;
  const train = as2d(loadSeries(spec, opts.baseDir && !dataFile ? { baseDir: opts.baseDir } : {}), path);
  const testPath = testFile ?? (src.kind === "file" && !dataFile ? src.test : undefined);
  let test: NdArray;
  let trainPart = train;
  if (testPath) {
    test = as2d(loadSeries(testPath, opts.baseDir && !testFile ? { baseDir: opts.baseDir } : {}), testPath);
    if (test.shape[1] !== train.shape[1]) throw new DataError(`${testPath}: the test data have ${test.shape[1]} features but the training data ${train.shape[1]}`);
  } else {
    const split = src.kind === "file" ? Number(src.args["split"] ?? 0) : 0;
    if (split > 0) {
      const [T, N] = train.shape as [number, number];
      const cut = Math.round(T * (1 - split));
      trainPart = { dtype: train.dtype, shape: [cut, N], data: train.data.slice(0, cut * N) };
      test = { dtype: train.dtype, shape: [T - cut, N], data: train.data.slice(cut * N) };
    } else test = train;
  }
  const copy = (a: NdArray): NdArray => ({ dtype: "float32", shape: a.shape, data: Float32Array.from(a.data) });
  trainPart = copy(trainPart);
  test = test === train ? trainPart : copy(test);
  if (src.kind === "file" && src.args["standardize"] === true) standardize(trainPart, test === trainPart ? [] : [test]);
  return { kind: "series", name: src.name, train: trainPart, test, description: testPath ? `${path} (test: ${testPath})` : path };
}

/** Global min and max over all entries of a data set's training part (for uniform_range). */
export function dataRange(d: LoadedData): { min: number; max: number } {
  const arr = d.kind === "series" ? d.train.data : d.train.input.data;
  let min = Infinity;
  let max = -Infinity;
  // an indexed loop: the array iterator is several times slower on long series
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}
