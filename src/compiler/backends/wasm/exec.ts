// Runs one graph's generated WebAssembly over buffers in a shared memory (the arena): the fused
// tier's forward, tape and adjoint graphs all live in one memory so that a tape slot written by the
// forward is read in place by the adjoint (attachIn/attachOut rewrite an address table, no copy).
// Unbatched values are computed by the interpreter's hoist code in float64 when the parameters
// change, then stored as float32.
import { planSpec, type GraphSpec } from "../fused/exec.js";
import { compileFactory, type NormalSource } from "../interp/codegen.js";
import type { GraphPlan } from "../interp/plan.js";
import { generateWasm, IMPORTS } from "./codegen.js";
import { WasmNormals } from "./normals.js";


/** Float32 lanes per batch row for a batch capacity: whole vectors, whole unrolled blocks of 8 beyond 32. */
export function lanesFor(capacity: number): number {
  const v = Math.ceil(Math.max(1, capacity) / 4);
  return (v <= 8 ? v : Math.ceil(v / 8) * 8) * 4;
}

/** A growable WebAssembly memory with a bump allocator (16-byte aligned, never freed). */
export class WasmArena {
  readonly memory = new WebAssembly.Memory({ initial: 1 });
  private top = 16;
  private normalSource: WasmNormals | null = null;

  /** The noise generator drawing into this memory (made on first use). */
  get normals(): WasmNormals {
    return (this.normalSource ??= new WasmNormals(this));
  }

  alloc(bytes: number): number {
    const p = this.top;
    this.top = p + Math.ceil(bytes / 16) * 16;
    const need = Math.ceil(this.top / 65536) - this.memory.buffer.byteLength / 65536;
    if (need > 0) this.memory.grow(need);
    return p;
  }

  /** Bytes in use. */
  get used(): number {
    return this.top;
  }
}

/** A batched buffer in the arena: `size` rows of `lanes` float32s. Views are re-made after growth. */
export class Slot {
  private cache: Float32Array | null = null;
  constructor(private readonly arena: WasmArena, readonly ptr: number, readonly length: number) {}

  get view(): Float32Array {
    const buf = this.arena.memory.buffer;
    if (!this.cache || this.cache.buffer !== buf) this.cache = new Float32Array(buf, this.ptr, this.length);
    return this.cache;
  }
}

