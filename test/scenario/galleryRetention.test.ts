import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import { labVmTemplate, removeConfiguration, writeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { runTaskProcess } from '../helpers/taskProcess';
import { FACTORY, GALLERY, galleryConfiguration, galleryFactory, OTHER_GALLERY_ID, SUB, TARGETS } from '../scenarios/gallery/factory';

/**
 * DistributeImages and RetireImages on the gallery route apply one retention rule, through the bundled
 * tasks: once a template leaves GoldenImages while a folder entry of labs.json still covers its path,
 * DistributeImages neither enables its version in a lab nor replicates it to a new lab's region (the plan
 * and the summary say it is left out and why), and RetireImages deletes that version and nothing else.
 * A lab that selects none of the gallery's images gets no gallery attached, even when it has its own.
 */
const UBUNTU = 'Linux_Ubuntu2204';

function versionsOf(state: StateSnapshot, definition: string) {
  return state.galleries.find((g) => g.name === GALLERY)!.images.find((i) => i.name === definition)?.versions ?? [];
}

describe('the retention rule on the gallery route (DistributeImages and RetireImages)', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  let published: string;
  let templateRemoved: string;
  const run = (task: string, configuration: string, inputs: Record<string, string> = {}) =>
    runTaskProcess(task, { ConfigurationLocation: configuration, DevTestLabName: FACTORY, galleryName: GALLERY, ImagesToSave: '2', ...inputs }, azure.env);

  before(async () => {
    azure = await startLocalAzure({ scenario: galleryFactory({ withOtherGalleryLab: true }) });
    // Published while only Team-West selected Linux: the Ubuntu version is in westus2 alone.
    published = galleryConfiguration([
      { name: TARGETS.west.name, imagePaths: ['Win11', 'Linux', 'WindowsServer'] },
      { name: TARGETS.east.name, imagePaths: ['Win11'] },
    ]);
    const snap = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: published }, azure.env);
    assert.equal(snap.result, 'Succeeded', snap.stdout);
    // Then Ubuntu2204.json leaves GoldenImages; the Linux folder keeps another template, and Team-East now lists it.
    templateRemoved = writeConfiguration({
      'labs.json': {
        Labs: [
          { SubscriptionId: SUB, LabName: TARGETS.west.name, ImagePaths: ['Win11', 'Linux', 'WindowsServer'] },
          { SubscriptionId: SUB, LabName: TARGETS.east.name, ImagePaths: ['Win11', 'Linux'] },
          // Labs that want only a template with no version in the gallery yet.
          { SubscriptionId: SUB, LabName: TARGETS.europe.name, ImagePaths: ['Linux/Debian12.json'] },
          { SubscriptionId: SUB, LabName: TARGETS.other.name, ImagePaths: ['Linux/Debian12.json'] },
        ],
      },
      'GoldenImages/Win11/Enterprise.json': labVmTemplate('Windows'),
      'GoldenImages/Linux/Debian12.json': labVmTemplate('Linux'),
      'GoldenImages/WindowsServer/2016-Datacenter.json': labVmTemplate('Windows'),
    });
  });
  after(async () => {
    await azure?.stop();
    for (const location of [published, templateRemoved]) if (location) removeConfiguration(location);
  });

  it('leaves out of DistributeImages what RetireImages would remove right after, and says so', async () => {
    const distribute = await run('DistributeImages', templateRemoved);
    assert.equal(distribute.result, 'Succeeded', distribute.stdout);
    const log = distribute.lines.join('\n');
    assert.match(log, /^Plan \(gallery route, gallery 'FactoryImages'\): 2 image\(s\), 4 lab\(s\): 2 gallery attachment\(s\), .*, 1 left out because RetireImages \(ImagesToSave 2\) would undo them\.$/m);
    assert.match(
      log,
      /^ {2}leave out 'Linux_Ubuntu2204\/[\d.]+' everywhere: RetireImages would remove it right after \(its template Linux\/Ubuntu2204\.json is no longer in GoldenImages; retired though 2 labs \(Team-West, Team-East\) still list\(s\) a folder that held it\)$/m,
    );
    assert.match(distribute.summary ?? '', /\*\*Left out\*\* \(RetireImages, ImagesToSave 2, would remove them right after\)/);
    assert.match(distribute.summary ?? '', /- Linux_Ubuntu2204\/[\d.]+: its template Linux\/Ubuntu2204\.json is no longer in GoldenImages/);
    assert.match(distribute.resultMessage ?? '', /1 left out \(RetireImages would remove them\)/);

    const state = await azure.state();
    const enabled = (name: string) => Object.entries(state.labs.find((l) => l.name === name)!.sharedGallery?.enableStates ?? {}).filter(([, s]) => s === 'Enabled').map(([n]) => n).sort();
    assert.deepEqual(enabled(TARGETS.west.name), ['win11_enterprise', 'windowsserver_2016-datacenter']);
    assert.deepEqual(enabled(TARGETS.east.name), ['win11_enterprise']);
    assert.equal(state.labs.find((l) => l.name === TARGETS.europe.name)!.sharedGallery, undefined, 'nothing to enable: not attached');
    assert.equal(state.labs.find((l) => l.name === TARGETS.other.name)!.sharedGallery?.galleryId, OTHER_GALLERY_ID, 'its own gallery, untouched');
    assert.deepEqual(distribute.issues, [], 'no IF7004 for a lab that wants nothing of this gallery');
    const ubuntu = versionsOf(state, UBUNTU);
    assert.equal(ubuntu.length, 1);
    assert.deepEqual(ubuntu[0].regions.map((r) => r.name), ['westus2'], 'not replicated to Team-East\'s region');
    // The images retention keeps did travel: Windows 11 is in Team-East's region.
    assert.deepEqual(versionsOf(state, 'Win11_Enterprise')[0].regions.map((r) => r.name).sort(), ['eastus', 'westus2']);
  });

  it('RetireImages deletes by the same rule what DistributeImages left out, and then nothing is left out', async () => {
    const retire = await run('RetireImages', templateRemoved);
    assert.equal(retire.result, 'Succeeded', retire.stdout);
    assert.match(retire.lines.join('\n'), /^ {2}delete {2}version 'Linux_Ubuntu2204\/[\d.]+': its template Linux\/Ubuntu2204\.json is no longer in GoldenImages/m);
    assert.equal(retire.outputs.DeletedImageCount, '1');
    const state = await azure.state();
    assert.deepEqual(versionsOf(state, UBUNTU), []);
    assert.equal(versionsOf(state, 'Win11_Enterprise').length, 1, 'the images whose templates are there stay');

    const again = await run('DistributeImages', templateRemoved);
    assert.equal(again.result, 'Succeeded', again.stdout);
    assert.doesNotMatch(again.lines.join('\n'), /left out|leave out/);
  });
});
