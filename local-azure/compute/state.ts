import { MarketplaceVersions } from './marketplaceVersions';
import type { ScenarioMarketplaceSku } from '../scenario';
import { same, stableGuid, stableHex } from '../ids';
import { imageGeneration, type HyperVGeneration, type MarketplaceImage, platformImageId, type SecurityType } from './marketplace';

/**
 * The Compute slice of the local Azure's state: virtual machines and their managed OS disks, with the
 * disks' read SAS grants. DevTest Labs creates them for its lab VMs (see devTestLabs/state.ts); a VM
 * it keeps links back to its lab.
 */

export type PowerState = 'deallocated' | 'stopped' | 'running' | 'starting' | 'deallocating' | 'stopping';
export const POWER_STATES: readonly PowerState[] = ['deallocated', 'stopped', 'running', 'starting', 'deallocating', 'stopping'];
export type OsType = 'Windows' | 'Linux';

/**
 * What a VM is made from: a marketplace image, or an image (a managed image behind a DevTest Labs
 * custom image) whose generation was fixed when it was made. `bootGeneration` is what the OS on the
 * image's disk boots with; an image of a Generation 2 disk registered as Generation 1 (every custom
 * image made from a VHD) gives VMs whose firmware cannot boot that OS.
 */
export type VmSource =
  | { kind: 'marketplace'; image: MarketplaceImage }
  | { kind: 'image'; imageId: string; hyperVGeneration: HyperVGeneration; bootGeneration: HyperVGeneration };

export interface DiskGrant {
  expiresAt: number;
}

export interface Disk {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  uniqueId: string;
  osType: OsType;
  sizeGB: number;
  createdDate: string;
  /** Compute's `hyperVGeneration`: the VM generation the disk is registered for. */
  hyperVGeneration: HyperVGeneration;
  /** What the OS on the disk boots with (written into the disk's first page, so a VHD copy carries it). */
  bootGeneration: HyperVGeneration;
  securityType: SecurityType;
  /** `creationData.imageReference.id`: the platform image version or image the disk was made from. */
  sourceImageId: string;
  /** The VM the disk is attached to (Compute's `managedBy`). */
  managedBy?: VirtualMachine;
  /** A read SAS from Disks_GrantAccess, until revoked (or expired). */
  grant?: DiskGrant;
}

export interface VirtualMachine {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** Compute's `vmId`. */
  vmId: string;
  osType: OsType;
  size: string;
  source: VmSource;
  hyperVGeneration: HyperVGeneration;
  securityType: SecurityType;
  powerState: PowerState;
  provisioningState: string;
  createdDate: string;
  osDisk: Disk;
  /** Data disks by LUN, each a managed disk of the VM's resource group. */
  dataDisks: DataDisk[];
  /** The DevTest Labs lab that keeps the VM: a principal that may not read the lab may not read its VMs' compute resources either. */
  lab?: { readonly name: string; readonly denyAccess: boolean };
}

export interface DataDisk {
  lun: number;
  disk: Disk;
}

export interface NewVirtualMachine extends Omit<VirtualMachine, 'vmId' | 'osDisk' | 'dataDisks' | 'hyperVGeneration' | 'securityType'> {
  /** Default `Standard`. */
  securityType?: SecurityType;
  diskSizeGB: number;
  /** Data disks to make with the VM: their LUNs and sizes. */
  dataDisks?: readonly { lun: number; diskSizeGB: number }[];
  /** Seeds the VM's and its disk's ids, so the same scenario gives the same ids on every start. */
  seed: string;
}

export class ComputeState {
  readonly virtualMachines: VirtualMachine[] = [];
  readonly marketplace: MarketplaceVersions;

  constructor(marketplace?: readonly ScenarioMarketplaceSku[]) {
    this.marketplace = new MarketplaceVersions(marketplace);
  }

