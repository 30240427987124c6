import { randomUUID, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { certificateThumbprints } from '../certs';
import { readBody, type Reply } from '../http';
import { decodeJwt, verifyJwtSignature, type DecodedJwt } from './jwt';
import { MANAGED_IDENTITY_PATH, managedIdentityToken } from './managedIdentity';
import { DEFAULT_FEDERATED_SUBJECT, TOKEN_EXCHANGE_AUDIENCE, type IdentityState, type Principal } from './state';
import { TokenIssuer, utc, type TokenIssuerOptions } from './tokens';

/**
 * The OAuth2/OIDC authority of the local Azure, in the shape of Microsoft Entra ID's v2.0 endpoints, so
 * that @azure/identity (MSAL) credentials sign in with `authorityHost` set to it: client secret, client
 * certificate assertion and federated (workload identity) assertion. It also acts as the OIDC issuer whose
 * tokens the federated credential trusts, the way Azure DevOps issues tokens for a service connection.
 */

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface IdentityOptions extends TokenIssuerOptions {
  /** The bearer token a job presents to ask for a federation token (System.AccessToken). */
  jobAccessToken: string;
  /** The secret the machine's identity endpoint expects in X-IDENTITY-HEADER (IDENTITY_HEADER). */
  identityHeader: string;
}

export class IdentityAuthority {
  /** Its tokens, which Resource Manager and the blob front check. */
  readonly tokens: TokenIssuer;
  private readonly identity: IdentityState;
  private readonly baseUrl: () => string;
  private readonly jobAccessToken: string;
  private readonly identityHeader: string;

  constructor(options: IdentityOptions) {
    this.tokens = new TokenIssuer(options);
    this.identity = options.identity;
    this.baseUrl = options.baseUrl;
    this.jobAccessToken = options.jobAccessToken;
    this.identityHeader = options.identityHeader;
  }

  /** The identity operation a path names, for metrics and faults; undefined when it is not an identity path. */
  operationOf(method: string, pathname: string): string | undefined {
    if (/^\/__local\/oidc\//i.test(pathname) || /^\/__local\/oidctoken$/i.test(pathname)) return 'Federation';
    if (pathname.toLowerCase() === MANAGED_IDENTITY_PATH) return 'ManagedIdentity';
    if (/^\/[^/]+\/(v2\.0\/)?\.well-known\/openid-configuration$/i.test(pathname)) return 'OpenIdConfiguration';
    if (/^\/[^/]+\/discovery\/(v2\.0\/)?keys$/i.test(pathname)) return 'Jwks';
    if (/^\/[^/]+\/oauth2\/(v2\.0\/)?token$/i.test(pathname)) return 'Token';
    if (/^\/[^/]+\/oauth2\/(v2\.0\/)?(authorize|devicecode|logout)$/i.test(pathname)) return 'Authorize';
    return undefined;
  }

  async handle(req: IncomingMessage, url: URL): Promise<Reply> {
    const pathname = url.pathname;
    const method = req.method ?? 'GET';
    let match: RegExpExecArray | null;

    if (/^\/__local\/oidc\/\.well-known\/openid-configuration$/i.test(pathname)) {
      return json(200, {
        issuer: this.tokens.federationIssuer,
        jwks_uri: `${this.tokens.federationIssuer}/keys`,
        subject_types_supported: ['public'],
        response_types_supported: ['id_token'],
        id_token_signing_alg_values_supported: ['RS256'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'nbf'],
      });
    }
    if (/^\/__local\/oidc\/keys$/i.test(pathname)) return json(200, this.tokens.jwks());
    if (pathname.toLowerCase() === MANAGED_IDENTITY_PATH) {
      if (method !== 'GET') return json(405, { statusCode: 405, message: 'Use GET.' });
      return managedIdentityToken(req, url, { identity: this.identity, tokens: this.tokens, identityHeader: this.identityHeader });
    }
    if (/^\/__local\/oidctoken$/i.test(pathname)) {
      if (method !== 'POST') return json(405, { message: 'Use POST.' });
      // Azure DevOps' oidctoken API: the job's access token authorizes, the service connection is in the
      // query, the token comes back in `oidcToken`.
      if (req.headers.authorization !== `Bearer ${this.jobAccessToken}`) {
        return json(401, { message: 'The job access token (System.AccessToken) is missing or wrong.', typeKey: 'UnauthorizedRequestException' });
      }
      const connection = url.searchParams.get('serviceConnectionId');
      if (!connection) return json(400, { message: 'The query parameter serviceConnectionId is required.' });
      const body = (await readJson(req)) as { subject?: string; audience?: string } | undefined;
      const subject = body?.subject ?? `${DEFAULT_FEDERATED_SUBJECT.slice(0, DEFAULT_FEDERATED_SUBJECT.lastIndexOf('/') + 1)}${connection}`;
      return json(200, { oidcToken: this.tokens.issueFederationToken(subject, body?.audience ?? TOKEN_EXCHANGE_AUDIENCE) });
    }

    if ((match = /^\/([^/]+)\/(v2\.0\/)?\.well-known\/openid-configuration$/i.exec(pathname))) {
      const tenant = match[1];
      if (!this.knownTenant(tenant)) return tenantNotFound(tenant);
      return json(200, this.openIdConfiguration(tenant));
    }
    if ((match = /^\/([^/]+)\/discovery\/(v2\.0\/)?keys$/i.exec(pathname))) return json(200, this.tokens.jwks());
    if ((match = /^\/([^/]+)\/oauth2\/(v2\.0\/)?token$/i.exec(pathname))) {
      if (method !== 'POST') return aadError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
      return this.token(match[1], !!match[2], await readBody(req));
    }
    return aadError(
      400,
      'invalid_request',
      90056,
      'This local authority signs in service principals only (client credentials); interactive and device code sign-in are not available.',
    );
  }

  private knownTenant(tenant: string): boolean {
    return tenant.toLowerCase() === this.identity.tenantId.toLowerCase();
  }

  private openIdConfiguration(tenant: string): Record<string, unknown> {
    const base = `${this.baseUrl()}/${tenant}`;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: this.tokens.issuer(tenant),
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'appid', 'azp'],
      tenant_region_scope: null,
      cloud_instance_name: new URL(this.baseUrl()).host,
    };
  }

  private async token(tenant: string, v2: boolean, bodyText: string): Promise<Reply> {
    if (!this.knownTenant(tenant)) return tenantNotFound(tenant);
    const form = new URLSearchParams(bodyText);
    const grantType = form.get('grant_type');
    if (grantType !== 'client_credentials') {
      return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType ?? ''}'. Only client_credentials is available here.`);
    }
    const clientId = form.get('client_id');
    if (!clientId) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");

    const resource = v2 ? resourceOfScope(form.get('scope')) : { resource: form.get('resource') ?? undefined };
    if ('error' in resource) return resource.error;
    if (!resource.resource) return aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'resource'.");
    if (!this.tokens.knownResource(resource.resource)) {
      return aadError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource.resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }

    const principal = this.identity.findPrincipal(clientId);
    if (!principal) {
      return aadError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }

    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    let method: 'secret' | 'certificate' | 'federated';
    if (secret !== null) {
      if (!principal.clientSecret || secret !== principal.clientSecret) {
        return aadError(
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        );
      }
      method = 'secret';
    } else if (assertion !== null) {
      if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
        return aadError(400, 'invalid_request', 50027, `client_assertion_type must be '${ASSERTION_TYPE}'.`);
      }
      const checked = this.checkAssertion(principal, assertion, tenant);
      if ('error' in checked) return checked.error;
      method = checked.method;
    } else {
      return aadError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }

    const { accessToken, lifetime } = this.tokens.accessToken(principal, resource.resource, method === 'secret' ? '1' : '2');
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
      body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
    };
  }

  private checkAssertion(principal: Principal, assertion: string, tenant: string): { method: 'certificate' | 'federated' } | { error: Reply } {
    const jwt = decodeJwt(assertion);
    if (!jwt) return { error: aadError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.') };
    const now = Math.floor(Date.now() / 1000);
    const payload = jwt.payload;
    if (typeof payload.exp !== 'number' || payload.exp <= now || (typeof payload.nbf === 'number' && payload.nbf > now + 300)) {
      return { error: aadError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.') };
    }
    const selfIssued = payload.iss === principal.clientId && payload.sub === principal.clientId;
    return selfIssued ? this.checkCertificateAssertion(principal, jwt, tenant) : this.checkFederatedAssertion(principal, jwt);
  }

  private checkCertificateAssertion(principal: Principal, jwt: DecodedJwt, tenant: string): { method: 'certificate' } | { error: Reply } {
    const notRegistered = aadError(
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application ${principal.clientId}.`,
    );
    const sha1 = jwt.header.x5t;
    const sha256 = jwt.header['x5t#S256'];
    const certificate = principal.certificates.find((pem) => {
      const thumbprints = certificateThumbprints(pem);
      return sha1 === thumbprints.sha1 || sha256 === thumbprints.sha256;
    });
    if (!certificate) return { error: notRegistered };
    if (!verifyJwtSignature(jwt, new X509Certificate(certificate).publicKey)) {
      return { error: aadError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.') };
    }
    const audiences = Array.isArray(jwt.payload.aud) ? jwt.payload.aud : [jwt.payload.aud];
    const tokenEndpoints = [`${this.baseUrl()}/${tenant}/oauth2/v2.0/token`, `${this.baseUrl()}/${tenant}/oauth2/token`].map((u) => u.toLowerCase());
    if (!audiences.some((aud) => typeof aud === 'string' && tokenEndpoints.includes(aud.toLowerCase()))) {
      return {
        error: aadError(401, 'invalid_client', 700212, `The audience of the client assertion must be the token endpoint ${tokenEndpoints[0]}; it is '${audiences.join(', ')}'.`),
      };
    }
    return { method: 'certificate' };
  }

  private checkFederatedAssertion(principal: Principal, jwt: DecodedJwt): { method: 'federated' } | { error: Reply } {
    const { iss, sub } = jwt.payload;
    const audiences = (Array.isArray(jwt.payload.aud) ? jwt.payload.aud : [jwt.payload.aud]).filter((a): a is string => typeof a === 'string');
    const issuerOf = (issuer: string | undefined) => issuer ?? this.tokens.federationIssuer;
    const forIssuer = principal.federatedCredentials.filter((fc) => issuerOf(fc.issuer) === iss);
    const describe = `Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${audiences.join(', ')}'.`;
    if (forIssuer.length === 0) {
      return {
        error: aadError(400, 'invalid_request', 700211, `No matching federated identity record found for presented assertion issuer '${iss}'. ${describe}`),
      };
    }
    // Only the local issuer's keys are known here; an assertion from any other issuer cannot be checked.
    if (iss !== this.tokens.federationIssuer || !this.tokens.signedHere(jwt)) {
      return { error: aadError(401, 'invalid_client', 700027, `Client assertion failed signature validation. ${describe}`) };
    }
    const matching = forIssuer.find((fc) => fc.subject === sub && fc.audiences.some((a) => audiences.includes(a)));
    if (!matching) {
      return {
        error: aadError(
          400,
          'invalid_request',
          70021,
          `No matching federated identity record found for presented assertion. ${describe} The federated credentials of ${principal.clientId} are: ${forIssuer
            .map((fc) => `subject '${fc.subject}' audiences '${fc.audiences.join(', ')}'`)
            .join('; ')}.`,
        ),
      };
    }
    return { method: 'federated' };
  }

}

function resourceOfScope(scope: string | null): { resource: string } | { error: Reply } {
  const scopes = (scope ?? '').split(' ').filter(Boolean);
  const defaults = scopes.filter((s) => s.endsWith('/.default'));
  if (scopes.length === 0) return { error: aadError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'scope'.") };
  if (defaults.length !== 1) {
    return {
      error: aadError(
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      ),
    };
  }
  return { resource: defaults[0].slice(0, -'/.default'.length) };
}

function tenantNotFound(tenant: string): Reply {
  return aadError(
    400,
    'invalid_tenant',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );
}

function aadError(status: number, error: string, code: number, description: string): Reply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = utc(Date.now());
  return {
    status,
    headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' },
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

function json(status: number, body: unknown): Reply {
  return { status, body };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

