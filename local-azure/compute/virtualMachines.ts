import { ok, type Reply } from '../http';
import type { ArmRequest } from '../resourceManager/context';
import { resolveVirtualMachine } from './resolve';
import { instanceView } from './views';

/** Virtual machines: the instance view. */

export function getInstanceView(request: ArmRequest): Reply {
  return ok(instanceView(resolveVirtualMachine(request)));
}
