import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, sdkClients, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, startTask } from '../helpers/taskProcess';
import { waitFor } from '../helpers/waitFor';
import { defaultLabs, FACTORY, FACTORY_RG, GALLERY, galleryConfiguration, galleryFactory, SUB, TARGETS, VMS } from '../scenarios/gallery/factory';

/**
 * DistributeImages and RetireImages on the gallery route killed (SIGKILL) at the worst moment, each the
 * bundled task as the agent runs it: the rerun converges, does nothing twice and leaves no half state;
 * and SnapImagesFromVMs deletes the second version of a disk a run killed while giving way left.
 */
type GalleryImageState = StateSnapshot['galleries'][number]['images'][number];
const imagesOf = (state: StateSnapshot): GalleryImageState[] => state.galleries.find((g) => g.name === GALLERY)?.images ?? [];
const versionsOf = (state: StateSnapshot, definition: string) => imagesOf(state).find((i) => i.name === definition)?.versions ?? [];

describe('DistributeImages on the gallery route, killed while a region replicates', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  const configurations: string[] = [];
  after(async () => {
    await azure?.stop();
    for (const location of configurations) removeConfiguration(location);
  });

  it('converges on a rerun after kill -9: each region added once, every selected image enabled', async () => {
    // 256 MB/s: adding northeurope to the 3 GiB Windows 11 version takes about 12 s.
    azure = await startLocalAzure({ scenario: galleryFactory({ rateMBps: 256 }) });
    const withoutEurope = galleryConfiguration(defaultLabs().filter((l) => l.name !== TARGETS.europe.name));
    const withEurope = galleryConfiguration();
    configurations.push(withoutEurope, withEurope);
    const snap = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: withoutEurope, maxConcurrentJobs: '4' }, azure.env);
    assert.equal(snap.result, 'Succeeded', describeRun(snap));
    await azure.resetMetrics();

    // One job at a time: killed while the first version's new region replicates, before the second is added.
    const inputs = { ConfigurationLocation: withEurope, DevTestLabName: FACTORY, galleryName: GALLERY, maxConcurrentJobs: '1' };
    const task = startTask('DistributeImages', inputs, azure.env);
    const replicating = await waitFor(async () => {
      const state = await azure.state();
      return imagesOf(state).some((i) => i.versions.some((v) => v.regions.some((r) => r.name === 'northeurope' && !r.completed))) ? state : undefined;
    }, 30_000);
    task.child.kill('SIGKILL');
    const killed = await task.done;
    assert.equal(killed.killedBy, 'SIGKILL');
    assert.ok(replicating, 'a region was being added when the run was killed');

    const rerun = await runTaskProcess('DistributeImages', inputs, azure.env);
    assert.equal(rerun.result, 'Succeeded', describeRun(rerun));
    assert.deepEqual(rerun.issues.filter((i) => i.type === 'error'), [], describeRun(rerun));
    const state = await azure.state();
    for (const definition of ['Win11_Enterprise', 'Linux_Ubuntu2204']) {
      const versions = versionsOf(state, definition);
      assert.equal(versions.length, 1, definition);
      assert.equal(versions[0].provisioningState, 'Succeeded', definition);
      assert.deepEqual(versions[0].regions.map((r) => `${r.name}:${r.completed}`).sort(), ['eastus:true', 'northeurope:true', 'westus2:true'], definition);
    }
    const metrics = await azure.metrics();
    assert.equal(metrics.byOperation.GalleryImageVersions_Update, 2, `each version's region added once over both runs: ${JSON.stringify(metrics.byOperation)}`);
    const europe = state.labs.find((l) => l.name === TARGETS.europe.name)!;
    assert.deepEqual(europe.sharedGallery?.enableStates, { linux_ubuntu2204: 'Enabled', win11_enterprise: 'Enabled' });
    const again = await runTaskProcess('DistributeImages', inputs, azure.env);
    assert.equal(again.outputs.CreatedImageIds, '', 'a third run has nothing to do');
  });
});

