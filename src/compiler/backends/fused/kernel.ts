// The fused tier: one whole-batch training kernel per spec, generated from the IR. The forward
// pass runs the sequence (with sparse or generalized teacher forcing) through generated loops over
// Float64Array, records the values the adjoint needs on a tape, and the backward pass runs the
// adjoint graphs (passes/autodiff.ts) in reverse time. No tfjs op is dispatched per time step.
import type { Eqn, Graph, Program, TrainPlan } from "../../ir/types.js";
import { adjoint, ct } from "../../passes/autodiff.js";
import { dceGraph } from "../../passes/dce.js";
import { simplifyGraph } from "../../passes/simplify.js";
import type { NormalSource } from "../interp/codegen.js";
import { makeEngine, hasWasmSimd, WasmEngine, type Engine, type Exec, type FloatArray, type Precision } from "./engine.js";
import { WasmSequence, type SequenceStage } from "./wasm-sequence.js";
import { GraphExec } from "./exec.js";

const size = (s: readonly unknown[]) => (s as number[]).reduce((a, b) => a * b, 1);

export interface SeriesBatchData {
  kind: "series";
  B: number;
  T: number;
  /** [B, T + 1, N] teacher signals and targets. */
  teacher: Float32Array | Float64Array;
  target: Float32Array | Float64Array;
}

export interface TaskBatchData {
  kind: "task";
  B: number;
  T: number;
  /** [B, T, I], [B, T, O], [B, T, O]. */
  input: Float32Array | Float64Array;
  target: Float32Array | Float64Array;
  mask: Float32Array | Float64Array | null;
}

export type FusedBatch = SeriesBatchData | TaskBatchData;

export interface KernelResult {
  loss: number;
  /** Gradient of the loss with respect to each raw parameter (spec names). */
  grads: Record<string, Float64Array>;
}

/** Graph pieces of one step, derived from the IR once per program. */
interface Stage {
  fwd: Exec<unknown>;
  adj: Exec<unknown>;
  /** Batched values the adjoint reads, in tape order, with per-sample sizes. */
  tape: { name: string; size: number; from: "in" | "out" }[];
  /** Effective parameters whose cotangents the adjoint returns. */
  paramCts: string[];
  /** States whose cotangents the adjoint returns. */
  stateCts: string[];
}

/**
 * One time step as one graph: the step, then the observation of the new state (the observation
 * graph's states read the step's outputs; its own values are renamed apart).
 */
export function stepAndObserve(step: Graph, observe: Graph): Graph {
  const taken = new Set([...step.inputs, ...step.eqns.map((e) => e.out)]);
  let prefix = "%o.";
  while ([...taken].some((n) => n.startsWith(prefix))) prefix = `%${prefix}`;
  const rename = new Map<string, string>();
  for (const i of observe.inputs) rename.set(i, step.outputs[i] ?? i);
  for (const e of observe.eqns) rename.set(e.out, `${prefix}${e.out}`);
  const r = (n: string) => rename.get(n) ?? n;
  const eqns = [...step.eqns, ...observe.eqns.map((e) => ({ ...e, out: r(e.out), args: e.args.map(r) }))];
  const inputs = [...step.inputs, ...observe.inputs.filter((i) => !(i in step.outputs) && !step.inputs.includes(i))];
  const outputs = { ...step.outputs };
  for (const [k, v] of Object.entries(observe.outputs)) outputs[k] = r(v);
  return { inputs, eqns, outputs };
}

/** Ops whose batched values the adjoint recomputes from the tape instead of reading them from it. */
const REMAT = new Set(["add", "sub", "mul", "neg", "relu", "abs", "square", "maximum", "minimum", "heaviside", "sign", "clip", "broadcast", "reshape"]);
/** Most ops recomputed for one taped value (keeps the adjoint's extra work small). */
const REMAT_COST = 4;

