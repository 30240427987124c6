import type { FaultRule } from './faults';
import type { BlobDataRoleAssignment } from './storage/dataRoles';

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
  /** Marketplace SKUs and the versions each publishes, beyond or instead of the defaults (compute/marketplace.ts). */
  marketplace?: ScenarioMarketplaceSku[];
}

export interface ScenarioMarketplaceSku {
  publisher: string;
  offer: string;
  sku: string;
  /** Concrete versions (`1.2.3`), in any order. */
  versions: string[];
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
  /** Server-side blob copy speed of a copy on its own. Default 1024 MB/s. */
  copyRateMBps?: number;
  /**
   * What one source blob serves to all copies reading it at once (Azure: about 60 MiB/s for a page
   * blob); concurrent copies of one source share it. Default: `copyRateMBps`.
   */
  sourceBlobMBps?: number;
  /**
   * Speed of a copy on its own between storage accounts in different regions (a lab's account is in
   * the lab's location); it still shares its source's `sourceBlobMBps`. Default: `copyRateMBps` ÷ 4.
   */
  crossRegionCopyRateMBps?: number;
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
  /** How long a lab VM a deployment creates takes to be created and started. Default 1000 ms. */
  vmCreateDurationMs?: number;
  /** How long applying each artifact to a lab VM takes. Default 500 ms. */
  artifactDurationMs?: number;
  /** How long a VM takes to shut down after a generalizing artifact (sysprep, deprovision). Default 500 ms. */
  vmShutdownDurationMs?: number;
  /** Resource Manager's per-principal token buckets. Default true; off only to test something else. */
  armThrottling?: boolean;
  /** Read bucket size and refill per second. Default 250 and 25, as in Azure. */
  armReadBucket?: number;
  armReadRefillPerSecond?: number;
  /** Write bucket (PUT, PATCH, POST). Default 200 and 10. */
  armWriteBucket?: number;
  armWriteRefillPerSecond?: number;
  /** Delete bucket. Default 200 and 10. */
  armDeleteBucket?: number;
  armDeleteRefillPerSecond?: number;
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
  /**
   * Storage Blob Data roles on the lab's storage account (or one of its containers). Default: every
   * principal and managed identity has Storage Blob Data Contributor on it.
   */
  blobDataRoles?: BlobDataRoleAssignment[];
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
  /**
   * The marketplace image the VM was made from; its SKU decides the VM's generation (`*-gen2`, `*-g2`,
   * Windows Server Azure Edition and Windows 11 are Generation 2). Default: a Generation 1 SKU of the
   * VM's OS type.
   */
  imageReference?: { publisher: string; offer: string; sku: string; version?: string };
  /** `Standard` or `TrustedLaunch` (which needs a Generation 2 image). Default `Standard`. */
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
