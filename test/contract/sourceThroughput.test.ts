import * as assert from 'node:assert/strict';
import { AnonymousCredential, BlobClient } from '@azure/storage-blob';
import { CopyTracker } from '../../local-azure/storage/copies';
import { type LocalAzureProcess, sdkClients, startLocalAzure } from '../helpers/localAzure';

/**
 * A source blob serves a set throughput in total to every copy reading it (Azure: about 60 MiB/s for a
 * page blob): concurrent copies of one source share it, each at most at the rate of a copy on its own.
 * On a hand-driven clock, in model time: 1 MiB/s per copy and per source unless said otherwise.
 */
describe('blob copy model: throughput shared by the copies of one source', () => {
  const MIB = 1024 * 1024;
  let now = 0;
  const tracker = (copyRateMBps = 1, sourceBlobMBps?: number) => new CopyTracker(copyRateMBps, async () => undefined, () => now, sourceBlobMBps);
  const start = (copies: CopyTracker, key: string, sourceKey: string | undefined, totalBytes = MIB) =>
    copies.start({ key, copyId: key, source: `https://front/${sourceKey}`, sourceKey, totalBytes });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('halves the rate of a copy when a second copy of the same source starts, and restores it when that one ends', () => {
    const copies = tracker();
    const first = start(copies, 'lab1/uploads/a.vhd', 'factory/uploads/image.vhd');
    now += 500;
    assert.equal(copies.state(first).copiedBytes, MIB / 2, 'alone: the whole rate');
    const second = start(copies, 'lab2/uploads/a.vhd', 'factory/uploads/image.vhd');
    now += 500;
    assert.equal(copies.state(first).copiedBytes, MIB / 2 + MIB / 4, 'sharing: half the rate');
    assert.equal(copies.state(second).copiedBytes, MIB / 4);
    now += 500;
    assert.equal(copies.state(first).status, 'success');
    assert.equal(copies.state(first).completedAt?.getTime(), 1_000_000 + 1500);
    assert.equal(copies.state(second).copiedBytes, MIB / 2);
    now += 499;
    assert.equal(copies.state(second).status, 'pending');
    now += 1;
    assert.equal(copies.state(second).status, 'success', 'alone again: the whole rate');
    assert.equal(copies.state(second).completedAt?.getTime(), 1_000_000 + 2000);
  });

  it('does not slow copies of different sources, nor a single copy (which runs at the rate of a copy on its own)', () => {
    const copies = tracker(1, 60);
    const a = start(copies, 'lab1/uploads/a.vhd', 'factory/uploads/one.vhd');
    const b = start(copies, 'lab1/uploads/b.vhd', 'factory/uploads/two.vhd');
    const unknown = start(copies, 'lab1/uploads/c.vhd', undefined);
    now += 1000;
    for (const record of [a, b, unknown]) assert.equal(copies.state(record).status, 'success', record.key);
  });

  it('caps each copy at its own rate while the source has throughput to spare, and shares it once the source is the limit', () => {
    const copies = tracker(1, 3);
    const records = [1, 2, 3].map((i) => start(copies, `lab${i}/uploads/x.vhd`, 'factory/uploads/image.vhd'));
    now += 500;
    for (const record of records) assert.equal(copies.state(record).copiedBytes, MIB / 2, 'three copies of a 3 MiB/s source: 1 MiB/s each');
    const fourth = start(copies, 'lab4/uploads/x.vhd', 'factory/uploads/image.vhd');
    now += 400;
    assert.equal(copies.state(records[0]).copiedBytes, MIB / 2 + Math.floor((3 * MIB * 0.4) / 4), 'four: 0.75 MiB/s each');
    assert.equal(copies.state(fourth).copiedBytes, Math.floor((3 * MIB * 0.4) / 4));
  });

  it('gives the share of an aborted or deleted copy back to the others, and never changes progress already seen', () => {
    const copies = tracker();
    const kept = start(copies, 'lab1/uploads/a.vhd', 'factory/uploads/image.vhd');
    const aborted = start(copies, 'lab2/uploads/a.vhd', 'factory/uploads/image.vhd');
    const deleted = start(copies, 'lab3/uploads/a.vhd', 'factory/uploads/image.vhd');
    now += 300;
    const seen = copies.state(kept, now - 150);
    assert.equal(copies.state(kept).copiedBytes, Math.floor(MIB / 10), 'three ways: a third each');
    assert.ok(copies.end(aborted, 'aborted'));
    copies.forget(deleted.key);
    assert.deepEqual(copies.state(kept, now - 150), seen, 'the past stays as it was');
    now += 100;
    assert.equal(copies.state(kept).copiedBytes, Math.floor(MIB / 5), 'alone after the others stopped reading');
    assert.equal(copies.state(aborted).copiedBytes, Math.floor(MIB / 10));
  });

  it('fails an injected failure at its share of the bytes, however long the sharing makes it take', () => {
    const copies = tracker();
    const failing = copies.start({
      key: 'lab1/uploads/f.vhd',
      copyId: 'f',
      source: 's',
      sourceKey: 'factory/uploads/image.vhd',
      totalBytes: MIB,
      failAfterPercent: 50,
      failDescription: '500 InternalError "x"',
    });
    start(copies, 'lab2/uploads/f.vhd', 'factory/uploads/image.vhd');
    now += 999;
    assert.equal(copies.state(failing).status, 'pending', 'half the rate: half the bytes take a second');
    now += 1;
    assert.equal(copies.state(failing).status, 'failed');
    assert.equal(copies.state(failing).copiedBytes, MIB / 2);
  });
});

