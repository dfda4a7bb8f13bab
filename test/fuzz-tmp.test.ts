import { it } from "vitest";
import { compileSource } from "../src/compiler/driver.js";
const cases: Record<string, string> = {
  semis200k: ") model m\n" + ";".repeat(200_000),
  semis130k: ") model m\n" + ";".repeat(130_000),
  junk3000: "model m ) ".repeat(3000),
  junk2000: "model m ) ".repeat(2000),
  params3000: `params { ${"W : [M] = ) ".repeat(3000)} }`,
  name100k: "a".repeat(100_000),
  model100k: `model ${"m".repeat(100_000)} "${"t".repeat(100_000)}"`,
  parens1M: "(".repeat(1 << 20),
  braces1M: "{".repeat(1 << 20),
  unary1M: `model m\nconst x = ${"-".repeat(1 << 20)}1\n`,
};
it("timing", () => {
  for (const [k, v] of Object.entries(cases)) {
    const t = performance.now();
    const r = compileSource(v, "x");
    console.log(k, (performance.now() - t).toFixed(0), r.diagnostics.length);
  }
});
