import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  isRestError,
  type Pipeline,
  type PipelinePolicy,
  type PipelineRequest,
  type RestError,
} from '@azure/core-rest-pipeline';
import { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { type Reporter, silentReporter } from '../report';
import { networkProblem, redactUrls } from './azureErrors';
import { armRetryPolicy, type ArmRetryOptions, retryRecordOf } from './retryPolicy';
import type { CredentialSource, ServiceConnection } from './serviceConnection';

/**
 * The credential factory: one entry per kind of credential source, each an `@azure/identity`
 * credential pointed at the connection's own authority. Every credential fetches a new token (and,
 * for workload identity federation, a new OIDC assertion) whenever the old one is about to expire,
 * so a run lasting hours keeps working.
 */
export interface CredentialOptions {
  reporter?: Reporter;
  /** Retries for the OIDC token request. */
  retry?: ArmRetryOptions;
  /** The HTTP client for the OIDC token request; the Node https client by default. */
  httpClient?: HttpClient;
}

/**
 * A credential, and for credentials that call our own code during sign-in (the OIDC token request),
 * the FactoryError that code raised: the identity library rewraps callback errors and loses it.
 */
interface MadeCredential {
  credential: TokenCredential;
  lastFailure?: () => FactoryError | undefined;
  /** What the authority last answered, for credentials that sign in at the connection's authority. */
  authority?: AuthorityWatch;
}

/**
 * The authority's last answer to a credential's request (its status, or the error of a request that got
 * none), kept because the identity library reports every failure as a sign-in failure: a sign-in is only
 * the credential's fault when Microsoft Entra ID says so (an AADSTS code in a refusal).
 */
export interface AuthorityAnswer {
  request: PipelineRequest;
  status?: number;
  error?: RestError;
}

class AuthorityWatch {
  last?: AuthorityAnswer;

  /** Resource Manager's retries for the authority, recording what its last answer was. */
  policy(retry: ArmRetryOptions): PipelinePolicy {
    const retries = armRetryPolicy(retry);
    return {
      name: 'imageFactoryAuthorityPolicy',
      sendRequest: async (request, next) => {
        try {
          const response = await retries.sendRequest(request, next);
          this.last = { request, status: response.status };
          return response;
        } catch (error) {
          if (isRestError(error)) this.last = { request, status: error.response?.status, error };
          throw error;
        }
      },
    };
  }
}

type CredentialFactory<K extends CredentialSource['kind']> = (
  connection: ServiceConnection,
  source: Extract<CredentialSource, { kind: K }>,
  options: CredentialOptions,
) => MadeCredential;

const factories: { [K in CredentialSource['kind']]: CredentialFactory<K> } = {
  clientSecret: (connection, source, options) => {
    const authority = new AuthorityWatch();
    return {
      credential: new ClientSecretCredential(connection.tenantId, connection.clientId!, source.clientSecret, identityOptions(connection, options, authority)),
      authority,
    };
  },
  clientCertificate: (connection, source, options) => {
    const authority = new AuthorityWatch();
    return {
      credential: new ClientCertificateCredential(
        connection.tenantId,
        connection.clientId!,
        { certificate: source.certificatePem },
        identityOptions(connection, options, authority),
      ),
      authority,
    };
  },
  workloadIdentity: (connection, source, options) => {
    const fetchOidcToken = oidcTokenFetcher(connection, source, options);
    let failure: FactoryError | undefined;
    const getAssertion = async () => {
      try {
        const token = await fetchOidcToken();
        failure = undefined;
        return token;
      } catch (error) {
        failure = isFactoryError(error) ? error : undefined;
        throw error;
      }
    };
    const authority = new AuthorityWatch();
    return {
      credential: new ClientAssertionCredential(connection.tenantId, connection.clientId!, getAssertion, identityOptions(connection, options, authority)),
      lastFailure: () => failure,
      authority,
    };
  },
  managedIdentity: (connection, _source, options) => ({
    credential: new ManagedIdentityCredential({ clientId: connection.clientId, retryOptions: identityRetries(options) }),
  }),
};

/** A credential for the service connection whose sign-in failures are FactoryErrors that say what to fix. */
export function createCredential(connection: ServiceConnection, options: CredentialOptions = {}): TokenCredential {
  const reporter = options.reporter ?? silentReporter;
  maskSource(connection.source, reporter);
  const factory = factories[connection.source.kind] as CredentialFactory<CredentialSource['kind']>;
  return new ConnectionCredential(factory(connection, connection.source, options), connection);
}

/**
 * The authority gets Resource Manager's retries (retryPolicy.ts): the same transient budget, throttling
 * waited out as asked. The identity library's own policy (3 retries) is switched off for it.
 */
function identityOptions(connection: ServiceConnection, options: CredentialOptions, authority: AuthorityWatch) {
  // Instance discovery asks login.microsoftonline.com about the authority, which neither a sovereign
  // cloud's nor a private authority's clients can count on; the connection names its authority itself.
  return {
    authorityHost: connection.cloud.authorityHost,
    disableInstanceDiscovery: true,
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: authority.policy({ ...options.retry, reporter: options.reporter ?? options.retry?.reporter }), position: 'perCall' as const }],
  };
}

