import * as assert from 'node:assert/strict';
import { Tags, stagingBlobName } from '../../core/factoryImages';
import type { StateSnapshot } from '../../local-azure/control';
import { DEFAULT_CLIENT_ID } from '../../local-azure/identity/state';
import type { ScenarioSettings } from '../../local-azure/scenario';
import type { BlobDataRoleAssignment } from '../../local-azure/storage/dataRoles';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun } from '../helpers/taskProcess';
import { FACTORY, REGION, SUB_A, factoryImage, storeVhd, writeDistributeConfiguration } from '../scenarios/distribute/factory';
import { imageNames, interruptWhen, lab, runDistribute, stagingBlobs, unfinishedImages } from '../scenarios/distribute/taskRun';

/**
 * Fan-out through the bundled task: one image to eight labs, with each source blob's throughput shared
 * by its readers as in Azure. The local Azure's copy log says which blob each copy read.
 */
const IMAGE = factoryImage('Windows_Datacenter-Nov-24-2026', 'Windows/Datacenter.json', 64 * 1024 * 1024);
const LABS = ['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8'];
const account = (name: string) => `${name.toLowerCase()}store`;
/** A copy alone takes 1 s; copies reading one blob share its 64 MiB/s. */
const SETTINGS: ScenarioSettings = { copyRateMBps: 64, sourceBlobMBps: 64, customImageDurationMs: 300, lroDurationMs: 100, lroRetryAfterSeconds: 0 };

/** The copies into the labs' staging blobs, oldest first: destination and source accounts, and the source SAS. */
function labCopies(state: StateSnapshot) {
  return state.copies
    .filter((c) => c.destination.endsWith(`/uploads/${stagingBlobName(IMAGE.imageName)}`))
    .map((c) => ({ to: c.destination.split('/')[0], from: c.source?.split('/')[0], sas: c.sourceSas }));
}
const readLab = (copy: { from?: string }) => copy.from !== FACTORY.storageAccount;

