import * as assert from 'node:assert/strict';
import { fromBlobMetadata } from '../../core/factoryImages';
import type { StateSnapshot } from '../../local-azure/control';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, startTask, type TaskRun } from '../helpers/taskProcess';
import { waitFor } from '../helpers/waitFor';
import { LAB, slowFactory, stamp } from '../scenarios/snap/factory';

/**
 * SnapImagesFromVMs with another run at once, or after a run killed at the worst moment, each the built
 * task as the agent runs it: every disk is saved once, no partial image is left, and no disk keeps the
 * read access a run granted, so CleanUpFactory can then delete the saved VMs.
 */
const inputs = { azureSubscription: 'LocalAzure', DevTestLabName: LAB, maxConcurrentJobs: '2' };
const EXPECTED = [`Linux_Ubuntu-${stamp()}.vhd`, `Win2016_Datacenter-${stamp()}.vhd`];

const factory = (state: StateSnapshot) => state.labs.find((l) => l.name === LAB)!;
const blobNames = (state: StateSnapshot) => factory(state).blobs.map((b) => b.name).sort();

function assertSavedOnce(state: StateSnapshot): void {
  assert.deepEqual(blobNames(state), EXPECTED, 'each disk saved once, under one name');
  for (const blob of factory(state).blobs) {
    assert.equal(blob.copyStatus, 'success', `${blob.name} is complete`);
    assert.ok(fromBlobMetadata(blob.metadata), `${blob.name} carries the image's metadata`);
  }
  assert.deepEqual(state.diskGrants, [], 'no disk access left');
}

const savedNames = (run: TaskRun) => (run.outputs.SavedImageNames ? run.outputs.SavedImageNames.split(',') : []);

describe('SnapImagesFromVMs overlapping another run', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  afterEach(async () => azure?.stop());

  for (const [title, delayMs] of [
    ['started together', 0],
    ['the second starting while the first copies', 1500],
  ] as const) {
    it(`two runs ${title} save each disk once and both succeed`, async () => {
      // 1 GiB disks at 256 MB/s: each copy is pending for about 4 s.
      azure = await startLocalAzure({ scenario: slowFactory(256) });
      const first = startTask('SnapImagesFromVMs', inputs, azure.env);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const second = startTask('SnapImagesFromVMs', inputs, azure.env);
      const runs = await Promise.all([first.done, second.done]);
      for (const run of runs) {
        assert.equal(run.result, 'Succeeded', describeRun(run));
        assert.deepEqual(run.issues, [], describeRun(run));
      }
      assertSavedOnce(await azure.state());
      const saved = runs.flatMap(savedNames).sort();
      assert.deepEqual(saved, EXPECTED.map((name) => name.replace(/\.vhd$/, '')), 'each image reported saved by exactly one run');
    });
  }

  it('with CleanUpFactory at once: the VMs are deleted only once saved and their disk access revoked', async () => {
    azure = await startLocalAzure({ scenario: slowFactory(256) });
    const snap = startTask('SnapImagesFromVMs', inputs, azure.env);
    await waitFor(async () => (factory(await azure.state()).blobs.some((b) => b.copyStatus === 'pending') ? true : undefined), 15_000);
    const cleanup = await runTaskProcess('CleanUpFactory', { azureSubscription: 'LocalAzure', DevTestLabName: LAB }, azure.env);
    const snapped = await snap.done;
    assert.equal(snapped.result, 'Succeeded', describeRun(snapped));
    assert.notEqual(cleanup.result, 'Failed', describeRun(cleanup));
    assert.deepEqual(cleanup.issues.filter((i) => i.type === 'error'), [], describeRun(cleanup));
    assertSavedOnce(await azure.state());
    // The VMs CleanUpFactory saw unsaved are kept, and a second run deletes them.
    const again = await runTaskProcess('CleanUpFactory', { azureSubscription: 'LocalAzure', DevTestLabName: LAB }, azure.env);
    assert.equal(again.result, 'Succeeded', describeRun(again));
    assert.deepEqual(factory(await azure.state()).vms.map((v) => v.name), []);
  });
});

