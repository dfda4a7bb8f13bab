/**
 * tfjs backend selection: `--backend auto|node-gpu|node|wasm|cpu`.
 *
 * - node-gpu / node: `@tensorflow/tfjs-node-gpu` / `@tensorflow/tfjs-node` are optional peer
 *   dependencies (their install downloads libtensorflow, impossible on many machines), so they
 *   are loaded with a guarded dynamic import(). EVERY error is caught: not installed, a native
 *   addon or CUDA library that fails to dlopen at load, a second copy of tfjs-core, a backend that
 *   registers but fails to initialise, or one that initialises but cannot run an op.
 * - wasm: `@tensorflow/tfjs-backend-wasm` (a real dependency); its .wasm binaries are loaded from
 *   the installed package's dist/ folder on disk, so it initialises offline. Single-threaded in
 *   Node (the threaded build cannot spawn its workers there).
 * - cpu: the pure-JS backend registered by `@tensorflow/tfjs`; always present.
 *
 * `auto` tries node-gpu → node → wasm → cpu. wasm comes before cpu because it is faster for the
 * small ops of RNN training. Measured here (2 vCPUs shared with other jobs, Node 20, tfjs 4.22,
 * backends interleaved, best of 20 runs, wasm vs cpu): matMul [16,20]×[20,20] 5.9 vs 37 µs per op;
 * add [16,20] 6.9 vs 17 µs; one PLRNN forward time step (5 ops, S=16, M=20) 48 vs 81 µs; a 50-step
 * forward+backward with tf.variableGrads 21 vs 27 ms; one RAdam step on 3 parameters 0.26 vs
 * 0.42 ms. See also /work/shared/reference/tfjs-performance.md (`cpu` is up to 5× slower on
 * broadcasting ops).
 *
 * Selection changes tfjs's global engine state: do not run two selections concurrently.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";

export type Tf = typeof tf;
export type BackendName = "node-gpu" | "node" | "wasm" | "cpu";
export type BackendChoice = "auto" | BackendName;

/** Loads a module by specifier; injectable so tests can fake native modules. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

export interface BackendAttempt {
  name: BackendName;
  reason: string;
}

export interface BackendSelection {
  /** The rnnc backend chosen. */
  name: BackendName;
  /** The tfjs backend now active: "tensorflow" (node-gpu / node), "wasm" or "cpu". */
  tfBackend: string;
  /** The tfjs namespace to use (the native packages share its engine; that is checked). */
  tf: Tf;
  /** For `auto`: the better backends that were tried first, and why each failed. */
  fellBackFrom?: BackendAttempt[];
  /** Extra facts worth a log line (e.g. tfjs-node-gpu running without a GPU device). */
  notes?: string[];
}

export interface SelectBackendOptions {
  /** Defaults to the native dynamic `import()`. */
  importer?: ModuleImporter;
  /** Folder (or URL prefix) holding the tfjs-backend-wasm *.wasm files; default: the package's dist/. */
  wasmPaths?: string;
}

/** The order `auto` tries, best first. */
export const AUTO_ORDER: readonly BackendName[] = ["node-gpu", "node", "wasm", "cpu"];

export const BACKEND_PACKAGES = {
  "node-gpu": "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
  wasm: "@tensorflow/tfjs-backend-wasm",
} as const;

/** The tfjs engine backend name each rnnc backend activates. */
const TF_BACKEND_NAME: Record<BackendName, string> = { "node-gpu": "tensorflow", node: "tensorflow", wasm: "wasm", cpu: "cpu" };

/** The requested backend (or, for `auto`, every backend) could not be initialised. */
export class BackendUnavailableError extends Error {
  override readonly name = "BackendUnavailableError";
  constructor(
    readonly choice: BackendChoice,
    readonly attempts: readonly BackendAttempt[],
  ) {
    const head =
      choice === "auto"
        ? "No tfjs backend could be initialised."
        : `The tfjs backend '${choice}' is not available.`;
    const tried = attempts.map((a) => `  - ${a.name}: ${a.reason}`).join("\n");
    const hint = choice === "auto" ? "" : "\nUse --backend auto to fall back to the best available backend.";
    super(`${head}\nTried:\n${tried}${hint}`);
  }
}

const defaultImporter: ModuleImporter = (specifier) => import(specifier);

function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

function firstLine(s: string): string {
  const line = s.split("\n").find((l) => l.trim() !== "") ?? s;
  return line.trim();
}

function tfjsVersion(): string {
  return tf.version.tfjs;
}

