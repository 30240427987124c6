import { ErrorCodes, FactoryError } from '../errors';
import type { EndpointReader } from './endpoint';

/**
 * An Azure Resource Manager service connection as the agent hands it to a task, turned into what the
 * SDK needs: the cloud's URLs and the material a credential is made from. Every URL comes from the
 * connection itself; a cloud's well-known URLs are only a fallback for fields the agent leaves out.
 */
export type AuthScheme = 'ServicePrincipal' | 'WorkloadIdentityFederation' | 'ManagedServiceIdentity';

export interface AzureCloud {
  /** Azure Resource Manager, without a trailing slash: `https://management.azure.com`. */
  resourceManagerUrl: string;
  /** The Microsoft Entra authority, without a trailing slash or tenant: `https://login.microsoftonline.com`. */
  authorityHost: string;
  /** The audience of Resource Manager tokens: `https://management.core.windows.net/`. */
  resourceManagerAudience: string;
  /** The cloud's name as the connection gives it (`AzureCloud`, `AzureUSGovernment`, ...), when it does. */
  name?: string;
}

/**
 * What a credential is made from. Each kind is one way a service connection authenticates; the
 * credential factory (credentials.ts) has one entry per kind.
 */
export type CredentialSource =
  | { kind: 'clientSecret'; clientSecret: string }
  | { kind: 'clientCertificate'; certificatePem: string }
  | { kind: 'workloadIdentity'; oidcRequestUri: string; accessToken: string }
  | { kind: 'managedIdentity' };

export interface ServiceConnection {
  connectionId: string;
  scheme: AuthScheme;
  tenantId: string;
  /** The service principal's application (client) id; for a managed identity, a user-assigned identity's client id. */
  clientId?: string;
  subscriptionId?: string;
  cloud: AzureCloud;
  /** Secret material: not enumerable, so it stays out of JSON and inspected output. */
  readonly source: CredentialSource;
}

/** Well-known clouds, used only for fields the service connection leaves out. */
export const KnownClouds: Readonly<Record<string, Readonly<AzureCloud>>> = {
  AzureCloud: {
    name: 'AzureCloud',
    resourceManagerUrl: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    resourceManagerAudience: 'https://management.core.windows.net/',
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    resourceManagerUrl: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    resourceManagerAudience: 'https://management.core.usgovcloudapi.net/',
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    resourceManagerUrl: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    resourceManagerAudience: 'https://management.core.chinacloudapi.cn/',
  },
};

/** The agent's variable that tells where to ask for a workload identity federation (OIDC) token. */
export const OIDC_REQUEST_URI_VARIABLE = 'System.OidcRequestUri';
/** The variable holding the job's access token, used to authorize the OIDC token request. */
export const ACCESS_TOKEN_VARIABLE = 'System.AccessToken';
/** The built-in connection through which the agent exposes the job's access token. */
export const SYSTEM_CONNECTION = 'SYSTEMVSSCONNECTION';

/**
 * The OAuth scope for a resource id: `https://management.core.windows.net/` and
 * `https://management.core.windows.net` both become `https://management.core.windows.net/.default`.
 */
export function scopeFor(audience: string): string {
  const trimmed = audience.trim().replace(/\/\.default$/i, '').replace(/\/+$/, '');
  return `${trimmed}/.default`;
}

/** An Azure id that is a GUID (subscriptions, tenants, clients): 8-4-4-4-12 hexadecimal digits. */
export function isGuid(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text);
}

/** The scope of Azure Storage data-plane tokens; the same resource in every cloud. */
export const STORAGE_SCOPE = 'https://storage.azure.com/.default';

/**
 * Reads the service connection `connectionId`. Throws FactoryError ServiceConnectionInvalid naming the
 * connection and the missing or invalid field.
 */
