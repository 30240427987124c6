import * as assert from 'node:assert/strict';
import type { LabVirtualMachine } from '@azure/arm-devtestlabs';
import { ErrorCodes } from '../../core/errors';
import type { FactoryImage } from '../../core/factoryImages';
import type { StoreListing, StoredImage } from '../../core/imageStore';
import { describeSnapPlan, planSnap, type SnapAction, vmFacts } from '../../core/snap/plan';

const now = new Date('2026-11-24T10:00:00Z');
const labId = '/subscriptions/sub1/resourcegroups/factoryrg/providers/microsoft.devtestlab/labs/Factory';
const diskId = (vm: string) => `/subscriptions/sub1/resourceGroups/Factory-${vm}-123/providers/Microsoft.Compute/disks/${vm}-osdisk`;

function vm(name: string, options: { imagePath?: string; power?: string; provisioning?: string; os?: string; disk?: string | null; notes?: string } = {}): LabVirtualMachine {
  return {
    id: `${labId}/virtualmachines/${name}`,
    name,
    tags: options.imagePath === undefined ? { owner: 'team' } : { ImagePath: options.imagePath },
    osType: options.os ?? 'Windows',
    notes: options.notes,
    provisioningState: options.provisioning ?? 'Succeeded',
    computeVm: {
      statuses: [{ code: 'ProvisioningState/succeeded' }, { code: `PowerState/${options.power ?? 'deallocated'}` }],
      osType: options.os ?? 'Windows',
      ...(options.disk === null ? {} : { osDiskId: options.disk ?? diskId(name) }),
    },
  };
}

function stored(imageName: string, vmName: string, imagePath = 'Win2016/Datacenter.json'): StoredImage {
  return { ...image(imageName, vmName, imagePath), blobName: `${imageName}.vhd`, blobUrl: `https://factory.blob/uploads/${imageName}.vhd` };
}

function image(imageName: string, vmName: string, imagePath = 'Win2016/Datacenter.json'): FactoryImage {
  return {
    imageName,
    imagePath,
    description: '',
    osType: 'Windows',
    generalized: true,
    sourceVmId: `${labId}/virtualmachines/${vmName}`,
    sourceDiskId: diskId(vmName),
    createdUtc: '2026-11-24T08:00:00.000Z',
    sizeBytes: 1024,
    hyperVGeneration: 'V1',
    securityType: 'Standard',
  };
}

const emptyStore = (): StoreListing => ({ images: [], incomplete: [], otherBlobs: 0, otherBlobNames: [] });
const byVm = (actions: SnapAction[], name: string) => actions.find((a) => a.vm.name === name)!;

