import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runPool } from '../../core/pool';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runPool', () => {
  it('never runs more than the limit at once and runs every item', async () => {
    let running = 0;
    let peak = 0;
    const results = await runPool([5, 1, 8, 2, 3, 1, 4], 3, async (ms) => {
      running++;
      peak = Math.max(peak, running);
      await tick(ms);
      running--;
      return ms * 10;
    });
    assert.equal(peak, 3);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : r.status)),
      [50, 10, 80, 20, 30, 10, 40],
    );
  });

  it('hands a freed slot to the next item at once', async () => {
    const started: Record<number, number> = {};
    const t0 = Date.now();
    await runPool([0, 1, 2], 2, async (index) => {
      started[index] = Date.now() - t0;
      await tick(index === 0 ? 20 : 200);
    });
    // Item 2 starts when item 0 ends (about 20 ms), not when the slower item 1 ends.
    assert.ok(started[2] < 150, `item 2 started after ${started[2]} ms`);
  });

  it('keeps going when an item fails and reports the failure in place', async () => {
    const results = await runPool(['a', 'b', 'c'], 2, async (item) => {
      if (item === 'b') throw new Error('b broke');
      return item.toUpperCase();
    });
    assert.deepEqual(results[0], { status: 'fulfilled', value: 'A' });
    assert.equal(results[1].status, 'rejected');
    assert.match(String((results[1] as { reason: Error }).reason), /b broke/);
    assert.deepEqual(results[2], { status: 'fulfilled', value: 'C' });
  });

  it('starts no new item after the signal aborts and passes the signal to running ones', async () => {
    const controller = new AbortController();
    const seen: boolean[] = [];
    const results = await runPool(
      [1, 2, 3, 4],
      1,
      async (item, _index, signal) => {
        if (item === 2) controller.abort();
        seen.push(signal.aborted);
        return item;
      },
      { signal: controller.signal },
    );
    assert.deepEqual(seen, [false, true]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'not-started', 'not-started'],
    );
  });

  it('refuses a limit below one', async () => {
    await assert.rejects(runPool([1], 0, async (x) => x), RangeError);
  });
});

describe('runPool is p-limit', () => {
  const repoRoot = path.resolve(__dirname, '../../..');
  const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8'));

  it('pinned to one exact version in package.json and package-lock.json, as a runtime dependency', () => {
    const version = readJson('package.json').dependencies['p-limit'];
    assert.match(version, /^\d+\.\d+\.\d+$/, 'an exact version');
    const locked = readJson('package-lock.json').packages['node_modules/p-limit'];
    assert.equal(locked.version, version);
    assert.notEqual(locked.dev, true);
  });

  it('bundled into every task that runs jobs side by side', () => {
    for (const task of ['SnapImagesFromVMs', 'DistributeImages', 'RetireImages', 'CleanUpFactory']) {
      const map = readJson(`tasks/${task}/index.js.map`);
      assert.ok(map.sources.includes('node_modules/p-limit/index.js'), `${task}'s bundle holds p-limit`);
      assert.ok(map.sources.includes('core/pool.ts'), `${task}'s bundle runs jobs through core/pool.ts`);
    }
  });
});
