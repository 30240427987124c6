import { DISKS_ACCOUNT, DISKS_CONTAINER, type BlobService } from '../storage/blobService';
import type { Disk } from './state';

const GIB = 1024 * 1024 * 1024;

/** A managed disk's bytes: a page blob of its size in blob storage's disks account, which a disk grant exports. */
export function createDiskBlob(blob: BlobService, disk: Disk): Promise<void> {
  return blob.createPageBlob(DISKS_ACCOUNT, DISKS_CONTAINER, disk.name, disk.sizeGB * GIB);
}
