/** Shared helpers for the data-layer tests. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Rng } from "../../../src/runtime/data/rng-types.js";

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/data");
export const SHARED_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../shared/data");

export function fixture(name: string): string {
  return path.join(FIXTURES, name);
}

interface Expected {
  shape: number[];
  values: number[];
}

let expectedCache: Record<string, Expected> | undefined;
/** Shape and C-order values numpy recorded for a fixture (see make_fixtures.py). */
export function expected(name: string): Expected {
  expectedCache ??= (JSON.parse(fs.readFileSync(fixture("expected.json"), "utf8")) as { arrays: Record<string, Expected> }).arrays;
  const e = expectedCache[name];
  if (!e) throw new Error(`no expected values for ${name}`);
  return e;
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rnnc-data-"));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A small deterministic RNG for tests: mulberry32 + Box–Muller. */
export function testRng(seed: number): Rng {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
  };
}
