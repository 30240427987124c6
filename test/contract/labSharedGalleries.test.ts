import * as assert from 'node:assert/strict';
import { LabSharedGalleries } from '../../core/azure/labSharedGalleries';
import type { LabRef } from '../../core/azure/labs';
import type { Scenario } from '../../local-azure/scenario';
import { ARM_SCOPE, sdkClients, startLocalAzure, type LocalAzureProcess, type SdkClients } from '../helpers/localAzure';

/**
 * DevTest Labs shared galleries (2018-10-15-preview) in the local Azure, through the adapter the tasks use
 * (the DevTest Labs client's pipeline): one gallery per lab, images enabled one by one, and lab VMs from
 * `sharedImageId` that provision only where the version is replicated and the size runs the image.
 */

const SUB = 'c3d4e5f6-0000-4000-8000-000000000001';
const OTHER_GALLERY = `/subscriptions/${SUB}/resourceGroups/TeamRG/providers/Microsoft.Compute/galleries/TeamGallery`;
const SCENARIO: Scenario = {
  galleries: [{ subscriptionId: SUB, resourceGroup: 'TeamRG', name: 'TeamGallery', location: 'eastus' }],
  labs: [
    {
      subscriptionId: SUB,
      resourceGroup: 'FactoryRG',
      name: 'Factory',
      location: 'westus2',
      vms: [{ name: 'Win11', osType: 'Windows', imageReference: { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-23h2-ent' }, securityType: 'TrustedLaunch', dataDisks: [{ lun: 0, diskSizeGB: 2 }] }],
    },
    { subscriptionId: SUB, resourceGroup: 'TeamRG', name: 'EastLab', location: 'eastus' },
    { subscriptionId: SUB, resourceGroup: 'TeamRG', name: 'OwnGallery', location: 'eastus', sharedGallery: { name: 'TeamGallery', galleryId: OTHER_GALLERY } },
  ],
  settings: { lroDurationMs: 50, lroRetryAfterSeconds: 0, galleryReplicationRateMBps: 8192 },
};

describe('local DevTest Labs shared galleries contract', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let clients: SdkClients;
  let shared: LabSharedGalleries;
  let galleryId: string;
  const labs: Record<string, LabRef> = {};
  const poll = { updateIntervalInMs: 20 };

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
    clients = sdkClients(azure, SUB);
    shared = new LabSharedGalleries({ devTestLabs: () => clients.devTestLabs, pollIntervalMs: 20 }, azure.armUrl);
    const state = await azure.state();
    for (const lab of state.labs) labs[lab.name] = { id: lab.id, subscriptionId: SUB, resourceGroup: lab.resourceGroup, name: lab.name, location: lab.location };
    const vm = state.labs[0].vms[0];
    const gallery = await clients.compute.galleries.createOrUpdate('FactoryRG', 'Factory', { location: 'westus2' }, poll);
    galleryId = gallery.id!;
    await clients.compute.galleryImages.createOrUpdate(
      'FactoryRG',
      'Factory',
      'Win11',
      { location: 'westus2', osType: 'Windows', osState: 'Generalized', hyperVGeneration: 'V2', identifier: { publisher: 'ImageFactory', offer: 'Win11', sku: 'ent' }, features: [{ name: 'SecurityType', value: 'TrustedLaunch' }] },
      poll,
    );
    await clients.compute.galleryImageVersions.createOrUpdate(
      'FactoryRG',
      'Factory',
      'Win11',
      '2026.1203.1',
      { location: 'westus2', storageProfile: { osDiskImage: { source: { id: vm.diskId } }, dataDiskImages: [{ lun: 0, source: { id: vm.dataDiskIds[0] } }] } },
      poll,
    );
  });
  after(async () => {
    await azure?.stop();
  });

  it('attaches a gallery to a lab; a lab keeps the one gallery it has', async () => {
    assert.deepEqual(await shared.list(labs.EastLab), []);
    await shared.attach(labs.EastLab, 'Factory', galleryId);
    const attached = await shared.list(labs.EastLab);
    assert.deepEqual(attached.map(({ name, galleryId: id, allowAllImages }) => ({ name, id, allowAllImages })), [{ name: 'Factory', id: galleryId, allowAllImages: 'Disabled' }]);
    assert.match(attached[0].id, /\/subscriptions\/.+\/resourcegroups\/teamrg\/providers\/microsoft\.devtestlab\/labs\/eastlab\/sharedgalleries\/factory$/);
    await assert.rejects(shared.attach(labs.OwnGallery, 'Factory', galleryId), (e: Error & { statusCode?: number; code?: string }) => e.statusCode === 409 && e.code === 'Conflict' && /TeamGallery/.test(e.message));
    assert.equal((await shared.list(labs.OwnGallery))[0].galleryId, OTHER_GALLERY, 'the other gallery is untouched');
    await assert.rejects(shared.attach(labs.Factory, 'Missing', `${galleryId}x`), (e: Error & { code?: string }) => e.code === 'InvalidGalleryId');
  });

  it('answers in the shapes of the SharedGalleries and SharedImages examples', async () => {
    const token = (await clients.credential.getToken(ARM_SCOPE))!.token;
    const call = (method: string, path: string, body?: unknown) => azure.request(method, `${path}?api-version=2018-10-15-preview`, { body, headers: { authorization: `Bearer ${token}` } });
    // SharedGalleries_CreateOrUpdate: 200 for the gallery the lab has, with its tags; synchronous (no operation header).
    const put = await call('PUT', `${labs.EastLab.id}/sharedgalleries/Factory`, { location: 'eastus', tags: { team: 'images' }, properties: { galleryId, allowAllImages: 'Disabled' } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.headers['azure-asyncoperation'], undefined);
    const gallery = put.json as any;
    assert.deepEqual(Object.keys(gallery.properties).sort(), ['allowAllImages', 'galleryId', 'provisioningState', 'uniqueIdentifier']);
    assert.deepEqual([gallery.properties.provisioningState, gallery.type, gallery.name, gallery.tags], ['Succeeded', 'Microsoft.DevTestLab/labs/sharedGalleries', 'Factory', { team: 'images' }]);
    const listed = (await call('GET', `${labs.EastLab.id}/sharedgalleries`)).json as any;
    assert.deepEqual(listed.value.map((g: any) => [g.id, g.location, g.tags]), [[gallery.id, 'eastus', { team: 'images' }]]);
    // SharedImages_List / SharedImages_CreateOrUpdate: the definition's name, OS and image type, enable state; no location.
    const images = (await call('GET', `${labs.EastLab.id}/sharedgalleries/Factory/sharedimages`)).json as any;
    const image = images.value[0];
    assert.deepEqual([image.name, image.type, image.location], ['Win11', 'Microsoft.DevTestLab/labs/sharedGalleries/sharedImages', undefined]);
    assert.deepEqual(
      [image.properties.definitionName, image.properties.osType, image.properties.imageType, image.properties.enableState, image.properties.displayName, image.properties.provisioningState],
      ['Win11', 'Windows', 'Generalized', 'Disabled', 'Win11', 'Succeeded'],
    );
    assert.equal(typeof image.properties.uniqueIdentifier, 'string');
    assert.match(image.id, /\/sharedgalleries\/factory\/sharedimages\/win11$/);
    const enabled = await call('PUT', `${labs.EastLab.id}/sharedgalleries/Factory/sharedimages/Win11`, { properties: { definitionName: 'Win11', enableState: 'Disabled' } });
    assert.equal(enabled.status, 200, enabled.text);
    assert.equal((enabled.json as any).properties.enableState, 'Disabled');
  });

  it('lists the gallery\'s image definitions as shared images, each enabled or disabled', async () => {
    let images = await shared.listImages(labs.EastLab, 'Factory');
    assert.deepEqual(images.map(({ name, definitionName, enableState, osType }) => ({ name, definitionName, enableState, osType })), [
      { name: 'Win11', definitionName: 'Win11', enableState: 'Disabled', osType: 'Windows' },
    ]);
    await shared.setImageState(labs.EastLab, 'Factory', 'Win11', 'Enabled');
    images = await shared.listImages(labs.EastLab, 'Factory');
    assert.equal(images[0].enableState, 'Enabled');
  });

  it('fails a lab VM whose region has no replica of the version, and provisions one once it has', async () => {
    const imageId = (await shared.listImages(labs.EastLab, 'Factory'))[0].id;
    await assert.rejects(shared.createVm(labs.EastLab, 'early-vm', { size: 'Standard_D2s_v3', sharedImageId: imageId }), /GalleryImageVersionNotReplicated/);
    let state = await azure.state();
    assert.equal(state.labs.find((l) => l.name === 'EastLab')!.vms.find((v) => v.name === 'early-vm')!.provisioningState, 'Failed');

    await clients.compute.galleryImageVersions.update('FactoryRG', 'Factory', 'Win11', '2026.1203.1', { publishingProfile: { targetRegions: [{ name: 'westus2' }, { name: 'eastus' }] } }, poll);
    const vm = await shared.createVm(labs.EastLab, 'win11-vm', { size: 'Standard_D2s_v3', sharedImageId: imageId });
    assert.equal(vm.properties?.provisioningState, 'Succeeded');
    assert.equal(vm.properties?.virtualMachineCreationSource, 'FromSharedGalleryImage');
    assert.equal(vm.properties?.sharedImageVersion, '2026.1203.1');
    state = await azure.state();
    const made = state.labs.find((l) => l.name === 'EastLab')!.vms.find((v) => v.name === 'win11-vm')!;
    assert.deepEqual([made.hyperVGeneration, made.securityType, made.dataDiskIds.length, made.powerState], ['V2', 'TrustedLaunch', 1, 'running']);
  });

  it('fails a Generation 2 image on a size that runs Generation 1 only, and refuses a disabled image', async () => {
    const imageId = (await shared.listImages(labs.EastLab, 'Factory'))[0].id;
    await assert.rejects(shared.createVm(labs.EastLab, 'a-series', { size: 'Standard_A2_v2', sharedImageId: imageId }), /generation 2/);
    await shared.setImageState(labs.EastLab, 'Factory', 'Win11', 'Disabled');
    await assert.rejects(shared.createVm(labs.EastLab, 'disabled', { size: 'Standard_D2s_v3', sharedImageId: imageId }), (e: Error & { code?: string }) => e.code === 'SharedImageNotEnabled');
  });

  it('serves shared galleries only on 2018-10-15-preview', async () => {
    const token = (await clients.credential.getToken(ARM_SCOPE))!.token;
    const response = await azure.request('GET', `${labs.EastLab.id}/sharedgalleries?api-version=2018-09-15`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 400);
    assert.equal((response.json as { error: { code: string } }).error.code, 'InvalidApiVersionParameter');
  });
});
