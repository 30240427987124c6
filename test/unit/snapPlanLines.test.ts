import * as assert from 'node:assert/strict';
import type { FactoryImage } from '../../core/factoryImages';
import { describePublishPlan, type PublishPlan } from '../../core/gallery/publishPlan';
import { describeSnapPlan, type SnapPlan, type SnapVm } from '../../core/snap/plan';

/**
 * The plan SnapImagesFromVMs prints, every kind of action on both routes, line for line: people read
 * these lines before anything changes, and the two routes word what they share alike.
 */
const vm = (name: string, imagePath?: string): SnapVm => ({ name, id: `/labs/Factory/virtualmachines/${name}`, ...(imagePath ? { imagePath } : {}) });

const image = (imageName: string, hyperVGeneration: 'V1' | 'V2' = 'V1'): FactoryImage => ({
  imageName,
  imagePath: 'Win2016/Datacenter.json',
  description: '',
  osType: 'Windows',
  generalized: true,
  sourceVmId: '/labs/Factory/virtualmachines/a',
  sourceDiskId: '/disks/a',
  createdUtc: '2026-11-24T08:00:00.000Z',
  sizeBytes: 0,
  hyperVGeneration,
  securityType: 'Standard',
});

const skipped = (name: string) =>
  ({ kind: 'skip', vm: vm(name, 'W/x.json'), issue: { severity: 'warning', code: 'IF3001', message: `VM '${name}' is 'running', not deallocated.`, fix: 'Deallocate it.' } }) as const;
const ignored = (name: string) => ({ kind: 'ignore', vm: vm(name), reason: `VM '${name}' has no ImagePath tag; it is not a factory VM and is left alone.` }) as const;

