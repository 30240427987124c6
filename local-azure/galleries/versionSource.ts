import type { HyperVGeneration, SecurityType } from '../compute/marketplace';
import type { Disk } from '../compute/state';
import { ArmError } from '../http';
import type { ArmRequest } from '../resourceManager/context';
import { invalidRequestContent } from '../resourceManager/errors';
import { optionalObject, requiredObject } from '../resourceManager/requestBody';
import { imageSecurityType, type GalleryImage, type GalleryImageVersion, type VersionDisk } from './state';

/**
 * A version's source: a VM (`storageProfile.source.virtualMachineId`: its OS disk and data disks) or
 * managed disks (`osDiskImage.source.id`, `dataDiskImages[].source.id` with a LUN each). Compute reads
 * them when the version is made and checks them against the image definition: OS type, Hyper-V
 * generation and security type must agree, or a VM made from the version would not boot.
 */

export interface VersionSource {
  source?: GalleryImageVersion['source'];
  osDisk: VersionDisk;
  dataDisks: VersionDisk[];
  hyperVGeneration: HyperVGeneration;
  bootGeneration: HyperVGeneration;
  securityType: SecurityType;
}

const TRUSTED_LAUNCH_DEFINITIONS = ['TrustedLaunch', 'TrustedLaunchSupported', 'TrustedLaunchAndConfidentialVmSupported'];

function invalidParameter(target: string, message: string): ArmError {
  return new ArmError(400, 'InvalidParameter', message, {}, [{ code: 'InvalidParameter', target, message }]);
}

function linkedAuthorizationFailed(request: ArmRequest, id: string): ArmError {
  return new ArmError(
    403,
    'LinkedAuthorizationFailed',
    `The client '${request.principal.clientId}' with object id '${request.principal.objectId}' has permission to perform action '${request.action}' on scope '${request.url.pathname}'; however, it does not have permission to perform action 'Microsoft.Compute/disks/beginGetAccess/action' on the linked scope(s) '${id}' or the linked scope(s) are invalid.`,
  );
}

function findDisk(request: ArmRequest, id: unknown, target: string): Disk {
  if (typeof id !== 'string' || id === '') throw invalidParameter(target, `Required parameter '${target}' is missing (null).`);
  const disk = request.context.state.compute.findDiskById(id);
  if (!disk) throw invalidParameter(target, `The source '${id}' of '${target}' was not found: it must be a managed disk that exists.`);
  if (disk.managedBy?.lab?.denyAccess) throw linkedAuthorizationFailed(request, id);
  return disk;
}

function copy(disk: Disk, lun?: number, hostCaching = 'ReadWrite'): VersionDisk {
  return { sourceId: diskIdOf(disk), sizeGB: disk.sizeGB, hostCaching, ...(lun === undefined ? {} : { lun }) };
}

function diskIdOf(disk: Disk): string {
  return `/subscriptions/${disk.subscriptionId}/resourceGroups/${disk.resourceGroup}/providers/Microsoft.Compute/disks/${disk.name}`;
}

