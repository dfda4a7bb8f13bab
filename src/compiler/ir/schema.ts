// JSON Schema of the IR (checked with ajv). The semantic rules a schema cannot express
// (names defined before use, shapes agreeing) are in verify.ts.

const numExpr = { $ref: "#/$defs/numExpr" };
const shape = { type: "array", items: numExpr };
const str = { type: "string" };
const num = { type: "number" };
const int = { type: "integer" };
const bool = { type: "boolean" };
const srcRef = { type: "object", required: ["line", "col"], properties: { line: int, col: int }, additionalProperties: false };
const obj = (properties: Record<string, unknown>, required: string[] = Object.keys(properties)) => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});
const kind = (k: string | string[], properties: Record<string, unknown> = {}, optional: string[] = []) => {
  const all = { kind: Array.isArray(k) ? { enum: k } : { const: k }, ...properties };
  return obj(all, Object.keys(all).filter((x) => !optional.includes(x)));
};
const unitRange = obj({ state: str, start: numExpr, stop: numExpr });
const dataRef = obj({ data: str, field: str });

export const OP_NAMES = [
  "add", "sub", "mul", "div", "pow", "maximum", "minimum",
  "neg", "relu", "tanh", "sigmoid", "softplus", "exp", "log", "sqrt", "abs", "square", "sign", "clip",
  "matmul", "slice", "concat", "reshape", "transpose", "broadcast",
  "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "const", "eye", "noise", "dale_sign", "heaviside", "pad",
];

const graph = obj({
  inputs: { type: "array", items: str },
  eqns: {
    type: "array",
    items: obj(
      {
        out: str,
        op: { enum: OP_NAMES },
        args: { type: "array", items: str },
        shape,
        attrs: { type: "object", additionalProperties: { anyOf: [numExpr, { type: "array", items: numExpr }] } },
        src: srcRef,
      },
      ["out", "op", "args", "shape"],
    ),
  },
  outputs: { type: "object", additionalProperties: str },
});

const init = {
  oneOf: [
    kindless("scheme", ["zeros", "ones", "identity", "glorot", "glorot_normal", "kaiming", "orthogonal", "torch_default"]),
    obj({ scheme: { const: "constant" }, value: numExpr }),
    obj({ scheme: { const: "uniform" }, lo: numExpr, hi: numExpr }),
    obj({ scheme: { const: "normal" }, mean: numExpr, std: numExpr }),
    obj({ scheme: { const: "normalized_pd" }, group: str }),
    obj({ scheme: { const: "uniform_range" }, data: str, negate: bool }),
  ],
};

function kindless(key: string, values: string[]) {
  return obj({ [key]: { enum: values } });
}

export const IR_SCHEMA = {
  $id: "https://rnnc.dev/ir.schema.json",
  title: "rnnc IR",
  type: "object",
  $defs: {
    numExpr: {
      anyOf: [
        num,
        str,
        obj({ op: { enum: ["+", "-", "*", "/", "%", "^", "neg", "sqrt", "exp", "log", "min", "max"] }, args: { type: "array", items: { $ref: "#/$defs/numExpr" } } }),
      ],
    },
  },
  required: ["irVersion", "model", "dims", "requires", "data", "params", "inputs", "states", "observations", "prelude", "init", "step", "observe", "train", "eval"],
  additionalProperties: false,
  properties: {
    irVersion: { const: 1 },
    model: obj({ name: str, title: str, file: str }, ["name", "file"]),
    dims: {
      type: "array",
      items: obj(
        {
          name: str,
          source: {
            oneOf: [kind("value", { value: int }), kind("expr", { expr: numExpr }), kind("data", { data: str, field: str })],
          },
          value: int,
        },
        ["name", "source"],
      ),
    },
    requires: { type: "array", items: obj({ lhs: numExpr, op: { enum: ["==", "!=", "<=", ">=", "<", ">"] }, rhs: numExpr, text: str, src: srcRef }, ["lhs", "op", "rhs", "text"]) },
    data: {
      type: "array",
      items: {
        oneOf: [
          kind("builtin", { name: str, generator: str, args: { type: "object", additionalProperties: { type: ["number", "boolean", "string"] } } }),
          kind("file", { name: str, path: str, test: str, args: { type: "object", additionalProperties: { type: ["number", "boolean", "string"] } } }, ["test"]),
        ],
      },
    },
    params: {
      type: "array",
      items: obj(
        {
          name: str,
          shape,
          structure: { enum: ["dense", "diag"] },
          init,
          constraints: {
            type: "array",
            items: { oneOf: [kind("offdiag"), kind("no_autapses"), kind("positive"), kind("dale", { excitatory: num })] },
          },
          trainable: bool,
          src: srcRef,
        },
        ["name", "shape", "structure", "init", "constraints", "trainable"],
      ),
    },
    inputs: { type: "array", items: obj({ name: str, shape, data: str, field: str }) },
    states: { type: "array", items: obj({ name: str, shape }) },
    observations: { type: "array", items: obj({ name: str, shape }) },
    prelude: graph,
    init: graph,
    step: graph,
    observe: graph,
    train: {
      oneOf: [
        { type: "null" },
        obj({
          loss: obj({ kind: { enum: ["mse", "mae"] }, output: str, target: dataRef, mask: dataRef }, ["kind", "output", "target"]),
          forcing: {
            oneOf: [
              kind("none"),
              kind("sparse", { every: int, units: unitRange, alpha: num }),
              kind("gtf", { alpha: num, units: unitRange }),
              kind("gtf_adaptive", { units: unitRange, alpha0: num, gamma: num, updateEvery: int, bound: { enum: ["product_upper_bound", "jacobian_upper_bound", "batch_maximum", "arithmetic_mean"] } }),
            ],
          },
          teacherNoise: num,
          optimizer: {
            oneOf: [
              kind(["adam", "radam", "adamw"], { lr: num, beta1: num, beta2: num, eps: num, weightDecay: num }),
              kind("sgd", { lr: num, momentum: num, nesterov: bool, weightDecay: num }),
            ],
          },
          schedule: { oneOf: [kind("constant"), kind("exponential", { to: num }), kind("multistep", { at: { type: "array", items: num }, factor: num })] },
          batchSize: int,
          seqLen: int,
          batchesPerEpoch: int,
          epochs: int,
          clip: { oneOf: [kind("none"), kind(["norm", "value"], { max: num })] },
          regularize: {
            type: "array",
            items: { oneOf: [kind("l2", { lambda: num, params: { type: "array", items: str } }), kind("mar", { lambda: num, ratio: num, a: str, w: str, h: str })] },
          },
          seed: int,
          origin: { type: "object", additionalProperties: { enum: ["spec", "default", "cli"] } },
        }),
      ],
    },
    eval: {
      oneOf: [
        { type: "null" },
        obj({
          everyEpochs: int,
          steps: { type: ["integer", "null"] },
          drop: num,
          from: dataRef,
          measures: {
            type: "array",
            items: { oneOf: [kind("dstsp", { bins: int, method: { enum: ["auto", "bins", "gmm"] }, scaling: num }), kind("dh", { smoothing: num }), kind("pe", { steps: int })] },
          },
          keepBestBy: { enum: ["dstsp", "dh", "pe", null] },
        }),
      ],
    },
    sweep: obj({
      grid: { type: "array", items: obj({ key: str, values: { type: "array", items: str, minItems: 1 } }) },
      runs: { type: "integer", minimum: 1 },
    }),
  },
} as const;