export function readServiceConnection(endpoints: EndpointReader, connectionId: string): ServiceConnection {
  const id = connectionId.trim();
  if (!id) {
    throw invalid(connectionId, 'No Azure service connection was given.', 'Choose an Azure Resource Manager service connection in the task.');
  }
  const data = (key: string) => clean(endpoints.data(id, key));
  const auth = (key: string) => clean(endpoints.authParameter(id, key));

  const url = clean(endpoints.url(id));
  const rawScheme = clean(endpoints.authScheme(id));
  if (!url && !rawScheme && !auth('tenantid')) {
    throw invalid(
      id,
      `The service connection '${id}' was not found: the agent passed the task none of its details.`,
      `Check that the task's service connection input names an Azure Resource Manager service connection this pipeline is authorized to use.`,
    );
  }

  const cloud = readCloud(id, url, data);
  const scheme = parseScheme(id, rawScheme);
  const tenantId = auth('tenantid');
  if (!tenantId) throw missing(id, 'tenant id (tenantid)');
  checkGuidLike(id, 'tenant id', tenantId);

  const subscriptionId = data('subscriptionid');
  if (subscriptionId && !isGuid(subscriptionId)) {
    throw invalid(
      id,
      `The subscription id of service connection '${id}' is '${subscriptionId}', which is not a GUID.`,
      `Edit the service connection and choose its subscription again, or give the subscription id (a GUID) from the subscription's overview.`,
    );
  }
  const base = { connectionId: id, scheme, tenantId, subscriptionId, cloud };

  switch (scheme) {
    case 'ServicePrincipal': {
      const clientId = auth('serviceprincipalid');
      if (!clientId) throw missing(id, 'service principal id (serviceprincipalid)');
      const authenticationType = (auth('authenticationType') ?? '').toLowerCase();
      const certificatePem = auth('servicePrincipalCertificate');
      if (authenticationType === 'spncertificate' || (!authenticationType && certificatePem && !auth('serviceprincipalkey'))) {
        if (!certificatePem) throw missing(id, 'service principal certificate (servicePrincipalCertificate)');
        if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certificatePem) || !/-----BEGIN CERTIFICATE-----/.test(certificatePem)) {
          throw invalid(
            id,
            `The certificate of service connection '${id}' is not a PEM file with both the certificate and its private key.`,
            `Edit the service connection and paste the PEM text holding both the certificate and its unencrypted private key.`,
          );
        }
        return withSource({ ...base, clientId }, { kind: 'clientCertificate', certificatePem });
      }
      if (authenticationType && authenticationType !== 'spnkey') {
        throw invalid(
          id,
          `Service connection '${id}' uses service principal authentication type '${authenticationType}', which this task does not support.`,
          `Use a service principal with a secret or a certificate, workload identity federation, or a managed identity.`,
        );
      }
      const clientSecret = auth('serviceprincipalkey');
      if (!clientSecret) throw missing(id, 'service principal key (serviceprincipalkey)');
      return withSource({ ...base, clientId }, { kind: 'clientSecret', clientSecret });
    }
    case 'WorkloadIdentityFederation': {
      const clientId = auth('serviceprincipalid');
      if (!clientId) throw missing(id, 'service principal id (serviceprincipalid)');
      const oidcRequestUri = clean(endpoints.variable?.(OIDC_REQUEST_URI_VARIABLE));
      if (!oidcRequestUri) {
        throw invalid(
          id,
          `Service connection '${id}' uses workload identity federation, but the agent did not provide the OIDC request URL (${OIDC_REQUEST_URI_VARIABLE}).`,
          `Run the task in a pipeline job on agent 3.232.1 or later (the tasks' minimum, which supports workload identity federation).`,
        );
      }
      checkUrl(id, OIDC_REQUEST_URI_VARIABLE, oidcRequestUri);
      const accessToken =
        clean(endpoints.authParameter(SYSTEM_CONNECTION, 'AccessToken')) ?? clean(endpoints.variable?.(ACCESS_TOKEN_VARIABLE));
      if (!accessToken) {
        throw invalid(
          id,
          `Service connection '${id}' uses workload identity federation, but the job's access token is not available to request an OIDC token.`,
          `Allow scripts to access the OAuth token for this job, or map System.AccessToken into the task's environment.`,
        );
      }
      return withSource({ ...base, clientId }, { kind: 'workloadIdentity', oidcRequestUri, accessToken });
    }
    case 'ManagedServiceIdentity': {
      // A user-assigned identity is named by its client id in the connection's data; none means system-assigned.
      const clientId = data('msiclientId') ?? auth('serviceprincipalid');
      return withSource({ ...base, clientId }, { kind: 'managedIdentity' });
    }
  }
}

