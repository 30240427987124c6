import { same, stableGuid, stableHex } from '../ids';

/**
 * The Compute slice of the local Azure's state: virtual machines and their managed OS disks, with the
 * disks' read SAS grants. DevTest Labs creates them for its lab VMs (see devTestLabs/state.ts); a VM
 * it keeps links back to its lab.
 */

export type PowerState = 'deallocated' | 'stopped' | 'running' | 'starting' | 'deallocating' | 'stopping';
export const POWER_STATES: readonly PowerState[] = ['deallocated', 'stopped', 'running', 'starting', 'deallocating', 'stopping'];
export type OsType = 'Windows' | 'Linux';
/** Hyper-V generation of a VM and its disks, as Compute names it. */
export type HyperVGeneration = 'V1' | 'V2';
export const HYPERV_GENERATIONS: readonly HyperVGeneration[] = ['V1', 'V2'];
/** A VM's `securityProfile.securityType`; `Standard` is a VM without one. */
export type SecurityType = 'Standard' | 'TrustedLaunch';
export const SECURITY_TYPES: readonly SecurityType[] = ['Standard', 'TrustedLaunch'];

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
  hyperVGeneration: HyperVGeneration;
  /** A Trusted Launch VM's disks carry its security type (`securityProfile.securityType`). */
  securityType: SecurityType;
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
  powerState: PowerState;
  provisioningState: string;
  createdDate: string;
  hyperVGeneration: HyperVGeneration;
  securityType: SecurityType;
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

export interface NewVirtualMachine extends Omit<VirtualMachine, 'vmId' | 'osDisk' | 'dataDisks'> {
  diskSizeGB: number;
  /** Data disks to make with the VM: their LUNs and sizes. */
  dataDisks?: readonly { lun: number; diskSizeGB: number }[];
  /** Seeds the VM's and its disk's ids, so the same scenario gives the same ids on every start. */
  seed: string;
}

export class ComputeState {
  readonly virtualMachines: VirtualMachine[] = [];

  /** A VM with its OS disk, named as Compute names a VM's OS disk: `<vm>_OsDisk_1_<32 hex digits>`. */
  createVirtualMachine(spec: NewVirtualMachine): VirtualMachine {
    const { diskSizeGB, seed, dataDisks = [], ...properties } = spec;
    const disk = (name: string, diskSeed: string, sizeGB: number): Disk => ({
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      name,
      location: spec.location,
      uniqueId: stableGuid(diskSeed),
      osType: spec.osType,
      sizeGB,
      createdDate: spec.createdDate,
      hyperVGeneration: spec.hyperVGeneration,
      securityType: spec.securityType,
    });
    const osDisk = disk(`${spec.name}_OsDisk_1_${stableHex(`disk:${seed}`, 32)}`, `disk:${seed}`, diskSizeGB);
    const vm: VirtualMachine = {
      ...properties,
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
