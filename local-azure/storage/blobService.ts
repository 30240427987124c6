import { randomBytes } from 'node:crypto';
import * as https from 'node:https';
import pLimit from 'p-limit';
import type { AddressInfo } from 'node:net';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobSASPermissions,
  BlobServiceClient,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
  RestError,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import type { FaultPlan } from '../faults';
import type { Metrics } from '../metrics';
import type { AuthenticationOptions } from './authentication';
import { startAzurite } from './azurite';
import { type CopyLogEntry, CopyTracker, SOURCE_AUTH_FAILED_DESCRIPTION } from './copies';
import { DiskGrants } from './diskGrants';
import { BlobFront } from './front';
import { PAGE_SIZE, pageBlobHeader, vhdFooter } from './pageBlobContent';
import { blobKey, encodeBlobPath } from './requestTarget';
import { UserDelegationKeys } from './userDelegation';

/** Containers created at once when the local Azure starts. */
const CONTAINER_SETUP_CONCURRENCY = 32;

export { pageBlobHeader } from './pageBlobContent';

/** The container every lab storage account has, where DevTest Labs upload URIs point. */
const LAB_UPLOADS_CONTAINER = 'uploads';
/**
 * The storage account that holds managed disks' bytes (always present, besides the lab accounts), and
 * its container: `createPageBlob(DISKS_ACCOUNT, DISKS_CONTAINER, <diskName>, size)` makes a disk that
 * `grantDiskRead(<diskName>)` can export.
 */
export const DISKS_ACCOUNT = 'mddisks';
export const DISKS_CONTAINER = 'disks';

export interface BlobServiceOptions {
  tls: { key: string; cert: string };
  host?: string;
  port?: number;
  accounts: string[];
  copyRateMBps: number;
  /** What one source blob serves to all copies reading it; default `copyRateMBps`. */
  sourceBlobMBps?: number;
  /** A copy between accounts in different regions on its own; default a fraction of `copyRateMBps` (copies.ts). */
  crossRegionCopyRateMBps?: number;
  /** Each account's region (its lab's location); the managed disks' account has none. */
  accountRegions?: ReadonlyMap<string, string>;
  verifyBearer: AuthenticationOptions['verifyBearer'];
  canAccessData: AuthenticationOptions['canAccessData'];
  faults: FaultPlan;
  metrics: Metrics;
}

export interface BlobService {
  /** `https://<host>:<port>` */
  readonly url: string;
  /** `https://<host>:<port>/<account>`: path-style, as for an IP endpoint. */
  accountUrl(account: string): string;
  /** A sparse page blob: a recognizable first page and a VHD footer, nothing else written. */
  createPageBlob(
    account: string,
    container: string,
    blob: string,
    sizeBytes: number,
    options?: { metadata?: Record<string, string>; headerFacts?: Record<string, string> },
  ): Promise<void>;
  blobSasUrl(account: string, container: string, blob: string, permissions: string, expiresOn: Date): string;
  /** A read SAS URL for the disk's blob (see DISKS_ACCOUNT), valid until revoked or expired. */
  grantDiskRead(diskName: string, durationSeconds: number): Promise<string>;
  revokeDiskRead(diskName: string): void;
  activeDiskGrants(): string[];
  /** Every Copy Blob started, oldest first: which blob each destination was copied from. */
  copyLog(): CopyLogEntry[];
  listBlobs(
    account: string,
    container: string,
  ): Promise<{ name: string; sizeBytes: number; metadata: Record<string, string>; copyStatus?: string; copyProgress?: string }[]>;
  blobExists(account: string, container: string, blob: string): Promise<{ sizeBytes: number; copyStatus?: string } | undefined>;
  /** What a VHD reader looks at: the blob's type and size, its first page and its last 512 bytes (the VHD footer). */
  readBlobEnds(account: string, container: string, blob: string): Promise<BlobEnds | undefined>;
  stop(): Promise<void>;
}

export interface BlobEnds {
  blobType: string;
  sizeBytes: number;
  /** The first 512 bytes (fewer for a smaller blob). */
  head: Buffer;
  /** The last 512 bytes (fewer for a smaller blob). */
  tail: Buffer;
}

interface DiskLocation {
  account: string;
  container: string;
  blob: string;
}

/**
 * Blob storage for the local Azure: Azurite in this process on loopback HTTP, behind an HTTPS front
 * that authenticates as Azure does, injects faults and models asynchronous copies.
 */
