import * as assert from 'node:assert/strict';
import { AnonymousCredential, BlobClient } from '@azure/storage-blob';
import { CROSS_REGION_COPY_FRACTION, CopyTracker } from '../../local-azure/storage/copies';
import { type LocalAzureProcess, sdkClients, startLocalAzure } from '../helpers/localAzure';

/**
 * A copy between storage accounts in different regions runs at the cross-region rate (a lab's account is
 * in the lab's location), and still shares its source blob's throughput with every copy reading it.
 * On a hand-driven clock, in model time, then through the SDK against the local Azure.
 */
describe('blob copy model: copies between regions', () => {
  const MIB = 1024 * 1024;
  let now = 0;
  const start = (copies: CopyTracker, key: string, sourceKey: string, crossesRegion: boolean) =>
    copies.start({ key, copyId: key, source: `https://front/${sourceKey}`, sourceKey, totalBytes: MIB, crossesRegion });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('runs a copy into another region at the cross-region rate, by default a quarter of the rate of a copy on its own', () => {
    assert.equal(CROSS_REGION_COPY_FRACTION, 1 / 4);
    const copies = new CopyTracker(4, async () => undefined, () => now, 60);
    const near = start(copies, 'near/uploads/a.vhd', 'factory/uploads/one.vhd', false);
    const far = start(copies, 'far/uploads/a.vhd', 'factory/uploads/two.vhd', true);
    now += 250;
    assert.equal(copies.state(near).status, 'success', 'in the region: 4 MiB/s');
    assert.equal(copies.state(far).copiedBytes, MIB / 4, 'across regions: 1 MiB/s');
    now += 749;
    assert.equal(copies.state(far).status, 'pending');
    now += 1;
    assert.equal(copies.state(far).status, 'success');
    assert.equal(copies.state(far).completedAt?.getTime(), 1_000_000 + 1000);
  });

  it('shares the source with copies in the region, which get what a slower copy leaves of it', () => {
    // Source 3 MiB/s, a copy on its own 2 MiB/s, across regions 0.5 MiB/s.
    const copies = new CopyTracker(2, async () => undefined, () => now, 3, 0.5);
    const far = start(copies, 'far/uploads/a.vhd', 'factory/uploads/image.vhd', true);
    const near = [1, 2].map((i) => start(copies, `near${i}/uploads/a.vhd`, 'factory/uploads/image.vhd', false));
    now += 400;
    assert.equal(copies.state(far).copiedBytes, Math.floor(0.5 * MIB * 0.4), 'its own rate: the source has throughput to spare for it');
    for (const record of near) assert.equal(copies.state(record).copiedBytes, Math.floor(1.25 * MIB * 0.4), 'the rest shared: 1.25 MiB/s each');
  });

  it('slows copies into another region further when their source is the limit', () => {
    const copies = new CopyTracker(2, async () => undefined, () => now, 0.6, 0.5);
    const records = [1, 2].map((i) => start(copies, `far${i}/uploads/a.vhd`, 'factory/uploads/image.vhd', true));
    now += 1000;
    for (const record of records) assert.equal(copies.state(record).copiedBytes, Math.floor(0.3 * MIB), 'half of 0.6 MiB/s each');
  });
});

describe('local blob storage: Copy Blob into a lab in another region, through the SDK', function () {
  this.timeout(60_000);
  const SUB = '5c7e9a1b-3d5f-4b7c-9e1a-2b4d6f8a0c46';
  const VHD_BYTES = 32 * 1024 * 1024;
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        labs: [
          { subscriptionId: SUB, resourceGroup: 'rg', name: 'Store', location: 'westus2', vhds: [{ name: 'one.vhd', sizeBytes: VHD_BYTES }, { name: 'two.vhd', sizeBytes: VHD_BYTES }] },
          { subscriptionId: SUB, resourceGroup: 'rg', name: 'Near', location: 'westus2' },
          { subscriptionId: SUB, resourceGroup: 'rg', name: 'Far', location: 'eastus' },
        ],
        // In the region a copy of a VHD takes half a second, across regions two seconds.
        settings: { copyRateMBps: 64, crossRegionCopyRateMBps: 16, lroRetryAfterSeconds: 0 },
      },
    });
  });
  after(async () => azure?.stop());

  it('copies into the lab in another region at the slower rate, and into the lab in the region at the full one', async () => {
    const { devTestLabs } = sdkClients(azure, SUB);
    const uri = async (lab: string, blobName: string) => (await devTestLabs.labs.generateUploadUri('rg', lab, { blobName })).uploadUri!;
    const client = async (lab: string, blobName: string) => new BlobClient(await uri(lab, blobName), new AnonymousCredential(), { retryOptions: { maxTries: 1 } });
    // Two sources, so that the copies share nothing but the clock.
    const [one, two, near, far] = await Promise.all([uri('Store', 'one.vhd'), uri('Store', 'two.vhd'), client('Near', 'copy.vhd'), client('Far', 'copy.vhd')]);
    await Promise.all([near.beginCopyFromURL(one), far.beginCopyFromURL(two)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [nearBytes, farBytes] = await Promise.all([near, far].map(async (blob) => Number((await blob.getProperties()).copyProgress!.split('/')[0])));
    assert.ok(nearBytes > 0 && nearBytes < VHD_BYTES, `the copy in the region is under way: ${nearBytes}`);
    // Sampled a moment apart, so about a quarter, not exactly.
    assert.ok(farBytes / nearBytes > 0.15 && farBytes / nearBytes < 0.35, `across regions ${farBytes} against ${nearBytes} in the region`);
    const status = async (blob: BlobClient) => (await blob.getProperties()).copyStatus;
    while ((await status(near)) === 'pending') await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await status(far), 'pending', 'the copy across regions is still running when the other is done');
    while ((await status(far)) === 'pending') await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await status(far), 'success');
  });
});
