// Ensembles: every member of `trainEnsemble` ends bit for bit where a separate run with its seed
// ends (the kernel's lanes, the packed optimizer, per-member clipping and noise streams change
// nothing), across the features that touch the host side: sparse forcing with teacher noise and
// norm clipping (dendPLRNN), adaptive GTF with regularisation (shPLRNN), a noisy input-driven task
// with masks (CT-RNN).
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compileSource } from "../../src/compiler/driver.js";
import type { Program } from "../../src/compiler/ir/types.js";
import { bindDims } from "../../src/compiler/passes/index.js";
import { dataRange, dataSizes, loadData, type LoadedData } from "../../src/runtime/data/datasets.js";
import { initParams } from "../../src/runtime/model/params.js";
import { trainEnsemble } from "../../src/runtime/train/ensemble.js";
import { Prng } from "../../src/runtime/train/prng.js";
import { freshCursor, train, type TrainEvent, type TrainState } from "../../src/runtime/train/trainer.js";

const specDir = join(import.meta.dirname, "..", "..", "specs");

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A member as `rnnc train --seed S` sets it up: its own generated data, init and streams. */
function member(spec: string, seed: number, shrink: (s: string) => string): { program: Program; data: Map<string, LoadedData>; state: TrainState } {
  const ir = compileSource(shrink(readFileSync(join(specDir, spec), "utf8")), spec).opt!;
  const root = new Prng(seed);
  const data = loadData(ir, { rng: (s) => root.fork(s) });
  const program = bindDims(ir, dataSizes(data));
  const ranges = new Map([...data].map(([k, d]) => [k, dataRange(d)]));
  const params = initParams(program, root.fork("init"), (n) => ranges.get(n)!);
  return { program, data, state: { cursor: freshCursor(seed, program.train!), params, optimizer: null } };
}

const small = (s: string) => s.replace(/steps = 100000/g, "steps = 3000").replace(/trials = 512/, "trials = 24").replace(/seq_len\s*=\s*\d+/, "seq_len = 40").replace(/batches_per_epoch\s*=\s*\d+/, "batches_per_epoch = 4");
const CASES: [string, string][] = [
  ["dendplrnn.rnn", "sparse forcing, teacher noise, norm clipping"],
  ["shplrnn.rnn", "adaptive GTF, regularisation"],
  ["ctrnn.rnn", "a noisy task with masks"],
];

async function alone(program: Program, m: { data: Map<string, LoadedData>; state: TrainState }) {
  const losses: number[] = [];
  const r = await train({ tier: "fused", precision: "float32", tf, program, data: m.data, state: m.state, hooks: { event: (e: TrainEvent) => void (e.type === "batch" && losses.push(e.loss)) } });
  return { r, losses };
}

