import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { type FactoryImage, toBlobMetadata } from '../../core/factoryImages';
import type { StateSnapshot } from '../../local-azure/control';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, startTask, type TaskRun } from '../helpers/taskProcess';
import { waitFor } from '../helpers/waitFor';

const LAB = 'Factory';
/**
 * The factory lab after a snap: two VMs saved (their images are put in the store below, as
 * SnapImagesFromVMs leaves them), one not saved yet, failed ones, ignored ones, one in the making and a
 * stranger; and a second factory lab the service connection may not read.
 */
const SCENARIO_FILE = path.resolve(__dirname, '../../../test/scenarios/cleanup/scenario.json');

const SURVIVORS = ['ignored-failed', 'in-the-making', 'jumpbox', 'sql-unsaved', 'stranger'];
const DELETED = 4;

/** Saves the images of the `-saved` VMs into the store, as SnapImagesFromVMs leaves them. */
async function storeImagesOfSavedVms(azure: LocalAzureProcess): Promise<void> {
  const lab = (await azure.state()).labs.find((l) => l.name === LAB)!;
  for (const vm of lab.vms.filter((v) => v.name.endsWith('-saved'))) {
    const image: FactoryImage = {
      imageName: `${vm.name}-Nov-24-2026`,
      imagePath: vm.tags.ImagePath ?? vm.tags.imagepath,
      description: '',
      osType: vm.osType === 'Linux' ? 'Linux' : 'Windows',
      generalized: true,
      sourceVmId: vm.id,
      sourceDiskId: vm.diskId,
      createdUtc: '2026-11-24T10:00:00.000Z',
      sizeBytes: 1024,
      hyperVGeneration: 'V1',
      securityType: 'Standard',
    };
    await azure.addVhd(LAB, { name: `${image.imageName}.vhd`, sizeBytes: 1024, metadata: toBlobMetadata(image) });
  }
}

const vmNames = (state: StateSnapshot) => state.labs.find((l) => l.name === LAB)!.vms.map((vm) => vm.name).sort();
const vmState = (state: StateSnapshot) =>
  state.labs.find((l) => l.name === LAB)!.vms.map(({ name, tags, provisioningState, powerState }) => ({ name, tags, provisioningState, powerState }));
const codes = (r: TaskRun, type: string) => r.issues.filter((i) => i.type === type).map((i) => i.code).sort();

describe('CleanUpFactory against the local Azure', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  const run = (extra: Record<string, string> = {}) =>
    runTaskProcess('CleanUpFactory', { azureSubscription: 'LocalAzure', DevTestLabName: LAB, ...extra }, azure.env);

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO_FILE });
    await storeImagesOfSavedVms(azure);
  });
  after(async () => azure?.stop());

  it('dryRun prints the plan and changes nothing', async () => {
    const before = vmState(await azure.state());
    const r = await run({ dryRun: 'true' });
    assert.deepEqual(vmState(await azure.state()), before, describeRun(r));
    assert.ok(r.lines.includes(`Dry run: ${DELETED} VM(s) would be deleted; nothing was changed.`), describeRun(r));
    assert.ok(r.lines.includes('  delete win-saved: saved as image win-saved-Nov-24-2026'), describeRun(r));
    assert.equal(r.outputs.DeletedVmCount, '0');
  });

  it('deletes the saved and the failed VMs and keeps the rest, reporting each failed and each stranger', async () => {
    const r = await run();
    assert.deepEqual(vmNames(await azure.state()), SURVIVORS, describeRun(r));
    assert.equal(r.outputs.DeletedVmCount, String(DELETED), describeRun(r));
    assert.deepEqual(codes(r, 'error'), ['IF5003', 'IF5003', 'IF5004'], describeRun(r));
    assert.deepEqual(codes(r, 'warning'), ['IF5005'], describeRun(r));
    assert.ok(r.issues.some((i) => i.code === 'IF5003' && /VM 'broken'/.test(i.message)));
    assert.ok(r.issues.some((i) => i.code === 'IF5003' && /VM 'broken-tagged'/.test(i.message)));
    assert.ok(r.issues.some((i) => i.code === 'IF5004' && /VM 'stranger'/.test(i.message) && /add the FactoryIgnore tag if it belongs here/i.test(i.message)));
    assert.ok(r.issues.some((i) => i.code === 'IF5005' && /VM 'sql-unsaved'/.test(i.message)));
    assert.equal(r.result, 'Failed');
    assert.match(r.summary ?? '', /\| broken-tagged \| Windows\/SQL\.json \| delete \| provisioning failed \(IF5003\) \| deleted \|/, r.summary);
    assert.match(r.summary ?? '', /\| stranger \|  \| keep \| has neither the ImagePath nor the FactoryIgnore tag \(IF5004\) \| kept \|/, r.summary);
    assert.deepEqual(r.progress.at(-1), 100);
  });

  it('a second run changes nothing more', async () => {
    const before = vmState(await azure.state());
    const r = await run();
    assert.deepEqual(vmState(await azure.state()), before, describeRun(r));
    assert.equal(r.outputs.DeletedVmCount, '0');
    assert.deepEqual(codes(r, 'error'), ['IF5004'], describeRun(r));
  });

  it('a factory lab it may not read is an error naming the lab, and nothing changes there', async () => {
    const before = await azure.state();
    const r = await run({ DevTestLabName: 'LockedFactory' });
    assert.equal(r.result, 'Failed', describeRun(r));
    assert.ok(r.issues.some((i) => i.type === 'error' && /LockedFactory/.test(i.message)), describeRun(r));
    assert.equal(r.outputs.DeletedVmCount, undefined);
    assert.deepEqual((await azure.state()).labs.map((l) => l.vms), before.labs.map((l) => l.vms));
  });
});

