import type { ScenarioVhd } from '../scenario';
import { checkAlone, type Checker } from '../scenarioChecker';
import { BLOB_DATA_ROLE_NAMES, type BlobDataRoleAssignment } from './dataRoles';

/** The Storage part of a scenario: VHDs (page blobs) a storage account holds at start, and its blob data roles. */

const GIB = 1024 * 1024 * 1024;

export function checkVhdScenario(c: Checker, raw: unknown, path: string): ScenarioVhd | undefined {
  const vhd = c.object(raw, path, ['name', 'sizeBytes', 'metadata']);
  if (!vhd) return undefined;
  const before = c.problems.length;
  c.string(vhd.name, `${path}.name`, { required: true, pattern: /^[^\\?#]{1,1024}$/, hint: 'must be a blob name (1-1024 characters, no \\ ? #)' });
  const size = c.number(vhd.sizeBytes, `${path}.sizeBytes`, { integer: true, min: 512 });
  if (size !== undefined && size % 512 !== 0) c.problem(`${path}.sizeBytes`, `must be a multiple of 512 (a page blob), got ${size}`);
  c.stringMap(vhd.metadata, `${path}.metadata`, /^[A-Za-z_][A-Za-z0-9_]*$/, 'metadata names must be letters, digits and _ (not starting with a digit)');
  return c.problems.length === before ? (vhd as unknown as ScenarioVhd) : undefined;
}

/** A VHD added on its own (the control endpoint). */
export function checkVhd(vhd: ScenarioVhd, source = 'vhd'): ScenarioVhd {
  return checkAlone(source, (c) => checkVhdScenario(c, vhd, source))!;
}

export function vhdSizeBytes(vhd: ScenarioVhd): number {
  // By default a valid fixed VHD: 1 GiB and its footer.
  return vhd.sizeBytes ?? GIB + 512;
}

/** A storage account's `blobDataRoles`: who holds which Storage Blob Data role on it (or on one container). */
export function checkBlobDataRolesScenario(c: Checker, raw: unknown, path: string): BlobDataRoleAssignment[] | undefined {
  return c.array(raw, path)?.map((item, i) => {
    const itemPath = `${path}[${i}]`;
    const a = c.object(item, itemPath, ['principal', 'role', 'container']);
    if (a) {
      c.string(a.principal, `${itemPath}.principal`, { required: true, pattern: /^\S+$/, hint: 'must be a client id or object id' });
      c.string(a.role, `${itemPath}.role`, { required: true, oneOf: BLOB_DATA_ROLE_NAMES });
      c.string(a.container, `${itemPath}.container`, { pattern: /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, hint: 'must be a container name' });
    }
    return item as BlobDataRoleAssignment;
  });
}
