import * as assert from 'node:assert/strict';
import { type CleanupVm, formatCleanupPlan, planCleanup, type SavedImage } from '../../core/cleanup/plan';

const LAB = "lab 'Factory' (subscription s1)";
const VM_ID = (name: string) => `/subscriptions/s1/resourcegroups/rg/providers/microsoft.devtestlab/labs/factory/virtualmachines/${name}`;
const DISK_ID = (name: string) => `/subscriptions/s1/resourceGroups/Factory-rg/providers/Microsoft.Compute/disks/${name}_OsDisk_1_abc`;

function vm(name: string, tags: Record<string, string> | undefined, provisioningState = 'Succeeded', extra: Partial<CleanupVm> = {}): CleanupVm {
  return { name, id: VM_ID(name), tags, provisioningState, osDiskId: DISK_ID(name), createdDate: '2026-11-20T00:00:00Z', ...extra };
}

function saved(vmName: string, extra: Partial<SavedImage> = {}): SavedImage {
  return { imageName: `${vmName}-Nov-24-2026`, sourceVmId: VM_ID(vmName), sourceDiskId: DISK_ID(vmName), createdUtc: '2026-11-24T10:00:00Z', ...extra };
}

const decisionsOf = (plan: ReturnType<typeof planCleanup>) => plan.decisions.map((d) => [d.vm.name, d.action, d.reason]);