/** The machine's identity endpoint keeps the identity library's policy for it, with our transient budget. */
function identityRetries(options: CredentialOptions) {
  const retry = options.retry ?? {};
  return { maxRetries: retry.maxRetries, retryDelayInMs: retry.retryDelayInMs, maxRetryDelayInMs: retry.maxRetryDelayInMs };
}

function maskSource(source: CredentialSource, reporter: Reporter): void {
  switch (source.kind) {
    case 'clientSecret':
      reporter.maskSecret(source.clientSecret);
      break;
    case 'clientCertificate':
      // Masked line by line, as the agent masks and as task-lib accepts secrets: each base64 line of the
      // private key. The armor lines and the certificate are not secret.
      for (const block of source.certificatePem.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g) ?? []) {
        for (const line of block.split(/\r?\n/)) if (line.trim() && !line.startsWith('-----')) reporter.maskSecret(line.trim());
      }
      break;
    case 'workloadIdentity':
      reporter.maskSecret(source.accessToken);
      break;
    case 'managedIdentity':
      break;
  }
}

class ConnectionCredential implements TokenCredential {
  constructor(
    private readonly made: MadeCredential,
    private readonly connection: ServiceConnection,
  ) {}

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    try {
      const token = await this.made.credential.getToken(scopes, options);
      if (!token) throw new Error('the identity platform returned no token');
      return token;
    } catch (error) {
      if (isAbortError(error) || isFactoryError(error)) throw error;
      throw this.made.lastFailure?.() ?? describeSignInError(error, this.connection, this.made.authority?.last);
    }
  }
}

/**
 * Why signing in failed, in terms of the service connection, with what to change. `authority` is the
 * authority's last answer: a failure the authority had (no answer, a server error through every retry)
 * is said as what it was, and blames nothing in the connection; Entra's own refusals name the field.
 */
export function describeSignInError(error: unknown, connection: ServiceConnection, authority?: AuthorityAnswer): FactoryError {
  const raw = error instanceof Error ? error.message : String(error);
  const detail = firstLines(redactUrls(raw));
  const aadsts = /AADSTS(\d+)/.exec(raw)?.[1];
  const who = `service connection '${connection.connectionId}'${connection.clientId ? ` (client id ${connection.clientId})` : ''}`;
  const where = `tenant ${connection.tenantId} at ${connection.cloud.authorityHost}`;
  const reason = aadsts ? signInReasons[aadsts] : undefined;

  const failed = !reason && authority ? authorityFailure(authority, who, connection.connectionId, error) : undefined;
  if (failed) return failed;
  const answered = authority?.status !== undefined;
  if (!reason && /endpoints_resolution_error/i.test(raw) && (answered || !authority)) {
    return new FactoryError(
      ErrorCodes.AuthenticationFailed,
      `Signing in with ${who} failed: the authority ${connection.cloud.authorityHost} does not know tenant '${connection.tenantId}' (the tenant id is wrong, or the authority is not this cloud's).`,
      {
        fix: `Set the tenant id of service connection '${connection.connectionId}' to the directory (tenant) id that owns the subscription, and check the connection's cloud and authority URL.`,
        subject: connection.connectionId,
        cause: error,
      },
    );
  }
  if (reason) {
    return new FactoryError(ErrorCodes.AuthenticationFailed, `Signing in with ${who} failed: ${reason.what(connection)} (AADSTS${aadsts}).`, {
      fix: reason.fix(connection),
      subject: connection.connectionId,
      cause: error,
    });
  }
  if (connection.source.kind === 'managedIdentity') return managedIdentityError(error, raw, connection);
  return new FactoryError(ErrorCodes.AuthenticationFailed, `Signing in with ${who} to ${where} failed: ${detail}`, {
    fix: "Check the service connection's tenant id, client id and credential, and that the agent can reach the authority.",
    subject: connection.connectionId,
    cause: error,
  });
}

