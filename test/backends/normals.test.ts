import { describe, expect, it } from "vitest";
import { WasmArena } from "../../src/compiler/backends/wasm/exec.js";
import { WasmNormals } from "../../src/compiler/backends/wasm/normals.js";
import { Prng } from "../../src/runtime/train/prng.js";

/** The host's way: addNormalNoise into zeros, then sample b's element j to lane lane0 + b of row j. */
function hostLanes(rng: Prng, B: number, size: number, lanes: number, lane0: number, out: Float32Array): void {
  const d = rng.addNormalNoise(new Float64Array(B * size), 1);
  for (let b = 0; b < B; b++) for (let j = 0; j < size; j++) out[j * lanes + lane0 + b] = d[b * size + j]!;
}

describe("WasmNormals", () => {
  it("draws addNormalNoise's stream bit for bit into the lanes (wedges and tail included)", () => {
    const arena = new WasmArena();
    const normals = new WasmNormals(arena);
    for (const [seed, B, size, lanes, lane0] of [[1, 16, 64, 16, 0], [2, 3, 5, 8, 4], [3, 37, 20, 64, 20], [4, 1, 1, 4, 3]] as const) {
      const dst = arena.alloc(4 * size * lanes);
      const wasmRng = new Prng(seed);
      const hostRng = new Prng(seed);
      const expected = new Float32Array(size * lanes).fill(7);
      // 200 rounds: about 2 million draws for the largest case, so rejection steps and the tail occur
      for (let round = 0; round < 200; round++) {
        new Float32Array(arena.memory.buffer, dst, size * lanes).fill(7);
        normals.lanes(wasmRng, dst, B, size, lanes, lane0);
        hostLanes(hostRng, B, size, lanes, lane0, expected);
        expect(new Float32Array(arena.memory.buffer, dst, size * lanes)).toEqual(expected);
      }
      expect(wasmRng.getState()).toEqual(hostRng.getState());
    }
  });

  it("falls back to the host for sources without state words", () => {
    const arena = new WasmArena();
    const normals = new WasmNormals(arena);
    let k = 0;
    const source = { normal: () => ++k };
    const dst = arena.alloc(4 * 2 * 4);
    normals.lanes(source, dst, 3, 2, 4, 1);
    expect(Array.from(new Float32Array(arena.memory.buffer, dst, 8))).toEqual([0, 1, 3, 5, 0, 2, 4, 6]);
  });
});
