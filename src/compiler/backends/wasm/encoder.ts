// A minimal WebAssembly binary encoder: one module with an imported memory, imported scalar math
// functions and exported functions. Each instruction is written to the binary and, alongside, as a
// line of WebAssembly text, so the generated kernel stays readable (`rnnc ir --stage kernel`).
// Only compiler-made names and numeric literals ever reach either form.

/** Opcodes by text name: [prefix or null, opcode]. SIMD instructions use the 0xfd prefix. */
const OPS: Record<string, [number | null, number]> = {
  block: [null, 0x02], loop: [null, 0x03], if: [null, 0x04], else: [null, 0x05], end: [null, 0x0b], br: [null, 0x0c], br_if: [null, 0x0d],
  call: [null, 0x10], drop: [null, 0x1a],
  "local.get": [null, 0x20], "local.set": [null, 0x21], "local.tee": [null, 0x22],
  "i32.load": [null, 0x28], "f32.load": [null, 0x2a], "i32.store": [null, 0x36], "f32.store": [null, 0x38],
  "i32.const": [null, 0x41], "f32.const": [null, 0x43],
  "i32.lt_s": [null, 0x48], "i32.ge_s": [null, 0x4e], "i32.add": [null, 0x6a], "i32.sub": [null, 0x6b], "i32.mul": [null, 0x6c],
  "f32.gt": [null, 0x5e], "f32.add": [null, 0x92], "f32.sub": [null, 0x93], "f32.mul": [null, 0x94],
  "f32.demote_f64": [null, 0xb6], "f64.promote_f32": [null, 0xbb],
  "v128.load": [0xfd, 0x00], "v128.load32_splat": [0xfd, 0x09], "v128.store": [0xfd, 0x0b], "v128.const": [0xfd, 0x0c],
  "i32x4.splat": [0xfd, 0x11], "f32x4.splat": [0xfd, 0x13], "f32x4.extract_lane": [0xfd, 0x1f], "f32x4.replace_lane": [0xfd, 0x20],
  "f32x4.eq": [0xfd, 0x41], "f32x4.lt": [0xfd, 0x43], "f32x4.gt": [0xfd, 0x44],
  "v128.and": [0xfd, 0x4e], "v128.bitselect": [0xfd, 0x52],
  "f32x4.abs": [0xfd, 0xe0], "f32x4.neg": [0xfd, 0xe1], "f32x4.sqrt": [0xfd, 0xe3],
  "f32x4.add": [0xfd, 0xe4], "f32x4.sub": [0xfd, 0xe5], "f32x4.mul": [0xfd, 0xe6], "f32x4.div": [0xfd, 0xe7],
  "f32x4.min": [0xfd, 0xe8], "f32x4.max": [0xfd, 0xe9], "f32x4.pmin": [0xfd, 0xea], "f32x4.pmax": [0xfd, 0xeb],
  "f32x4.nearest": [0xfd, 0x6a], "i32x4.shl": [0xfd, 0xab], "i32x4.add": [0xfd, 0xae],
  "i32x4.trunc_sat_f32x4_s": [0xfd, 0xf8], "v128.or": [0xfd, 0x50], "f32x4.le": [0xfd, 0x45],
  // scalar integer and float64 arithmetic (the noise generator, normals.ts)
  "i32.eqz": [null, 0x45], "i32.gt_s": [null, 0x4a], "i32.and": [null, 0x71], "i32.xor": [null, 0x73], "i32.shl": [null, 0x74],
  "i32.shr_u": [null, 0x76], "i32.rotl": [null, 0x77], "f64.load": [null, 0x2b], "f64.const": [null, 0x44],
  "f64.lt": [null, 0x63], "f64.abs": [null, 0x99], "f64.neg": [null, 0x9a], "f64.add": [null, 0xa0], "f64.sub": [null, 0xa1],
  "f64.mul": [null, 0xa2], "f64.div": [null, 0xa3], "f64.convert_i32_s": [null, 0xb7], "f64.convert_i32_u": [null, 0xb8],
};