/**
 * Primal values the adjoint reads are recomputed inside it rather than taped when that is cheap:
 * unbatched (parameter-only) values always (hoisted: once per batch), and batched values that a few
 * cheap elementwise ops make from taped ones (the tape then holds a step's states and a few
 * intermediates instead of every [B, M]-sized temporary, which is what bounds BPTT on memory).
 * Prepends the forward equations that produce them.
 */
function withRecomputedPrimals(primal: Graph, adj: Graph, batched: Set<string>): Graph {
  const producers = new Map(primal.eqns.map((e) => [e.out, e]));
  const costs = new Map<string, number>();
  /** Ops needed to recompute batched value v from graph inputs and unbatched values (∞: tape it). */
  const cost = (v: string): number => {
    const known = costs.get(v);
    if (known !== undefined) return known;
    const e = producers.get(v);
    let c = Infinity;
    if (e && REMAT.has(e.op) && e.op !== "noise") {
      c = 1;
      for (const a of e.args) if (batched.has(a) && producers.has(a)) c += cost(a);
    }
    costs.set(v, c);
    return c;
  };
  const recompute = (v: string) => producers.has(v) && (!batched.has(v) || cost(v) <= REMAT_COST);
  const need = new Set(adj.inputs.filter(recompute));
  const stack = [...need];
  while (stack.length) {
    const v = stack.pop()!;
    for (const a of producers.get(v)!.args) if (producers.has(a) && !need.has(a)) {
      need.add(a);
      stack.push(a);
    }
  }
  const pre: Eqn[] = primal.eqns.filter((e) => need.has(e.out));
  const inputs = [...new Set([...primal.inputs.filter((i) => pre.some((e) => e.args.includes(i))), ...adj.inputs.filter((i) => !need.has(i))])];
  return { inputs, eqns: [...pre, ...adj.eqns], outputs: adj.outputs };
}

function batchedSet(g: Graph, batchedIn: Set<string>): Set<string> {
  const b = new Set(batchedIn);
  for (const e of g.eqns) if (e.op === "noise" || e.args.some((a) => b.has(a))) b.add(e.out);
  return b;
}

export class FusedKernel {
  private readonly plan: TrainPlan;
  private readonly effOf = new Map<string, string>();
  private readonly shapes = new Map<string, number[]>();
  private readonly prelude: GraphExec;
  private readonly preludeAdj: GraphExec | null;
  private readonly init: Stage;
  private readonly step: Stage;
  private readonly stateNames: string[];
  private readonly obsName: string;
  private readonly inputName: string | undefined;
  /** Tapes: per time step, per taped value, one batched buffer. */
  private tapes: { step: unknown[][]; init: unknown[] } | null = null;
  private predErr = new Float64Array(0);
  private weights = new Float64Array(0);
  private readonly engine: Engine<unknown>;
  /** The WebAssembly time loop (null on the JavaScript engine, whose loop runs on the host). */
  private readonly sequence: WasmSequence | null;
  /** Per state: its cotangent's buffer in the engine's layout. */
  private readonly ctSlots: Record<string, unknown> = {};
  /** Per model: its raw parameters in float64 (overwritten by every call). */
  private readonly raw64: Record<string, Float64Array>[] = [];
  /** Each raw parameter's place in a model's flat gradient, and its effective parameter. */
  private readonly gradLayout: { name: string; eff: string; offset: number; size: number }[] = [];
  private readonly gradSize: number;
  /** The constrained parameters' effective gradients, before the prelude's adjoint. */
  private readonly effScratch: Record<string, Float64Array> = {};

