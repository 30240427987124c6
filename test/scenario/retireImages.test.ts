import * as assert from 'node:assert/strict';
import type { StateSnapshot } from '../../local-azure/control';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { CONFIGURATION, EXPECTED_DELETIONS, expectedSurvivors, FACTORY, IMAGES_TO_SAVE, POWERSHELL_IMAGES, SCENARIO_FILE } from '../scenarios/retire/expected';
import { describeRun, runTaskProcess, startTask, type TaskRun } from '../helpers/taskProcess';
import { waitFor } from '../helpers/waitFor';

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

/** RetireImages inputs for the retire scenario's factory and configuration. */
const retireInputs = (extra: Record<string, string> = {}) => ({
  ConfigurationLocation: CONFIGURATION,
  azureSubscription: 'LocalAzure',
  SubscriptionId: FACTORY.subscriptionId,
  DevTestLabName: FACTORY.name,
  ImagesToSave: String(IMAGES_TO_SAVE),
  ...extra,
});

describe('RetireImages against the local Azure', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;

  const run = (extra: Record<string, string> = {}) => runTaskProcess('RetireImages', retireInputs({ maxConcurrentJobs: '20', ...extra }), azure.env);
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
    // A removed template's images go everywhere, the newest too, though Dev's folder entry still covers the path.
    for (const where of ['Factory image store', "Lab 'Dev'"]) {
      const scope = r.lines.indexOf(r.lines.find((l) => l.startsWith(where))!);
      const rows = r.lines.slice(scope + 1).filter((l) => /^ {2}(delete|keep {3}) Windows_Legacy-Oct-15-2026 /.test(l));
      assert.match(rows[0] ?? '', /^ {2}delete Windows_Legacy-Oct-15-2026 \[Windows\/Legacy\.json, .*\]: its template Windows\/Legacy\.json is no longer in GoldenImages; retired though lab 'Dev' .* still list\(s\) a folder that held it$/, describeRun(r));
    }
    assert.ok(!r.lines.some((l) => /^ {2}keep {3}Windows_Legacy/.test(l)), describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, '0');
  });

  it('plans nothing for a lab whose custom images cannot be listed, and goes on with the others', async () => {
    await azure.setFaults([{ operation: 'CustomImages_List', kind: 'status', status: 403, code: 'AuthorizationFailed', match: '/labs/Test/', probability: 1 }]);
    try {
      const r = await run({ dryRun: 'true' });
      const unreadable = r.issues.filter((i) => i.code === 'IF5001').map((i) => i.message);
      assert.equal(unreadable.length, 2, describeRun(r));
      assert.ok(unreadable.some((m) => m.includes("lab 'Test'")) && unreadable.some((m) => m.includes("lab 'Locked'")), describeRun(r));
      // Test's 3 deletions are not planned; every other lab's are.
      assert.ok(r.lines.includes(`Dry run: ${EXPECTED_DELETIONS - 3} image(s) would be deleted; nothing was changed.`), describeRun(r));
    } finally {
      await azure.setFaults([]);
    }
  });

  it('deletes exactly what retirement says, leaves foreign images and the unreadable lab alone; a failed deletion stops no other', async () => {
    // Deleting Test's oldest SQL image fails for good; everything else goes on.
    const failing = 'Windows_SQL-Nov-15-2026';
    await azure.setFaults([{ operation: 'CustomImages_Delete', kind: 'lroFailed', match: `/labs/Test/customimages/${failing}`, count: 1 }]);
    const r = await run();
    const state = await azure.state();
    assert.deepEqual(holdings(state), { ...expectedSurvivors, Test: [...expectedSurvivors.Test, failing].sort() }, describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, String(EXPECTED_DELETIONS - 1), describeRun(r));
    assert.deepEqual(errorCodes(r).sort(), ['IF5001', 'IF5002'], describeRun(r));
    assert.match(r.issues.find((i) => i.code === 'IF5002')!.message, new RegExp(`custom image '${failing}' from lab 'Test'`));
    // The locked lab is an error naming it; the result is Failed, yet every other lab was retired.
    assert.match(r.issues.find((i) => i.code === 'IF5001')!.message, /lab 'Locked'/);
    assert.equal(r.result, 'Failed');
    // Once per lab, how many images were not the factory's.
    assert.ok(r.lines.some((l) => /^Lab 'Dev' .*4 custom image\(s\) not made by this factory left alone/.test(l)), describeRun(r));
    assert.ok(r.lines.some((l) => /^Factory image store .*1 blob\(s\) that are not factory images left alone/.test(l)), describeRun(r));
    // No custom image is left half-deleted.
    for (const lab of state.labs) for (const image of lab.customImages) assert.equal(image.provisioningState, 'Succeeded', `${lab.name}/${image.name}`);
  });

  it('the summary lists every place and every deletion with its outcome', async () => {
    // The run above left the failed deletion; this dry run's summary shows it as still to delete.
    const r = await run({ dryRun: 'true' });
    const summary = r.summary ?? '';
    assert.match(summary, /\| lab 'Test' \(subscription [^)]+\) \| 0 \| 4 \| 1 \| 1 to delete \|/, summary);
    assert.match(summary, /\| lab 'Locked' \(subscription [^)]+\) \| - \| - \| - \| not read completely: left as it was \|/, summary);
    assert.match(summary, /\| Windows_SQL-Nov-15-2026 \| Windows\/SQL\.json \| lab 'Test' [^|]+\| older \| would be deleted \|/, summary);
  });

  it('a second run deletes what failed, and nothing else', async () => {
    const r = await run();
    assert.deepEqual(holdings(await azure.state()), expectedSurvivors, describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, '1', describeRun(r));
    assert.deepEqual(errorCodes(r), ['IF5001'], describeRun(r));
  });

  it('a third run changes nothing more', async () => {
    const before = touchable(await azure.state());
    const r = await run();
    assert.deepEqual(touchable(await azure.state()), before, describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, '0', describeRun(r));
    assert.deepEqual(errorCodes(r), ['IF5001'], describeRun(r));
  });
});

