import type * as http from 'node:http';
import type { DataAction } from './dataRoles';
import type { DiskGrants, GrantCheck } from './diskGrants';
import type { RequestTarget } from './requestTarget';
import { sendStorageError, StorageMessages } from './storageErrors';
import type { UserDelegationKeys } from './userDelegation';

/**
 * How the blob front authenticates a request, as Azure does for accounts with shared key access
 * disabled: a bearer token for Azure Storage from a principal with data access, or a SAS (a disk
 * grant's SAS is refused as soon as the grant is revoked).
 */

/** Bearer tokens for blob data must be issued for Azure Storage. */
const STORAGE_AUDIENCES = new Set(['https://storage.azure.com', 'https://storage.azure.com/']);
/** The first service version that accepts bearer tokens. */
const BEARER_MIN_VERSION = '2017-11-09';

export type Auth = { kind: 'sas'; grant?: GrantCheck } | { kind: 'bearer'; principalId: string; tenantId: string };

export interface AuthenticationOptions {
  grants: DiskGrants;
  verifyBearer(token: string): { principalId: string; tenantId?: string; audience: string } | undefined;
  /** Whether the principal's Storage Blob Data roles allow `action` in the account's container. */
  canAccessData(principalId: string, account: string, container: string | undefined, action: DataAction): boolean;
  /** The user delegation keys the front issued: a SAS signed with one is checked against them and its principal's roles. */
  delegation: UserDelegationKeys;
}

/** The request's credentials, or undefined once the refusal has been sent. */
export function authenticate(
  o: AuthenticationOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: RequestTarget,
  action: DataAction,
): Auth | undefined {
  const authorization = req.headers.authorization;
  if (authorization) {
    const space = authorization.indexOf(' ');
    const scheme = space < 0 ? authorization : authorization.slice(0, space);
    if (/^SharedKey(Lite)?$/i.test(scheme)) {
      sendStorageError(req, res, 403, 'KeyBasedAuthenticationNotPermitted', StorageMessages.KeyBasedAuthenticationNotPermitted);
      return undefined;
    }
    if (!/^Bearer$/i.test(scheme)) {
      sendStorageError(req, res, 401, 'InvalidAuthenticationInfo', StorageMessages.InvalidAuthenticationInfo, {
        authenticationErrorDetail: `Authentication scheme ${scheme} is not supported.`,
      });
      return undefined;
    }
    const version = String(req.headers['x-ms-version'] ?? '');
    if (version < BEARER_MIN_VERSION) {
      sendStorageError(req, res, 400, 'InvalidAuthenticationInfo', 'Authentication scheme Bearer is not supported in this version.');
      return undefined;
    }
    const claims = o.verifyBearer(authorization.slice(space + 1).trim());
    if (!claims) {
      sendStorageError(req, res, 401, 'InvalidAuthenticationInfo', StorageMessages.InvalidAuthenticationInfo, {
        authenticationErrorDetail: 'The access token is not valid or has expired.',
      });
      return undefined;
    }
    if (!STORAGE_AUDIENCES.has(claims.audience)) {
      sendStorageError(req, res, 401, 'InvalidAuthenticationInfo', StorageMessages.InvalidAuthenticationInfo, {
        authenticationErrorDetail: 'Audience validation failed. Audience did not match.',
      });
      return undefined;
    }
    // Azure's answer to a token whose principal lacks the Storage Blob Data role for the operation.
    if (!o.canAccessData(claims.principalId, target.account, target.container, action)) {
      sendStorageError(req, res, 403, 'AuthorizationPermissionMismatch', StorageMessages.AuthorizationPermissionMismatch);
      return undefined;
    }
    return { kind: 'bearer', principalId: claims.principalId, tenantId: claims.tenantId ?? '' };
  }
  const signature = target.query.get('sig');
  if (signature) {
    const grant = o.grants.check(signature);
    if (grant && !grant.live) {
      sendStorageError(req, res, 403, 'AuthenticationFailed', StorageMessages.AuthenticationFailed, {
        authenticationErrorDetail: grantRefusal(grant),
      });
      return undefined;
    }
    const expiresAtMs = Date.parse(target.query.get('se') ?? '');
    if (expiresAtMs <= Date.now()) {
      sendStorageError(req, res, 403, 'AuthenticationFailed', StorageMessages.AuthenticationFailed, {
        authenticationErrorDetail: expiredDetail(expiresAtMs),
      });
      return undefined;
    }
    const delegated = o.delegation.refusal(target.query, target, action, o);
    if (delegated) {
      sendStorageError(req, res, delegated.status, delegated.code, delegated.message);
      return undefined;
    }
    return { kind: 'sas', grant };
  }
  // Lab storage has no public containers: Azure answers anonymous requests as if nothing were there.
  if (!target.container) {
    sendStorageError(req, res, 401, 'NoAuthenticationInformation', StorageMessages.NoAuthenticationInformation);
  } else {
    sendStorageError(req, res, 404, 'ResourceNotFound', StorageMessages.ResourceNotFound);
  }
  return undefined;
}

function grantRefusal(grant: GrantCheck): string {
  if (grant.revoked) return `Access to disk ${grant.diskName} has been revoked.`;
  return expiredDetail(grant.expiresAtMs);
}

function expiredDetail(expiresAtMs: number): string {
  return `Signed expiry time [${new Date(expiresAtMs).toUTCString()}] must be after signed start time and current time [${new Date().toUTCString()}]`;
}
