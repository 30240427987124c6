import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { type FactoryImage, fromBlobMetadata } from '../../core/factoryImages';
import type { StateSnapshot } from '../../local-azure/control';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { earlierImage, FOREIGN_BLOB, LAB, LAB_ID, mixedFactory, slowFactory, stamp, VMS } from '../scenarios/snap/factory';
import { runTaskProcess, startTask, type TaskRun } from '../helpers/taskProcess';
import { waitFor } from '../helpers/waitFor';
import { loggingCommands } from '../helpers/loggingCommands';

/**
 * The built SnapImagesFromVMs task against the local Azure, run as the agent runs it. Assertions are
 * on the local Azure's state: which VHDs exist with which metadata, and whether any disk access is left.
 */
const GIB = 1024 ** 3;

type LabState = StateSnapshot['labs'][number];

function factory(state: StateSnapshot): LabState {
  const lab = state.labs.find((l) => l.name === LAB);
  assert.ok(lab, 'factory lab in state');
  return lab;
}

function diskIdOf(state: StateSnapshot, vmName: string): string {
  const vm = factory(state).vms.find((v) => v.name === vmName);
  assert.ok(vm, `VM ${vmName} in state`);
  return vm.diskId;
}

function blobNames(state: StateSnapshot): string[] {
  return factory(state)
    .blobs.map((b) => b.name)
    .sort();
}

function imageOf(state: StateSnapshot, blobName: string): FactoryImage {
  const blob = factory(state).blobs.find((b) => b.name === blobName);
  assert.ok(blob, `blob ${blobName} in the store; there are ${blobNames(state).join(', ')}`);
  assert.ok(blob.copyStatus === undefined || blob.copyStatus === 'success', `copy of ${blobName} is ${blob.copyStatus}`);
  const image = fromBlobMetadata(blob.metadata);
  assert.ok(image, `blob ${blobName} carries factory metadata: ${JSON.stringify(blob.metadata)}`);
  return image;
}

const TASK = 'SnapImagesFromVMs';
const runSnapTask = (env: Record<string, string>, inputs: Record<string, string>) => runTaskProcess(TASK, inputs, env);
const startSnapTask = (env: Record<string, string>, inputs: Record<string, string>) => startTask(TASK, inputs, env);

/** `<code> <message>` of each issue of `type`, the message without the `[<code>] ` the task puts in front. */
function issues(run: TaskRun, type: 'error' | 'warning'): string[] {
  return run.issues.filter((i) => i.type === type).map((i) => `${i.code} ${i.message.replace(`[${i.code}] `, '')}`);
}

function assertNoSasInLog(run: TaskRun): void {
  assert.ok(run.secrets.some((s) => s.includes('sig=')), 'the disk and upload SAS URLs are registered as secrets');
  const leaking = run.stdout.split(/\r?\n/).filter((line) => !line.startsWith('##vso[task.setsecret]') && /[?&]sig=/.test(line));
  assert.deepEqual(leaking, [], 'no SAS in the log');
}

