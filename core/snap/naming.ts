import { checkImagePath } from '../config/imagePaths';
import { ErrorCodes, FactoryError } from '../errors';

/**
 * How an image is named from the template it was made from, as the image factory always named them:
 * `Win2016\Datacenter.json` saved on 24 November 2026 (UTC) becomes `Win2016_Datacenter-Nov-24-2026`.
 * The name is the custom image's name in every lab and the VHD's name in the store, so it must be a
 * valid DevTest Labs custom image name and a valid blob name, and must not take an existing image's place.
 */

/** Longest name accepted; leaves room for collision letters below the custom image name limit. */
export const MAX_IMAGE_NAME_LENGTH = 80;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Letters and digits of ASCII, `_` and `-`; starting with a letter or digit. */
const VALID_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Whether a name is one this module could have made: valid as a custom image name and as a blob name. */
export function isValidImageName(name: string): boolean {
  return name.length <= MAX_IMAGE_NAME_LENGTH && VALID_NAME.test(name);
}

/** `Nov-24-2026`: English month abbreviation, two-digit day, UTC, whatever the agent's locale. */
export function imageDateStamp(now: Date): string {
  const day = String(now.getUTCDate()).padStart(2, '0');
  return `${MONTHS[now.getUTCMonth()]}-${day}-${now.getUTCFullYear()}`;
}

export interface BaseName {
  /** The name before the date stamp, e.g. `Win2016_Datacenter`. */
  base: string;
  /** Characters that a custom image name cannot hold and that were replaced, for telling the user. */
  replaced: string[];
}

/**
 * The part of the name taken from the ImagePath: folders and file joined with `_`, `.json` dropped,
 * `.` becoming `_` and a space `-`. Accented letters lose their accents; any other character a custom
 * image name cannot hold becomes `_` and is listed in `replaced`.
 */
export function imageBaseName(imagePath: string): BaseName {
  const check = checkImagePath(imagePath);
  if (!check.ok) {
    throw new FactoryError(ErrorCodes.ImageNameInvalid, `The ImagePath '${imagePath}' cannot name an image: ${describeReason(check.reason)}.`, {
      fix: "Set the VM's ImagePath tag to the template's path relative to the GoldenImages folder, e.g. Win2016\\Datacenter.json.",
      subject: imagePath,
    });
  }
  const joined = check.normalized.replace(/\.json$/i, '').split('/').join('_');
  const replaced = new Set<string>();
  let base = '';
  for (const char of joined) {
    if (char === '.') base += '_';
    else if (char === ' ') base += '-';
    else if (/[A-Za-z0-9_-]/.test(char)) base += char;
    else {
      const plain = char.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      if (/^[A-Za-z0-9]+$/.test(plain)) base += plain;
      else {
        base += '_';
        replaced.add(char);
      }
    }
  }
  if (!/[A-Za-z0-9]/.test(base)) {
    throw new FactoryError(
      ErrorCodes.ImageNameInvalid,
      `The ImagePath '${imagePath}' has no letter or digit to name an image by (it would be '${base}').`,
      { fix: 'Name the template file and its folders with letters and digits.', subject: imagePath },
    );
  }
  // A custom image name starts with a letter or digit; leading separators carry no meaning.
  base = base.replace(/^[_-]+/, '');
  return { base, replaced: [...replaced] };
}

/** `A`, `B`, ... `Z`, `AA`, `AB`, ...: the letters appended to tell same-day names apart. */
export function collisionSuffix(index: number): string {
  let suffix = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) suffix = String.fromCharCode(65 + ((n - 1) % 26)) + suffix;
  return suffix;
}

export interface ImageNameResult {
  imageName: string;
  /** Set when the name differs from the plain rule: characters replaced, or a letter appended. */
  note?: string;
}

/**
 * The name for an image of `imagePath` saved at `now`, unlike every name in `taken` (compared without
 * case, as Azure compares resource names). Throws IF3004 when no valid name can be made.
 */
export function imageNameFor(imagePath: string, now: Date, taken: ReadonlySet<string>): ImageNameResult {
  const { base, replaced } = imageBaseName(imagePath);
  const stem = `${base}-${imageDateStamp(now)}`;
  const isTaken = (name: string) => taken.has(name.toLowerCase());
  let imageName = stem;
  for (let i = 0; isTaken(imageName); i++) imageName = stem + collisionSuffix(i);

  if (imageName.length > MAX_IMAGE_NAME_LENGTH) {
    throw new FactoryError(
      ErrorCodes.ImageNameInvalid,
      `The image name '${imageName}' made from ImagePath '${imagePath}' is longer than the ${MAX_IMAGE_NAME_LENGTH} characters a custom image name may have.`,
      { fix: "Shorten the template's file or folder names.", subject: imagePath },
    );
  }
  const notes: string[] = [];
  if (replaced.length > 0) {
    notes.push(`${replaced.map((c) => `'${c}'`).join(', ')} cannot appear in a custom image name and became '_'`);
  }
  if (imageName !== stem) notes.push(`'${stem}' is already in the image store, so a letter was appended`);
  return notes.length > 0 ? { imageName, note: notes.join('; ') } : { imageName };
}

function describeReason(reason: 'blank' | 'absolute' | 'escapes'): string {
  switch (reason) {
    case 'blank':
      return 'it is empty';
    case 'absolute':
      return 'it is an absolute path';
    case 'escapes':
      return "it leaves the GoldenImages folder with '..'";
  }
}
