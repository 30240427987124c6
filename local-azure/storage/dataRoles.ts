import type { Principal } from '../identity/state';
import { same } from '../ids';
import type { BlobOperation } from './requestTarget';

/**
 * Azure RBAC for blob data: a bearer token is accepted only for what a Storage Blob Data role of its
 * principal allows, at the storage account or at the container. Roles on the lab (Owner, Contributor,
 * DevTest Labs User) give no data access at all; that is a separate assignment in Azure.
 * https://learn.microsoft.com/azure/storage/blobs/authorize-access-azure-active-directory
 */

export type DataAction = 'read' | 'write' | 'delete';

export const BLOB_DATA_ROLES = {
  'Storage Blob Data Reader': ['read'],
  'Storage Blob Data Contributor': ['read', 'write', 'delete'],
  'Storage Blob Data Owner': ['read', 'write', 'delete'],
} as const satisfies Record<string, readonly DataAction[]>;

export type BlobDataRole = keyof typeof BLOB_DATA_ROLES;
export const BLOB_DATA_ROLE_NAMES = Object.keys(BLOB_DATA_ROLES) as BlobDataRole[];

/** One role assignment on a storage account, or on one of its containers. */
export interface BlobDataRoleAssignment {
  /** Client id or object id of a principal or managed identity. */
  principal: string;
  role: BlobDataRole;
  /** Only this container; default: the whole account. */
  container?: string;
}

/** The data action a blob operation needs (Azure's `Microsoft.Storage/.../blobs/<action>` data actions). */
export function dataActionOf(operation: BlobOperation): DataAction {
  switch (operation) {
    case 'Get':
    case 'GetProperties':
    case 'List':
      return 'read';
    case 'Delete':
      return 'delete';
    default:
      return 'write';
  }
}

/**
 * Whether `assignments` let `principal` do `action` in `container`. Undefined assignments: the
 * scenario left the account's roles out, and every principal has Storage Blob Data Contributor on it.
 */
export function allowsData(
  assignments: readonly BlobDataRoleAssignment[] | undefined,
  principal: Principal,
  container: string | undefined,
  action: DataAction,
): boolean {
  if (!assignments) return true;
  return assignments.some(
    (a) =>
      (same(a.principal, principal.clientId) || same(a.principal, principal.objectId)) &&
      (a.container === undefined || a.container === container) &&
      (BLOB_DATA_ROLES[a.role] as readonly DataAction[]).includes(action),
  );
}
