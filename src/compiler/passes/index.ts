// The optimization pipeline: a short named list of pure IR → IR passes (tinygrad style).
import type { Program } from "../ir/types.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";

export interface Pass {
  name: string;
  run: (p: Program) => Program;
}

export const PASSES: Pass[] = [
  { name: "cse", run: cse },
  { name: "dce", run: dce },
];

export function optimize(p: Program, after?: (pass: string, p: Program) => void): Program {
  let cur = p;
  for (const pass of PASSES) {
    cur = pass.run(cur);
    after?.(pass.name, cur);
  }
  return cur;
}

export { bindDims, DimBindingError } from "./bind-dims.js";