/** Whether `pkg` can be found on disk from here (independent of whether it loads). */
function isResolvable(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why an import() failed, distinguishing "not installed" from "installed but broken". Loaders
 * word a missing package differently (Node: ERR_MODULE_NOT_FOUND "Cannot find package 'x'";
 * Vite/vitest: "Could not resolve \"x\""), so a not-found-looking error counts as "not installed"
 * when it names the package itself or the package is not on disk; a missing sub-dependency of an
 * installed package is reported as a load failure.
 */
function describeImportError(pkg: string, e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const msg = firstLine(errorMessage(e));
  const looksNotFound =
    code === "ERR_MODULE_NOT_FOUND" ||
    code === "MODULE_NOT_FOUND" ||
    /cannot find (package|module)|could not resolve|failed to (load|resolve)/i.test(msg);
  const namesPkg = msg.includes(`'${pkg}'`) || msg.includes(`"${pkg}"`);
  if (looksNotFound && (namesPkg || !isResolvable(pkg))) {
    return `${pkg} is not installed (optional peer dependency: npm install ${pkg}@${tfjsVersion()})`;
  }
  return `${pkg} is installed but failed to load: ${msg}`;
}

/** The tfjs-core engine a loaded module uses, if it exports one (ESM or CJS interop shape). */
function engineOf(mod: unknown): unknown {
  const ns = mod as Record<string, unknown> | null;
  const direct = ns?.engine;
  const viaDefault = (ns?.default as Record<string, unknown> | undefined)?.engine;
  const fn = typeof direct === "function" ? direct : typeof viaDefault === "function" ? viaDefault : undefined;
  return fn ? (fn as () => unknown)() : undefined;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return typeof (x as { then?: unknown } | null)?.then === "function";
}

/**
 * Make `name` the active tfjs backend and check that it runs an op. Returns null on success,
 * else the reason. The engine only logs initialisation errors, so the registered factory is
 * wrapped for the duration of the call to capture the error itself.
 */
async function activate(name: string): Promise<string | null> {
  const entry = tf.engine().registryFactory[name];
  if (entry === undefined) return `no tfjs backend named '${name}' is registered`;
  const original = entry.factory;
  let initError: unknown;
  entry.factory = () => {
    try {
      const b = original();
      if (isThenable(b)) {
        return Promise.resolve(b).catch((e: unknown) => {
          initError = e;
          throw e;
        }) as ReturnType<typeof original>;
      }
      return b;
    } catch (e) {
      initError = e;
      throw e;
    }
  };
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    initError ??= e;
  } finally {
    entry.factory = original;
  }
  if (!ok || tf.getBackend() !== name) {
    const why = initError === undefined ? "tf.setBackend returned false" : firstLine(errorMessage(initError));
    return `backend '${name}' failed to initialise: ${why}`;
  }
  if (name === "cpu") {
    // The cpu backend prints a "install tfjs-node to speed things up" banner on first use; the
    // selection is deliberate and logged, so mark the banner as shown.
    const cpu = tf.backend() as unknown as { firstUse?: boolean };
    if (cpu.firstUse === true) cpu.firstUse = false;
  }
  try {
    const v = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.scalar(1)).dataSync());
    if (v[0] !== 2 || v[1] !== 3) return `backend '${name}' initialised but computed 1+[1,2] = [${Array.from(v)}]`;
  } catch (e) {
    return `backend '${name}' initialised but a test op failed: ${firstLine(errorMessage(e))}`;
  }
  return null;
}

/** The folder with tfjs-backend-wasm's .wasm binaries in the installed package (with a trailing separator). */
export function defaultWasmDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main entry is dist/tf-backend-wasm.node.js; the binaries sit beside it.
  return path.dirname(require.resolve(BACKEND_PACKAGES.wasm)) + path.sep;
}

type Outcome = { ok: true; notes?: string[] } | { ok: false; reason: string };