describe('snap plan', () => {
  it('saves a tagged, deallocated VM with the metadata the other stages need', () => {
    const plan = planSnap([vm('win2016', { imagePath: 'Win2016\\Datacenter.json', notes: 'Golden DC' })], emptyStore(), now);
    assert.deepEqual(plan.actions, [
      {
        kind: 'save',
        vm: { name: 'win2016', id: `${labId}/virtualmachines/win2016`, imagePath: 'Win2016\\Datacenter.json' },
        diskId: diskId('win2016'),
        image: {
          imageName: 'Win2016_Datacenter-Nov-24-2026',
          imagePath: 'Win2016/Datacenter.json',
          description: 'Golden DC',
          osType: 'Windows',
          generalized: true,
          sourceVmId: `${labId}/virtualmachines/win2016`,
          sourceDiskId: diskId('win2016'),
          createdUtc: '2026-11-24T10:00:00.000Z',
          sizeBytes: 0,
          hyperVGeneration: 'V1',
          securityType: 'Standard',
        },
      },
    ]);
    assert.deepEqual(plan.discard, []);
  });

  it('saves Linux VMs as Linux, whatever the case Azure answers in', () => {
    const action = planSnap([vm('ubuntu', { imagePath: 'Linux/Ubuntu 22.04.json', os: 'linux' })], emptyStore(), now).actions[0];
    assert.equal(action.kind, 'save');
    assert.equal(action.kind === 'save' && action.image.osType, 'Linux');
    assert.equal(action.kind === 'save' && action.image.imageName, 'Linux_Ubuntu-22_04-Nov-24-2026');
  });

  it('skips a tagged VM that is not deallocated with a warning naming it and its power state', () => {
    for (const power of ['running', 'stopped', 'starting', 'deallocating']) {
      const action = planSnap([vm('win', { imagePath: 'W/x.json', power })], emptyStore(), now).actions[0];
      assert.equal(action.kind, 'skip');
      if (action.kind !== 'skip') return;
      assert.equal(action.issue.severity, 'warning');
      assert.equal(action.issue.code, ErrorCodes.VmNotDeallocated);
      assert.match(action.issue.message, new RegExp(`VM 'win' .*'${power}', not deallocated`));
      assert.ok(action.issue.fix);
    }
  });

  it('skips a VM whose power state the lab does not report, and falls back on the last known state', () => {
    const unknown: LabVirtualMachine = { ...vm('win', { imagePath: 'W/x.json' }), computeVm: { osDiskId: diskId('win') } };
    const action = planSnap([unknown], emptyStore(), now).actions[0];
    assert.equal(action.kind === 'skip' && action.issue.code, ErrorCodes.VmNotDeallocated);
    assert.match(action.kind === 'skip' ? action.issue.message : '', /unknown power state/);
    assert.equal(vmFacts({ ...unknown, lastKnownPowerState: 'Deallocated' } as LabVirtualMachine).powerState, 'deallocated');
  });

  it('skips tagged VMs that failed to provision or are still being created', () => {
    const plan = planSnap(
      [vm('broken', { imagePath: 'W/x.json', provisioning: 'Failed' }), vm('new', { imagePath: 'W/y.json', provisioning: 'Creating', power: 'running' })],
      emptyStore(),
      now,
    );
    const broken = byVm(plan.actions, 'broken');
    const creating = byVm(plan.actions, 'new');
    assert.ok(broken.kind === 'skip' && creating.kind === 'skip');
    assert.equal(broken.issue.code, ErrorCodes.VmNotProvisioned);
    assert.equal(broken.issue.severity, 'warning');
    assert.match(broken.issue.message, /'broken'.*failed to provision/);
    assert.match(creating.issue.message, /'new'.*not provisioned yet.*'Creating'/);
  });

  it('ignores untagged VMs with an info line, whatever their state', () => {
    const plan = planSnap([vm('dev-box', { power: 'running' }), vm('old', { provisioning: 'Failed' })], emptyStore(), now);
    assert.deepEqual(
      plan.actions.map((a) => [a.kind, a.vm.name]),
      [['ignore', 'dev-box'], ['ignore', 'old']],
    );
    assert.match(plan.actions[0].kind === 'ignore' ? plan.actions[0].reason : '', /'dev-box' has no ImagePath tag/);
  });

  it('reads the ImagePath tag whatever the case of its name', () => {
    const tagged = vm('x');
    tagged.tags = { imagepath: 'W/x.json' };
    assert.equal(planSnap([tagged], emptyStore(), now).actions[0].kind, 'save');
  });

  it('fails a VM whose ImagePath cannot name an image, or that has no managed OS disk, and saves the rest', () => {
    const plan = planSnap(
      [
        vm('abs', { imagePath: 'C:\\x.json' }),
        vm('blank', { imagePath: '' }),
        vm('nodisk', { imagePath: 'W/a.json', disk: null }),
        vm('classic', { imagePath: 'W/b.json', disk: 'https://acct.blob.core.windows.net/vhds/osdisk.vhd' }),
        vm('fine', { imagePath: 'W/c.json' }),
      ],
      emptyStore(),
      now,
    );
    const codes = Object.fromEntries(plan.actions.map((a) => [a.vm.name, a.kind === 'skip' ? `${a.issue.severity}:${a.issue.code}` : a.kind]));
    assert.deepEqual(codes, {
      abs: `error:${ErrorCodes.ImageNameInvalid}`,
      blank: `error:${ErrorCodes.ImageNameInvalid}`,
      nodisk: `error:${ErrorCodes.VmHasNoOsDisk}`,
      classic: `error:${ErrorCodes.VmHasNoOsDisk}`,
      fine: 'save',
    });
    const classic = byVm(plan.actions, 'classic');
    assert.match(classic.kind === 'skip' ? classic.issue.message : '', /osdisk\.vhd.*not a managed disk/);
  });

  it('appends a letter when an image of that name was saved earlier the same day, and between VMs of one run', () => {
    const store = emptyStore();
    store.images.push(stored('Win2016_Datacenter-Nov-24-2026', 'earlier-vm'));
    const plan = planSnap(
      [vm('dc-b', { imagePath: 'Win2016/Datacenter.json' }), vm('dc-a', { imagePath: 'win2016\\datacenter.json' })],
      store,
      now,
    );
    const names = plan.actions.map((a) => [a.vm.name, a.kind === 'save' ? a.image.imageName : a.kind]);
    assert.deepEqual(names, [
      ['dc-a', 'win2016_datacenter-Nov-24-2026A'],
      ['dc-b', 'Win2016_Datacenter-Nov-24-2026B'],
    ]);
    const first = plan.actions[0];
    assert.match(first.kind === 'save' ? first.nameNote ?? '' : '', /already in the image store/);
  });

  it('never takes the name of a blob that is not the factory\'s', () => {
    const store = emptyStore();
    store.otherBlobNames.push('Win2016_Datacenter-Nov-24-2026.vhd', 'Win2016_Datacenter-Nov-24-2026A.txt');
    store.otherBlobs = 2;
    const action = planSnap([vm('dc', { imagePath: 'Win2016/Datacenter.json' })], store, now).actions[0];
    assert.equal(action.kind === 'save' && action.image.imageName, 'Win2016_Datacenter-Nov-24-2026A');
  });

  it('does not save a disk the store already holds', () => {
    const store = emptyStore();
    store.images.push(stored('Win2016_Datacenter-Nov-23-2026', 'win2016'));
    const plan = planSnap([vm('win2016', { imagePath: 'Win2016/Datacenter.json', power: 'running' })], store, now);
    assert.equal(plan.actions[0].kind, 'already-saved');
    assert.equal(plan.actions[0].kind === 'already-saved' && plan.actions[0].image.imageName, 'Win2016_Datacenter-Nov-23-2026');
  });

  it('follows a copy of the disk that an interrupted run left pending, under its name', () => {
    const store = emptyStore();
    store.incomplete.push({ blobName: 'Win2016_Datacenter-Nov-24-2026.vhd', copyStatus: 'pending', image: image('Win2016_Datacenter-Nov-24-2026', 'win2016') });
    const plan = planSnap([vm('win2016', { imagePath: 'Win2016/Datacenter.json' }), vm('other', { imagePath: 'Win2016/Datacenter.json' })], store, now);
    const resume = byVm(plan.actions, 'win2016');
    assert.equal(resume.kind, 'resume');
    assert.equal(resume.kind === 'resume' && resume.blobName, 'Win2016_Datacenter-Nov-24-2026.vhd');
    // The pending copy holds its name: another VM of the same template takes the next letter.
    const other = byVm(plan.actions, 'other');
    assert.equal(other.kind === 'save' && other.image.imageName, 'Win2016_Datacenter-Nov-24-2026A');
    assert.deepEqual(plan.discard, []);
  });

  it('redoes a copy of the disk that an earlier run left failed or aborted, deleting it first', () => {
    for (const copyStatus of ['failed', 'aborted'] as const) {
      const store = emptyStore();
      const failed = { blobName: 'Win2016_Datacenter-Nov-24-2026.vhd', copyStatus, image: image('Win2016_Datacenter-Nov-24-2026', 'win2016') };
      store.incomplete.push(failed);
      const plan = planSnap([vm('win2016', { imagePath: 'Win2016/Datacenter.json' })], store, now);
      const action = plan.actions[0];
      assert.equal(action.kind, 'save');
      if (action.kind !== 'save') return;
      assert.equal(action.replaces, failed);
      assert.equal(action.image.imageName, 'Win2016_Datacenter-Nov-24-2026', 'the failed copy gives its name back');
      assert.deepEqual(plan.discard, [failed], 'deleted before any copy starts');
    }
  });

  it('deletes every failed copy before saving, also one whose name goes to another VM', () => {
    const store = emptyStore();
    const failed = { blobName: 'Win2016_Datacenter-Nov-24-2026.vhd', copyStatus: 'failed' as const, image: image('Win2016_Datacenter-Nov-24-2026', 'dc-b') };
    store.incomplete.push(failed);
    const plan = planSnap([vm('dc-a', { imagePath: 'Win2016/Datacenter.json' }), vm('dc-b', { imagePath: 'Win2016/Datacenter.json' })], store, now);
    const names = plan.actions.map((a) => (a.kind === 'save' ? `${a.vm.name}:${a.image.imageName}:${a.replaces?.blobName ?? ''}` : a.kind));
    assert.deepEqual(names, ['dc-a:Win2016_Datacenter-Nov-24-2026:', 'dc-b:Win2016_Datacenter-Nov-24-2026A:Win2016_Datacenter-Nov-24-2026.vhd']);
    assert.deepEqual(plan.discard, [failed]);
  });

  it('deletes failed copies no VM redoes, and leaves pending copies of unknown disks alone', () => {
    const store = emptyStore();
    const gone = { blobName: 'gone.vhd', copyStatus: 'failed' as const, image: image('gone', 'deleted-vm') };
    const running = { blobName: 'running.vhd', copyStatus: 'aborted' as const, image: image('running', 'busy') };
    const elsewhere = { blobName: 'elsewhere.vhd', copyStatus: 'pending' as const, image: image('elsewhere', 'other-lab-vm') };
    store.incomplete.push(gone, running, elsewhere);
    const plan = planSnap([vm('busy', { imagePath: 'W/x.json', power: 'running' })], store, now);
    assert.equal(plan.actions[0].kind, 'skip');
    assert.deepEqual(plan.discard, [gone, running]);
    assert.deepEqual(plan.foreignPending, [elsewhere]);
  });

  it('plans every kind of VM at once, in name order, and prints each', () => {
    const store = emptyStore();
    store.images.push(stored('Win2016_Datacenter-Nov-24-2026', 'earlier'));
    store.images.push(stored('Linux_Ubuntu-Nov-20-2026', 'ubuntu-old', 'Linux/Ubuntu.json'));
    const plan = planSnap(
      [
        vm('win-dc', { imagePath: 'Win2016\\Datacenter.json' }),
        vm('ubuntu', { imagePath: 'Linux/Ubuntu.json', os: 'Linux' }),
        vm('ubuntu-old', { imagePath: 'Linux/Ubuntu.json', os: 'Linux' }),
        vm('win10', { imagePath: 'Win10/Pro.json', power: 'running' }),
        vm('broken', { imagePath: 'Win10/Ent.json', provisioning: 'Failed' }),
        vm('jumpbox'),
      ],
      store,
      now,
    );
    assert.deepEqual(
      plan.actions.map((a) => `${a.kind}:${a.vm.name}`),
      ['skip:broken', 'ignore:jumpbox', 'save:ubuntu', 'already-saved:ubuntu-old', 'save:win-dc', 'skip:win10'],
    );
    const lines = describeSnapPlan(plan);
    assert.match(lines[0], /save 2 VM\(s\), resume 0 copy\(ies\), 1 already saved, 2 skipped, 1 not tagged/);
    assert.ok(lines.some((l) => /save +VM 'win-dc' .*as image 'Win2016_Datacenter-Nov-24-2026A'.*already in the image store/.test(l)));
    assert.ok(lines.some((l) => /save +VM 'ubuntu' .*Linux.*'Linux_Ubuntu-Nov-24-2026'/.test(l)));
    assert.ok(lines.some((l) => /done +VM 'ubuntu-old'.*'Linux_Ubuntu-Nov-20-2026'/.test(l)));
    assert.ok(lines.some((l) => /skip +\[IF3001\] VM 'win10' .*'running'/.test(l)));
    assert.ok(lines.some((l) => /ignore +VM 'jumpbox'/.test(l)));
  });

  it('is a pure function of its inputs', () => {
    const vms = [vm('a', { imagePath: 'W/x.json' }), vm('b', { imagePath: 'W/x.json' })];
    const store = emptyStore();
    const before = JSON.stringify({ vms, store });
    assert.deepEqual(planSnap(vms, store, now), planSnap([...vms].reverse(), store, now));
    assert.equal(JSON.stringify({ vms, store }), before);
  });

  it('refuses a Generation 2 or Trusted Launch VM with the VHD route codes, whatever its power state, and saves the Generation 1 VM', () => {
    const vms = [vm('gen1', { imagePath: 'Win/Gen1.json' }), vm('gen2', { imagePath: 'Win/Gen2.json', power: 'running' }), vm('trusted', { imagePath: 'Linux/TL.json', os: 'Linux' })];
    const osDisks = new Map([
      [diskId('gen1').toLowerCase(), { hyperVGeneration: 'V1' as const, securityType: 'Standard' as const }],
      [diskId('gen2').toLowerCase(), { hyperVGeneration: 'V2' as const, securityType: 'Standard' as const }],
      [diskId('trusted').toLowerCase(), { hyperVGeneration: 'V2' as const, securityType: 'TrustedLaunch' as const }],
    ]);
    const plan = planSnap(vms, { images: [], incomplete: [], otherBlobs: 0, otherBlobNames: [] }, now, osDisks);
    const byVm = new Map(plan.actions.map((a) => [a.vm.name, a]));
    const saved = byVm.get('gen1')!;
    assert.equal(saved.kind, 'save');
    assert.equal((saved as Extract<SnapAction, { kind: 'save' }>).image.hyperVGeneration, 'V1');
    for (const [name, code] of [['gen2', ErrorCodes.VhdRouteGeneration2], ['trusted', ErrorCodes.VhdRouteTrustedLaunch]] as const) {
      const action = byVm.get(name)!;
      assert.equal(action.kind, 'skip');
      const issue = (action as Extract<SnapAction, { kind: 'skip' }>).issue;
      assert.equal(issue.code, code);
      assert.equal(issue.severity, 'error');
      assert.match(issue.fix ?? '', /Azure Compute Gallery route/);
    }
  });
});
