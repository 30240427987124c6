import { ErrorCodes, FactoryError } from '../errors';
import { imageBaseName } from '../snap/naming';

/**
 * Names on the gallery route. One image definition per ImagePath, named as the VHD route names the
 * image before its date (`Win2016\Datacenter.json` is `Win2016_Datacenter`), with identifier publisher
 * `ImageFactory`, offer the template's first folder and sku the definition's name. Versions are named
 * by the time they were saved, `YYYY.MMDD.HHMMSS` (UTC), so they sort in the order they were made.
 */

export const GALLERY_PUBLISHER = 'ImageFactory';
const MAX_DEFINITION_NAME = 80;
const MAX_OFFER = 64;
const MAX_SKU = 64;

export interface DefinitionNames {
  definitionName: string;
  identifier: { publisher: string; offer: string; sku: string };
}

/** Letters, digits, `_` `.` `-`, starting and ending with a letter or digit. */
function trimToName(text: string): string {
  return text.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
}

export function definitionNames(imagePath: string): DefinitionNames {
  const { base } = imageBaseName(imagePath);
  const definitionName = trimToName(base);
  const firstFolder = imagePath.replace(/\\/g, '/').split('/').filter(Boolean);
  const offer = firstFolder.length > 1 ? trimToName(imageBaseName(`${firstFolder[0]}.json`).base) : 'Images';
  const problem =
    definitionName.length > MAX_DEFINITION_NAME
      ? `'${definitionName}' is longer than the ${MAX_DEFINITION_NAME} characters an image definition name may have`
      : definitionName.length > MAX_SKU
        ? `'${definitionName}' is longer than the ${MAX_SKU} characters of an identifier's sku`
        : offer.length > MAX_OFFER
          ? `its first folder '${offer}' is longer than the ${MAX_OFFER} characters of an identifier's offer`
          : undefined;
  if (problem || !definitionName) {
    throw new FactoryError(ErrorCodes.GalleryImageNameInvalid, `The ImagePath '${imagePath}' cannot name a gallery image definition: ${problem ?? 'it has no letter or digit'}.`, {
      fix: "Shorten the template's file or folder names.",
      subject: imagePath,
    });
  }
  return { definitionName, identifier: { publisher: GALLERY_PUBLISHER, offer: offer || 'Images', sku: definitionName } };
}

/** `2026.1203.104512` for 3 December 2026 10:45:12 UTC; the next free patch when that one is taken. */
export function versionNameFor(now: Date, taken: ReadonlySet<string>): string {
  const minor = (now.getUTCMonth() + 1) * 100 + now.getUTCDate();
  let patch = now.getUTCHours() * 10_000 + now.getUTCMinutes() * 100 + now.getUTCSeconds();
  let name = `${now.getUTCFullYear()}.${minor}.${patch}`;
  while (taken.has(name)) name = `${now.getUTCFullYear()}.${minor}.${++patch}`;
  return name;
}

/** Orders version names by their three numbers, oldest first. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
