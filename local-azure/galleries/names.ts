import { ArmError } from '../http';

/** Azure Compute Gallery's naming rules, with the errors Compute gives for names it refuses. */

/** Gallery: 1-80 letters, digits, `_` `.` `-`, starting with a letter or digit, not ending with `.` or `-`. */
const GALLERY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;
/** Image definition: 1-80 letters, digits, `_` `.` `-`, starting and ending with a letter or digit. */
const IMAGE_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9])?$/;
/** Version: Major.Minor.Patch, each a 32-bit whole number. */
const VERSION_NAME = /^(\d{1,10})\.(\d{1,10})\.(\d{1,10})$/;
/** Identifier parts: letters, digits, `_` `.` `-`. */
const IDENTIFIER_PART = /^[A-Za-z0-9_.-]+$/;
const IDENTIFIER_MAX: Record<'publisher' | 'offer' | 'sku', number> = { publisher: 128, offer: 64, sku: 64 };

function invalidName(kind: string, name: string, rule: string): ArmError {
  return new ArmError(400, 'InvalidParameter', `The ${kind} name '${name}' is invalid. ${rule}`, {}, [{ code: 'InvalidParameter', target: `${kind}Name`, message: rule }]);
}

export function checkGalleryName(name: string): void {
  if (!GALLERY_NAME.test(name) || /[.-]$/.test(name)) {
    throw invalidName('gallery', name, 'The allowed characters are letters, digits, underscores, periods and hyphens, starting with a letter or digit and not ending with a period or hyphen; at most 80 characters.');
  }
}

export function checkImageName(name: string): void {
  if (!IMAGE_NAME.test(name)) {
    throw invalidName('galleryImage', name, 'The allowed characters are letters, digits, underscores, periods and hyphens, starting and ending with a letter or digit; at most 80 characters.');
  }
}

export function isVersionName(name: string): boolean {
  const match = VERSION_NAME.exec(name);
  return !!match && match.slice(1).every((part) => Number(part) <= 2147483647);
}

export function checkVersionName(name: string): void {
  if (!isVersionName(name)) {
    throw invalidName('galleryImageVersion', name, 'It must follow the format Major.Minor.Patch, each a whole number from 0 to 2147483647 (for example 1.0.0).');
  }
}

export function checkIdentifierPart(part: 'publisher' | 'offer' | 'sku', value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new ArmError(400, 'InvalidParameter', `Required parameter 'galleryImage.properties.identifier.${part}' is missing (null).`, {}, [
      { code: 'InvalidParameter', target: `galleryImage.properties.identifier.${part}`, message: 'is required' },
    ]);
  }
  if (!IDENTIFIER_PART.test(value) || value.length > IDENTIFIER_MAX[part]) {
    throw new ArmError(
      400,
      'InvalidParameter',
      `The value '${value}' of 'galleryImage.properties.identifier.${part}' is invalid: at most ${IDENTIFIER_MAX[part]} letters, digits, underscores, periods and hyphens.`,
    );
  }
  return value;
}

/** Version names order by their three numbers. */
export function compareVersionNames(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