export async function startBlobService(options: BlobServiceOptions): Promise<BlobService> {
  const host = options.host ?? '127.0.0.1';
  const keys = new Map<string, Buffer>();
  for (const account of [...options.accounts, DISKS_ACCOUNT]) if (!keys.has(account)) keys.set(account, randomBytes(64));
  const credentials = new Map<string, StorageSharedKeyCredential>();
  for (const [account, key] of keys) credentials.set(account, new StorageSharedKeyCredential(account, key.toString('base64')));
  const azurite = await startAzurite(keys);
  const grants = new DiskGrants();
  const disks = new Map<string, DiskLocation>();

  const accountSas = new Map<string, string>();
  const farFuture = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  for (const [account, credential] of credentials) {
    accountSas.set(
      account,
      generateAccountSASQueryParameters(
        {
          services: AccountSASServices.parse('b').toString(),
          resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
          permissions: AccountSASPermissions.parse('rwdlacupi'),
          expiresOn: farFuture,
        },
        credential,
      ).toString(),
    );
  }

  const adminClients = new Map<string, BlobServiceClient>();
  const admin = (account: string): BlobServiceClient => {
    const credential = credentials.get(account);
    if (!credential) throw new Error(`Storage account ${account} is not one of this blob service's accounts.`);
    let client = adminClients.get(account);
    if (!client) {
      client = new BlobServiceClient(`${azurite.origin}/${account}`, credential);
      adminClients.set(account, client);
    }
    return client;
  };
  const splitKey = (key: string): DiskLocation => {
    const [account, container, ...rest] = key.split('/');
    return { account, container, blob: rest.join('/') };
  };

  const emptyDestination = async (key: string): Promise<void> => {
    const { account, container, blob } = splitKey(key);
    const client = admin(account).getContainerClient(container).getBlobClient(blob);
    // Azure ends a copy whatever lease the destination holds; Azurite wants the lease the copy started under.
    const leaseId = tracker.get(key)?.leaseId;
    const conditions = leaseId ? { leaseId } : undefined;
    try {
      const properties = await client.getProperties();
      const metadata = properties.metadata ?? {};
      if (properties.blobType === 'PageBlob') await client.getPageBlobClient().create(0, { metadata, conditions });
      else if (properties.blobType === 'AppendBlob') await client.getAppendBlobClient().create({ metadata, conditions });
      else await client.getBlockBlobClient().upload('', 0, { metadata, conditions });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return;
      throw error;
    }
  };

  const tracker = new CopyTracker(options.copyRateMBps, emptyDestination, Date.now, options.sourceBlobMBps, options.crossRegionCopyRateMBps);

  let port = 0;
  const front = new BlobFront({
    azuriteOrigin: azurite.origin,
    frontOrigin: () => `https://${host}:${port}`,
    frontPort: () => port,
    frontHost: host,
    accounts: new Set(keys.keys()),
    accountSas,
    tracker,
    grants,
    faults: options.faults,
    metrics: options.metrics,
    verifyBearer: options.verifyBearer,
    canAccessData: options.canAccessData,
    delegation: new UserDelegationKeys(),
    accountRegion: (account) => options.accountRegions?.get(account),
  });
  // Headers up to 64 KiB, as Azure takes them, so that oversized metadata meets Azure's own answer.
  const server = https.createServer({ key: options.tls.key, cert: options.tls.cert, maxHeaderSize: 64 * 1024 }, front.handle);
  try {
    // A few dozen at a time: Azurite refuses some of ten thousand requests sent at once (a scenario of 10,000 labs).
    const limit = pLimit(CONTAINER_SETUP_CONCURRENCY);
    const labAccounts = new Set(options.accounts);
    await Promise.all(
      [...keys.keys()].map((account) =>
        limit(() =>
          admin(account)
            .getContainerClient(labAccounts.has(account) ? LAB_UPLOADS_CONTAINER : DISKS_CONTAINER)
            .createIfNotExists(),
        ),
      ),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    front.close();
    await azurite.close();
    throw error;
  }
  port = (server.address() as AddressInfo).port;
  const url = `https://${host}:${port}`;

  const sasQuery = (account: string, container: string, blob: string, permissions: string, expiresOn: Date): string => {
    const credential = credentials.get(account);
    if (!credential) throw new Error(`Storage account ${account} is not one of this blob service's accounts.`);
    return generateBlobSASQueryParameters(
      { containerName: container, blobName: blob, permissions: BlobSASPermissions.parse(permissions), expiresOn },
      credential,
    ).toString();
  };
  const blobUrl = (account: string, container: string, blob: string): string =>
    `${url}/${encodeURIComponent(account)}/${encodeBlobPath(container, blob)}`;

  const findDisk = (diskName: string): DiskLocation | undefined => disks.get(diskName.toLowerCase());
  const rememberDisk = (location: DiskLocation): void => {
    const names = new Set([location.blob, location.blob.replace(/\.vhd$/i, '')]);
    for (const name of names) {
      const key = name.toLowerCase();
      const known = disks.get(key);
      // Blobs in the disks container win over same-named blobs elsewhere (an uploaded VHD, say).
      if (known && known.container === DISKS_CONTAINER && location.container !== DISKS_CONTAINER) continue;
      disks.set(key, location);
    }
  };

  let stopped = false;
  return {
    url,
    accountUrl: (account) => `${url}/${encodeURIComponent(account)}`,

    async createPageBlob(account, container, blob, sizeBytes, createOptions = {}) {
      if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE !== 0) {
        throw new RangeError(`Page blob ${account}/${container}/${blob}: size ${sizeBytes} is not a positive multiple of 512 bytes.`);
      }
      const containerClient = admin(account).getContainerClient(container);
      await containerClient.createIfNotExists();
      const page = containerClient.getPageBlobClient(blob);
      await page.create(sizeBytes, { metadata: createOptions.metadata });
      await page.uploadPages(pageBlobHeader(account, container, blob, sizeBytes, createOptions.headerFacts), 0, PAGE_SIZE);
      if (sizeBytes >= 2 * PAGE_SIZE) {
        await page.uploadPages(vhdFooter(sizeBytes, randomBytes(16)), sizeBytes - PAGE_SIZE, PAGE_SIZE);
      }
      tracker.forget(blobKey(account, container, blob));
      rememberDisk({ account, container, blob });
    },

    blobSasUrl(account, container, blob, permissions, expiresOn) {
      return `${blobUrl(account, container, blob)}?${sasQuery(account, container, blob, permissions, expiresOn)}`;
    },

    async grantDiskRead(diskName, durationSeconds) {
      const location = findDisk(diskName);
      if (!location) {
        throw new Error(`Disk ${diskName} has no blob: create it with createPageBlob(DISKS_ACCOUNT, DISKS_CONTAINER, '${diskName}', <size>).`);
      }
      const expiresOn = new Date(Date.now() + durationSeconds * 1000);
      const query = sasQuery(location.account, location.container, location.blob, 'r', expiresOn);
      const signature = new URLSearchParams(query).get('sig')!;
      // The SAS carries whole seconds; the grant ends when the SAS does.
      grants.issue(diskName, signature, Math.floor(expiresOn.getTime() / 1000) * 1000);
      return `${blobUrl(location.account, location.container, location.blob)}?${query}`;
    },

    revokeDiskRead(diskName) {
      grants.revoke(diskName);
      for (const record of tracker.pendingFromDisk(diskName)) tracker.end(record, 'failed', SOURCE_AUTH_FAILED_DESCRIPTION);
    },

    activeDiskGrants: () => grants.activeDisks(),

    copyLog: () => tracker.log(),

    async listBlobs(account, container) {
      await Promise.all(tracker.under(`${account}/${container}/`).map((record) => tracker.settle(record)));
      const containerClient = admin(account).getContainerClient(container);
      const blobs = [];
      try {
        for await (const item of containerClient.listBlobsFlat({ includeMetadata: true, includeCopy: true })) {
          const record = tracker.get(blobKey(account, container, item.name));
          const state = record ? tracker.state(record) : undefined;
          blobs.push({
            name: item.name,
            sizeBytes: item.properties.contentLength ?? 0,
            metadata: item.metadata ?? {},
            copyStatus: state?.status ?? item.properties.copyStatus,
            copyProgress: state?.progress ?? item.properties.copyProgress,
          });
        }
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return [];
        throw error;
      }
      return blobs;
    },

    async blobExists(account, container, blob) {
      const key = blobKey(account, container, blob);
      const settling = tracker.get(key);
      if (settling) await tracker.settle(settling);
      try {
        const properties = await admin(account).getContainerClient(container).getBlobClient(blob).getProperties();
        const record = tracker.get(key);
        const copyStatus = record ? tracker.state(record).status : properties.copyStatus;
        return { sizeBytes: properties.contentLength ?? 0, copyStatus };
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
      }
    },

    async readBlobEnds(account, container, blob) {
      const settling = tracker.get(blobKey(account, container, blob));
      if (settling) await tracker.settle(settling);
      const client = admin(account).getContainerClient(container).getBlobClient(blob);
      try {
        const properties = await client.getProperties();
        const sizeBytes = properties.contentLength ?? 0;
        const read = async (offset: number): Promise<Buffer> =>
          sizeBytes === 0 ? Buffer.alloc(0) : client.downloadToBuffer(offset, Math.min(PAGE_SIZE, sizeBytes - offset));
        const head = await read(0);
        const tail = await read(Math.max(0, sizeBytes - PAGE_SIZE));
        return { blobType: properties.blobType ?? 'BlockBlob', sizeBytes, head, tail };
      } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
      }
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      front.close();
      await azurite.close();
    },
  };
}
