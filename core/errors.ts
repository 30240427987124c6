/**
 * Every failure a user can cause or fix carries a stable code from this table, so a message can be
 * searched for in docs/errors.md (which documents cause and fix for each code) and in pipeline logs.
 *
 * Ranges: IF1xxx configuration (labs.json, GoldenImages), IF2xxx Azure connection and access,
 * IF3xxx SnapImagesFromVMs, IF4xxx DistributeImages, IF5xxx RetireImages and CleanUpFactory,
 * IF6xxx MakeGoldenImageVMs,
 * IF7xxx the gallery route (Azure Compute Gallery),
 * IF8xxx PublishImageCatalog,
 * IF9xxx faults that are not the user's (a bug or an unexpected Azure answer).
 * A code, once published, never changes meaning; retired codes are not reused.
 */
export const ErrorCodes = {
  // IF1xxx configuration
  ConfigurationFolderNotFound: 'IF1001',
  LabsJsonNotFound: 'IF1002',
  LabsJsonSyntax: 'IF1003',
  LabsJsonSchema: 'IF1004',
  DuplicateLab: 'IF1005',
  ImagePathInvalid: 'IF1006',
  ImagePathSelectsNothing: 'IF1007',
  GoldenImagesNotFound: 'IF1008',
  TemplateSyntax: 'IF1009',
  TemplateShape: 'IF1010',
  TemplateNotSelected: 'IF1011',
  InputInvalid: 'IF1012',
  TemplatePathConflict: 'IF1013',
  DuplicateJsonKey: 'IF1014',
  ConfigurationLinkOutside: 'IF1015',
  ConfigurationFileTooLarge: 'IF1016',
  ConfigurationFileNotRegular: 'IF1017',
  GoldenImagesTooLarge: 'IF1018',

  // IF2xxx Azure connection and access
  ServiceConnectionInvalid: 'IF2001',
  AuthenticationFailed: 'IF2002',
  AuthorizationFailed: 'IF2003',
  LabNotFound: 'IF2004',
  SubscriptionNotFound: 'IF2005',
  AzureRequestFailed: 'IF2006',
  CopyFailed: 'IF2007',
  StorageAccessDenied: 'IF2008',
  Timeout: 'IF2009',
  LabNameAmbiguous: 'IF2010',
  BlobDataReadDenied: 'IF2011',
  BlobDataWriteDenied: 'IF2012',
  ThrottledTooLong: 'IF2013',

  // IF3xxx SnapImagesFromVMs
  VmNotDeallocated: 'IF3001',
  VmHasNoOsDisk: 'IF3002',
  SnapFailed: 'IF3003',
  ImageNameInvalid: 'IF3004',
  VmNotProvisioned: 'IF3005',
  VhdRouteGeneration2: 'IF3010',
  VhdRouteTrustedLaunch: 'IF3011',

  // IF4xxx DistributeImages
  /** No longer raised: the VHD route serves labs in every region (copies cross regions). Kept, never reused. */
  LabRegionMismatch: 'IF4001',
  CustomImageFailed: 'IF4002',
  DistributionFailed: 'IF4003',
  FactoryStoreEmpty: 'IF4004',
  CustomImageNameTaken: 'IF4005',
  StoredImageGeneration2: 'IF4010',
  FanOutSourceDenied: 'IF4013',

  // IF5xxx RetireImages and CleanUpFactory
  LabNotFullyRead: 'IF5001',
  DeleteFailed: 'IF5002',
  VmProvisioningFailed: 'IF5003',
  VmNotTagged: 'IF5004',
  VmNotSnapped: 'IF5005',

  // IF6xxx MakeGoldenImageVMs
  VmDeploymentFailed: 'IF6001',
  VmNotDeallocatedInTime: 'IF6002',
  VmCredentialsMissing: 'IF6003',
  TemplateParameterMissing: 'IF6004',
  VmSizeUnknown: 'IF6005',
  TemplateSelectionInvalid: 'IF6006',
  VmGenerationUnsupported: 'IF6007',
  MakeCleanupFailed: 'IF6008',
  VmNotGeneralized: 'IF6009',

  // IF7xxx the gallery route
  GalleryInputInvalid: 'IF7001',
  GalleryDefinitionMismatch: 'IF7002',
  GalleryVersionFailed: 'IF7003',
  LabHasOtherGallery: 'IF7004',
  GalleryNotFound: 'IF7005',
  GalleryImageNameInvalid: 'IF7006',
  GalleryReplicationFailed: 'IF7007',

  // IF8xxx PublishImageCatalog
  CatalogWriteFailed: 'IF8001',
  CatalogFileInvalid: 'IF8002',
  CatalogLabNotRead: 'IF8003',
  CatalogSourceNotRead: 'IF8004',
  CatalogGalleryNotRead: 'IF8005',

  // IF9xxx not the user's fault
  Internal: 'IF9001',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface FactoryErrorOptions {
  /** What to do about it, in one sentence a pipeline user can act on. */
  fix?: string;
  /** The file, lab, image or resource the error is about, as the user knows it. */
  subject?: string;
  cause?: unknown;
}

/**
 * A failure explained for the user. Task adapters print `message` and `fix` with the code and no stack
 * trace; anything that is not a FactoryError is a defect and is reported with its stack in debug output.
 */
export class FactoryError extends Error {
  readonly code: ErrorCode;
  readonly fix?: string;
  readonly subject?: string;

  constructor(code: ErrorCode, message: string, options: FactoryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FactoryError';
    this.code = code;
    this.fix = options.fix;
    this.subject = options.subject;
  }

  /** The one-line form used in logs: `[IF1003] message Fix: ...`. */
  override toString(): string {
    return formatIssueText(this.code, this.message, this.fix);
  }
}

export function isFactoryError(value: unknown): value is FactoryError {
  return value instanceof FactoryError;
}

export function formatIssueText(code: string, message: string, fix?: string): string {
  return `[${code}] ${message}${fix ? ` Fix: ${fix}` : ''}`;
}

/** True for the error an AbortSignal raises, whichever library threw it. */
export function isAbortError(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'AbortError';
}