describe('SnapImagesFromVMs plan lines', () => {
  it('VHD route: every kind of action, and the copies an earlier run left', () => {
    const plan: SnapPlan = {
      createdUtc: '2026-11-24T10:00:00.000Z',
      actions: [
        { kind: 'save', vm: vm('a', 'Win2016/Datacenter.json'), image: image('Win2016_Datacenter-Nov-24-2026'), diskId: '/disks/a' },
        {
          kind: 'save',
          vm: vm('b', 'Win2016/Datacenter.json'),
          image: image('Win2016_Datacenter-Nov-24-2026A', 'V2'),
          diskId: '/disks/b',
          nameNote: "'Win2016_Datacenter-Nov-24-2026' is already in the image store",
          replaces: { blobName: 'old-b.vhd', copyStatus: 'failed' },
        },
        { kind: 'resume', vm: vm('c', 'W/c.json'), image: image('W_c-Nov-24-2026'), diskId: '/disks/c', blobName: 'W_c-Nov-24-2026.vhd' },
        { kind: 'already-saved', vm: vm('d', 'W/d.json'), image: { ...image('W_d-Nov-20-2026'), blobName: 'W_d-Nov-20-2026.vhd', blobUrl: 'https://s/u/W_d-Nov-20-2026.vhd' } },
        skipped('e'),
        ignored('f'),
      ],
      discard: [{ blobName: 'old-b.vhd', copyStatus: 'failed' }],
      foreignPending: [{ blobName: 'other.vhd', copyStatus: 'pending' }],
    };
    assert.deepEqual(describeSnapPlan(plan), [
      'Plan: save 2 VM(s), resume 1 copy(ies), 1 already saved, 1 skipped, 1 not tagged.',
      "  save    VM 'a' (ImagePath 'Win2016/Datacenter.json', Windows, Generation 1) as image 'Win2016_Datacenter-Nov-24-2026'",
      "  save    VM 'b' (ImagePath 'Win2016/Datacenter.json', Windows, Generation 2) as image 'Win2016_Datacenter-Nov-24-2026A', replacing the failed copy 'old-b.vhd' ('Win2016_Datacenter-Nov-24-2026' is already in the image store)",
      "  resume  VM 'c': follow the copy into 'W_c-Nov-24-2026.vhd' that an earlier run started",
      "  done    VM 'd': its OS disk is already saved as image 'W_d-Nov-20-2026'",
      "  skip    [IF3001] VM 'e' is 'running', not deallocated.",
      "  ignore  VM 'f' has no ImagePath tag; it is not a factory VM and is left alone.",
      "  delete  'old-b.vhd': a failed copy an earlier run left behind",
      "  leave   'other.vhd': a copy in progress that no VM of this lab accounts for",
    ]);
  });

  it('gallery route: every kind of action, the gallery and a definition made first', () => {
    const definition = {
      name: 'Win11_Enterprise',
      identifier: { publisher: 'ImageFactory', offer: 'Win11', sku: 'Enterprise' },
      osType: 'Windows' as const,
      hyperVGeneration: 'V2',
      securityType: 'TrustedLaunch',
      imagePath: 'Win11/Enterprise.json',
    };
    const publish = { kind: 'publish' as const, definition, targetRegions: ['westus2', 'eastus'], tags: {}, computeVmId: '/vms/a', diskId: '/disks/a' };
    const plan: PublishPlan = {
      createdUtc: '2026-11-24T10:00:00.000Z',
      createGallery: true,
      actions: [
        { ...publish, vm: vm('a', 'Win11/Enterprise.json'), createDefinition: true, versionName: '2026.1124.1000' },
        { ...publish, vm: vm('b', 'Win11/Enterprise.json'), createDefinition: false, versionName: '2026.1124.1001', replaces: '2026.1120.900' },
        { kind: 'resume', vm: vm('c', 'Win11/Enterprise.json'), definitionName: 'Win11_Enterprise', versionName: '2026.1123.800' },
        { kind: 'already-published', vm: vm('d', 'Win11/Enterprise.json'), definitionName: 'Win11_Enterprise', versionName: '2026.1122.700', duplicates: ['2026.1122.701'] },
        skipped('e'),
        ignored('f'),
      ],
    };
    assert.deepEqual(describePublishPlan(plan, 'FactoryImages'), [
      "Plan (gallery route, gallery 'FactoryImages'): publish 2 VM(s), resume 1, 1 already published, 1 skipped, 1 not tagged.",
      "  create  gallery 'FactoryImages'",
      "  create  image definition 'Win11_Enterprise' (Windows, Hyper-V V2, security TrustedLaunch, ImageFactory/Win11/Enterprise)",
      "  publish VM 'a' (ImagePath 'Win11/Enterprise.json') as version 'Win11_Enterprise/2026.1124.1000' to westus2, eastus",
      "  publish VM 'b' (ImagePath 'Win11/Enterprise.json') as version 'Win11_Enterprise/2026.1124.1001' to westus2, eastus, replacing the failed version '2026.1120.900'",
      "  resume  VM 'c': follow version 'Win11_Enterprise/2026.1123.800' that an earlier run started",
      "  done    VM 'd': its disk is already version 'Win11_Enterprise/2026.1122.700'",
      "  delete  version 'Win11_Enterprise/2026.1122.701': a second version of the same disk, left by an interrupted run",
      "  skip    [IF3001] VM 'e' is 'running', not deallocated.",
      "  ignore  VM 'f' has no ImagePath tag; it is not a factory VM and is left alone.",
    ]);
  });

  it('without a gallery to make, no create line for it', () => {
    const plan: PublishPlan = { createdUtc: '2026-11-24T10:00:00.000Z', createGallery: false, actions: [ignored('f')] };
    assert.deepEqual(describePublishPlan(plan, 'FactoryImages'), [
      "Plan (gallery route, gallery 'FactoryImages'): publish 0 VM(s), resume 0, 0 already published, 0 skipped, 1 not tagged.",
      "  ignore  VM 'f' has no ImagePath tag; it is not a factory VM and is left alone.",
    ]);
  });
});
