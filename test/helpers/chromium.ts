import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * The headless Chromium the page tests and the README's screenshot use: Debian's `chromium` package (or
 * CHROMIUM_PATH), driven by playwright-core. Without it the tests fail with this message rather than pass.
 */
export const CHROMIUM_MISSING =
  "Chromium is not installed: the catalog's browser tests need Debian's chromium package (apt-get install chromium; .ci/run installs it), or CHROMIUM_PATH naming a Chromium executable.";

export function chromiumPath(): string {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`CHROMIUM_PATH is '${given}', which does not exist. ${CHROMIUM_MISSING}`);
    return given;
  }
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (found) return found;
    } catch {
      // not on PATH; try the next name
    }
  }
  throw new Error(CHROMIUM_MISSING);
}

export async function launchChromium(): Promise<Browser> {
  // As root (CI, containers) Chromium's sandbox cannot start; the pages are the product's own files.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
