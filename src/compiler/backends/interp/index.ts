/**
 * rnnc's IR interpreter: exact, allocation-free inference over Float64Array (or Float32Array).
 *
 *   const model = compileModel(bindDims(program, sizes));        // once per program
 *   const eff = model.effectiveParams(raw);                        // prelude (constraints)
 *   const run = generate(model, eff, { x0, steps: 100_000 });      // free run, t = 0 included
 *   const pred = predict(model, eff, x0s, 20);                     // n-step predictions, batched
 *
 * Hot path: `model.executor(graph, capacity)` → `bind(eff)` once → write `in`, `run()` / `advance()`
 * per step, read `out`. Semantics: every op follows NumPy on the per-sample shapes; batched values
 * (those depending on a state, an input, an observation or noise) carry a leading batch axis that
 * never takes part in broadcasting. Summation order is sequential (matmul over k, reductions in
 * row-major order of the reduced axes).
 */
export { compileModel, type CompileOptions, type Dtype, type ExecGraph, type Executor, type ExecutorOptions, type Model, type ParamValues, type TensorSpec } from "./model.js";
export { generate, predict, type GenerateOptions, type GenerateResult, type PredictOptions } from "./generate.js";
export type { FloatArray, NormalSource } from "./codegen.js";
export { InterpError } from "./errors.js";
