import { DEFAULT_FEDERATED_SUBJECT, type Principal } from './identity/state';

/**
 * The variables the Azure Pipelines agent gives a task for an AzureRM service connection to the local
 * Azure, for each scheme it serves.
 */

/** The service connection variables a task reads, as the Azure Pipelines agent sets them. */
export type ServiceConnectionEnv = Record<string, string>;

export const DEFAULT_CONNECTION_ID = 'LocalAzure';
/** The environment name the service connection carries: not a public cloud, so its URLs are used as given. */
export const ENVIRONMENT_NAME = 'LocalAzure';
/** Federation token subjects name the service connection, as Azure DevOps' do: `sc://<org>/<project>/<connection>`. */
const FEDERATED_SUBJECT_PREFIX = DEFAULT_FEDERATED_SUBJECT.slice(0, DEFAULT_FEDERATED_SUBJECT.lastIndexOf('/') + 1);

/**
 * The schemes of an AzureRM service connection the local Azure serves. `ServicePrincipalCertificate` is
 * the agent's ServicePrincipal scheme with authenticationType spnCertificate.
 */
export const CONNECTION_SCHEMES = ['ServicePrincipal', 'ServicePrincipalCertificate', 'WorkloadIdentityFederation', 'ManagedServiceIdentity'] as const;
export type ConnectionScheme = (typeof CONNECTION_SCHEMES)[number];

export interface ConnectionOptions {
  scheme?: ConnectionScheme;
  /** The service principal (default: the first), or for ManagedServiceIdentity a user-assigned identity (default: system-assigned). */
  clientId?: string;
  subscriptionId?: string;
  /** For ServicePrincipalCertificate: the PEM of the private key and certificate (see createCertificateCredential). */
  certificatePem?: string;
}

export interface ServiceConnectionValues {
  connectionId: string;
  scheme: ConnectionScheme;
  armUrl: string;
  authorityUrl: string;
  tenantId: string;
  subscriptionId?: string;
  caCertPath: string;
  /** The service principal, for every scheme but ManagedServiceIdentity. */
  principal?: Principal;
  certificatePem?: string;
  /** For workload identity federation: where the job asks for an OIDC token, and its access token. */
  oidcRequestUri?: string;
  jobAccessToken?: string;
  federationIssuer?: string;
  /** For a managed identity: the user-assigned identity (none: system-assigned) and the machine's identity endpoint. */
  userAssignedClientId?: string;
  identityEndpoint?: string;
  identityHeader?: string;
}

/**
 * The variables the agent sets for an AzureRM service connection: URL, authorization (as JSON and as
 * single parameters), data, plus the CA a Node task must trust, and what the scheme takes from outside
 * the connection: the job's OIDC request URL and access token (workload identity federation), the
 * machine's identity endpoint (managed identity).
 */
export function serviceConnectionEnv(values: ServiceConnectionValues): ServiceConnectionEnv {
  const id = values.connectionId;
  const agentScheme = values.scheme === 'ServicePrincipalCertificate' ? 'ServicePrincipal' : values.scheme;
  const clientId = () => {
    if (!values.principal) throw new Error(`A ${values.scheme} connection needs a service principal.`);
    return values.principal.clientId;
  };
  let parameters: Record<string, string>;
  switch (values.scheme) {
    case 'ServicePrincipal':
      parameters = { authenticationType: 'spnKey', serviceprincipalid: clientId(), serviceprincipalkey: values.principal!.clientSecret ?? '', tenantid: values.tenantId };
      break;
    case 'ServicePrincipalCertificate':
      if (!values.certificatePem) throw new Error('A ServicePrincipalCertificate connection needs the certificate PEM.');
      parameters = { authenticationType: 'spnCertificate', serviceprincipalid: clientId(), servicePrincipalCertificate: values.certificatePem, tenantid: values.tenantId };
      break;
    case 'WorkloadIdentityFederation':
      parameters = {
        serviceprincipalid: clientId(),
        tenantid: values.tenantId,
        workloadIdentityFederationIssuer: values.federationIssuer ?? '',
        workloadIdentityFederationSubject: `${FEDERATED_SUBJECT_PREFIX}${id}`,
      };
      break;
    case 'ManagedServiceIdentity':
      parameters = { tenantid: values.tenantId };
      break;
  }
  const env: ServiceConnectionEnv = {
    [`ENDPOINT_URL_${id}`]: `${values.armUrl}/`,
    [`ENDPOINT_AUTH_${id}`]: JSON.stringify({ scheme: agentScheme, parameters }),
    [`ENDPOINT_AUTH_SCHEME_${id}`]: agentScheme,
    [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: ENVIRONMENT_NAME,
    [`ENDPOINT_DATA_${id}_ENVIRONMENTAUTHORITYURL`]: `${values.authorityUrl}/`,
    [`ENDPOINT_DATA_${id}_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID`]: 'https://management.core.windows.net/',
    [`ENDPOINT_DATA_${id}_RESOURCEMANAGERURL`]: `${values.armUrl}/`,
    [`ENDPOINT_DATA_${id}_SCOPELEVEL`]: 'Subscription',
    NODE_EXTRA_CA_CERTS: values.caCertPath,
    INPUT_AZURESUBSCRIPTION: id,
  };
  for (const [key, value] of Object.entries(parameters)) env[`ENDPOINT_AUTH_PARAMETER_${id}_${key.toUpperCase()}`] = value;
  if (values.subscriptionId) {
    env[`ENDPOINT_DATA_${id}_SUBSCRIPTIONID`] = values.subscriptionId;
    env[`ENDPOINT_DATA_${id}_SUBSCRIPTIONNAME`] = `Subscription ${values.subscriptionId.slice(0, 8)}`;
  }
  if (values.scheme === 'WorkloadIdentityFederation') {
    env.SYSTEM_OIDCREQUESTURI = values.oidcRequestUri ?? '';
    env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN = values.jobAccessToken ?? '';
  }
  if (values.scheme === 'ManagedServiceIdentity') {
    if (values.userAssignedClientId) env[`ENDPOINT_DATA_${id}_MSICLIENTID`] = values.userAssignedClientId;
    // The machine's identity endpoint, as a host with a managed identity exposes it to its processes.
    env.IDENTITY_ENDPOINT = values.identityEndpoint ?? '';
    env.IDENTITY_HEADER = values.identityHeader ?? '';
  }
  return env;
}
