import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, sdkClients, startLocalAzure } from '../helpers/localAzure';
import { runTaskProcess } from '../helpers/taskProcess';
import { defaultLabs, FACTORY, FACTORY_RG, GALLERY, galleryConfiguration, galleryFactory, SUB, TARGETS, VMS } from '../scenarios/gallery/factory';

/**
 * RetireImages on the gallery route over several runs, through the bundled tasks: the ImagesToSave
 * newest factory versions per definition stay, older ones go, a version the factory did not make stays;
 * when a lab stops selecting an image its region is dropped and the image disabled in it.
 */
const versionsOf = (state: StateSnapshot, definition: string) =>
  state.galleries.find((g) => g.name === GALLERY)!.images.find((i) => i.name === definition)!.versions;

describe('RetireImages on the gallery route', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  const configurations: string[] = [];
  let configuration: string;
  const snap = async () => {
    const run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration }, azure.env);
    assert.equal(run.result, 'Succeeded', run.stdout);
  };
  const retire = (inputs: Record<string, string> = {}) =>
    runTaskProcess('RetireImages', { ConfigurationLocation: configuration, DevTestLabName: FACTORY, galleryName: GALLERY, ImagesToSave: '2', ...inputs }, azure.env);

  before(async () => {
    azure = await startLocalAzure({ scenario: galleryFactory() });
    configuration = galleryConfiguration();
    configurations.push(configuration);
    // Three runs, each with a new Windows 11 VM: three versions of the definition.
    await snap();
    for (const n of [2, 3]) {
      await azure.addVm(FACTORY, { ...VMS.win11, name: `win11-ent-${n}`, tags: { ...VMS.win11.tags }, dataDisks: [...VMS.win11.dataDisks] });
      await snap();
    }
    const distribute = await runTaskProcess('DistributeImages', { ConfigurationLocation: configuration, DevTestLabName: FACTORY, galleryName: GALLERY }, azure.env);
    assert.equal(distribute.result, 'Succeeded', distribute.stdout);
    // A version someone made by hand, without the factory's tags: never retired.
    const clients = sdkClients(azure, SUB);
    const disk = (await azure.state()).labs.find((l) => l.name === FACTORY)!.vms.find((v) => v.name === VMS.win11.name)!;
    await clients.compute.galleryImageVersions.createOrUpdate(FACTORY_RG, GALLERY, 'Win11_Enterprise', '1.0.0', { location: 'westus2', storageProfile: { source: { virtualMachineId: disk.computeId } } }, { updateIntervalInMs: 20 });
  });
  after(async () => {
    await azure?.stop();
    for (const location of configurations) removeConfiguration(location);
  });

  it('plans in a dry run and changes nothing', async () => {
    const before = await azure.state();
    const run = await retire({ dryRun: 'true' });
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.match(run.lines.join('\n'), /delete +version 'Win11_Enterprise\//);
    const after = await azure.state();
    assert.deepEqual([after.galleries, after.labs], [before.galleries, before.labs]);
  });

  it('keeps the ImagesToSave newest factory versions and the one the factory did not make', async () => {
    const before = versionsOf(await azure.state(), 'Win11_Enterprise').map((v) => v.name);
    assert.equal(before.length, 4);
    const run = await retire();
    assert.equal(run.result, 'Succeeded', run.stdout);
    assert.equal(run.outputs.DeletedImageCount, '1');
    const factoryVersions = before.filter((n) => n !== '1.0.0').sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    assert.deepEqual(versionsOf(await azure.state(), 'Win11_Enterprise').map((v) => v.name).sort(), ['1.0.0', ...factoryVersions.slice(1)].sort());
    const again = await retire();
    assert.equal(again.outputs.DeletedImageCount, '0', 'a second run deletes nothing more');
  });

  it('drops the region of a lab that no longer selects an image and disables it there', async () => {
    configuration = galleryConfiguration(defaultLabs().map((lab) => (lab.name === TARGETS.europe.name ? { ...lab, imagePaths: ['Linux'] } : lab)));
    configurations.push(configuration);
    const run = await retire();
    assert.equal(run.result, 'Succeeded', run.stdout);
    const state = await azure.state();
    for (const version of versionsOf(state, 'Win11_Enterprise').filter((v) => v.tags.ImageFactory)) {
      assert.deepEqual(version.regions.map((r) => r.name).sort(), ['eastus', 'westus2'], version.name);
    }
    assert.deepEqual(versionsOf(state, 'Linux_Ubuntu2204')[0].regions.map((r) => r.name).sort(), ['eastus', 'northeurope', 'westus2']);
    const europe = state.labs.find((l) => l.name === TARGETS.europe.name)!;
    assert.equal(europe.sharedGallery?.enableStates.win11_enterprise, 'Disabled');
    assert.equal(europe.sharedGallery?.enableStates.linux_ubuntu2204, 'Enabled');
  });
});
