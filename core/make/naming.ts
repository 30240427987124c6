import { createHash } from 'node:crypto';
import { imagePathKey, normalizeImagePath } from '../config/imagePaths';
import type { OsType } from '../factoryImages';

/**
 * The factory VM's name for a template, derived from its ImagePath so a user can tell them apart in the
 * lab: `WindowsServer/Server2022-Datacenter.json` becomes `windowsserver-server2022-datacenter`, or,
 * where Azure's limit is shorter (a Windows computer name holds 15 characters), the front of that with
 * four hexadecimal digits of the path's hash so two long paths never meet. Letters, digits and hyphens,
 * not all digits, no hyphen at either end; unique in the lab among names in use.
 */

export const MAX_VM_NAME: Record<OsType, number> = { Windows: 15, Linux: 62 };

export function vmNameFor(imagePath: string, osType: OsType, taken: ReadonlySet<string>): string {
  const limit = MAX_VM_NAME[osType];
  let base = normalizeImagePath(imagePath)
    .replace(/\.json$/i, '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (base === '' || /^\d+$/.test(base)) base = `vm-${base}`.replace(/-$/, '');
  for (let attempt = 0; ; attempt++) {
    const name = attempt === 0 && base.length <= limit ? base : withSuffix(base, limit, `${imagePathKey(imagePath)}#${attempt}`);
    if (!taken.has(name.toLowerCase())) return name;
  }
}

function withSuffix(base: string, limit: number, seed: string): string {
  const suffix = createHash('sha256').update(seed).digest('hex').slice(0, 4);
  const front = base.slice(0, limit - suffix.length - 1).replace(/-+$/, '');
  return `${front}-${suffix}`;
}
