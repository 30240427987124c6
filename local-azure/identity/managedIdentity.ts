import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Reply } from '../http';
import type { IdentityState } from './state';
import type { TokenIssuer } from './tokens';

/** The App Service identity endpoint's API version, the one ManagedIdentityCredential sends. */
export const MANAGED_IDENTITY_API_VERSION = '2019-08-01';
/** Path of the machine's identity endpoint (IDENTITY_ENDPOINT). */
export const MANAGED_IDENTITY_PATH = '/__local/identity/token';

export interface ManagedIdentityEndpointOptions {
  identity: IdentityState;
  tokens: TokenIssuer;
  /** The secret the endpoint expects in X-IDENTITY-HEADER (IDENTITY_HEADER). */
  identityHeader: string;
}

/**
 * The machine's identity endpoint in the shape of App Service's (API 2019-08-01), which
 * `ManagedIdentityCredential` uses when IDENTITY_ENDPOINT and IDENTITY_HEADER are set:
 * GET ?api-version=2019-08-01&resource=<resource id>[&client_id=<user-assigned>] with the header
 * X-IDENTITY-HEADER. Errors are App Service's: `{statusCode, message, correlationId}`.
 */
export function managedIdentityToken(req: IncomingMessage, url: URL, o: ManagedIdentityEndpointOptions): Reply {
  const fail = (status: number, message: string): Reply => ({ status, body: { statusCode: status, message, correlationId: randomUUID() } });
  if (req.headers['x-identity-header'] !== o.identityHeader) return fail(401, 'The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.');
  const version = url.searchParams.get('api-version');
  if (version !== MANAGED_IDENTITY_API_VERSION) {
    return fail(400, `The api-version '${version ?? ''}' is not supported; use ${MANAGED_IDENTITY_API_VERSION}.`);
  }
  const resource = url.searchParams.get('resource');
  if (!resource) return fail(400, "The query parameter 'resource' is required.");
  if (!o.tokens.knownResource(resource)) {
    return fail(
      400,
      `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${o.identity.tenantId}. You might have sent your authentication request to the wrong tenant.`,
    );
  }
  if (url.searchParams.has('mi_res_id')) return fail(400, 'Only client_id and object_id name a user-assigned identity here.');
  const clientId = url.searchParams.get('client_id') ?? undefined;
  const objectId = url.searchParams.get('object_id') ?? url.searchParams.get('principal_id') ?? undefined;
  const identity = o.identity.findManagedIdentity({ clientId, objectId });
  if (!identity) {
    return fail(
      400,
      clientId || objectId
        ? 'No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId.'
        : 'No system-assigned managed identity is enabled for this resource.',
    );
  }
  const { accessToken, expiresOn } = o.tokens.accessToken(identity, resource, '2');
  return {
    status: 200,
    body: { access_token: accessToken, expires_on: String(expiresOn), resource, token_type: 'Bearer', client_id: identity.clientId },
  };
}
