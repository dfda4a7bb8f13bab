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

describe("trainEnsemble", () => {
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
