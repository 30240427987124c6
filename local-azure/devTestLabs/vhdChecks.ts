import { bootGenerationOf } from '../compute/diskBlobs';
import type { HyperVGeneration } from '../compute/marketplace';
import { ArmError } from '../http';
import type { BlobEnds } from '../storage/blobService';
import { PAGE_SIZE, readPageBlobHeader, readVhdFooter, VHD_DISK_TYPE_FIXED } from '../storage/pageBlobContent';

/**
 * What Azure checks of a VHD before it makes an image of it: a page blob holding a fixed VHD whose
 * size is a whole number of MiB plus the 512-byte footer, the footer's cookie `conectix` and its
 * checksum. Compute refuses any other blob with `InvalidVhd`, which a DevTest Labs custom image
 * creation then ends with. Sources: https://learn.microsoft.com/azure/virtual-machines/windows/prepare-for-upload-vhd-image
 * (fixed VHD, virtual size aligned to 1 MiB) and https://learn.microsoft.com/azure/devtest-labs/devtest-lab-create-template
 * (a DevTest Labs custom image from a VHD file).
 */

const MIB = 1024 * 1024;
const DISK_TYPES: Record<number, string> = { 3: 'dynamic', 4: 'differencing' };

/** The refusal of a VHD that cannot be made into an image, or undefined for a valid fixed VHD. */
export function vhdProblem(vhdUrl: string, blob: BlobEnds): ArmError | undefined {
  const invalid = (message: string) => new ArmError(400, 'InvalidVhd', `The VHD '${vhdUrl}' ${message}`);
  if (blob.blobType !== 'PageBlob') {
    return invalid(`is a ${blob.blobType}; an image is made only from a page blob holding a fixed VHD. Upload the VHD as a page blob.`);
  }
  const virtualSize = blob.sizeBytes - PAGE_SIZE;
  if (virtualSize <= 0 || virtualSize % MIB !== 0) {
    return invalid(
      `has an unsupported virtual size of ${Math.max(0, virtualSize)} bytes (blob size ${blob.sizeBytes}): the blob must be a whole number of MiB plus the 512-byte VHD footer.`,
    );
  }
  const footer = readVhdFooter(blob.tail);
  if (!footer || footer.cookie !== 'conectix') {
    return invalid(`has no VHD footer: the cookie in its last 512 bytes is not 'conectix', so it is not a supported VHD.`);
  }
  if (footer.diskType !== VHD_DISK_TYPE_FIXED) {
    return invalid(`is a ${DISK_TYPES[footer.diskType] ?? `type ${footer.diskType}`} VHD; only fixed VHDs are supported. Convert it to a fixed VHD first.`);
  }
  if (!footer.checksumValid) return invalid('has a VHD footer whose checksum does not match its contents; the VHD is corrupt.');
  if (footer.currentSize !== virtualSize) {
    return invalid(`has a VHD footer that gives a disk size of ${footer.currentSize} bytes, but the blob holds ${virtualSize} bytes before the footer.`);
  }
  return undefined;
}

/** What the OS on a valid VHD boots with, as its first sectors show. */
export function vhdBootGeneration(blob: BlobEnds): HyperVGeneration {
  return bootGenerationOf(readPageBlobHeader(blob.head));
}
