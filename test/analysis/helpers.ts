// Shared by the analysis tests: compile a spec (fixture or zoo) and build its analysis maps.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { compileModel } from "../../src/compiler/backends/interp/index.js";
import { compileSource } from "../../src/compiler/driver.js";
import type { Program } from "../../src/compiler/ir/types.js";
import { bindDims } from "../../src/compiler/passes/index.js";
import { linearity, PiecewiseLinearMap } from "../../src/runtime/analysis/piecewise.js";
import { fixedValues, flattenStep, StepMap } from "../../src/runtime/analysis/system.js";
import { ROOT } from "../helpers/specs.js";

export const FIXTURES = join(ROOT, "test", "analysis", "fixtures");

export function program(path: string): Program {
  const r = compileSource(readFileSync(path, "utf8"), path);
  if (!r.opt) throw new Error(`${path} does not compile`);
  return bindDims(r.opt, {});
}

export const fixture = (name: string) => program(join(FIXTURES, name));
export const zoo = (name: string) => program(join(ROOT, "specs", name));

export function maps(p: Program, raw: Record<string, ArrayLike<number>>, inputs: Record<string, ArrayLike<number>> = {}): { map: StepMap; pl: PiecewiseLinearMap | null } {
  const flat = flattenStep(p);
  const eff = compileModel(p).effectiveParams(raw);
  const ins: Record<string, ArrayLike<number>> = {};
  for (const i of flat.inputs) ins[i] = inputs[i] ?? new Float64Array(flat.fixedShapes.get(i)!.reduce((a, b) => a * b, 1));
  const fixed = fixedValues(flat, eff, ins);
  const lin = linearity(flat);
  return { map: new StepMap(flat, fixed), pl: lin.piecewiseLinear ? new PiecewiseLinearMap(flat, lin.switches, fixed) : null };
}

/** SCYFI's 2-D test systems: A = diag(a1, a2), W = [[0, w1], [w2, 0]]. */
export function plrnn2d(a1: number, a2: number, w1: number, w2: number, h1: number, h2: number): Record<string, Float64Array> {
  return { A: Float64Array.of(a1, a2), W: Float64Array.of(0, w1, w2, 0), h: Float64Array.of(h1, h2) };
}

/** The PLRNN step written out by hand (an oracle independent of the IR): A z + W relu(z) + h. */
export function plrnnStep(raw: Record<string, Float64Array>, z: ArrayLike<number>): Float64Array {
  const n = raw["h"]!.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = raw["A"]![i]! * z[i]! + raw["h"]![i]!;
    for (let j = 0; j < n; j++) s += raw["W"]![i * n + j]! * Math.max(0, z[j]!);
    out[i] = s;
  }
  return out;
}

/** The standard PLRNN fixture with M latent units. */
export function plrnnProgram(M: number): Program {
  const path = join(FIXTURES, "plrnn2d.rnn");
  const r = compileSource(readFileSync(path, "utf8").replace("M = 2", `M = ${M}`), path);
  return bindDims(r.opt!, {});
}
