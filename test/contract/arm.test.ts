import * as assert from 'node:assert/strict';
import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import { AnonymousCredential, BlobClient, PageBlobClient } from '@azure/storage-blob';
import type { Scenario } from '../../local-azure/scenario';
import { ARM_SCOPE, sdkClients, startLocalAzure, type LocalAzureProcess, type RawResponse, type SdkClients } from '../helpers/localAzure';

/**
 * The local Resource Manager against the DevTest Labs 2018-09-15 and Compute REST contracts, through the
 * real SDK clients (and raw HTTPS where status codes and headers matter). The expected shapes are those
 * of the REST API examples: field names, id casing, status codes, LRO headers, error bodies.
 */

const SUB = 'a1b2c3d4-0000-4000-8000-000000000001';
const EMPTY_SUB = 'a1b2c3d4-0000-4000-8000-000000000002';
const DTL = '2018-09-15';
const DISKS = '2025-01-02';
const VMS = '2025-04-01';
const MIB = 1024 * 1024;

const SCENARIO: Scenario = {
  subscriptions: [{ subscriptionId: SUB, displayName: 'Factory subscription' }, { subscriptionId: EMPTY_SUB }],
  labs: [
    {
      subscriptionId: SUB,
      resourceGroup: 'FactoryRG',
      name: 'Factory',
      location: 'westus2',
      tags: { team: 'images' },
      vms: [
        { name: 'Win2016-Base', osType: 'Windows', powerState: 'deallocated', tags: { ImagePath: 'Win2016/Datacenter.json' }, notes: 'Base image' },
        { name: 'Ubuntu-Build', osType: 'Linux', powerState: 'running', diskSizeGB: 2 },
        { name: 'Win10-Stopped', osType: 'Windows', powerState: 'stopped' },
      ],
      vhds: [{ name: 'Store-Image.vhd', sizeBytes: MIB + 512, metadata: { imagefactory: '1', imagename: 'Store-Image' } }],
    },
    {
      subscriptionId: SUB,
      resourceGroup: 'TeamRG',
      name: 'TeamLab',
      location: 'eastus',
      customImages: [{ name: 'Existing-Image', osType: 'Linux', tags: { owner: 'team' }, creationDate: '2025-01-02T03:04:05Z' }],
    },
    { subscriptionId: SUB, resourceGroup: 'LockedRG', name: 'LockedLab', denyAccess: true },
    { subscriptionId: SUB, resourceGroup: 'PagedRG', name: 'PagedA', location: 'westus' },
    { subscriptionId: SUB, resourceGroup: 'PagedRG', name: 'PagedB', location: 'westus' },
  ],
  settings: { pageSize: 2, lroDurationMs: 100, customImageDurationMs: 300, lroRetryAfterSeconds: 0 },
};

