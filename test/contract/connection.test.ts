import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import { type AzureContext, createAzureContext } from '../../core/azure/azureContext';
import { computeClient } from '../../core/azure/compute';
import { callAzure } from '../../core/azure/azureErrors';
import { copyBlob, sasBlobClient, type CopyProgress } from '../../core/azure/blobCopy';
import { envEndpointReader } from '../../core/azure/endpoint';
import { withoutQuery } from '../../core/azure/labs';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import { ErrorCodes, FactoryError, isAbortError } from '../../core/errors';
import { MemoryReporter } from '../../core/report';
import { startLocalAzure } from '../helpers/localAzure';

/**
 * The connection layer against the local Azure, through the same SDK clients and the same code a task
 * runs against management.azure.com: only the service connection's URLs differ.
 */
const SCENARIO = path.join(__dirname, '..', '..', '..', 'test', 'contract', 'connection.scenario.json');
const SUB = '0b8c4a2e-3f61-4d5a-9c7e-2a1b3c4d5e6f';
const CONNECTION = 'LocalAzure';

type LocalAzure = Awaited<ReturnType<typeof startLocalAzure>>;

/** Resource group and name from a resource id. */
function parseId(id: string): { resourceGroup: string; name: string } {
  const resourceGroup = /\/resourceGroups\/([^/]+)/i.exec(id)?.[1];
  const name = id.split('/').pop();
  assert.ok(resourceGroup && name, `resource id ${id}`);
  return { resourceGroup, name };
}

function powerState(vm: LabVirtualMachine): string | undefined {
  return vm.computeVm?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code;
}

async function expectFactoryError(promise: Promise<unknown>, code: string): Promise<FactoryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FactoryError, `expected FactoryError ${code}, got ${(error as Error)?.stack ?? String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected FactoryError ${code}`);
}