  /**
   * `precision`: float32 runs generated WebAssembly SIMD (the default where the host has it),
   * float64 generated JavaScript (exact; the reference for the checks). `models` > 1: an ensemble
   * of independent models side by side on the WebAssembly lanes (`runModels`).
   */
  constructor(private readonly program: Program, readonly capacity: number, readonly precision: Precision = hasWasmSimd() ? "float32" : "float64", readonly models = 1) {
    const p = program;
    this.engine = makeEngine(precision, capacity, models);
    if (!p.train) throw new Error("fused kernel: the program has no train block");
    this.plan = p.train;
    for (const prm of p.params) {
      this.shapes.set(prm.name, prm.shape as number[]);
      this.effOf.set(prm.name, Object.hasOwn(p.prelude.outputs, prm.name) ? p.prelude.outputs[prm.name]! : prm.name);
    }
    for (const e of p.prelude.eqns) this.shapes.set(e.out, e.shape as number[]);
    for (const x of [...p.states, ...p.inputs, ...p.observations]) this.shapes.set(x.name, x.shape as number[]);
    this.stateNames = p.states.map((s) => s.name);
    this.obsName = this.plan.loss.output;
    this.inputName = p.inputs[0]?.name;
    let offset = 0;
    for (const prm of p.params) {
      const n = size(prm.shape);
      const eff = this.effOf.get(prm.name)!;
      this.gradLayout.push({ name: prm.name, eff, offset, size: n });
      if (eff !== prm.name) this.effScratch[eff] = new Float64Array(size(this.shapes.get(eff)!));
      offset += n;
    }
    this.gradSize = offset;
    const effNames = new Set(this.effOf.values());
    const effShapes = new Map([...effNames].map((n) => [n, this.shapes.get(n)!]));

    // prelude: raw → effective, and its adjoint for the constrained parameters
    const rawShapes = new Map(p.params.map((x) => [x.name, x.shape as number[]]));
    const preludeOutSizes = new Map(Object.keys(p.prelude.outputs).map((k) => [k, size(rawShapes.get(k)!)]));
    this.prelude = new GraphExec({ name: "prelude", graph: p.prelude, params: rawShapes, batched: new Map(), outputSizes: preludeOutSizes }, 1);
    if (Object.keys(p.prelude.outputs).length) {
      const adj = withRecomputedPrimals(p.prelude, dceGraph(adjoint(p.prelude, { inputShapes: rawShapes, wrt: Object.keys(p.prelude.outputs) }, "dp")), new Set());
      const inShapes = new Map<string, number[]>(rawShapes);
      for (const e of p.prelude.eqns) inShapes.set(e.out, e.shape as number[]);
      for (const k of Object.keys(p.prelude.outputs)) inShapes.set(ct(k), rawShapes.get(k)!);
      const params = new Map(adj.inputs.map((i) => [i, inShapes.get(i)!]));
      this.preludeAdj = new GraphExec({ name: "prelude", graph: adj, params, batched: new Map(), outputSizes: new Map(Object.keys(adj.outputs).map((k) => [k, size(rawShapes.get(k)!)])) }, 1);
    } else this.preludeAdj = null;

    const obsShapes = new Map(p.observations.map((o) => [o.name, o.shape as number[]]));
    const stateShapes = new Map(p.states.map((s) => [s.name, s.shape as number[]]));
    const inputShapes = new Map(p.inputs.map((s) => [s.name, s.shape as number[]]));
    this.init = this.stage("init", p.init, effShapes, obsShapes, stateShapes, []);
    // one graph per time step: the step and the observation of its new state
    this.step = this.stage("step", stepAndObserve(p.step, p.observe), effShapes, new Map([...stateShapes, ...inputShapes]), new Map([...stateShapes, ...obsShapes]), this.stateNames);
    for (const s of this.stateNames) this.ctSlots[s] = this.engine.slot(size(this.shapes.get(s)!));
    const sized = (name: string) => ({ name, size: size(this.shapes.get(name)!) });
    this.sequence = this.engine instanceof WasmEngine
      ? new WasmSequence(this.engine, this.step as unknown as SequenceStage, this.stateNames.map(sized), this.inputName ? sized(this.inputName) : null, sized(this.obsName), this.plan)
      : null;
  }

