/**
 * An ImagePath names a golden-image template relative to Configuration/GoldenImages: a template file
 * ("Win2016/Datacenter.json") or a folder ("Win2016") that selects every template at or below it.
 * Configurations written on Windows use `\` and `/` alike, and Windows paths ignore case, so paths are
 * compared by their key: separators unified, empty and "." segments dropped, lower-cased.
 * Everything that matches image paths (validator, distribution, retention) uses this module.
 */
export type ImagePathCheck =
  | { ok: true; normalized: string }
  | { ok: false; reason: 'blank' | 'absolute' | 'escapes' };

/** Something normalizing changes: whitespace at either end, a `\\`, or an empty or `.` segment. */
const NOT_NORMAL = /^\s|\s$|\\|(?:^|\/)\.?(?:\/|$)/;

/** `Win2016\\Datacenter.json` -> `Win2016/Datacenter.json`; case is kept for display. */
export function normalizeImagePath(imagePath: string): string {
  // Paths are compared for every image in every lab of a plan: one already normal is not rebuilt.
  if (!NOT_NORMAL.test(imagePath)) return imagePath;
  return imagePath
    .trim()
    .replace(/\\/g, '/')
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/** The form two image paths are compared in. */
export function imagePathKey(imagePath: string): string {
  return normalizeImagePath(imagePath).toLowerCase();
}

/** Whether a configured ImagePaths entry is usable at all, before looking at the GoldenImages tree. */
export function checkImagePath(imagePath: string): ImagePathCheck {
  const trimmed = imagePath.trim();
  if (/^([\\/]|[A-Za-z]:)/.test(trimmed)) return { ok: false, reason: 'absolute' };
  const normalized = normalizeImagePath(trimmed);
  if (normalized === '') return { ok: false, reason: 'blank' };
  if (normalized.split('/').some((segment) => segment === '..')) return { ok: false, reason: 'escapes' };
  return { ok: true, normalized };
}

/**
 * True when `selector` (an ImagePaths entry) selects the template at `imagePath`: the same path, or a
 * folder that holds it, by whole segments ("Win" does not select "Win2016/x.json").
 */
export function imagePathSelects(selector: string, imagePath: string): boolean {
  return keySelects(imagePathKey(selector), imagePathKey(imagePath));
}

/** True when any of a lab's ImagePaths entries selects `imagePath`. */
export function labSelects(imagePaths: readonly string[], imagePath: string): boolean {
  const p = imagePathKey(imagePath);
  return imagePaths.some((selector) => keySelects(imagePathKey(selector), p));
}

function keySelects(s: string, p: string): boolean {
  return s !== '' && (p === s || (p.length > s.length && p.startsWith(s) && p[s.length] === '/'));
}
