// SCYFI's own test vectors (DurstewitzLab/SCYFI test/convPLRNN_tests.jl, as listed in
// ../shared/reference/neuro-anchors.md §3.3), run through the IR: the PLRNN fixture is compiled,
// the piecewise-linear structure is derived from its step, and SCYFI runs with the tests' loop
// counts and a fixed seed. Every reported cycle is re-checked with a hand-written PLRNN step.
import { describe, expect, it } from "vitest";
import { distance, type InvariantObject } from "../../src/runtime/analysis/objects.js";
import { findPlCycles, scyfiLoopCounts } from "../../src/runtime/analysis/scyfi.js";
import { Prng } from "../../src/runtime/train/prng.js";
import { maps, plrnn2d, plrnnProgram, plrnnStep } from "./helpers.js";

const P2 = plrnnProgram(2);

function run(raw: Record<string, Float64Array>, maxOrder: number, outer: number, inner: number, opts: { exhaustiveLimit?: number; seed?: number; M?: number } = {}): InvariantObject[] {
  const { pl } = maps(opts.M ? plrnnProgram(opts.M) : P2, raw);
  const res = findPlCycles(pl!, { maxOrder, outer, inner, rng: new Prng(opts.seed ?? 0), sampling: "uniform", exhaustiveLimit: opts.exhaustiveLimit ?? 0 });
  for (const o of res.objects) checkOrbit(raw, o);
  return res.objects;
}

/** The orbit is a true k-cycle of the hand-written map, with minimal period k, in its regions. */
function checkOrbit(raw: Record<string, Float64Array>, o: InvariantObject): void {
  const k = o.period;
  let z: Float64Array = Float64Array.from(o.points[0]!);
  const scale = 1 + Math.max(...o.points.flat().map(Math.abs));
  for (let t = 0; t < k; t++) {
    expect(distance(z, o.points[t]!)).toBeLessThan(1e-9 * scale);
    z = plrnnStep(raw, z);
  }
  expect(distance(z, o.points[0]!)).toBeLessThan(1e-9 * scale);
  for (let t = 1; t < k; t++) expect(distance(o.points[t]!, o.points[0]!)).toBeGreaterThan(1e-6 * scale);
  expect(o.regions!.map((r, t) => r === o.points[t]!.map((x) => (x > 0 ? 1 : 0)).join(""))).toEqual(new Array(k).fill(true));
}

const count = (objs: InvariantObject[], period: number) => objs.filter((o) => o.period === period).length;

describe("SCYFI test vectors (2-D PLRNN)", () => {
  it("loop counts are SCYFI's defaults", () => {
    expect([1, 2, 3, 5, 6, 7, 8, 19, 20, 29, 30, 80].map((k) => Object.values(scyfiLoopCounts(k)).join("/"))).toEqual(["10/20", "10/20", "10/60", "10/60", "10/300", "10/300", "40/1080", "40/1080", "40/1115", "40/1115", "100/1115", "100/1115"]);
  });

  it("fixed point at (0.36, -22.26), stable", () => {
    const raw = plrnn2d(-0.022231099999999948, 0.96461297, -0.6437499999999996, 0.52505308, 0.37298253000000087, -0.97931491);
    const objs = run(raw, 1, 10, 20);
    expect(objs.length).toBe(1);
    expect(objs[0]!.points[0]!.map((x) => Math.round(x * 100) / 100)).toEqual([0.36, -22.26]);
    expect(objs[0]!.stable).toBe(true);
    // exhaustive enumeration of the 4 regions agrees, and finds the other 3 region fixed points virtual
    const { pl } = maps(P2, raw);
    const ex = findPlCycles(pl!, { maxOrder: 1, rng: new Prng(0), sampling: "uniform", exhaustiveLimit: 4 });
    expect(ex.stats[0]).toMatchObject({ method: "exhaustive", found: 1, virtual: 3, complete: true });
  });

  it("one fixed point of the 'holes' system", () => {
    expect(count(run(plrnn2d(0.7, -0.7, -0.14375, 0.52505308, 0.37298253, -0.97931491), 1, 10, 20), 1)).toBe(1);
  });

  const cases: { k: number; none: number; p: [number, number, number, number, number, number]; loops: [number, number] }[] = [
    { k: 16, none: 15, p: [0.8377689000000008, 0.96461297, -0.6437499999999996, 0.52505308, 0.37298253000000087, -0.97931491], loops: [10, 50] },
    { k: 27, none: 25, p: [0.9777689, 0.96461297, -0.14375, 0.52505308, 0.37298253, -0.97931491], loops: [10, 50] },
    { k: 31, none: 30, p: [0.9777689, 0.96461297, -0.14375, 1.1750530800000014, 0.37298253, -0.97931491], loops: [10, 50] },
    { k: 40, none: 38, p: [0.9777689, 0.96461297, -0.6437499999999996, 0.52505308, 0.37298253000000087, -0.97931491], loops: [10, 50] },
    { k: 53, none: 50, p: [0.9377689000000009, 0.96461297, -0.6437499999999996, 0.52505308, 0.37298253000000087, -0.97931491], loops: [10, 50] },
    { k: 80, none: 70, p: [0.9777689, 0.96461297, -0.14375, 0.52505308, 0.37298253, -0.779314909999999], loops: [20, 100] },
    { k: 83, none: 80, p: [0.9777689, 0.96461297, -0.14375, 0.675053080000001, 0.37298253, -0.97931491], loops: [20, 100] },
  ];
  for (const c of cases) {
    it(`two ${c.k}-cycles and no ${c.none}-cycle (orders 1..${c.k}, outer ${c.loops[0]}, inner ${c.loops[1]})`, () => {
      const t0 = performance.now();
      const objs = run(plrnn2d(...c.p), c.k, ...c.loops);
      const seconds = (performance.now() - t0) / 1000;
      expect(count(objs, c.k)).toBe(2);
      expect(count(objs, c.none)).toBe(0);
      // one stable and one unstable cycle in each of these systems
      const cyc = objs.filter((o) => o.period === c.k);
      expect(cyc.map((o) => o.stable).sort()).toEqual([false, true]);
      // the speed bound: SCYFI up to 80-cycles in 2-D within seconds (loaded CI: generous)
      expect(seconds).toBeLessThan(20);
    });
  }

  it("the 65-cycle system: the stable 65-cycle (|λ| 0.411, 0.411) is always found", () => {
    const objs = run(plrnn2d(0.9777689, 0.96461297, -0.14375, 1.3250530800000015, 0.37298253, -0.97931491), 65, 20, 60, { seed: 1 });
    const stable = objs.filter((o) => o.period === 65 && o.stable);
    expect(stable.length).toBe(1);
    expect(stable[0]!.spectralRadius).toBeCloseTo(0.411, 3);
    expect(count(objs, 60)).toBe(0);
  });
});

