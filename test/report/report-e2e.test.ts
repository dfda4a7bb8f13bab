// End to end, as a user meets it: `rnnc train` draws the figures into the run directory (and a
// plotting failure only warns), `rnnc report` writes one self-contained HTML file, and headless
// Chromium renders it without console errors or network requests, with working interactions.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tinyDendplrnnSpec } from "../helpers/dendplrnn.js";
import { launchChromium } from "./chromium.js";

const root = join(import.meta.dirname, "..", "..");
const entry = join(root, "test", "helpers", "rnnc-src.ts");
/** Where the screenshot of the rendered report is kept (printed by the test). */
export const SCREENSHOT = join(tmpdir(), "rnnc-report-e2e", "report.png");

function rnnc(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], { cwd: root, env: { ...process.env, RNNC_DEBUG: "" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}

const spec = tinyDendplrnnSpec;


/** An analysis in the format of `rnnc analyze --out` (a 5-unit state; the model observes the first 3). */
const ANALYSIS = {
  method: "scyfi",
  maxCycle: 2,
  objects: [
    { id: "fp1", kind: "fixed_point", period: 1, points: [[0.1, 0.2, 0.3, 0, 0]], eigenvalues: [{ re: 0.9, im: 0 }], spectralRadius: 0.9, stable: true, unstableDirections: 0, regions: ["0011001100"] },
    { id: "fp2", kind: "fixed_point", period: 1, points: [[-1, -1, 1, 0, 0]], eigenvalues: [{ re: 1.4, im: 0.2 }], spectralRadius: 1.41, stable: false, unstableDirections: 2 },
    { id: "cycle2a", kind: "cycle", period: 2, points: [[1, 0, 0, 0, 0], [-1, 0, 0, 0, 0]], eigenvalues: [{ re: 1.2, im: 0 }], spectralRadius: 1.2, stable: false, unstableDirections: 1 },
  ],
  symbolic: { visited: [{ symbol: 1, region: "0011001100", steps: 60, fraction: 0.6, fixedPoint: null }, { symbol: 2, region: "1011001100", steps: 40, fraction: 0.4, fixedPoint: null }], totalRegions: { log2: 10, exact: 1024 }, selfTransitionFraction: 0.8 },
  lyapunov: { exponents: [0.0042] },
  trajectory: { start: "init", steps: 1000, transient: 100, diverged: false },
};

let dir: string;
let run: string;
let trained: { code: number; out: string; err: string };
let guarded: { code: number; out: string; err: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-report-"));
  writeFileSync(join(dir, "tiny.rnn"), spec(3, true));
  writeFileSync(join(dir, "tiny1.rnn"), spec(1, false));
  run = join(dir, "run");
  // A run whose figures cannot be written: `figures` is a file where the folder should go.
  mkdirSync(join(dir, "blocked"));
  writeFileSync(join(dir, "blocked", "figures"), "in the way");
  // Graph tier on the cpu backend: the figures do not depend on the tier.
  [trained, guarded] = await Promise.all([
    rnnc("train", join(dir, "tiny.rnn"), "--out", run, "--backend", "cpu", "--tier", "graph"),
    rnnc("train", join(dir, "tiny1.rnn"), "--out", join(dir, "blocked"), "--backend", "cpu", "--tier", "graph"),
  ]);
}, 120_000);

describe("figures at the end of training", () => {
  it("writes every figure of a series model as SVG and PNG, with the plotted data", () => {
    expect(trained.err).not.toMatch(/warning|internal/);
    expect(trained.code).toBe(0);
    expect(trained.out).toContain(`6 figures in ${join(run, "figures")}`);
    for (const name of ["timeseries", "attractor", "attractor3d", "spectra", "training", "measures"]) {
      expect(readFileSync(join(run, "figures", `${name}.svg`), "utf8")).toMatch(/^<svg/);
      expect(readFileSync(join(run, "figures", `${name}.png`)).subarray(1, 4).toString()).toBe("PNG");
    }
    const data = JSON.parse(readFileSync(join(run, "figures", "data.json"), "utf8"));
    expect(data).toMatchObject({ version: 1, model: "tiny", params: "best.npz", data: { kind: "series", features: ["x[0]", "x[1]", "x[2]"] } });
    expect(data.data.window.true).toHaveLength(1500);
    expect(data.data.freeRun).toEqual({ steps: 2500, dropped: 500, diverged: expect.any(Boolean) });
  });

  it("a plotting failure only warns: training succeeds and its results are kept", () => {
    expect(guarded.code).toBe(0);
    expect(guarded.err).toMatch(/rnnc: warning: the figures could not be drawn \(.*\); the trained model is unaffected/);
    expect(guarded.err).not.toMatch(/internal compiler error|^\s+at /m);
    expect(existsSync(join(dir, "blocked", "params.npz"))).toBe(true);
    expect(guarded.out).toContain("rnnc: done");
  });
});

