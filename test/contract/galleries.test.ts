import * as assert from 'node:assert/strict';
import type { GalleryImage, GalleryImageVersion } from '@azure/arm-compute';
import type { Scenario } from '../../local-azure/scenario';
import { ARM_SCOPE, sdkClients, startLocalAzure, type LocalAzureProcess, type SdkClients } from '../helpers/localAzure';

/**
 * The local Azure Compute Gallery against the Compute gallery REST contract (GalleryRP 2025-03-03),
 * through @azure/arm-compute: galleries, image definitions and versions as long-running operations, the
 * naming and immutability rules, versions made from a VM's managed OS and data disks, replication per
 * target region over time with `$expand=ReplicationStatus`, target regions added and removed.
 */

const SUB = 'b2c3d4e5-0000-4000-8000-000000000001';
const RG = 'FactoryRG';
const API = '2025-03-03';
const LAB_RG_PREFIX = `/subscriptions/${SUB}/resourceGroups`;

const SCENARIO: Scenario = {
  labs: [
    {
      subscriptionId: SUB,
      resourceGroup: RG,
      name: 'Factory',
      location: 'westus2',
      vms: [
        { name: 'Gen1-Vm', osType: 'Windows', diskSizeGB: 1 },
        { name: 'Gen2-TL', osType: 'Windows', imageReference: { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-23h2-ent' }, securityType: 'TrustedLaunch', diskSizeGB: 1, dataDisks: [{ lun: 0, diskSizeGB: 1 }] },
        { name: 'Gen2-Linux', osType: 'Linux', imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' }, diskSizeGB: 1 },
      ],
    },
    { subscriptionId: SUB, resourceGroup: 'LockedRG', name: 'Locked', denyAccess: true, vms: [{ name: 'Hidden' }] },
  ],
  settings: { lroDurationMs: 50, lroRetryAfterSeconds: 0, galleryReplicationRateMBps: 2048 },
};

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { statusCode?: number; code?: string };
    assert.equal(e.statusCode, status, e.message);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected HTTP ${status} ${code}`);
}

describe('local Azure Compute Gallery contract', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let clients: SdkClients;
  const disks: Record<string, { os: string; data: string[]; vm: string }> = {};
  const poll = { updateIntervalInMs: 20 };

  const arm = async (method: string, path: string, body?: unknown) => {
    const token = (await clients.credential.getToken(ARM_SCOPE))!.token;
    return azure.request(method, path, { body, headers: { authorization: `Bearer ${token}` } });
  };
  const galleryPath = (gallery: string) => `${LAB_RG_PREFIX}/${RG}/providers/Microsoft.Compute/galleries/${gallery}`;

  // The SDK's models flatten `properties`; it nests them again on the wire.
  const definition = (sku: string, extra: Partial<GalleryImage> = {}): GalleryImage => ({
    location: 'westus2',
    osType: 'Windows',
    osState: 'Generalized',
    hyperVGeneration: 'V2',
    identifier: { publisher: 'ImageFactory', offer: 'Win', sku },
    ...extra,
  });
  const versionFromDisks = (os: string, data: string[] = [], regions = ['westus2']): GalleryImageVersion => ({
    location: 'westus2',
    publishingProfile: { targetRegions: regions.map((name) => ({ name, regionalReplicaCount: 1, storageAccountType: 'Standard_LRS' })) },
    storageProfile: { osDiskImage: { source: { id: os } }, dataDiskImages: data.map((id, lun) => ({ lun, source: { id } })) },
  });
  /** The wire shape of a version, for raw requests. */
  const wireVersion = (os: string, data: string[], regions: string[]) => {
    const { location, ...properties } = versionFromDisks(os, data, regions);
    return { location, properties };
  };

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
    clients = sdkClients(azure, SUB);
    const state = await azure.state();
    for (const lab of state.labs) for (const vm of lab.vms) disks[vm.name] = { os: vm.diskId, data: vm.dataDiskIds, vm: vm.computeId };
    await clients.compute.galleries.createOrUpdate(RG, 'FactoryGallery', { location: 'westus2', description: 'Factory images' }, poll);
  });
  after(async () => {
    await azure?.stop();
  });

  describe('galleries', () => {
    it('creates a gallery as a long-running operation and returns it in the Galleries_Get shape', async () => {
      const created = await arm('PUT', `${galleryPath('Second.Gallery')}?api-version=${API}`, { location: 'westus2', tags: { team: 'images' } });
      assert.equal(created.status, 201);
      assert.ok(created.headers['azure-asyncoperation'], 'Azure-AsyncOperation header');
      // Gallery_Create: 201 Creating, then 200 Updating for a PUT on the gallery that exists.
      assert.deepEqual((created.json as any).properties, { identifier: { uniqueName: `${SUB}-SECOND.GALLERY` }, provisioningState: 'Creating' });
      assert.deepEqual([(created.json as any).name, (created.json as any).location, (created.json as any).tags], ['Second.Gallery', 'westus2', { team: 'images' }]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const updated = await arm('PUT', `${galleryPath('Second.Gallery')}?api-version=${API}`, { location: 'West US 2', properties: { description: 'Second' } });
      assert.equal(updated.status, 200, updated.text);
      assert.deepEqual([(updated.json as any).properties.provisioningState, (updated.json as any).properties.description], ['Updating', 'Second']);
      const gallery = await clients.compute.galleries.get(RG, 'FactoryGallery');
      assert.equal(gallery.name, 'FactoryGallery');
      assert.equal(gallery.type, 'Microsoft.Compute/galleries');
      assert.equal(gallery.id, galleryPath('FactoryGallery'));
      assert.equal(gallery?.provisioningState, 'Succeeded');
      assert.equal(gallery?.identifier?.uniqueName, `${SUB}-FACTORYGALLERY`);
      assert.equal(gallery?.description, 'Factory images');
    });

    it('refuses names Compute refuses and resource groups that do not exist', async () => {
      await rejectsWith(clients.compute.galleries.createOrUpdate(RG, 'bad gallery!', { location: 'westus2' }, poll), 400, 'InvalidParameter');
      await rejectsWith(clients.compute.galleries.createOrUpdate(RG, 'Ends-', { location: 'westus2' }, poll), 400, 'InvalidParameter');
      await rejectsWith(clients.compute.galleries.createOrUpdate('NoSuchRG', 'Gallery', { location: 'westus2' }, poll), 404, 'ResourceGroupNotFound');
      await rejectsWith(clients.compute.galleries.get(RG, 'Missing'), 404, 'ResourceNotFound');
    });
  });

  describe('image definitions', () => {
    it('creates a definition as GalleryImage_Create shows: 201 Creating with its identifier and generation', async () => {
      const created = await arm('PUT', `${galleryPath('FactoryGallery')}/images/Raw-Def?api-version=${API}`, {
        location: 'West US 2',
        properties: { osType: 'Windows', osState: 'Generalized', hyperVGeneration: 'V1', identifier: { publisher: 'myPublisherName', offer: 'myOfferName', sku: 'mySkuName' } },
      });
      assert.equal(created.status, 201, created.text);
      assert.ok(created.headers['azure-asyncoperation'] && created.headers.location);
      const properties = (created.json as any).properties;
      assert.deepEqual([properties.osType, properties.osState, properties.hyperVGeneration, properties.provisioningState], ['Windows', 'Generalized', 'V1', 'Creating']);
      assert.deepEqual(properties.identifier, { publisher: 'myPublisherName', offer: 'myOfferName', sku: 'mySkuName' });
      assert.equal((created.json as any).id, `${galleryPath('FactoryGallery')}/images/Raw-Def`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await clients.compute.galleryImages.delete(RG, 'FactoryGallery', 'Raw-Def', poll);
    });

    it('creates a Generation 2 Trusted Launch definition in the GalleryImages_Get shape', async () => {
      const image = await clients.compute.galleryImages.createOrUpdate(
        RG,
        'FactoryGallery',
        'Win11-TL',
        definition('win11-tl', { features: [{ name: 'SecurityType', value: 'TrustedLaunch' }] }),
        poll,
      );
      assert.equal(image.type, 'Microsoft.Compute/galleries/images');
      assert.equal(image?.hyperVGeneration, 'V2');
      assert.equal(image?.osState, 'Generalized');
      assert.deepEqual(image?.identifier, { publisher: 'ImageFactory', offer: 'Win', sku: 'win11-tl' });
      assert.deepEqual(image?.features?.map(({ name, value }) => ({ name, value })), [{ name: 'SecurityType', value: 'TrustedLaunch' }]);
      assert.equal(image?.provisioningState, 'Succeeded');
    });

    it('refuses to change what a definition says of its images, and accepts a new description', async () => {
      await clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen1', definition('win-gen1', { hyperVGeneration: 'V1' }), poll);
      const error = await rejectsWith(
        clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen1', definition('win-gen1', { hyperVGeneration: 'V2' }), poll),
        400,
        'PropertyChangeNotAllowed',
      );
      assert.match(error.message, /hyperVGeneration/);
      await rejectsWith(
        clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen1', definition('other-sku', { hyperVGeneration: 'V1' }), poll),
        400,
        'PropertyChangeNotAllowed',
      );
      await rejectsWith(
        clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen1', definition('win-gen1', { hyperVGeneration: 'V1', osType: 'Linux' }), poll),
        400,
        'PropertyChangeNotAllowed',
      );
      const updated = await clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen1', definition('win-gen1', { hyperVGeneration: 'V1', description: 'Gen1' }), poll);
      assert.equal(updated?.description, 'Gen1');
    });

    it('refuses Trusted Launch on Generation 1, a second definition with the same identifier, and bad names', async () => {
      await rejectsWith(
        clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'TL-Gen1', definition('tl-gen1', { hyperVGeneration: 'V1', features: [{ name: 'SecurityType', value: 'TrustedLaunch' }] }), poll),
        400,
        'InvalidParameter',
      );
      await rejectsWith(clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Copy', definition('win11-tl'), poll), 409, 'Conflict');
      await rejectsWith(clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', '-bad', definition('bad'), poll), 400, 'InvalidParameter');
      await rejectsWith(clients.compute.galleryImages.createOrUpdate(RG, 'NoGallery', 'Image', definition('x'), poll), 404, 'ParentResourceNotFound');
    });

    describe('features of an existing definition', () => {
      const imagePath = `${galleryPath('FactoryGallery')}/images/Win-Std?api-version=${API}`;
      const wire = (properties: Record<string, unknown>) => ({
        location: 'westus2',
        properties: { osType: 'Windows', osState: 'Generalized', hyperVGeneration: 'V2', identifier: { publisher: 'ImageFactory', offer: 'Win', sku: 'win-std' }, ...properties },
      });
      // The SDK answers each property its model has, set or not: compare what is set.
      const plain = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)));
      const featuresOf = async () => plain((await clients.compute.galleryImages.get(RG, 'FactoryGallery', 'Win-Std')).features);
      /** Compute's refusal of a feature change: the feature's name is the target. */
      const assertRefused = (reply: { status: number; json: unknown; text: string }, feature: string) => {
        assert.equal(reply.status, 400, reply.text);
        assert.deepEqual((reply.json as any).error, { code: 'PropertyChangeNotAllowed', message: `Changing property '${feature}' is not allowed.`, target: feature });
      };

      before(async () => {
        await clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Std', definition('win-std'), poll);
      });

      it('refuses a feature change that does not say allowUpdateImage, naming the feature', async () => {
        assertRefused(await arm('PUT', imagePath, wire({ features: [{ name: 'SecurityType', value: 'TrustedLaunchSupported' }] })), 'SecurityType');
        assertRefused(await arm('PUT', imagePath, wire({ allowUpdateImage: false, features: [{ name: 'IsHibernateSupported', value: 'True' }] })), 'IsHibernateSupported');
        assert.equal(await featuresOf(), undefined);
      });

      it('changes SecurityType with allowUpdateImage as GalleryImage_UpdateFeatures shows, keeping startsAtVersion', async () => {
        const updated = await arm('PUT', imagePath, wire({ allowUpdateImage: true, features: [{ name: 'SecurityType', value: 'TrustedLaunch', startsAtVersion: '2.0.0' }] }));
        assert.equal(updated.status, 200, updated.text);
        const properties = (updated.json as any).properties;
        assert.deepEqual([properties.provisioningState, properties.features], ['Updating', [{ name: 'SecurityType', value: 'TrustedLaunch', startsAtVersion: '2.0.0' }]]);
        assert.equal('allowUpdateImage' in properties, false, 'the flag belongs to the request only');
        await new Promise((resolve) => setTimeout(resolve, 200));
        // A PUT that repeats the feature without startsAtVersion changes nothing, so it needs no flag.
        const repeated = await clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Std', definition('win-std', { features: [{ name: 'securitytype', value: 'TrustedLaunch' }], description: 'TL from 2.0.0' }), poll);
        assert.equal(repeated.description, 'TL from 2.0.0');
        assert.deepEqual(await featuresOf(), [{ name: 'securitytype', value: 'TrustedLaunch', startsAtVersion: '2.0.0' }]);
      });

      it('changes the updatable features through PATCH (GalleryImages_Update); other properties stay', async () => {
        const features = [
          { name: 'SecurityType', value: 'TrustedLaunchSupported', startsAtVersion: '3.0.0' },
          { name: 'DiskControllerTypes', value: 'SCSI, NVMe', startsAtVersion: '3.0.0' },
          { name: 'IsAcceleratedNetworkSupported', value: 'True' },
        ];
        const patched = await clients.compute.galleryImages.update(RG, 'FactoryGallery', 'Win-Std', { allowUpdateImage: true, features } as any, poll);
        assert.deepEqual(plain(patched.features), features);
        assert.deepEqual([patched.hyperVGeneration, patched.identifier?.sku, patched.description, patched.provisioningState], ['V2', 'win-std', 'TL from 2.0.0', 'Succeeded']);
        const tagged = await clients.compute.galleryImages.update(RG, 'FactoryGallery', 'Win-Std', { tags: { team: 'images' } } as any, poll);
        assert.deepEqual([tagged.tags, plain(tagged.features)], [{ team: 'images' }, features]);
        // Taking a feature away is a change too.
        assertRefused(await arm('PATCH', imagePath, { properties: { features: features.slice(0, 2) } }), 'IsAcceleratedNetworkSupported');
        assertRefused(await arm('PATCH', imagePath, { properties: { features: features.map((f) => ({ ...f, startsAtVersion: '4.0.0' })) } }), 'SecurityType');
      });

      it('refuses, even with allowUpdateImage, a feature Compute does not let change, and what else cannot change', async () => {
        const current = (await featuresOf())!;
        assertRefused(await arm('PATCH', imagePath, { properties: { allowUpdateImage: true, features: [...current, { name: 'IsSecureBootSupported', value: 'true' }] } }), 'IsSecureBootSupported');
        const gen1 = await arm('PATCH', imagePath, { properties: { allowUpdateImage: true, hyperVGeneration: 'V1', features: [] } });
        assert.equal(gen1.status, 400, gen1.text);
        assert.equal((gen1.json as any).error.code, 'PropertyChangeNotAllowed');
        assert.match((gen1.json as any).error.message, /hyperVGeneration/);
        const badVersion = await arm('PATCH', imagePath, { properties: { allowUpdateImage: true, features: [{ name: 'SecurityType', value: 'TrustedLaunch', startsAtVersion: 'v2' }] } });
        assert.equal(badVersion.status, 400, badVersion.text);
        assert.equal((badVersion.json as any).error.code, 'InvalidParameter');
        const notFlag = await arm('PATCH', imagePath, { properties: { allowUpdateImage: 'yes' } });
        assert.equal((notFlag.json as any).error.code, 'InvalidRequestContent');
        assert.deepEqual(await featuresOf(), current);
        await rejectsWith(clients.compute.galleryImages.update(RG, 'FactoryGallery', 'No-Such-Def', { tags: {} } as any, poll), 404, 'ResourceNotFound');
      });
    });
  });

  describe('image versions', () => {
    it('makes a version from a VM\'s OS and data disks, replicated per region over time', async () => {
      const tl = disks['Gen2-TL'];
      const started = await arm('PUT', `${galleryPath('FactoryGallery')}/images/Win11-TL/versions/2026.1203.1?api-version=${API}`, wireVersion(tl.os, tl.data, ['westus2', 'eastus']));
      assert.equal(started.status, 201, started.text);
      assert.ok(started.headers['azure-asyncoperation']);
      assert.equal((started.json as any).properties.provisioningState, 'Creating');

      const during = await clients.compute.galleryImageVersions.get(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.1', { expand: 'ReplicationStatus' });
      assert.equal(during?.replicationStatus?.aggregatedState, 'InProgress');
      assert.deepEqual(during?.replicationStatus?.summary?.map((s) => [s.region, s.state]), [
        ['West US 2', 'Replicating'],
        ['East US', 'Replicating'],
      ]);
      const plain = await clients.compute.galleryImageVersions.get(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.1');
      assert.equal(plain?.replicationStatus, undefined, 'replicationStatus only with $expand');

      await new Promise((resolve) => setTimeout(resolve, 1300));
      const done = await clients.compute.galleryImageVersions.get(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.1', { expand: 'ReplicationStatus' });
      assert.equal(done?.provisioningState, 'Succeeded');
      assert.equal(done?.replicationStatus?.aggregatedState, 'Completed');
      assert.deepEqual(done?.publishingProfile?.targetRegions?.map((r) => r.name), ['West US 2', 'East US']);
      assert.equal(done?.storageProfile?.osDiskImage?.source?.id, tl.os);
      assert.deepEqual(done?.storageProfile?.dataDiskImages?.map((d) => [d.lun, d.source?.id, d.sizeInGB]), [[0, tl.data[0], 1]]);
    });

    it('makes a version from a VM id, taking its data disks', async () => {
      const tl = disks['Gen2-TL'];
      const version = await clients.compute.galleryImageVersions.createOrUpdate(
        RG,
        'FactoryGallery',
        'Win11-TL',
        '2026.1203.2',
        { location: 'westus2', storageProfile: { source: { virtualMachineId: tl.vm } } },
        poll,
      );
      assert.equal(version?.provisioningState, 'Succeeded');
      assert.equal(version?.storageProfile?.dataDiskImages?.length, 1);
      assert.deepEqual(version?.publishingProfile?.targetRegions?.map((r) => r.name), ['West US 2']);
    });

    it('refuses a source whose generation, security type or OS type differs from the definition', async () => {
      let error = await rejectsWith(clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win11-TL', '1.0.0', versionFromDisks(disks['Gen1-Vm'].os), poll), 400, 'InvalidParameter');
      assert.match(error.message, /Hyper-V generation 'V1'/);
      await clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen2', definition('win-gen2'), poll);
      error = await rejectsWith(clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen2', '1.0.0', versionFromDisks(disks['Gen2-TL'].os), poll), 400, 'InvalidParameter');
      assert.match(error.message, /Trusted Launch/);
      await rejectsWith(clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen2', '1.0.0', versionFromDisks(disks['Gen2-Linux'].os), poll), 400, 'InvalidParameter');
      await rejectsWith(clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win-Gen2', '1.0.0', versionFromDisks(`${disks['Gen1-Vm'].os}-missing`), poll), 400, 'InvalidParameter');
    });

    it('refuses bad version names, target regions without the home region, and disks the principal may not read', async () => {
      const tl = disks['Gen2-TL'];
      await rejectsWith(clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win11-TL', 'v1', versionFromDisks(tl.os), poll), 400, 'InvalidParameter');
      await rejectsWith(clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win11-TL', '1.0.99999999999', versionFromDisks(tl.os), poll), 400, 'InvalidParameter');
      const error = await rejectsWith(clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win11-TL', '1.0.1', versionFromDisks(tl.os, [], ['eastus']), poll), 400, 'InvalidParameter');
      assert.match(error.message, /westus2/);
      const state = await azure.state();
      const hidden = state.labs.find((lab) => lab.name === 'Locked')!.vms[0];
      await rejectsWith(
        clients.compute.galleryImages.createOrUpdate(RG, 'FactoryGallery', 'Hidden', definition('hidden', { hyperVGeneration: 'V1' }), poll).then(() =>
          clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Hidden', '1.0.0', versionFromDisks(hidden.diskId), poll),
        ),
        403,
        'LinkedAuthorizationFailed',
      );
    });

    it('adds a target region (copied over time) and removes one; the source cannot change', async () => {
      const tl = disks['Gen2-TL'];
      await clients.compute.galleryImageVersions.createOrUpdate(
        RG,
        'FactoryGallery',
        'Win11-TL',
        '2026.1203.3',
        { ...versionFromDisks(tl.os, tl.data, ['westus2', 'eastus']), safetyProfile: { allowDeletionOfReplicatedLocations: true } },
        poll,
      );
      const poller = clients.compute.galleryImageVersions.update(
        RG,
        'FactoryGallery',
        'Win11-TL',
        '2026.1203.3',
        { publishingProfile: { targetRegions: [{ name: 'West US 2' }, { name: 'northeurope' }] } },
        poll,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const during = await clients.compute.galleryImageVersions.get(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.3', { expand: 'ReplicationStatus' });
      assert.equal(during?.provisioningState, 'Updating');
      assert.deepEqual(during?.replicationStatus?.summary?.map((s) => [s.region, s.state]), [
        ['West US 2', 'Completed'],
        ['East US', 'Completed'],
        ['North Europe', 'Replicating'],
      ]);
      const updated = await poller;
      assert.equal(updated?.provisioningState, 'Succeeded');
      assert.deepEqual(updated?.publishingProfile?.targetRegions?.map((r) => r.name), ['West US 2', 'North Europe']);
      await rejectsWith(
        clients.compute.galleryImageVersions.createOrUpdate(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.3', versionFromDisks(disks['Gen2-Linux'].os), poll),
        400,
        'PropertyChangeNotAllowed',
      );
    });

    it('answers create, get, update and delete in the shapes of the GalleryRP examples', async () => {
      const tl = disks['Gen2-TL'];
      const path = `${galleryPath('FactoryGallery')}/images/Win11-TL/versions/2026.1203.4?api-version=${API}`;
      // GalleryImageVersion_Create_WithSnapshotsAsSource: per-region count and storage type, OS and data disk sources.
      const created = await arm('PUT', path, {
        location: 'westus2',
        properties: {
          publishingProfile: {
            targetRegions: [
              { name: 'West US 2', regionalReplicaCount: 1, excludeFromLatest: false },
              { name: 'East US', regionalReplicaCount: 2, storageAccountType: 'Standard_ZRS', excludeFromLatest: false },
            ],
          },
          storageProfile: { osDiskImage: { source: { id: tl.os }, hostCaching: 'ReadOnly' }, dataDiskImages: [{ source: { id: tl.data[0] }, lun: 0, hostCaching: 'None' }] },
          safetyProfile: { allowDeletionOfReplicatedLocations: false, blockDeletionBeforeEndOfLife: false },
        },
      });
      assert.equal(created.status, 201, created.text);
      assert.ok(created.headers['azure-asyncoperation'] && created.headers.location, 'Azure-AsyncOperation and Location headers');
      const body = created.json as any;
      assert.deepEqual([body.name, body.location, body.type], ['2026.1203.4', 'westus2', 'Microsoft.Compute/galleries/images/versions']);
      assert.equal(body.properties.provisioningState, 'Creating');
      const profile = body.properties.publishingProfile;
      assert.deepEqual(profile.targetRegions, [
        { name: 'West US 2', regionalReplicaCount: 1, storageAccountType: 'Standard_LRS', excludeFromLatest: false },
        { name: 'East US', regionalReplicaCount: 2, storageAccountType: 'Standard_ZRS', excludeFromLatest: false },
      ]);
      assert.deepEqual([profile.replicaCount, profile.storageAccountType, typeof profile.publishedDate], [1, 'Standard_LRS', 'string']);
      assert.deepEqual(body.properties.storageProfile.osDiskImage, { source: { id: tl.os }, sizeInGB: 1, hostCaching: 'ReadOnly' });
      assert.deepEqual(body.properties.storageProfile.dataDiskImages, [{ source: { id: tl.data[0] }, lun: 0, sizeInGB: 1, hostCaching: 'None' }]);
      assert.deepEqual(body.properties.safetyProfile, { allowDeletionOfReplicatedLocations: false, reportedForPolicyViolation: false, blockDeletionBeforeEndOfLife: false });

      // GalleryImageVersion_Get_WithReplicationStatus.
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const got = await arm('GET', `${path}&$expand=ReplicationStatus`);
      assert.equal(got.status, 200);
      const status = (got.json as any).properties.replicationStatus;
      assert.deepEqual(status, {
        aggregatedState: 'Completed',
        summary: [
          { region: 'West US 2', state: 'Completed', details: '', progress: 100 },
          { region: 'East US', state: 'Completed', details: '', progress: 100 },
        ],
      });
      assert.equal((got.json as any).properties.provisioningState, 'Succeeded');

      // GalleryImageVersions_Update: 200 with Location, the version Updating.
      const patched = await arm('PATCH', path, { properties: { publishingProfile: { targetRegions: [{ name: 'West US 2' }, { name: 'East US' }, { name: 'North Europe', regionalReplicaCount: 1 }] } } });
      assert.equal(patched.status, 200, patched.text);
      assert.ok(patched.headers.location, 'Location header');
      assert.equal((patched.json as any).properties.provisioningState, 'Updating');
      assert.deepEqual(
        (patched.json as any).properties.publishingProfile.targetRegions.map((r: any) => [r.name, r.regionalReplicaCount, r.storageAccountType]),
        [['West US 2', 1, 'Standard_LRS'], ['East US', 1, 'Standard_ZRS'], ['North Europe', 1, 'Standard_LRS']],
        'a region whose storage type is left out keeps it',
      );
      // One operation on a version at a time.
      const busy = await arm('PATCH', path, { tags: { a: 'b' } });
      assert.equal(busy.status, 409, busy.text);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    });

    it('refuses to take a region away unless the safety profile allows it, to change a region\'s storage type, and to delete before the end of life when blocked', async () => {
      const version = (regions: unknown[]) => ({ properties: { publishingProfile: { targetRegions: regions } } });
      const path = `${galleryPath('FactoryGallery')}/images/Win11-TL/versions/2026.1203.4?api-version=${API}`;
      let refused = await arm('PATCH', path, version([{ name: 'West US 2' }, { name: 'East US' }]));
      assert.equal(refused.status, 409, refused.text);
      assert.match((refused.json as any).error.code, /OperationNotAllowed/);
      assert.match((refused.json as any).error.message, /North Europe.*allowDeletionOfReplicatedLocations/);
      refused = await arm('PATCH', path, version([{ name: 'West US 2' }, { name: 'East US', storageAccountType: 'Standard_LRS' }, { name: 'North Europe' }]));
      assert.equal(refused.status, 400, refused.text);
      assert.equal((refused.json as any).error.code, 'PropertyChangeNotAllowed');
      const regions = (await clients.compute.galleryImageVersions.get(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.4')).publishingProfile?.targetRegions?.map((r) => r.name);
      assert.deepEqual(regions, ['West US 2', 'East US', 'North Europe'], 'a refused update changes nothing');
      // Allowed in the same update that takes the region away.
      const allowed = await clients.compute.galleryImageVersions.update(
        RG,
        'FactoryGallery',
        'Win11-TL',
        '2026.1203.4',
        { publishingProfile: { targetRegions: [{ name: 'West US 2' }, { name: 'East US' }] }, safetyProfile: { allowDeletionOfReplicatedLocations: true, blockDeletionBeforeEndOfLife: true } },
        poll,
      );
      assert.deepEqual(allowed.publishingProfile?.targetRegions?.map((r) => r.name), ['West US 2', 'East US']);
      await rejectsWith(clients.compute.galleryImageVersions.delete(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.4', poll), 409, 'OperationNotAllowed');
      await clients.compute.galleryImageVersions.update(RG, 'FactoryGallery', 'Win11-TL', '2026.1203.4', { safetyProfile: { blockDeletionBeforeEndOfLife: false } }, poll);
      const deleted = await arm('DELETE', path);
      assert.equal(deleted.status, 202, deleted.text);
      assert.ok(deleted.headers.location, 'Location header');
      await new Promise((resolve) => setTimeout(resolve, 300));
    });

    it('lists versions; a definition with versions and a gallery with definitions cannot be deleted', async () => {
      const names: string[] = [];
      for await (const v of clients.compute.galleryImageVersions.listByGalleryImage(RG, 'FactoryGallery', 'Win11-TL')) names.push(v.name!);
      assert.deepEqual(names, ['2026.1203.1', '2026.1203.2', '2026.1203.3']);
      await rejectsWith(clients.compute.galleryImages.delete(RG, 'FactoryGallery', 'Win11-TL', poll), 409, 'CannotDeleteResource');
      await rejectsWith(clients.compute.galleries.delete(RG, 'FactoryGallery', poll), 409, 'CannotDeleteResource');
      for (const name of names) await clients.compute.galleryImageVersions.delete(RG, 'FactoryGallery', 'Win11-TL', name, poll);
      await clients.compute.galleryImages.delete(RG, 'FactoryGallery', 'Win11-TL', poll);
      await rejectsWith(clients.compute.galleryImages.get(RG, 'FactoryGallery', 'Win11-TL'), 404, 'ResourceNotFound');
    });
  });
});