describe("RetireImages and the PowerShell image factory's images", function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  const run = (extra: Record<string, string> = {}) => runTaskProcess('RetireImages', retireInputs(extra), azure.env);

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO_FILE });
  });
  after(async () => azure?.stop());

  it('keeps them when includePowerShellImages is false, counting them as not the factory\'s', async () => {
    const r = await run({ includePowerShellImages: 'false' });
    const withPowerShell = { ...expectedSurvivors };
    for (const [lab, names] of Object.entries(POWERSHELL_IMAGES)) withPowerShell[lab as keyof typeof withPowerShell] = [...expectedSurvivors[lab as 'Dev'], ...names].sort();
    assert.deepEqual(holdings(await azure.state()), withPowerShell, describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, String(EXPECTED_DELETIONS - 2), describeRun(r));
    assert.ok(r.lines.some((l) => /^Lab 'Dev' .*5 custom image\(s\) not made by this factory left alone/.test(l)), describeRun(r));
  });

  it('by default, plans them by the same rules, saying whose they are, and retires them; images without ImagePath stay', async () => {
    const dry = await run({ dryRun: 'true' });
    assert.ok(dry.lines.includes('Dry run: 2 image(s) would be deleted; nothing was changed.'), describeRun(dry));
    assert.ok(
      dry.lines.some((l) => /^ {2}delete Windows_Datacenter-Oct-4-2026 \[Windows\/Datacenter\.json, 2026-10-04T10:00:00\.000Z\]: older than the 2 newest of Windows\/Datacenter\.json \(made by the PowerShell image factory\)$/.test(l)),
      describeRun(dry),
    );
    assert.ok(dry.lines.some((l) => /^ {2}delete Retired_Old-Sep-6-2026 \[Retired\/Old\.json, .*\]: its template Retired\/Old\.json is no longer in GoldenImages \(made by the PowerShell image factory\)$/.test(l)), describeRun(dry));

    const r = await run();
    assert.deepEqual(holdings(await azure.state()), expectedSurvivors, describeRun(r));
    assert.equal(r.outputs.DeletedImageCount, '2', describeRun(r));
    // Named like a factory image but without the ImagePath tag, or tagged by hand with another name: left alone.
    assert.ok(expectedSurvivors.Dev.includes('Windows_Datacenter-Sep-3-2026') && expectedSurvivors.Dev.includes('TaggedByHand'));
  });
});