const labPath = (rg: string, lab: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.DevTestLab/labs/${lab}`;

function assertKeys(value: unknown, keys: string[], what: string): void {
  assert.ok(value && typeof value === 'object', `${what} is an object`);
  const missing = keys.filter((key) => !(key in (value as object)));
  assert.deepEqual(missing, [], `${what} lacks ${missing.join(', ')}: ${JSON.stringify(value)}`);
}

function armError(response: RawResponse): { code: string; message: string } {
  const body = response.json as { error?: { code: string; message: string } };
  assert.ok(body?.error?.code && body.error.message, `an ARM error body {"error":{"code","message"}}: ${response.text}`);
  return body.error;
}

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<Error & { statusCode?: number; code?: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { statusCode?: number; code?: string };
    assert.equal(e.statusCode, status, `${e.message}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected HTTP ${status} ${code}`);
}

const powerState = (vm: LabVirtualMachine) => vm.computeVm?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code;

describe('local Resource Manager: DevTest Labs and Compute contract', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let clients: SdkClients;

  /** A raw ARM request with a valid token, for what the SDK hides. */
  const arm = async (method: string, path: string, options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== null) headers.authorization = `Bearer ${options.token ?? (await clients.credential.getToken(ARM_SCOPE))!.token}`;
    return azure.request(method, path, { body: options.body, headers });
  };

  /** Polls an LRO URL until it is no longer 202. */
  const pollUntilDone = async (url: string): Promise<RawResponse> => {
    for (let i = 0; i < 100; i++) {
      const response = await arm('GET', url);
      if (response.status !== 202) return response;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail(`${url} still running`);
  };

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
    clients = sdkClients(azure, SUB);
  });
  after(async () => {
    await azure?.stop();
  });
  beforeEach(async () => {
    await azure.setFaults([]);
  });

  describe('labs', () => {
    it('gets a lab in the shape of Labs_Get, with its own storage account', async () => {
      const response = await arm('GET', `${labPath('FactoryRG', 'Factory')}?api-version=${DTL}`);
      assert.equal(response.status, 200);
      const lab = response.json as Record<string, any>;
      assertKeys(lab, ['properties', 'id', 'name', 'type', 'location', 'tags'], 'lab');
      assertKeys(
        lab.properties,
        [
          'defaultStorageAccount',
          'defaultPremiumStorageAccount',
          'artifactsStorageAccount',
          'premiumDataDiskStorageAccount',
          'vaultName',
          'labStorageType',
          'mandatoryArtifactsResourceIdsLinux',
          'mandatoryArtifactsResourceIdsWindows',
          'createdDate',
          'premiumDataDisks',
          'environmentPermission',
          'announcement',
          'support',
          'provisioningState',
          'uniqueIdentifier',
        ],
        'lab properties',
      );
      // Ids as DevTest Labs writes them: all in lower case, names included.
      assert.equal(lab.id, `/subscriptions/${SUB}/resourcegroups/factoryrg/providers/microsoft.devtestlab/labs/factory`);
      assert.equal(lab.type, 'Microsoft.DevTestLab/labs');
      assert.equal(lab.location, 'westus2');
      assert.deepEqual(lab.tags, { team: 'images' });
      assert.equal(lab.properties.provisioningState, 'Succeeded');
      assert.match(lab.properties.uniqueIdentifier, /^[0-9a-f-]{36}$/);
      assert.match(lab.properties.defaultStorageAccount, new RegExp(`^/subscriptions/${SUB}/resourceGroups/FactoryRG/providers/Microsoft.Storage/storageAccounts/[a-z0-9]{3,24}$`));

      const viaSdk = await clients.devTestLabs.labs.get('FactoryRG', 'Factory');
      assert.equal(viaSdk.name, 'Factory');
      assert.equal(viaSdk.defaultStorageAccount, lab.properties.defaultStorageAccount);
      const team = await clients.devTestLabs.labs.get('TeamRG', 'TeamLab');
      assert.notEqual(team.defaultStorageAccount, viaSdk.defaultStorageAccount, 'each lab has its own storage account');
    });

    it('matches paths and names without regard to case, as ARM does', async () => {
      const response = await arm('GET', `/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/factoryrg/PROVIDERS/microsoft.devtestlab/LABS/factory?api-version=${DTL}`);
      assert.equal(response.status, 200);
      assert.equal((response.json as { name: string }).name, 'Factory');
    });

    it('pages lab lists with nextLink, and the SDK follows it', async () => {
      const first = await arm('GET', `/subscriptions/${SUB}/providers/Microsoft.DevTestLab/labs?api-version=${DTL}`);
      assert.equal(first.status, 200);
      const page = first.json as { value: { name: string }[]; nextLink?: string };
      assert.equal(page.value.length, 2);
      assert.ok(page.nextLink, 'a nextLink while more labs follow');
      const next = new URL(page.nextLink);
      assert.equal(next.origin, azure.armUrl);
      assert.equal(next.searchParams.get('api-version'), DTL);
      const second = await arm('GET', `${next.pathname}${next.search}`);
      const secondPage = second.json as { value: { name: string }[]; nextLink?: string };
      assert.equal(secondPage.value.length, 2);
      assert.equal(secondPage.nextLink, undefined, 'no nextLink on the last page');

      const names: string[] = [];
      for await (const lab of clients.devTestLabs.labs.listBySubscription()) names.push(lab.name!);
      // A lab the principal may not read is not listed, as with RBAC-filtered lists.
      assert.deepEqual(names.sort(), ['Factory', 'PagedA', 'PagedB', 'TeamLab']);

      const paged: string[] = [];
      for await (const lab of clients.devTestLabs.labs.listByResourceGroup('PagedRG')) paged.push(lab.name!);
      assert.deepEqual(paged.sort(), ['PagedA', 'PagedB']);
      const empty: string[] = [];
      for await (const lab of sdkClients(azure, EMPTY_SUB).devTestLabs.labs.listBySubscription()) empty.push(lab.name!);
      assert.deepEqual(empty, []);
    });

    it('answers 404 for a missing lab, resource group or subscription', async () => {
      const missing = await rejectsWith(clients.devTestLabs.labs.get('FactoryRG', 'NoSuchLab'), 404, 'ResourceNotFound');
      assert.match(missing.message, /Microsoft\.DevTestLab\/labs\/NoSuchLab/);
      await rejectsWith(clients.devTestLabs.labs.get('NoSuchRG', 'Factory'), 404, 'ResourceGroupNotFound');
      const child = await rejectsWith(clients.devTestLabs.customImages.get('FactoryRG', 'NoSuchLab', 'x'), 404, 'ParentResourceNotFound');
      assert.match(child.message, /NoSuchLab/);
      const unknownSub = 'ffffffff-0000-4000-8000-000000000009';
      const sub = await rejectsWith(sdkClients(azure, unknownSub).devTestLabs.labs.get('FactoryRG', 'Factory'), 404, 'SubscriptionNotFound');
      assert.match(sub.message, new RegExp(unknownSub));
    });

    it('checks api-version per provider: missing and unknown versions are 400', async () => {
      const missing = await arm('GET', labPath('FactoryRG', 'Factory'));
      assert.equal(missing.status, 400);
      assert.equal(armError(missing).code, 'MissingApiVersionParameter');
      const wrong = await arm('GET', `${labPath('FactoryRG', 'Factory')}?api-version=2016-05-15`);
      assert.equal(wrong.status, 400);
      assert.equal(armError(wrong).code, 'InvalidApiVersionParameter');
      assert.match(armError(wrong).message, /2018-09-15/, 'names the supported version');
      // A Compute version is not a DevTest Labs version, nor the reverse.
      assert.equal((await arm('GET', `${labPath('FactoryRG', 'Factory')}?api-version=${DISKS}`)).status, 400);
      const vm = (await clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'Win2016-Base')).computeId!;
      const view = await arm('GET', `${vm}/instanceView?api-version=${DTL}`);
      assert.equal(view.status, 400);
      assert.equal(armError(view).code, 'InvalidApiVersionParameter');
      assert.equal((await arm('GET', `${vm}/instanceView?api-version=${VMS}`)).status, 200);
    });

    it('answers 403 AuthorizationFailed naming the client, action and scope for a lab the principal may not use', async () => {
      const error = await rejectsWith(clients.devTestLabs.labs.get('LockedRG', 'LockedLab'), 403, 'AuthorizationFailed');
      assert.match(error.message, new RegExp(`The client '${azure.principal.clientId}' with object id '${azure.principal.objectId}'`));
      assert.match(error.message, /action 'Microsoft\.DevTestLab\/labs\/read'/);
      assert.match(error.message, /over scope '\/subscriptions\/[^']+\/resourceGroups\/LockedRG\/providers\/Microsoft\.DevTestLab\/labs\/LockedLab'/);
      const upload = await rejectsWith(clients.devTestLabs.labs.generateUploadUri('LockedRG', 'LockedLab', { blobName: 'x.vhd' }), 403, 'AuthorizationFailed');
      assert.match(upload.message, /GenerateUploadUri\/action/);
    });

    it('generates an upload URI: a blob SAS (sp=rcw, sr=b) in the lab account `uploads` container that the storage SDK can write', async () => {
      const { uploadUri } = await clients.devTestLabs.labs.generateUploadUri('FactoryRG', 'Factory', { blobName: 'uploaded.vhd' });
      assert.ok(uploadUri);
      const url = new URL(uploadUri);
      assert.equal(url.searchParams.get('sp'), 'rcw');
      assert.equal(url.searchParams.get('sr'), 'b');
      assert.ok(url.searchParams.get('sig') && url.searchParams.get('se'), 'signed, with an expiry');
      const lab = await clients.devTestLabs.labs.get('FactoryRG', 'Factory');
      const account = lab.defaultStorageAccount!.split('/').pop()!;
      assert.equal(url.pathname, `/${account}/uploads/uploaded.vhd`);

      const page = new PageBlobClient(uploadUri, new AnonymousCredential());
      await page.create(4 * 512, { metadata: { origin: 'contract' } });
      await page.uploadPages(Buffer.alloc(512, 7), 512, 512);
      const properties = await page.getProperties();
      assert.equal(properties.contentLength, 2048);
      assert.equal(properties.metadata?.origin, 'contract');

      const vhds: string[] = [];
      for await (const vhd of clients.devTestLabs.labs.listVhds('FactoryRG', 'Factory')) vhds.push(vhd.id!);
      const base = `${url.origin}/${account}/uploads/`;
      assert.deepEqual(vhds.sort(), [`${base}Store-Image.vhd`, `${base}uploaded.vhd`]);
      const state = await azure.state();
      const blob = state.labs.find((l) => l.name === 'Factory')!.blobs.find((b) => b.name === 'uploaded.vhd');
      assert.deepEqual(blob?.metadata, { origin: 'contract' });
    });
  });

  describe('lab virtual machines', () => {
    it('lists VMs in the shape of VirtualMachines_List, with the compute VM status when expanded, over pages', async () => {
      const first = await arm('GET', `${labPath('FactoryRG', 'Factory')}/virtualmachines?api-version=${DTL}`);
      const page = first.json as { value: Record<string, any>[]; nextLink?: string };
      assert.equal(page.value.length, 2);
      assert.ok(page.nextLink);
      const vm = page.value[0];
      assertKeys(vm, ['properties', 'id', 'name', 'type', 'location', 'tags'], 'lab VM');
      assertKeys(
        vm.properties,
        [
          'ownerObjectId',
          'createdDate',
          'computeId',
          'osType',
          'size',
          'labSubnetName',
          'labVirtualNetworkId',
          'disallowPublicIpAddress',
          'artifactDeploymentStatus',
          'galleryImageReference',
          'networkInterface',
          'allowClaim',
          'storageType',
          'virtualMachineCreationSource',
          'dataDiskParameters',
          'provisioningState',
          'uniqueIdentifier',
        ],
        'lab VM properties',
      );
      assert.equal(vm.type, 'Microsoft.DevTestLab/labs/virtualMachines');
      assert.equal(vm.id, `/subscriptions/${SUB}/resourcegroups/factoryrg/providers/microsoft.devtestlab/labs/factory/virtualmachines/${vm.name.toLowerCase()}`);
      assert.equal(vm.properties.computeVm, undefined, 'no compute VM without $expand');

      const vms: LabVirtualMachine[] = [];
      for await (const item of clients.devTestLabs.virtualMachines.list('FactoryRG', 'Factory', { expand: 'properties($expand=computeVm)' })) vms.push(item);
      assert.deepEqual(
        vms.map((v) => [v.name, powerState(v)]),
        [
          ['Win2016-Base', 'PowerState/deallocated'],
          ['Ubuntu-Build', 'PowerState/running'],
          ['Win10-Stopped', 'PowerState/stopped'],
        ],
      );
      const base = vms[0];
      assert.equal(base.osType, 'Windows');
      assert.equal(base.computeVm?.osType, 'Windows');
      assert.equal(base.notes, 'Base image');
      assert.deepEqual(base.tags, { ImagePath: 'Win2016/Datacenter.json' });
      assert.ok(base.computeVm?.statuses?.some((s) => s.code === 'ProvisioningState/succeeded'));
      // The compute VM and its OS disk live in the lab VM's own resource group, `<lab>-<vm>-<digits>`.
      assert.match(base.computeId!, new RegExp(`^/subscriptions/${SUB}/resourceGroups/Factory-Win2016-Base-\\d{6}/providers/Microsoft\\.Compute/virtualMachines/Win2016-Base$`));
      const rg = base.computeId!.split('/')[4];
      assert.match(base.computeVm!.osDiskId!, new RegExp(`^/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft\\.Compute/disks/Win2016-Base_OsDisk_1_[0-9a-f]{32}$`));
      assert.equal(vms[1].osType, 'Linux');
    });

    it('gets a VM, replaces its tags with PATCH, and reads the compute instance view', async () => {
      const vm = await clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'win10-stopped', { expand: 'properties($expand=computeVm)' });
      assert.equal(vm.name, 'Win10-Stopped', 'found without case');
      const updated = await clients.devTestLabs.virtualMachines.update('FactoryRG', 'Factory', 'Win10-Stopped', { tags: { FactoryIgnore: 'true' } });
      assert.deepEqual(updated.tags, { FactoryIgnore: 'true' });
      const state = await azure.state();
      assert.deepEqual(state.labs.find((l) => l.name === 'Factory')!.vms.find((v) => v.name === 'Win10-Stopped')!.tags, { FactoryIgnore: 'true' });

      const [, , , , rg, , , , name] = vm.computeId!.split('/');
      const view = await clients.compute.virtualMachines.instanceView(rg, name);
      assert.deepEqual(
        view.statuses?.map((s) => s.code),
        ['ProvisioningState/succeeded', 'PowerState/stopped'],
      );
      assert.ok(view.statuses?.every((s) => s.level && s.displayStatus));
      assert.equal(view.disks?.[0].name, vm.computeVm!.osDiskId!.split('/').pop());
      await rejectsWith(clients.compute.virtualMachines.instanceView(rg, 'NoSuchVm'), 404, 'ResourceNotFound');
      await rejectsWith(clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'NoSuchVm'), 404, 'ResourceNotFound');
    });

    it('stops a running VM (LRO) so its disk can be read', async () => {
      await clients.devTestLabs.virtualMachines.beginStopAndWait('FactoryRG', 'Factory', 'Ubuntu-Build', { updateIntervalInMs: 20 });
      const vm = await clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'Ubuntu-Build', { expand: 'properties($expand=computeVm)' });
      assert.equal(powerState(vm), 'PowerState/deallocated');
      assert.equal(vm.lastKnownPowerState, 'Stopped');
    });

    it('deletes a VM as a long-running operation: 202 with Location and Azure-AsyncOperation, then gone; 204 once gone', async () => {
      await azure.addVm('Factory', { name: 'Doomed', osType: 'Linux' });
      // Long enough to see it running even on a busy machine.
      await azure.setSettings({ lroRetryAfterSeconds: 1, lroDurationMs: 1000 });
      try {
        const started = await arm('DELETE', `${labPath('FactoryRG', 'Factory')}/virtualmachines/Doomed?api-version=${DTL}`);
        assert.equal(started.status, 202);
        const location = started.headers.location as string;
        const asyncOperation = started.headers['azure-asyncoperation'] as string;
        assert.ok(location && asyncOperation, JSON.stringify(started.headers));
        assert.equal(started.headers['retry-after'], '1');
        assert.match(asyncOperation, new RegExp(`^${azure.armUrl}/subscriptions/${SUB}/providers/Microsoft\\.DevTestLab/locations/westus2/operations/[0-9a-f-]{36}\\?api-version=${DTL}$`));

        const running = await arm('GET', asyncOperation);
        assert.equal(running.status, 202);
        assert.equal(running.headers['retry-after'], '1');
        assert.deepEqual(running.json, { status: 'Running' });
        const deleting = await clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'Doomed');
        assert.equal(deleting.provisioningState, 'Deleting');

        const done = await pollUntilDone(location);
        assert.equal(done.status, 204);
        const status = await arm('GET', asyncOperation);
        assert.equal(status.status, 200);
        assert.deepEqual(status.json, { status: 'Succeeded', statusCode: 'OK' });
      } finally {
        await azure.setSettings({ lroRetryAfterSeconds: 0, lroDurationMs: 100 });
      }
      await rejectsWith(clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'Doomed'), 404, 'ResourceNotFound');
      const again = await arm('DELETE', `${labPath('FactoryRG', 'Factory')}/virtualmachines/Doomed?api-version=${DTL}`);
      assert.equal(again.status, 204);

      // And through the SDK.
      await azure.addVm('Factory', { name: 'Doomed2' });
      await clients.devTestLabs.virtualMachines.beginDeleteAndWait('FactoryRG', 'Factory', 'Doomed2', { updateIntervalInMs: 20 });
      const names = (await azure.state()).labs.find((l) => l.name === 'Factory')!.vms.map((v) => v.name);
      assert.ok(!names.includes('Doomed2'));
    });
  });

  describe('custom images', () => {
    let vhdUrl: string;
    before(async () => {
      const lab = await clients.devTestLabs.labs.get('TeamRG', 'TeamLab');
      const account = lab.defaultStorageAccount!.split('/').pop()!;
      await azure.addVhd('TeamLab', { name: 'staging-Image.vhd', sizeBytes: MIB + 512 });
      vhdUrl = `${azure.blobUrl}/${account}/uploads/staging-Image.vhd`;
    });

    it('lists and gets custom images in the shape of CustomImages_List / CustomImages_Get', async () => {
      const response = await arm('GET', `${labPath('TeamRG', 'TeamLab')}/customimages/Existing-Image?api-version=${DTL}`);
      const image = response.json as Record<string, any>;
      assertKeys(image, ['id', 'name', 'type', 'location', 'properties', 'tags'], 'custom image');
      assertKeys(image.properties, ['author', 'creationDate', 'provisioningState', 'uniqueIdentifier'], 'custom image properties');
      assert.equal(image.id, `/subscriptions/${SUB}/resourcegroups/teamrg/providers/microsoft.devtestlab/labs/teamlab/customimages/existing-image`);
      assert.equal(image.type, 'Microsoft.DevTestLab/labs/customImages');
      assert.equal(image.location, 'eastus');
      assert.equal(image.properties.creationDate, '2025-01-02T03:04:05Z');
      const names: string[] = [];
      for await (const item of clients.devTestLabs.customImages.list('TeamRG', 'TeamLab')) names.push(item.name!);
      assert.ok(names.includes('Existing-Image'));
    });

    it('creates from a VHD: 201 Creating with Azure-AsyncOperation, 409 while creating, Succeeded after the set time', async () => {
      const path = `${labPath('TeamRG', 'TeamLab')}/customimages/From-Vhd?api-version=${DTL}`;
      const body = {
        location: 'eastus',
        properties: { vhd: { imageName: vhdUrl, sysPrep: true, osType: 'Windows' }, author: 'Factory', description: 'From a VHD' },
        tags: { ImagePath: 'Win2016/Datacenter.json' },
      };
      await azure.setSettings({ customImageDurationMs: 1500 });
      const started = await arm('PUT', path, { body }).finally(() => azure.setSettings({ customImageDurationMs: 300 }));
      assert.equal(started.status, 201, started.text);
      const created = started.json as Record<string, any>;
      assert.equal(created.properties.provisioningState, 'Creating');
      assert.deepEqual(created.properties.vhd, { imageName: vhdUrl, sysPrep: true, osType: 'Windows' });
      assert.ok(started.headers['azure-asyncoperation'], 'Azure-AsyncOperation header');
      assert.ok(started.headers.location, 'Location header');

      const second = await arm('PUT', path, { body });
      assert.equal(second.status, 409);
      assert.equal(armError(second).code, 'Conflict');
      const deleting = await arm('DELETE', path);
      assert.equal(deleting.status, 409, 'cannot delete an image being created');
      assert.match(armError(deleting).message, /From-Vhd/);

      const status = await pollUntilDone(started.headers['azure-asyncoperation'] as string);
      assert.equal(status.status, 200);
      assert.equal((status.json as { status: string }).status, 'Succeeded');
      const image = await clients.devTestLabs.customImages.get('TeamRG', 'TeamLab', 'From-Vhd');
      assert.equal(image.provisioningState, 'Succeeded');
      assert.equal(image.author, 'Factory');
      assert.equal(image.description, 'From a VHD');
      assert.deepEqual(image.tags, { ImagePath: 'Win2016/Datacenter.json' });
      assert.ok(Date.now() - new Date(image.creationDate!).getTime() < 60_000, 'created now');
    });

    it('creates, updates tags and deletes through the SDK LROs', async () => {
      const image = await clients.devTestLabs.customImages.beginCreateOrUpdateAndWait(
        'TeamRG',
        'TeamLab',
        'Sdk-Image',
        { vhd: { imageName: vhdUrl, osType: 'Linux', sysPrep: false }, tags: { a: '1' } },
        { updateIntervalInMs: 20 },
      );
      assert.equal(image.provisioningState, 'Succeeded');
      const updated = await clients.devTestLabs.customImages.update('TeamRG', 'TeamLab', 'Sdk-Image', { tags: { a: '2', b: '3' } });
      assert.deepEqual(updated.tags, { a: '2', b: '3' });
      await clients.devTestLabs.customImages.beginDeleteAndWait('TeamRG', 'TeamLab', 'Sdk-Image', { updateIntervalInMs: 20 });
      await rejectsWith(clients.devTestLabs.customImages.get('TeamRG', 'TeamLab', 'Sdk-Image'), 404, 'ResourceNotFound');
      const metrics = await azure.metrics();
      assert.ok(metrics.byOperation.Operation_Status > 0, 'LRO polls are counted as Operation_Status');
    });

    it('refuses a VHD outside the lab storage account (InvalidStorageAccountForLab), a missing blob and bad bodies', async () => {
      const factory = await clients.devTestLabs.labs.get('FactoryRG', 'Factory');
      const otherAccount = factory.defaultStorageAccount!.split('/').pop()!;
      const create = (imageName: string, osType = 'Windows') =>
        clients.devTestLabs.customImages.beginCreateOrUpdateAndWait('TeamRG', 'TeamLab', 'Bad-Image', { vhd: { imageName, osType } }, { updateIntervalInMs: 20 });
      const other = await rejectsWith(create(`${azure.blobUrl}/${otherAccount}/uploads/Store-Image.vhd`), 400, 'InvalidStorageAccountForLab');
      assert.match(other.message, /TeamLab/);
      await rejectsWith(create('https://someaccount.blob.core.windows.net/uploads/x.vhd'), 400, 'InvalidStorageAccountForLab');
      const missing = await rejectsWith(create(vhdUrl.replace('staging-Image', 'no-such')), 400, 'VhdNotFound');
      assert.match(missing.message, /no-such\.vhd/);

      const path = `${labPath('TeamRG', 'TeamLab')}/customimages/Bad-Image?api-version=${DTL}`;
      const noOsType = await arm('PUT', path, { body: { properties: { vhd: { imageName: vhdUrl } } } });
      assert.equal(noOsType.status, 400);
      assert.equal(armError(noOsType).code, 'InvalidRequestContent');
      assert.match(armError(noOsType).message, /osType/);
      const noProperties = await arm('PUT', path, { body: { tags: {} } });
      assert.equal(armError(noProperties).code, 'InvalidRequestContent');
      const malformed = await arm('PUT', path, { body: '{"properties": {"vhd": ', headers: { 'content-type': 'application/json' } });
      assert.equal(malformed.status, 400);
      assert.equal(armError(malformed).code, 'InvalidRequestContent');
      const state = await azure.state();
      assert.ok(!state.labs.find((l) => l.name === 'TeamLab')!.customImages.some((i) => i.name === 'Bad-Image'), 'nothing half-made');
    });

    it('ends Failed when a lroFailed fault hits, with the error on the operation', async () => {
      await azure.setFaults([{ operation: 'CustomImages_CreateOrUpdate', kind: 'lroFailed', code: 'ImageCreationFailed', count: 1 }]);
      const error = await clients.devTestLabs.customImages
        .beginCreateOrUpdateAndWait('TeamRG', 'TeamLab', 'Failing-Image', { vhd: { imageName: vhdUrl, osType: 'Windows' } }, { updateIntervalInMs: 20 })
        .then(
          () => assert.fail('the LRO should fail'),
          (e: Error) => e,
        );
      assert.match(error.message, /ImageCreationFailed|failed/i);
      const image = await clients.devTestLabs.customImages.get('TeamRG', 'TeamLab', 'Failing-Image');
      assert.equal(image.provisioningState, 'Failed');
      // A failed image can be deleted, and made again.
      await clients.devTestLabs.customImages.beginDeleteAndWait('TeamRG', 'TeamLab', 'Failing-Image', { updateIntervalInMs: 20 });
    });

    it('takes longer under a slowLro fault', async () => {
      await azure.setFaults([{ operation: 'CustomImages_CreateOrUpdate', kind: 'slowLro', delayMs: 700, count: 1 }]);
      const started = Date.now();
      await clients.devTestLabs.customImages.beginCreateOrUpdateAndWait('TeamRG', 'TeamLab', 'Slow-Image', { vhd: { imageName: vhdUrl, osType: 'Windows' } }, { updateIntervalInMs: 20 });
      assert.ok(Date.now() - started >= 900, `took ${Date.now() - started} ms`);
    });
  });

  describe('compute disks', () => {
    let base: { rg: string; disk: string };
    before(async () => {
      const vm = await clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'Win2016-Base', { expand: 'properties($expand=computeVm)' });
      const parts = vm.computeVm!.osDiskId!.split('/');
      base = { rg: parts[4], disk: parts[8] };
    });

    it('gets a managed disk in the shape of Disks_Get', async () => {
      const response = await arm('GET', `/subscriptions/${SUB}/resourceGroups/${base.rg}/providers/Microsoft.Compute/disks/${base.disk}?api-version=${DISKS}`);
      assert.equal(response.status, 200);
      const disk = response.json as Record<string, any>;
      assertKeys(disk, ['managedBy', 'sku', 'properties', 'type', 'location', 'tags', 'id', 'name'], 'disk');
      assertKeys(disk.properties, ['osType', 'hyperVGeneration', 'creationData', 'diskSizeGB', 'timeCreated', 'provisioningState', 'diskState', 'uniqueId', 'diskSizeBytes'], 'disk properties');
      assert.equal(disk.type, 'Microsoft.Compute/disks');
      assert.equal(disk.properties.diskState, 'Reserved', 'a deallocated VM keeps its disk reserved');
      assert.equal(disk.properties.diskSizeGB, 1);
      assert.equal(disk.properties.diskSizeBytes, 1024 ** 3);
      assert.match(disk.properties.uniqueId, /^[0-9a-f-]{36}$/);
      assert.match(disk.managedBy, /\/providers\/Microsoft\.Compute\/virtualMachines\/Win2016-Base$/);
    });

    it('grants read access (202 + Location and Azure-AsyncOperation; the Location then gives accessSAS) that reads the disk bytes, and revokes it', async () => {
      const diskPath = `/subscriptions/${SUB}/resourceGroups/${base.rg}/providers/Microsoft.Compute/disks/${base.disk}`;
      const started = await arm('POST', `${diskPath}/beginGetAccess?api-version=${DISKS}`, { body: { access: 'Read', durationInSeconds: 300, fileFormat: 'VHD' } });
      assert.equal(started.status, 202, started.text);
      const location = started.headers.location as string;
      assert.match(location, new RegExp(`^${azure.armUrl}/subscriptions/${SUB}/providers/Microsoft\\.Compute/locations/westus2/operations/[0-9a-f-]{36}\\?monitor=true&api-version=${DISKS}$`));
      const done = await pollUntilDone(location);
      assert.equal(done.status, 200);
      const { accessSAS } = done.json as { accessSAS: string };
      assert.ok(accessSAS);
      assert.equal(new URL(accessSAS).searchParams.get('sp'), 'r');

      const disk = await clients.compute.disks.get(base.rg, base.disk);
      assert.equal(disk.diskState, 'ActiveSAS');
      assert.deepEqual((await azure.state()).diskGrants, [base.disk]);
      const reader = new BlobClient(accessSAS);
      assert.equal((await reader.getProperties()).contentLength, 1024 ** 3 + 512, "an exported disk is a fixed VHD: its bytes and a 512-byte footer");
      const head = await reader.downloadToBuffer(0, 512);
      assert.equal(head.length, 512);

      const revoking = await arm('POST', `${diskPath}/endGetAccess?api-version=${DISKS}`);
      assert.equal(revoking.status, 202);
      assert.ok(revoking.headers.location);
      assert.equal((await pollUntilDone(revoking.headers.location as string)).status, 200);
      assert.equal((await clients.compute.disks.get(base.rg, base.disk)).diskState, 'Reserved');
      assert.deepEqual((await azure.state()).diskGrants, []);
      await assert.rejects(reader.getProperties(), (e: { statusCode?: number }) => e.statusCode === 403, 'a revoked SAS reads nothing');
    });

    it('names the operation status (Azure-AsyncOperation), which answers 200 InProgress, then 200 Failed with the error', async () => {
      await azure.setFaults([{ operation: 'Disks_GrantAccess', kind: 'lroFailed', code: 'DiskServiceInternalError', count: 1 }]);
      const diskPath = `/subscriptions/${SUB}/resourceGroups/${base.rg}/providers/Microsoft.Compute/disks/${base.disk}`;
      const started = await arm('POST', `${diskPath}/beginGetAccess?api-version=${DISKS}`, { body: { access: 'Read', durationInSeconds: 300 } });
      assert.equal(started.status, 202, started.text);
      const statusUrl = started.headers['azure-asyncoperation'] as string;
      assert.match(statusUrl, new RegExp(`^${azure.armUrl}/subscriptions/${SUB}/providers/Microsoft\\.Compute/locations/westus2/operations/[0-9a-f-]{36}\\?api-version=${DISKS}$`));
      assert.equal(new URL(started.headers.location as string).searchParams.get('monitor'), 'true');

      const running = await arm('GET', statusUrl);
      assert.equal(running.status, 200);
      assert.equal((running.json as { status: string }).status, 'InProgress');
      let status: RawResponse = running;
      for (let i = 0; i < 100 && (status.json as { status: string }).status === 'InProgress'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = await arm('GET', statusUrl);
      }
      assert.equal(status.status, 200, 'a failed operation is an answer, not a server error');
      const body = status.json as { name: string; status: string; startTime: string; endTime: string; error: { code: string; message: string } };
      assert.equal(body.status, 'Failed');
      assert.equal(body.error.code, 'DiskServiceInternalError');
      assert.match(body.error.message, new RegExp(base.disk));
      assert.ok(body.startTime && body.endTime && body.name);
      // The Location, read once the operation has ended, is the error itself.
      const result = await arm('GET', started.headers.location as string);
      assert.equal(armError(result).code, 'DiskServiceInternalError');
      assert.deepEqual((await azure.state()).diskGrants, []);
    });

    it('grants and revokes through the SDK LROs, and refuses a disk of a running VM with 409', async () => {
      const access = await clients.compute.disks.beginGrantAccessAndWait(base.rg, base.disk, { access: 'Read', durationInSeconds: 60 }, { updateIntervalInMs: 20 });
      assert.ok(access.accessSAS);
      assert.equal((await clients.compute.disks.get(base.rg, base.disk)).diskState, 'ActiveSAS');
      await clients.compute.disks.beginRevokeAccessAndWait(base.rg, base.disk, { updateIntervalInMs: 20 });
      assert.equal((await clients.compute.disks.get(base.rg, base.disk)).diskState, 'Reserved');

      await azure.addVm('Factory', { name: 'Busy', powerState: 'running' });
      const busy = (await azure.state()).labs.find((l) => l.name === 'Factory')!.vms.find((v) => v.name === 'Busy')!;
      assert.equal(busy.diskState, 'Attached');
      const [, , , , rg, , , , disk] = busy.diskId.split('/');
      const error = await rejectsWith(
        clients.compute.disks.beginGrantAccessAndWait(rg, disk, { access: 'Read', durationInSeconds: 60 }, { updateIntervalInMs: 20 }),
        409,
        'OperationNotAllowed',
      );
      assert.match(error.message, /Busy/);
      assert.match(error.message, /deallocate/i);
      const bad = await arm('POST', `/subscriptions/${SUB}/resourceGroups/${base.rg}/providers/Microsoft.Compute/disks/${base.disk}/beginGetAccess?api-version=${DISKS}`, {
        body: { access: 'Read' },
      });
      assert.equal(bad.status, 400);
      assert.match(armError(bad).message, /durationInSeconds/);
    });
  });

  describe('faults and metrics', () => {
    it('answers 429 with Retry-After, which the SDK waits out; counts every attempt', async () => {
      await azure.resetMetrics();
      await azure.setFaults([{ operation: 'Labs_Get', kind: 'status', status: 429, retryAfterSeconds: 1, count: 1 }]);
      const raw = await arm('GET', `${labPath('FactoryRG', 'Factory')}?api-version=${DTL}`);
      assert.equal(raw.status, 429);
      assert.equal(raw.headers['retry-after'], '1');
      assert.equal(armError(raw).code, 'TooManyRequests');

      await azure.setFaults([{ operation: 'Labs_Get', kind: 'status', status: 429, retryAfterSeconds: 1, count: 1 }]);
      const started = Date.now();
      const lab = await clients.devTestLabs.labs.get('FactoryRG', 'Factory');
      assert.equal(lab.name, 'Factory');
      assert.ok(Date.now() - started >= 950, `waited for Retry-After: ${Date.now() - started} ms`);
      assert.equal((await azure.metrics()).byOperation.Labs_Get, 3);
    });

    it('drops connections on a reset fault and answers 503 on a status fault; the SDK retries both', async () => {
      await azure.resetMetrics();
      await azure.setFaults([
        { operation: 'VirtualMachines_List', kind: 'reset', count: 1 },
        { operation: 'Disks_Get', kind: 'status', status: 503, count: 1 },
      ]);
      const vms = [];
      for await (const vm of clients.devTestLabs.virtualMachines.list('FactoryRG', 'Factory')) vms.push(vm);
      assert.ok(vms.length >= 3);
      const vm = await clients.devTestLabs.virtualMachines.get('FactoryRG', 'Factory', 'Win2016-Base', { expand: 'properties($expand=computeVm)' });
      const parts = vm.computeVm!.osDiskId!.split('/');
      assert.equal((await clients.compute.disks.get(parts[4], parts[8])).name, parts[8]);
      const metrics = await azure.metrics();
      assert.ok(metrics.byOperation.VirtualMachines_List >= 3, JSON.stringify(metrics.byOperation));
      assert.equal(metrics.byOperation.Disks_Get, 2);
      assert.deepEqual(await azure.state().then((s) => s.faults.map((f) => f.count)), [0, 0], 'counted faults are used up');
    });

    it('lets a fault target one resource by path', async () => {
      await azure.setFaults([{ operation: 'Labs_Get', kind: 'status', status: 500, match: 'TeamLab', count: 5 }]);
      assert.equal((await arm('GET', `${labPath('FactoryRG', 'Factory')}?api-version=${DTL}`)).status, 200);
      const team = await arm('GET', `${labPath('TeamRG', 'TeamLab')}?api-version=${DTL}`);
      assert.equal(team.status, 500);
      assert.equal(armError(team).code, 'InternalServerError');
    });
  });
});
