import { normalizeImagePath } from './config/imagePaths';
import { type HyperVGeneration, parseHyperVGeneration, parseSecurityType, type SecurityType } from './vhdRoute';

/**
 * What the factory writes about its images, shared by SnapImagesFromVMs (writer), DistributeImages and
 * RetireImages (readers). The VHD carries its own metadata as blob metadata, so no step needs local
 * state, and metadata and bytes appear and disappear together.
 */

/** The container of a lab's storage account that DevTest Labs' generateUploadUri writes to. */
export const UPLOADS_CONTAINER = 'uploads';

/** Tags the factory reads on lab VMs and writes on the custom images it creates. */
export const Tags = {
  /** On a factory VM: the template it was made from. On a custom image: the same, carried along. */
  ImagePath: 'ImagePath',
  /** On a factory VM: leave this VM alone (CleanUpFactory neither deletes nor complains). */
  FactoryIgnore: 'FactoryIgnore',
  /** On a custom image: the factory lab's resource id (lower case); retention touches only images with it. */
  ImageFactory: 'ImageFactory',
  /** On a custom image: when the image was saved from its VM (UTC, ISO 8601); retention orders by it. */
  ImageFactoryCreated: 'ImageFactoryCreated',
  /** On a gallery image version: the managed disk it was made from; a disk is published once. */
  ImageFactorySourceDisk: 'ImageFactorySourceDisk',
  /** On a factory VM MakeGoldenImageVMs made: the hash of the template's content, carried into the image. */
  TemplateHash: 'ImageFactoryTemplateHash',
  /** On a factory VM MakeGoldenImageVMs made: its marketplace image (`publisher/offer/sku/version`), carried into the image. */
  BaseImage: 'ImageFactoryBaseImage',
  /** On a custom image whose staging blob other labs' copies read: that blob may still be in the lab (stagingTag.ts). */
  StagingBlob: 'ImageFactoryStagingBlob',
} as const;

export type OsType = 'Windows' | 'Linux';

export interface FactoryImage {
  /** e.g. `Win2016_Datacenter-Nov-24-2026`; also the custom image name in every lab. */
  imageName: string;
  /** The template the image was made from, normalized (`/` separators, case kept). */
  imagePath: string;
  /** From the VM's notes. */
  description: string;
  osType: OsType;
  /** True when Windows was sysprepped or Linux deprovisioned, i.e. the VHD is generalized. */
  generalized: boolean;
  sourceVmId: string;
  /** Managed disk the VHD was copied from; a disk saved once is not saved again. */
  sourceDiskId: string;
  /** When the image was saved (UTC, ISO 8601). */
  createdUtc: string;
  sizeBytes: number;
  /** The source VM's generation, from its OS disk; the route that may carry the image depends on it. */
  hyperVGeneration: HyperVGeneration;
  securityType: SecurityType;
  /** The template's content hash and base image, when MakeGoldenImageVMs made the VM; it rebuilds a template only when they change. */
  templateHash?: string;
  baseImage?: string;
}

/** Marks a blob as a factory image; the value is the metadata format version. */
const MARKER = 'imagefactory';
const FORMAT_VERSION = '1';
/** Marks a VHD copied into a target lab only to create a custom image from; deleted afterwards. */
const STAGING_MARKER = 'imagefactorystaging';

/** Blob name of an image in the factory store. */
export function storeBlobName(imageName: string): string {
  return `${imageName}.vhd`;
}

/**
 * Blob name of the copy made in a target lab to create the custom image from. Distinct from the store
 * name so that a factory lab that is also a target never overwrites or deletes its own store image.
 */
export function stagingBlobName(imageName: string): string {
  return `staging-${imageName}.vhd`;
}

/** Azure's limit on a blob's metadata: 8 KB, names and values together. */
export const BLOB_METADATA_MAX_BYTES = 8 * 1024;

/**
 * Blob metadata values must be ASCII header text; free text is percent-encoded. The whole fits Azure's
 * 8 KB: every field but the description is short and needed whole (RetireImages and CleanUpFactory
 * know an image by them), so the description (the VM's notes, which can be long) gets what is left,
 * counted encoded, and a cut one ends with a marker saying so.
 */
export function toBlobMetadata(image: FactoryImage): Record<string, string> {
  const fields: Record<string, string> = {
    [MARKER]: FORMAT_VERSION,
    imagename: image.imageName,
    imagepath: encodeURIComponent(normalizeImagePath(image.imagePath)),
    ostype: image.osType,
    generalized: String(image.generalized),
    sourcevmid: encodeURIComponent(image.sourceVmId),
    sourcediskid: encodeURIComponent(image.sourceDiskId),
    createdutc: image.createdUtc,
    sizebytes: String(image.sizeBytes),
    hypervgeneration: image.hyperVGeneration,
    securitytype: image.securityType,
    ...(image.templateHash ? { templatehash: encodeURIComponent(image.templateHash) } : {}),
    ...(image.baseImage ? { baseimage: encodeURIComponent(image.baseImage) } : {}),
  };
  const used = Object.entries(fields).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
  const description = fitDescription(image.description, BLOB_METADATA_MAX_BYTES - used - 'description'.length);
  return { ...fields, description };
}

