// The fused tier: one whole-batch training kernel per spec, generated from the IR. The forward
// pass runs the sequence (with sparse or generalized teacher forcing) through generated loops over
// Float64Array, records the values the adjoint needs on a tape, and the backward pass runs the
// adjoint graphs (passes/autodiff.ts) in reverse time. No tfjs op is dispatched per time step.
import type { Eqn, Graph, Program, TrainPlan } from "../../ir/types.js";
import { adjoint, ct } from "../../passes/autodiff.js";
import { dceGraph } from "../../passes/dce.js";
import { simplifyGraph } from "../../passes/simplify.js";
import type { NormalSource } from "../interp/codegen.js";
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
  fwd: GraphExec;
  adj: GraphExec;
  /** Batched values the adjoint reads, in tape order, with per-sample sizes. */
  tape: { name: string; size: number; from: "in" | "out" }[];
  /** Effective parameters whose cotangents the adjoint returns. */
  paramCts: string[];
  /** States whose cotangents the adjoint returns. */
  stateCts: string[];
}

/**
 * Unbatched (parameter-only) values the adjoint reads are recomputed inside it (they are hoisted,
 * computed once per batch): prepend the forward equations that produce them.
 */
function withHoistedPrimals(primal: Graph, adj: Graph, batched: Set<string>): Graph {
  const producers = new Map(primal.eqns.map((e) => [e.out, e]));
  const need = new Set(adj.inputs.filter((i) => !batched.has(i) && producers.has(i)));
  const stack = [...need];
  while (stack.length) {
    const v = stack.pop()!;
    for (const a of producers.get(v)!.args) if (producers.has(a) && !batched.has(a) && !need.has(a)) {
      need.add(a);
      stack.push(a);
    }
  }
  const pre: Eqn[] = primal.eqns.filter((e) => need.has(e.out));
  const inputs = [...new Set([...primal.inputs.filter((i) => !batched.has(i) && pre.some((e) => e.args.includes(i))), ...adj.inputs.filter((i) => !need.has(i))])];
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
  private readonly observe: Stage;
  private readonly stateNames: string[];
  private readonly obsName: string;
  private readonly inputName: string | undefined;
  /** Tapes: per time step, per taped value, [B * size]. */
  private tapes: { step: Float64Array[][]; observe: Float64Array[][]; init: Float64Array[] } | null = null;
  private tapeT = -1;

  constructor(private readonly program: Program, readonly capacity: number) {
    const p = program;
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
    const effNames = new Set(this.effOf.values());
    const effShapes = new Map([...effNames].map((n) => [n, this.shapes.get(n)!]));

    // prelude: raw → effective, and its adjoint for the constrained parameters
    const rawShapes = new Map(p.params.map((x) => [x.name, x.shape as number[]]));
    const preludeOutSizes = new Map(Object.keys(p.prelude.outputs).map((k) => [k, size(rawShapes.get(k)!)]));
    this.prelude = new GraphExec({ name: "prelude", graph: p.prelude, params: rawShapes, batched: new Map(), outputSizes: preludeOutSizes }, 1);
    if (Object.keys(p.prelude.outputs).length) {
      const adj = withHoistedPrimals(p.prelude, dceGraph(adjoint(p.prelude, { inputShapes: rawShapes, wrt: Object.keys(p.prelude.outputs) }, "dp")), new Set());
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
    this.step = this.stage("step", p.step, effShapes, new Map([...stateShapes, ...inputShapes]), stateShapes, this.stateNames);
    this.observe = this.stage("observe", p.observe, effShapes, new Map([...stateShapes, ...inputShapes]), obsShapes, this.stateNames);
  }

  /** Forward executor with tape outputs and the adjoint executor of one graph. */
  private stage(
    name: "init" | "step" | "observe",
    g: Graph,
    effShapes: Map<string, number[]>,
    batchedIn: Map<string, number[]>,
    outShapes: Map<string, number[]>,
    wrtBatched: string[],
  ): Stage {
    const B = this.capacity;
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
    const adj = withHoistedPrimals(g, adjRaw, batched);
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
    const fwd = new GraphExec({ name, graph: fwdGraph, params: new Map(usedEff.map((n) => [n, effShapes.get(n)!])), batched: batchedIn, outputSizes: outSizes }, B);
    // adjoint: taped values and output cotangents are batched; parameters and hoisted values are not
    const adjBatched = new Map<string, number[]>();
    for (const v of tapeNames) adjBatched.set(v, shapes.get(v)!);
    for (const k of Object.keys(g.outputs)) adjBatched.set(ct(k), outShapes.get(k)!);
    const adjParams = new Map<string, number[]>();
    for (const i of adj.inputs) if (!adjBatched.has(i)) adjParams.set(i, shapes.get(i)!);
    const adjOut = new Map(Object.keys(adj.outputs).map((k) => [k, size(shapes.get(k)!)]));
    const adjExec = new GraphExec({ name, graph: adj, params: adjParams, batched: adjBatched, outputSizes: adjOut }, B);
    return { fwd, adj: adjExec, tape, paramCts: usedEff, stateCts: wrtBatched.filter((s) => g.inputs.includes(s)) };
  }

  /** Generated source of every graph of the kernel, for `rnnc ir --stage kernel`. */
  source(): string {
    const parts: [string, GraphExec | null][] = [
      ["prelude (constraints)", this.program.prelude.eqns.length ? this.prelude : null],
      ["prelude adjoint", this.preludeAdj],
      ["init forward", this.init.fwd],
      ["init adjoint", this.init.adj],
      ["step forward (with tape)", this.step.fwd],
      ["step adjoint", this.step.adj],
      ["observe forward (with tape)", this.observe.fwd],
      ["observe adjoint", this.observe.adj],
    ];
    return parts.filter(([, e]) => e).map(([name, e]) => `// ---- ${name} ----\n${e!.source}`).join("\n\n");
  }

  private ensureTapes(T: number): void {
    if (this.tapeT === T && this.tapes) return;
    const B = this.capacity;
    const alloc = (st: Stage) => st.tape.map((x) => new Float64Array(B * x.size));
    this.tapes = {
      step: Array.from({ length: T }, () => alloc(this.step)),
      observe: Array.from({ length: T }, () => alloc(this.observe)),
      init: alloc(this.init),
    };
    this.tapeT = T;
  }

  /** Loss of one batch and its gradient with respect to every raw parameter. */
  run(raw: Readonly<Record<string, Float32Array | Float64Array>>, batch: FusedBatch, opts: { gtfAlpha: number; rng: NormalSource }): KernelResult {
    const p = this.program;
    const { B, T } = batch;
    if (B > this.capacity) throw new Error(`fused kernel: batch ${B} exceeds capacity ${this.capacity}`);
    this.ensureTapes(T);
    const tapes = this.tapes!;
    // effective parameters
    const rawF64: Record<string, Float64Array> = {};
    for (const prm of p.params) rawF64[prm.name] = Float64Array.from(raw[prm.name]!);
    this.prelude.bind(rawF64).run(1);
    const eff: Record<string, Float64Array> = {};
    for (const prm of p.params) {
      const e = this.effOf.get(prm.name)!;
      eff[e] = e === prm.name ? rawF64[prm.name]! : this.prelude.out[prm.name]!;
    }
    for (const st of [this.init, this.step, this.observe]) {
      st.fwd.bind(eff);
      st.adj.bind(eff);
      st.fwd.rng = st.adj.rng = opts.rng;
    }
    const f = this.plan.forcing;
    const units = f.kind === "none" ? null : { state: f.units.state, start: f.units.start as number, stop: f.units.stop as number };
    const M = units ? size(this.shapes.get(units.state)!) : 0;
    const alphaAt = (t: number): number => {
      if (f.kind === "sparse") return t > 0 && t % f.every === 0 ? f.alpha : 0;
      if (f.kind === "gtf" || f.kind === "gtf_adaptive") return opts.gtfAlpha;
      return 0;
    };

    // ---------------- forward ----------------
    const stepIn = () => this.step.fwd.in;
    const obsIn = this.observe.fwd.in;
    const N = size(this.shapes.get(this.obsName)!);
    if (batch.kind === "series") {
      const x0 = this.init.fwd.in[this.program.observations[0]!.name];
      if (x0) for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) x0[b * N + n] = batch.teacher[(b * (T + 1)) * N + n]!;
    }
    this.init.fwd.run(B);
    this.saveTape(this.init, this.init.fwd, tapes.init, B);
    // The step reads its inputs from, and writes its taped intermediates into, step t's tape slots.
    this.attachStepTape(0);
    for (const s of this.stateNames) stepIn()[s]!.set(this.init.fwd.out[s]!.subarray(0, B * size(this.shapes.get(s)!)));

    const pred = this.observe.fwd.out[this.obsName]!;
    const ctPred: Float64Array[] = [];
    let lossSum = 0;
    let count = 0;
    const I = this.inputName ? size(this.shapes.get(this.inputName)!) : 0;
    const mse = this.plan.loss.kind === "mse";
    const predErr = new Float64Array(T * B * N);
    const weights = new Float64Array(T * B * N);
    for (let t = 0; t < T; t++) {
      if (units && batch.kind === "series") {
        const a = alphaAt(t);
        if (a > 0) {
          const z = stepIn()[units.state]!;
          const w = units.stop - units.start;
          for (let b = 0; b < B; b++) for (let i = 0; i < w; i++) {
            const k = b * M + units.start + i;
            z[k] = (1 - a) * z[k]! + a * batch.teacher[(b * (T + 1) + t) * N + i]!;
          }
        }
      }
      if (batch.kind === "task" && this.inputName) {
        const u = stepIn()[this.inputName]!;
        for (let b = 0; b < B; b++) u.set(batch.input.subarray((b * T + t) * I, (b * T + t + 1) * I), b * I);
      }
      this.step.fwd.run(B);
      // observation of the new state (and the same input)
      for (const s of this.stateNames) obsIn[s]!.set(this.step.fwd.out[s]!.subarray(0, B * size(this.shapes.get(s)!)));
      if (this.inputName && obsIn[this.inputName]) obsIn[this.inputName]!.set(stepIn()[this.inputName]!.subarray(0, B * I));
      this.observe.fwd.run(B);
      this.saveTape(this.observe, this.observe.fwd, tapes.observe[t]!, B);
      for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) {
        const y = pred[b * N + n]!;
        let target: number;
        let w = 1;
        if (batch.kind === "series") target = batch.target[(b * (T + 1) + t + 1) * N + n]!;
        else {
          target = batch.target[(b * T + t) * N + n]!;
          if (batch.mask) w = batch.mask[(b * T + t) * N + n]!;
        }
        const d = y - target;
        const k = (t * B + b) * N + n;
        predErr[k] = d;
        weights[k] = w;
        lossSum += w * (mse ? d * d : Math.abs(d));
        count += w;
      }
      if (t + 1 < T) {
        this.attachStepTape(t + 1);
        for (const s of this.stateNames) stepIn()[s]!.set(this.step.fwd.out[s]!.subarray(0, B * size(this.shapes.get(s)!)));
      }
    }
    const denom = Math.max(count, batch.kind === "series" ? 1 : 1e-12);
    const loss = count > 0 ? lossSum / denom : 0;
    for (let t = 0; t < T; t++) {
      const c = new Float64Array(B * N);
      for (let i = 0; i < B * N; i++) {
        const k = t * B * N + i;
        const d = predErr[k]!;
        c[i] = (weights[k]! * (mse ? 2 * d : Math.sign(d))) / denom;
      }
      ctPred.push(c);
    }

    // ---------------- backward ----------------
    // Parameter cotangents come out per sample; accumulate them per sample over time (one
    // contiguous add per step) and sum over the batch once at the end.
    const perSample: Record<string, Float64Array> = {};
    for (const [, e] of this.effOf) perSample[e] ??= new Float64Array(this.capacity * size(this.shapes.get(e)!));
    const addParamCts = (st: Stage) => {
      for (const name of st.paramCts) {
        const g = st.adj.out[name]!;
        const acc = perSample[name]!;
        for (let i = 0, n = B * (acc.length / this.capacity); i < n; i++) acc[i]! += g[i]!;
      }
    };
    const ctState: Record<string, Float64Array> = {};
    for (const s of this.stateNames) ctState[s] = new Float64Array(B * size(this.shapes.get(s)!));
    for (let t = T - 1; t >= 0; t--) {
      // observation at t + 1 reads z_{t+1}
      this.loadTape(this.observe, tapes.observe[t]!, B);
      this.observe.adj.in[ct(this.obsName)]!.set(ctPred[t]!);
      this.observe.adj.run(B);
      addParamCts(this.observe);
      for (const s of this.observe.stateCts) {
        const g = this.observe.adj.out[s]!;
        const c = ctState[s]!;
        for (let i = 0; i < c.length; i++) c[i]! += g[i]!;
      }
      // step t: z_{t+1} = step(forced z_t)
      this.step.tape.forEach((x, i) => this.step.adj.attachIn(x.name, tapes.step[t]![i]!));
      for (const s of this.stateNames) this.step.adj.in[ct(s)]?.set(ctState[s]!);
      this.step.adj.run(B);
      addParamCts(this.step);
      for (const s of this.stateNames) {
        const c = ctState[s]!;
        const g = this.step.stateCts.includes(s) ? this.step.adj.out[s]! : null;
        for (let i = 0; i < c.length; i++) c[i] = g ? g[i]! : 0;
      }
      // forcing replaced (alpha = 1) or blended the forced units: scale their cotangent by 1 - alpha
      if (units && batch.kind === "series") {
        const a = alphaAt(t);
        if (a > 0) {
          const c = ctState[units.state]!;
          for (let b = 0; b < B; b++) for (let i = units.start; i < units.stop; i++) c[b * M + i]! *= 1 - a;
        }
      }
    }
    this.loadTape(this.init, tapes.init, B);
    for (const s of this.stateNames) this.init.adj.in[ct(s)]?.set(ctState[s]!);
    this.init.adj.run(B);
    addParamCts(this.init);

    const effGrad: Record<string, Float64Array> = {};
    for (const [e, acc] of Object.entries(perSample)) {
      const n = acc.length / this.capacity;
      const sum = new Float64Array(n);
      for (let b = 0; b < B; b++) for (let i = 0; i < n; i++) sum[i]! += acc[b * n + i]!;
      effGrad[e] = sum;
    }
    // raw-parameter gradients through the constraints
    const grads: Record<string, Float64Array> = {};
    if (this.preludeAdj) {
      const feed: Record<string, Float64Array> = { ...rawF64 };
      for (const k of Object.keys(p.prelude.outputs)) feed[ct(k)] = effGrad[this.effOf.get(k)!]!;
      this.preludeAdj.bind(feed).run(1);
    }
    for (const prm of p.params) {
      const e = this.effOf.get(prm.name)!;
      grads[prm.name] = e === prm.name ? effGrad[e]! : Float64Array.from(this.preludeAdj!.out[prm.name]!);
    }
    return { loss, grads };
  }

  /** Step t reads its taped inputs from, and writes its taped intermediates into, its tape slots. */
  private attachStepTape(t: number): void {
    const slots = this.tapes!.step[t]!;
    this.step.tape.forEach((x, i) => {
      if (x.from === "in") this.step.fwd.attachIn(x.name, slots[i]!);
      else this.step.fwd.attachOut(`tape:${x.name}`, slots[i]!);
    });
  }

  private saveTape(st: Stage, exec: GraphExec, slots: Float64Array[], B: number): void {
    st.tape.forEach((x, i) => {
      const src = x.from === "in" ? exec.in[x.name]! : exec.out[`tape:${x.name}`]!;
      slots[i]!.set(src.subarray(0, B * x.size));
    });
  }

  private loadTape(st: Stage, slots: Float64Array[], B: number): void {
    st.tape.forEach((x, i) => st.adj.in[x.name]!.set(slots[i]!.subarray(0, B * x.size)));
  }
}