  /** Forward executor with tape outputs and the adjoint executor of one graph. */
  private stage(
    name: "init" | "step",
    g: Graph,
    effShapes: Map<string, number[]>,
    batchedIn: Map<string, number[]>,
    outShapes: Map<string, number[]>,
    wrtBatched: string[],
  ): Stage {
    const usedEff = g.inputs.filter((i) => effShapes.has(i));
    const shapes = new Map<string, number[]>([...effShapes, ...batchedIn]);
    for (const e of g.eqns) shapes.set(e.out, e.shape as number[]);
    const inputShapes = new Map(g.inputs.map((i) => [i, shapes.get(i)!]));
    const wrt = [...usedEff, ...wrtBatched.filter((s) => g.inputs.includes(s))];
    const adjGraph = adjoint(g, { inputShapes, wrt }, `d${name[0]!}`);
    const adjInShapes = new Map<string, number[]>(shapes);
    for (const k of Object.keys(g.outputs)) adjInShapes.set(ct(k), outShapes.get(k)!);
    const adjRaw = dceGraph(simplifyGraph(adjGraph, adjInShapes));
    const batched = batchedSet(g, new Set([...batchedIn.keys()].filter((k) => g.inputs.includes(k))));
    const adj = withRecomputedPrimals(g, adjRaw, batched);
    const tapeNames = adj.inputs.filter((i) => batched.has(i));
    // forward graph: the primal outputs plus every taped intermediate
    const fwdOutputs: Record<string, string> = { ...g.outputs };
    const tape: Stage["tape"] = [];
    for (const v of tapeNames) {
      if (batchedIn.has(v)) tape.push({ name: v, size: size(shapes.get(v)!), from: "in" });
      else {
        fwdOutputs[`tape:${v}`] = v;
        tape.push({ name: v, size: size(shapes.get(v)!), from: "out" });
      }
    }
    const fwdGraph: Graph = { ...g, outputs: fwdOutputs };
    const outSizes = new Map<string, number>();
    for (const [k, v] of Object.entries(fwdOutputs)) outSizes.set(k, k.startsWith("tape:") ? size(shapes.get(v)!) : size(outShapes.get(k)!));
    const fwd = this.engine.exec({ name, graph: fwdGraph, params: new Map(usedEff.map((n) => [n, effShapes.get(n)!])), batched: batchedIn, outputSizes: outSizes }, []);
    // adjoint: taped values and output cotangents are batched; parameters and hoisted values are not
    const adjBatched = new Map<string, number[]>();
    for (const v of tapeNames) adjBatched.set(v, shapes.get(v)!);
    for (const k of Object.keys(g.outputs)) adjBatched.set(ct(k), outShapes.get(k)!);
    const adjParams = new Map<string, number[]>();
    for (const i of adj.inputs) if (!adjBatched.has(i)) adjParams.set(i, shapes.get(i)!);
    const adjOut = new Map(Object.keys(adj.outputs).map((k) => [k, size(shapes.get(k)!)]));
    const adjExec = this.engine.exec({ name, graph: adj, params: adjParams, batched: adjBatched, outputSizes: adjOut }, usedEff);
    return { fwd, adj: adjExec, tape, paramCts: usedEff, stateCts: wrtBatched.filter((s) => g.inputs.includes(s)) };
  }

  /** Generated source of every graph of the kernel, for `rnnc ir --stage kernel`. */
  source(): string {
    const parts: [string, { source: string } | null][] = [
      ["prelude (constraints)", this.program.prelude.eqns.length ? this.prelude : null],
      ["prelude adjoint", this.preludeAdj],
      ["init forward", this.init.fwd],
      ["init adjoint", this.init.adj],
      ["step and observation forward (with tape)", this.step.fwd],
      ["step and observation adjoint", this.step.adj],
    ];
    if (this.sequence) parts.push(["time loop: forward and backward over the sequence", { source: this.sequence.source(this.plan.seqLen, this.inputName !== undefined) }]);
    return parts.filter(([, e]) => e).map(([name, e]) => `// ---- ${name} ----\n${e!.source}`).join("\n\n");
  }

  /** Tape slots for T steps (grown, never shrunk: the WebAssembly arena does not free). */
  private ensureTapes(T: number): void {
    const alloc = (st: Stage) => st.tape.map((x) => this.engine.slot(x.size));
    this.tapes ??= { step: [], init: alloc(this.init) };
    while (!this.sequence && this.tapes.step.length < T) {
      this.tapes.step.push(alloc(this.step));
    }
  }