/** A sign-in that failed because the authority did, not the connection: no answer, or a server error. */
function authorityFailure(authority: AuthorityAnswer, who: string, subject: string, cause: unknown): FactoryError | undefined {
  const host = hostOf(authority.request.url);
  const endpoint = `the authority ${host}`;
  const network = authority.error && authority.status === undefined ? networkProblem(authority.error, endpoint) : undefined;
  if (network) {
    return new FactoryError(ErrorCodes.AzureRequestFailed, `Signing in with ${who} failed: ${network.message}`, { fix: network.fix, subject, cause });
  }
  const status = authority.status;
  if (status === undefined || !(status >= 500 || status === 429 || status === 408)) return undefined;
  const attempts = retryRecordOf(authority.request)?.attempts ?? 1;
  const said = firstLines(redactUrls(cause instanceof Error ? cause.message : String(cause)));
  return new FactoryError(
    ErrorCodes.AzureRequestFailed,
    `Signing in with ${who} failed: ${endpoint} answered HTTP ${status}${attempts > 1 ? ` in ${attempts} tries` : ''} (${said}).`,
    {
      fix:
        status === 429
          ? 'The authority kept throttling the sign-in: run again later; the next run picks up where this one stopped.'
          : "The authority failed, not the service connection: run again later (the next run picks up where this one stopped), and check Microsoft Entra ID's status for the connection's cloud if it persists.",
      subject,
      cause,
    },
  );
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Why the agent machine's managed identity gave no token. The identity library wraps the endpoint's
 * answer in layers of its own ("Authentication failed. Message : Error(s): ... - Description: ..."); only
 * the endpoint's description is worth reading.
 */
function managedIdentityError(error: unknown, raw: string, connection: ServiceConnection): FactoryError {
  const identity = connection.clientId ? `user-assigned managed identity with client id ${connection.clientId}` : 'managed identity';
  const said = /Description: ([\s\S]*?)(?: - Correlation ID:| - Trace ID:|$)/.exec(raw)?.[1]?.trim().replace(/\.$/, '');
  const detail = said ?? firstLines(redactUrls(raw)).replace(/^(ManagedIdentityCredential: )+/, '');
  const who = `service connection '${connection.connectionId}'`;
  const unreachable = /Network unreachable|network_error|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND/i.test(raw);
  if (unreachable) {
    return new FactoryError(
      ErrorCodes.AuthenticationFailed,
      `Signing in with ${who} failed: the agent machine has no managed identity: its identity endpoint could not be reached.`,
      {
        fix: 'Run the job on an agent that is an Azure VM or scale set with a managed identity, or use a service connection with another scheme.',
        subject: connection.connectionId,
        cause: error,
      },
    );
  }
  // The identity library calls every failure "unavailable"; only the endpoint's own words tell a missing identity.
  const missing = /identity not found|no (user assigned|system-assigned|managed)\b|not found|not enabled|not assigned/i.test(detail);
  return new FactoryError(
    ErrorCodes.AuthenticationFailed,
    missing
      ? `Signing in with ${who} failed: the agent has no ${identity} (the machine's identity endpoint says: ${detail}).`
      : `Signing in with ${who} failed: the agent's ${identity} gave no token (${detail}).`,
    {
      fix: connection.clientId
        ? 'Assign that user-assigned identity to the agent machine (VM or scale set), or correct the client id in the service connection.'
        : 'Enable the system-assigned identity on the agent machine (VM or scale set), or use a service connection with another scheme.',
      subject: connection.connectionId,
      cause: error,
    },
  );
}

interface SignInReason {
  what(connection: ServiceConnection): string;
  fix(connection: ServiceConnection): string;
}

const wrongSecret: SignInReason = {
  what: () => 'the client secret is wrong',
  fix: (c) => `Create a new client secret for app registration ${c.clientId} and paste it into service connection '${c.connectionId}'.`,
};
const wrongTenant: SignInReason = {
  what: (c) => `tenant '${c.tenantId}' does not exist at ${c.cloud.authorityHost}`,
  fix: (c) =>
    `Set the tenant id of service connection '${c.connectionId}' to the directory (tenant) id that owns the subscription, and check that the connection's cloud is right.`,
};
const federationMismatch: SignInReason = {
  what: () => "the OIDC token's issuer or subject matches no federated credential of the app registration",
  fix: (c) =>
    `In app registration ${c.clientId}, add a federated credential whose issuer and subject are those shown on service connection '${c.connectionId}'.`,
};

const signInReasons: Record<string, SignInReason> = {
  '7000215': wrongSecret,
  '7000222': {
    what: () => 'the client secret has expired',
    fix: (c) => `Create a new client secret for app registration ${c.clientId} and paste it into service connection '${c.connectionId}'.`,
  },
  '90002': wrongTenant,
  '900023': wrongTenant,
  '90072': wrongTenant,
  '700016': {
    what: (c) => `application ${c.clientId} was not found in tenant '${c.tenantId}' (the tenant is wrong, or the app registration was deleted)`,
    fix: (c) => `Check the tenant id and client id of service connection '${c.connectionId}' against the app registration's overview.`,
  },
  '700027': {
    what: () => "the certificate is not one of the app registration's credentials",
    fix: (c) => `Upload the certificate (public part) to app registration ${c.clientId}, or update service connection '${c.connectionId}' with a registered certificate.`,
  },
  '70021': federationMismatch,
  '700211': federationMismatch,
  '700212': federationMismatch,
  '700213': federationMismatch,
  '700024': {
    what: () => 'the OIDC token had expired or was not yet valid',
    fix: () => "Check the agent machine's clock; the task asks for a new OIDC token each time it signs in.",
  },
  '500011': {
    what: (c) => `the Resource Manager audience '${c.cloud.resourceManagerAudience}' is not known in the tenant`,
    fix: (c) => `Check the cloud (activeDirectoryServiceEndpointResourceId) of service connection '${c.connectionId}'.`,
  },
};

function firstLines(text: string): string {
  // Identity errors append trace and correlation ids and a troubleshooting link over many lines.
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, 2)
    .join(' ');
}

