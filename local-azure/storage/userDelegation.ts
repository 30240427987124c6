import type * as http from 'node:http';
import type { DataAction } from './dataRoles';
import { FRONT_API_VERSION, sendStorageError, StorageMessages } from './storageErrors';

/**
 * User delegation SAS, as Azure has it: Get User Delegation Key takes a bearer token only, and only from a
 * principal whose Storage Blob Data role (each includes `generateUserDelegationKey`) is assigned at the
 * storage account or above, not at a container; a key lives at most 7 days. A SAS signed with the key
 * grants no more than its `sp` and, at each request, no more than the principal's data roles then.
 * Azurite derives every key from one fixed secret, so it would accept a key nobody asked for: the front
 * accepts only SAS whose key it issued.
 * https://learn.microsoft.com/rest/api/storageservices/get-user-delegation-key
 * https://learn.microsoft.com/rest/api/storageservices/create-user-delegation-sas
 */

/* eslint-disable @typescript-eslint/no-require-imports */
const { getUserDelegationKeyValue } = require('azurite/dist/src/blob/utils/utils') as {
  getUserDelegationKeyValue(oid: string, tid: string, start: string, expiry: string, version: string): string;
};
/* eslint-enable @typescript-eslint/no-require-imports */

const MAX_KEY_LIFETIME_MS = 7 * 24 * 3600 * 1000;

export interface DelegationContext {
  canAccessData(principalId: string, account: string, container: string | undefined, action: DataAction): boolean;
}

export class UserDelegationKeys {
  private readonly issued = new Set<string>();

  /** Answers Get User Delegation Key for a principal already authenticated by its bearer token. */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, principal: { principalId: string; tenantId: string }, body: string): Promise<void> {
    const start = xmlValue(body, 'Start');
    const expiry = xmlValue(body, 'Expiry');
    const startMs = Date.parse(start ?? '');
    const expiryMs = Date.parse(expiry ?? '');
    if (!expiry || !Number.isFinite(expiryMs) || (start !== undefined && !Number.isFinite(startMs))) {
      return sendStorageError(req, res, 400, 'InvalidXmlNodeValue', 'The value for one of the XML nodes is not in the correct format.');
    }
    if (expiryMs - Date.now() > MAX_KEY_LIFETIME_MS || expiryMs <= (Number.isFinite(startMs) ? startMs : Date.now())) {
      return sendStorageError(req, res, 400, 'InvalidXmlNodeValue', 'The value for one of the XML nodes is not in the correct format.', {
        headers: { 'x-ms-error-detail': 'The expiry must be after the start and within 7 days of the current time.' },
      });
    }
    const signedStart = start ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const version = FRONT_API_VERSION;
    const value = getUserDelegationKeyValue(principal.principalId, principal.tenantId, signedStart, expiry, version);
    this.issued.add(keyId(principal.principalId, principal.tenantId, signedStart, expiry, version));
    const xml =
      '<?xml version="1.0" encoding="utf-8"?><UserDelegationKey>' +
      `<SignedOid>${principal.principalId}</SignedOid><SignedTid>${principal.tenantId}</SignedTid>` +
      `<SignedStart>${signedStart}</SignedStart><SignedExpiry>${expiry}</SignedExpiry>` +
      `<SignedService>b</SignedService><SignedVersion>${version}</SignedVersion><Value>${value}</Value></UserDelegationKey>`;
    const payload = Buffer.from(xml, 'utf8');
    res.writeHead(200, {
      'content-type': 'application/xml',
      'content-length': String(payload.length),
      'x-ms-version': FRONT_API_VERSION,
      'x-ms-request-id': String(req.headers['x-ms-client-request-id'] ?? ''),
    });
    res.end(payload);
  }

  /**
   * For a SAS signed with a user delegation key: why it is refused (status, code), or undefined when its key
   * was issued and its principal's data roles allow `action` in the container now. Undefined as well for
   * any other SAS.
   */
  refusal(
    query: URLSearchParams,
    target: { account: string; container?: string },
    action: DataAction,
    context: DelegationContext,
  ): { status: number; code: string; message: string } | undefined {
    const oid = query.get('skoid');
    if (!oid) return undefined;
    const id = keyId(oid, query.get('sktid') ?? '', query.get('skt') ?? '', query.get('ske') ?? '', query.get('skv') ?? '');
    if (!this.issued.has(id) || Date.parse(query.get('ske') ?? '') <= Date.now()) {
      return { status: 403, code: 'AuthenticationFailed', message: StorageMessages.AuthenticationFailed };
    }
    if (!context.canAccessData(oid, target.account, target.container, action)) {
      return { status: 403, code: 'AuthorizationPermissionMismatch', message: StorageMessages.AuthorizationPermissionMismatch };
    }
    return undefined;
  }
}

function keyId(...parts: string[]): string {
  return parts.join('\n');
}

function xmlValue(xml: string, element: string): string | undefined {
  const match = new RegExp(`<${element}>\\s*([^<]*?)\\s*</${element}>`).exec(xml);
  return match ? match[1] : undefined;
}
