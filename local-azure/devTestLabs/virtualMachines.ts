import { diskGrantActive } from '../compute/state';
import { ok, type Reply } from '../http';
import { findByName } from '../ids';
import type { ArmRequest } from '../resourceManager/context';
import { conflict, resourceNotFound } from '../resourceManager/errors';
import { page } from '../resourceManager/paging';
import { checkTags, requiredObject } from '../resourceManager/requestBody';
import { resolveLab } from './labs';
import type { Lab, LabVm } from './state';
import { labVmView } from './views';

/** DevTest Labs lab virtual machines: get, list, update tags, delete, start and stop. */

function resolveVm(request: ArmRequest): { lab: Lab; vm: LabVm } {
  const lab = resolveLab(request, { asParent: true });
  const vm = findByName(lab.vms, request.params.name);
  if (!vm) throw resourceNotFound(`Microsoft.DevTestLab/labs/${lab.name}/virtualmachines`, request.params.name, request.params.resourceGroupName);
  return { lab, vm };
}

function expandsComputeVm(request: ArmRequest): boolean {
  return /computevm/i.test(request.url.searchParams.get('$expand') ?? '');
}

export function listVms(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  const expandComputeVm = expandsComputeVm(request);
  return page(request, lab.vms, (vm) => labVmView(lab, vm, { expandComputeVm }));
}

export function getVm(request: ArmRequest): Reply {
  const { lab, vm } = resolveVm(request);
  return ok(labVmView(lab, vm, { expandComputeVm: expandsComputeVm(request) }));
}

export function updateVm(request: ArmRequest): Reply {
  const { lab, vm } = resolveVm(request);
  const body = requiredObject(request.body, 'labVirtualMachine');
  if (body.tags !== undefined) vm.tags = checkTags(body.tags);
  return ok(labVmView(lab, vm));
}

export function deleteVm(request: ArmRequest): Reply {
  const lab = resolveLab(request, { asParent: true });
  const vm = findByName(lab.vms, request.params.name);
  if (!vm) return { status: 204 };
  if (diskGrantActive(vm.compute.osDisk)) {
    throw conflict(
      `The virtual machine '${vm.name}' cannot be deleted while its OS disk '${vm.compute.osDisk.name}' has an active SAS (disk state ActiveSAS). Revoke the disk access (endGetAccess) first.`,
      'OperationNotAllowed',
    );
  }
  const { context } = request;
  const previous = vm.compute.provisioningState;
  vm.compute.provisioningState = 'Deleting';
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'VmDeletionFailed', message: `Deleting virtual machine '${vm.name}' in lab '${lab.name}' failed.` },
    complete: () => {
      context.state.devTestLabs.removeVm(lab, vm);
      context.blob.revokeDiskRead(vm.compute.osDisk.name);
      return undefined;
    },
    onFailure: () => {
      vm.compute.provisioningState = previous === 'Deleting' ? 'Failed' : previous;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}

export function powerVm(request: ArmRequest, action: 'start' | 'stop'): Reply {
  const { lab, vm } = resolveVm(request);
  const { context } = request;
  if (vm.compute.provisioningState !== 'Succeeded') {
    throw conflict(`The virtual machine '${vm.name}' is in provisioning state ${vm.compute.provisioningState}; it can be started or stopped only when it is Succeeded.`);
  }
  if (action === 'start' && diskGrantActive(vm.compute.osDisk)) {
    throw conflict(`The virtual machine '${vm.name}' cannot start while its OS disk '${vm.compute.osDisk.name}' has an active SAS. Revoke the disk access first.`, 'OperationNotAllowed');
  }
  const [transition, final] = action === 'start' ? (['starting', 'running'] as const) : (['deallocating', 'deallocated'] as const);
  if (vm.compute.powerState === final) return { status: 200 };
  const previous = vm.compute.powerState;
  vm.compute.powerState = transition;
  const op = context.operations.startFor(request, lab, 'Microsoft.DevTestLab', {
    durationMs: context.state.settings.lroDurationMs,
    complete: () => {
      vm.compute.powerState = final;
      return undefined;
    },
    onFailure: () => {
      vm.compute.powerState = previous;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