export type ValType = "i32" | "f32" | "f64" | "v128";
const VALTYPE: Record<ValType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const f32Bytes = (x: number): number[] => [...new Uint8Array(new Float32Array([x]).buffer)];

function str(out: number[], s: string): void {
  const b = new TextEncoder().encode(s);
  uleb(out, b.length);
  out.push(...b);
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  for (const b of body) out.push(b);
}

/** Appends without spreading (bodies can exceed the engine's argument limit). */
function append(out: number[], bytes: number[]): void {
  for (const b of bytes) out.push(b);
}

const fmt = (x: number): string => (Number.isNaN(x) ? "nan" : x === Infinity ? "inf" : x === -Infinity ? "-inf" : String(x));

/** One function body under construction. Locals are declared on demand. */
export class FnBuilder {
  readonly code: number[] = [];
  readonly text: string[] = [];
  private readonly localTypes: ValType[] = [];
  private depth = 1;

  constructor(readonly name: string, readonly params: ValType[]) {}

  local(t: ValType): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  private line(s: string): void {
    this.text.push(`${"  ".repeat(this.depth)}${s}`);
  }

  private opcode(name: string): void {
    const op = OPS[name];
    if (!op) throw new Error(`wasm encoder: unknown instruction ${name}`);
    if (op[0] === null) this.code.push(op[1]);
    else {
      this.code.push(op[0]);
      uleb(this.code, op[1]);
    }
  }

  /** An instruction without immediates. */
  op(name: string): this {
    this.opcode(name);
    this.line(name);
    return this;
  }

  get(i: number): this {
    this.opcode("local.get");
    uleb(this.code, i);
    this.line(`local.get ${i}`);
    return this;
  }

  set(i: number): this {
    this.opcode("local.set");
    uleb(this.code, i);
    this.line(`local.set ${i}`);
    return this;
  }

  tee(i: number): this {
    this.opcode("local.tee");
    uleb(this.code, i);
    this.line(`local.tee ${i}`);
    return this;
  }

  i32(v: number): this {
    this.opcode("i32.const");
    sleb(this.code, v | 0);
    this.line(`i32.const ${v | 0}`);
    return this;
  }

  f32(v: number): this {
    this.opcode("f32.const");
    this.code.push(...f32Bytes(v));
    this.line(`f32.const ${fmt(v)}`);
    return this;
  }

  f64(v: number): this {
    this.opcode("f64.const");
    this.code.push(...new Uint8Array(new Float64Array([v]).buffer));
    this.line(`f64.const ${v}`);
    return this;
  }

  /** v128.const with four equal f32 lanes. */
  f32x4(v: number): this {
    this.opcode("v128.const");
    const b = f32Bytes(v);
    this.code.push(...b, ...b, ...b, ...b);
    this.line(`v128.const f32x4 ${fmt(v)} ${fmt(v)} ${fmt(v)} ${fmt(v)}`);
    return this;
  }

  /** A load or store with a static byte offset; `align` is log2 of the alignment. */
  mem(name: "i32.load" | "i32.store" | "f32.load" | "f32.store" | "f64.load" | "v128.load" | "v128.load32_splat" | "v128.store", offset: number, align: number): this {
    this.opcode(name);
    uleb(this.code, align);
    uleb(this.code, offset);
    this.line(`${name} offset=${offset}`);
    return this;
  }

  lane(name: "f32x4.extract_lane" | "f32x4.replace_lane", lane: number): this {
    this.opcode(name);
    this.code.push(lane);
    this.line(`${name} ${lane}`);
    return this;
  }

  call(fn: number, label: string): this {
    this.opcode("call");
    uleb(this.code, fn);
    this.line(`call ${fn} (; ${label} ;)`);
    return this;
  }

  /** `loop` (void block type); close it with `end()`. */
  loop(): this {
    return this.open("loop");
  }