describe('CleanUpFactory killed half-way', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({
      scenario: SCENARIO_FILE,
      faults: [{ operation: 'VirtualMachines_Delete', kind: 'slowLro', delayMs: 3000, probability: 1 }],
    });
    await storeImagesOfSavedVms(azure);
  });
  after(async () => azure?.stop());

  it('ends, once run again, with the same VMs as an uninterrupted run', async () => {
    const inputs = { azureSubscription: 'LocalAzure', DevTestLabName: LAB };
    const first = startTask('CleanUpFactory', inputs, azure.env);
    const deleting =
      (await waitFor(async () => {
        const lab = (await azure.state()).labs.find((l) => l.name === LAB)!;
        const count = lab.vms.filter((vm) => vm.provisioningState === 'Deleting').length;
        return count > 0 ? count : undefined;
      }, 60_000)) ?? 0;
    assert.ok(deleting > 0, 'no deletion was seen in flight');
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.equal(killed.result, undefined, 'the first run must not have finished');
    assert.notDeepEqual(vmNames(await azure.state()), SURVIVORS, 'the kill came too late to test anything');

    await azure.setFaults([]);
    const second = await runTaskProcess('CleanUpFactory', inputs, azure.env);
    const state = await azure.state();
    assert.deepEqual(vmNames(state), SURVIVORS, describeRun(second));
    for (const vm of state.labs[0].vms) assert.notEqual(vm.provisioningState, 'Deleting', vm.name);
  });
});

describe('two CleanUpFactory runs at once', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;

  before(async () => {
    // Deletions take a while, so the second run meets the first one's deletions in flight.
    azure = await startLocalAzure({ scenario: SCENARIO_FILE, faults: [{ operation: 'VirtualMachines_Delete', kind: 'slowLro', delayMs: 1500, probability: 1 }] });
    await storeImagesOfSavedVms(azure);
  });
  after(async () => azure?.stop());

  it('end with the same VMs as one run, neither failing on a VM the other is deleting', async () => {
    const inputs = { azureSubscription: 'LocalAzure', DevTestLabName: LAB };
    const first = startTask('CleanUpFactory', inputs, azure.env);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = startTask('CleanUpFactory', inputs, azure.env);
    const runs = await Promise.all([first.done, second.done]);
    assert.deepEqual(vmNames(await azure.state()), SURVIVORS);
    for (const r of runs) {
      // What one run reports about the lab's VMs (a failed provisioning, an untagged VM), and nothing about the other run.
      const errors = codes(r, 'error');
      assert.ok(errors.every((c) => c === 'IF5003' || c === 'IF5004'), describeRun(r));
      assert.equal(errors.filter((c) => c === 'IF5004').length, 1, describeRun(r));
    }
  });
});
