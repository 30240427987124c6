import * as assert from 'node:assert/strict';
import type { ObservedDefinition, ObservedVersion } from '../../core/gallery/gallery';
import { decideForLab, decideGalleryVersions, rankedVersion } from '../../core/gallery/retention';

/** The retention rule on the gallery route, in-process: the gallery as one scope, a lab as another. */
const FACTORY = '/subscriptions/s/resourcegroups/rg/providers/microsoft.devtestlab/labs/factory';

function version(name: string, imagePath: string, extra: Partial<ObservedVersion> = {}): ObservedVersion {
  const [, md, hms] = name.split('.');
  const created = `2026-${md.slice(0, 2)}-${md.slice(2)}T${hms.slice(0, 2)}:${hms.slice(2, 4)}:${hms.slice(4)}.000Z`;
  return { name, provisioningState: 'Succeeded', regions: ['westus2'], tags: {}, imagePath, createdUtc: created, factoryLabId: FACTORY, ...extra };
}

const definition = (name: string, versions: ObservedVersion[]): ObservedDefinition => ({ name, hyperVGeneration: 'V2', securityType: 'TrustedLaunch', versions });
const settings = { imagesToSave: 2, templatePaths: ['Win11/Enterprise.json', 'Linux/Ubuntu.json'] };
const verdicts = (decisions: ReturnType<typeof decideGalleryVersions>) => decisions.map((d) => `${d.image.name} ${d.keep ? 'keep' : d.reason}`);

describe('gallery retention (core/gallery/retention.ts)', () => {
  it('keeps the ImagesToSave newest finished factory versions per ImagePath and retires the older ones', () => {
    const win11 = definition('Win11_Enterprise', [
      version('2026.1101.060000', 'Win11\\Enterprise.json'),
      version('2026.1201.060000', 'Win11/Enterprise.json'),
      version('2026.1110.060000', 'Win11/Enterprise.json'),
      // Not finished, not the factory's, or with no time: never retired, never counted.
      version('2026.1202.060000', 'Win11/Enterprise.json', { provisioningState: 'Creating' }),
      version('2026.0101.060000', 'Win11/Enterprise.json', { factoryLabId: '/subscriptions/s/other' }),
      version('2026.0102.060000', 'Win11/Enterprise.json', { createdUtc: undefined }),
    ]);
    assert.deepEqual(verdicts(decideGalleryVersions([win11], FACTORY, [], settings)).sort(), [
      'Win11_Enterprise/2026.0102.060000 keep',
      'Win11_Enterprise/2026.1101.060000 older',
      'Win11_Enterprise/2026.1110.060000 keep',
      'Win11_Enterprise/2026.1201.060000 keep',
    ]);
  });

  it('retires every version of a template gone from GoldenImages, naming the labs whose folder entry still covers it', () => {
    const gone = definition('Linux_Debian', [version('2026.1201.060000', 'Linux/Debian.json')]);
    const [decision] = decideGalleryVersions([gone], FACTORY, [{ labName: 'Team-East', imagePaths: ['Linux'] }], settings);
    assert.equal(decision.keep, false);
    assert.equal(decision.detail, 'its template Linux/Debian.json is no longer in GoldenImages; retired though Team-East still list(s) a folder that held it');
  });

  it('in a lab, keeps what the lab selects and whose template is there', () => {
    const served = [rankedVersion('Win11_Enterprise', version('2026.1201.060000', 'Win11/Enterprise.json')), rankedVersion('Linux_Ubuntu', version('2026.1201.060000', 'Linux/Ubuntu.json'))];
    const lab = decideForLab({ labName: 'Team-West', imagePaths: ['Win11'] }, served, settings);
    assert.deepEqual([lab.get('win11_enterprise')?.keep, lab.get('linux_ubuntu')?.reason], [true, 'not-selected']);
  });
});