/** `text` percent-encoded in at most `budget` characters: whole, or cut at a character with a marker. */
function fitDescription(text: string, budget: number): string {
  const whole = encodeURIComponent(text);
  if (whole.length <= budget) return whole;
  const characters = [...text];
  const marker = (kept: number) => `… (notes cut from ${characters.length} to ${kept} characters)`;
  // The marker with the longest count it can hold bounds its encoded length.
  const room = budget - encodeURIComponent(marker(characters.length)).length;
  let kept = 0;
  let length = 0;
  for (const character of characters) {
    const encoded = encodeURIComponent(character).length;
    if (length + encoded > room) break;
    length += encoded;
    kept++;
  }
  return encodeURIComponent(`${characters.slice(0, kept).join('')}${marker(kept)}`);
}

/** The image a blob's metadata describes, or undefined when the blob is not a factory image. */
export function fromBlobMetadata(metadata: Record<string, string> | undefined): FactoryImage | undefined {
  if (!metadata) return undefined;
  const md: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) md[key.toLowerCase()] = value;
  if (md[MARKER] !== FORMAT_VERSION) return undefined;
  const osType = md.ostype === 'Windows' || md.ostype === 'Linux' ? md.ostype : undefined;
  const sizeBytes = Number(md.sizebytes);
  if (!md.imagename || !md.imagepath || !osType || !md.createdutc || !Number.isFinite(sizeBytes)) return undefined;
  return {
    imageName: md.imagename,
    imagePath: safeDecode(md.imagepath),
    description: safeDecode(md.description ?? ''),
    osType,
    generalized: md.generalized === 'true',
    sourceVmId: safeDecode(md.sourcevmid ?? ''),
    sourceDiskId: safeDecode(md.sourcediskid ?? ''),
    createdUtc: md.createdutc,
    sizeBytes,
    // Images saved before the generation was recorded came through the VHD route, which took Generation 1 only.
    hyperVGeneration: parseHyperVGeneration(md.hypervgeneration) ?? 'V1',
    securityType: parseSecurityType(md.securitytype),
    ...(md.templatehash ? { templateHash: safeDecode(md.templatehash) } : {}),
    ...(md.baseimage ? { baseImage: safeDecode(md.baseimage) } : {}),
  };
}

/**
 * Marks the empty placeholder a SnapImagesFromVMs run makes to claim a store name before it copies
 * into it (see azure/blobClaim.ts). The copy replaces all metadata, so only a placeholder has it.
 */
const CLAIM_MARKER = 'imagefactoryclaim';

/** A placeholder's metadata: the image's, without the free text, and the claim marker. */
export function claimMetadata(image: FactoryImage): Record<string, string> {
  return { ...toBlobMetadata({ ...image, description: '' }), [CLAIM_MARKER]: FORMAT_VERSION };
}

export function isClaimPlaceholder(metadata: Record<string, string> | undefined): boolean {
  return !!metadata && Object.keys(metadata).some((key) => key.toLowerCase() === CLAIM_MARKER);
}

export function stagingMetadata(imageName: string): Record<string, string> {
  return { [STAGING_MARKER]: imageName };
}

export function isStagingBlob(metadata: Record<string, string> | undefined): boolean {
  return !!metadata && Object.keys(metadata).some((key) => key.toLowerCase() === STAGING_MARKER);
}

/** Tags for a custom image the factory creates from `image`, made by the factory lab `factoryLabId`. */
export function customImageTags(image: FactoryImage, factoryLabId: string): Record<string, string> {
  return {
    [Tags.ImagePath]: normalizeImagePath(image.imagePath),
    [Tags.ImageFactory]: factoryLabId.toLowerCase(),
    [Tags.ImageFactoryCreated]: image.createdUtc,
  };
}

/**
 * Whether a custom image was made by the factory `factoryLabId`. Tags may come back with other
 * casing of their names, as ARM keeps tag names as written but compares them without regard to case.
 */
export function isFactoryCustomImage(tags: Record<string, string> | undefined, factoryLabId: string): boolean {
  return getTag(tags, Tags.ImageFactory)?.toLowerCase() === factoryLabId.toLowerCase() && !!getTag(tags, Tags.ImagePath);
}

export function getTag(tags: Record<string, string> | undefined, name: string): string | undefined {
  if (!tags) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(tags)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