describe('SnapImagesFromVMs against the local Azure', function () {
  this.timeout(120_000);

  describe('a factory lab with VMs of every kind', () => {
    const now = new Date();
    const today = stamp(now);
    let azure: LocalAzureProcess;
    let env: Record<string, string>;
    const inputs = { DevTestLabName: LAB, maxConcurrentJobs: '4' };

    before(async () => {
      azure = await startLocalAzure({ scenario: mixedFactory(now) });
      env = azure.env;
    });
    after(async () => {
      await azure?.stop();
    });

    it('prints the plan and changes nothing in a dry run', async () => {
      const before = await azure.state();
      const run = await runSnapTask(env, { ...inputs, dryRun: 'true' });
      assert.equal(run.result, 'SucceededWithIssues', run.stdout);
      const after = await azure.state();
      assert.deepEqual(factory(after).blobs, factory(before).blobs);
      assert.deepEqual(after.diskGrants, []);
      const log = run.lines.join('\n');
      assert.match(log, new RegExp(`save +VM '${VMS.windows.name}' .*as image 'Win2016_Datacenter-${today}A'`));
      assert.match(log, new RegExp(`save +VM '${VMS.linux.name}' .*Linux.*as image 'Linux_Ubuntu-18_04-${today}'`));
      assert.match(log, /Dry run: nothing was changed/);
      assert.equal(run.outputs.SavedImageNames, undefined);
      assert.match(run.summary ?? '', /dry run/);
    });

    it('saves exactly the deallocated tagged VMs, with their metadata, and says why it left the others', async () => {
      const started = Date.now();
      const run = await runSnapTask(env, inputs);
      assert.equal(run.result, 'SucceededWithIssues', run.stdout + run.stderr);
      const state = await azure.state();

      const windowsBlob = `Win2016_Datacenter-${today}A.vhd`;
      const linuxBlob = `Linux_Ubuntu-18_04-${today}.vhd`;
      const earlier = earlierImage(now);
      assert.deepEqual(blobNames(state), [`${earlier.imageName}.vhd`, linuxBlob, windowsBlob, FOREIGN_BLOB].sort());
      assert.deepEqual(imageOf(state, `${earlier.imageName}.vhd`), earlier, 'the earlier image is untouched');

      const windows = imageOf(state, windowsBlob);
      const created = Date.parse(windows.createdUtc);
      assert.ok(created >= started - 5_000 && created <= Date.now(), `createdUtc ${windows.createdUtc} is the run's time`);
      assert.deepEqual(windows, {
        imageName: `Win2016_Datacenter-${today}A`,
        imagePath: 'Win2016/Datacenter.json',
        description: VMS.windows.notes,
        osType: 'Windows',
        generalized: true,
        sourceVmId: windows.sourceVmId,
        sourceDiskId: diskIdOf(state, VMS.windows.name),
        createdUtc: windows.createdUtc,
        sizeBytes: GIB,
        hyperVGeneration: 'V1',
        securityType: 'Standard',
      });
      // Resource ids compare without case, as Azure compares them.
      assert.equal(windows.sourceVmId.toLowerCase(), `${LAB_ID}/virtualmachines/${VMS.windows.name}`.toLowerCase());
      const linux = imageOf(state, linuxBlob);
      assert.equal(linux.osType, 'Linux');
      assert.equal(linux.imagePath, 'Linux/Ubuntu 18.04.json');
      assert.equal(linux.sourceDiskId, diskIdOf(state, VMS.linux.name));
      assert.equal(linux.sizeBytes, GIB);
      assert.equal(factory(state).blobs.find((b) => b.name === linuxBlob)?.sizeBytes, GIB + 512, "the VHD is the disk and its footer");

      assert.deepEqual(state.diskGrants, [], 'every disk access was revoked');
      assert.deepEqual(issues(run, 'error'), []);
      const warnings = issues(run, 'warning');
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.ok(warnings.some((w) => /^IF3001 VM 'win10-pro' .*'running', not deallocated/.test(w)), warnings.join('\n'));
      assert.ok(warnings.some((w) => /^IF3005 VM 'win2019-dc' .*failed to provision/.test(w)), warnings.join('\n'));
      assert.ok(run.lines.some((l) => /VM 'jumpbox' has no ImagePath tag/.test(l)));
      assert.equal(run.outputs.SavedImageNames, `Linux_Ubuntu-18_04-${today},Win2016_Datacenter-${today}A`);

      const summary = run.summary ?? '';
      assert.match(summary, /\| VM \| ImagePath \| Image name \| Size \| Duration \| Outcome \|/);
      assert.match(summary, new RegExp(`\\| win2016-dc \\| Win2016\\\\Datacenter\\.json \\| Win2016_Datacenter-${today}A \\| 1\\.0 GiB \\| \\d+ s \\| ✅ saved \\|`));
      assert.match(summary, /\| win10-pro \| .* ⚠️ skipped: \[IF3001\]/);
      assert.match(summary, /left alone: jumpbox/);
      assert.ok(run.progress.length > 0 && run.progress[run.progress.length - 1] === 100, `progress ${run.progress}`);
      assertNoSasInLog(run);
    });

    it('saves nothing twice when run again', async () => {
      const before = await azure.state();
      const run = await runSnapTask(env, inputs);
      assert.equal(run.result, 'SucceededWithIssues', run.stdout);
      const after = await azure.state();
      assert.deepEqual(factory(after).blobs, factory(before).blobs);
      assert.deepEqual(after.diskGrants, []);
      assert.equal(run.outputs.SavedImageNames, '');
      assert.ok(run.lines.some((l) => new RegExp(`done +VM '${VMS.windows.name}': .*already saved as image 'Win2016_Datacenter-${today}A'`).test(l)));
    });
    it('counts an image whose disk access could not be revoked as saved, and fails the run saying how to revoke it', async () => {
      await azure.addVm(LAB, { name: 'centos-8', tags: { ImagePath: 'Linux/CentOS.json' }, osType: 'Linux', diskSizeGB: 1 });
      await azure.setFaults([{ operation: 'Disks_RevokeAccess', kind: 'status', status: 403, code: 'AuthorizationFailed', count: 1 }]);
      const run = await runSnapTask(env, inputs);
      assert.equal(run.result, 'Failed', run.stdout);
      const errors = issues(run, 'error');
      assert.equal(errors.length, 1, errors.join('\n'));
      const state = await azure.state();
      const disk = factory(state).vms.find((v) => v.name === 'centos-8')!;
      assert.match(errors[0], new RegExp(`^IF2003 VM 'centos-8': could not revoke read access to its OS disk '${disk.diskName}'.*az disk revoke-access --ids`));
      assert.equal(imageOf(state, `Linux_CentOS-${today}.vhd`).sourceDiskId, disk.diskId);
      assert.equal(run.outputs.SavedImageNames, `Linux_CentOS-${today}`);
      assert.deepEqual(state.diskGrants, [disk.diskName], 'the grant the task could not revoke, and no other');
    });
  });

  it('runs end to end from the scenario file of the README and demo', async () => {
    const azure = await startLocalAzure({ scenario: path.join(__dirname, '..', '..', '..', 'test', 'scenarios', 'snap', 'factory.json') });
    try {
      const run = await runSnapTask(azure.env, { DevTestLabName: LAB });
      assert.equal(run.result, 'SucceededWithIssues', run.stdout);
      assert.match(run.outputs.SavedImageNames ?? '', new RegExp(`^Linux_Ubuntu-18_04-${stamp()},Win2016_Datacenter-${stamp()}A?$`));
      const state = await azure.state();
      assert.equal(factory(state).blobs.length, 4);
      assert.deepEqual(state.diskGrants, []);
    } finally {
      await azure.stop();
    }
  });

  describe('copies that fail or are stopped', () => {
    let azure: LocalAzureProcess;
    const inputs = { DevTestLabName: LAB, maxConcurrentJobs: '2' };

    /** 1 GiB disks: at 256 MB/s a copy stays pending for about 4 s. */
    const start = async (copyRateMBps: number) => {
      azure = await startLocalAzure({ scenario: slowFactory(copyRateMBps) });
    };
    afterEach(async () => {
      await azure?.stop();
    });

    it('fails the VM whose copy fails, leaving no partial VHD and no disk access, saves the other, and the next run completes', async () => {
      await start(1024);
      await azure.setFaults([{ operation: 'Blob_StartCopy', kind: 'copyFailed', failAfterPercent: 20, count: 1, match: 'Linux_Ubuntu' }]);
      const run = await runSnapTask(azure.env, inputs);
      assert.equal(run.result, 'Failed', run.stdout);
      const errors = issues(run, 'error');
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0], /^IF2007 VM 'ubuntu-1804' \(image 'Linux_Ubuntu-\w{3}-\d{2}-\d{4}'\) was not saved: Copying into .* failed/);
      let state = await azure.state();
      assert.deepEqual(blobNames(state), [`Win2016_Datacenter-${stamp()}.vhd`]);
      assert.deepEqual(state.diskGrants, []);
      assert.equal(run.outputs.SavedImageNames, `Win2016_Datacenter-${stamp()}`);
      assert.match(run.summary ?? '', /\| ubuntu-1804 \| .*❌ failed: \[IF2007\]/);

      const again = await runSnapTask(azure.env, inputs);
      assert.equal(again.result, 'Succeeded', again.stdout);
      assert.equal(again.outputs.SavedImageNames, `Linux_Ubuntu-${stamp()}`);
      state = await azure.state();
      assert.deepEqual(blobNames(state), [`Linux_Ubuntu-${stamp()}.vhd`, `Win2016_Datacenter-${stamp()}.vhd`]);
      assert.equal(imageOf(state, `Linux_Ubuntu-${stamp()}.vhd`).sourceDiskId, diskIdOf(state, 'ubuntu-1804'));
      assert.deepEqual(state.diskGrants, []);
    });

    it('shows bytes copied of the total and a percent, each line only when it changes', async () => {
      await start(256);
      const run = await runSnapTask(azure.env, inputs);
      assert.equal(run.result, 'Succeeded', run.stdout);
      const steps = loggingCommands(run.stdout)
        .filter((c) => c.command === 'task.setprogress')
        .map((c) => ({ value: Number(c.properties.value), activity: c.data }));
      assert.ok(steps.length >= 3, JSON.stringify(steps));
      for (const [i, step] of steps.entries()) {
        const match = /^Copying OS disks into the image store: ([0-9.]+ [KMG]?i?B) of ([0-9.]+ [KMG]?i?B) copied \((\d+) %\)$/.exec(step.activity);
        assert.ok(match, `progress line ${step.activity}`);
        assert.equal(Number(match[3]), step.value, 'the line says the percent it sets');
        if (i > 0) assert.notEqual(step.activity, steps[i - 1].activity, `line ${i} repeats the one before: ${JSON.stringify(steps)}`);
      }
      assert.ok(steps.some((s) => s.value > 0 && s.value < 100 && !s.activity.startsWith('Copying OS disks into the image store: 0 B')), JSON.stringify(steps));
      assert.equal(steps[steps.length - 1].activity, 'Copying OS disks into the image store: 2.0 GiB of 2.0 GiB copied (100 %)');
    });

    it('on SIGINT mid-copy aborts the copies, revokes access, deletes partial VHDs and ends Cancelled within 7 s', async () => {
      await start(256);
      const task = startSnapTask(azure.env, inputs);
      const pending = await waitFor(async () => {
        const state = await azure.state();
        return factory(state).blobs.some((b) => b.copyStatus === 'pending') && state.diskGrants.length > 0 ? state : undefined;
      }, 15_000);
      assert.ok(pending, 'a copy pending with its disk access granted');
      assert.ok(pending.diskGrants.length > 0);
      const signalledAt = Date.now();
      task.child.kill('SIGINT');
      const run = await task.done;
      const elapsed = Date.now() - signalledAt;
      assert.ok(elapsed < 7_000, `ended ${elapsed} ms after SIGINT`);
      assert.equal(run.result, 'Cancelled', run.stdout + run.stderr);
      const state = await azure.state();
      assert.deepEqual(blobNames(state), [], 'no partial VHD');
      assert.deepEqual(state.diskGrants, [], 'no disk access left');
      assert.deepEqual(issues(run, 'error'), []);
      assert.match(run.summary ?? '', /\| win2016-dc \| .* \| ⏹️ cancelled: stopped before it was saved \|/);
    });

    it('after a kill mid-copy, the next run follows the copy to its end instead of starting over', async () => {
      await start(256);
      const task = startSnapTask(azure.env, { ...inputs, maxConcurrentJobs: '1' });
      await waitFor(async () => (factory(await azure.state()).blobs.some((b) => b.copyStatus === 'pending') ? true : undefined), 15_000);
      task.child.kill('SIGKILL');
      await task.done;
      const killed = await azure.state();
      const pending = factory(killed).blobs.filter((b) => b.copyStatus === 'pending');
      assert.equal(pending.length, 1, 'the kill left one copy pending');
      assert.equal(killed.diskGrants.length, 1, 'and its disk access granted');

      await azure.resetMetrics();
      const run = await runSnapTask(azure.env, inputs);
      assert.equal(run.result, 'Succeeded', run.stdout);
      assert.ok(run.lines.some((l) => l.includes(`resume  VM`) && l.includes(pending[0].name)), run.lines.join('\n'));
      const state = await azure.state();
      assert.deepEqual(blobNames(state), [`Linux_Ubuntu-${stamp()}.vhd`, `Win2016_Datacenter-${stamp()}.vhd`]);
      for (const name of blobNames(state)) assert.ok(imageOf(state, name));
      assert.deepEqual(state.diskGrants, []);
      const metrics = await azure.metrics();
      assert.equal(metrics.byOperation.Blob_StartCopy ?? 0, 1, `one new copy, for the VM the killed run had not reached: ${JSON.stringify(metrics.byOperation)}`);
    });
  });
});
