// Takes the README's picture of the image catalog with the headless Chromium the browser tests use.
//
//   npm run demo && node scripts/catalog-screenshot.mjs [page.html] [picture.png]
//
// Defaults: the page the quick start writes (out/catalog/image-catalog.html) and docs/image-catalog.png.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { launchChromium } = require(join(root, 'out', 'test', 'helpers', 'chromium.js'));

const page = resolve(process.argv[2] ?? join(root, 'out', 'catalog', 'image-catalog.html'));
const picture = resolve(process.argv[3] ?? join(root, 'docs', 'image-catalog.png'));
const browser = await launchChromium();
try {
  const width = 1440;
  const tab = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
  await tab.goto(pathToFileURL(page).href);
  // A wide table scrolls inside the page's 1400px column; a picture cannot scroll, so it gets a window wide
  // enough to show every column of both routes (the page as a wider screen shows it), within reason.
  const hidden = await tab.evaluate(() => Math.max(0, ...[...document.querySelectorAll('.scroll')].map((e) => e.scrollWidth - e.clientWidth)));
  if (hidden > 0) {
    await tab.addStyleTag({ content: 'header, main, footer { max-width: none; }' });
    await tab.setViewportSize({ width: Math.min(width + hidden + 16, 2000), height: 900 });
  }
  await tab.screenshot({ path: picture, fullPage: true });
  console.log(`Wrote ${picture}`);
} finally {
  await browser.close();
}
