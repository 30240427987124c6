import * as assert from 'node:assert/strict';
import { DEFAULT_CLIENT_ID } from '../../local-azure/identity/state';
import type { Scenario } from '../../local-azure/scenario';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, type TaskRun } from '../helpers/taskProcess';
import { factoryImage, FACTORY, storeVhd, SUB_A, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * Blob data needs a Storage Blob Data role of its own, apart from any role on the lab. A connection
 * whose identity lacks it is refused by storage (403 AuthorizationPermissionMismatch), and the task
 * says which role it needs, on which storage account, for which identity (client and object id).
 */
const IMAGE = factoryImage('Linux_Ubuntu-Nov-24-2026', 'Linux/Ubuntu.json');
const READER = { principal: DEFAULT_CLIENT_ID, role: 'Storage Blob Data Reader' as const };
const USER_ASSIGNED = '6b2e4d8f-1a3c-4e57-9b0d-2f4a6c8e0b13';

function errorsOf(run: TaskRun) {
  return run.issues.filter((issue) => issue.type === 'error');
}

describe('Storage Blob Data roles', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess | undefined;
  let configuration: string | undefined;

  afterEach(async () => {
    await azure?.stop();
    azure = undefined;
    if (configuration) removeConfiguration(configuration);
    configuration = undefined;
  });

  const start = async (scenario: Scenario) => {
    azure = await startLocalAzure({ scenario });
    return azure;
  };

  it('SnapImagesFromVMs without any data role on the factory storage fails naming Storage Blob Data Reader, the account and the identity', async () => {
    const local = await start({
      labs: [{ ...FACTORY, blobDataRoles: [], vms: [{ name: 'ubuntu-golden', osType: 'Linux', tags: { ImagePath: 'Linux/Ubuntu.json' } }] }],
      settings: { lroDurationMs: 100, lroRetryAfterSeconds: 0 },
    });
    const run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY.name }, local.env);
    assert.equal(run.result, 'Failed', describeRun(run));
    const [error] = errorsOf(run);
    assert.equal(error?.code, 'IF2011', describeRun(run));
    assert.match(error.message, /Storage Blob Data Reader/);
    assert.match(error.message, /storage account 'factorystore'/);
    assert.ok(error.message.includes(`client id ${local.principal.clientId}`), error.message);
    assert.ok(error.message.includes(`object id ${local.principal.objectId}`), error.message);
    assert.ok(error.message.includes(`/resourceGroups/${FACTORY.resourceGroup}/providers/Microsoft.Storage/storageAccounts/factorystore`), error.message);
    assert.doesNotMatch(run.stdout, /\n\s+at /, 'no stack trace');
    const state = await local.state();
    assert.equal(state.labs[0].blobs.length, 0, 'nothing was copied');
    assert.deepEqual(state.diskGrants, [], 'no disk access left granted');
  });

  it('DistributeImages: a lab with only Storage Blob Data Reader fails naming Storage Blob Data Contributor, one with no role naming Reader; the others get the image', async () => {
    const local = await start({
      labs: [
        { ...FACTORY, blobDataRoles: [READER], vhds: [storeVhd(IMAGE)] },
        { subscriptionId: SUB_A, resourceGroup: 'dev-rg', name: 'Dev1', storageAccount: 'dev1store', blobDataRoles: [READER] },
        { subscriptionId: SUB_A, resourceGroup: 'dev-rg', name: 'Dev2', storageAccount: 'dev2store', blobDataRoles: [] },
        { subscriptionId: SUB_A, resourceGroup: 'dev-rg', name: 'Dev3', storageAccount: 'dev3store' },
      ],
      settings: { lroDurationMs: 100, customImageDurationMs: 200, lroRetryAfterSeconds: 0 },
    });
    configuration = writeDistributeConfiguration([
      { SubscriptionId: SUB_A, LabName: 'Dev1', ImagePaths: ['Linux'] },
      { SubscriptionId: SUB_A, LabName: 'Dev2', ImagePaths: ['Linux'] },
      { SubscriptionId: SUB_A, LabName: 'Dev3', ImagePaths: ['Linux'] },
    ]);
    const run = await runTaskProcess('DistributeImages', { ConfigurationLocation: configuration, DevTestLabName: FACTORY.name }, local.env);
    assert.equal(run.result, 'Failed', describeRun(run));
    const errors = errorsOf(run);
    // A job first claims its staging blob with a lease, a write: refused before anything is copied.
    const write = errors.find((e) => e.code === 'IF2012');
    assert.ok(write, describeRun(run));
    assert.match(write.message, /Storage Blob Data Contributor/);
    assert.match(write.message, /storage account 'dev1store' of lab 'Dev1'/);
    assert.ok(write.message.includes(`client id ${local.principal.clientId}`), write.message);
    const read = errors.find((e) => e.code === 'IF2011');
    assert.ok(read, describeRun(run));
    assert.equal(errors.length, 2, describeRun(run));
    assert.match(read.message, /storage account 'dev2store' of lab 'Dev2'/);
    const state = await local.state();
    const lab = (name: string) => state.labs.find((l) => l.name === name)!;
    assert.deepEqual(lab('Dev3').customImages.map((i) => i.name), [IMAGE.imageName], 'the lab with the default role gets the image');
    assert.deepEqual(lab('Dev1').customImages, [], 'nothing is made where the staging blob may not be written');
    for (const name of ['Dev1', 'Dev2', 'Dev3']) assert.deepEqual(lab(name).blobs, [], `no blob left in ${name}`);
  });

  it('names a managed identity by its own client and object id', async () => {
    const local = await start({
      managedIdentities: [{ type: 'UserAssigned', clientId: USER_ASSIGNED }],
      labs: [{ ...FACTORY, blobDataRoles: [{ principal: USER_ASSIGNED, role: 'Storage Blob Data Reader', container: 'other' }], vhds: [storeVhd(IMAGE)] }],
      settings: { lroDurationMs: 100, lroRetryAfterSeconds: 0 },
    });
    const env = await local.connectionEnv({ scheme: 'ManagedServiceIdentity', clientId: USER_ASSIGNED });
    const run = await runTaskProcess('CleanUpFactory', { DevTestLabName: FACTORY.name }, env);
    assert.equal(run.result, 'Failed', describeRun(run));
    // CleanUpFactory says what it could not decide, with the storage error's code and fix inside.
    const [error] = errorsOf(run);
    assert.match(error?.message ?? '', /\[IF2011\]/, describeRun(run));
    assert.ok(error.message.includes(`client id ${USER_ASSIGNED}`), error.message);
    assert.doesNotMatch(error.message, new RegExp(DEFAULT_CLIENT_ID));
  });
});