  /** Loss of one batch and its gradient with respect to every raw parameter. */
  run(raw: Readonly<Record<string, Float32Array | Float64Array>>, batch: FusedBatch, opts: { gtfAlpha: number; rng: NormalSource }): KernelResult {
    return this.runModels([raw], [batch], [opts])[0]!;
  }

  /**
   * An ensemble's step: model m's loss on batches[m] with parameters raws[m] and its gradient,
   * all models in one pass over the lanes (a kernel built for `models` models). Every model's
   * numbers are the ones it would get alone.
   */
  runModels(raws: readonly Readonly<Record<string, Float32Array | Float64Array>>[], batches: readonly FusedBatch[], opts: readonly { gtfAlpha: number; rng: NormalSource; sparseAlpha?: number }[]): KernelResult[] {
    const p = this.program;
    const eng = this.engine;
    const models = raws.length;
    if (models !== this.models || batches.length !== models || opts.length !== models) throw new Error(`fused kernel: built for ${this.models} model(s), given ${raws.length} parameter sets, ${batches.length} batches`);
    const { B, T } = batches[0]!;
    if (batches.some((b) => b.B !== B || b.T !== T)) throw new Error("fused kernel: the models of an ensemble need batches of one size and length");
    if (B > this.capacity) throw new Error(`fused kernel: batch ${B} exceeds capacity ${this.capacity}`);
    this.ensureTapes(T);
    const tapes = this.tapes!;
    // effective parameters (the constraints run in float64 on the host), bound model by model
    const rawF64 = raws.map((raw, m) => {
      const r = (this.raw64[m] ??= Object.fromEntries(p.params.map((x) => [x.name, new Float64Array(size(x.shape))])));
      for (const prm of p.params) r[prm.name]!.set(raw[prm.name]!);
      return r;
    });
    rawF64.forEach((r, m) => {
      this.prelude.bind(r).run(1);
      const eff: Record<string, Float64Array> = {};
      for (const prm of p.params) {
        const e = this.effOf.get(prm.name)!;
        eff[e] = e === prm.name ? r[prm.name]! : this.prelude.out[prm.name]!;
      }
      for (const st of [this.init, this.step]) {
        st.fwd.bind(eff, m);
        st.adj.bind(eff, m);
      }
    });
    const rngs = opts.map((o) => o.rng);
    for (const st of [this.init, this.step]) {
      st.fwd.rng = st.adj.rng = rngs[0];
      st.fwd.rngs = st.adj.rngs = rngs;
    }
    const f = this.plan.forcing;
    const alphaAt = (m: number, t: number): number => {
      // (an ensemble's members may force with their own alpha)
      if (f.kind === "sparse") return t > 0 && t % f.every === 0 ? (opts[m]!.sparseAlpha ?? f.alpha) : 0;
      if (f.kind === "gtf" || f.kind === "gtf_adaptive") return opts[m]!.gtfAlpha;
      return 0;
    };
    const el = eng.element;
    const lanesOf = eng.modelLanes ?? 0;
    const copy = (dst: FloatArray, src: FloatArray) => dst.set(src);
    const stages = [this.init, this.step];
    const x0Name = this.program.observations[0]!.name;
    batches.forEach((batch, m) => {
      if (batch.kind === "series" && this.init.fwd.hasInput(x0Name)) {
        const N = size(this.shapes.get(x0Name)!);
        gatherStep(this.init.fwd.input(x0Name).subarray(m * lanesOf), eng.sample(N), el, batch.teacher, T + 1, 0, 0, N, B, 0, N);
      }
    });
    this.init.fwd.run(B);
    this.saveTape(this.init, tapes.init);
    if (eng.accumulates) {
      eng.realSamples?.(B);
      for (const st of stages) for (const name of st.paramCts) st.adj.output(name).fill(0);
    }
    const perSample: Record<string, FloatArray> = {};
    const { losses, ctState } = this.sequence
      ? this.wasmLoops(batches, alphaAt, rngs)
      : this.hostLoops(batches[0]!, (t) => alphaAt(0, t), perSample);

    this.loadTape(this.init, tapes.init);
    for (const s of this.stateNames) if (this.init.adj.hasInput(ct(s))) copy(this.init.adj.input(ct(s)), ctState[s]!);
    this.init.adj.run(B);
    if (!eng.accumulates) addInto(perSample, this.init);

    // the models' gradients in one buffer (the caller keeps them); the constrained parameters'
    // effective gradients are summed in scratch space and go through the prelude's adjoint
    const all = new Float64Array(models * this.gradSize);
    return rawF64.map((r, m) => {
      const flat = all.subarray(m * this.gradSize, (m + 1) * this.gradSize);
      const grads: Record<string, Float64Array> = {};
      const effGrad: Record<string, Float64Array> = {};
      for (const g of this.gradLayout) {
        grads[g.name] = flat.subarray(g.offset, g.offset + g.size);
        effGrad[g.eff] ??= g.eff === g.name ? grads[g.name]! : this.effScratch[g.eff]!.fill(0);
      }
      if (eng.accumulates) {
        // the engine summed over each model's real samples into four lanes per element: model m's
        // element i at 4 (m n + i)
        for (const st of stages) for (const name of st.paramCts) sumLanes(effGrad[name]!, st.adj.output(name), m);
      } else {
        // per sample: sum over the batch (only the real samples: padding is never read)
        for (const [e, g] of Object.entries(perSample)) {
          const acc = effGrad[e]!;
          const n = acc.length;
          const sb = eng.sample(n);
          for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) acc[i]! += g[b * sb + i * el]!;
        }
      }
      // raw-parameter gradients through the constraints
      if (this.preludeAdj) {
        const feed: Record<string, Float64Array> = { ...r };
        for (const k of Object.keys(p.prelude.outputs)) feed[ct(k)] = effGrad[this.effOf.get(k)!]!;
        this.preludeAdj.bind(feed).run(1);
        for (const g of this.gradLayout) if (g.eff !== g.name) grads[g.name]!.set(this.preludeAdj.out[g.name]!);
      }
      return { loss: losses[m]!, grads };
    });
  }

  /**
   * The time loop on the host (any engine): per step, forcing, the step graph and the loss, then
   * the adjoint in reverse. Returns the loss and each state's cotangent at t = 0.
   */
  private hostLoops(batch: FusedBatch, alphaAt: (t: number) => number, perSample: Record<string, FloatArray>): { losses: number[]; ctState: Record<string, FloatArray> } {
    const eng = this.engine;
    const { B, T } = batch;
    const tapes = this.tapes!;
    const el = eng.element;
    const copy = (dst: FloatArray, src: FloatArray) => dst.set(src);
    const f = this.plan.forcing;
    const units = f.kind === "none" ? null : { state: f.units.state, start: f.units.start as number, stop: f.units.stop as number };
    const M = units ? size(this.shapes.get(units.state)!) : 0;

    // ---------------- forward ----------------
    const step = this.step;
    const N = size(this.shapes.get(this.obsName)!);
    const I = this.inputName ? size(this.shapes.get(this.inputName)!) : 0;
    // The step reads its inputs from, and writes its taped intermediates into, step t's tape slots.
    this.attachStepTape(0);
    for (const s of this.stateNames) copy(step.fwd.input(s), this.init.fwd.output(s));

    const mse = this.plan.loss.kind === "mse";
    // prediction errors and their weights, [T, B, N], turned into cotangents after the forward
    if (this.predErr.length < T * B * N) {
      this.predErr = new Float64Array(T * B * N);
      this.weights = new Float64Array(T * B * N);
    }
    const { predErr, weights } = this;
    const sums = new Float64Array(2);
    for (let t = 0; t < T; t++) {
      if (units && batch.kind === "series") {
        const a = alphaAt(t);
        if (a > 0) gatherStep(step.fwd.input(units.state), eng.sample(M), el, batch.teacher, T + 1, t, units.start, N, B, a, units.stop - units.start);
      }
      if (batch.kind === "task" && this.inputName) {
        gatherStep(step.fwd.input(this.inputName), eng.sample(I), el, batch.input, T, t, 0, I, B, 0, I);
      }
      step.fwd.run(B);
      lossStep(step.fwd.output(this.obsName), eng.sample(N), el, batch, t, N, mse, predErr, weights, sums);
      if (t + 1 < T) {
        this.attachStepTape(t + 1);
        for (const s of this.stateNames) copy(step.fwd.input(s), step.fwd.output(s));
      }
    }
    const [lossSum, count] = sums as unknown as [number, number];
    const denom = Math.max(count, batch.kind === "series" ? 1 : 1e-12);
    const loss = count > 0 ? lossSum / denom : 0;

    // ---------------- backward ----------------
    // Parameter cotangents come out per sample. An accumulating engine adds them into its output
    // buffers over time; otherwise they are added here, per sample, one contiguous add per step.
    // Either way they are summed over the batch once at the end.
    if (!eng.accumulates) for (const [, e] of this.effOf) perSample[e] ??= eng.view(eng.slot(size(this.shapes.get(e)!)));
    const addParamCts = (st: Stage) => {
      if (!eng.accumulates) addInto(perSample, st);
    };
    // views are taken after the last allocation (growing the WebAssembly memory detaches them)
    const ctState: Record<string, FloatArray> = {};
    for (const s of this.stateNames) (ctState[s] = eng.view(this.ctSlots[s])).fill(0);
    const ctPred = step.adj.input(ct(this.obsName));
    ctPred.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      // step t: z_{t+1} = step(forced z_t) and its observation x_{t+1}
      lossCotangent(ctPred, eng.sample(N), el, predErr, weights, t, B, N, mse, denom);
      step.tape.forEach((x, i) => step.adj.attachIn(x.name, tapes.step[t]![i]!));
      for (const s of this.stateNames) if (step.adj.hasInput(ct(s))) copy(step.adj.input(ct(s)), ctState[s]!);
      step.adj.run(B);
      addParamCts(step);
      for (const s of this.stateNames) {
        if (step.stateCts.includes(s)) copy(ctState[s]!, step.adj.output(s));
        else ctState[s]!.fill(0);
      }
      // forcing replaced (alpha = 1) or blended the forced units: scale their cotangent by 1 - alpha
      if (units && batch.kind === "series") {
        const a = alphaAt(t);
        if (a > 0) {
          const c = ctState[units.state]!;
          const sb = eng.sample(M);
          for (let b = 0; b < B; b++) for (let i = units.start; i < units.stop; i++) c[b * sb + i * el]! *= 1 - a;
        }
      }
    }
    return { losses: [loss], ctState };
  }

  /** The time loop in WebAssembly (wasm/driver.ts): two calls per batch, for every model at once. */
  private wasmLoops(batches: readonly FusedBatch[], alphaAt: (m: number, t: number) => number, rngs: readonly NormalSource[]): { losses: number[]; ctState: Record<string, FloatArray> } {
    const seq = this.sequence!;
    const sums = seq.forward(batches, alphaAt, rngs, (s: string, dst: Float32Array) => dst.set(this.init.fwd.output(s)));
    const denoms = sums.map(({ count }, m) => Math.max(count, batches[m]!.kind === "series" ? 1 : 1e-12));
    const losses = sums.map(({ lossSum, count }, m) => (count > 0 ? lossSum / denoms[m]! : 0));
    const cts = seq.backward(batches[0]!.T, denoms.map((d) => (this.plan.loss.kind === "mse" ? 2 : 1) / d));
    return { losses, ctState: Object.fromEntries(cts) };
  }

  /** Step t reads its taped inputs from, and writes its taped intermediates into, its tape slots. */
  private attachStepTape(t: number): void {
    const slots = this.tapes!.step[t]!;
    this.step.tape.forEach((x, i) => {
      if (x.from === "in") this.step.fwd.attachIn(x.name, slots[i]!);
      else this.step.fwd.attachOut(`tape:${x.name}`, slots[i]!);
    });
  }

  private saveTape(st: Stage, slots: unknown[]): void {
    st.tape.forEach((x, i) => {
      const src = x.from === "in" ? st.fwd.input(x.name) : st.fwd.output(`tape:${x.name}`);
      this.engine.view(slots[i]!).set(src);
    });
  }

  private loadTape(st: Stage, slots: unknown[]): void {
    st.tape.forEach((x, i) => st.adj.input(x.name).set(this.engine.view(slots[i]!)));
  }
}