async function tryNative(name: "node-gpu" | "node", importer: ModuleImporter): Promise<Outcome> {
  const pkg = BACKEND_PACKAGES[name];
  let mod: unknown;
  try {
    mod = await importer(pkg);
  } catch (e) {
    return { ok: false, reason: describeImportError(pkg, e) };
  }
  const theirEngine = engineOf(mod);
  if (theirEngine !== undefined && theirEngine !== tf.engine()) {
    return {
      ok: false,
      reason:
        `${pkg} loaded a different copy of @tensorflow/tfjs-core than rnnc, so its backend is invisible here; ` +
        `install ${pkg}@${tfjsVersion()} to match @tensorflow/tfjs ${tfjsVersion()} (npm then shares one copy)`,
    };
  }
  const failure = await activate(TF_BACKEND_NAME[name]);
  if (failure !== null) return { ok: false, reason: `${pkg} loaded, but ${failure}` };
  const notes: string[] = [];
  const usingGpu = (tf.backend() as unknown as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
  if (name === "node-gpu" && usingGpu === false) notes.push("tfjs-node-gpu found no usable GPU device; TensorFlow runs on the CPU");
  return notes.length > 0 ? { ok: true, notes } : { ok: true };
}

async function tryWasm(importer: ModuleImporter, wasmPaths: string | undefined): Promise<Outcome> {
  const pkg = BACKEND_PACKAGES.wasm;
  let mod: { setWasmPaths?: unknown } | undefined;
  try {
    mod = (await importer(pkg)) as { setWasmPaths?: unknown };
  } catch (e) {
    return { ok: false, reason: describeImportError(pkg, e) };
  }
  // Paths only matter before the first initialisation; afterwards the module is already loaded.
  if (tf.engine().registry["wasm"] === undefined) {
    let dir: string;
    try {
      dir = wasmPaths ?? defaultWasmDir();
    } catch (e) {
      return { ok: false, reason: `cannot locate the ${pkg} package folder: ${firstLine(errorMessage(e))}` };
    }
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(dir)) {
      const present = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"].filter((f) => fs.existsSync(path.join(dir, f)));
      if (present.length === 0) return { ok: false, reason: `no tfjs-backend-wasm*.wasm binaries in ${dir}` };
      if (!dir.endsWith("/") && !dir.endsWith(path.sep)) dir += path.sep;
    }
    const setWasmPaths = mod?.setWasmPaths ?? (mod as { default?: { setWasmPaths?: unknown } })?.default?.setWasmPaths;
    if (typeof setWasmPaths !== "function") return { ok: false, reason: `${pkg} does not export setWasmPaths` };
    try {
      (setWasmPaths as (p: string) => void)(dir);
    } catch (e) {
      return { ok: false, reason: `setWasmPaths failed: ${firstLine(errorMessage(e))}` };
    }
  }
  const failure = await activate("wasm");
  return failure === null ? { ok: true } : { ok: false, reason: failure };
}

async function tryBackend(name: BackendName, options: SelectBackendOptions): Promise<Outcome> {
  const importer = options.importer ?? defaultImporter;
  try {
    switch (name) {
      case "node-gpu":
      case "node":
        return await tryNative(name, importer);
      case "wasm":
        return await tryWasm(importer, options.wasmPaths);
      case "cpu": {
        const failure = await activate("cpu");
        return failure === null ? { ok: true } : { ok: false, reason: failure };
      }
    }
  } catch (e) {
    // Belt and braces: nothing a backend does may escape as anything but a reason.
    return { ok: false, reason: `unexpected error: ${firstLine(errorMessage(e))}` };
  }
}

/** Put the previously active backend back after a failed explicit selection. */
async function restore(previous: string | null): Promise<void> {
  if (previous === null || tf.engine().registryFactory[previous] === undefined) return;
  try {
    await tf.setBackend(previous);
  } catch {
    // Nothing better to do; the caller gets the selection error anyway.
  }
}

/**
 * Activate the requested tfjs backend. An explicit choice that cannot be initialised throws
 * BackendUnavailableError (never a silent fallback); `auto` takes the first of AUTO_ORDER that
 * works and reports the ones it skipped in `fellBackFrom`.
 */
export async function selectBackend(choice: BackendChoice, options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const order: readonly BackendName[] = choice === "auto" ? AUTO_ORDER : [choice];
  if (choice !== "auto" && !AUTO_ORDER.includes(choice)) {
    throw new RangeError(`unknown backend '${String(choice)}' (expected auto, ${AUTO_ORDER.join(", ")})`);
  }
  const previous = (tf.engine().backendName as string | null | undefined) ?? null;
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const outcome = await tryBackend(name, options);
    if (outcome.ok) {
      const selection: BackendSelection = { name, tfBackend: tf.getBackend(), tf };
      if (attempts.length > 0) selection.fellBackFrom = attempts;
      if (outcome.notes) selection.notes = outcome.notes;
      return selection;
    }
    attempts.push({ name, reason: outcome.reason });
  }
  await restore(previous);
  throw new BackendUnavailableError(choice, attempts);
}

/** One log line, e.g. "backend wasm (tfjs 4.22.0); skipped node-gpu: … ; node: …". */
export function describeBackendSelection(sel: BackendSelection): string {
  let s = `backend ${sel.name} (tfjs ${sel.tf.version.tfjs}, engine backend '${sel.tfBackend}')`;
  if (sel.fellBackFrom && sel.fellBackFrom.length > 0) {
    s += `; skipped ${sel.fellBackFrom.map((a) => `${a.name}: ${a.reason}`).join("; ")}`;
  }
  if (sel.notes && sel.notes.length > 0) s += `; note: ${sel.notes.join("; ")}`;
  return s;
}
