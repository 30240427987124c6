import { same, stableGuid } from '../ids';
import type { Scenario, ScenarioFederatedCredential, ScenarioManagedIdentity, ScenarioPrincipal } from '../scenario';

/** The identity slice of the local Azure's state: the tenant, its service principals and the machine's managed identities. */

export const DEFAULT_TENANT_ID = '5f0d8a8c-6a3e-4c1b-9e2d-7b4a1c3e5d6f';
export const DEFAULT_CLIENT_ID = '3c9a6e12-4b7d-4f0e-8a21-6d5c4b3a2f10';
export const DEFAULT_CLIENT_SECRET = 'local-azure-factory-secret';
/** Subject of the default federated credential: an Azure DevOps service connection `LocalAzure`. */
export const DEFAULT_FEDERATED_SUBJECT = 'sc://LocalOrg/ImageFactory/LocalAzure';
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
/** The managed identities of a machine whose scenario names none. */
export const DEFAULT_MANAGED_IDENTITIES: readonly ScenarioManagedIdentity[] = [
  { type: 'SystemAssigned', clientId: '7d4e2a91-3c5b-4f60-9a18-2b6c4d8e0f13', displayName: 'agent (system-assigned)' },
  { type: 'UserAssigned', clientId: '1f8b3c6d-9e2a-4d75-8c41-5a0e7b2d9f64', displayName: 'image-factory-identity' },
];
export const MANAGED_IDENTITY_TYPES = ['SystemAssigned', 'UserAssigned'] as const;

export interface FederatedCredential {
  /** undefined: the local OIDC issuer. */
  issuer?: string;
  subject: string;
  audiences: string[];
}

export interface Principal {
  clientId: string;
  clientSecret?: string;
  /** PEM certificates whose keys sign its client assertions. */
  certificates: string[];
  displayName: string;
  objectId: string;
  federatedCredentials: FederatedCredential[];
  /** Set for a managed identity of the machine: it gets tokens only from the identity endpoint. */
  managedIdentity?: ScenarioManagedIdentity['type'];
}

export class IdentityState {
  readonly tenantId: string;
  readonly principals: Principal[];
  readonly managedIdentities: Principal[];

  constructor(scenario: Pick<Scenario, 'tenantId' | 'principals' | 'managedIdentities'>) {
    this.tenantId = scenario.tenantId ?? DEFAULT_TENANT_ID;
    this.principals = (scenario.principals ?? [{ clientId: DEFAULT_CLIENT_ID, clientSecret: DEFAULT_CLIENT_SECRET, displayName: 'factory' }]).map(toPrincipal);
    this.managedIdentities = (scenario.managedIdentities ?? DEFAULT_MANAGED_IDENTITIES).map(toManagedIdentity);
  }

  /** The principal a service connection signs in as by default: the first. */
  get defaultPrincipal(): Principal {
    return this.principals[0];
  }

  /** A service principal that signs in at the token endpoint. */
  findPrincipal(clientId: string): Principal | undefined {
    return this.principals.find((p) => same(p.clientId, clientId));
  }

  /** Whoever a token is for: a service principal or a managed identity. */
  findPrincipalByObjectId(objectId: string): Principal | undefined {
    return [...this.principals, ...this.managedIdentities].find((p) => same(p.objectId, objectId));
  }

  /** The machine's system-assigned identity, or its user-assigned identity with `clientId` (or `objectId`). */
  findManagedIdentity(id: { clientId?: string; objectId?: string }): Principal | undefined {
    if (id.clientId) return this.managedIdentities.find((p) => p.managedIdentity === 'UserAssigned' && same(p.clientId, id.clientId!));
    if (id.objectId) return this.managedIdentities.find((p) => p.managedIdentity === 'UserAssigned' && same(p.objectId, id.objectId!));
    return this.managedIdentities.find((p) => p.managedIdentity === 'SystemAssigned');
  }

  /** Registers one more certificate on a service principal (a certificate credential made at start). */
  addCertificate(clientId: string, certificatePem: string): void {
    const principal = this.findPrincipal(clientId);
    if (!principal) throw new Error(`The scenario has no principal ${clientId}.`);
    principal.certificates.push(certificatePem);
  }
}

function toPrincipal(principal: ScenarioPrincipal): Principal {
  return {
    clientId: principal.clientId,
    clientSecret: principal.clientSecret,
    certificates: principal.certificatePem ? [principal.certificatePem] : [],
    displayName: principal.displayName ?? principal.clientId,
    objectId: principal.objectId ?? stableGuid(`oid:${principal.clientId.toLowerCase()}`),
    federatedCredentials: (principal.federatedCredentials ?? [{ subject: DEFAULT_FEDERATED_SUBJECT }]).map((fc: ScenarioFederatedCredential) => ({
      issuer: fc.issuer,
      subject: fc.subject,
      audiences: fc.audiences ?? [TOKEN_EXCHANGE_AUDIENCE],
    })),
  };
}

function toManagedIdentity(identity: ScenarioManagedIdentity): Principal {
  const clientId = identity.clientId ?? DEFAULT_MANAGED_IDENTITIES.find((d) => d.type === identity.type)!.clientId!;
  return {
    clientId,
    certificates: [],
    displayName: identity.displayName ?? `${identity.type === 'SystemAssigned' ? 'system' : 'user'}-assigned identity ${clientId}`,
    objectId: identity.objectId ?? stableGuid(`oid:${clientId.toLowerCase()}`),
    federatedCredentials: [],
    managedIdentity: identity.type,
  };
}