describe('RetireImages on the gallery route, killed mid-deletions', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  let configuration: string;
  after(async () => {
    await azure?.stop();
    removeConfiguration(configuration);
  });

  it('converges on a rerun after kill -9: the planned versions go once, the newest stays', async () => {
    azure = await startLocalAzure({ scenario: galleryFactory() });
    configuration = galleryConfiguration();
    const snap = async () => {
      const run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration }, azure.env);
      assert.equal(run.result, 'Succeeded', describeRun(run));
    };
    await snap();
    for (const n of [2, 3]) {
      await new Promise((resolve) => setTimeout(resolve, 1100)); // a new second: a new version name
      await azure.addVm(FACTORY, { ...VMS.win11, name: `win11-ent-${n}`, tags: { ...VMS.win11.tags }, dataDisks: [...VMS.win11.dataDisks] });
      await snap();
    }
    const names = versionsOf(await azure.state(), 'Win11_Enterprise').map((v) => v.name);
    assert.equal(names.length, 3);
    const newest = [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))[2];
    await azure.resetMetrics();
    // Each deletion takes 4 s: the run is killed while the first one runs.
    await azure.setFaults([{ operation: 'GalleryImageVersions_Delete', kind: 'slowLro', delayMs: 4000, count: 10 }]);
    const inputs = { ConfigurationLocation: configuration, DevTestLabName: FACTORY, galleryName: GALLERY, ImagesToSave: '1', maxConcurrentJobs: '1' };
    const task = startTask('RetireImages', inputs, azure.env);
    const deleting = await waitFor(async () => (versionsOf(await azure.state(), 'Win11_Enterprise').some((v) => v.provisioningState === 'Deleting') ? true : undefined), 30_000);
    task.child.kill('SIGKILL');
    assert.equal((await task.done).killedBy, 'SIGKILL');
    assert.ok(deleting, 'a version was being deleted when the run was killed');

    const rerun = await runTaskProcess('RetireImages', inputs, azure.env);
    assert.equal(rerun.result, 'Succeeded', describeRun(rerun));
    assert.equal(rerun.outputs.DeletedImageCount, '1', 'the rerun deletes the one version the killed run had not started on');
    const gone = await waitFor(async () => {
      const versions = versionsOf(await azure.state(), 'Win11_Enterprise');
      return versions.length === 1 ? versions : undefined;
    }, 15_000);
    assert.deepEqual(gone?.map((v) => [v.name, v.provisioningState]), [[newest, 'Succeeded']], 'only the newest stays, whole');
    const metrics = await azure.metrics();
    assert.equal(metrics.byOperation.GalleryImageVersions_Delete, 2, `each old version deleted once: ${JSON.stringify(metrics.byOperation)}`);
    const again = await runTaskProcess('RetireImages', inputs, azure.env);
    assert.equal(again.outputs.DeletedImageCount, '0');
  });
});

describe('SnapImagesFromVMs on the gallery route after a run killed while giving way to another', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let configuration: string;
  after(async () => {
    await azure?.stop();
    removeConfiguration(configuration);
  });

  it('deletes the second version of a disk that run left, and keeps the first', async () => {
    azure = await startLocalAzure({ scenario: galleryFactory() });
    configuration = galleryConfiguration();
    const inputs = { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration };
    const first = await runTaskProcess('SnapImagesFromVMs', inputs, azure.env);
    assert.equal(first.result, 'Succeeded', describeRun(first));
    // What a run killed between making its version and deleting it (it had found an earlier one) leaves: a
    // later version of the same disk with the factory's tags.
    const [version] = versionsOf(await azure.state(), 'Linux_Ubuntu2204');
    const vm = (await azure.state()).labs.find((l) => l.name === FACTORY)!.vms.find((v) => v.name === VMS.ubuntu.name)!;
    const later = version.name.replace(/\d+$/, (patch) => String(Number(patch) + 7));
    const clients = sdkClients(azure, SUB);
    await clients.compute.galleryImageVersions.createOrUpdate(FACTORY_RG, GALLERY, 'Linux_Ubuntu2204', later, { location: 'westus2', tags: { ...version.tags, ImageFactoryCreated: new Date().toISOString() }, storageProfile: { source: { virtualMachineId: vm.computeId } } }, { updateIntervalInMs: 20 });
    assert.equal(versionsOf(await azure.state(), 'Linux_Ubuntu2204').length, 2);

    const rerun = await runTaskProcess('SnapImagesFromVMs', inputs, azure.env);
    assert.equal(rerun.result, 'Succeeded', describeRun(rerun));
    assert.match(rerun.lines.join('\n'), new RegExp(`delete +version 'Linux_Ubuntu2204/${later.replace(/\./g, '\\.')}': a second version of the same disk`));
    assert.equal(rerun.outputs.SavedImageNames, '', 'nothing published again');
    const left = await waitFor(async () => {
      const versions = versionsOf(await azure.state(), 'Linux_Ubuntu2204');
      return versions.length === 1 ? versions : undefined;
    }, 10_000);
    assert.deepEqual(left?.map((v) => v.name), [version.name], 'the first version stays');
  });
});