  /** `if` (void block type) on the i32 on the stack; close it with `end()`. */
  ifThen(): this {
    return this.open("if");
  }

  /** `block` (void block type): a `br` to it jumps past its `end()`. */
  block(): this {
    return this.open("block");
  }

  private open(kind: "loop" | "if" | "block"): this {
    this.opcode(kind);
    this.code.push(0x40);
    this.line(kind);
    this.depth++;
    return this;
  }

  br(depth: number): this {
    this.opcode("br");
    uleb(this.code, depth);
    this.line(`br ${depth}`);
    return this;
  }

  brIf(depth: number): this {
    this.opcode("br_if");
    uleb(this.code, depth);
    this.line(`br_if ${depth}`);
    return this;
  }

  end(): this {
    this.depth--;
    this.opcode("end");
    this.line("end");
    return this;
  }

  /** The encoded body: local declarations (run-length by type), code, final `end`. */
  body(): number[] {
    const out: number[] = [];
    const runs: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = runs[runs.length - 1];
      if (last && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    uleb(out, runs.length);
    for (const [n, t] of runs) {
      uleb(out, n);
      out.push(VALTYPE[t]);
    }
    append(out, this.code);
    out.push(0x0b);
    return out;
  }

  wat(): string {
    const params = this.params.map((t) => ` (param ${t})`).join("");
    const locals = this.localTypes.length ? `\n  (local ${this.localTypes.join(" ")})` : "";
    return `(func $${this.name} (export "${this.name}")${params}${locals}\n${this.text.join("\n")})`;
  }
}

export interface ImportFn {
  /** import module name (default "math") */
  module?: string;
  name: string;
  params: ValType[];
  result?: ValType;
}

/** Encodes a module importing `env.mem` and the given functions (indices 0..n-1), exporting `fns`. */
export function encodeModule(imports: ImportFn[], fns: FnBuilder[]): Uint8Array<ArrayBuffer> {
  const types: string[] = [];
  const typeBytes: number[][] = [];
  const typeOf = (params: ValType[], results: ValType[]): number => {
    const key = `${params.join(",")}->${results.join(",")}`;
    let i = types.indexOf(key);
    if (i < 0) {
      i = types.length;
      types.push(key);
      const b: number[] = [0x60];
      uleb(b, params.length);
      for (const p of params) b.push(VALTYPE[p]);
      uleb(b, results.length);
      for (const r of results) b.push(VALTYPE[r]);
      typeBytes.push(b);
    }
    return i;
  };
  const importTypes = imports.map((f) => typeOf(f.params, f.result ? [f.result] : []));
  const fnTypes = fns.map((f) => typeOf(f.params, []));

  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const typeSec: number[] = [];
  uleb(typeSec, typeBytes.length);
  for (const b of typeBytes) append(typeSec, b);
  section(out, 1, typeSec);

  const importSec: number[] = [];
  uleb(importSec, imports.length + 1);
  str(importSec, "env");
  str(importSec, "mem");
  importSec.push(0x02, 0x00); // memory, limits: min only
  uleb(importSec, 1);
  imports.forEach((f, i) => {
    str(importSec, f.module ?? "math");
    str(importSec, f.name);
    importSec.push(0x00);
    uleb(importSec, importTypes[i]!);
  });
  section(out, 2, importSec);

  const funcSec: number[] = [];
  uleb(funcSec, fns.length);
  for (const t of fnTypes) uleb(funcSec, t);
  section(out, 3, funcSec);

  const exportSec: number[] = [];
  uleb(exportSec, fns.length);
  fns.forEach((f, i) => {
    str(exportSec, f.name);
    exportSec.push(0x00);
    uleb(exportSec, imports.length + i);
  });
  section(out, 7, exportSec);

  const codeSec: number[] = [];
  uleb(codeSec, fns.length);
  for (const f of fns) {
    const b = f.body();
    uleb(codeSec, b.length);
    append(codeSec, b);
  }
  section(out, 10, codeSec);
  return Uint8Array.from(out);
}
