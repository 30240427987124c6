import * as assert from 'node:assert/strict';
import type { LabRef } from '../../core/azure/labs';
import { describePlan } from '../../core/distribute/outcome';
import {
  type ConfiguredLab,
  type LabObservation,
  configuredLabKey,
  labsToRead,
  planDistribution,
  sameRegion,
} from '../../core/distribute/plan';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { factoryImage } from '../scenarios/distribute/factory';
import { observedCustomImage } from '../../core/distribute/observe';
import { type FactoryImage, customImageTags, stagingBlobName } from '../../core/factoryImages';

/** Keeps every image of these tests: their paths' templates exist and each path has one image. */
const RETENTION = { imagesToSave: 2, templatePaths: ['Win2016/Datacenter.json', 'Win2016/SQL.json', 'Linux/Ubuntu/Server.json'] };

const SUB_A = '11111111-1111-1111-1111-111111111111';
const SUB_B = '22222222-2222-2222-2222-222222222222';

function labRef(subscriptionId: string, name: string, location = 'westus2'): LabRef {
  return {
    id: `/subscriptions/${subscriptionId}/resourceGroups/rg-${name}/providers/Microsoft.DevTestLab/labs/${name}`,
    subscriptionId,
    resourceGroup: `rg-${name}`,
    name,
    location,
  };
}

const factory = labRef(SUB_A, 'Factory');


const win = factoryImage('Win2016_Datacenter-Nov-24-2026', 'Win2016/Datacenter.json');
const sql = factoryImage('Win2016_SQL-Nov-24-2026', 'Win2016/SQL.json');
const ubuntu = factoryImage('Ubuntu_Server-Nov-24-2026', 'Linux/Ubuntu/Server.json');
const images = [win, sql, ubuntu];

function configured(index: number, subscriptionId: string, labName: string, imagePaths: string[]): ConfiguredLab {
  return { index, subscriptionId, labName, imagePaths };
}

function observed(lab: LabRef, extra: Partial<Extract<LabObservation, { lab: LabRef }>> = {}): LabObservation {
  return { lab, customImages: [], stagingBlobs: [], ...extra };
}

function observations(entries: [ConfiguredLab, LabObservation][]): Map<string, LabObservation> {
  return new Map(entries.map(([config, observation]) => [configuredLabKey(config), observation]));
}


/** The plan for one lab, LabA in subscription A, that holds what `holds` says. */
function planOneLab(imagePaths: string[], holds: Partial<Extract<LabObservation, { lab: LabRef }>> = {}) {
  const config = configured(0, SUB_A, 'LabA', imagePaths);
  const lab = labRef(SUB_A, 'LabA');
  return { lab, plan: planDistribution({ retention: RETENTION, factory, images, labs: [config], observations: observations([[config, observed(lab, holds)]]) }) };
}

