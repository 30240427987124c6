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
  const tab = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await tab.goto(pathToFileURL(page).href);
  await tab.screenshot({ path: picture, fullPage: true });
  console.log(`Wrote ${picture}`);
} finally {
  await browser.close();
}
