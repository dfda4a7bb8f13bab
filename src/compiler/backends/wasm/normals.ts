// Process noise in WebAssembly: the stream of Prng.addNormalNoise (xoshiro128** outputs through
// Marsaglia and Tsang's ziggurat) drawn by a generated function straight into the lanes of a
// batched buffer. The same integer steps and float64 operations in the same order as the host
// code (exp and log are the host's Math, as there), so the draws are bit for bit the host's: a
// noisy model (a CT-RNN) draws one normal per unit, sample and step, and on the host the draws
// and their transposition into lanes took about half of its kernel's time.
import { ZIGGURAT } from "../../../runtime/train/prng.js";
import type { NormalSource } from "../interp/codegen.js";
import { encodeModule, FnBuilder, type ImportFn } from "./encoder.js";
import type { WasmArena } from "./exec.js";

const IMPORTS: ImportFn[] = [
  { name: "exp", params: ["f64"], result: "f64" },
  { name: "log", params: ["f64"], result: "f64" },
];
const [EXP, LOG] = [0, 1];
const TWO_POW_53 = 9007199254740992;

/**
 * `fill(dst, B, size, rowBytes, lane0Bytes)`: for b < B, j < size (sample by sample, the order
 * of the host's draws), float32 normal j of sample b at dst + j rowBytes + lane0Bytes + 4 b. The
 * state words are at `state`, the tables K, W, F (float64 x 128 each) at `tables`.
 */
function fillFunction(state: number, tables: number): FnBuilder {
  const f = new FnBuilder("fill", ["i32", "i32", "i32", "i32", "i32"]);
  const [DST, B, SIZE, ROW, LANE0] = [0, 1, 2, 3, 4];
  const [s0, s1, s2, s3, shifted, u, layer, hz, b, j] = Array.from({ length: 10 }, () => f.local("i32"));
  const [x, tt, y, a] = Array.from({ length: 4 }, () => f.local("f64"));
  const K = tables;
  const W = tables + 8 * 128;
  const F = tables + 16 * 128;
  /** u = the next output of xoshiro128** (Prng.nextUint32), advancing s0..s3. */
  const next = () => {
    f.get(s1).i32(5).op("i32.mul").i32(7).op("i32.rotl").i32(9).op("i32.mul").set(u);
    f.get(s1).i32(9).op("i32.shl").set(shifted);
    f.get(s2).get(s0).op("i32.xor").set(s2);
    f.get(s3).get(s1).op("i32.xor").set(s3);
    f.get(s1).get(s2).op("i32.xor").set(s1);
    f.get(s0).get(s3).op("i32.xor").set(s0);
    f.get(s2).get(shifted).op("i32.xor").set(s2);
    f.get(s3).i32(11).op("i32.rotl").set(s3);
  };
  /** layer = u & 127, hz = (u >>> 7) - 2^24 (a signed 25-bit draw). */
  const split = () => {
    f.get(u).i32(127).op("i32.and").set(layer);
    f.get(u).i32(7).op("i32.shr_u").i32(0x1000000).op("i32.sub").set(hz);
  };
  /** Pushes table[layer] (a float64 table at `base`). */
  const entry = (base: number, offsetLayers = 0) => f.get(layer).i32(8).op("i32.mul").mem("f64.load", base + 8 * offsetLayers, 3);
  /** Pushes |hz| < K[layer]. */
  const inside = () => {
    f.get(hz).op("f64.convert_i32_s").op("f64.abs");
    entry(K);
    f.op("f64.lt");
  };
  /** Pushes Prng.uniform(): (next >>> 5) 2^26 + (next >>> 6), over 2^53. */
  const uniform = () => {
    next();
    f.get(u).i32(5).op("i32.shr_u").op("f64.convert_i32_u").f64(67108864).op("f64.mul").set(a);
    next();
    f.get(a).get(u).i32(6).op("i32.shr_u").op("f64.convert_i32_u").op("f64.add").f64(TWO_POW_53).op("f64.div");
  };

  f.i32(0).mem("i32.load", state, 2).set(s0);
  f.i32(0).mem("i32.load", state + 4, 2).set(s1);
  f.i32(0).mem("i32.load", state + 8, 2).set(s2);
  f.i32(0).mem("i32.load", state + 12, 2).set(s3);
  f.i32(0).get(B).op("i32.lt_s").get(SIZE).i32(0).op("i32.gt_s").op("i32.and").ifThen();
  f.i32(0).set(b).loop();
  f.i32(0).set(j).loop();
  next();
  split();
  f.block();
  // the common case: inside the layer's rectangle
  f.get(hz).op("f64.convert_i32_s");
  entry(W);
  f.op("f64.mul").set(x);
  inside();
  f.brIf(0);
  // Prng.zigguratEdge: the wedges and the tail, until a draw is accepted
  f.loop();
  f.get(hz).op("f64.convert_i32_s");
  entry(W);
  f.op("f64.mul").set(x);
  f.get(layer).op("i32.eqz").ifThen();
  // the tail beyond R: t = -log(1 - U) / R, y = -log(1 - U) until 2y >= t²; x = ±(R + t)
  f.loop();
  f.f64(1);
  uniform();
  f.op("f64.sub").call(LOG, "log").op("f64.neg").f64(ZIGGURAT.R).op("f64.div").set(tt);
  f.f64(1);
  uniform();
  f.op("f64.sub").call(LOG, "log").op("f64.neg").set(y);
  f.get(y).get(y).op("f64.add").get(tt).get(tt).op("f64.mul").op("f64.lt").brIf(0);
  f.end();
  f.f64(ZIGGURAT.R).get(tt).op("f64.add").set(x);
  f.get(hz).i32(0).op("i32.gt_s").op("i32.eqz").ifThen();
  f.f64(-ZIGGURAT.R).get(tt).op("f64.sub").set(x);
  f.end();
  f.br(2);
  f.end();
  // a wedge: accept x when F[layer] + U (F[layer - 1] - F[layer]) < exp(-x²/2)
  entry(F);
  uniform();
  entry(F, -1);
  entry(F);
  f.op("f64.sub").op("f64.mul").op("f64.add");
  f.f64(-0.5).get(x).op("f64.mul").get(x).op("f64.mul").call(EXP, "exp");
  f.op("f64.lt").brIf(1);
  next();
  split();
  f.get(hz).op("f64.convert_i32_s");
  entry(W);
  f.op("f64.mul").set(x);
  inside();
  f.brIf(1);
  f.br(0);
  f.end();
  f.end();
  // dst + j rowBytes + lane0Bytes + 4 b = float32(x)
  f.get(DST).get(j).get(ROW).op("i32.mul").op("i32.add").get(LANE0).op("i32.add").get(b).i32(4).op("i32.mul").op("i32.add");
  f.get(x).op("f32.demote_f64").mem("f32.store", 0, 2);
  f.get(j).i32(1).op("i32.add").tee(j).get(SIZE).op("i32.lt_s").brIf(0);
  f.end();
  f.get(b).i32(1).op("i32.add").tee(b).get(B).op("i32.lt_s").brIf(0);
  f.end();
  f.end();
  f.i32(0).get(s0).mem("i32.store", state, 2);
  f.i32(0).get(s1).mem("i32.store", state + 4, 2);
  f.i32(0).get(s2).mem("i32.store", state + 8, 2);
  f.i32(0).get(s3).mem("i32.store", state + 12, 2);
  return f;
}

