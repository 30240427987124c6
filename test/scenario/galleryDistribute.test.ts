import * as assert from 'node:assert/strict';
import { LabSharedGalleries } from '../../core/azure/labSharedGalleries';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, sdkClients, startLocalAzure } from '../helpers/localAzure';
import { runTaskProcess } from '../helpers/taskProcess';
import { defaultLabs, FACTORY, GALLERY, GALLERY_ID, galleryConfiguration, galleryFactory, OTHER_GALLERY_ID, SUB, TARGETS } from '../scenarios/gallery/factory';

/**
 * DistributeImages on the gallery route through the bundled task: the gallery attached to labs in three
 * regions, exactly the selected images enabled, versions replicated to each lab's region (a lab added
 * to labs.json only adds a region), a lab with another gallery left alone with IF7004, a rerun that
 * changes nothing, and a lab VM from each distributed image that provisions.
 */
type LabState = StateSnapshot['labs'][number];

function labOf(state: StateSnapshot, name: string): LabState {
  const lab = state.labs.find((l) => l.name === name);
  assert.ok(lab, `lab ${name}`);
  return lab;
}

function enabled(lab: LabState): string[] {
  return Object.entries(lab.sharedGallery?.enableStates ?? {})
    .filter(([, state]) => state === 'Enabled')
    .map(([name]) => name)
    .sort();
}

describe('DistributeImages on the gallery route', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  const configurations: string[] = [];
  let withEurope: string;
  const inputs = () => ({ ConfigurationLocation: withEurope, DevTestLabName: FACTORY, galleryName: GALLERY, maxConcurrentJobs: '4' });

  before(async () => {
    azure = await startLocalAzure({ scenario: galleryFactory({ withOtherGalleryLab: true }) });
    // Published while labs.json had no Europe lab: the versions are in westus2 and eastus only.
    const labs = defaultLabs().filter((l) => l.name !== TARGETS.europe.name);
    const withoutEurope = galleryConfiguration(labs);
    configurations.push(withoutEurope);
    const snap = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: withoutEurope }, azure.env);
    assert.equal(snap.result, 'Succeeded', snap.stdout);
    withEurope = galleryConfiguration([...defaultLabs(), { name: TARGETS.other.name, imagePaths: ['Win11'] }]);
    configurations.push(withEurope);
  });
  after(async () => {
    await azure?.stop();
    for (const location of configurations) removeConfiguration(location);
  });

  it('prints the plan and changes nothing in a dry run', async () => {
    const before = await azure.state();
    const run = await runTaskProcess('DistributeImages', { ...inputs(), dryRun: 'true' }, azure.env);
    const log = run.lines.join('\n');
    assert.match(log, /replicate 'Win11_Enterprise\/[\d.]+' to northeurope/);
    assert.match(log, /attach +gallery 'FactoryImages' to lab 'Team-Europe' \(northeurope\)/);
    assert.ok(run.issues.some((i) => i.code === 'IF7004'), run.stdout);
    assert.deepEqual(await azure.state().then((s) => [s.labs, s.galleries]), [before.labs, before.galleries]);
    assert.match(run.summary ?? '', /dry run/);
  });

  it('attaches the gallery, enables the selected images and adds only the new lab\'s region', async () => {
    await azure.resetMetrics();
    const run = await runTaskProcess('DistributeImages', inputs(), azure.env);
    assert.equal(run.result, 'Failed', 'the lab with another gallery is an error');
    const errors = run.issues.filter((i) => i.type === 'error');
    assert.deepEqual(errors.map((i) => i.code), ['IF7004'], run.stdout);
    assert.match(errors[0].message, /TeamImages/);

    const state = await azure.state();
    for (const target of [TARGETS.west, TARGETS.east, TARGETS.europe]) assert.equal(labOf(state, target.name).sharedGallery?.galleryId, GALLERY_ID, target.name);
    assert.deepEqual(enabled(labOf(state, TARGETS.west.name)), ['linux_ubuntu2204', 'win11_enterprise', 'windowsserver_2016-datacenter']);
    assert.deepEqual(enabled(labOf(state, TARGETS.east.name)), ['linux_ubuntu2204', 'win11_enterprise']);
    assert.deepEqual(enabled(labOf(state, TARGETS.europe.name)), ['linux_ubuntu2204', 'win11_enterprise']);
    const other = labOf(state, TARGETS.other.name);
    assert.deepEqual(other.sharedGallery, { name: 'TeamImages', galleryId: OTHER_GALLERY_ID, allowAllImages: 'Disabled', enableStates: {} }, 'untouched');

    const images = state.galleries.find((g) => g.name === GALLERY)!.images;
    const regions = (name: string) => images.find((i) => i.name === name)!.versions.map((v) => v.regions.map((r) => `${r.name}:${r.completed}`).sort());
    assert.deepEqual(regions('Win11_Enterprise'), [['eastus:true', 'northeurope:true', 'westus2:true']]);
    assert.deepEqual(regions('Linux_Ubuntu2204'), [['eastus:true', 'northeurope:true', 'westus2:true']]);
    assert.deepEqual(regions('WindowsServer_2016-Datacenter'), [['westus2:true']]);
    const metrics = await azure.metrics();
    assert.equal(metrics.byOperation.GalleryImageVersions_CreateOrUpdate ?? 0, 0, 'no new version: a region is the copy');
    assert.equal(metrics.byOperation.GalleryImageVersions_Update, 2);
    assert.equal(run.outputs.CreatedImageIds.split(',').length, 7);
  });

  it('changes nothing on a second run', async () => {
    const before = await azure.state();
    await azure.resetMetrics();
    const run = await runTaskProcess('DistributeImages', inputs(), azure.env);
    assert.deepEqual(run.issues.filter((i) => i.type === 'error').map((i) => i.code), ['IF7004']);
    const after = await azure.state();
    assert.deepEqual([after.labs, after.galleries], [before.labs, before.galleries]);
    const metrics = await azure.metrics();
    assert.equal(Object.keys(metrics.byOperation).filter((op) => /CreateOrUpdate|Update$/.test(op)).length, 0, JSON.stringify(metrics.byOperation));
    assert.equal(run.outputs.CreatedImageIds, '');
  });

  it('provisions a lab VM from each distributed image in each lab', async () => {
    const clients = sdkClients(azure, SUB);
    const shared = new LabSharedGalleries({ devTestLabs: () => clients.devTestLabs, pollIntervalMs: 20 }, azure.armUrl);
    const state = await azure.state();
    for (const target of [TARGETS.west, TARGETS.east, TARGETS.europe]) {
      const labState = labOf(state, target.name);
      const lab = { id: labState.id, subscriptionId: SUB, resourceGroup: labState.resourceGroup, name: labState.name, location: labState.location };
      for (const image of (await shared.listImages(lab, GALLERY)).filter((i) => i.enableState === 'Enabled')) {
        const name = `vm-${image.name.slice(0, 8).replace(/_/g, '-').toLowerCase()}`.replace(/-+$/, '');
        const vm = await shared.createVm(lab, name, { size: 'Standard_D2s_v3', sharedImageId: image.id });
        assert.equal(vm.properties?.provisioningState, 'Succeeded', `${image.name} in ${target.name}`);
      }
    }
    const made = labOf(await azure.state(), TARGETS.europe.name).vms.find((v) => v.name === 'vm-win11-en')!;
    assert.deepEqual([made.hyperVGeneration, made.securityType, made.dataDiskIds.length], ['V2', 'TrustedLaunch', 1]);
  });
});
