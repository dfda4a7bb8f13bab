// Golden IR of every spec in the zoo (stanc3-style .expected files; refresh with `vitest run -u`),
// plus the verifier run after every pass.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileSource } from "../src/compiler/driver.js";
import { printProgram } from "../src/compiler/ir/print.js";
import { validateSchema, verifyProgram } from "../src/compiler/ir/verify.js";
import { optimize } from "../src/compiler/passes/index.js";

const specDir = join(import.meta.dirname, "..", "specs");
const specs = readdirSync(specDir).filter((f) => f.endsWith(".rnn")).sort();

describe("zoo IR", () => {
  it("has a spec for every model family", () => {
    for (const family of ["plrnn", "dendplrnn", "shplrnn", "alrnn", "ctrnn", "diru", "lstm", "vanilla_dale"]) {
      expect(specs).toContain(`${family}.rnn`);
    }
  });

  for (const f of specs) {
    describe(f, () => {
      const path = join("specs", f);
      const r = compileSource(readFileSync(join(specDir, f), "utf8"), path);

      it("checks without errors", () => {
        expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
        expect(r.ir).toBeDefined();
      });

      it("lowers to the golden IR", async () => {
        await expect(JSON.stringify(r.ir, null, 2) + "\n").toMatchFileSnapshot(join("golden", "ir", f.replace(".rnn", ".ir.json")));
        await expect(printProgram(r.opt!) + "\n").toMatchFileSnapshot(join("golden", "ir", f.replace(".rnn", ".opt.txt")));
      });

      it("passes the schema and the verifier after every pass", () => {
        expect(validateSchema(r.ir)).toEqual([]);
        optimize(r.ir!, (pass, p) => {
          expect(validateSchema(p), pass).toEqual([]);
          expect(() => verifyProgram(p), pass).not.toThrow();
        });
      });
    });
  }
});
