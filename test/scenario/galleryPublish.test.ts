import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { runTaskProcess, startTask } from '../helpers/taskProcess';
import { FACTORY, GALLERY, galleryConfiguration, galleryFactory, VMS } from '../scenarios/gallery/factory';

/**
 * SnapImagesFromVMs on the gallery route, as the agent runs the bundled task: image definitions per
 * ImagePath with the VM's generation and security type, one version per VM made from its OS and data
 * disks and replicated to the regions of the labs that select it; dry run, rerun and the unset route.
 */
type GallerySnapshot = StateSnapshot['galleries'][number];

function gallery(state: StateSnapshot): GallerySnapshot {
  const found = state.galleries.find((g) => g.name === GALLERY);
  assert.ok(found, `gallery ${GALLERY} in state: ${state.galleries.map((g) => g.name).join(', ')}`);
  return found;
}

describe('SnapImagesFromVMs on the gallery route', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let configuration: string;
  const inputs = () => ({ DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration, maxConcurrentJobs: '4' });

  before(async () => {
    azure = await startLocalAzure({ scenario: galleryFactory() });
    configuration = galleryConfiguration();
  });
  after(async () => {
    await azure?.stop();
    removeConfiguration(configuration);
  });

  it('prints the plan and changes nothing in a dry run', async () => {
    const run = await runTaskProcess('SnapImagesFromVMs', { ...inputs(), dryRun: 'true' }, azure.env);
    assert.equal(run.result, 'Succeeded', run.stdout);
    const log = run.lines.join('\n');
    assert.match(log, /create +gallery 'FactoryImages'/);
    assert.match(log, /create +image definition 'Win11_Enterprise' \(Windows, Hyper-V V2, security TrustedLaunch, ImageFactory\/Win11\/Win11_Enterprise\)/);
    assert.match(log, /publish VM 'win11-ent' .* to westus2, eastus, northeurope/);
    assert.match(log, /publish VM 'ws2016' .* to westus2$/m);
    assert.match(log, /Dry run: nothing was changed/);
    assert.equal(run.outputs.SavedImageNames, undefined);
    assert.deepEqual((await azure.state()).galleries.filter((g) => g.name === GALLERY), []);
  });

  it('publishes Gen2, Trusted Launch and data-disk images as versions replicated to the labs\' regions', async () => {
    const run = await runTaskProcess('SnapImagesFromVMs', inputs(), azure.env);
    assert.equal(run.result, 'Succeeded', run.stdout);
    const state = await azure.state();
    const g = gallery(state);
    const byName = Object.fromEntries(g.images.map((image) => [image.name, image]));
    assert.deepEqual(Object.keys(byName).sort(), ['Linux_Ubuntu2204', 'Win11_Enterprise', 'WindowsServer_2016-Datacenter']);
    const win11 = byName.Win11_Enterprise;
    assert.equal(win11.hyperVGeneration, 'V2');
    assert.deepEqual(win11.features, [{ name: 'SecurityType', value: 'TrustedLaunch' }]);
    assert.equal(byName.Linux_Ubuntu2204.hyperVGeneration, 'V2');
    assert.equal(byName['WindowsServer_2016-Datacenter'].hyperVGeneration, 'V1');
    const version = win11.versions[0];
    assert.equal(win11.versions.length, 1);
    assert.match(version.name, /^\d{4}\.\d{3,4}\.\d{1,6}$/);
    assert.equal(version.provisioningState, 'Succeeded');
    assert.deepEqual([version.securityType, version.dataDiskLuns], ['TrustedLaunch', [0]]);
    assert.deepEqual(version.regions.map((r) => [r.name, r.completed]).sort(), [['eastus', true], ['northeurope', true], ['westus2', true]]);
    const factoryVm = state.labs.find((l) => l.name === FACTORY)!.vms.find((v) => v.name === VMS.win11.name)!;
    assert.equal(version.tags.ImageFactorySourceDisk, factoryVm.diskId);
    assert.equal(version.tags.ImagePath, 'Win11/Enterprise.json');
    assert.deepEqual(byName['WindowsServer_2016-Datacenter'].versions[0].regions.map((r) => r.name), ['westus2']);
    assert.deepEqual(run.outputs.SavedImageNames.split(',').sort(), g.images.map((i) => `${i.name}/${i.versions[0].name}`).sort());
    assert.match(run.summary ?? '', /Win11_Enterprise\//);
    assert.ok(run.progress.length > 0, 'progress is reported');
  });

  it('publishes nothing again on a second run', async () => {
    const before = gallery(await azure.state());
    const run = await runTaskProcess('SnapImagesFromVMs', inputs(), azure.env);
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.match(run.lines.join('\n'), /done +VM 'win11-ent': its disk is already version 'Win11_Enterprise\//);
    assert.deepEqual(gallery(await azure.state()), before);
    assert.equal(run.outputs.SavedImageNames, '');
  });

  it('needs the configuration folder on the gallery route and refuses a bad gallery name', async () => {
    let run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY }, azure.env);
    assert.equal(run.result, 'Failed');
    assert.ok(run.issues.some((i) => i.code === 'IF7001' && /ConfigurationLocation/.test(i.message)), run.stdout);
    run = await runTaskProcess('SnapImagesFromVMs', { ...inputs(), galleryName: 'bad gallery!' }, azure.env);
    assert.equal(run.result, 'Failed');
    assert.ok(run.issues.some((i) => i.code === 'IF7001'), run.stdout);
    assert.doesNotMatch(run.stdout, /at .*\.js:\d+/, 'no stack trace');
  });

  it('deletes the factory VMs once their versions exist (CleanUpFactory on the gallery route), and not on the VHD route', async () => {
    const vhdRoute = await runTaskProcess('CleanUpFactory', { DevTestLabName: FACTORY, dryRun: 'true' }, azure.env);
    assert.match(vhdRoute.lines.join('\n'), /win11-ent.*not in the factory store|win11-ent[^\n]*kept/i, vhdRoute.stdout);
    const run = await runTaskProcess('CleanUpFactory', { DevTestLabName: FACTORY, galleryName: GALLERY }, azure.env);
    assert.equal(run.outputs.DeletedVmCount, '3', run.stdout);
    const names = (await azure.state()).labs.find((l) => l.name === FACTORY)!.vms.map((v) => v.name);
    assert.deepEqual(names, [VMS.jumpbox.name]);
    const versions = gallery(await azure.state()).images.flatMap((i) => i.versions.map((v) => v.provisioningState));
    assert.deepEqual(versions, ['Succeeded', 'Succeeded', 'Succeeded'], 'the versions outlive their source VMs');
  });
});

