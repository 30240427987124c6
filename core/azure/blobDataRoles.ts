import type { TokenCredential } from '@azure/core-auth';
import { isRestError } from '@azure/core-rest-pipeline';
import type { RequestPolicy, RequestPolicyFactory, WebResource } from '@azure/storage-blob';
import { ErrorCodes, FactoryError } from '../errors';
import { STORAGE_SCOPE } from './serviceConnection';

/**
 * Blob data reached with the connection's own token (Azure AD, not a SAS) needs a Storage Blob Data
 * role on the storage account or container, a role assignment separate from any on the lab: Owner or
 * Contributor on the lab gives none. Storage answers a token without the role with 403
 * AuthorizationPermissionMismatch, which names neither the role nor the identity; this policy turns it
 * into an error that names both, and the scope to assign the role at.
 */
export interface BlobDataAccess {
  credential: TokenCredential;
  /** The lab whose storage account it is: the account lives in the lab's resource group. */
  lab: { subscriptionId: string; resourceGroup: string; name: string };
  account: string;
  container: string;
}

export const READER_ROLE = 'Storage Blob Data Reader';
export const CONTRIBUTOR_ROLE = 'Storage Blob Data Contributor';

/**
 * The policy for one pipeline shared by every lab's container: `accessOf` names, from a request's URL,
 * whose storage it reaches (undefined: a URL this pipeline was not given, answered as it is).
 */
export function blobDataRolePolicyFactory(accessOf: (url: string) => BlobDataAccess | undefined): RequestPolicyFactory {
  return {
    create: (next: RequestPolicy): RequestPolicy => ({
      sendRequest: async (request: WebResource) => {
        // Who was refused, when it was for want of a role.
        const refusedAccess = (status: number | undefined, code: string | null | undefined) =>
          isMissingRole(status, code ?? undefined) ? accessOf(request.url) : undefined;
        let access: BlobDataAccess | undefined;
        try {
          const response = await next.sendRequest(request);
          access = refusedAccess(response.status, response.headers.get('x-ms-error-code'));
          if (!access) return response;
        } catch (error) {
          access = isRestError(error) ? refusedAccess(error.statusCode, error.response?.headers.get('x-ms-error-code') ?? error.code) : undefined;
          if (!access) throw error;
        }
        throw await missingRoleError(access, request.method);
      },
    }),
  };
}

function isMissingRole(status: number | undefined, code: string | undefined): boolean {
  return status === 403 && code === 'AuthorizationPermissionMismatch';
}

/** The error for a refused request: which role, at which scope, for which identity. */
export async function missingRoleError(access: BlobDataAccess, method: string): Promise<FactoryError> {
  const reading = method === 'GET' || method === 'HEAD';
  const identity = await identityOf(access.credential);
  const who = identity.clientId ? `client id ${identity.clientId}${identity.objectId ? `, object id ${identity.objectId}` : ''}` : 'unknown';
  const accountScope = `/subscriptions/${access.lab.subscriptionId}/resourceGroups/${access.lab.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${access.account}`;
  const containerScope = `${accountScope}/blobServices/default/containers/${access.container}`;
  const assignee = identity.objectId ?? identity.clientId ?? '<the identity>';
  const subject = `${access.account}/${access.container}`;
  if (reading) {
    return new FactoryError(
      ErrorCodes.BlobDataReadDenied,
      `The service connection's identity (${who}) may not read blobs in storage account '${access.account}' of lab '${access.lab.name}': ` +
        `it has no ${READER_ROLE} role there (403 AuthorizationPermissionMismatch). Roles on the lab give no access to its blob data.`,
      {
        fix:
          `Assign ${READER_ROLE} (${CONTRIBUTOR_ROLE} where the task also deletes or copies, as SnapImagesFromVMs, DistributeImages and RetireImages do) ` +
          `to the identity on the storage account or its container 'uploads': az role assignment create --assignee ${assignee} --role "${READER_ROLE}" --scope ${containerScope}. ` +
          'Role assignments can take a few minutes to apply.',
        subject,
      },
    );
  }
  return new FactoryError(
    ErrorCodes.BlobDataWriteDenied,
    `The service connection's identity (${who}) may not change blobs in storage account '${access.account}' of lab '${access.lab.name}': ` +
      `it has no ${CONTRIBUTOR_ROLE} role there (403 AuthorizationPermissionMismatch). Roles on the lab give no access to its blob data.`,
    {
      fix:
        `Assign ${CONTRIBUTOR_ROLE} to the identity on the storage account or its container 'uploads': ` +
        `az role assignment create --assignee ${assignee} --role "${CONTRIBUTOR_ROLE}" --scope ${containerScope}. Role assignments can take a few minutes to apply.`,
      subject,
    },
  );
}

/**
 * The client and object ids of whoever the connection signs in as, from the claims of its storage
 * token (the credential caches it): the same for a secret, a certificate, federation or a managed identity.
 */
async function identityOf(credential: TokenCredential): Promise<{ clientId?: string; objectId?: string }> {
  try {
    const token = await credential.getToken(STORAGE_SCOPE);
    const payload = token?.token.split('.')[1];
    if (!payload) return {};
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { appid?: unknown; azp?: unknown; oid?: unknown };
    const text = (value: unknown) => (typeof value === 'string' && /^[\w-]{1,64}$/.test(value) ? value : undefined);
    return { clientId: text(claims.appid) ?? text(claims.azp), objectId: text(claims.oid) };
  } catch {
    return {};
  }
}
