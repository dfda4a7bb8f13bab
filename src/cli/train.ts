// `rnnc train SPEC`: the command's options; the work is in train-run.ts, loaded on demand.
// Precedence of settings (lowest first): rnnc's defaults < the spec < --set < --epochs/--seed.
import type { Command } from "commander";
import type { TrainOpts } from "./train-run.js";

export function registerTrain(program: Command, setCode: (c: number) => void): void {
  program
    .command("train")
    .description("train the model of a spec (defaults < spec < --set < --epochs/--seed)")
    .argument("<spec>", ".rnn spec file")
    .option("--data <file>", "training data (.npy/.npz/.csv) instead of the spec's first data set")
    .option("--test <file>", "test data for evaluation")
    .option("--epochs <n>", "number of epochs")
    .option("--seed <n>", "seed of initialization, batching and noise")
    .option("--out <dir>", "run directory (default runs/<model>-<time>)")
    .option("--set <key=value>", "override a setting, e.g. --set optimizer.lr=5e-4 (repeatable)", (v: string, acc: string[]) => [...acc, v], [])
    .option("--resume <dir>", "continue an interrupted run (or ensemble) exactly")
    .option("--ensemble <E>", "train E members (seeds seed .. seed + E - 1) side by side in one fused kernel; run directories <out>/run-0 ...")
    .option("--init-params <file>", "start from parameters in a .npz (named as in the spec, or mapped with --param-map)")
    .option("--param-map <file.json>", 'rename/transpose/take apart imported parameters: {"rename": {"fc.weight": "W_out"}, "transpose": ["W_out"]} (docs/ZOO.md)')
    .option("--backend <name>", "auto | node-gpu | node | wasm | cpu", "auto")
    .option("--tier <tier>", "auto | graph | fused (auto: fused on CPU backends, graph on GPU/native ones)", "auto")
    .option("--precision <p>", "the fused tier's arithmetic: float32 (WebAssembly SIMD) | float64 (JavaScript, ~4x slower)", "float32")
    .option("--json", "print JSON-lines events instead of text")
    .option("--no-progress", "no progress bar even on a terminal")
    .option("--no-figures", "do not draw the figures when training ends (rnnc report draws them later)")
    .option("--print-config", "print the resolved settings with their origin and exit")
    .action(async (spec: string, opts: TrainOpts) => setCode(await (await import("./train-run.js")).runTrain(spec, opts)));
}