describe('distribution plan', () => {
  it('pairs each image with every lab whose ImagePaths select it, whatever the separators and case', () => {
    const a = configured(0, SUB_A, 'LabA', ['Win2016']);
    const b = configured(1, SUB_B, 'LabB', ['win2016\\sql.json', 'Linux/']);
    const c = configured(2, SUB_B, 'LabC', ['Win']); // a partial segment selects nothing
    const plan = planDistribution({
      retention: RETENTION,
      factory,
      images,
      labs: [a, b, c],
      observations: observations([
        [a, observed(labRef(SUB_A, 'LabA'))],
        [b, observed(labRef(SUB_B, 'LabB'))],
      ]),
    });
    assert.deepEqual(
      plan.jobs.map((j) => `${j.lab.name}:${j.image.imageName}:${j.start}`).sort(),
      [
        'LabA:Win2016_Datacenter-Nov-24-2026:copy',
        'LabA:Win2016_SQL-Nov-24-2026:copy',
        'LabB:Ubuntu_Server-Nov-24-2026:copy',
        'LabB:Win2016_SQL-Nov-24-2026:copy',
      ],
    );
    assert.equal(plan.issues.length, 0);
    assert.equal(plan.labs.length, 3);
    assert.equal(plan.labs[2].cells.size, 0, 'LabC selects nothing');
  });

  it('reads only labs that select an image, each once', () => {
    const a = configured(0, SUB_A, 'LabA', ['Win2016']);
    const again = configured(1, SUB_A.toUpperCase(), 'laba', ['Linux']);
    const none = configured(2, SUB_B, 'LabN', ['Mac']);
    assert.deepEqual(labsToRead([a, again, none], images), [a]);
  });

  it('plans one job per image per lab even when two entries name the same lab', () => {
    const a = configured(0, SUB_A, 'LabA', ['Win2016/Datacenter.json']);
    const again = configured(1, SUB_A, 'LABA', ['Win2016', 'Win2016/Datacenter.json']);
    const plan = planDistribution({
      retention: RETENTION,
      factory,
      images,
      labs: [a, again],
      observations: observations([[a, observed(labRef(SUB_A, 'LabA'))]]),
    });
    assert.deepEqual(plan.jobs.map((j) => j.image.imageName).sort(), [win.imageName, sql.imageName].sort());
    assert.equal(plan.labs.length, 1);
    assert.equal(new Set(plan.jobs.map((j) => j.key)).size, plan.jobs.length);
  });

  it('skips an image the lab already holds and says whether the factory made it', () => {
    const lab = labRef(SUB_A, 'LabA');
    const { plan } = planOneLab(['Win2016'], {
      customImages: [
        observedCustomImage(
          {
            name: win.imageName.toUpperCase(),
            id: `${lab.id}/customimages/${win.imageName}`,
            provisioningState: 'Succeeded',
            tags: customImageTags(win, factory.id),
          },
          factory.id,
        ),
        { name: sql.imageName, provisioningState: 'Succeeded' },
      ],
    });
    assert.equal(plan.jobs.length, 0);
    assert.deepEqual(plan.labs[0].cells.get(win.imageName), {
      state: 'exists',
      customImageId: `${lab.id}/customimages/${win.imageName}`,
      madeByFactory: true,
    });
    assert.deepEqual(plan.labs[0].cells.get(sql.imageName), { state: 'exists', customImageId: undefined, madeByFactory: false });
  });

  it('waits for an image an earlier run left Creating and redoes one it left Failed', () => {
    const tags = (i: FactoryImage) => customImageTags(i, factory.id);
    const { plan } = planOneLab(['Win2016'], {
      customImages: [
        observedCustomImage({ name: win.imageName, provisioningState: 'Creating', tags: tags(win) }, factory.id),
        observedCustomImage({ name: sql.imageName, provisioningState: 'Failed', tags: tags(sql) }, factory.id),
      ],
    });
    assert.deepEqual(
      plan.jobs.map((j) => `${j.image.imageName}:${j.start}`).sort(),
      [`${win.imageName}:wait-image`, `${sql.imageName}:redo-image`].sort(),
    );
  });

  it('never touches a failed or creating image of that name that the factory did not make', () => {
    const { plan } = planOneLab(['Win2016/SQL.json'], { customImages: [observedCustomImage({ name: sql.imageName, provisioningState: 'Failed', tags: {} }, factory.id)] });
    assert.equal(plan.jobs.length, 0);
    assert.equal(plan.issues.length, 1);
    assert.equal(plan.issues[0].code, ErrorCodes.CustomImageNameTaken);
    assert.match(plan.issues[0].message, /LabA/);
    assert.match(plan.issues[0].message, /Win2016_SQL-Nov-24-2026/);
  });

  it('resumes from staging blobs an earlier run left and deletes those no job needs', () => {
    const blob = (i: FactoryImage | string, copyStatus?: string) => {
      const name = typeof i === 'string' ? i : i.imageName;
      return { blobName: stagingBlobName(name), imageName: name, copyStatus, copyId: copyStatus ? `copy-${name}` : undefined };
    };
    const { plan } = planOneLab(['Win2016', 'Linux'], {
      customImages: [observedCustomImage({ name: ubuntu.imageName, provisioningState: 'Succeeded', tags: customImageTags(ubuntu, factory.id) }, factory.id)],
      stagingBlobs: [
        blob(win, 'pending'),
        blob(sql, 'success'),
        blob(ubuntu, 'success'), // image made, staging blob not yet deleted when the run stopped
        blob('Retired-Jan-01-2026', 'failed'), // no longer in the store
      ],
    });
    assert.deepEqual(
      plan.jobs.map((j) => `${j.image.imageName}:${j.start}:${j.staging?.blobName}`).sort(),
      [`${win.imageName}:follow-copy:${stagingBlobName(win.imageName)}`, `${sql.imageName}:reuse-copy:${stagingBlobName(sql.imageName)}`].sort(),
    );
    assert.deepEqual(plan.leftovers.map((l) => l.blob.imageName).sort(), ['Retired-Jan-01-2026', ubuntu.imageName].sort());
  });

  it('copies again over a staging blob whose copy failed', () => {
    const { plan } = planOneLab(['Win2016/Datacenter.json'], {
      stagingBlobs: [{ blobName: stagingBlobName(win.imageName), imageName: win.imageName, copyStatus: 'aborted' }],
    });
    assert.deepEqual(plan.jobs.map((j) => j.start), ['recopy']);
    assert.equal(plan.leftovers.length, 0);
  });

  it('reports a missing lab, and plans a lab in another region on the VHD route, its copies marked as crossing regions', () => {
    const good = configured(0, SUB_A, 'Good', ['Win2016']);
    const missing = configured(1, SUB_B, 'Missing', ['Win2016']);
    const far = configured(2, SUB_B, 'Far', ['Win2016', 'Linux']);
    const plan = planDistribution({
      retention: RETENTION,
      factory,
      images,
      labs: [good, missing, far],
      observations: observations([
        [good, observed(labRef(SUB_A, 'Good', 'West US 2'))],
        [
          missing,
          {
            error: new FactoryError(ErrorCodes.LabNotFound, `Lab 'Missing' was not found in subscription ${SUB_B}.`, {
              fix: 'Check labs.json.',
            }),
          },
        ],
        [far, observed(labRef(SUB_B, 'Far', 'eastus'))],
      ]),
    });
    assert.deepEqual(plan.jobs.map((j) => j.lab.name), ['Good', 'Good', 'Far', 'Far', 'Far']);
    assert.deepEqual(plan.issues.map((i) => i.code), [ErrorCodes.LabNotFound]);
    assert.match(plan.issues[0].message, /'Missing'.*22222222-2222-2222-2222-222222222222/);
    // Every job copies from the factory's store, in the factory's region, into the lab's own storage.
    for (const job of plan.jobs) {
      assert.equal(job.source.lab, factory);
      assert.equal(job.source.region, 'westus2');
      assert.equal(job.crossesRegion, job.lab.name === 'Far', job.key);
    }
    const farCells = [...plan.labs[2].cells.values()];
    assert.equal(farCells.length, 3);
    assert.ok(farCells.every((c) => c.state === 'job' && c.job.lab.location === 'eastus'));

    const lines = describePlan(plan);
    assert.match(lines[0], /5 jobs to run \(3 of them copying across regions, which is slower\)/);
    const text = lines.join('\n');
    assert.match(text, /  Far \(subscription 2222.*\): to distribute across regions, westus2 to eastus: Ubuntu_Server-Nov-24-2026, Win2016_Datacenter-Nov-24-2026, Win2016_SQL-Nov-24-2026\./);
    assert.match(text, /  Good \(subscription 1111.*\): to distribute Win2016_Datacenter-Nov-24-2026, Win2016_SQL-Nov-24-2026\./);
    assert.match(text, /By image \(a lab shown with its region is copied to across regions\):/);
    assert.match(text, /Win2016_Datacenter-Nov-24-2026 .*: to Good, Far \(eastus\); blocked for Missing\./);
  });

  it('marks a copy into a lab of unknown region as crossing regions', () => {
    const lab = configured(0, SUB_A, 'Nowhere', ['Linux']);
    const plan = planDistribution({ retention: RETENTION, factory, images, labs: [lab], observations: observations([[lab, observed(labRef(SUB_A, 'Nowhere', ''))]]) });
    assert.deepEqual(plan.jobs.map((j) => j.crossesRegion), [true]);
  });

  it('compares regions as Azure writes them', () => {
    assert.ok(sameRegion('West US 2', 'westus2'));
    assert.ok(!sameRegion('westus', 'westus2'));
  });

  it('plans nothing for an empty store', () => {
    const a = configured(0, SUB_A, 'LabA', ['Win2016']);
    const plan = planDistribution({ retention: RETENTION, factory, images: [], labs: [a], observations: new Map() });
    assert.equal(plan.jobs.length, 0);
    assert.equal(plan.issues.length, 0);
  });

  describe('no copy that retention undoes', () => {
    const dc = (day: number) =>
      ({ ...factoryImage(`Win2016_Datacenter-Nov-${String(day).padStart(2, '0')}-2026`, 'Win2016/Datacenter.json'), createdUtc: `2026-11-${String(day).padStart(2, '0')}T08:00:00.000Z` });
    const held = (image: FactoryImage) => observedCustomImage({ name: image.imageName, provisioningState: 'Succeeded', tags: customImageTags(image, factory.id) }, factory.id);
    const plan = (holds: FactoryImage[], stored: FactoryImage[], templatePaths = RETENTION.templatePaths) => {
      const config = configured(0, SUB_A, 'LabA', ['Win2016']);
      return planDistribution({
        retention: { imagesToSave: 2, templatePaths },
        factory,
        images: stored,
        labs: [config],
        observations: observations([[config, observed(labRef(SUB_A, 'LabA'), { customImages: holds.map(held) })]]),
      });
    };
    const cells = (p: ReturnType<typeof plan>) =>
      Object.fromEntries([...p.labs[0].cells].map(([name, cell]) => [name, cell.state === 'left-out' ? `left-out: ${cell.detail}` : cell.state]));

    it('copies only the ImagesToSave newest of a path into a lab that starts selecting it, and says why the rest are left out', () => {
      const p = plan([], [dc(1), dc(10), dc(20)]);
      assert.deepEqual(p.jobs.map((j) => j.image.imageName).sort(), [dc(10).imageName, dc(20).imageName]);
      assert.deepEqual(cells(p)[dc(1).imageName], 'left-out: older than the 2 newest of Win2016/Datacenter.json');
      assert.match(describePlan(p).join('\n'), /left out, as retention would delete them: Win2016_Datacenter-Nov-01-2026 \(older than the 2 newest/);
    });

    it('ranks what the lab holds with what it would receive', () => {
      // The lab holds the two newest: an older store image would go at once.
      assert.deepEqual(plan([dc(10), dc(20)], [dc(5), dc(10), dc(20)]).jobs, []);
      // The lab holds an older one: the two newer store images are copied, and retention retires the held one.
      assert.deepEqual(plan([dc(1)], [dc(10), dc(20)]).jobs.map((j) => j.image.imageName).sort(), [dc(10).imageName, dc(20).imageName]);
      // A custom image another factory made does not count.
      const foreign = observedCustomImage({ name: 'Mine', provisioningState: 'Succeeded', tags: customImageTags(dc(25), 'other-factory') }, factory.id);
      assert.equal(foreign.ranking, undefined);
    });

    it('copies no image of a path whose template is gone, as RetireImages deletes them all', () => {
      const p = plan([], [dc(1), dc(20)], ['Win2016/SQL.json']);
      assert.deepEqual(p.jobs, []);
      assert.match(cells(p)[dc(1).imageName], /^left-out: its template Win2016\/Datacenter\.json is no longer in GoldenImages/);
    });
  });

  it('refuses an image whose metadata says Generation 2 once, naming every lab that selects it, and plans the others', () => {
    const gen2 = { ...sql, hyperVGeneration: 'V2' as const };
    const a = configured(0, SUB_A, 'LabA', ['Win2016']);
    const b = configured(1, SUB_B, 'LabB', ['Win2016/SQL.json']);
    const plan = planDistribution({
      retention: RETENTION,
      factory,
      images: [win, gen2],
      labs: [a, b],
      observations: observations([
        [a, observed(labRef(SUB_A, 'LabA'))],
        [b, observed(labRef(SUB_B, 'LabB'))],
      ]),
    });
    assert.deepEqual(plan.jobs.map((j) => `${j.lab.name}/${j.image.imageName}`), [`LabA/${win.imageName}`]);
    assert.deepEqual(plan.issues.map((i) => i.code), [ErrorCodes.StoredImageGeneration2]);
    assert.match(plan.issues[0].message, /not distributed to 2 labs \(LabA, LabB\)/);
    assert.deepEqual(plan.labs[1].cells.get(gen2.imageName), { state: 'error', code: ErrorCodes.StoredImageGeneration2 });
  });
});
