import * as assert from 'node:assert/strict';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { runTaskProcess, type TaskRun } from '../helpers/taskProcess';
import { FACTORY, GALLERY, galleryConfiguration, galleryFactory, VMS } from '../scenarios/gallery/factory';

/**
 * CleanUpFactory on the gallery route speaks of the gallery and its versions in every line it prints:
 * the plan, the IF5005 warning of a VM not published yet, the deletions, the summary, and the error
 * when the gallery cannot be read. Nothing it prints on this route names the factory store or a VHD.
 */
const VHD_ROUTE_WORDS = /factory store|image store|\bstore\b|VHD/i;

/** Every line a run printed, its issues and its summary. */
const everything = (run: TaskRun) => [...run.lines, ...run.issues.map((i) => i.message), run.summary ?? ''].join('\n');

describe('CleanUpFactory on the gallery route: what it says', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let configuration: string;
  const cleanUp = (inputs: Record<string, string> = {}) => runTaskProcess('CleanUpFactory', { DevTestLabName: FACTORY, galleryName: GALLERY, ...inputs }, azure.env);

  before(async () => {
    azure = await startLocalAzure({ scenario: galleryFactory() });
    configuration = galleryConfiguration();
  });
  after(async () => {
    await azure?.stop();
    if (configuration) removeConfiguration(configuration);
  });

  it('keeps a VM not yet published, saying the gallery holds no version made from it (IF5005)', async () => {
    const run = await cleanUp({ dryRun: 'true' });
    // The jumpbox, tagged neither ImagePath nor FactoryIgnore, is an error (IF5004) on either route.
    assert.deepEqual(run.issues.map((i) => i.code).sort(), ['IF5004', 'IF5005', 'IF5005', 'IF5005'], run.stdout);
    const log = run.lines.join('\n');
    assert.match(log, /^Clean-up plan for lab 'Factory' \(subscription [\da-f-]+\) \(gallery route, gallery 'FactoryImages'\): 0 VM\(s\) to delete, 4 to keep\.$/m);
    assert.match(log, /^ {2}keep {3}win11-ent: gallery 'FactoryImages' holds no finished version made from its disks$/m);
    const warning = run.issues.find((i) => i.code === 'IF5005' && i.message.includes(VMS.win11.name));
    assert.ok(warning, run.stdout);
    assert.match(warning.message, /has no finished image version made from its disks in gallery 'FactoryImages' yet, so it was not deleted\./);
    assert.match(run.stdout, /Run SnapImagesFromVMs with galleryName 'FactoryImages'/);
    assert.match(run.summary ?? '', /^### CleanUpFactory: lab 'Factory' \(subscription [\da-f-]+\) \(gallery route, gallery 'FactoryImages'\) \(dry run/m);
    assert.doesNotMatch(everything(run), VHD_ROUTE_WORDS);
  });

  it('says the gallery could not be read, and deletes nothing', async () => {
    await azure.setFaults([{ operation: 'Galleries_Get', kind: 'status', status: 403, code: 'AuthorizationFailed', probability: 1 }]);
    try {
      const run = await cleanUp();
      assert.equal(run.result, 'Failed', run.stdout);
      const error = run.issues.find((i) => i.code === 'IF5001');
      assert.ok(error, run.stdout);
      assert.match(error.message, /^\[IF5001\] Gallery 'FactoryImages' \(resource group 'factory-rg', subscription [\da-f-]+\) could not be read, so no VM tagged ImagePath in lab 'Factory' .* was deleted \(whether a version was made from it is unknown\)/);
      assert.match(run.lines.join('\n'), /keep {3}win11-ent: gallery 'FactoryImages' could not be read to check that a version was made from its disks/);
      assert.doesNotMatch(everything(run), VHD_ROUTE_WORDS);
      assert.equal(run.outputs.DeletedVmCount, '0');
    } finally {
      await azure.setFaults([]);
    }
  });

  it('deletes each published VM, naming its version and gallery', async () => {
    const snap = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: FACTORY, galleryName: GALLERY, ConfigurationLocation: configuration }, azure.env);
    assert.equal(snap.result, 'Succeeded', snap.stdout);
    const run = await cleanUp();
    assert.deepEqual(run.issues.map((i) => i.code), ['IF5004'], run.stdout);
    assert.equal(run.outputs.DeletedVmCount, '3');
    const log = run.lines.join('\n');
    assert.match(log, /^ {2}delete win11-ent: published as version Win11_Enterprise\/[\d.]+ of gallery 'FactoryImages'$/m);
    assert.match(log, /^Deleted VM 'win11-ent': published as version Win11_Enterprise\/[\d.]+ of gallery 'FactoryImages'\.$/m);
    assert.match(run.summary ?? '', /^\| win11-ent \| Win11\\Enterprise\.json \| delete \| published to the gallery \| deleted \|$/m);
    assert.doesNotMatch(everything(run), VHD_ROUTE_WORDS);
  });
});
