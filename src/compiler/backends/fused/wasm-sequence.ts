// The fused kernel's time loop on the WebAssembly engine: every per-step buffer (states, taped
// intermediates, inputs, noise, teacher and target rows) is a region of the shared memory, and the
// generated driver (wasm/driver.ts) runs the forward and backward loops around the step graphs.
// The host only lays out the batch once, draws the noise, and reads the loss and cotangents.
import type { TrainPlan } from "../../ir/types.js";
import { ct } from "../../passes/autodiff.js";
import type { NormalSource } from "../interp/codegen.js";
import { generateDriver, type Binding, type DriverLayout } from "../wasm/driver.js";
import { encodeModule, FnBuilder } from "../wasm/encoder.js";
import { WasmGraphExec } from "../wasm/exec.js";
import type { WasmEngine } from "./engine.js";
import type { FusedBatch } from "./kernel.js";

export interface SequenceStage {
  fwd: WasmGraphExec;
  adj: WasmGraphExec;
  tape: { name: string; size: number; from: "in" | "out" }[];
  stateCts: string[];
}

interface Region {
  base: number;
  stride: number;
}

interface Regions {
  T: number;
  states: Map<string, Region>;
  tape: Map<string, Region>;
  input: Region | null;
  noise: Map<string, Region & { size: number }>;
  teacher: Region;
  target: Region;
  mask: Region | null;
  alpha: Region;
  forced: number;
  laneMask: number;
  err: Region;
  sums: number;
  scale: number;
  cts: { a: number; b: number }[];
  /** One model's batch array ([B, rows, n] host order), copied in for `scatter`. */
  staging: number;
  forward: (T: number) => void;
  backward: (T: number) => void;
  wat: string;
}

export class WasmSequence {
  private regions: Regions | null = null;
  private readonly scatter: Scatter;
  private readonly lanes: number;
  private readonly modelLanes: number;
  private readonly rowBytes: number;

  constructor(
    private readonly engine: WasmEngine,
    private readonly step: SequenceStage,
    private readonly states: { name: string; size: number }[],
    private readonly input: { name: string; size: number } | null,
    private readonly obs: { name: string; size: number },
    private readonly plan: TrainPlan,
  ) {
    this.lanes = engine.lanes;
    this.modelLanes = engine.modelLanes;
    this.rowBytes = 4 * engine.lanes;
    this.scatter = scatterInto(engine.arena.memory);
  }

  private region(rows: number, count: number): Region {
    const stride = rows * this.rowBytes;
    return { base: this.engine.arena.alloc(stride * count), stride };
  }