describe('SnapImagesFromVMs on the gallery route, killed while versions replicate', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let configuration: string;

  before(async () => {
    // At 256 MB/s a 1 GiB version takes 4 s to replicate, the 3 GiB one 12 s: still being made when the rerun starts.
    azure = await startLocalAzure({ scenario: galleryFactory({ rateMBps: 256 }) });
    configuration = galleryConfiguration();
  });
  after(async () => {
    await azure?.stop();
    removeConfiguration(configuration);
  });

  it('converges on a rerun after kill -9: the started versions are followed, none made twice', async () => {
    const inputs = { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration };
    const task = startTask('SnapImagesFromVMs', inputs, azure.env);
    const creating = (state: StateSnapshot) => state.galleries.some((g) => g.images.some((i) => i.versions.some((v) => v.provisioningState === 'Creating')));
    for (const deadline = Date.now() + 20_000; !creating(await azure.state()); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) {
        task.child.kill('SIGKILL');
        assert.fail('no version was being made');
      }
    }
    task.child.kill('SIGKILL');
    const killed = await task.done;
    assert.equal(killed.killedBy, 'SIGKILL');

    const rerun = await runTaskProcess('SnapImagesFromVMs', inputs, azure.env);
    assert.equal(rerun.result, 'Succeeded', rerun.stdout);
    assert.match(rerun.lines.join('\n'), /resume +VM '/);
    const images = gallery(await azure.state()).images;
    assert.deepEqual(images.map((i) => i.versions.length), [1, 1, 1], 'one version per VM');
    assert.ok(images.every((i) => i.versions[0].provisioningState === 'Succeeded'));
  });
});
