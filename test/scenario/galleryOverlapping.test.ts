import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, startTask, type TaskRun } from '../helpers/taskProcess';
import { defaultLabs, FACTORY, GALLERY, galleryConfiguration, galleryFactory, TARGETS } from '../scenarios/gallery/factory';

/**
 * Two runs at once on the gallery route, each the bundled task as the agent runs it: SnapImagesFromVMs
 * twice makes one version per disk and both succeed; DistributeImages twice (two labs.json over one
 * gallery) adds each region once and neither drops the other's; and
 * RetireImages during DistributeImages takes away only the region it planned to, never the one the
 * other run just added for a lab that selects the image.
 */
type GalleryImageState = StateSnapshot['galleries'][number]['images'][number];

const imagesOf = (state: StateSnapshot): GalleryImageState[] => state.galleries.find((g) => g.name === GALLERY)?.images ?? [];
const regionsOf = (state: StateSnapshot, definition: string) =>
  imagesOf(state)
    .find((i) => i.name === definition)!
    .versions.map((v) => v.regions.map((r) => `${r.name}:${r.completed}`).sort());
const enableStates = (state: StateSnapshot, lab: string) => state.labs.find((l) => l.name === lab)?.sharedGallery?.enableStates ?? {};
const savedNames = (run: TaskRun) => (run.outputs.SavedImageNames ? run.outputs.SavedImageNames.split(',') : []);

function assertGreen(runs: TaskRun[]): void {
  for (const run of runs) {
    assert.equal(run.result, 'Succeeded', describeRun(run));
    assert.deepEqual(run.issues.filter((i) => i.type === 'error'), [], describeRun(run));
  }
}

describe('SnapImagesFromVMs on the gallery route overlapping another run', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  let configuration: string;
  afterEach(async () => {
    await azure?.stop();
    removeConfiguration(configuration);
  });

  for (const [title, delayMs] of [
    ['started together', 0],
    ['the second starting while the first replicates', 2500],
  ] as const) {
    it(`two runs ${title} make one version per disk and both succeed`, async () => {
      // At 256 MB/s the versions replicate for 4 to 12 s: the runs overlap.
      azure = await startLocalAzure({ scenario: galleryFactory({ rateMBps: 256 }) });
      configuration = galleryConfiguration();
      const inputs = { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration, maxConcurrentJobs: '4' };
      const first = startTask('SnapImagesFromVMs', inputs, azure.env);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const second = startTask('SnapImagesFromVMs', inputs, azure.env);
      const runs = await Promise.all([first.done, second.done]);
      assertGreen(runs);
      const images = imagesOf(await azure.state());
      assert.deepEqual(images.map((i) => i.name).sort(), ['Linux_Ubuntu2204', 'Win11_Enterprise', 'WindowsServer_2016-Datacenter']);
      assert.deepEqual(images.map((i) => i.versions.length), [1, 1, 1], 'one version per disk');
      assert.ok(images.every((i) => i.versions[0].provisioningState === 'Succeeded'));
      const versions = images.map((i) => `${i.name}/${i.versions[0].name}`).sort();
      assert.deepEqual(runs.flatMap(savedNames).sort(), versions, 'each version reported saved by exactly one run');
    });
  }
});

