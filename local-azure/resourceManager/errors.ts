import { ArmError } from '../http';
import type { ArmRequest } from './context';

/** Resource Manager's errors, with its codes and the wording of its messages. */

export function resourceGroupNotFound(resourceGroup: string): ArmError {
  return new ArmError(404, 'ResourceGroupNotFound', `Resource group '${resourceGroup}' could not be found.`);
}

export function resourceNotFound(resourceType: string, name: string, resourceGroup: string): ArmError {
  return new ArmError(
    404,
    'ResourceNotFound',
    `The Resource '${resourceType}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function parentResourceNotFound(parentType: string, parentName: string): ArmError {
  return new ArmError(
    404,
    'ParentResourceNotFound',
    `Can not perform requested operation on nested resource. Parent resource '${parentName}' (${parentType}) not found.`,
  );
}

export function authorizationFailed(request: ArmRequest): ArmError {
  const scope = request.url.pathname.replace(/\/+$/, '');
  return new ArmError(
    403,
    'AuthorizationFailed',
    `The client '${request.principal.clientId}' with object id '${request.principal.objectId}' does not have authorization to perform action '${request.action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
  );
}

export function invalidRequestContent(problem: string): ArmError {
  return new ArmError(400, 'InvalidRequestContent', `The request content was invalid: ${problem}`);
}

export function conflict(message: string, code = 'Conflict'): ArmError {
  return new ArmError(409, code, message);
}