describe("rnnc report", () => {
  let html: string;
  beforeAll(async () => {
    writeFileSync(join(run, "analysis.json"), JSON.stringify(ANALYSIS));
    const r = await rnnc("report", run);
    expect(r.err).not.toMatch(/warning|internal/);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`rnnc: wrote ${join(run, "report.html")} (8 figures)`);
    html = readFileSync(join(run, "report.html"), "utf8");
  }, 60_000);

  it("draws the analysis figures it did not have and writes one self-contained file", () => {
    for (const name of ["fixedpoints", "regions"]) expect(existsSync(join(run, "figures", `${name}.png`))).toBe(true);
    // Nothing is loaded from elsewhere: no external scripts, styles, images or fonts.
    expect(html).not.toMatch(/<(script|img|iframe)[^>]+src=|<link[^>]+href=|@import|url\(\s*['"]?https?:/i);
    expect(html).toContain("<h2>Fixed points and cycles</h2>");
    expect(html).toContain("regions visited</th><td>2 of 1024");
    expect(html).toContain('<span class="kw">latent</span>'); // the spec, highlighted by the lexer
  });

  it("recomputes the figure data when training left none (the data regenerated from the spec)", async () => {
    const blocked = join(dir, "blocked");
    rmSync(join(blocked, "figures"));
    const r = await rnnc("report", blocked);
    expect(r.code).toBe(0);
    expect(r.err).toContain("computing the figure data");
    expect(r.out).toContain("(5 figures)"); // no eval block: no measures figure
    const data = JSON.parse(readFileSync(join(blocked, "figures", "data.json"), "utf8"));
    expect(data).toMatchObject({ model: "tiny", params: "params.npz", data: { kind: "series" } });
    // The same data as training used: the test trajectory starts where the trained run's does.
    const trainedData = JSON.parse(readFileSync(join(run, "figures", "data.json"), "utf8"));
    expect(data.data.window.true.slice(0, 50)).toEqual(trainedData.data.window.true.slice(0, 50));
  }, 60_000);

  it("says when the run directory is not one, with exit 1 and no stack trace", async () => {
    const r = await rnnc("report", dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/is not a run directory/);
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  it("renders in headless Chromium without errors, offline, with tooltips and a rotatable 3-D view", async (ctx) => {
    const started = await launchChromium();
    if ("reason" in started) {
      console.warn(`report rendering test skipped: ${started.reason}`);
      ctx.skip();
      return;
    }
    const { browser } = started;
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      const external: string[] = [];
      await page.route("**/*", (route) => {
        if (route.request().url().startsWith("file:")) return route.continue();
        external.push(route.request().url());
        return route.abort();
      });
      await page.goto("file://" + join(run, "report.html"));
      await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });

      const figures = await page.$$eval(".fig[data-spec]", (els) => els.map((e) => [e.id, e.getAttribute("data-rendered"), e.querySelector("canvas") ? "canvas" : "none"]));
      expect(figures.map((f) => f[0])).toEqual(["fig-timeseries", "fig-attractor", "fig-spectra", "fig-training", "fig-measures", "fig-fixedpoints", "fig-regions"]);
      for (const f of figures) expect(f.slice(1), f[0]!).toEqual(["true", "canvas"]);

      // Hovering the time series shows the values of both trajectories at that step.
      const ts = (await page.$("#fig-timeseries canvas"))!;
      const box = (await ts.boundingBox())!;
      await ts.scrollIntoViewIfNeeded();
      const box2 = (await ts.boundingBox())!;
      await page.mouse.move(box2.x + box.width * 0.5, box2.y + 120);
      await page.waitForSelector(".tip", { state: "visible", timeout: 5_000 });
      expect(await page.textContent(".tip")).toMatch(/step\d+.*true.*generated/s);

      // Dragging the 3-D view rotates it.
      const viewer = (await page.$("#fig-attractor3d"))!;
      expect(await viewer.getAttribute("data-rendered")).toBe("true");
      const before = await viewer.getAttribute("data-view");
      const c = (await page.$("#fig-attractor3d canvas"))!;
      await c.scrollIntoViewIfNeeded();
      const cb = (await c.boundingBox())!;
      await page.mouse.move(cb.x + 200, cb.y + 200);
      await page.mouse.down();
      await page.mouse.move(cb.x + 260, cb.y + 230, { steps: 4 });
      await page.mouse.up();
      const after = await viewer.getAttribute("data-view");
      expect(after).not.toBe(before);
      const [az0, el0] = before!.split(" ").map(Number);
      const [az1, el1] = after!.split(" ").map(Number);
      expect(az1! - az0!).toBeCloseTo(0.6, 1);
      expect(el1! - el0!).toBeCloseTo(0.3, 1);

      mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.log(`screenshot of the rendered report: ${SCREENSHOT}`);
      expect(problems).toEqual([]);
      expect(external).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});