describe('DistributeImages fans out from finished copies', function () {
  this.timeout(90_000);
  let azure: LocalAzureProcess;
  let config: string;

  async function start(settings: ScenarioSettings = SETTINGS, blobDataRoles?: BlobDataRoleAssignment[]): Promise<void> {
    azure = await startLocalAzure({
      scenario: {
        labs: [
          { ...FACTORY, vhds: [storeVhd(IMAGE)] },
          ...LABS.map((name) => ({ subscriptionId: SUB_A, resourceGroup: 'fan-rg', name, location: REGION, storageAccount: account(name), blobDataRoles })),
        ],
        settings,
      },
    });
  }
  before(() => {
    config = writeDistributeConfiguration(LABS.map((name) => ({ SubscriptionId: SUB_A, LabName: name, ImagePaths: ['Windows'] })));
  });
  afterEach(async () => {
    await azure?.stop();
  });
  after(() => {
    if (config) removeConfiguration(config);
  });

  /** Every lab has the image, nothing is half made, no staging blob is left. */
  function assertConverged(state: StateSnapshot, labs = LABS): void {
    for (const name of labs) assert.deepEqual(imageNames(lab(state, name)), [IMAGE.imageName], `custom images of ${name}`);
    assert.deepEqual(unfinishedImages(state), []);
    assert.deepEqual(stagingBlobs(state), [], 'no staging blob is left');
    const tagged = state.labs.flatMap((l) => l.customImages.filter((i) => Tags.StagingBlob in i.tags).map((i) => `${l.name}/${i.name}`));
    assert.deepEqual(tagged, [], 'no custom image says its staging blob may be left');
  }

  it('tree: labs copy from labs whose copy finished, through a read-only SAS, one reader per source', async () => {
    await start();
    const run = await runDistribute(azure, { ConfigurationLocation: config }).finished;
    assert.equal(run.result, 'Succeeded', describeRun(run));
    assert.equal(run.stderr, '');
    const state = await azure.state();
    assertConverged(state);
    const copies = labCopies(state);
    assert.equal(copies.length, LABS.length, `one copy per lab: ${JSON.stringify(copies)}`);
    assert.deepEqual(new Set(copies.map((c) => c.to)), new Set(LABS.map(account)));
    const fromLabs = copies.filter(readLab);
    // Rounds of 1, 2 and 4 copies, then 1: the store serves one copy per round, labs the rest.
    assert.ok(fromLabs.length >= 4, `copies that read a lab: ${JSON.stringify(copies)}`);
    assert.equal(copies[0].from, FACTORY.storageAccount, 'the first copy reads the store');
    for (const copy of fromLabs) {
      assert.notEqual(copy.from, copy.to);
      assert.equal(copy.sas?.permissions, 'r', 'a lab copy is read through a read-only SAS');
      const lifetimeMs = Date.parse(copy.sas!.expiresAt!) - Date.now();
      assert.ok(lifetimeMs > 0 && lifetimeMs < 35 * 60_000, `the SAS lives about as long as the copy may take (${lifetimeMs} ms)`);
    }
    const metrics = await azure.metrics();
    // One user delegation key per serving lab's account signs all the SAS URLs of its copy for the run.
    assert.equal(metrics.byOperation.Blob_GetUserDelegationKey ?? 0, new Set(fromLabs.map((c) => c.from)).size, JSON.stringify(metrics.byOperation));
    assert.ok(
      run.lines.includes(`Fan-out: ${fromLabs.length} copies read another lab's finished copy, ${copies.length - fromLabs.length} the image store.`),
      run.lines.join('\n'),
    );
  });

  it('tree across regions: one copy of the image crosses into each other region, whose labs then copy from it', async () => {
    const regions: Record<string, string> = { R1: REGION, R2: REGION, E1: 'eastus', E2: 'eastus', E3: 'eastus', N1: 'northeurope', N2: 'northeurope', N3: 'northeurope' };
    const names = Object.keys(regions);
    azure = await startLocalAzure({
      scenario: {
        labs: [
          { ...FACTORY, vhds: [storeVhd(IMAGE)] },
          ...names.map((name) => ({ subscriptionId: SUB_A, resourceGroup: 'fan-rg', name, location: regions[name], storageAccount: account(name) })),
        ],
        settings: SETTINGS,
      },
    });
    const regional = writeDistributeConfiguration(names.map((name) => ({ SubscriptionId: SUB_A, LabName: name, ImagePaths: ['Windows'] })));
    try {
      const run = await runDistribute(azure, { ConfigurationLocation: regional }).finished;
      assert.equal(run.result, 'Succeeded', describeRun(run));
      const state = await azure.state();
      assertConverged(state, names);
      const regionOf = new Map<string | undefined, string>([[FACTORY.storageAccount, REGION], ...names.map((n) => [account(n), regions[n]] as [string, string])]);
      const copies = labCopies(state);
      assert.equal(copies.length, names.length, JSON.stringify(copies));
      const crossing = copies.filter((c) => regionOf.get(c.from) !== regionOf.get(c.to));
      assert.deepEqual(crossing.map((c) => regionOf.get(c.to)).sort(), ['eastus', 'northeurope'], `copies across regions: ${JSON.stringify(copies)}`);
      assert.equal((await azure.metrics()).byOperation.Blob_StartCopy_CrossRegion, 2);
    } finally {
      removeConfiguration(regional);
    }
  });

  it('flat: every copy reads the store, as before', async () => {
    await start();
    const run = await runDistribute(azure, { ConfigurationLocation: config, fanOut: 'flat' }).finished;
    assert.equal(run.result, 'Succeeded', describeRun(run));
    const state = await azure.state();
    assertConverged(state);
    const copies = labCopies(state);
    assert.equal(copies.length, LABS.length);
    assert.deepEqual(copies.filter(readLab), [], JSON.stringify(copies));
    assert.equal((await azure.metrics()).byOperation.Blob_GetUserDelegationKey ?? 0, 0);
  });

  it('a lab whose data role is on its container only serves no other lab: IF4013, and copies read the store', async () => {
    await start(SETTINGS, [{ principal: DEFAULT_CLIENT_ID, role: 'Storage Blob Data Contributor', container: 'uploads' }]);
    const run = await runDistribute(azure, { ConfigurationLocation: config }).finished;
    assert.equal(run.result, 'SucceededWithIssues', describeRun(run));
    const warnings = run.issues.filter((i) => i.type === 'warning');
    assert.ok(warnings.length > 0 && warnings.every((w) => w.code === 'IF4013'), JSON.stringify(run.issues));
    assert.match(warnings[0].message, /Lab 'F\d' cannot serve its copy .* no user delegation key/);
    assert.equal(new Set(warnings.map((w) => w.message)).size, warnings.length, 'each lab is warned of once');
    const state = await azure.state();
    assertConverged(state);
    assert.deepEqual(labCopies(state).filter(readLab), [], 'no copy read a lab');
  });

  it('refuses a fan-out mode it does not know', async () => {
    await start();
    const run = await runDistribute(azure, { ConfigurationLocation: config, fanOut: 'star' }).finished;
    assert.equal(run.result, 'Failed', describeRun(run));
    const errors = run.issues.filter((i) => i.type === 'error');
    assert.deepEqual(errors.map((i) => i.code), ['IF1012'], describeRun(run));
    assert.match(errors[0].message, /'star' is not a fan-out mode/);
    assert.deepEqual(labCopies(await azure.state()), []);
  });

  it('a source lab whose own custom image fails still serves the copies reading it, and its blob goes', async () => {
    await start({ ...SETTINGS, customImageDurationMs: 1500 });
    await azure.setFaults([{ operation: 'CustomImages_CreateOrUpdate', kind: 'lroFailed', count: 1, match: `labs/F1/customimages/${IMAGE.imageName}` }]);
    const run = await runDistribute(azure, { ConfigurationLocation: config }).finished;
    assert.equal(run.result, 'Failed', describeRun(run));
    assert.deepEqual(run.issues.filter((i) => i.type === 'error').map((i) => i.code), ['IF4002']);
    const state = await azure.state();
    assertConverged(state, LABS.slice(1));
    assert.deepEqual(imageNames(lab(state, 'F1')), []);
    const copies = labCopies(state);
    assert.equal(copies[0].to, account('F1'));
    assert.ok(copies.some((c) => c.from === account('F1')), `F1 served a copy: ${JSON.stringify(copies)}`);
  });

  it('a copy whose lab source fails mid-copy is copied again from another source', async () => {
    await start();
    // The first copy read from each lab fails halfway, whichever labs end up serving.
    await azure.setFaults(LABS.map((name) => ({ operation: 'Blob_StartCopy', kind: 'copyFailed' as const, failAfterPercent: 50, count: 1, match: ` /${account(name)}/uploads/` })));
    const run = await runDistribute(azure, { ConfigurationLocation: config }).finished;
    assert.equal(run.result, 'Succeeded', describeRun(run));
    assert.match(run.lines.join('\n'), /from lab 'F\d' failed \(.*\); copying from another source\./);
    const state = await azure.state();
    assertConverged(state);
    const copies = labCopies(state);
    const copiedAgain = LABS.map(account).filter((to) => copies.filter((c) => c.to === to).length > 1);
    assert.ok(copiedAgain.length > 0, JSON.stringify(copies));
    for (const to of copiedAgain) {
      const into = copies.filter((c) => c.to === to);
      assert.ok(readLab(into[0]), `the failed copy into ${to} read a lab`);
      assert.equal(new Set(into.map((c) => c.from)).size, into.length, `each copy into ${to} read another source: ${JSON.stringify(into)}`);
    }
  });

  it('cancel while labs read labs: copies aborted, staging blobs deleted, and the next run converges', async () => {
    await start();
    const task = runDistribute(azure, { ConfigurationLocation: config });
    const { run, tookMs } = await interruptWhen(azure, task, (s) => pendingLabReads(s) > 0, 'SIGINT', 'a copy reading a lab');
    assert.equal(run.result, 'Cancelled', describeRun(run));
    assert.ok(tookMs < 7000, `cancelled in ${tookMs} ms`);
    const state = await azure.state();
    // Only the VHD of a custom image Azure was still creating (it cannot be deleted then) may stay, for the next run.
    const creating = new Set(unfinishedImages(state).map((i) => i.split('/')[0]));
    assert.deepEqual(stagingBlobs(state).filter((b) => !creating.has(b.split('/')[0])), []);
    assert.equal(pendingLabReads(state), 0);

    const again = await runDistribute(azure, { ConfigurationLocation: config }).finished;
    assert.equal(again.result, 'Succeeded', describeRun(again));
    assertConverged(await azure.state());
  });

  it('kill -9 while labs read labs: the next run deletes what is left and converges', async () => {
    await start();
    const task = runDistribute(azure, { ConfigurationLocation: config });
    const { run } = await interruptWhen(azure, task, (s) => pendingLabReads(s) > 0, 'SIGKILL', 'a copy reading a lab');
    assert.equal(run.killedBy, 'SIGKILL');
    assert.ok(stagingBlobs(await azure.state()).length > 0, 'the kill left staging blobs');

    const again = await runDistribute(azure, { ConfigurationLocation: config }).finished;
    assert.equal(again.result, 'Succeeded', describeRun(again));
    assertConverged(await azure.state());
  });
});

/** Copies under way that read a lab's staging blob. */
function pendingLabReads(state: StateSnapshot): number {
  const pending = new Set(
    state.labs.flatMap((l) => l.blobs.filter((b) => b.copyStatus === 'pending').map((b) => `${l.storageAccount}/${b.container}/${b.name}`)),
  );
  return state.copies.filter((c) => pending.has(c.destination) && c.source && !c.source.startsWith(`${FACTORY.storageAccount}/`)).length;
}
