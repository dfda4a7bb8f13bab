// Free-running generation speed of the IR interpreter (Float64, batch 1), plus batched prediction.
//   npx tsx bench/interp-generate.ts [steps]
// Reference: the PyTorch dendPLRNN code generates ~70–80 k steps/s (dsr-anchors.md §0).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileModel, generate, predict } from "../src/compiler/backends/interp/index.js";
import { compileSource } from "../src/compiler/driver.js";
import { bindDims } from "../src/compiler/passes/bind-dims.js";

const ROOT = join(import.meta.dirname, "..");
const STEPS = Number(process.argv[2] ?? 100_000);

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function load(name: string) {
  const path = join("specs", `${name}.rnn`);
  const r = compileSource(readFileSync(join(ROOT, path), "utf8"), path);
  if (!r.opt) throw new Error(`${name}: ${r.diagnostics.map((d) => d.message).join("; ")}`);
  const model = compileModel(bindDims(r.opt, {}));
  const u = rand(1);
  // contractive-ish random parameters: the run stays bounded (no NaN/Inf timing artefacts)
  const raw = Object.fromEntries(model.params.map((p) => {
    const a = new Float64Array(p.size);
    for (let i = 0; i < p.size; i++) a[i] = p.name === "A" ? 0.5 + 0.4 * u() : (u() - 0.5) * (p.shape.length === 2 && p.shape[0] === p.shape[1] ? 0.4 / Math.sqrt(p.shape[0]!) : 1);
    return [p.name, a];
  }));
  return { model, eff: model.effectiveParams(raw) };
}

function best(label: string, reps: number, f: () => void, steps: number): void {
  f(); // warm-up (compiles the generated code)
  let t = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    f();
    t = Math.min(t, performance.now() - t0);
  }
  console.log(`${label.padEnd(58)} ${(t).toFixed(1).padStart(8)} ms  ${((steps / t) * 1000 / 1e3).toFixed(0).padStart(6)} k steps/s`);
}

for (const name of ["dendplrnn", "alrnn", "plrnn", "shplrnn"]) {
  const { model, eff } = load(name);
  const dims = model.program.dims.map((d) => `${d.name}=${d.value}`).join(" ");
  const x0 = [0.1, -0.2, 0.3];
  best(`${name} (${dims}) generate ${STEPS}, latent+observed`, 5, () => void generate(model, eff, { steps: STEPS, x0 }), STEPS);
  best(`${name} (${dims}) generate ${STEPS}, observed only`, 5, () => void generate(model, eff, { steps: STEPS, x0, latent: false }), STEPS);
  const step = model.executor("step", 1).bind(eff);
  best(`${name} raw step executor x ${STEPS}`, 5, () => { for (let i = 0; i < STEPS; i++) step.advance(1); }, STEPS);
}

// PE-style batched prediction: 100 000 starts x 20 steps (model steps per second)
for (const name of ["dendplrnn", "alrnn"]) {
  const { model, eff } = load(name);
  const S = 100_000;
  const u = rand(2);
  const x0s = Float64Array.from({ length: S * 3 }, () => u() * 2 - 1);
  best(`${name} predict ${S} starts x 20 steps (batchSize 1024)`, 3, () => void predict(model, eff, x0s, 20), S * 20);
}
