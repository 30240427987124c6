import { ArmError, ok, type Reply } from '../http';
import type { ArmRequest } from '../resourceManager/context';
import { conflict, invalidRequestContent } from '../resourceManager/errors';
import { requiredObject } from '../resourceManager/requestBody';
import { resolveDisk } from './resolve';
import { diskView } from './views';

/** Managed disks: get, and read SAS access granted and revoked (what exports a VM's OS disk). */

/** The longest SAS access Compute grants. */
const MAX_ACCESS_SECONDS = 30 * 24 * 3600;

export function getDisk(request: ArmRequest): Reply {
  return ok(diskView(resolveDisk(request)));
}

export function grantAccess(request: ArmRequest): Reply {
  const disk = resolveDisk(request);
  const vm = disk.managedBy;
  const body = requiredObject(request.body, 'grantAccessData');
  if (body.access === undefined) throw invalidRequestContent("grantAccessData.access is required ('Read').");
  if (body.access !== 'Read') {
    throw new ArmError(400, 'InvalidParameter', `Access '${String(body.access)}' cannot be granted on disk '${disk.name}': only Read access to a disk in use by a VM is possible.`);
  }
  const seconds = body.durationInSeconds;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_ACCESS_SECONDS) {
    throw new ArmError(400, 'InvalidParameter', `grantAccessData.durationInSeconds must be a whole number of seconds from 1 to ${MAX_ACCESS_SECONDS}; got ${JSON.stringify(seconds)}.`);
  }
  if (vm && vm.powerState !== 'deallocated') {
    throw conflict(
      `Cannot grant access to disk '${disk.name}': it is attached to VM '${vm.name}'${vm.lab ? ` (lab '${vm.lab.name}')` : ''}, whose power state is ${vm.powerState}. A disk attached to a VM can be read only while the VM is deallocated; stop (deallocate) the VM first.`,
      'OperationNotAllowed',
    );
  }
  const { context } = request;
  const op = context.operations.startFor(request, disk, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Granting access to disk '${disk.name}' failed.` },
    complete: async () => {
      const accessSAS = await context.blob.grantDiskRead(disk.name, seconds);
      disk.grant = { expiresAt: Date.now() + seconds * 1000 };
      return { accessSAS };
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}

export function revokeAccess(request: ArmRequest): Reply {
  const disk = resolveDisk(request);
  const { context } = request;
  const op = context.operations.startFor(request, disk, 'Microsoft.Compute', {
    durationMs: context.state.settings.lroDurationMs,
    failure: { code: 'InternalOperationError', message: `Revoking access to disk '${disk.name}' failed.` },
    complete: () => {
      context.blob.revokeDiskRead(disk.name);
      disk.grant = undefined;
      return undefined;
    },
  });
  return { status: 202, headers: context.operations.startHeaders(op) };
}