/** Draws normals into batched buffers of an arena. */
export class WasmNormals {
  private readonly state: number;
  private readonly fill: (dst: number, B: number, size: number, rowBytes: number, lane0Bytes: number) => void;
  private draws = new Float64Array(0);

  /** Made by WasmArena.normals (one per memory). */
  constructor(private readonly arena: WasmArena) {
    this.state = arena.alloc(16);
    const tables = arena.alloc(3 * 8 * 128);
    const mem = new Float64Array(arena.memory.buffer, tables, 3 * 128);
    mem.set(ZIGGURAT.K, 0);
    mem.set(ZIGGURAT.W, 128);
    mem.set(ZIGGURAT.F, 256);
    const module = new WebAssembly.Module(encodeModule(IMPORTS, [fillFunction(this.state, tables)]));
    const instance = new WebAssembly.Instance(module, { env: { mem: arena.memory }, math: { exp: Math.exp, log: Math.log } });
    this.fill = instance.exports["fill"] as WasmNormals["fill"];
  }

  /**
   * B x size standard normals from `rng`, sample by sample, into the float32 rows at `dst` (row
   * j of `lanes` floats holds element j; the samples start at lane `lane0`). The draws are those
   * of rng.addNormalNoise (or of rng.normal() when it has no bulk stream), in the same order.
   */
  lanes(rng: NormalSource, dst: number, B: number, size: number, lanes: number, lane0: number): void {
    const words = rng.stateWords?.();
    if (words && rng.addNormalNoise) {
      const state = new Uint32Array(this.arena.memory.buffer, this.state, 4);
      state.set(words);
      this.fill(dst, B, size, 4 * lanes, 4 * lane0);
      words.set(new Uint32Array(this.arena.memory.buffer, this.state, 4));
      return;
    }
    if (this.draws.length < B * size) this.draws = new Float64Array(B * size);
    const d = this.draws.subarray(0, B * size).fill(0);
    if (rng.addNormalNoise) rng.addNormalNoise(d, 1);
    else for (let i = 0; i < d.length; i++) d[i] = rng.normal();
    const out = new Float32Array(this.arena.memory.buffer, dst, size * lanes);
    for (let b = 0; b < B; b++) for (let j = 0; j < size; j++) out[j * lanes + lane0 + b] = d[b * size + j]!;
  }
}