describe('DistributeImages on the gallery route overlapping another run', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  const configurations: string[] = [];
  afterEach(async () => {
    await azure?.stop();
    for (const location of configurations.splice(0)) removeConfiguration(location);
  });

  /** Published for labs.json `labs`; the factory VMs' versions are then in those labs' regions only. */
  async function published(labs: { name: string; imagePaths: string[] }[]): Promise<void> {
    // 256 MB/s: adding a region takes 4 to 12 s, so the second run meets the first one's update.
    azure = await startLocalAzure({ scenario: galleryFactory({ rateMBps: 256, withAsiaLab: true }) });
    const configuration = galleryConfiguration(labs);
    configurations.push(configuration);
    const snap = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration, maxConcurrentJobs: '4' }, azure.env);
    assert.equal(snap.result, 'Succeeded', describeRun(snap));
    await azure.resetMetrics();
  }

  it('two runs with different labs.json each add their region once, and neither drops the other\'s', async () => {
    await published(defaultLabs().filter((l) => l.name !== TARGETS.europe.name));
    // One pipeline adds the Europe lab, another (a second labs.json) the Asia lab, over the same gallery.
    const withEurope = galleryConfiguration();
    const withAsia = galleryConfiguration([...defaultLabs().filter((l) => l.name !== TARGETS.europe.name), { name: TARGETS.asia.name, imagePaths: ['Win11', 'Linux'] }]);
    configurations.push(withEurope, withAsia);
    // One version at a time: the second run meets the first one's update of Windows 11 and plans Linux
    // while the first still waits, so each run's list of regions is stale by the time it writes it.
    const inputs = (configuration: string) => ({ ConfigurationLocation: configuration, DevTestLabName: FACTORY, galleryName: GALLERY, maxConcurrentJobs: '1' });
    const first = startTask('DistributeImages', inputs(withEurope), azure.env);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const second = startTask('DistributeImages', inputs(withAsia), azure.env);
    const runs = await Promise.all([first.done, second.done]);
    assertGreen(runs);
    const state = await azure.state();
    const everywhere = [['eastus:true', 'japaneast:true', 'northeurope:true', 'westus2:true']];
    assert.deepEqual(regionsOf(state, 'Win11_Enterprise'), everywhere);
    assert.deepEqual(regionsOf(state, 'Linux_Ubuntu2204'), everywhere);
    assert.deepEqual(regionsOf(state, 'WindowsServer_2016-Datacenter'), [['westus2:true']]);
    // Each run added its own region to each version, once (an update refused while the other ran is sent again, re-read).
    const replicated = (run: TaskRun) => run.lines.filter((l) => /^'[^']+' is replicated to /.test(l)).map((l) => l.replace(/\/[\d.]+'/, "'")).sort();
    assert.deepEqual(replicated(runs[0]), ["'Linux_Ubuntu2204' is replicated to northeurope.", "'Win11_Enterprise' is replicated to northeurope."], runs[0].lines.join('\n'));
    assert.deepEqual(replicated(runs[1]), ["'Linux_Ubuntu2204' is replicated to japaneast.", "'Win11_Enterprise' is replicated to japaneast."], runs[1].lines.join('\n'));
    assert.equal((await azure.metrics()).byOperation.GalleryImageVersions_CreateOrUpdate ?? 0, 0, 'a region is the copy: no new version');
    assert.deepEqual(enableStates(state, TARGETS.europe.name), { linux_ubuntu2204: 'Enabled', win11_enterprise: 'Enabled' });
    assert.deepEqual(enableStates(state, TARGETS.asia.name), { linux_ubuntu2204: 'Enabled', win11_enterprise: 'Enabled' });
  });

  it('with RetireImages at once: Retire drops only the region no selecting lab is in, never the one just added', async () => {
    // Published while Team-East selected Windows Server: its version is in westus2 and eastus.
    const before = defaultLabs()
      .filter((l) => l.name !== TARGETS.europe.name)
      .map((l) => (l.name === TARGETS.east.name ? { ...l, imagePaths: [...l.imagePaths, 'WindowsServer'] } : l));
    await published(before);
    const distributed = await runTaskProcess('DistributeImages', { ConfigurationLocation: configurations[0], DevTestLabName: FACTORY, galleryName: GALLERY }, azure.env);
    assert.equal(distributed.result, 'Succeeded', describeRun(distributed));
    // Now Team-East no longer selects Windows Server and Team-Europe, new, does.
    const after = defaultLabs().map((l) => (l.name === TARGETS.europe.name ? { ...l, imagePaths: [...l.imagePaths, 'WindowsServer'] } : l));
    const configuration = galleryConfiguration(after);
    configurations.push(configuration);
    const common = { ConfigurationLocation: configuration, DevTestLabName: FACTORY, galleryName: GALLERY };
    const runs = await Promise.all([startTask('DistributeImages', common, azure.env).done, startTask('RetireImages', { ...common, ImagesToSave: '2' }, azure.env).done]);
    assertGreen(runs);
    const state = await azure.state();
    assert.deepEqual(regionsOf(state, 'WindowsServer_2016-Datacenter'), [['northeurope:true', 'westus2:true']], 'eastus dropped, northeurope kept');
    assert.deepEqual(regionsOf(state, 'Win11_Enterprise'), [['eastus:true', 'northeurope:true', 'westus2:true']]);
    assert.equal(enableStates(state, TARGETS.europe.name)['windowsserver_2016-datacenter'], 'Enabled');
    assert.equal(enableStates(state, TARGETS.east.name)['windowsserver_2016-datacenter'], 'Disabled');
  });
});