describe('connection layer against the local Azure', function () {
  this.timeout(120_000);
  let azure: LocalAzure;
  let reporter: MemoryReporter;
  let context: AzureContext;

  const connect = (options: Parameters<typeof createAzureContext>[1] = {}) =>
    createAzureContext(readServiceConnection(azure.endpoints, CONNECTION), { reporter, pollIntervalMs: 100, ...options });

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
  });
  after(async () => {
    await azure?.stop();
  });
  beforeEach(async () => {
    reporter = new MemoryReporter();
    context = connect();
    await azure.setFaults([]);
    await azure.resetMetrics();
  });

  it('reads the service connection as the agent passes it, pointing at the local cloud', () => {
    const connection = readServiceConnection(azure.endpoints, CONNECTION);
    assert.equal(connection.scheme, 'ServicePrincipal');
    assert.equal(connection.source.kind, 'clientSecret');
    const armUrl = new URL(connection.cloud.resourceManagerUrl);
    assert.equal(armUrl.protocol, 'https:');
    assert.ok(['127.0.0.1', 'localhost'].includes(armUrl.hostname), `local ARM URL ${armUrl}`);
    // The same reader a task uses on a plain environment finds the same connection.
    assert.deepEqual(readServiceConnection(envEndpointReader(azure.env), CONNECTION), connection);
    // Creating the context masks the secret.
    assert.ok(reporter.secrets.includes((connection.source as { clientSecret: string }).clientSecret));
  });

  it('lists the labs once per subscription and finds them by name without case', async () => {
    const factory = await context.labs.find(SUB, 'imagefactory');
    assert.equal(factory.name, 'ImageFactory');
    assert.equal(factory.resourceGroup.toLowerCase(), 'factoryrg');
    assert.equal(factory.location, 'westus2');
    assert.equal(factory.subscriptionId, SUB);
    assert.match(factory.id, /^\/subscriptions\/[^/]+\/resourcegroups\/factoryrg\/providers\/microsoft\.devtestlab\/labs\/imagefactory$/i);
    const team = await context.labs.find(SUB, 'TEAMLAB', { resourceGroup: 'teamrg' });
    assert.equal(team.location, 'eastus');

    const missing = await expectFactoryError(context.labs.find(SUB, 'NoSuchLab'), ErrorCodes.LabNotFound);
    assert.match(missing.message, /NoSuchLab/);
    assert.match(missing.message, new RegExp(SUB));
    assert.match(missing.message, /ImageFactory/, 'names the labs it can see');
    await expectFactoryError(context.labs.find(SUB, 'ImageFactory', { resourceGroup: 'OtherRG' }), ErrorCodes.LabNotFound);

    const metrics = await azure.metrics();
    assert.equal(metrics.byOperation.Labs_ListBySubscription, 1, JSON.stringify(metrics.byOperation));
  });

  it('reads lab VMs with their power state, and the compute VM instance view', async () => {
    const lab = await context.labs.find(SUB, 'ImageFactory');
    const vms: LabVirtualMachine[] = [];
    for await (const vm of context.devTestLabs(SUB).virtualMachines.list(lab.resourceGroup, lab.name, { expand: 'properties($expand=computeVm)' })) {
      vms.push(vm);
    }
    const byName = new Map(vms.map((vm) => [vm.name!, vm]));
    assert.deepEqual([...byName.keys()].sort(), ['Ubuntu-Build', 'Win2016-Base']);
    const base = byName.get('Win2016-Base')!;
    assert.equal(powerState(base), 'PowerState/deallocated');
    assert.equal(powerState(byName.get('Ubuntu-Build')!), 'PowerState/running');
    assert.equal(base.tags?.ImagePath, 'Win2016/Datacenter.json');
    assert.equal(base.osType ?? base.computeVm?.osType, 'Windows');
    assert.ok(base.computeVm?.osDiskId, 'the compute VM names its OS disk');

    const compute = parseId(base.computeId!);
    const view = await computeClient(context, SUB).virtualMachines.instanceView(compute.resourceGroup, compute.name);
    assert.ok(view.statuses?.some((s) => s.code === 'PowerState/deallocated'), JSON.stringify(view.statuses));
  });

  it('copies a disk into lab storage with visible progress, makes a custom image of it and deletes both', async () => {
    const lab = await context.labs.find(SUB, 'ImageFactory');
    const target = await context.labs.find(SUB, 'TeamLab');
    const dtl = context.devTestLabs(SUB);
    const vm = await dtl.virtualMachines.get(lab.resourceGroup, lab.name, 'Win2016-Base', { expand: 'properties($expand=computeVm)' });
    const disk = parseId(vm.computeVm!.osDiskId!);
    const compute = computeClient(context, SUB);

    const diskInfo = await compute.disks.get(disk.resourceGroup, disk.name);
    assert.equal(diskInfo.diskState, 'Reserved', 'a deallocated VM keeps its disk reserved');

    const access = await compute.disks.beginGrantAccessAndWait(
      disk.resourceGroup,
      disk.name,
      { access: 'Read', durationInSeconds: 3600 },
      { updateIntervalInMs: context.pollIntervalMs },
    );
    assert.ok(access.accessSAS, 'a granted disk has a SAS');
    assert.equal((await compute.disks.get(disk.resourceGroup, disk.name)).diskState, 'ActiveSAS');

    const blobName = 'contract-Win2016-Base.vhd';
    try {
      const storage = context.labs.storage(target);
      assert.equal(context.labs.storage(target), storage, 'storage is cached per lab');
      const uploadUri = await storage.uploadUri(blobName);
      assert.ok(reporter.secrets.includes(uploadUri), 'the upload URI is masked');
      const sig = new URL(uploadUri).searchParams.get('sig');
      assert.ok(sig && reporter.secrets.includes(sig), 'its signature is masked');

      const progress: CopyProgress[] = [];
      const copy = await copyBlob(sasBlobClient(uploadUri, context.storageRetryOptions), access.accessSAS, {
        metadata: { imagefactory: '1', imagename: 'contract' },
        onProgress: (p) => progress.push({ ...p }),
        reporter,
      });
      assert.equal(copy.totalBytes, 1024 ** 3 + 512);
      assert.ok(copy.copyId);
      assert.ok(
        progress.some((p) => p.copiedBytes < p.totalBytes),
        `a pending copy shows partial progress: ${JSON.stringify(progress)}`,
      );
      assert.deepEqual(progress.at(-1), { copiedBytes: copy.totalBytes, totalBytes: copy.totalBytes });
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i].copiedBytes >= progress[i - 1].copiedBytes, 'progress only grows');

      // The AAD container client sees the copy with its metadata.
      const container = await storage.containerClient();
      const blobs = [];
      for await (const blob of container.listBlobsFlat({ includeMetadata: true, includeCopy: true })) blobs.push(blob);
      const copied = blobs.find((b) => b.name === blobName);
      assert.ok(copied, `listed: ${blobs.map((b) => b.name).join(', ')}`);
      assert.equal(copied.properties.copyStatus, 'success');
      assert.equal(copied.properties.blobType, 'PageBlob');
      assert.equal(copied.metadata?.imagename, 'contract');

      const imageName = 'contract-image';
      const image = await dtl.customImages.beginCreateOrUpdateAndWait(
        target.resourceGroup,
        target.name,
        imageName,
        {
          location: target.location,
          vhd: { imageName: withoutQuery(uploadUri), osType: 'Windows', sysPrep: false },
          author: 'Image factory contract test',
          description: 'From Win2016-Base',
          tags: { ImagePath: 'Win2016/Datacenter.json' },
        },
        { updateIntervalInMs: context.pollIntervalMs },
      );
      assert.equal(image.provisioningState, 'Succeeded');
      const listed = [];
      for await (const item of dtl.customImages.list(target.resourceGroup, target.name)) listed.push(item.name);
      assert.ok(listed.includes(imageName));

      await dtl.customImages.beginDeleteAndWait(target.resourceGroup, target.name, imageName, { updateIntervalInMs: context.pollIntervalMs });
      await expectFactoryError(
        callAzure(`Reading custom image '${imageName}'`, () => dtl.customImages.get(target.resourceGroup, target.name, imageName)),
        ErrorCodes.AzureRequestFailed,
      );

      await container.deleteBlob(blobName);
      // The state's log of copies keeps naming the blob a copy wrote; every other part must have forgotten it.
      const { copies, ...state } = await azure.state();
      assert.ok(copies?.some((c) => JSON.stringify(c).includes(blobName)), 'the copy is in the log of copies');
      assert.doesNotMatch(JSON.stringify(state), new RegExp(`${blobName}`), 'the blob is gone');
    } finally {
      await compute.disks.beginRevokeAccessAndWait(disk.resourceGroup, disk.name, { updateIntervalInMs: context.pollIntervalMs });
    }
    assert.equal((await compute.disks.get(disk.resourceGroup, disk.name)).diskState, 'Reserved', 'access is revoked');
    const metrics = await azure.metrics();
    assert.ok(metrics.byOperation.Disks_GrantAccess >= 1 && metrics.byOperation.Disks_RevokeAccess >= 1, JSON.stringify(metrics.byOperation));
  });

  it('aborts a pending copy server-side when cancelled', async () => {
    const lab = await context.labs.find(SUB, 'ImageFactory');
    const vm = await context.devTestLabs(SUB).virtualMachines.get(lab.resourceGroup, lab.name, 'Win2016-Base', { expand: 'properties($expand=computeVm)' });
    const disk = parseId(vm.computeVm!.osDiskId!);
    const compute = computeClient(context, SUB);
    const access = await compute.disks.beginGrantAccessAndWait(disk.resourceGroup, disk.name, { access: 'Read', durationInSeconds: 600 });
    try {
      const uploadUri = await context.labs.storage(lab).uploadUri('contract-cancelled.vhd');
      const controller = new AbortController();
      const copying = copyBlob(sasBlobClient(uploadUri), access.accessSAS!, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.copiedBytes < p.totalBytes) controller.abort();
        },
      });
      await assert.rejects(copying, (error) => isAbortError(error));
      const properties = await sasBlobClient(uploadUri).getProperties();
      assert.equal(properties.copyStatus, 'aborted');
      await (await context.labs.storage(lab).containerClient()).deleteBlob('contract-cancelled.vhd');
    } finally {
      await compute.disks.beginRevokeAccessAndWait(disk.resourceGroup, disk.name);
    }
  });

  it('reports a failed copy naming the blob without its SAS', async () => {
    const lab = await context.labs.find(SUB, 'ImageFactory');
    const storage = context.labs.storage(lab);
    const source = await storage.uploadUri('contract-source.vhd');
    // Seed a source blob to copy from.
    await sasBlobClient(source).getPageBlobClient().create(4 * 1024 * 1024);
    await azure.setFaults([{ operation: 'Blob_StartCopy', kind: 'copyFailed', failAfterPercent: 0, count: 1 }]);
    const destination = await storage.uploadUri('contract-failed.vhd');
    const error = await expectFactoryError(copyBlob(sasBlobClient(destination), source), ErrorCodes.CopyFailed);
    assert.match(error.message, /contract-failed\.vhd/);
    assert.doesNotMatch(`${error.message} ${error.fix}`, /sig=|\?/);
    const container = await storage.containerClient();
    await container.deleteBlob('contract-failed.vhd');
    await container.deleteBlob('contract-source.vhd');
  });

  it('waits out 429 throttling as Retry-After asks, then succeeds', async () => {
    await azure.setFaults([{ operation: 'Labs_ListBySubscription', kind: 'status', status: 429, code: 'TooManyRequests', retryAfterSeconds: 1, count: 2 }]);
    const started = Date.now();
    const lab = await context.labs.find(SUB, 'ImageFactory');
    assert.equal(lab.name, 'ImageFactory');
    assert.ok(Date.now() - started >= 1900, 'waited Retry-After twice');
    assert.equal((await azure.metrics()).byOperation.Labs_ListBySubscription, 3);
    assert.ok(reporter.debugLines.some((line) => /throttled/i.test(line)));
  });

  it('gives one clear error when server errors outlast the retries', async () => {
    const fast = connect({ maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 20 });
    const lab = await fast.labs.find(SUB, 'ImageFactory');
    await azure.setFaults([{ operation: 'Labs_GenerateUploadUri', kind: 'status', status: 500, code: 'InternalServerError', count: 10 }]);
    const error = await expectFactoryError(fast.labs.storage(lab).uploadUri('x.vhd'), ErrorCodes.AzureRequestFailed);
    assert.match(error.message, /ImageFactory/);
    assert.match(error.message, /HTTP 500/);
    assert.match(error.message, /after 3 attempts/);
    assert.ok(error.fix);
    assert.equal((await azure.metrics()).byOperation.Labs_GenerateUploadUri, 3);
  });

  describe('storage throttling', () => {
    const MIB = 1024 * 1024;

    /** Throttles the next `count` calls of `operation` with 429 (or `status`) and Retry-After 1 s. */
    const throttle = (operation: string, count = 1, status = 429) =>
      azure.setFaults([{ operation, kind: 'status', status, code: 'ServerBusy', retryAfterSeconds: 1, count }]);

    async function waitsOut(operation: string, call: () => Promise<unknown>): Promise<void> {
      await throttle(operation);
      await azure.resetMetrics();
      const started = Date.now();
      await call();
      const took = Date.now() - started;
      assert.ok(took >= 950, `${operation} waited as Retry-After asked: ${took} ms`);
      assert.equal((await azure.metrics()).byOperation[operation], 2, `${operation}: one throttled answer, then the real one`);
    }

    it('slows down on 429 in every blob call the core makes (start copy, follow, abort, list, delete) instead of failing', async () => {
      // Quick transient retries, so only the waits for throttling take time.
      const fast = connect({ retryDelayInMs: 10, maxRetryDelayInMs: 20 });
      const lab = await fast.labs.find(SUB, 'ImageFactory');
      const storage = fast.labs.storage(lab);
      const source = await storage.uploadUri('throttled-source.vhd');
      // 1 GiB copies for 2.5 s, long enough to be aborted while pending.
      await sasBlobClient(source, fast.storageRetryOptions).getPageBlobClient().create(1024 * MIB);
      const destination = sasBlobClient(await storage.uploadUri('throttled-copy.vhd'), fast.storageRetryOptions);

      const controller = new AbortController();
      await waitsOut('Blob_StartCopy', () =>
        copyBlob(destination, source, { signal: controller.signal, onProgress: () => controller.abort(), reporter }).catch((error) => {
          if (!isAbortError(error)) throw error;
        }),
      );
      assert.equal((await destination.getProperties()).copyStatus, 'aborted', 'the cancel aborted the copy server-side');

      await waitsOut('Blob_AbortCopy', async () => {
        const copying = copyBlob(destination, source, { signal: AbortSignal.timeout(200), reporter });
        await assert.rejects(copying, (error) => isAbortError(error));
      });
      assert.equal((await destination.getProperties()).copyStatus, 'aborted', 'the abort went through after the wait');

      await waitsOut('Blob_GetProperties', () => destination.getProperties());
      const container = await storage.containerClient();
      await waitsOut('Blob_List', async () => {
        const names: string[] = [];
        for await (const blob of container.listBlobsFlat({ includeMetadata: true, includeCopy: true })) names.push(blob.name);
        assert.ok(names.includes('throttled-copy.vhd'));
      });
      await waitsOut('Blob_Delete', () => container.deleteBlob('throttled-copy.vhd'));
      await waitsOut('Blob_Delete', () => container.getBlobClient('throttled-source.vhd').delete());
      assert.ok(reporter.debugLines.some((line) => /throttled .*uploads\/throttled-copy\.vhd \(HTTP 429\); waiting 1\.0 s/.test(line)), reporter.debugLines.join('\n'));
      assert.ok(!reporter.debugLines.some((line) => /sig=/.test(line)), 'no SAS in the log');
    });

    it('waits out a 503 that names Retry-After once the storage SDK has spent its own retries', async () => {
      const fast = connect({ retryDelayInMs: 10, maxRetryDelayInMs: 20 });
      const lab = await fast.labs.find(SUB, 'ImageFactory');
      const blob = sasBlobClient(await fast.labs.storage(lab).uploadUri('busy.vhd'), fast.storageRetryOptions);
      await blob.getPageBlobClient().create(MIB);
      // The SDK tries five times; the sixth try, after Retry-After, gets through.
      await throttle('Blob_GetProperties', 5, 503);
      await azure.resetMetrics();
      const started = Date.now();
      assert.equal((await blob.getProperties()).contentLength, MIB);
      assert.ok(Date.now() - started >= 950, 'waited as Retry-After asked');
      assert.equal((await azure.metrics()).byOperation.Blob_GetProperties, 6);
      await (await fast.labs.storage(lab).containerClient()).deleteBlob('busy.vhd');
    });

    it('gives one clear error when throttling outlasts the longest wait', async () => {
      const patient = connect({ retryDelayInMs: 10, maxRetryDelayInMs: 20, maxThrottleWaitMs: 1500 });
      const lab = await patient.labs.find(SUB, 'ImageFactory');
      const container = await patient.labs.storage(lab).containerClient();
      await throttle('Blob_List', 10);
      await azure.resetMetrics();
      const started = Date.now();
      const error = await expectFactoryError(
        callAzure(`Listing the factory image store of lab '${lab.name}'`, async () => {
          for await (const blob of container.listBlobsFlat()) assert.fail(`listed ${blob.name}`);
        }),
        ErrorCodes.ThrottledTooLong,
      );
      assert.ok(Date.now() - started < 2500, 'stops once the next wait would pass the limit');
      assert.match(error.message, /^Listing the factory image store of lab 'ImageFactory' failed: Azure kept throttling the requests after 2 attempts\.$/);
      assert.match(error.fix!, /maxConcurrentJobs/);
      assert.equal((await azure.metrics()).byOperation.Blob_List, 2);
    });
  });

  describe('long-running operations that end Failed', () => {
    // Each fails at once with Azure's error: an operation status of Failed is an answer, not something to retry.
    const FAST_MS = 3000;
    // Polls at the client's own interval, so the time measured is that of the failure alone.
    before(() => azure.setSettings({ lroRetryAfterSeconds: 0 }));
    after(() => azure.setSettings({ lroRetryAfterSeconds: 1 }));

    async function expectFailedOperation(what: string, run: () => Promise<unknown>, code: string): Promise<FactoryError> {
      const started = Date.now();
      const error = await expectFactoryError(callAzure(what, run), ErrorCodes.AzureRequestFailed);
      const took = Date.now() - started;
      assert.ok(took < FAST_MS, `failed after ${took} ms`);
      assert.match(error.message, new RegExp(code));
      assert.match(error.message, new RegExp(`^${what} failed`));
      assert.doesNotMatch(error.message, /HTTP 5\d\d|attempts/, error.message);
      assert.ok(!reporter.debugLines.some((line) => /retry \d+ of/.test(line)), `nothing was retried: ${reporter.debugLines.join('\n')}`);
      return error;
    }

    async function factoryDisk(): Promise<{ resourceGroup: string; name: string }> {
      const lab = await context.labs.find(SUB, 'ImageFactory');
      const vm = await context.devTestLabs(SUB).virtualMachines.get(lab.resourceGroup, lab.name, 'Win2016-Base', { expand: 'properties($expand=computeVm)' });
      return parseId(vm.computeVm!.osDiskId!);
    }

    it('a disk access grant or revoke', async () => {
      const disk = await factoryDisk();
      const compute = computeClient(context, SUB);
      await azure.setFaults([{ operation: 'Disks_GrantAccess', kind: 'lroFailed', code: 'DiskServiceInternalError', count: 1 }]);
      const grant = () =>
        compute.disks.beginGrantAccessAndWait(disk.resourceGroup, disk.name, { access: 'Read', durationInSeconds: 600 }, { updateIntervalInMs: context.pollIntervalMs });
      const error = await expectFailedOperation(`Granting read access to disk '${disk.name}'`, grant, 'DiskServiceInternalError');
      assert.match(error.message, /Granting access to disk .* failed/, 'quotes the message Azure gave');
      assert.equal((await compute.disks.get(disk.resourceGroup, disk.name)).diskState, 'Reserved', 'a failed grant grants nothing');

      await grant();
      await azure.setFaults([{ operation: 'Disks_RevokeAccess', kind: 'lroFailed', count: 1 }]);
      const revoke = () => compute.disks.beginRevokeAccessAndWait(disk.resourceGroup, disk.name, { updateIntervalInMs: context.pollIntervalMs });
      await expectFailedOperation(`Revoking read access to disk '${disk.name}'`, revoke, 'InternalOperationError');
      await revoke();
      assert.equal((await compute.disks.get(disk.resourceGroup, disk.name)).diskState, 'Reserved');
    });

    it('a custom image creation or deletion, and a VM deletion', async () => {
      const lab = await context.labs.find(SUB, 'TeamLab');
      const dtl = context.devTestLabs(SUB);
      const uploadUri = await context.labs.storage(lab).uploadUri('failing-image.vhd');
      await sasBlobClient(uploadUri).getPageBlobClient().create(1024 * 1024);
      const image = { vhd: { imageName: withoutQuery(uploadUri), osType: 'Windows' as const } };
      const options = { updateIntervalInMs: context.pollIntervalMs };

      await azure.setFaults([{ operation: 'CustomImages_CreateOrUpdate', kind: 'lroFailed', code: 'ImageCreationFailed', count: 1 }]);
      const create = () => dtl.customImages.beginCreateOrUpdateAndWait(lab.resourceGroup, lab.name, 'failing-image', image, options);
      await expectFailedOperation(`Creating custom image 'failing-image'`, create, 'ImageCreationFailed');
      assert.equal((await dtl.customImages.get(lab.resourceGroup, lab.name, 'failing-image')).provisioningState, 'Failed');

      await azure.setFaults([{ operation: 'CustomImages_Delete', kind: 'lroFailed', count: 1 }]);
      const remove = () => dtl.customImages.beginDeleteAndWait(lab.resourceGroup, lab.name, 'failing-image', options);
      await expectFailedOperation(`Deleting custom image 'failing-image'`, remove, 'InternalServerError');
      await remove();

      await azure.addVm('TeamLab', { name: 'Doomed', powerState: 'deallocated' });
      await azure.setFaults([{ operation: 'VirtualMachines_Delete', kind: 'lroFailed', count: 1 }]);
      const deleteVm = () => dtl.virtualMachines.beginDeleteAndWait(lab.resourceGroup, lab.name, 'Doomed', options);
      await expectFailedOperation(`Deleting VM 'Doomed'`, deleteVm, 'VmDeletionFailed');
      await deleteVm();
      await (await context.labs.storage(lab).containerClient()).deleteBlob('failing-image.vhd');
    });
  });

  it('says the secret is wrong when it is', async () => {
    const env = { ...azure.env };
    for (const key of Object.keys(env)) {
      if (/^ENDPOINT_AUTH_PARAMETER_LOCALAZURE_SERVICEPRINCIPALKEY$/i.test(key)) env[key] = 'not-the-secret';
      if (new RegExp(`^ENDPOINT_AUTH_${CONNECTION}$`, 'i').test(key)) {
        const auth = JSON.parse(env[key]!);
        auth.parameters.serviceprincipalkey = 'not-the-secret';
        env[key] = JSON.stringify(auth);
      }
    }
    const wrong = createAzureContext(readServiceConnection(envEndpointReader(env), CONNECTION), { reporter });
    const error = await expectFactoryError(wrong.labs.find(SUB, 'ImageFactory'), ErrorCodes.AuthenticationFailed);
    assert.match(error.message, /secret is wrong/);
    assert.match(error.message, new RegExp(CONNECTION));
  });

  it('says which scope and role are missing on a lab the identity may not use', async () => {
    const locked = { id: `/subscriptions/${SUB}/resourceGroups/LockedRG/providers/Microsoft.DevTestLab/labs/LockedLab`, subscriptionId: SUB, resourceGroup: 'LockedRG', name: 'LockedLab', location: 'westus2' };
    const error = await expectFactoryError(context.labs.storage(locked).uploadUri('x.vhd'), ErrorCodes.AuthorizationFailed);
    assert.match(error.message, /LockedLab/);
    assert.match(error.fix!, /Contributor/);
  });
});
