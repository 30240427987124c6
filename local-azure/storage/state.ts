import type { Principal } from '../identity/state';
import { allowsData, type BlobDataRoleAssignment, type DataAction } from './dataRoles';

/**
 * The Storage slice of the local Azure's state: the storage accounts the scenario's services made (a
 * lab's, say) and the blobs they hold at start. Their contents live in Azurite, behind the blob front
 * (storage/blobService.ts); the account that holds managed disks' bytes is the blob service's own.
 */

export interface StorageAccount {
  subscriptionId: string;
  resourceGroup: string;
  /** Lower case, as storage account names are. */
  name: string;
  /** Its region: a lab's account is in the lab's location. Copies between regions are slower. */
  location: string;
  /** The principal may not use it (a lab's denyAccess). */
  denyAccess: boolean;
  /** Who holds which Storage Blob Data role on it; undefined: every principal, Contributor. */
  blobDataRoles?: BlobDataRoleAssignment[];
  /** Page blobs (VHDs) it holds when the local Azure starts. */
  initialBlobs: InitialBlob[];
}

export interface InitialBlob {
  container: string;
  name: string;
  sizeBytes: number;
  metadata?: Record<string, string>;
}

export class StorageState {
  readonly accounts: StorageAccount[] = [];

  addAccount(account: StorageAccount): StorageAccount {
    this.accounts.push(account);
    return account;
  }

  findAccount(name: string): StorageAccount | undefined {
    return this.accounts.find((account) => account.name === name.toLowerCase());
  }

  accountNames(): string[] {
    return this.accounts.map((account) => account.name);
  }

  /** Each account's region, by name. */
  accountRegions(): Map<string, string> {
    return new Map(this.accounts.map((account) => [account.name, account.location.toLowerCase()]));
  }

  /**
   * Whether the principal a bearer token is for (undefined: none of the tenant's) may do `action` on the
   * account's blob data in `container`: as its Storage Blob Data roles allow (dataRoles.ts), and never
   * on an account the scenario denies.
   */
  canAccessData(principal: Principal | undefined, accountName: string, container: string | undefined, action: DataAction): boolean {
    const account = this.findAccount(accountName);
    return !!principal && !!account && !account.denyAccess && allowsData(account.blobDataRoles, principal, container, action);
  }
}

export function storageAccountId(account: Pick<StorageAccount, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${account.subscriptionId}/resourceGroups/${account.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${account.name}`;
}
