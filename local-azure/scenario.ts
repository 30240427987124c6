import type { FaultRule } from './faults';

/**
 * The starting state of the local Azure. Documented in docs/local-azure.md ("Scenario files"); every field but
 * `labs` has a default, so a scenario says only what matters to it.
 */
export interface Scenario {
  /** Tenant of the identity authority. Default: a fixed GUID. */
  tenantId?: string;
  /** Service principals that may sign in. Default: one, `factory`, with a fixed id and secret. */
  principals?: ScenarioPrincipal[];
  /**
   * The managed identities of the machine a task runs on, served by its identity endpoint. Default: a
   * system-assigned and a user-assigned identity, both with fixed ids; `[]` for a machine without any.
   */
  managedIdentities?: ScenarioManagedIdentity[];
  /** Subscriptions that exist. Default: those the labs name. */
  subscriptions?: { subscriptionId: string; displayName?: string }[];
  labs: ScenarioLab[];
  /** Azure Compute Galleries that exist at the start (empty: their images come from the API). */
  galleries?: ScenarioGallery[];
  settings?: ScenarioSettings;
  faults?: FaultRule[];
}

export interface ScenarioPrincipal {
  clientId: string;
  clientSecret?: string;
  /** PEM certificate whose key signs client assertions (certificate credential). */
  certificatePem?: string;
  displayName?: string;
  /** Object id of the service principal (`oid` in its tokens). Default: derived from clientId. */
  objectId?: string;
  /**
   * Federated credentials: assertions from these issuers with these subjects sign in as this principal.
   * Default: the local OIDC issuer with subject `sc://LocalOrg/ImageFactory/LocalAzure`.
   */
  federatedCredentials?: ScenarioFederatedCredential[];
}

export interface ScenarioManagedIdentity {
  type: 'SystemAssigned' | 'UserAssigned';
  /** Its client id: how a service connection names a user-assigned identity. Default: derived from the type. */
  clientId?: string;
  /** Object id (`oid` in its tokens). Default: derived from clientId. */
  objectId?: string;
  displayName?: string;
}

export interface ScenarioFederatedCredential {
  /** Default: the local OIDC issuer (`<armUrl>/__local/oidc`). */
  issuer?: string;
  subject: string;
  /** Default: `api://AzureADTokenExchange`. */
  audiences?: string[];
}

export interface ScenarioSettings {
  /** Server-side blob copy speed. Default 1024 MB/s. */
  copyRateMBps?: number;
  /** How long an ordinary long-running operation (delete, grant access) takes. Default 200 ms. */
  lroDurationMs?: number;
  /** How long creating a custom image from a VHD takes. Default 500 ms. */
  customImageDurationMs?: number;
  /** Retry-After (seconds) returned while a long-running operation runs. Default 1. */
  lroRetryAfterSeconds?: number;
  /** Access token lifetime. Default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** Lab VMs per page in list answers (nextLink paging). Default 100. */
  pageSize?: number;
  /** Speed of a gallery image version's replication into each target region. Default 2048 MB/s. */
  galleryReplicationRateMBps?: number;
}

export interface ScenarioLab {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** Azure region. Default `westus2`. */
  location?: string;
  /** The lab's storage account name. Default: derived from the lab name, unique. */
  storageAccount?: string;
  /** The principal may not read this lab (403 AuthorizationFailed on every call). */
  denyAccess?: boolean;
  tags?: Record<string, string>;
  vms?: ScenarioVm[];
  customImages?: ScenarioCustomImage[];
  /** VHDs already in the lab's `uploads` container (a factory image store, say). */
  vhds?: ScenarioVhd[];
  /** An Azure Compute Gallery already attached to the lab. */
  sharedGallery?: { name: string; galleryId: string; allowAllImages?: 'Enabled' | 'Disabled' };
}

export interface ScenarioVm {
  name: string;
  tags?: Record<string, string>;
  osType?: 'Windows' | 'Linux';
  /** Compute power state: `deallocated`, `stopped`, `running`, `starting`, `deallocating`. Default `deallocated`. */
  powerState?: string;
  /** `Succeeded`, `Failed`, `Creating`. Default `Succeeded`. */
  provisioningState?: string;
  notes?: string;
  /** OS disk size. Default 1 GiB; copy time is size ÷ copyRateMBps. */
  diskSizeGB?: number;
  createdDate?: string;
  /** Compute VM size. Default `Standard_DS2_v2`. */
  size?: string;
  /** Hyper-V generation of the VM and its disks. Default `V1`. */
  hyperVGeneration?: 'V1' | 'V2';
  /** `TrustedLaunch` (needs `V2`) or `Standard`. Default `Standard`. */
  securityType?: 'Standard' | 'TrustedLaunch';
  /** Data disks: a managed disk per LUN. */
  dataDisks?: { lun: number; diskSizeGB?: number }[];
}

export interface ScenarioCustomImage {
  name: string;
  tags?: Record<string, string>;
  osType?: 'Windows' | 'Linux';
  /** ISO date. Default: now. */
  creationDate?: string;
  provisioningState?: string;
  author?: string;
  description?: string;
}

export interface ScenarioVhd {
  name: string;
  sizeBytes?: number;
  metadata?: Record<string, string>;
}

export interface ScenarioGallery {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** Default `westus2`. */
  location?: string;
  tags?: Record<string, string>;
  description?: string;
}
