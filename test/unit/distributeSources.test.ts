import * as assert from 'node:assert/strict';
import type { LabRef, LabStorage } from '../../core/azure/labs';
import { scheduleOrder } from '../../core/distribute/distribute';
import { SourceBoard } from '../../core/distribute/fanOut';
import type { DistributionJob } from '../../core/distribute/plan';
import { storeSource } from '../../core/distribute/regions';
import { type SourceCandidate, chooseSource } from '../../core/distribute/sources';
import { factoryImage } from '../scenarios/distribute/factory';

const SUB = '11111111-1111-1111-1111-111111111111';

function labRef(name: string, location = 'westus2'): LabRef {
  return { id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/${name}`, subscriptionId: SUB, resourceGroup: 'rg', name, location };
}

const store = (readers: number, location = 'westus2'): SourceCandidate => ({ key: 'store', store: true, location, readers });
const labCopy = (key: string, readers: number, location = 'westus2'): SourceCandidate => ({ key, store: false, location, readers });

describe('copy source choice', () => {
  it('reads the store while it is the only source and free', () => {
    assert.equal(chooseSource([store(0)], 'westus2')?.key, 'store');
  });

  it('waits rather than share a busy source: one reader per source keeps each copy at its own rate', () => {
    assert.equal(chooseSource([store(1)], 'westus2'), undefined);
    assert.equal(chooseSource([store(1), labCopy('a', 1)], 'westus2'), undefined);
  });

  it('takes a free lab copy before the store, and a free one before a busy one', () => {
    assert.equal(chooseSource([store(0), labCopy('a', 0)], 'westus2')?.key, 'a');
    assert.equal(chooseSource([store(1), labCopy('a', 1), labCopy('b', 0)], 'westus2')?.key, 'b');
  });

  it('prefers a source in the destination lab region, whatever its kind', () => {
    assert.equal(chooseSource([store(0, 'westus2'), labCopy('far', 0, 'eastus')], 'East US')?.key, 'far');
    assert.equal(chooseSource([store(0, 'westus2'), labCopy('far', 0, 'eastus')], 'West US 2')?.key, 'store');
    // A source elsewhere still serves when none in the region is free.
    assert.equal(chooseSource([store(1, 'westus2'), labCopy('far', 0, 'eastus')], 'westus2')?.key, 'far');
  });

  it('with more readers allowed, takes the least read one, and is the same for the same facts', () => {
    const candidates = [store(1), labCopy('b', 1), labCopy('a', 1), labCopy('c', 2)];
    assert.equal(chooseSource(candidates, 'westus2', 3)?.key, 'a');
    assert.equal(chooseSource([...candidates].reverse(), 'westus2', 3)?.key, 'a');
  });
});

describe('source board', () => {
  const image = factoryImage('Win-Nov-24-2026', 'Win/Datacenter.json');
  const job = (lab: string, location = 'westus2'): DistributionJob => ({
    key: `${lab}|win`,
    image,
    lab: labRef(lab, location),
    start: 'copy',
    source: storeSource(labRef('Factory')),
    crossesRegion: location !== 'westus2',
  });
  const storage = {} as LabStorage;
  const signal = new AbortController().signal;

  it('doubles its sources: each finished copy serves one more copy at a time', async () => {
    const board = new SourceBoard('tree', 'westus2');
    const first = await board.acquire(job('L1'), signal);
    assert.equal(first.source, undefined, 'the first copy reads the store');
    let secondStarted = false;
    const second = board.acquire(job('L2'), signal).then((lease) => ((secondStarted = true), lease));
    await new Promise((r) => setImmediate(r));
    assert.equal(secondStarted, false, 'the second copy waits while the store is busy');
    const l1 = board.publish(job('L1'), { storage, blobName: 'staging-win.vhd', etag: '"1"' });
    first.release();
    const secondLease = await second;
    const third = await board.acquire(job('L3'), signal);
    assert.equal(secondLease.source?.key, l1.key, 'the waiting copy takes the new lab copy');
    assert.equal(third.source, undefined, 'and the next one the store, free again');
    assert.equal(l1.readers, 1);
  });

  it('never gives a lab its own copy, nor a source that failed it, and reads the store once told to', async () => {
    const board = new SourceBoard('tree', 'westus2');
    const l1 = board.publish(job('L1'), { storage, blobName: 'staging-win.vhd', etag: '"1"' });
    const own = await board.acquire(job('L1'), signal);
    assert.equal(own.source, undefined);
    own.release();
    const excluded = await board.acquire(job('L2'), signal, new Set([l1.key]));
    assert.equal(excluded.source, undefined);
    const busy = await board.acquire(job('L3'), signal);
    assert.equal(busy.source?.key, l1.key);
    const storeAnyway = await board.acquire(job('L4'), signal, new Set(), true);
    assert.equal(storeAnyway.source, undefined, 'the store, busy as it is');
  });

  it('retires a source only once its readers end; flat reads the store only', async () => {
    const board = new SourceBoard('tree', 'westus2');
    const l1 = board.publish(job('L1'), { storage, blobName: 'staging-win.vhd', etag: '"1"' });
    const reader = await board.acquire(job('L2'), signal);
    let retired = false;
    const retiring = board.retire(l1).then(() => (retired = true));
    const next = await board.acquire(job('L3'), signal);
    assert.equal(next.source, undefined, 'a retired source takes no new reader');
    await new Promise((r) => setImmediate(r));
    assert.equal(retired, false);
    reader.release();
    reader.release(); // twice is once
    await retiring;
    assert.equal(l1.readers, 0);

    const flat = new SourceBoard('flat', 'westus2');
    flat.publish(job('L1'), { storage, blobName: 'staging-win.vhd', etag: '"1"' });
    for (const lab of ['L2', 'L3', 'L4']) assert.equal((await flat.acquire(job(lab), signal)).source, undefined);
  });

  it('stops waiting when the run is cancelled, and drains deferred work', async () => {
    const board = new SourceBoard('tree', 'westus2');
    await board.acquire(job('L1'), signal);
    const controller = new AbortController();
    const waiting = board.acquire(job('L2'), controller.signal);
    controller.abort(new Error('cancelled'));
    await assert.rejects(waiting, /cancelled/);
    let done = false;
    board.defer(new Promise<void>((r) => setTimeout(r, 10)).then(() => void (done = true)));
    board.defer(Promise.reject(new Error('reported by its owner')));
    await board.drain();
    assert.equal(done, true);
  });
});

describe('job order in a tree', () => {
  it('starts the first copy of every image first', () => {
    const images = ['a', 'b'].map((n) => factoryImage(n, `P/${n}.json`));
    const jobs: DistributionJob[] = [];
    for (const img of images) for (const lab of ['L0', 'L1', 'L2', 'L3']) jobs.push({ key: `${lab}|${img.imageName}`, image: img, lab: labRef(lab), start: 'copy', source: storeSource(labRef('Factory')), crossesRegion: false });
    // L0 already holds a's finished copy: nothing to copy there, so it does not count as a's first copy.
    jobs[0] = { ...jobs[0], start: 'reuse-copy' };
    const ordered = scheduleOrder(jobs, 'tree');
    assert.equal(ordered.length, jobs.length);
    assert.deepEqual(new Set(ordered), new Set(jobs));
    assert.deepEqual(new Set(ordered.slice(0, 2).map((j) => j.image.imageName)), new Set(['a', 'b']));
    assert.ok(ordered.slice(0, 2).every((j) => j.start === 'copy'));
    assert.deepEqual(scheduleOrder(jobs, 'flat'), scheduleOrder(jobs));
  });
});
