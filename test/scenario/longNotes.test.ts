import * as assert from 'node:assert/strict';
import { fromBlobMetadata, getTag, Tags } from '../../core/factoryImages';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';
import { FACTORY, FACTORY_ID, SUB_A, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * A factory VM whose notes are far longer than Azure's 8 KB of blob metadata: SnapImagesFromVMs must
 * still save it (Azure refuses the copy otherwise, and the local Azure does too), keeping everything the
 * later stages need, and DistributeImages and CleanUpFactory must work from what it kept.
 */
const METADATA_LIMIT = 8 * 1024;
// Non-ASCII characters grow threefold or more when percent-encoded: the budget must count encoded bytes.
const NOTES = `Golden Ubuntu image — build notes ✓ ünïcödé. ${'Installed packages: curl, git, jq, python3. '.repeat(460)}The end.`;
const TARGET = { subscriptionId: SUB_A, resourceGroup: 'dev-rg', name: 'Dev1', location: FACTORY.location };

describe('a factory VM with 20 KB of notes', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let configuration: string;

  before(async () => {
    assert.ok(NOTES.length > 20_000, `notes of ${NOTES.length} characters`);
    azure = await startLocalAzure({
      scenario: {
        labs: [
          { ...FACTORY, vms: [{ name: 'ubuntu-golden', osType: 'Linux', diskSizeGB: 1, notes: NOTES, tags: { ImagePath: 'Linux/Ubuntu.json' } }] },
          TARGET,
        ],
        settings: { lroDurationMs: 100, customImageDurationMs: 200, lroRetryAfterSeconds: 0 },
      },
    });
    configuration = writeDistributeConfiguration([
      { SubscriptionId: SUB_A, LabName: FACTORY.name, ImagePaths: ['Windows'] },
      { SubscriptionId: SUB_A, LabName: TARGET.name, ImagePaths: ['Linux'] },
    ]);
  });
  after(async () => {
    await azure?.stop();
    if (configuration) removeConfiguration(configuration);
  });

  it('is saved, distributed and cleaned up, with its notes cut to fit the metadata and marked so', async () => {
    const snap = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY.name }, azure.env);
    assert.equal(snap.result, 'Succeeded', describeRun(snap));
    const imageName = snap.outputs.SavedImageNames;
    assert.match(imageName ?? '', /^Linux_Ubuntu-\w{3}-\d{2}-\d{4}$/);

    let state = await azure.state();
    const factory = state.labs.find((l) => l.name === FACTORY.name)!;
    const blob = factory.blobs.find((b) => b.name === `${imageName}.vhd`);
    assert.ok(blob, 'the VHD is in the store');
    const bytes = Object.entries(blob.metadata).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value), 0);
    assert.ok(bytes <= METADATA_LIMIT, `metadata of ${bytes} bytes`);

    const image = fromBlobMetadata(blob.metadata);
    assert.ok(image, 'the metadata still describes a factory image');
    const vm = factory.vms.find((v) => v.name === 'ubuntu-golden')!;
    assert.equal(image.sourceDiskId, vm.diskId, 'the identity fields are whole');
    assert.match(image.sourceVmId, /\/virtualmachines\/ubuntu-golden$/i);
    assert.equal(image.imagePath, 'Linux/Ubuntu.json');
    assert.equal(image.imageName, imageName);
    assert.ok(image.description.length > 2000, `as much of the notes as fits: ${image.description.length} characters`);
    assert.match(image.description, /… \(notes cut from \d+ to \d+ characters\)$/);
    const kept = image.description.slice(0, image.description.lastIndexOf('…'));
    assert.ok(NOTES.startsWith(kept), 'the notes are cut, not changed');

    const distribute = await runTaskProcess('DistributeImages', { ConfigurationLocation: configuration, DevTestLabName: FACTORY.name }, azure.env);
    assert.equal(distribute.result, 'Succeeded', describeRun(distribute));
    state = await azure.state();
    const custom = state.labs.find((l) => l.name === TARGET.name)!.customImages.find((i) => i.name === imageName);
    assert.ok(custom, `the custom image is in ${TARGET.name}`);
    assert.equal(custom.description, image.description);
    assert.equal(getTag(custom.tags, Tags.ImagePath), 'Linux/Ubuntu.json');
    assert.equal(getTag(custom.tags, Tags.ImageFactory), FACTORY_ID);

    const cleanUp = await runTaskProcess('CleanUpFactory', { DevTestLabName: FACTORY.name }, azure.env);
    assert.equal(cleanUp.result, 'Succeeded', describeRun(cleanUp));
    assert.equal(cleanUp.outputs.DeletedVmCount, '1', 'the VM is known to be saved, by its disk');
  });
});