describe('local blob storage: concurrent Copy Blob from one source, through the SDK', function () {
  this.timeout(60_000);
  const SUB = '4b6d8f0a-2c4e-4a6b-8d0f-1a3c5e7a9b35';
  const VHD_BYTES = 64 * 1024 * 1024;
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        labs: [{ subscriptionId: SUB, resourceGroup: 'rg', name: 'Store', vhds: [{ name: 'image.vhd', sizeBytes: VHD_BYTES }, { name: 'other.vhd', sizeBytes: VHD_BYTES }] }],
        // 64 MiB/s for a copy on its own and for the source in total: alone, a copy of it takes a second.
        settings: { copyRateMBps: 64, lroRetryAfterSeconds: 0 },
      },
    });
  });
  after(async () => azure?.stop());

  it('runs two copies of one VHD at half the rate of a copy of another VHD started with them', async () => {
    const { devTestLabs } = sdkClients(azure, SUB);
    const uri = async (blobName: string) => (await devTestLabs.labs.generateUploadUri('rg', 'Store', { blobName })).uploadUri!;
    const client = async (blobName: string) => new BlobClient(await uri(blobName), new AnonymousCredential(), { retryOptions: { maxTries: 1 } });
    const [image, other, first, second, lone] = await Promise.all([uri('image.vhd'), uri('other.vhd'), client('copy-1.vhd'), client('copy-2.vhd'), client('copy-3.vhd')]);
    await Promise.all([first.beginCopyFromURL(image), second.beginCopyFromURL(image), lone.beginCopyFromURL(other)]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const copied = await Promise.all([first, second, lone].map(async (blob) => Number((await blob.getProperties()).copyProgress!.split('/')[0])));
    const [a, b, alone] = copied;
    assert.ok(alone > 0 && alone < VHD_BYTES, `the lone copy is under way: ${copied.join(', ')}`);
    for (const shared of [a, b]) {
      // Sampled a moment apart, so about half, not exactly.
      assert.ok(shared / alone > 0.35 && shared / alone < 0.65, `shared ${shared} against alone ${alone}`);
    }
    const status = async (blob: BlobClient) => (await blob.getProperties()).copyStatus;
    while ((await status(lone)) === 'pending') await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await status(first), 'pending', 'the shared copies are still running when the lone one is done');
    while ((await status(first)) === 'pending') await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await status(first), 'success');
    assert.equal(await status(second), 'success');
  });
});
