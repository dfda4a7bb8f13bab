// Vega-Lite → Vega → SVG in Node, and SVG → PNG with resvg. The libraries are loaded on first use
// (a few hundred milliseconds), so commands that draw nothing never pay for them.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { VlSpec } from "./specs.js";

type VegaModule = typeof import("vega");
type VegaLiteModule = typeof import("vega-lite");
type ResvgModule = typeof import("@resvg/resvg-js");

let libs: Promise<{ vega: VegaModule; vl: VegaLiteModule }> | undefined;
function plotting(): Promise<{ vega: VegaModule; vl: VegaLiteModule }> {
  libs ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vl]) => ({ vega, vl }));
  return libs;
}

/** Vega-Lite's warnings (e.g. a log scale meeting a zero) are about the data, not for the terminal. */
function quietLogger(warnings: string[]) {
  const logger = {
    level: () => logger,
    error: (...a: unknown[]) => warnings.push(a.join(" ")),
    warn: (...a: unknown[]) => warnings.push(a.join(" ")),
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** A Vega specification compiled from Vega-Lite (what the HTML report embeds). */
export async function compileToVega(spec: VlSpec): Promise<Record<string, unknown>> {
  const { vl } = await plotting();
  const warnings: string[] = [];
  return vl.compile(spec as never, { logger: quietLogger(warnings) as never }).spec as unknown as Record<string, unknown>;
}

export async function renderSvg(spec: VlSpec): Promise<string> {
  const { vega } = await plotting();
  const view = new vega.View(vega.parse((await compileToVega(spec)) as never), { renderer: "none" });
  view.logLevel(vega.None);
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

let resvg: Promise<ResvgModule> | undefined;

/** PNG at `scale` x the SVG's size (2: sharp on high-density screens and in slides). */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  resvg ??= import("@resvg/resvg-js");
  const { Resvg } = await resvg;
  const r = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans", monospaceFamily: "DejaVu Sans Mono" },
  });
  return r.render().asPng();
}

/** The browser build of Vega (one self-contained script), for inlining into the HTML report. */
export function vegaBrowserScriptPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("vega")), "vega.min.js");
}