  /** Regions and the driver for sequences of T steps (rebuilt when T changes). */
  private ensure(T: number, task: boolean): Regions {
    if (this.regions && this.regions.T === T) return this.regions;
    const { step, obs } = this;
    const N = obs.size;
    const states = new Map(this.states.map((s) => [s.name, this.region(s.size, T + 1)]));
    const stateNames = new Set(this.states.map((s) => s.name));
    const input = this.input ? this.region(this.input.size, T) : null;
    const tape = new Map<string, Region>();
    for (const x of step.tape) if (!stateNames.has(x.name) && x.name !== this.input?.name) tape.set(x.name, this.region(x.size, T));
    const noise = new Map(step.fwd.noiseBuffers.map((b) => [b.key, { ...this.region(b.size, T), size: b.size }]));
    // series: teacher and target rows 0..T; tasks: input, target and mask rows 0..T-1
    const teacher = this.region(N, T + 1);
    const target = this.region(N, T + 1);
    const mask = task ? this.region(N, T) : null;
    const arena = this.engine.arena;
    const alpha = this.region(1, T);
    const forced = arena.alloc(4 * T);
    const laneMask = arena.alloc(this.rowBytes);
    const err = this.region(N, T);
    const sums = arena.alloc(2 * this.rowBytes);
    const scale = arena.alloc(this.rowBytes);
    const cts = this.states.map((s) => ({ a: arena.alloc(s.size * this.rowBytes), b: arena.alloc(s.size * this.rowBytes) }));
    const staging = arena.alloc(4 * this.modelLanes * (T + 1) * Math.max(N, this.input?.size ?? 0));

    const forward: Binding[] = [];
    for (const s of this.states) {
      const r = states.get(s.name)!;
      if (step.fwd.hasInput(s.name)) forward.push({ entry: step.fwd.entry("in", s.name), base: r.base, stride: r.stride });
      forward.push({ entry: step.fwd.entry("out", s.name), base: r.base + r.stride, stride: r.stride });
    }
    if (this.input && input && step.fwd.hasInput(this.input.name)) forward.push({ entry: step.fwd.entry("in", this.input.name), ...input });
    for (const x of step.tape) if (x.from === "out") forward.push({ entry: step.fwd.entry("out", `tape:${x.name}`), ...tape.get(x.name)! });
    for (const [key, r] of noise) forward.push({ entry: step.fwd.entry("noise", key), base: r.base, stride: r.stride });
    const adjoint: Binding[] = step.tape.map((x) => {
      const r = states.get(x.name) ?? (x.name === this.input?.name ? input! : tape.get(x.name)!);
      return { entry: step.adj.entry("in", x.name), base: r.base, stride: r.stride };
    });
    const f = this.plan.forcing;
    const forcedState = f.kind === "none" ? null : f.units.state;
    const series = !task;
    const layout: DriverLayout = {
      lanes: this.lanes,
      forward,
      adjoint,
      forcing: forcedState && series
        ? { state: states.get(forcedState)!, start: f.kind === "none" ? 0 : (f.units.start as number), stop: f.kind === "none" ? 0 : (f.units.stop as number), teacher, alpha, forced }
        : null,
      loss: {
        pred: step.fwd.address("out", obs.name),
        n: N,
        // series: step t predicts row t + 1
        target: series ? { base: target.base + target.stride, stride: target.stride } : target,
        mask,
        laneMask,
        l1: this.plan.loss.kind !== "mse",
        err,
        sums,
        ctPred: step.adj.address("in", ct(obs.name)),
        scale,
      },
      cotangents: this.states.map((s, k) => ({
        input: step.adj.entry("in", ct(s.name)),
        output: step.stateCts.includes(s.name) ? step.adj.entry("out", s.name) : null,
        a: cts[k]!.a,
        b: cts[k]!.b,
        size: s.size,
      })),
      forcedCotangent: Math.max(0, this.states.findIndex((s) => s.name === forcedState)),
    };
    const code = generateDriver(layout);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(code.bytes), {
      env: { mem: arena.memory },
      step: { forward: step.fwd.runFunction, adjoint: step.adj.runFunction },
    });
    this.regions = {
      T, states, tape, input, noise, teacher, target, mask, alpha, forced, laneMask, err, sums, scale, cts, staging,
      forward: instance.exports["forward"] as (T: number) => void,
      backward: instance.exports["backward"] as (T: number) => void,
      wat: code.wat,
    };
    return this.regions;
  }

  private f32(base: number, n: number): Float32Array {
    return new Float32Array(this.engine.arena.memory.buffer, base, n);
  }

  /**
   * Lays out model m's [B, rows, n] host data at `r` (its lanes), rows [0, rows) or only rows
   * `only` (the others are never read): copied in, then scattered by WebAssembly.
   */
  private layout(R: Regions, r: Region, src: Float32Array | Float64Array, B: number, rows: number, n: number, m: number, only?: readonly number[]): void {
    const count = B * rows * n;
    if (count === 0) return;
    this.f32(R.staging, count).set(src.length === count ? src : src.subarray(0, count));
    const dst = r.base + 4 * m * this.modelLanes;
    const sampleBytes = 4 * rows * n;
    if (!only) this.scatter(R.staging, sampleBytes, dst, this.rowBytes, B, rows * n);
    else for (const t of only) this.scatter(R.staging + 4 * t * n, sampleBytes, dst + t * n * this.rowBytes, this.rowBytes, B, n);
  }

  /**
   * The forward loop over one batch per model (ensembles: model m on its own lanes); the initial
   * states must be in place (`initial`). Returns each model's weighted loss sum and weight sum.
   */
  forward(batches: readonly FusedBatch[], alphaAt: (m: number, t: number) => number, rngs: readonly NormalSource[], initial: (state: string, dst: Float32Array) => void): { lossSum: number; count: number }[] {
    const { T } = batches[0]!;
    const task = batches[0]!.kind === "task";
    const R = this.ensure(T, task);
    const N = this.obs.size;
    const L = this.lanes;
    const I = this.input ? this.input.size : 0;
    const zero = (r: Region, rows: number) => this.f32(r.base, (r.stride / 4) * rows).fill(0);
    if (task) {
      if (R.input) zero(R.input, T);
      zero(R.target, T);
      zero(R.mask!, T);
    } else {
      zero(R.teacher, T + 1);
      zero(R.target, T + 1);
    }
    const alpha = this.f32(R.alpha.base, L * T).fill(0);
    const forced = this.f32(R.forced, T).fill(0);
    const laneMask = this.f32(R.laneMask, L).fill(0);
    batches.forEach((batch, m) => {
      const { B } = batch;
      const lane0 = m * this.modelLanes;
      if (batch.T !== T || batch.kind !== batches[0]!.kind) throw new Error("fused kernel: the models of an ensemble need batches of one kind and length");
      if (batch.kind === "series") {
        const forcedRows: number[] = [];
        for (let t = 0; t < T; t++) {
          const a = alphaAt(m, t);
          if (a === 0) continue; // (the alpha rows start zeroed)
          alpha.fill(a, t * L + lane0, t * L + lane0 + B);
          if (a > 0) {
            forced[t] = 1;
            forcedRows.push(t);
          }
        }
        // the driver reads teacher row t only where step t is forced
        this.layout(R, R.teacher, batch.teacher, B, T + 1, N, m, forcedRows);
        this.layout(R, R.target, batch.target, B, T + 1, N, m);
      } else {
        if (R.input && this.input) this.layout(R, R.input, batch.input, B, T, I, m);
        this.layout(R, R.target, batch.target, B, T, N, m);
        if (batch.mask) this.layout(R, R.mask!, batch.mask, B, T, N, m);
        else {
          const mk = this.f32(R.mask!.base, (R.mask!.stride / 4) * T);
          for (let t = 0; t < T; t++) for (let i = 0; i < N; i++) mk.fill(1, (t * N + i) * L + lane0, (t * N + i) * L + lane0 + B);
        }
      }
      laneMask.fill(1, lane0, lane0 + B);
    });
    // noise, in the order the step would draw it: step by step, buffer by buffer, sample by sample
    // (each model from its own source), drawn in WebAssembly straight into the lanes
    const normals = this.engine.arena.normals;
    batches.forEach(({ B }, m) => {
      for (let t = 0; t < T; t++) for (const r of R.noise.values()) normals.lanes(rngs[m]!, r.base + t * r.stride, B, r.size, L, m * this.modelLanes);
    });
    for (const s of this.states) {
      const r = R.states.get(s.name)!;
      initial(s.name, this.f32(r.base, s.size * L));
    }
    R.forward(T);
    // per model: the lanes of its vectors (loss sums first, weight sums one row later)
    const sums = this.f32(R.sums, 2 * L);
    return batches.map((_, m) => {
      let lossSum = 0;
      let count = 0;
      for (let i = m * this.modelLanes; i < (m + 1) * this.modelLanes; i++) {
        lossSum += sums[i]!;
        count += sums[L + i]!;
      }
      return { lossSum, count };
    });
  }

  /**
   * The backward loop (`scales[m]`: model m's loss-cotangent scale); returns, per state, the
   * cotangent with respect to its initial value (all lanes).
   */
  backward(T: number, scales: readonly number[]): Map<string, Float32Array> {
    const R = this.regions!;
    const L = this.lanes;
    const scale = this.f32(R.scale, L).fill(0);
    scales.forEach((s, m) => scale.fill(s, m * this.modelLanes, (m + 1) * this.modelLanes));
    R.cts.forEach((c, k) => {
      const n = this.states[k]!.size * L;
      this.f32(c.a, n).fill(0);
      this.f32(c.b, n).fill(0);
    });
    R.backward(T);
    // the driver leaves each state's final cotangent address in its input's table entry
    const table = new Int32Array(this.engine.arena.memory.buffer);
    return new Map(this.states.map((s) => [s.name, this.f32(table[this.step.adj.entry("in", ct(s.name)) / 4]!, s.size * L)]));
  }

  /** The driver's text, for `rnnc ir --stage kernel`. */
  source(T: number, task: boolean): string {
    return this.ensure(T, task).wat;
  }
}

