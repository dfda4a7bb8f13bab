// The training loop on the graph tier: determinism, exact resume, NaN roll-back, memory.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { compileSource } from "../../../src/compiler/driver.js";
import type { Program } from "../../../src/compiler/ir/types.js";
import { bindDims } from "../../../src/compiler/passes/index.js";
import { dataRange, dataSizes, loadData } from "../../../src/runtime/data/datasets.js";
import { initParams } from "../../../src/runtime/model/params.js";
import { Prng } from "../../../src/runtime/train/prng.js";
import { freshCursor, train, type TrainState } from "../../../src/runtime/train/trainer.js";
import { dendplrnnSpec } from "../../helpers/dendplrnn.js";

const SPEC = dendplrnnSpec({
  header: "model tiny",
  steps: 3000,
  testSteps: 500,
  M: 6,
  B: 3,
  init: "fixed",
  train: `loss = mse(x, lorenz)
    forcing = sparse(every = 5, units = z[:N])
    teacher_noise = 0.05
    optimizer = radam(lr = 1e-2)
    schedule = exponential(to = 1e-3)
    batch_size = 4
    seq_len = 20
    batches_per_epoch = 3
    epochs = 4
    clip = norm(10)
    seed = 3`,
});

function setup(source = SPEC): { program: Program; state: TrainState; data: ReturnType<typeof loadData> } {
  const ir = compileSource(source, "tiny.rnn").opt!;
  const root = new Prng(ir.train!.seed);
  const data = loadData(ir, { rng: (s) => root.fork(s) });
  const program = bindDims(ir, dataSizes(data));
  const ranges = new Map([...data].map(([k, d]) => [k, dataRange(d)]));
  const params = initParams(program, root.fork("init"), (n) => ranges.get(n)!);
  return { program, data, state: { cursor: freshCursor(program.train!.seed, program.train!), params, optimizer: null } };
}

const flat = (s: TrainState) => [...s.params].map(([k, v]) => [k, Array.from(v.data)]);

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("trainer", () => {
  it("is deterministic: the same seed gives the same loss curve bit for bit", async () => {
    const curves: number[][] = [];
    for (let r = 0; r < 2; r++) {
      const { program, data, state } = setup();
      const losses: number[] = [];
      await train({ tf, program, data, state, hooks: { event: (e) => (e.type === "batch" ? losses.push(e.loss) : undefined) } });
      curves.push(losses);
    }
    expect(curves[0]!.length).toBe(12);
    expect(curves[1]).toEqual(curves[0]);
  });

  it("reduces the loss", async () => {
    const { program, data, state } = setup(SPEC.replace("epochs = 4", "epochs = 8"));
    const epochLoss: number[] = [];
    await train({ tf, program, data, state, hooks: { event: (e) => (e.type === "epoch" ? epochLoss.push(e.loss) : undefined) } });
    expect(epochLoss[epochLoss.length - 1]!).toBeLessThan(epochLoss[0]!);
  });

  it("resumes exactly: interrupted + resumed ends with the same parameters", async () => {
    const a = setup();
    const full = await train({ tf, program: a.program, data: a.data, state: a.state });
    const b = setup();
    let batches = 0;
    const part = await train({ tf, program: b.program, data: b.data, state: b.state, hooks: { shouldStop: () => ++batches === 5 } });
    expect(part.outcome).toBe("stopped");
    expect(part.state.cursor.epoch).toBe(1);
    expect(part.state.cursor.batch).toBe(1);
    // Round-trip the state through JSON, as a checkpoint does.
    const restored: TrainState = {
      cursor: JSON.parse(JSON.stringify(part.state.cursor)),
      params: new Map([...part.state.params].map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(JSON.parse(JSON.stringify(Array.from(v.data)))) }])),
      optimizer: part.state.optimizer,
    };
    const rest = await train({ tf, program: b.program, data: b.data, state: restored });
    expect(rest.outcome).toBe("finished");
    expect(flat(rest.state)).toEqual(flat(full.state));
  });

  it("stops on a NaN loss and rolls back to the last good state", async () => {
    const { program, data, state } = setup(SPEC.replace("radam(lr = 1e-2)", "sgd(lr = 1e12)").replace("clip = norm(10)", "clip = none"));
    const events: string[] = [];
    const r = await train({ tf, program, data, state, hooks: { event: (e) => events.push(e.type) } });
    expect(r.outcome).toBe("nan");
    expect(r.nanMessage).toMatch(/rolled back/);
    expect(events).toContain("nan");
    for (const v of r.lastGood.params.values()) for (const x of v.data) expect(Number.isFinite(x)).toBe(true);
  });

  it("keeps tf.memory().numTensors flat across epochs", async () => {
    const { program, data, state } = setup(SPEC.replace("epochs = 4", "epochs = 5"));
    const counts: number[] = [];
    await train({ tf, program, data, state, hooks: { afterEpoch: () => void counts.push(tf.memory().numTensors) } });
    expect(counts.length).toBe(5);
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it("fused tier: deterministic, loss decreasing, tf.memory() flat", async () => {
    const runs: number[][] = [];
    const counts: number[] = [];
    for (let r = 0; r < 2; r++) {
      const { program, data, state } = setup(SPEC.replace("epochs = 4", "epochs = 6"));
      const losses: number[] = [];
      await train({ tier: "fused", tf, program, data, state, hooks: { event: (e) => (e.type === "epoch" ? losses.push(e.loss) : undefined), afterEpoch: () => void counts.push(tf.memory().numTensors) } });
      runs.push(losses);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]![5]!).toBeLessThan(runs[0]![0]!);
    expect(new Set(counts.slice(1, 6)).size).toBe(1);
  });

  it("trains an input-driven task (masked loss, noise in the step)", async () => {
    const src = `model ct
data task = builtin.flipflop(bits = 2, trials = 16, steps = 15, test_trials = 4)
dims { I = task.inputs; O = task.targets; H = 8 }
params { W : [H, H] init = normal(0, 0.3); U : [H, I] init = glorot; b : [H]; V : [O, H] init = glorot; c : [O] }
input u : [I] from task
latent x : [H] = zeros { x' = 0.8 * x + 0.2 * (W @ tanh(x) + U @ u + b + noise(sigma = 0.05)) }
observe y : [O] = V @ tanh(x) + c
train { loss = mse(y, task.target, mask = task.mask); optimizer = adam(lr = 1e-2); batch_size = 4; batches_per_epoch = 3; epochs = 3 }`;
    const { program, data, state } = setup(src);
    const losses: number[] = [];
    const r = await train({ tf, program, data, state, hooks: { event: (e) => (e.type === "epoch" ? losses.push(e.loss) : undefined) } });
    expect(r.outcome).toBe("finished");
    expect(losses.every(Number.isFinite)).toBe(true);
  });
});
