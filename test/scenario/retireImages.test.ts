import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { CONFIGURATION, EXPECTED_DELETIONS, expectedSurvivors, FACTORY, IMAGES_TO_SAVE, SCENARIO_FILE } from '../scenarios/retire/expected';
import { describeRun, runTaskProcess, startTask, type TaskRun } from '../scenarios/retire/taskProcess';

/** What every lab holds: custom image names per lab, and the factory store's blob names. */
function holdings(state: StateSnapshot): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const lab of state.labs) result[lab.name] = lab.customImages.map((image) => image.name).sort();
  const factory = state.labs.find((lab) => lab.name === FACTORY.name)!;
  result.store = factory.blobs.map((blob) => blob.name).sort();
  return result;
}

/** The full state of what retirement may touch, for before/after comparisons. */
function touchable(state: StateSnapshot): unknown {
  return state.labs.map((lab) => ({
    lab: lab.name,
    images: lab.customImages.map(({ name, tags, provisioningState, creationDate }) => ({ name, tags, provisioningState, creationDate })),
    blobs: lab.blobs.map(({ name, metadata }) => ({ name, metadata })),
  }));
}

describe('RetireImages against the local Azure', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;

  const inputs = (extra: Record<string, string> = {}) => ({
    ConfigurationLocation: CONFIGURATION,
    azureSubscription: 'LocalAzure',
    SubscriptionId: FACTORY.subscriptionId,
    DevTestLabName: FACTORY.name,
    ImagesToSave: String(IMAGES_TO_SAVE),
    maxConcurrentJobs: '20',
    ...extra,
  });
  const run = (extra: Record<string, string> = {}) => runTaskProcess('RetireImages', inputs(extra), azure.env);
  const errorCodes = (r: TaskRun) => r.issues.filter((i) => i.type === 'error').map((i) => i.code);

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO_FILE });
  });
  after(async () => azure?.stop());

  it('dryRun prints the plan and changes nothing', async () => {
    const before = touchable(await azure.state());
    const r = await run({ dryRun: 'true' });
    assert.deepEqual(touchable(await azure.state()), before, describeRun(r));
    assert.ok(r.lines.includes(`Dry run: ${EXPECTED_DELETIONS} image(s) would be deleted; nothing was changed.`), describeRun(r));
    assert.ok(r.lines.some((l) => /^ {2}delete Windows_Datacenter-Nov-01-2026 \[Windows\/Datacenter\.json, .*older than the 2 newest/.test(l)), describeRun(r));
    assert.ok(r.lines.some((l) => /^ {2}keep {3}Windows_Legacy-Oct-15-2026 .*still selects/.test(l)), describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, '0');
  });

  it('deletes exactly what retirement says, leaves foreign images and the unreadable lab alone', async () => {
    const r = await run();
    const state = await azure.state();
    assert.deepEqual(holdings(state), expectedSurvivors, describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, String(EXPECTED_DELETIONS), describeRun(r));
    // The locked lab is an error naming it; the result is Failed, yet every other lab was retired.
    assert.deepEqual(errorCodes(r), ['IF5001'], describeRun(r));
    const locked = r.issues.find((i) => i.code === 'IF5001')!;
    assert.match(locked.message, /lab 'Locked'/);
    assert.equal(r.result, 'Failed');
    // Once per lab, how many images were not the factory's.
    assert.ok(r.lines.some((l) => /^Lab 'Dev' .*3 custom image\(s\) not made by this factory left alone/.test(l)), describeRun(r));
    assert.ok(r.lines.some((l) => /^Factory image store .*1 blob\(s\) that are not factory images left alone/.test(l)), describeRun(r));
    // No custom image is left half-deleted.
    for (const lab of state.labs) for (const image of lab.customImages) assert.equal(image.provisioningState, 'Succeeded', `${lab.name}/${image.name}`);
  });

  it('a second run changes nothing more', async () => {
    const before = touchable(await azure.state());
    const r = await run();
    assert.deepEqual(touchable(await azure.state()), before, describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, '0', describeRun(r));
    assert.deepEqual(errorCodes(r), ['IF5001'], describeRun(r));
  });
});

describe('RetireImages killed half-way', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;

  before(async () => {
    // Custom image deletions take 3 s, so a kill finds several in flight.
    azure = await startLocalAzure({
      scenario: SCENARIO_FILE,
      faults: [{ operation: 'CustomImages_Delete', kind: 'slowLro', delayMs: 3000, probability: 1 }],
    });
  });
  after(async () => azure?.stop());

  it('ends, once run again, in the same state as an uninterrupted run', async () => {
    const inputs = {
      ConfigurationLocation: CONFIGURATION,
      azureSubscription: 'LocalAzure',
      SubscriptionId: FACTORY.subscriptionId,
      DevTestLabName: FACTORY.name,
      ImagesToSave: String(IMAGES_TO_SAVE),
      maxConcurrentJobs: '3',
    };
    const first = startTask('RetireImages', inputs, azure.env);
    // Wait until deletions are in flight, then kill the process outright.
    const deadline = Date.now() + 60_000;
    let deleting = 0;
    while (Date.now() < deadline) {
      const state = await azure.state();
      deleting = state.labs.flatMap((lab) => lab.customImages).filter((image) => image.provisioningState === 'Deleting').length;
      if (deleting > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(deleting > 0, 'no deletion was seen in flight');
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.killedBy, 'SIGKILL');
    assert.equal(killed.result, undefined, 'the first run must not have finished');

    const midway = holdings(await azure.state());
    assert.notDeepEqual(midway, expectedSurvivors, 'the kill came too late to test anything');

    await azure.setFaults([]);
    const second = await runTaskProcess('RetireImages', inputs, azure.env);
    const state = await azure.state();
    assert.deepEqual(holdings(state), expectedSurvivors, describeRun(second));
    for (const lab of state.labs) for (const image of lab.customImages) assert.equal(image.provisioningState, 'Succeeded', `${lab.name}/${image.name}`);
    assert.deepEqual(second.issues.filter((i) => i.type === 'error').map((i) => i.code), ['IF5001'], describeRun(second));
  });
});