// The per-time-step host loops, small and monomorphic so that they are optimised early.

/**
 * Sample b's row t of a [B, rows, n] series into elements [start, start + w) of a batched buffer
 * (sample stride sb, element stride el): replaced (a = 0) or blended with weight a (forcing).
 */
function gatherStep(dst: FloatArray, sb: number, el: number, src: ArrayLike<number>, rows: number, t: number, start: number, n: number, B: number, a: number, w: number): void {
  for (let b = 0; b < B; b++) {
    const row = (b * rows + t) * n;
    for (let i = 0; i < w; i++) {
      const k = b * sb + (start + i) * el;
      dst[k] = a === 0 ? src[row + i]! : (1 - a) * dst[k]! + a * src[row + i]!;
    }
  }
}

/** Prediction errors and weights of step t; adds the weighted loss and weight to sums[0], sums[1]. */
function lossStep(pred: FloatArray, sb: number, el: number, batch: FusedBatch, t: number, N: number, mse: boolean, predErr: Float64Array, weights: Float64Array, sums: Float64Array): void {
  const { B, T } = batch;
  // targets of series batches are [B, T + 1, N] and predict step t + 1; task targets are [B, T, N]
  const series = batch.kind === "series";
  const rows = series ? T + 1 : T;
  const row = series ? t + 1 : t;
  const target = batch.target;
  const mask = batch.kind === "task" ? batch.mask : null;
  let lossSum = 0;
  let count = 0;
  for (let b = 0; b < B; b++) {
    const at = (b * rows + row) * N;
    const k0 = (t * B + b) * N;
    for (let n = 0; n < N; n++) {
      const d = pred[b * sb + n * el]! - target[at + n]!;
      const w = mask ? mask[(b * T + t) * N + n]! : 1;
      predErr[k0 + n] = d;
      weights[k0 + n] = w;
      lossSum += w * (mse ? d * d : Math.abs(d));
      count += w;
    }
  }
  sums[0]! += lossSum;
  sums[1]! += count;
}

/** The loss's cotangent with respect to the prediction of step t. */
function lossCotangent(ctPred: FloatArray, sb: number, el: number, predErr: Float64Array, weights: Float64Array, t: number, B: number, N: number, mse: boolean, denom: number): void {
  for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) {
    const k = (t * B + b) * N + n;
    const d = predErr[k]!;
    ctPred[b * sb + n * el] = (weights[k]! * (mse ? 2 * d : Math.sign(d))) / denom;
  }
}

/** Adds a stage's per-sample parameter cotangents into the per-sample sums. */
function addInto(perSample: Record<string, FloatArray>, st: Stage): void {
  for (const name of st.paramCts) {
    const g = st.adj.output(name);
    const acc = perSample[name]!;
    for (let i = 0; i < acc.length; i++) acc[i]! += g[i]!;
  }
}

/** Adds model m's parameter cotangents, summed over their four lanes, into acc. */
function sumLanes(acc: Float64Array, g: FloatArray, m: number): void {
  for (let i = 0, k = 4 * m * acc.length; i < acc.length; i++, k += 4) acc[i]! += g[k]! + g[k + 1]! + g[k + 2]! + g[k + 3]!;
}
