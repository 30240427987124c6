import * as assert from 'node:assert/strict';
import type { LabRef, LabStorage } from '../../core/azure/labs';
import { scheduleOrder } from '../../core/distribute/distribute';
import { JobQueue, type TakenJob } from '../../core/distribute/dispatch';
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
    assert.equal(chooseSource(candidates, 'westus2', { readersPerSource: 3 })?.key, 'a');
    assert.equal(chooseSource([...candidates].reverse(), 'westus2', { readersPerSource: 3 })?.key, 'a');
  });
});

/** A job copying one image (Win) into `lab`, in the factory's region unless told. */
const winImage = factoryImage('Win-Nov-24-2026', 'Win/Datacenter.json');
const winJob = (lab: string, location = 'westus2'): DistributionJob => ({
  key: `${lab}|win`,
  image: winImage,
  lab: labRef(lab, location),
  start: 'copy',
  source: storeSource(labRef('Factory')),
  crossesRegion: location !== 'westus2',
});
const storage = {} as LabStorage;

describe('source board', () => {
  const job = winJob;
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

describe('copies across regions in a tree', () => {
  const job = winJob;

  it('takes a source elsewhere only when the destination region has none, nor a copy on its way', () => {
    assert.equal(chooseSource([store(0, 'westus2')], 'eastus', { mayCross: false }), undefined);
    assert.equal(chooseSource([store(0, 'westus2'), labCopy('near', 0, 'East US')], 'eastus', { mayCross: false })?.key, 'near');
    assert.equal(chooseSource([store(0, 'westus2')], 'eastus', { mayCross: true })?.key, 'store');
  });

  it('sends one copy of an image into a region; the region\'s other labs wait for it, then copy from it', () => {
    const board = new SourceBoard('tree', 'westus2', { slots: 4 });
    const e1 = job('E1', 'eastus');
    const e2 = job('E2', 'eastus');
    board.expect([e1, e2, job('W1', 'westus2')]);
    const first = board.reserve(e1);
    assert.ok(first, 'the first copy into eastus reads the store, across regions');
    assert.equal(first.source, undefined);
    first.release();
    assert.equal(board.reserve(e2), undefined, 'the store is free, but a copy into eastus is on its way');
    const w1 = board.reserve(job('W1', 'westus2'));
    assert.ok(w1, 'a copy within the store region is not held back');
    board.publish(e1, { storage, blobName: 'staging-win.vhd', etag: '"1"' });
    board.arrived(e1);
    assert.equal(board.reserve(e2)?.source?.key, e1.lab.id.toLowerCase(), 'and then reads the copy in its own region');
  });

  it('lets another copy cross once the one on its way failed', () => {
    const board = new SourceBoard('tree', 'westus2');
    const [e1, e2] = [job('E1', 'eastus'), job('E2', 'eastus')];
    board.expect([e1, e2]);
    board.reserve(e1)!.release();
    assert.equal(board.reserve(e2), undefined);
    board.copied(e1);
    board.arrived(e1);
    assert.ok(board.reserve(e2), 'nothing is on its way to eastus any more');
  });

  it('keeps a finished copy serving while copies of its image into its region are still to start, then retires it', async () => {
    const board = new SourceBoard('tree', 'westus2', { slots: 2 });
    const [a, b, c] = [job('A', 'eastus'), job('B', 'eastus'), job('C', 'eastus')];
    board.expect([a, b, c]);
    board.reserve(a)!.release();
    const source = board.publish(a, { storage, blobName: 'staging-win.vhd', etag: '"1"' });
    board.arrived(a);
    board.copied(a);
    assert.equal(board.mayOutlive(source), true, 'B and C are still to copy into eastus');
    let retired = false;
    const retiring = board.retire(source, true).then(() => (retired = true));
    const lease = board.reserve(b);
    assert.equal(lease?.source, source, 'a job that is done still serves');
    lease!.release();
    board.copied(b);
    await new Promise((r) => setImmediate(r));
    assert.equal(retired, false, 'C is still to copy');
    board.copied(c);
    await retiring;
    assert.equal(source.open, false);
    assert.equal(board.reserve(job('D', 'eastus'))?.source, undefined, 'a retired source takes no reader');
  });

  it('keeps no more idle copies in a region than its share of the slots', () => {
    const board = new SourceBoard('tree', 'westus2', { slots: 1 });
    const jobs = ['A', 'B', 'C', 'D'].map((lab) => job(lab, 'eastus'));
    board.expect(jobs);
    const [a, b] = jobs;
    const sa = board.publish(a, { storage, blobName: 'staging-win.vhd', etag: '"1"' });
    board.copied(a);
    const sb = board.publish(b, { storage, blobName: 'staging-win.vhd', etag: '"2"' });
    board.copied(b);
    assert.equal(board.mayOutlive(sa), false, 'one slot reads one source at a time: the idle B serves');
    assert.equal(sa.open, false);
    assert.equal(board.mayOutlive(sb), true);
  });
});

describe('job dispatch', () => {
  const images = ['a', 'b'].map((n) => factoryImage(n, `P/${n}.json`));
  const job = (lab: string, img: number, start: DistributionJob['start'] = 'copy'): DistributionJob => ({
    key: `${lab}|${images[img].imageName}`,
    image: images[img],
    lab: labRef(lab),
    start,
    source: storeSource(labRef('Factory')),
    crossesRegion: false,
  });
  const signal = new AbortController().signal;

  it('passes over a job whose source is busy for the next one that can start', async () => {
    const board = new SourceBoard('tree', 'westus2', { slots: 3 });
    const ordered = [job('L1', 0), job('L2', 0), job('L3', 1), job('L4', 0, 'reuse-copy')];
    board.expect(ordered.filter((j) => j.start === 'copy'));
    const queue = new JobQueue(ordered, board, (j) => j.start === 'copy');
    const first = await queue.take(signal);
    assert.equal(first?.job, ordered[0]);
    assert.ok(first.lease, 'it takes the store of image a');
    assert.equal((await queue.take(signal))?.job, ordered[2], 'L2 waits for a source of a: L3 copies b meanwhile');
    assert.equal((await queue.take(signal))?.job, ordered[3], 'a job that copies nothing needs no source');
    const early = await queue.take(signal);
    assert.equal(early?.job, ordered[1], 'with nothing else to start, L2 starts to wait for the source L1 is about to become');
    assert.equal(early.lease, undefined);
    assert.equal(queue.size, 0);
    assert.equal(await queue.take(signal), undefined, 'every job is taken');
  });

  it('waits while no job can start, nor any source is on its way, and goes on at the next change', async () => {
    const board = new SourceBoard('tree', 'westus2', { slots: 2 });
    const far: DistributionJob = { ...job('E1', 0), lab: labRef('E1', 'eastus'), crossesRegion: true };
    const near = job('W1', 0);
    board.expect([near, far]);
    const queue = new JobQueue([near, far], board, () => true);
    const first = await queue.take(signal);
    assert.equal(first?.job, near);
    let second: TakenJob | undefined;
    const waiting = queue.take(signal).then((t) => (second = t));
    await new Promise((r) => setImmediate(r));
    assert.equal(second, undefined, 'the store is busy and nothing is on its way to eastus');
    first.lease!.release();
    await waiting;
    assert.equal((second as TakenJob | undefined)?.job, far);
    assert.ok((second as TakenJob | undefined)?.lease, 'it reads the store, across regions');
  });

  it('gives a freed source to the job already waiting in a slot before one not started', async () => {
    const board = new SourceBoard('tree', 'westus2');
    const [l1, l2, l3] = [job('L1', 0), job('L2', 0), job('L3', 0)];
    board.expect([l1, l2, l3]);
    const lease = board.reserve(l1)!;
    const inSlot = board.acquire(l2, signal);
    await new Promise((r) => setImmediate(r));
    assert.equal(board.reserve(l3), undefined, 'L2 waits in its slot for the store');
    lease.release();
    assert.equal((await inSlot).source, undefined, 'L2 reads the store');
  });

  it('stops waiting when the run is cancelled', async () => {
    const board = new SourceBoard('tree', 'westus2');
    const far: DistributionJob = { ...job('E1', 0), lab: labRef('E1', 'eastus'), crossesRegion: true };
    const queue = new JobQueue([job('W1', 0), far], board, () => true);
    await queue.take(signal);
    const controller = new AbortController();
    const waiting = queue.take(controller.signal);
    controller.abort(new Error('cancelled'));
    await assert.rejects(waiting, /cancelled/);
  });
});

describe('job order across regions', () => {
  it('starts the first copy of each image, then the first into each other region, then the rest', () => {
    const img = factoryImage('a', 'P/a.json');
    const labs = [labRef('W0'), labRef('E0', 'eastus'), labRef('W1'), labRef('E1', 'eastus'), labRef('N0', 'northeurope')];
    const jobs: DistributionJob[] = labs.map((lab) => ({ key: `${lab.name}|a`, image: img, lab, start: 'copy', source: storeSource(labRef('Factory')), crossesRegion: lab.location !== 'westus2' }));
    const ordered = scheduleOrder([...jobs].reverse(), 'tree', 'westus2');
    assert.equal(ordered[0].lab.location, 'westus2', 'the first copy is in the store region');
    assert.deepEqual(new Set(ordered.slice(1, 3).map((j) => j.lab.location)), new Set(['eastus', 'northeurope']));
    assert.deepEqual(new Set(ordered), new Set(jobs));
  });
});
