import { getTag, Tags } from '../factoryImages';

/**
 * Custom images made by Microsoft's PowerShell image factory (the DevTestLabs repository's
 * Scripts/ImageFactory), which this factory replaces. It tagged its custom images with `ImagePath`
 * alone (no `ImageFactory` tag) and named them from that path, so an image with the tag and exactly
 * that name is taken as the factory's: a factory that moves over retires its old images by the same
 * rules. Anything else with an `ImagePath` tag (tagged by hand, another factory's) is left alone.
 *
 * Its names, from the ImagePath tag as its MakeGoldenImageVMs wrote it (`Win2016\Datacenter.json`,
 * split on `\`), the last folder and the file, with `.json` removed:
 * - from June 2017 on: `<folder>_<file>`, `.` becoming `_` and a space `-`, then `-MMM-d-yyyy`, and
 *   letters `A`, `B`, ... appended when that name was taken the same day: `Win2016_Datacenter-Nov-4-2026B`;
 * - its first versions: `<folder>  <file>` (two spaces), `.` becoming `_`, then ` (MMM d, yyyy)`:
 *   `Win2016  Datacenter (Nov 4, 2026)`.
 * A template directly in GoldenImages gives `<file>` alone. Months are en-US abbreviations, as on a
 * build agent; names are compared without regard to case, as Azure compares resource names.
 */

const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const DAY = '(?:[1-9]|[12][0-9]|3[01])';
const YEAR = '[0-9]{4}';

/** Whether a custom image carries the PowerShell factory's tag and name. */
export function isPowerShellFactoryImage(name: string, tags: Record<string, string> | undefined): boolean {
  const imagePath = getTag(tags, Tags.ImagePath);
  if (!imagePath || getTag(tags, Tags.ImageFactory) !== undefined) return false;
  return powerShellNamePattern(imagePath).test(name);
}

function powerShellNamePattern(imagePath: string): RegExp {
  const segments = imagePath.split('\\');
  const last = segments[segments.length - 1];
  const folder = segments.length > 1 ? segments[segments.length - 2] : undefined;
  // .NET's String.Replace: ordinal, case-sensitive, every occurrence.
  const current = (folder === undefined ? last : `${folder}_${last}`).split('.json').join('').replace(/\./g, '_').replace(/ /g, '-');
  const first = (folder === undefined ? last : `${folder}  ${last}`).split('.json').join('').replace(/\./g, '_');
  return new RegExp(
    `^(?:${escape(current)}-${MONTH}-${DAY}-${YEAR}[A-Z]*|${escape(first)} \\(${MONTH} ${DAY}, ${YEAR}\\))$`,
    'i',
  );
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
