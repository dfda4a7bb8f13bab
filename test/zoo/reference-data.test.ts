// The reference data of the DSR papers (../shared/data: Lorenz-63, Rössler, Lorenz-96, bursting
// neuron, ECG, EEG; dsr-anchors.md §7) through the zoo's dendPLRNN spec with a `file(...)` source:
// the dims bind from each file (N = 3 .. 64; M widened to N where the spec's 22 is too small),
// a few training batches run, and the measures come out defined (binned D_stsp below 6
// dimensions, the GMM form above). Skipped when ../shared is absent: the product never needs it.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { sharedFile } from "../runtime/metrics/helpers.js";
import { fit, prepare, reconstructionScores, withSetting, withTrain, zooSource } from "./harness.js";

const FILES: { name: string; train: string; test?: string; features: number }[] = [
  { name: "Lorenz-63 (dendPLRNN)", train: "data/dendPLRNN/lorenz63_train.npy", test: "data/dendPLRNN/lorenz63_test.npy", features: 3 },
  { name: "bursting neuron", train: "data/dendPLRNN/burstingneuron_train.npy", test: "data/dendPLRNN/burstingneuron_test.npy", features: 3 },
  { name: "Lorenz-96", train: "data/dendPLRNN/lorenz96_train.npy", test: "data/dendPLRNN/lorenz96_test.npy", features: 10 },
  { name: "EEG", train: "data/dendPLRNN/EEG_train.npy", features: 64 },
  { name: "Rössler (ALRNN)", train: "data/ALRNN-DSR/example_rossler.npy", features: 3 },
  { name: "ECG (GTF, 5-d embedding)", train: "data/GTF-shPLRNN/ECG_pecuzal_5d_train.npy", test: "data/GTF-shPLRNN/ECG_pecuzal_5d_test.npy", features: 5 },
];

const present = FILES.every((f) => sharedFile(f.train) && (!f.test || sharedFile(f.test)));

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe.skipIf(!present)("reference data sets through the dendPLRNN spec", () => {
  for (const f of FILES) {
    it(f.name, async () => {
      const train = sharedFile(f.train)!;
      const test = f.test ? sharedFile(f.test)! : undefined;
      let source = zooSource("dendplrnn").replace(/^data lorenz = .*$/m, `data lorenz = file(${JSON.stringify(train)}${test ? `, test = ${JSON.stringify(test)}` : ""})`);
      source = withSetting(source, "M", Math.max(22, f.features));
      source = withTrain(source, { batch_size: 4, seq_len: 50, batches_per_epoch: 3, epochs: 1 });
      const p = prepare(source, "dendplrnn.rnn");
      expect(p.program.dims.find((d) => d.name === "N")!.value).toBe(f.features);
      const r = await fit(tf, p);
      expect(r.outcome).toBe("finished");
      expect(Number.isFinite(r.losses[0]!)).toBe(true);
      const s = reconstructionScores(p, r.params, undefined, 100, 5000);
      expect(s.diverged).toBe(false);
      expect(Number.isFinite(s.dstsp!) || s.dstsp === undefined).toBe(true);
      expect(s.dh).toBeGreaterThanOrEqual(0);
      expect(s.dh).toBeLessThanOrEqual(1);
      expect(Number.isFinite(s.pe!)).toBe(true);
    });
  }
});
