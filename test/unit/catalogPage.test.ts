import * as assert from 'node:assert/strict';
import { buildCatalog } from '../../core/catalog/model';
import { catalogDigest } from '../../core/catalog/digest';
import { renderCatalogPage } from '../../core/catalog/render';
import { held, lab, NOW, source, template } from '../helpers/catalogFixtures';

const HOSTILE_LAB = '<img src=x onerror="alert(1)">Lab';
const HOSTILE_PATH = `Evil/"><script>alert(2)</script>'.json`;
const HOSTILE_NOTES = '</script><script>alert(3)</script> & </style>';
const HOSTILE_REASON = 'denied <b onmouseover=alert(4)>';
const HOSTILE_SUBSCRIPTION = '"><svg onload=alert(5)>';

function hostileModel() {
  return buildCatalog({
    now: NOW,
    factoryLabName: '<i>Factory</i>',
    imagesToSave: 2,
    templates: [template(HOSTILE_PATH, 'Windows', '2022-datacenter', { notes: HOSTILE_NOTES })],
    labs: [lab(0, HOSTILE_LAB, ['Evil']), lab(1, 'Locked', ['Evil'], HOSTILE_SUBSCRIPTION)],
    states: [
      {
        route: 'vhd',
        sourceLabel: 'store',
        source: { ok: true, value: [source(HOSTILE_PATH, 'Dec-01-2026', { name: '<u>image</u>', description: HOSTILE_NOTES })] },
        sourceRetiring: new Map(),
        labs: [
          { labIndex: 0, read: { ok: true, value: [held(HOSTILE_PATH, 'Nov-01-2026', { name: '<u>old</u>', version: '<em>v</em>', retiring: '<s>older</s>' })] } },
          { labIndex: 1, read: { ok: false, reason: HOSTILE_REASON } },
        ],
      },
    ],
  });
}

function hostilePage(): string {
  return renderCatalogPage(hostileModel());
}

describe('catalog page (HTML)', () => {
  it('escapes every value from Azure or files, in text and in attributes', () => {
    const page = hostilePage();
    // The page's own script is the only one; no value opened a tag of its own.
    assert.equal(page.match(/<script/gi)?.length, 1);
    assert.equal(page.match(/<\/script/gi)?.length, 1);
    assert.equal(page.match(/<\/style/gi)?.length, 1);
    for (const tag of ['<img', '<svg', '<b ', '<u>', '<em>', '<s>', '<i>']) assert.ok(!page.includes(tag), `${tag} reached the page unescaped`);
    // No tag of the page carries an event handler: hostile text stays text.
    for (const tag of page.match(/<[a-z][^>]*>/gi) ?? []) assert.doesNotMatch(tag.replace(/"[^"]*"/g, '""'), /\son[a-z]+\s*=/i, tag);
    assert.ok(page.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Lab'));
    assert.ok(page.includes('Evil/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;&#39;.json'));
    assert.ok(page.includes('&lt;/script&gt;&lt;script&gt;alert(3)&lt;/script&gt; &amp; &lt;/style&gt;'));
    assert.ok(page.includes('could not be read: denied &lt;b onmouseover=alert(4)&gt;'));
  });

  it('is self-contained: nothing is fetched from the network or another file', () => {
    const page = hostilePage();
    assert.doesNotMatch(page, /<link\b|<img\b|<iframe\b|@import|url\(/i);
    assert.doesNotMatch(page, /\b(src|href)\s*=\s*"(?!#)/i, 'a src or href that is not a fragment');
    assert.doesNotMatch(page, /https?:\/\//i);
  });

  it('has landmarks, a language, a viewport for phones and table headers with scope', () => {
    const page = hostilePage();
    assert.match(page, /<html lang="en">/);
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    for (const landmark of ['<header>', '<main id="main">', '<footer>', '<nav aria-label="Sections">', 'role="search"']) assert.ok(page.includes(landmark), landmark);
    const headers = page.match(/<th\b[^>]*>/g) ?? [];
    assert.ok(headers.length > 10);
    for (const header of headers) assert.match(header, /scope="(col|row)"/, header);
    assert.match(page, /<label>Search<input type="search" id="f-search"/);
  });

  it('marks the lab that could not be read in its row and its cells', () => {
    const page = hostilePage();
    const row = /<tr data-lab="1"[^>]*>[\s\S]*?<\/tr>/.exec(page)?.[0] ?? '';
    assert.match(row, /data-unreadable="true"/);
    assert.match(row, /class="cell unreadable"/);
    assert.match(row, /lab could not be read/);
  });

  it('digests counts, stale and unread labs for the run summary, names escaped for markdown and the log', () => {
    const digest = catalogDigest(hostileModel(), 'ImageCatalog');
    assert.match(digest, /\| 1 \| 2 \| 1 \| 1 \| 1 \|/);
    assert.ok(digest.includes('| &lt;img src=x onerror="alert(1)"&gt;Lab | 7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310 | Evil/"&gt;&lt;script&gt;alert(2)&lt;/script&gt;\'.json (Dec-01-2026) |'), digest);
    assert.ok(digest.includes('| Locked | "&gt;&lt;svg onload=alert(5)&gt; | could not be read |'), digest);
    assert.match(digest, /artifact \*\*ImageCatalog\*\*/);
    assert.doesNotMatch(digest, /<[a-z]/i);
  });
});