export function readVersionSource(request: ArmRequest, image: GalleryImage, storage: Record<string, unknown>): VersionSource {
  const source = optionalObject(storage.source, 'properties.storageProfile.source');
  const vmId = source?.virtualMachineId;
  let osDisk: Disk;
  let dataDisks: { lun: number; disk: Disk; hostCaching?: string }[] = [];
  let osCaching: string | undefined;
  if (vmId !== undefined) {
    if (typeof vmId !== 'string') throw invalidRequestContent('properties.storageProfile.source.virtualMachineId must be a string.');
    const vm = request.context.state.compute.findVirtualMachineById(vmId);
    if (!vm) throw invalidParameter('galleryImageVersion.properties.storageProfile.source.virtualMachineId', `The source virtual machine '${vmId}' was not found.`);
    if (vm.lab?.denyAccess) throw linkedAuthorizationFailed(request, vmId);
    osDisk = vm.osDisk;
    dataDisks = vm.dataDisks.map((d) => ({ lun: d.lun, disk: d.disk }));
  } else {
    const os = optionalObject(storage.osDiskImage, 'properties.storageProfile.osDiskImage');
    if (!os) {
      throw invalidParameter('galleryImageVersion.properties.storageProfile', 'The storage profile needs a source: source.virtualMachineId, or osDiskImage.source.id (a managed disk or snapshot).');
    }
    osCaching = typeof os.hostCaching === 'string' ? os.hostCaching : undefined;
    osDisk = findDisk(request, requiredObject(os.source, 'properties.storageProfile.osDiskImage.source').id, 'galleryImageVersion.properties.storageProfile.osDiskImage.source.id');
    if (storage.dataDiskImages !== undefined) {
      if (!Array.isArray(storage.dataDiskImages)) throw invalidRequestContent('properties.storageProfile.dataDiskImages must be an array.');
      const luns = new Set<number>();
      dataDisks = storage.dataDiskImages.map((item, i) => {
        const entry = requiredObject(item, `properties.storageProfile.dataDiskImages[${i}]`);
        const target = `galleryImageVersion.properties.storageProfile.dataDiskImages[${i}]`;
        if (typeof entry.lun !== 'number' || !Number.isInteger(entry.lun) || entry.lun < 0 || entry.lun > 63) throw invalidParameter(`${target}.lun`, `'${target}.lun' must be a whole number from 0 to 63.`);
        if (luns.has(entry.lun)) throw invalidParameter(`${target}.lun`, `LUN ${entry.lun} is given to two data disk images.`);
        luns.add(entry.lun);
        const disk = findDisk(request, requiredObject(entry.source, `${target}.source`).id, `${target}.source.id`);
        return { lun: entry.lun, disk, hostCaching: typeof entry.hostCaching === 'string' ? entry.hostCaching : undefined };
      });
    }
  }
  if (osDisk.osType !== image.osType) {
    throw invalidParameter('galleryImageVersion.properties.storageProfile.osDiskImage', `The OS type '${osDisk.osType}' of the source does not match the OS type '${image.osType}' of gallery image '${image.name}'.`);
  }
  if (osDisk.hyperVGeneration !== image.hyperVGeneration) {
    throw invalidParameter(
      'galleryImageVersion.properties.storageProfile.osDiskImage',
      `The Hyper-V generation '${osDisk.hyperVGeneration}' of the source does not match the hyperVGeneration '${image.hyperVGeneration}' of gallery image '${image.name}'. Use an image definition of generation ${osDisk.hyperVGeneration}.`,
    );
  }
  if (osDisk.securityType === 'TrustedLaunch' && !TRUSTED_LAUNCH_DEFINITIONS.includes(imageSecurityType(image))) {
    throw invalidParameter(
      'galleryImageVersion.properties.storageProfile.osDiskImage',
      `The source is a Trusted Launch disk, but gallery image '${image.name}' has SecurityType '${imageSecurityType(image)}'. A Trusted Launch source needs an image definition with the feature SecurityType TrustedLaunch (or TrustedLaunchSupported).`,
    );
  }
  return {
    source: source ? { ...(typeof source.id === 'string' ? { id: source.id } : {}), ...(typeof vmId === 'string' ? { virtualMachineId: vmId } : {}) } : undefined,
    osDisk: copy(osDisk, undefined, osCaching),
    dataDisks: dataDisks.map((d) => copy(d.disk, d.lun, d.hostCaching ?? 'None')),
    hyperVGeneration: osDisk.hyperVGeneration,
    bootGeneration: osDisk.bootGeneration,
    securityType: osDisk.securityType,
  };
}

/** Whether a PUT on an existing version names the same source (the source cannot change). */
export function sameSource(version: GalleryImageVersion, source: VersionSource): boolean {
  const ids = (disks: VersionDisk[]) => disks.map((d) => `${d.lun}:${d.sourceId.toLowerCase()}`).sort().join(',');
  return version.osDisk.sourceId.toLowerCase() === source.osDisk.sourceId.toLowerCase() && ids(version.dataDisks) === ids(source.dataDisks);
}
