import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { SourceMap } from 'node:module';
import * as path from 'node:path';

/*
 * What scripts/build.mjs leaves out of each task's bundle and map to keep the .vsix small: ajv's schema
 * compiler (labs.json's validator is precompiled), a second build of the Azure SDK's HTTP stack, and the
 * maps' original identifier names, while a bundle's code still maps to the product's TypeScript sources.
 */

const repoRoot = path.resolve(__dirname, '../../..');
const tasks = fs.readdirSync(path.join(repoRoot, 'tasks')).filter((t) => fs.existsSync(path.join(repoRoot, 'tasks', t, 'index.js.map')));
const read = (task: string, file: string) => fs.readFileSync(path.join(repoRoot, 'tasks', task, file), 'utf8');
const mapOf = (task: string) => JSON.parse(read(task, 'index.js.map')) as { sources: string[]; names: string[]; mappings: string };

describe('the task bundles', () => {
  it('are all built', () => {
    assert.equal(tasks.length, 7, tasks.join(', '));
  });

  it('carry no part of ajv, yet those that read labs.json validate it', () => {
    for (const task of tasks) {
      const sources = mapOf(task).sources;
      assert.deepEqual(sources.filter((s) => s.includes('node_modules/ajv/')), [], task);
      if (task !== 'CleanUpFactory') assert.ok(sources.includes('core/config/labsSchema.ts'), `${task} validates labs.json`);
    }
  });

  it('hold one build of the Azure SDK HTTP stack (its log sanitizer\'s header list once)', () => {
    for (const task of tasks.filter((t) => t !== 'ValidateLabsJson')) {
      const copies = read(task, 'index.js').split('"x-ms-useragent"').length - 1;
      assert.equal(copies, 1, `${task} holds ${copies} copies of @typespec/ts-http-runtime's sanitizer`);
    }
  });

  it('map back to the product\'s sources without the original names', () => {
    for (const task of tasks) {
      const map = mapOf(task);
      assert.deepEqual(map.names, [], task);
      const lines = read(task, 'index.js').split('\n');
      let last = lines.length - 1;
      while (last > 0 && (lines[last].length === 0 || lines[last].startsWith('//#'))) last--;
      const entry = new SourceMap(map as never).findEntry(last, lines[last].length - 5) as { originalSource?: string };
      assert.match(entry.originalSource ?? '', /(^|\/)tasks\/.+\.ts$/, `${task}'s last code is its own index.ts`);
    }
  });
});
