import { DISKS_ACCOUNT, DISKS_CONTAINER, type BlobService } from '../storage/blobService';
import { PAGE_SIZE } from '../storage/pageBlobContent';
import type { HyperVGeneration } from './marketplace';
import type { Disk } from './state';

const GIB = 1024 * 1024 * 1024;

/**
 * The first-page fact that stands for a disk's partition style: a Generation 2 OS is installed on a
 * GPT disk and boots through UEFI, a Generation 1 OS on an MBR disk through BIOS. A VHD copied from the
 * disk carries it, so whoever boots the copy can tell, as firmware would.
 */
const BOOT_FACT = 'boot';
const BOOT_STYLE: Record<HyperVGeneration, string> = { V1: 'bios-mbr', V2: 'uefi-gpt' };

/**
 * A managed disk's bytes as its export serves them: a fixed VHD, the disk's N GiB and the 512-byte
 * footer, as a page blob in blob storage's disks account, which a disk grant exports.
 */
export function createDiskBlob(blob: BlobService, disk: Disk): Promise<void> {
  return blob.createPageBlob(DISKS_ACCOUNT, DISKS_CONTAINER, disk.name, diskVhdBytes(disk.sizeGB), {
    headerFacts: { [BOOT_FACT]: BOOT_STYLE[disk.bootGeneration] },
  });
}

/** The size of the fixed VHD of a disk of `sizeGB` GiB. */
export function diskVhdBytes(sizeGB: number): number {
  return sizeGB * GIB + PAGE_SIZE;
}

/** The generation the OS on a VHD boots with, from its first-page facts; Generation 1 when they do not say. */
export function bootGenerationOf(facts: Record<string, string> | undefined): HyperVGeneration {
  return facts?.[BOOT_FACT] === BOOT_STYLE.V2 ? 'V2' : 'V1';
}