describe('RetireImages cancelled, then killed half-way', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  const inputs = retireInputs({ maxConcurrentJobs: '3' });

  before(async () => {
    // Custom image deletions take 3 s, so a cancel or a kill finds some in flight.
    azure = await startLocalAzure({
      scenario: SCENARIO_FILE,
      faults: [{ operation: 'CustomImages_Delete', kind: 'slowLro', delayMs: 3000, probability: 1 }],
    });
  });
  after(async () => azure?.stop());

  async function untilDeleting(): Promise<number> {
    const deleting = await waitFor(async () => {
      const state = await azure.state();
      const count = state.labs.flatMap((lab) => lab.customImages).filter((image) => image.provisioningState === 'Deleting').length;
      return count > 0 ? count : undefined;
    }, 60_000);
    return deleting ?? 0;
  }

  it('stops promptly on cancel, starting no further deletion', async () => {
    const images = (state: StateSnapshot) => state.labs.flatMap((lab) => lab.customImages.map((image) => ({ lab: lab.name, ...image })));
    const initial = images(await azure.state());
    const run = startTask('RetireImages', inputs, azure.env);
    assert.ok((await untilDeleting()) > 0, 'no deletion was seen in flight');
    const cancelledAt = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    assert.equal(r.result, 'Cancelled', describeRun(r));
    assert.ok(Date.now() - cancelledAt < 5000, `took ${Date.now() - cancelledAt} ms to stop`);
    // Deletions already started go on in Azure; none starts after the cancel (at most maxConcurrentJobs were in flight).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = images(await azure.state());
    const touched = initial.filter((i) => !after.some((a) => a.lab === i.lab && a.name === i.name && a.provisioningState === 'Succeeded'));
    assert.ok(touched.length > 0 && touched.length <= 3, `${touched.length} custom image deletions started`);
    assert.notDeepEqual(holdings(await azure.state()), expectedSurvivors);
  });

  it('killed with deletions in flight, then run again, ends in the same state as an uninterrupted run', async () => {
    let planned!: () => void;
    const planPrinted = new Promise<void>((resolve) => (planned = resolve));
    const first = startTask('RetireImages', inputs, azure.env, {
      onLine: (line) => {
        if (line.startsWith('Retirement plan')) planned();
      },
    });
    await Promise.race([planPrinted, first.done.then((r) => assert.fail(`ended before its plan was printed: ${describeRun(r)}`))]);
    // The plan is printed and deletions begin: each custom image deletion takes 3 s, so they are in flight.
    await new Promise((resolve) => setTimeout(resolve, 500));
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.killedBy, 'SIGKILL');
    assert.equal(killed.result, undefined, 'the run must not have finished');
    assert.notDeepEqual(holdings(await azure.state()), expectedSurvivors, 'the kill came too late to test anything');

    await azure.setFaults([]);
    const second = await runTaskProcess('RetireImages', inputs, azure.env);
    const state = await azure.state();
    assert.deepEqual(holdings(state), expectedSurvivors, describeRun(second));
    for (const lab of state.labs) for (const image of lab.customImages) assert.equal(image.provisioningState, 'Succeeded', `${lab.name}/${image.name}`);
    assert.deepEqual(second.issues.filter((i) => i.type === 'error').map((i) => i.code), ['IF5001'], describeRun(second));
  });
});