describe('planCleanup', () => {
  it('deletes an ImagePath VM whose OS disk the store holds, matching ids without case', () => {
    const plan = planCleanup({
      labLabel: LAB,
      vms: [vm('Win2016', { ImagePath: 'Win2016/Datacenter.json' })],
      savedImages: [saved('Win2016', { sourceDiskId: DISK_ID('Win2016').toUpperCase() })],
    });
    assert.deepEqual(decisionsOf(plan), [['Win2016', 'delete', 'snapped']]);
    assert.equal(plan.deletions.length, 1);
    assert.equal(plan.deletions[0].issue, undefined);
    assert.match(plan.deletions[0].detail, /Win2016-Nov-24-2026/);
  });

  it('keeps an ImagePath VM the store holds no image of, with warning IF5005', () => {
    const plan = planCleanup({ labLabel: LAB, vms: [vm('Ubuntu', { ImagePath: 'Linux/Ubuntu.json' })], savedImages: [saved('Other')] });
    assert.deepEqual(decisionsOf(plan), [['Ubuntu', 'keep', 'not-snapped']]);
    const issue = plan.decisions[0].issue!;
    assert.equal(issue.severity, 'warning');
    assert.equal(issue.code, 'IF5005');
    assert.match(issue.message, /^VM 'Ubuntu' \(ImagePath 'Linux\/Ubuntu.json'\) in lab 'Factory' \(subscription s1\) has no image/);
  });

  it('does not take an image of an earlier VM of the same name for the image of a recreated one', () => {
    // Same VM id (same name), but the image came from last week's disk.
    const plan = planCleanup({
      labLabel: LAB,
      vms: [vm('Win2016', { ImagePath: 'Win2016/Datacenter.json' }, 'Succeeded', { osDiskId: DISK_ID('Win2016-new') })],
      savedImages: [saved('Win2016')],
    });
    assert.deepEqual(decisionsOf(plan), [['Win2016', 'keep', 'not-snapped']]);
  });

  it('without the OS disk, matches the VM id with an image saved after the VM was created', () => {
    const noDisk = (name: string, created: string) => vm(name, { ImagePath: 'Linux/Ubuntu.json' }, 'Succeeded', { osDiskId: undefined, createdDate: created });
    const plan = planCleanup({
      labLabel: LAB,
      vms: [noDisk('Fresh', '2026-11-23T00:00:00Z'), noDisk('Recreated', '2026-11-25T00:00:00Z'), noDisk('NoDate', '')],
      savedImages: [saved('Fresh'), saved('Recreated'), saved('NoDate')],
    });
    assert.deepEqual(decisionsOf(plan), [
      ['Fresh', 'delete', 'snapped'],
      ['NoDate', 'keep', 'not-snapped'],
      ['Recreated', 'keep', 'not-snapped'],
    ]);
  });

  it('deletes a VM whose provisioning failed, tagged or not, and reports each as error IF5003', () => {
    const plan = planCleanup({
      labLabel: LAB,
      vms: [vm('Broken', undefined, 'Failed'), vm('BrokenTagged', { ImagePath: 'Linux/Ubuntu.json' }, 'failed')],
      savedImages: [],
    });
    assert.deepEqual(decisionsOf(plan), [
      ['Broken', 'delete', 'provisioning-failed'],
      ['BrokenTagged', 'delete', 'provisioning-failed'],
    ]);
    assert.deepEqual(plan.deletions.map((d) => [d.issue?.severity, d.issue?.code]), [['error', 'IF5003'], ['error', 'IF5003']]);
    assert.match(plan.deletions[0].issue!.message, /VM 'Broken' in lab 'Factory'.*failed provisioning/);
    assert.ok(plan.deletions[0].issue!.fix);
  });

  it('leaves VMs tagged FactoryIgnore alone whatever their state or other tags, the tag name in any casing', () => {
    const plan = planCleanup({
      labLabel: LAB,
      vms: [
        vm('Jumpbox', { FactoryIgnore: '' }),
        vm('Dc', { factoryignore: 'true', ImagePath: 'Win2016/Datacenter.json' }),
        vm('Odd', { FACTORYIGNORE: 'x' }, 'Failed'),
        vm('Going', { FactoryIgnore: '' }, 'Deleting'),
      ],
      savedImages: [saved('Dc')],
    });
    assert.ok(plan.decisions.every((d) => d.action === 'keep' && d.reason === 'ignored' && !d.issue), JSON.stringify(plan.decisions));
    assert.equal(plan.deletions.length, 0);
  });

  it('leaves VMs still being created alone, with no complaint about their tags', () => {
    const plan = planCleanup({ labLabel: LAB, vms: [vm('New', undefined, 'Creating'), vm('NewTagged', { ImagePath: 'x.json' }, 'Creating')], savedImages: [saved('NewTagged')] });
    assert.deepEqual(decisionsOf(plan), [
      ['New', 'keep', 'in-progress'],
      ['NewTagged', 'keep', 'in-progress'],
    ]);
    assert.ok(plan.decisions.every((d) => !d.issue));
  });

  it('keeps a settled VM with neither tag and reports error IF5004 asking for the FactoryIgnore tag', () => {
    const plan = planCleanup({ labLabel: LAB, vms: [vm('Mystery', { Owner: 'someone' })], savedImages: [] });
    assert.deepEqual(decisionsOf(plan), [['Mystery', 'keep', 'not-tagged']]);
    const issue = plan.decisions[0].issue!;
    assert.equal(issue.code, 'IF5004');
    assert.equal(issue.severity, 'error');
    assert.match(issue.message, /VM 'Mystery'/);
    assert.match(issue.fix!, /add the FactoryIgnore tag if it belongs here/i);
  });

  it('reads the ImagePath tag in any casing', () => {
    const plan = planCleanup({ labLabel: LAB, vms: [vm('W', { imagepath: 'Win2016/Datacenter.json' })], savedImages: [saved('W')] });
    assert.deepEqual(decisionsOf(plan), [['W', 'delete', 'snapped']]);
  });

  it('finishes deletions already under way and leaves other unsettled VMs alone', () => {
    const plan = planCleanup({
      labLabel: LAB,
      vms: [vm('Going', { ImagePath: 'x.json' }, 'Deleting'), vm('Busy', undefined, 'Updating'), vm('Unknown', undefined, undefined, { provisioningState: undefined })],
      savedImages: [],
    });
    assert.deepEqual(decisionsOf(plan), [
      ['Busy', 'keep', 'unsettled'],
      ['Going', 'delete', 'being-deleted'],
      ['Unknown', 'keep', 'unsettled'],
    ]);
  });

  it('when the store could not be read, keeps ImagePath VMs but still deletes failed ones', () => {
    const plan = planCleanup({ labLabel: LAB, vms: [vm('W', { ImagePath: 'x.json' }), vm('F', undefined, 'Failed')] });
    assert.deepEqual(decisionsOf(plan), [
      ['F', 'delete', 'provisioning-failed'],
      ['W', 'keep', 'store-unreadable'],
    ]);
  });

  it('prints every VM with what happens to it, in name order', () => {
    const plan = planCleanup({ labLabel: LAB, vms: [vm('b', { ImagePath: 'x.json' }), vm('A', { FactoryIgnore: '' })], savedImages: [saved('b')] });
    assert.deepEqual(formatCleanupPlan(plan), [
      "Clean-up plan for lab 'Factory' (subscription s1): 1 VM(s) to delete, 1 to keep.",
      '  keep   A: tagged FactoryIgnore',
      '  delete b: saved as image b-Nov-24-2026',
    ]);
  });
});