describe('SnapImagesFromVMs after a run killed with its disk access granted', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  afterEach(async () => azure?.stop());

  /** A run killed after both copies ended and before any revoke went through (revoking fails for a while). */
  async function killAfterCopies(): Promise<void> {
    azure = await startLocalAzure({ scenario: slowFactory(1024) });
    await azure.setFaults([{ operation: 'Disks_RevokeAccess', kind: 'status', status: 500, code: 'InternalServerError', count: 1000 }]);
    const task = startTask('SnapImagesFromVMs', inputs, azure.env);
    const copied = await waitFor(async () => {
      const state = await azure.state();
      const done = factory(state).blobs.filter((b) => b.copyStatus === 'success').length === 2;
      return done && state.diskGrants.length === 2 ? state : undefined;
    }, 30_000);
    assert.ok(copied, 'both copies ended with their disk access granted');
    task.child.kill('SIGKILL');
    await task.done;
    await azure.setFaults([]);
    assert.equal((await azure.state()).diskGrants.length, 2, 'the kill left both grants');
  }
  const revokedLines = (run: TaskRun) => run.lines.filter((l) => /^Revoked the read access to OS disk '.+' of VM '.+' that an earlier run left granted\.$/.test(l));

  it('killed after the copy ended, before the revoke: the next run revokes it and CleanUpFactory deletes the VMs', async () => {
    await killAfterCopies();
    const rerun = await runTaskProcess('SnapImagesFromVMs', inputs, azure.env);
    assert.equal(rerun.result, 'Succeeded', describeRun(rerun));
    assert.equal(rerun.outputs.SavedImageNames, '', 'nothing saved twice');
    assert.equal(revokedLines(rerun).length, 2, rerun.lines.join('\n'));
    assertSavedOnce(await azure.state());

    const cleanup = await runTaskProcess('CleanUpFactory', { azureSubscription: 'LocalAzure', DevTestLabName: LAB }, azure.env);
    assert.equal(cleanup.result, 'Succeeded', describeRun(cleanup));
    assert.deepEqual(factory(await azure.state()).vms.map((v) => v.name), []);
  });

  it('killed after the copy ended, before the revoke: CleanUpFactory alone revokes the access and deletes the VMs', async () => {
    await killAfterCopies();
    const cleanup = await runTaskProcess('CleanUpFactory', { azureSubscription: 'LocalAzure', DevTestLabName: LAB }, azure.env);
    assert.equal(cleanup.result, 'Succeeded', describeRun(cleanup));
    assert.equal(revokedLines(cleanup).length, 2, cleanup.lines.join('\n'));
    const state = await azure.state();
    assert.deepEqual(factory(state).vms.map((v) => v.name), []);
    assert.deepEqual(state.diskGrants, []);
  });

  it('killed mid-copy: the next run follows the copy, then revokes', async () => {
    azure = await startLocalAzure({ scenario: slowFactory(256) });
    const task = startTask('SnapImagesFromVMs', inputs, azure.env);
    await waitFor(async () => (factory(await azure.state()).blobs.filter((b) => b.copyStatus === 'pending').length === 2 ? true : undefined), 15_000);
    task.child.kill('SIGKILL');
    await task.done;
    assert.equal((await azure.state()).diskGrants.length, 2, 'the kill left both grants');
    const rerun = await runTaskProcess('SnapImagesFromVMs', inputs, azure.env);
    assert.equal(rerun.result, 'Succeeded', describeRun(rerun));
    assertSavedOnce(await azure.state());
    const cleanup = await runTaskProcess('CleanUpFactory', { azureSubscription: 'LocalAzure', DevTestLabName: LAB }, azure.env);
    assert.equal(cleanup.result, 'Succeeded', describeRun(cleanup));
    assert.deepEqual(factory(await azure.state()).vms.map((v) => v.name), []);
  });
});