/**
 * scatter(src, sampleBytes, dst, rowBytes, B, k): the first k float32s of B samples (sample b at
 * src + b sampleBytes) into the lanes at dst: value j of sample b at dst + j rowBytes + 4 b. The
 * kernel's layout of a batch, as a word loop in WebAssembly (several times faster than the host's
 * element loop; row by row, so the stores are contiguous). Bits are copied: the values are exactly
 * the host's.
 */
type Scatter = (src: number, sampleBytes: number, dst: number, rowBytes: number, B: number, k: number) => void;

function scatterInto(memory: WebAssembly.Memory): Scatter {
  const [src, sampleBytes, dst, rowBytes, B, k] = [0, 1, 2, 3, 4, 5];
  const f = new FnBuilder("scatter", ["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [j, b, from, to] = [f.local("i32"), f.local("i32"), f.local("i32"), f.local("i32")];
  f.i32(0).set(j);
  f.loop();
  {
    f.get(src).get(j).i32(4).op("i32.mul").op("i32.add").set(from);
    f.get(dst).get(j).get(rowBytes).op("i32.mul").op("i32.add").set(to);
    f.i32(0).set(b);
    f.loop();
    {
      f.get(to).get(from).mem("i32.load", 0, 2).mem("i32.store", 0, 2);
      f.get(from).get(sampleBytes).op("i32.add").set(from);
      f.get(to).i32(4).op("i32.add").set(to);
      f.get(b).i32(1).op("i32.add").tee(b).get(B).op("i32.lt_s").brIf(0);
    }
    f.end();
    f.get(j).i32(1).op("i32.add").tee(j).get(k).op("i32.lt_s").brIf(0);
  }
  f.end();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(encodeModule([], [f])), { env: { mem: memory } });
  return instance.exports["scatter"] as Scatter;
}