const MATH = {
  tanh: Math.tanh,
  exp: Math.exp,
  log: Math.log,
  sigm: (x: number) => {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  },
  softplus: (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  pw: (a: number, b: number) => {
    if (a === 1 || b === 0) return 1;
    if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
    return Math.pow(a, b);
  },
};
for (const f of IMPORTS) if (!(f.name in MATH)) throw new Error(`wasm: no host function for ${f.name}`);

const moduleCache = new Map<string, WebAssembly.Module>();

export class WasmGraphExec {
  readonly plan: GraphPlan;
  /** lanes of a row: `models` blocks of `modelLanes` */
  readonly lanes: number;
  readonly modelLanes: number;
  readonly source: string;
  /** The noise source; ensembles draw model e's lanes from `rngs[e]`. */
  rng: NormalSource | undefined;
  rngs: NormalSource[] | undefined;
  private readonly xSlots: Slot[];
  private readonly table: Slot;
  private readonly inIdx = new Map<string, number>();
  private readonly outIdx = new Map<string, number>();
  private readonly pSlots: { ptr: number; n: number }[];
  private readonly hSlots: { ptr: number; n: number }[];
  private readonly P64: Float64Array[];
  private readonly H64: Float64Array[];
  private readonly hoist: () => void;
  private readonly runWasm: () => void;

  /**
   * `accumulate`: outputs added into their buffers instead of overwriting them. `models`: an
   * ensemble of that many independent models, each with `capacity` samples and its own parameters.
   * `laneMask`: the address of a row of lane masks; accumulated outputs are then summed over each
   * model's masked lanes into four lanes per element (codegen.ts, WasmLayout.laneMask).
   */
  constructor(spec: GraphSpec, readonly capacity: number, private readonly arena: WasmArena, accumulate: string[] = [], readonly models = 1, laneMask?: number) {
    this.plan = planSpec(spec, new Set(accumulate));
    this.modelLanes = lanesFor(capacity);
    const lanes = (this.lanes = models * this.modelLanes);
    const plan = this.plan;
    this.pSlots = plan.paramSizes.map((n) => ({ ptr: arena.alloc(4 * n * models), n }));
    this.hSlots = plan.h.map((n) => ({ ptr: arena.alloc(4 * n * models), n }));
    const tPtrs = plan.t.map((n) => arena.alloc(4 * n * lanes));
    this.xSlots = plan.x.map((b) => new Slot(arena, arena.alloc(4 * b.size * lanes), b.size * lanes));
    const tablePtr = arena.alloc(4 * plan.x.length);
    this.table = new Slot(arena, tablePtr, plan.x.length);
    plan.x.forEach((b, i) => {
      if (b.role === "in") this.inIdx.set(b.key, i);
      else if (b.role === "out") this.outIdx.set(b.key, i);
      this.setAddress(i, this.xSlots[i]!.ptr);
    });
    const acc = new Set(accumulate.map((k) => this.outIdx.get(k)!));
    const code = generateWasm(plan, {
      lanes,
      models,
      modelLanes: this.modelLanes,
      p: this.pSlots.map((s) => s.ptr),
      h: this.hSlots.map((s) => s.ptr),
      pStride: this.pSlots.map((s) => 4 * s.n),
      hStride: this.hSlots.map((s) => 4 * s.n),
      t: tPtrs,
      xTable: tablePtr,
      ...(laneMask !== undefined ? { laneMask } : {}),
    }, acc);
    this.source = code.wat;
    let module = moduleCache.get(code.wat);
    if (!module) {
      module = new WebAssembly.Module(code.bytes);
      if (moduleCache.size > 256) moduleCache.clear();
      moduleCache.set(code.wat, module);
    }
    const instance = new WebAssembly.Instance(module, { env: { mem: arena.memory }, math: MATH });
    this.runWasm = instance.exports["run"] as () => void;
    // unbatched values: the interpreter's hoist code in float64
    this.P64 = plan.paramSizes.map((n) => new Float64Array(n));
    this.H64 = plan.h.map((n) => new Float64Array(n));
    this.hoist = compileFactory(plan, 1, [], "float64")(this.P64, [], [], this.H64, this).hoist;
  }

  /** The exported step function (for the sequence driver, which calls it directly). */
  get runFunction(): () => void {
    return this.runWasm;
  }

  /** Address of the table entry of an input, output or noise buffer (the driver rewrites it). */
  entry(role: "in" | "out" | "noise", key: string): number {
    const i = this.plan.x.findIndex((b) => b.role === role && b.key === key);
    if (i < 0) throw new Error(`${this.plan.graph}: no ${role} buffer '${key}'`);
    return this.table.ptr + 4 * i;
  }

  /** Current address of an input or output buffer. */
  address(role: "in" | "out", key: string): number {
    return this.xSlot(role === "in" ? this.inIdx : this.outIdx, key).ptr;
  }

  /** The noise buffers: value name and per-sample size. */
  get noiseBuffers(): { key: string; size: number }[] {
    return this.plan.x.filter((b) => b.role === "noise").map((b) => ({ key: b.key, size: b.size }));
  }

  private setAddress(x: number, ptr: number): void {
    new Int32Array(this.arena.memory.buffer, this.table.ptr, this.plan.x.length)[x] = ptr;
  }

  input(name: string): Float32Array {
    return this.xSlot(this.inIdx, name).view;
  }

  output(name: string): Float32Array {
    return this.xSlot(this.outIdx, name).view;
  }

  hasInput(name: string): boolean {
    return this.inIdx.has(name);
  }

  private xSlot(idx: Map<string, number>, name: string): Slot {
    const i = idx.get(name);
    if (i === undefined) throw new Error(`${this.plan.graph}: no buffer '${name}'`);
    return this.xSlots[i]!;
  }

  /** Reads an input from `slot` (no copy) until attached elsewhere. */
  attachIn(name: string, slot: Slot): void {
    const i = this.inIdx.get(name)!;
    this.xSlots[i] = slot;
    this.setAddress(i, slot.ptr);
  }

  /** Writes an output into `slot` (no copy) until attached elsewhere. */
  attachOut(name: string, slot: Slot): void {
    const i = this.outIdx.get(name)!;
    this.xSlots[i] = slot;
    this.setAddress(i, slot.ptr);
  }

  /** Binds one model's parameters (model 0 unless this is an ensemble). */
  bind(params: Readonly<Record<string, Float32Array | Float64Array>>, model = 0): this {
    const mem = this.arena.memory.buffer;
    this.plan.params.forEach((name, i) => {
      const a = params[name];
      if (!a) throw new Error(`${this.plan.graph}: parameter '${name}' missing`);
      this.P64[i]!.set(a);
      const s = this.pSlots[i]!;
      new Float32Array(mem, s.ptr + 4 * s.n * model, s.n).set(a);
    });
    this.hoist();
    this.H64.forEach((h, i) => {
      const s = this.hSlots[i]!;
      new Float32Array(mem, s.ptr + 4 * s.n * model, s.n).set(h);
    });
    return this;
  }

  /**
   * Runs all lanes; noise is drawn for samples [0, nb) of each model, sample by sample, in bulk
   * when the source can.
   */
  run(nb: number): void {
    if (this.plan.noise.length) {
      const L = this.lanes;
      for (let m = 0; m < this.models; m++) {
        const rng = this.rngs?.[m] ?? (m === 0 ? this.rng : undefined);
        if (!rng) throw new Error(`${this.plan.graph}: noise needs a random source`);
        for (const e of this.plan.noise) {
          const v = this.plan.values.get(e.out)!;
          this.arena.normals.lanes(rng, this.xSlots[v.store.idx]!.ptr, nb, v.size, L, m * this.modelLanes);
        }
      }
    }
    this.runWasm();
  }
}
