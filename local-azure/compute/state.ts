import { same, stableGuid, stableHex } from '../ids';

/**
 * The Compute slice of the local Azure's state: virtual machines and their managed OS disks, with the
 * disks' read SAS grants. DevTest Labs creates them for its lab VMs (see devTestLabs/state.ts); a VM
 * it keeps links back to its lab.
 */

export type PowerState = 'deallocated' | 'stopped' | 'running' | 'starting' | 'deallocating' | 'stopping';
export const POWER_STATES: readonly PowerState[] = ['deallocated', 'stopped', 'running', 'starting', 'deallocating', 'stopping'];
export type OsType = 'Windows' | 'Linux';

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
  /** The VM the disk is attached to (Compute's `managedBy`). */
  managedBy?: VirtualMachine;
  /** A read SAS from Disks_GrantAccess, until revoked (or expired). */
  grant?: DiskGrant;
  /** The VM generation the disk boots as; that of the marketplace image it was made from. */
  hyperVGeneration: HyperVGeneration;
}

export type HyperVGeneration = 'V1' | 'V2';

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
  osDisk: Disk;
  /** The DevTest Labs lab that keeps the VM: a principal that may not read the lab may not read its VMs' compute resources either. */
  lab?: { readonly name: string; readonly denyAccess: boolean };
}

export interface NewVirtualMachine extends Omit<VirtualMachine, 'vmId' | 'osDisk'> {
  diskSizeGB: number;
  /** Default V1. */
  hyperVGeneration?: HyperVGeneration;
  /** Seeds the VM's and its disk's ids, so the same scenario gives the same ids on every start. */
  seed: string;
}

export class ComputeState {
  readonly virtualMachines: VirtualMachine[] = [];

  /** A VM with its OS disk, named as Compute names a VM's OS disk: `<vm>_OsDisk_1_<32 hex digits>`. */
  createVirtualMachine(spec: NewVirtualMachine): VirtualMachine {
    const { diskSizeGB, seed, hyperVGeneration, ...properties } = spec;
    const osDisk: Disk = {
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      name: `${spec.name}_OsDisk_1_${stableHex(`disk:${seed}`, 32)}`,
      location: spec.location,
      uniqueId: stableGuid(`disk:${seed}`),
      osType: spec.osType,
      sizeGB: diskSizeGB,
      createdDate: spec.createdDate,
      hyperVGeneration: hyperVGeneration ?? 'V1',
    };
    const vm: VirtualMachine = { ...properties, vmId: stableGuid(`vmid:${seed}`), osDisk };
    osDisk.managedBy = vm;
    this.virtualMachines.push(vm);
    return vm;
  }

  /** Deletes the VM and its OS disk. */
  deleteVirtualMachine(vm: VirtualMachine): void {
    const index = this.virtualMachines.indexOf(vm);
    if (index >= 0) this.virtualMachines.splice(index, 1);
  }

  disks(): Disk[] {
    return this.virtualMachines.map((vm) => vm.osDisk);
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