  /** A VM with its OS disk, named as Compute names a VM's OS disk: `<vm>_OsDisk_1_<32 hex digits>`. */
  createVirtualMachine(spec: NewVirtualMachine): VirtualMachine {
    const { diskSizeGB, seed, securityType = 'Standard', dataDisks = [], ...properties } = spec;
    const generation = vmGeneration(spec.source);
    const disk = (name: string, diskSeed: string, sizeGB: number): Disk => ({
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      name,
      location: spec.location,
      uniqueId: stableGuid(diskSeed),
      osType: spec.osType,
      sizeGB,
      createdDate: spec.createdDate,
      hyperVGeneration: generation.hyperVGeneration,
      bootGeneration: generation.bootGeneration,
      securityType,
      sourceImageId: spec.source.kind === 'marketplace' ? platformImageId(spec.subscriptionId, spec.location, spec.source.image) : spec.source.imageId,
    });
    const osDisk = disk(`${spec.name}_OsDisk_1_${stableHex(`disk:${seed}`, 32)}`, `disk:${seed}`, diskSizeGB);
    const vm: VirtualMachine = {
      ...properties,
      hyperVGeneration: generation.hyperVGeneration,
      securityType,
      vmId: stableGuid(`vmid:${seed}`),
      osDisk,
      // Compute names a data disk `<vm>_DataDisk_<lun>` (as a portal-made VM's).
      dataDisks: dataDisks.map(({ lun, diskSizeGB: size }) => ({ lun, disk: disk(`${spec.name}_DataDisk_${lun}`, `datadisk:${seed}/${lun}`, size) })),
    };
    for (const attached of [osDisk, ...vm.dataDisks.map((d) => d.disk)]) attached.managedBy = vm;
    this.virtualMachines.push(vm);
    return vm;
  }

  /** Deletes the VM and its OS disk. */
  deleteVirtualMachine(vm: VirtualMachine): void {
    const index = this.virtualMachines.indexOf(vm);
    if (index >= 0) this.virtualMachines.splice(index, 1);
  }

  /** Every managed disk: each VM's OS disk and its data disks. */
  disks(): Disk[] {
    return this.virtualMachines.flatMap((vm) => [vm.osDisk, ...vm.dataDisks.map((d) => d.disk)]);
  }

  findDiskById(id: string): Disk | undefined {
    return this.disks().find((disk) => same(diskId(disk), id));
  }

  findVirtualMachineById(id: string): VirtualMachine | undefined {
    return this.virtualMachines.find((vm) => same(computeVmId(vm), id));
  }

  findVirtualMachine(subscriptionId: string, resourceGroup: string, name: string): VirtualMachine | undefined {
    return this.virtualMachines.find((vm) => inGroup(vm, subscriptionId, resourceGroup) && same(vm.name, name));
  }

  findDisk(subscriptionId: string, resourceGroup: string, name: string): Disk | undefined {
    return this.disks().find((disk) => inGroup(disk, subscriptionId, resourceGroup) && same(disk.name, name));
  }

  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    return this.virtualMachines.some((vm) => inGroup(vm, subscriptionId, resourceGroup));
  }
}

function inGroup(resource: { subscriptionId: string; resourceGroup: string }, subscriptionId: string, resourceGroup: string): boolean {
  return same(resource.subscriptionId, subscriptionId) && same(resource.resourceGroup, resourceGroup);
}

/** A VM's generation and the generation its OS disk's OS boots with: the same, but for a mislabelled image. */
export function vmGeneration(source: VmSource): { hyperVGeneration: HyperVGeneration; bootGeneration: HyperVGeneration } {
  if (source.kind === 'image') return { hyperVGeneration: source.hyperVGeneration, bootGeneration: source.bootGeneration };
  const generation = imageGeneration(source.image);
  return { hyperVGeneration: generation, bootGeneration: generation };
}

/** Whether the VM's firmware can boot the OS on its disk: a Generation 1 VM cannot boot a UEFI (GPT) OS, nor the reverse. */
export function bootsItsOs(vm: VirtualMachine): boolean {
  return vm.osDisk.hyperVGeneration === vm.osDisk.bootGeneration;
}

/** Whether the disk has a read SAS that has not ended. */
export function diskGrantActive(disk: Disk): boolean {
  return !!disk.grant && disk.grant.expiresAt > Date.now();
}

export function computeVmId(vm: VirtualMachine): string {
  return `/subscriptions/${vm.subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;
}

export function diskId(disk: Disk): string {
  return `/subscriptions/${disk.subscriptionId}/resourceGroups/${disk.resourceGroup}/providers/Microsoft.Compute/disks/${disk.name}`;
}
