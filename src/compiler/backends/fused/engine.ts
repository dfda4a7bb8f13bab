// Where the fused kernel's graphs run: generated JavaScript over Float64Array (exact, for checks and
// hosts without WebAssembly SIMD) or generated WebAssembly SIMD over float32 (training). The kernel
// drives both through this interface; only the layout of a batched buffer differs.
import type { NormalSource } from "../interp/codegen.js";
import { lanesFor, Slot, WasmArena, WasmGraphExec } from "../wasm/exec.js";
import { GraphExec, type GraphSpec } from "./exec.js";

export type FloatArray = Float32Array | Float64Array;
export type Precision = "float32" | "float64";

export interface Exec<S> {
  readonly source: string;
  rng: NormalSource | undefined;
  /** ensembles: model m's noise source */
  rngs?: NormalSource[] | undefined;
  input(name: string): FloatArray;
  output(name: string): FloatArray;
  hasInput(name: string): boolean;
  attachIn(name: string, slot: S): void;
  attachOut(name: string, slot: S): void;
  /** Binds one model's parameters (ensembles: model e; else 0). */
  bind(params: Readonly<Record<string, FloatArray>>, model?: number): unknown;
  run(nb: number): void;
}

export interface Engine<S> {
  readonly precision: Precision;
  /** Element `i` of sample `b` of a batched buffer of per-sample size `n` is at `b * sample(n) + i * element`. */
  sample(n: number): number;
  readonly element: number;
  /** ensembles: lanes per model (model m's samples start at m * modelLanes) */
  readonly modelLanes?: number;
  /** An executor; `accumulate` outputs are added into their buffers (when `accumulates`). */
  exec(spec: GraphSpec, accumulate: string[]): Exec<S>;
  /** A batched buffer (tape slot) of per-sample size `n`. */
  slot(n: number): S;
  view(s: S): FloatArray;
  /**
   * Whether executors add `accumulate` outputs in place (else the kernel sums them itself): summed
   * over each model's real samples (set by `realSamples`) into four lanes per element: model m's
   * element i at 4 (m size + i) of the buffer.
   */
  readonly accumulates: boolean;
  /** The samples [0, B) of each model are real (accumulated outputs sum over them only). */
  realSamples?(B: number): void;
}

/** Generated JavaScript, float64, sample-major layout. */
export class JsEngine implements Engine<Float64Array> {
  readonly precision = "float64";
  readonly accumulates = false;
  constructor(readonly capacity: number) {}
  readonly element = 1;
  sample(n: number): number {
    return n;
  }
  exec(spec: GraphSpec): Exec<Float64Array> {
    return new GraphExec(spec, this.capacity);
  }
  slot(n: number): Float64Array {
    return new Float64Array(this.capacity * n);
  }
  view(s: Float64Array): Float64Array {
    return s;
  }
}

/** Generated WebAssembly SIMD, float32, batch-innermost layout (one memory for the whole kernel). */
export class WasmEngine implements Engine<Slot> {
  readonly precision = "float32";
  readonly accumulates = true;
  readonly arena = new WasmArena();
  /** lanes of a row: `models` blocks of `modelLanes` */
  readonly lanes: number;
  readonly modelLanes: number;
  /** One row of lane masks: all bits set on the real samples of each model. */
  private readonly laneMask: number;
  /** `models`: an ensemble of independent models side by side on the lanes. */
  constructor(readonly capacity: number, readonly models = 1) {
    this.modelLanes = lanesFor(capacity);
    this.lanes = models * this.modelLanes;
    this.laneMask = this.arena.alloc(4 * this.lanes);
  }
  realSamples(B: number): void {
    const m = new Uint32Array(this.arena.memory.buffer, this.laneMask, this.lanes).fill(0);
    for (let k = 0; k < this.models; k++) m.fill(0xffffffff, k * this.modelLanes, k * this.modelLanes + B);
  }
  get element(): number {
    return this.lanes;
  }
  sample(): number {
    return 1;
  }
  exec(spec: GraphSpec, accumulate: string[]): Exec<Slot> {
    return new WasmGraphExec(spec, this.capacity, this.arena, accumulate, this.models, this.laneMask);
  }
  slot(n: number): Slot {
    return new Slot(this.arena, this.arena.alloc(4 * n * this.lanes), n * this.lanes);
  }
  view(s: Slot): Float32Array {
    return s.view;
  }
}

let simd: boolean | undefined;

/** Whether this host compiles WebAssembly SIMD (Node ≥ 16.4 does). */
export function hasWasmSimd(): boolean {
  if (simd === undefined) {
    try {
      // (func (result v128) v128.const 0)
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);
      simd = WebAssembly.validate(bytes);
    } catch {
      simd = false;
    }
  }
  return simd;
}

export function makeEngine(precision: Precision, capacity: number, models = 1): Engine<unknown> {
  if (models > 1 && precision !== "float32") throw new Error("fused kernel: ensembles run on the float32 WebAssembly engine");
  return (precision === "float32" ? new WasmEngine(capacity, models) : new JsEngine(capacity)) as Engine<unknown>;
}