describe("SCYFI test vector (10-D PLRNN)", () => {
  const W = [[1.7141654, 0.90136945, 0.7356431, -0.45661467, -1.0216872, -2.1104505, -0.1265201, 0.8208984, -0.16492529, 0.10196607], [1.2489663, 0.36885896, 0.47238302, -0.4648625, -0.8395844, -1.6625919, -0.27828497, 0.4668116, 0.2430289, 0.43664113], [0.4888246, 0.31421587, 0.061512344, 0.03574979, -0.43089348, -0.9017075, 0.06113107, 0.45323887, -0.12256672, -0.22407334], [-0.8275283, -0.6372472, -0.6524501, 0.5350839, 0.143212, 0.3879285, 0.17147072, 0.18457298, 0.33618844, -0.31503707], [0.4699096, 0.36021802, 0.40548527, -0.773131, -0.41375652, -0.45799288, -0.33785427, 0.0071197264, -0.12557332, 0.4461898], [1.7938753, 0.933799, 0.9427183, -0.4197829, -1.0978042, -2.340497, -0.60876435, 0.8649732, -0.11037506, 0.4225005], [-0.46095127, -0.282801, -0.14612287, 0.23626074, 0.43258965, 0.68257767, 0.36670405, -0.25161934, 0.1560926, -0.09981756], [-0.1794313, -0.046297066, -0.23596726, 0.60501343, 0.077439524, -0.037234787, 0.18110584, 0.3498277, -0.007887238, -0.4353217], [-0.3996467, -0.28196895, -0.1993325, -0.027839307, 0.20849963, 0.4165471, 0.17119904, -0.2667973, 0.25180992, 0.13836445], [0.4042766, 0.52036214, 0.21992852, -0.1569775, 0.024118641, -0.08136176, -0.20892598, -0.1640525, -0.3731168, 0.09140323]];
  const h = [-0.25387551903975236, -0.12912468150368078, -0.3746121660912428, 0.5381540053468717, 0.13797574730440254, -0.9145060467607822, -0.47008295657633226, 0.23037773308426446, 0.5373384681742799, 0.32054443856805936];
  const raw = { A: new Float64Array(10).fill(0.09658233076334), W: Float64Array.from(W.flat()), h: Float64Array.from(h) };

  it("two 10-cycles, no 9-cycle; exhaustive enumeration of the 1024 regions finds exactly 3 fixed points (1/0/2 unstable)", () => {
    const objs = run(raw, 10, 20, 80, { M: 10, exhaustiveLimit: 1024 });
    expect(count(objs, 10)).toBe(2);
    expect(count(objs, 9)).toBe(0);
    const fps = objs.filter((o) => o.period === 1);
    expect(fps.length).toBe(3);
    expect(fps.every((o) => o.method === "exhaustive")).toBe(true);
    expect(fps.map((o) => o.unstableDirections).sort()).toEqual([0, 1, 2]);
  });
});
