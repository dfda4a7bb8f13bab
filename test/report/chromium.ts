// Headless Chromium for the report test: Debian's `chromium` (the CI script installs it with apt
// when missing), driven by playwright-core, which downloads no browser of its own.
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";

const CANDIDATES = [process.env["CHROMIUM_PATH"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** A started browser, or why there is none (the test then skips and says so). */
export async function launchChromium(): Promise<{ browser: Browser } | { reason: string }> {
  const path = CANDIDATES.find((p): p is string => Boolean(p) && existsSync(p!));
  if (!path) return { reason: "no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)" };
  try {
    const { chromium } = await import("playwright-core");
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    return { browser: await chromium.launch({ executablePath: path, args: ["--no-sandbox", "--disable-gpu"], timeout: 30_000 }) };
  } catch (e) {
    return { reason: `${path} did not start: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}` };
  }
}
