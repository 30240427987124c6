// Draws the task icons (tasks/<Task>/icon.png, 32×32) and the extension icon (images/extension-icon.png,
// 128×128) as plain PNGs. The PNGs are committed; run `node scripts/icons.mjs` after changing a drawing.
// Each picture is a white glyph on a coloured rounded square, described as shapes in a unit square and
// anti-aliased by supersampling, so the icons stay legible at 16 px in the pipeline editor.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = resolve(fileURLToPath(import.meta.url), '../..');

// Shapes: (x, y) in [0, 1]² -> inside?
const circle = (cx, cy, r) => (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
const roundRect = (x0, y0, x1, y1, r) => (x, y) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
  const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
  return dx * dx + dy * dy <= r * r;
};
const stroke = (points, width) => (x, y) => {
  for (let i = 0; i + 1 < points.length; i++) {
    const [ax, ay] = points[i];
    const [bx, by] = points[i + 1];
    const lx = bx - ax;
    const ly = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * lx + (y - ay) * ly) / (lx * lx + ly * ly)));
    if ((x - ax - t * lx) ** 2 + (y - ay - t * ly) ** 2 <= (width / 2) ** 2) return true;
  }
  return false;
};
const polygon = (points) => (x, y) => {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
const union = (...shapes) => (x, y) => shapes.some((s) => s(x, y));
const minus = (a, b) => (x, y) => a(x, y) && !b(x, y);

const glyphs = {
  // A check mark: the configuration passes.
  ValidateLabsJson: stroke([[0.24, 0.52], [0.43, 0.71], [0.77, 0.31]], 0.13),
  // A monitor with a plus: a VM is made.
  MakeGoldenImageVMs: union(
    minus(roundRect(0.16, 0.2, 0.84, 0.66, 0.06), roundRect(0.23, 0.27, 0.77, 0.59, 0.03)),
    roundRect(0.44, 0.66, 0.56, 0.76, 0.01),
    roundRect(0.32, 0.75, 0.68, 0.81, 0.02),
    roundRect(0.46, 0.33, 0.54, 0.53, 0.01),
    roundRect(0.4, 0.39, 0.6, 0.47, 0.01),
  ),
  // A camera: a VM's disk is captured.
  SnapImagesFromVMs: union(
    minus(roundRect(0.18, 0.34, 0.82, 0.76, 0.07), circle(0.5, 0.55, 0.13)),
    circle(0.5, 0.55, 0.07),
    roundRect(0.37, 0.26, 0.63, 0.36, 0.03),
  ),
  // One source fanning out to three labs.
  DistributeImages: union(
    circle(0.27, 0.5, 0.09),
    circle(0.74, 0.27, 0.075),
    circle(0.74, 0.5, 0.075),
    circle(0.74, 0.73, 0.075),
    stroke([[0.27, 0.5], [0.74, 0.27]], 0.06),
    stroke([[0.27, 0.5], [0.74, 0.5]], 0.06),
    stroke([[0.27, 0.5], [0.74, 0.73]], 0.06),
  ),
  // A bin: old images go.
  RetireImages: union(
    minus(polygon([[0.29, 0.36], [0.71, 0.36], [0.66, 0.8], [0.34, 0.8]]), union(
      roundRect(0.39, 0.44, 0.44, 0.72, 0.02),
      roundRect(0.56, 0.44, 0.61, 0.72, 0.02),
    )),
    roundRect(0.24, 0.27, 0.76, 0.33, 0.02),
    roundRect(0.42, 0.2, 0.58, 0.28, 0.02),
  ),
  // A broom: the factory lab is swept.
  CleanUpFactory: union(
    stroke([[0.74, 0.18], [0.5, 0.5]], 0.08),
    minus(
      polygon([[0.42, 0.44], [0.58, 0.56], [0.44, 0.8], [0.2, 0.62]]),
      union(stroke([[0.34, 0.77], [0.42, 0.64]], 0.035), stroke([[0.26, 0.71], [0.37, 0.6]], 0.035)),
    ),
  ),
  // A table: which lab holds which image.
  PublishImageCatalog: minus(
    roundRect(0.18, 0.22, 0.82, 0.78, 0.05),
    union(
      roundRect(0.25, 0.4, 0.4, 0.52, 0.01),
      roundRect(0.44, 0.4, 0.59, 0.52, 0.01),
      roundRect(0.63, 0.4, 0.75, 0.52, 0.01),
      roundRect(0.25, 0.58, 0.4, 0.71, 0.01),
      roundRect(0.44, 0.58, 0.59, 0.71, 0.01),
      roundRect(0.63, 0.58, 0.75, 0.71, 0.01),
    ),
  ),
};

// Three stacked layers: golden images produced and shipped.
const layer = (dy) => polygon([[0.5, 0.2 + dy], [0.82, 0.36 + dy], [0.5, 0.52 + dy], [0.18, 0.36 + dy]]);
const extensionGlyph = union(
  layer(0),
  minus(layer(0.13), layer(0.07)),
  minus(layer(0.26), layer(0.2)),
);

const colors = {
  ValidateLabsJson: [0x10, 0x7c, 0x41],
  MakeGoldenImageVMs: [0x8a, 0x5a, 0x00],
  SnapImagesFromVMs: [0x00, 0x63, 0xb1],
  DistributeImages: [0x5c, 0x2d, 0x91],
  RetireImages: [0xc2, 0x4e, 0x00],
  CleanUpFactory: [0x00, 0x7a, 0x7a],
  PublishImageCatalog: [0x8a, 0x1c, 0x5a],
  extension: [0x00, 0x4e, 0x8c],
};

function render(size, glyph, [r, g, b]) {
  const background = roundRect(0.02, 0.02, 0.98, 0.98, 0.16);
  const samples = 4;
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let bg = 0;
      let fg = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          if (background(x, y)) {
            bg++;
            if (glyph(x, y)) fg++;
          }
        }
      }
      const n = samples * samples;
      const o = (py * size + px) * 4;
      const white = bg ? fg / bg : 0;
      rgba[o] = Math.round(r + (255 - r) * white);
      rgba[o + 1] = Math.round(g + (255 - g) * white);
      rgba[o + 2] = Math.round(b + (255 - b) * white);
      rgba[o + 3] = Math.round((255 * bg) / n);
    }
  }
  return encodePng(size, size, rgba);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function write(file, png) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, png);
  console.log(`${file.slice(root.length + 1)} (${png.length} bytes)`);
}

for (const [task, glyph] of Object.entries(glyphs)) {
  write(join(root, 'tasks', task, 'icon.png'), render(32, glyph, colors[task]));
}
write(join(root, 'images', 'extension-icon.png'), render(128, extensionGlyph, colors.extension));