/** The API version of the agent's OIDC token request. */
const OIDC_API_VERSION = '7.1';

/**
 * Asks the agent's OIDC endpoint for a fresh ID token for the service connection. The token lives
 * about ten minutes; the credential calls this whenever it needs a new access token.
 */
export function oidcTokenFetcher(
  connection: Pick<ServiceConnection, 'connectionId'>,
  source: { oidcRequestUri: string; accessToken: string },
  options: CredentialOptions = {},
): () => Promise<string> {
  const reporter = options.reporter ?? silentReporter;
  let pipeline: Pipeline | undefined;
  const httpClient = options.httpClient ?? createDefaultHttpClient();
  return async () => {
    if (!pipeline) {
      pipeline = createPipelineFromOptions({});
      pipeline.removePolicy({ name: 'defaultRetryPolicy' });
      pipeline.addPolicy(armRetryPolicy({ ...options.retry, reporter }), { phase: 'Retry' });
    }
    const url = new URL(source.oidcRequestUri);
    url.searchParams.set('api-version', OIDC_API_VERSION);
    url.searchParams.set('serviceConnectionId', connection.connectionId);
    const request = createPipelineRequest({
      url: url.toString(),
      method: 'POST',
      headers: createHttpHeaders({ Authorization: `Bearer ${source.accessToken}`, 'Content-Type': 'application/json', Accept: 'application/json' }),
      body: '{}',
    });
    let status: number;
    let body: string | null | undefined;
    try {
      const response = await pipeline.sendRequest(httpClient, request);
      status = response.status;
      body = response.bodyAsText;
    } catch (error) {
      if (isAbortError(error)) throw error;
      throw new FactoryError(
        ErrorCodes.AuthenticationFailed,
        `Requesting an OIDC token for service connection '${connection.connectionId}' from the agent failed: ${error instanceof Error ? error.message : String(error)}`,
        { fix: "Check the agent's network access to Azure DevOps, then run again.", subject: connection.connectionId, cause: error },
      );
    }
    let token: string | undefined;
    try {
      token = body ? (JSON.parse(body) as { oidcToken?: string }).oidcToken : undefined;
    } catch {
      token = undefined;
    }
    if (status !== 200 || !token) {
      throw new FactoryError(
        ErrorCodes.AuthenticationFailed,
        `Azure DevOps refused the OIDC token request for service connection '${connection.connectionId}' (${status === 200 ? 'HTTP 200 without a token' : `HTTP ${status}`}).`,
        {
          fix:
            status === 401 || status === 403
              ? "Authorize this pipeline to use the service connection, and let the job's access token reach the task."
              : status === 404
                ? 'Check that the service connection still exists and uses workload identity federation.'
                : 'Run again; if it persists, check the service connection in the project settings.',
          subject: connection.connectionId,
        },
      );
    }
    reporter.maskSecret(token);
    return token;
  };
}
