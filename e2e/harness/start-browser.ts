import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's chromium, which scripts/test.sh installs when it is missing; CHROMIUM_BIN overrides it. */
export const chromiumPath = process.env["CHROMIUM_BIN"] ?? "/usr/bin/chromium";

/** Where tests save screenshots: e2e/artifacts/ (gitignored), kept after the run. */
export const artifactsDir = fileURLToPath(new URL("../artifacts/", import.meta.url));

/**
 * Headless Chromium with a fresh profile, closed (and its profile removed) in `t.after`.
 * The flags keep it from reaching for the network, which is closed on our machines:
 * without them it stalls on background fetches, component updates and QUIC probes.
 */
export async function startBrowser(options: { readonly t: TestContext }): Promise<BrowserContext> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`no Chromium at ${chromiumPath}: run \`apt-get install -y chromium\` (scripts/test.sh does) or set CHROMIUM_BIN`);
  }
  const profile = mkdtempSync(join(tmpdir(), "cp-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  options.t.after(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  return context;
}

/** The path a screenshot named `name` is saved at (the directory is made). */
export function artifactPath(name: string): string {
  mkdirSync(artifactsDir, { recursive: true });
  return join(artifactsDir, name);
}
