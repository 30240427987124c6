import type { BlobItem, ContainerClient } from '@azure/storage-blob';
import type { LabStorage } from './azure/labs';
import { callAzure } from './azure/azureErrors';
import { type FactoryImage, fromBlobMetadata, isClaimPlaceholder, storeBlobName } from './factoryImages';
import type { Reporter } from './report';

/**
 * The factory image store: the factory lab's `uploads` container, one page blob per image carrying the
 * image's metadata. SnapImagesFromVMs writes it, DistributeImages reads it, RetireImages prunes it.
 * Reading and deleting use Azure AD data-plane access; copy sources and destinations are DevTest
 * Labs upload URIs, so no step ever needs the storage account's keys.
 */
export interface StoredImage extends FactoryImage {
  blobName: string;
  /** The blob's URL without any SAS. */
  blobUrl: string;
  /** A run holds the blob's lease: it is still at work on it (revoking its disk access, say). */
  leased?: boolean;
}

export type IncompleteCopyStatus = 'pending' | 'failed' | 'aborted';

export interface IncompleteImage {
  blobName: string;
  copyStatus: IncompleteCopyStatus;
  image?: FactoryImage;
}

export interface StoreListing {
  /** Complete factory images: copy succeeded, or the blob was not made by a copy. */
  images: StoredImage[];
  /** Factory blobs whose copy is still pending or ended failed or aborted. */
  incomplete: IncompleteImage[];
  /** How many blobs are not the factory's; never touched. */
  otherBlobs: number;
  /** Their names, so that no new image takes one. */
  otherBlobNames: string[];
}

/** Classifies one listed blob; pure, so the rules are tested without storage. */
export function classifyStoreBlob(
  blob: Pick<BlobItem, 'name' | 'metadata'> & { properties: Pick<BlobItem['properties'], 'copyStatus'> },
):
  | { kind: 'image'; image: FactoryImage }
  | { kind: 'incomplete'; copyStatus: IncompleteCopyStatus; image: FactoryImage }
  | { kind: 'other' } {
  const image = fromBlobMetadata(blob.metadata);
  if (!image) return { kind: 'other' };
  const copyStatus = blob.properties.copyStatus;
  // A run's claim on the name, its copy not started yet: as good as a pending copy of that disk.
  if (copyStatus === undefined && isClaimPlaceholder(blob.metadata)) return { kind: 'incomplete', copyStatus: 'pending', image };
  if (copyStatus === undefined || copyStatus === 'success') return { kind: 'image', image };
  return { kind: 'incomplete', copyStatus, image };
}

export class ImageStore {
  constructor(
    private readonly storage: LabStorage,
    private readonly reporter: Reporter,
  ) {}

  /** The lab whose storage holds the store. */
  get lab(): LabStorage['lab'] {
    return this.storage.lab;
  }

  async list(options: { signal?: AbortSignal } = {}): Promise<StoreListing> {
    const container = await this.storage.containerClient({ signal: options.signal });
    const listing: StoreListing = { images: [], incomplete: [], otherBlobs: 0, otherBlobNames: [] };
    await callAzure(`Listing the factory image store of lab '${this.lab.name}'`, async () => {
      for await (const blob of container.listBlobsFlat({
        includeMetadata: true,
        includeCopy: true,
        abortSignal: options.signal,
      })) {
        const found = classifyStoreBlob(blob);
        if (found.kind === 'image') {
          listing.images.push({
            ...found.image,
            blobName: blob.name,
            blobUrl: container.getBlobClient(blob.name).url,
            leased: blob.properties.leaseState === 'leased',
          });
        } else if (found.kind === 'incomplete') {
          listing.incomplete.push({ blobName: blob.name, copyStatus: found.copyStatus, image: found.image });
        } else {
          listing.otherBlobs++;
          listing.otherBlobNames.push(blob.name);
        }
      }
    }, { subject: this.lab.name });
    this.reporter.debug(
      `Image store of lab '${this.lab.name}': ${listing.images.length} image(s), ${listing.incomplete.length} incomplete copy(ies), ${listing.otherBlobs} other blob(s).`,
    );
    return listing;
  }

  /** A read SAS URL of an image's VHD, to use as a copy source; the SAS is masked in logs. */
  async sourceUrl(imageName: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    return this.storage.uploadUri(storeBlobName(imageName), { signal: options.signal });
  }

  /**
   * Deletes a blob of the store; a blob that is already gone is not an error. A copy still pending on
   * the blob is aborted first, since storage refuses to delete a blob with a pending copy.
   */
  async delete(blobName: string, options: { signal?: AbortSignal; leaseId?: string } = {}): Promise<void> {
    const container = await this.storage.containerClient({ signal: options.signal });
    const blob = container.getBlobClient(blobName);
    const conditions = options.leaseId ? { leaseId: options.leaseId } : undefined;
    await callAzure(`Deleting '${blobName}' from the factory image store of lab '${this.lab.name}'`, async () => {
      try {
        await blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal: options.signal, conditions });
      } catch (error) {
        if (errorCode(error) !== 'PendingCopyOperation') throw error;
        await abortPendingCopy(container, blobName, options.signal, conditions);
        await blob.deleteIfExists({ deleteSnapshots: 'include', abortSignal: options.signal, conditions });
      }
    }, { subject: blobName });
    this.reporter.debug(`Deleted '${blobName}' from the image store of lab '${this.lab.name}'.`);
  }
}

async function abortPendingCopy(container: ContainerClient, blobName: string, signal?: AbortSignal, conditions?: { leaseId: string }): Promise<void> {
  const blob = container.getBlobClient(blobName);
  const properties = await blob.getProperties({ abortSignal: signal });
  if (properties.copyStatus !== 'pending' || !properties.copyId) return;
  try {
    await blob.abortCopyFromURL(properties.copyId, { abortSignal: signal, conditions });
  } catch (error) {
    // The copy may have ended between the two calls; then there is nothing left to abort.
    if (errorCode(error) !== 'NoPendingCopyOperation') throw error;
  }
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; details?: { errorCode?: unknown } };
  if (typeof e.details?.errorCode === 'string') return e.details.errorCode;
  return typeof e.code === 'string' ? e.code : undefined;
}