function readCloud(id: string, url: string | undefined, data: (key: string) => string | undefined): AzureCloud {
  const environment = data('environment');
  const known = environment ? findKnownCloud(environment) : undefined;
  const fallback = (field: string, key: keyof AzureCloud): string => {
    const value = known?.[key];
    if (value) return value;
    throw missing(
      id,
      `${field}`,
      environment
        ? `Cloud '${environment}' is not one whose URLs are known; edit the service connection and give its ${field}.`
        : undefined,
    );
  };
  const resourceManagerUrl = trimSlash(url ?? data('resourceManagerUrl') ?? data('environmentUrl') ?? fallback('Resource Manager URL (the connection URL)', 'resourceManagerUrl'));
  const authorityHost = trimSlash(data('environmentAuthorityUrl') ?? fallback('authority URL (environmentAuthorityUrl)', 'authorityHost'));
  const resourceManagerAudience =
    data('activeDirectoryServiceEndpointResourceId') ??
    fallback('Resource Manager audience (activeDirectoryServiceEndpointResourceId)', 'resourceManagerAudience');
  checkUrl(id, 'Resource Manager URL', resourceManagerUrl);
  checkUrl(id, 'authority URL', authorityHost);
  checkUrl(id, 'Resource Manager audience', resourceManagerAudience);
  const cloud: AzureCloud = { resourceManagerUrl, authorityHost, resourceManagerAudience };
  if (environment) cloud.name = known?.name ?? environment;
  return cloud;
}

function findKnownCloud(name: string): AzureCloud | undefined {
  const wanted = name.toLowerCase();
  for (const cloud of Object.values(KnownClouds)) if (cloud.name!.toLowerCase() === wanted) return cloud;
  return undefined;
}

function parseScheme(id: string, raw: string | undefined): AuthScheme {
  if (!raw) throw missing(id, 'authorization scheme');
  const schemes: AuthScheme[] = ['ServicePrincipal', 'WorkloadIdentityFederation', 'ManagedServiceIdentity'];
  const scheme = schemes.find((s) => s.toLowerCase() === raw.toLowerCase());
  if (!scheme) {
    throw invalid(
      id,
      `Service connection '${id}' uses authorization scheme '${raw}', which this task does not support.`,
      `Use an Azure Resource Manager service connection with a service principal, workload identity federation or a managed identity.`,
    );
  }
  return scheme;
}

function withSource(connection: Omit<ServiceConnection, 'source'>, source: CredentialSource): ServiceConnection {
  const result = { ...connection } as ServiceConnection;
  if (result.clientId === undefined) delete result.clientId;
  if (result.subscriptionId === undefined) delete result.subscriptionId;
  Object.defineProperty(result, 'source', { value: source, enumerable: false, writable: false });
  return result;
}

function clean(value: string | undefined | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function checkUrl(id: string, field: string, value: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
    throw invalid(
      id,
      `The ${field} of service connection '${id}' is '${value}', which is not a URL.`,
      `Edit the service connection and give its ${field} as an https URL.`,
    );
  }
}

function checkGuidLike(id: string, field: string, value: string): void {
  // Tenants are named by GUID or by a verified domain; anything with spaces or slashes is neither.
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(value)) {
    throw invalid(
      id,
      `The ${field} of service connection '${id}' is '${value}', which is neither a GUID nor a domain name.`,
      `Edit the service connection and give the directory (tenant) id from the app registration's overview.`,
    );
  }
}

function missing(id: string, field: string, fix?: string): FactoryError {
  return invalid(
    id,
    `Service connection '${id}' has no ${field}.`,
    fix ?? `Edit the service connection in the project settings and fill in its ${field}, or create it again.`,
  );
}

function invalid(id: string, message: string, fix: string): FactoryError {
  return new FactoryError(ErrorCodes.ServiceConnectionInvalid, message, { fix, subject: id || undefined });
}
