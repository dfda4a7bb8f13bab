// The documentation cannot drift from the sources: the generated files are what `npm run docs`
// writes now, every command has a page and a README row, the language reference covers every
// setting and built-in, its complete example specs compile, and its links lead somewhere.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { commands, staleFiles } from "../../scripts/docs.js";
import { compileSource } from "../../src/compiler/driver.js";
import { BUILTIN_FUNCTIONS } from "../../src/compiler/check/checker.js";
import { EVAL_KEYS, TRAIN_KEYS } from "../../src/compiler/check/config.js";
import { ALL_CODES } from "../../src/compiler/diagnostics/codes.js";
import { ROOT } from "../helpers/specs.js";

const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

describe("generated documentation", () => {
  it("docs/ERRORS.md, docs/commands/, the tables of docs/LANGUAGE.md and the editor grammar are up to date", () => {
    const stale = staleFiles();
    expect(stale, `out of date: ${stale.join(", ")}; run \`npm run docs\` and commit the result`).toEqual([]);
  });

  it("ERRORS.md explains every diagnostic code", () => {
    const errors = read("docs/ERRORS.md");
    for (const c of ALL_CODES) expect(errors).toContain(`## ${c}\n`);
  });

  it("every command has a page with examples, and a row in the README", () => {
    const readme = read("README.md");
    for (const c of commands()) {
      const page = read(`docs/commands/${c.name()}.md`);
      expect(page).toMatch(new RegExp(`\`\`\`sh\\n(npx rnnc|rnnc) ${c.name()}`));
      expect(readme, c.name()).toContain(`| [\`rnnc ${c.name()}`);
    }
  });
});

describe("the language reference", () => {
  const lang = read("docs/LANGUAGE.md");

  it("documents every training setting, eval setting and built-in function by hand", () => {
    const handWritten = lang.replace(/<!-- generated:[\s\S]*?<!-- end generated:[^>]*-->/g, "");
    for (const k of TRAIN_KEYS) expect(handWritten, k).toContain(`| \`${k}\``);
    for (const k of EVAL_KEYS) expect(handWritten, k).toMatch(new RegExp(`\\b${k}\\s*=`));
    for (const f of BUILTIN_FUNCTIONS) expect(handWritten, f).toMatch(new RegExp(`\\b${f}\\b`));
  });

  it("every complete spec in it compiles without errors", () => {
    const specs = [...lang.matchAll(/```rnn\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((s) => /^model /m.test(s) && /^latent /m.test(s));
    expect(specs.length).toBeGreaterThanOrEqual(2);
    for (const s of specs) {
      const r = compileSource(s, "LANGUAGE.md", { schema: false });
      expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`), s.split("\n")[0]).toEqual([]);
    }
  });
});

describe("links", () => {
  it("every relative link in the README and docs/ points to a file that exists", () => {
    const files = ["README.md", "editors/vscode/README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`), ...readdirSync(join(ROOT, "docs", "commands")).map((f) => `docs/commands/${f}`)];
    const broken: string[] = [];
    for (const f of files) {
      for (const m of read(f).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // an absolute URL
        if (!existsSync(resolve(ROOT, dirname(f), target))) broken.push(`${f}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