describe("trainEnsemble", () => {
  it("members with their own learning rate, schedule, teacher noise, clipping and forcing alpha each match their separate run", async () => {
    const seeds = [3, 4, 5];
    const setup = seeds.map((s) => member("dendplrnn.rnn", s, small));
    const base = setup[0]!.program.train!;
    const variants = [
      {},
      { optimizer: { ...base.optimizer, lr: base.optimizer.lr * 3 }, teacherNoise: 0.2, clip: { kind: "norm" as const, max: 0.5 } },
      { optimizer: { ...base.optimizer, lr: base.optimizer.lr / 2 }, schedule: { kind: "constant" as const }, forcing: { ...base.forcing, alpha: 0.5 } as typeof base.forcing },
    ];
    const programs = setup.map((m, k) => ({ ...m.program, train: { ...m.program.train!, epochs: 2, batchesPerEpoch: 4, ...variants[k] } }));
    const separate: Awaited<ReturnType<typeof alone>>[] = [];
    for (const [k, m] of setup.entries()) separate.push(await alone(programs[k]!, m));
    const losses: number[][] = seeds.map(() => []);
    const together = await trainEnsemble({
      tf,
      program: programs[0]!,
      members: setup.map((m, k) => ({ data: m.data, state: m.state, program: programs[k]! })),
      hooks: { event: (k, e) => void (e.type === "batch" && losses[k]!.push(e.loss)) },
    });
    together.forEach((t, k) => {
      expect(losses[k], `member ${k}: losses`).toEqual(separate[k]!.losses);
      for (const [name, v] of separate[k]!.r.state.params) expect(Array.from(t.state.params.get(name)!.data), `member ${k}: ${name}`).toEqual(Array.from(v.data));
    });
    // a member that differs in what the kernel computes is refused
    const other = { ...programs[1]!, train: { ...programs[1]!.train!, seqLen: 20 } };
    await expect(trainEnsemble({ tf, program: programs[0]!, members: [{ data: setup[0]!.data, state: setup[0]!.state }, { data: setup[1]!.data, state: setup[1]!.state, program: other }] })).rejects.toThrow(/members differ in more than/);
  }, 60_000);

  it("a member whose loss becomes NaN stops at its last good state; the others train on as if alone", async () => {
    const seeds = [3, 4];
    const setup = seeds.map((s) => member("dendplrnn.rnn", s, small));
    const program = { ...setup[0]!.program, train: { ...setup[0]!.program.train!, epochs: 3, batchesPerEpoch: 4 } };
    // member 1 starts from parameters that overflow float32 in a few steps
    const blowUp = new Map([...setup[1]!.state.params].map(([k, v]) => [k, { shape: v.shape, data: v.data.map((x) => x * 1e18) }]));
    const states = [setup[0]!.state, { ...setup[1]!.state, params: blowUp }];
    const good = await alone(program, setup[0]!);
    const bad = await alone(program, { data: setup[1]!.data, state: states[1]! });
    expect(bad.r.outcome).toBe("nan");
    const together = await trainEnsemble({ tf, program, members: setup.map((m, k) => ({ data: m.data, state: states[k]! })) });
    expect(together[1]!.outcome).toBe("nan");
    expect(together[1]!.nanMessage).toMatch(/the loss became/);
    expect(together[1]!.state.cursor).toEqual(bad.r.state.cursor);
    expect(together[0]!.outcome).toBe("finished");
    for (const [name, v] of good.r.state.params) expect(Array.from(together[0]!.state.params.get(name)!.data), name).toEqual(Array.from(v.data));
  }, 60_000);

  for (const [spec, what] of CASES) {
    it(`${spec} (${what}): each member ends exactly where its separate run ends`, async () => {
      const seeds = [3, 4, 5];
      const epochs = 2;
      const setup = seeds.map((s) => member(spec, s, small));
      const program = { ...setup[0]!.program, train: { ...setup[0]!.program.train!, epochs, batchesPerEpoch: 4 } };
      const alone: { r: Awaited<ReturnType<typeof train>>; losses: number[] }[] = [];
      for (const m of setup) {
        const losses: number[] = [];
        const r = await train({ tier: "fused", precision: "float32", tf, program, data: m.data, state: m.state, hooks: { event: (e: TrainEvent) => void (e.type === "batch" && losses.push(e.loss)) } });
        alone.push({ r, losses });
      }
      const losses: number[][] = seeds.map(() => []);
      const together = await trainEnsemble({
        tf,
        program,
        members: setup.map((m) => ({ data: m.data, state: m.state })),
        modelsPerCall: 2, // one kernel call of two models, one of one
        hooks: { event: (k, e) => void (e.type === "batch" && losses[k]!.push(e.loss)) },
      });
      together.forEach((t, k) => {
        const a = alone[k]!;
        expect(t.outcome).toBe(a.r.outcome);
        expect(losses[k], `member ${k}: losses`).toEqual(a.losses);
        for (const [name, v] of a.r.state.params) expect(Array.from(t.state.params.get(name)!.data), `member ${k}: ${name}`).toEqual(Array.from(v.data));
        expect(t.state.cursor).toEqual(a.r.state.cursor);
        const slots = (s: TrainState) => s.optimizer!.slots.map((x) => [x.param, x.slot, Array.from(x.values)]);
        expect(slots(t.state)).toEqual(slots(a.r.state));
      });
      // the members really differ
      expect(losses[0]).not.toEqual(losses[1]);
    }, 60_000);
  }
});
