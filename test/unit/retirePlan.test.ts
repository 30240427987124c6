import * as assert from 'node:assert/strict';
import { imagePathKey, labSelects } from '../../core/config/imagePaths';
import {
  formatRetirementPlan,
  type LabObservation,
  type ObservedCustomImage,
  type ObservedStoreImage,
  planRetirement,
  type RetirePlan,
  type RetirePlanInput,
  STORE_SCOPE_KEY,
} from '../../core/retire/plan';

const FACTORY = '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/Factory';
const OTHER_FACTORY = '/subscriptions/s9/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/OtherFactory';
const TEMPLATES = ['Win2016/Datacenter.json', 'Win2019/Datacenter.json', 'Linux/Ubuntu.json'];

function vhd(imageName: string, imagePath: string, createdUtc: string): ObservedStoreImage {
  return { blobName: `${imageName}.vhd`, imageName, imagePath, createdUtc };
}

function image(name: string, imagePath: string, created: string, extra: Partial<ObservedCustomImage> = {}): ObservedCustomImage {
  return {
    name,
    tags: { ImagePath: imagePath, ImageFactory: FACTORY.toLowerCase(), ImageFactoryCreated: created },
    creationDate: new Date(Date.parse(created) + 60_000),
    provisioningState: 'Succeeded',
    ...extra,
  };
}

function lab(name: string, imagePaths: string[] | undefined, images: ObservedCustomImage[]): LabObservation {
  return { key: `/subscriptions/s1/resourcegroups/rg/providers/microsoft.devtestlab/labs/${name.toLowerCase()}`, label: `lab '${name}'`, imagePaths, read: { ok: true, value: images } };
}

function input(parts: Partial<RetirePlanInput>): RetirePlanInput {
  return {
    factoryLabId: FACTORY,
    includePowerShellImages: true,
    imagesToSave: 2,
    templatePaths: TEMPLATES,
    store: { label: "factory image store of lab 'Factory'", read: { ok: true, value: { images: [], incomplete: 0, otherBlobs: 0 } } },
    labs: [],
    ...parts,
  };
}

function store(images: ObservedStoreImage[], extra: { incomplete?: number; otherBlobs?: number } = {}): RetirePlanInput['store'] {
  return { label: "factory image store of lab 'Factory'", read: { ok: true, value: { images, incomplete: extra.incomplete ?? 0, otherBlobs: extra.otherBlobs ?? 0 } } };
}

function scope(plan: RetirePlan, key: string) {
  const found = plan.scopes.find((s) => s.key === key);
  assert.ok(found, `scope ${key}`);
  return found;
}

const names = (entries: { name: string }[]) => entries.map((e) => e.name).sort();

describe('planRetirement', () => {
  it('keeps the ImagesToSave newest VHDs of each ImagePath in the store and deletes the older ones', () => {
    const plan = planRetirement(
      input({
        imagesToSave: 2,
        store: store([
          vhd('W16-1', 'Win2016/Datacenter.json', '2026-01-01T00:00:00Z'),
          vhd('W16-3', 'Win2016/Datacenter.json', '2026-03-01T00:00:00Z'),
          vhd('W16-2', 'Win2016/Datacenter.json', '2026-02-01T00:00:00Z'),
          vhd('W16-4', 'Win2016/Datacenter.json', '2026-04-01T00:00:00Z'),
          vhd('U-1', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z'),
        ]),
      }),
    );
    const s = scope(plan, STORE_SCOPE_KEY);
    assert.deepEqual(names(s.delete), ['W16-1', 'W16-2']);
    assert.deepEqual(names(s.keep), ['U-1', 'W16-3', 'W16-4']);
    assert.ok(s.delete.every((d) => d.reason === 'older' && d.target.kind === 'blob'));
    assert.deepEqual(s.delete.map((d) => d.target).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
      { kind: 'blob', blobName: 'W16-1.vhd' },
      { kind: 'blob', blobName: 'W16-2.vhd' },
    ]);
    assert.deepEqual(plan.deletions, s.delete);
  });

  it('groups paths as the validator compares them: \\ and / alike, case and dot segments ignored', () => {
    const plan = planRetirement(
      input({
        imagesToSave: 1,
        store: store([
          vhd('A', 'Win2016\\Datacenter.json', '2026-01-01T00:00:00Z'),
          vhd('B', 'win2016/./DATACENTER.json', '2026-02-01T00:00:00Z'),
          vhd('C', 'Win2016/Datacenter.json', '2026-03-01T00:00:00Z'),
        ]),
      }),
    );
    const s = scope(plan, STORE_SCOPE_KEY);
    assert.deepEqual(names(s.keep), ['C']);
    assert.deepEqual(names(s.delete), ['A', 'B']);
  });

  it('orders custom images by the ImageFactoryCreated tag (any casing of its name), falling back to creationDate', () => {
    const images: ObservedCustomImage[] = [
      // Created first by the tag, though ARM created it last (copied to the lab late).
      image('Old', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z', { creationDate: new Date('2026-09-01T00:00:00Z') }),
      {
        name: 'Mid',
        tags: { imagepath: 'Linux/Ubuntu.json', IMAGEFACTORY: FACTORY.toUpperCase(), imagefactorycreated: '2026-02-01T00:00:00Z' },
        creationDate: new Date('2026-02-01T00:00:00Z'),
      },
      {
        name: 'NoTag',
        tags: { ImagePath: 'Linux/Ubuntu.json', ImageFactory: FACTORY },
        creationDate: new Date('2026-03-01T00:00:00Z'),
        provisioningState: 'Succeeded',
      },
      image('BadTag', 'Linux/Ubuntu.json', 'not a date', { creationDate: '2025-12-01T00:00:00Z' }),
    ];
    const plan = planRetirement(input({ imagesToSave: 2, labs: [lab('Dev', ['Linux'], images)] }));
    const s = plan.scopes[1];
    assert.deepEqual(names(s.keep), ['Mid', 'NoTag']);
    assert.deepEqual(names(s.delete), ['BadTag', 'Old']);
    assert.equal(s.delete.find((d) => d.name === 'BadTag')?.created, '2025-12-01T00:00:00.000Z');
  });

  it('breaks ties of creation time by name, the later same-day name first, whatever the listing order', () => {
    const t = '2026-05-05T05:05:05Z';
    const all = ['X-May-05-2026', 'X-May-05-2026A', 'X-May-05-2026B', 'X-May-05-2026Z', 'X-May-05-2026AA'].map((n) =>
      vhd(n, 'Linux/Ubuntu.json', t),
    );
    for (const order of [all, [...all].reverse(), [all[2], all[0], all[4], all[1], all[3]]]) {
      const s = scope(planRetirement(input({ imagesToSave: 2, store: store(order) })), STORE_SCOPE_KEY);
      assert.deepEqual(names(s.keep), ['X-May-05-2026AA', 'X-May-05-2026Z']);
      assert.deepEqual(names(s.delete), ['X-May-05-2026', 'X-May-05-2026A', 'X-May-05-2026B']);
    }
  });

  it('never touches custom images the factory did not make, and counts them per lab', () => {
    const foreign: ObservedCustomImage[] = [
      { name: 'Handmade', creationDate: new Date('2020-01-01T00:00:00Z'), provisioningState: 'Succeeded' },
      { name: 'TaggedByHand', tags: { ImagePath: 'Linux/Ubuntu.json' }, creationDate: new Date('2020-01-01T00:00:00Z') },
      image('OtherFactory', 'Linux/Ubuntu.json', '2020-01-01T00:00:00Z', {
        tags: { ImagePath: 'Linux/Ubuntu.json', ImageFactory: OTHER_FACTORY.toLowerCase(), ImageFactoryCreated: '2020-01-01T00:00:00Z' },
      }),
      { name: 'NoPath', tags: { ImageFactory: FACTORY.toLowerCase(), ImageFactoryCreated: '2020-01-01T00:00:00Z' } },
      // Paths no lab selects and templates that are gone do not make a foreign image ours.
      { name: 'ForeignGone', tags: { ImagePath: 'Gone/Template.json' }, creationDate: new Date('2020-01-01T00:00:00Z') },
    ];
    const ours = [
      image('U1', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z'),
      image('U2', 'Linux/Ubuntu.json', '2026-02-01T00:00:00Z'),
      image('U3', 'Linux/Ubuntu.json', '2026-03-01T00:00:00Z'),
    ];
    const plan = planRetirement(input({ imagesToSave: 1, labs: [lab('Dev', ['Win2016'], [...foreign, ...ours])] }));
    const s = plan.scopes[1];
    assert.equal(s.notOurs, foreign.length);
    const touched = [...s.delete, ...s.keep].map((e) => e.name);
    for (const f of foreign) assert.ok(!touched.includes(f.name), `${f.name} is not the factory's`);
    // Ubuntu is not selected by Dev, so all three of ours go.
    assert.deepEqual(names(s.delete), ['U1', 'U2', 'U3']);
    assert.ok(formatRetirementPlan(plan).some((line) => /lab 'Dev'.*5 custom image\(s\) not made by this factory left alone/i.test(line)));
  });

  it('deletes every image of a path whose template is gone when no lab selects it, in the store and in the labs', () => {
    const plan = planRetirement(
      input({
        store: store([vhd('Old1', 'Retired/Gone.json', '2026-01-01T00:00:00Z'), vhd('Old2', 'Retired/Gone.json', '2026-02-01T00:00:00Z')]),
        labs: [
          lab('Factory', undefined, [image('Old2', 'Retired/Gone.json', '2026-02-01T00:00:00Z')]),
          lab('Dev', ['Win2016', 'Linux'], [image('Old2', 'retired\\gone.json', '2026-02-01T00:00:00Z')]),
        ],
      }),
    );
    assert.deepEqual(names(scope(plan, STORE_SCOPE_KEY).delete), ['Old1', 'Old2']);
    assert.deepEqual(names(plan.scopes[1].delete), ['Old2']);
    assert.deepEqual(names(plan.scopes[2].delete), ['Old2']);
    assert.ok(plan.deletions.every((d) => d.reason === 'template-removed'));
    assert.equal(plan.deletions.length, 4);
  });

  it("in a target lab deletes all images of a path the lab no longer selects, even the newest; elsewhere they stay", () => {
    const w16 = [image('W1', 'Win2016/Datacenter.json', '2026-01-01T00:00:00Z'), image('W2', 'Win2016/Datacenter.json', '2026-02-01T00:00:00Z')];
    const plan = planRetirement(
      input({
        store: store([vhd('W1', 'Win2016/Datacenter.json', '2026-01-01T00:00:00Z'), vhd('W2', 'Win2016/Datacenter.json', '2026-02-01T00:00:00Z')]),
        labs: [lab('Factory', undefined, w16), lab('Dev', ['Linux/Ubuntu.json'], w16), lab('Test', ['Win2016'], w16)],
      }),
    );
    const [storeScope, factory, dev, test] = plan.scopes;
    assert.deepEqual(names(dev.delete), ['W1', 'W2']);
    assert.ok(dev.delete.every((d) => d.reason === 'not-selected' && d.target.kind === 'customImage'));
    assert.equal(test.delete.length, 0);
    assert.equal(factory.delete.length, 0, 'the factory lab is not a target: selection does not apply to it');
    assert.equal(storeScope.delete.length, 0);
  });

  it('retires every image of a removed template everywhere, even where a folder entry still covers its path', () => {
    // The template file is gone; lab Dev still lists its folder, which selects only the folder's live templates.
    const gone = 'Win2016/Legacy.json';
    const both = () => [image('L1', gone, '2026-01-01T00:00:00Z'), image('L2', gone, '2026-02-01T00:00:00Z')];
    const plan = planRetirement(
      input({
        imagesToSave: 3,
        store: store([vhd('L1', gone, '2026-01-01T00:00:00Z'), vhd('L2', gone, '2026-02-01T00:00:00Z')]),
        labs: [lab('Factory', undefined, both()), lab('Dev', ['Win2016'], both()), lab('Test', ['Linux'], both())],
      }),
    );
    for (const s of plan.scopes) {
      assert.deepEqual(names(s.keep), [], s.label);
      assert.deepEqual(names(s.delete), ['L1', 'L2'], s.label);
      assert.ok(s.delete.every((d) => d.reason === 'template-removed'), s.label);
    }
    const [storeScope, factory, dev, test] = plan.scopes;
    // The plan says why, and names the labs whose folder entry no longer protects the image.
    for (const s of [storeScope, factory, dev]) {
      assert.equal(s.delete[0].detail, "its template Win2016/Legacy.json is no longer in GoldenImages; retired though lab 'Dev' still list(s) a folder that held it", s.label);
    }
    assert.equal(test.delete[0].detail, 'its template Win2016/Legacy.json is no longer in GoldenImages');
    assert.equal(plan.deletions.length, 8);
  });

  it('keeps at least one image of every selected path with ImagesToSave = 1', () => {
    const plan = planRetirement(
      input({
        imagesToSave: 1,
        store: store([vhd('U1', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z')]),
        labs: [lab('Dev', ['Linux'], [image('U1', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z')])],
      }),
    );
    assert.equal(plan.deletions.length, 0);
  });

  it('leaves a lab that could not be read completely as it is, and goes on with the others', () => {
    const unreadable: LabObservation = {
      key: 's1/broken',
      label: "lab 'Broken' (subscription s1)",
      imagePaths: ['Linux'],
      read: { ok: false, reason: 'Listing its custom images failed on page 2: 503 ServiceUnavailable.' },
    };
    const many = ['2026-01-01', '2026-02-01', '2026-03-01'].map((d, i) => image(`U${i}`, 'Linux/Ubuntu.json', `${d}T00:00:00Z`));
    const plan = planRetirement(input({ imagesToSave: 1, labs: [unreadable, lab('Dev', ['Linux'], many)] }));
    const broken = plan.scopes[1];
    assert.equal(broken.unreadable, unreadable.read.ok ? undefined : unreadable.read.reason);
    assert.equal(broken.delete.length + broken.keep.length, 0);
    assert.ok(plan.deletions.every((d) => d.scopeKey !== 's1/broken'));
    assert.deepEqual(names(plan.scopes[2].delete), ['U0', 'U1']);
    assert.ok(formatRetirementPlan(plan).some((line) => line.includes("Lab 'Broken' (subscription s1): could not be read completely; left as it is.")));
  });

  it('retires the store copies of a removed template while a lab that covers its path cannot be read, and leaves that lab alone', () => {
    const gone = 'Win2016/Legacy.json';
    const plan = planRetirement(
      input({
        store: store([vhd('L1', gone, '2026-01-01T00:00:00Z'), vhd('L2', gone, '2026-02-01T00:00:00Z')]),
        labs: [{ key: 'x', label: "lab 'Broken'", imagePaths: ['Win2016'], read: { ok: false, reason: 'denied' } }],
      }),
    );
    assert.deepEqual(names(scope(plan, STORE_SCOPE_KEY).keep), []);
    assert.deepEqual(names(plan.deletions), ['L1', 'L2']);
    assert.ok(plan.deletions.every((d) => d.scopeKey === STORE_SCOPE_KEY));
  });

  it('leaves an unreadable store as it is', () => {
    const plan = planRetirement(input({ store: { label: 'factory image store', read: { ok: false, reason: '403' } } }));
    assert.equal(plan.scopes[0].unreadable, '403');
    assert.equal(plan.deletions.length, 0);
  });

  it('counts only finished images: those being created or failed stay and take no place; those being deleted are finished off', () => {
    const plan = planRetirement(
      input({
        imagesToSave: 1,
        labs: [
          lab('Dev', ['Linux'], [
            image('U1', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z'),
            image('U2', 'Linux/Ubuntu.json', '2026-02-01T00:00:00Z'),
            image('U3', 'Linux/Ubuntu.json', '2026-03-01T00:00:00Z', { provisioningState: 'Creating' }),
            image('U4', 'Linux/Ubuntu.json', '2026-04-01T00:00:00Z', { provisioningState: 'Failed' }),
            image('U0', 'Linux/Ubuntu.json', '2025-12-01T00:00:00Z', { provisioningState: 'Deleting' }),
          ]),
        ],
      }),
    );
    const dev = plan.scopes[1];
    assert.deepEqual(names(dev.keep), ['U2', 'U3', 'U4']);
    assert.deepEqual(dev.keep.filter((k) => k.reason === 'not-ready').map((k) => k.name).sort(), ['U3', 'U4']);
    assert.deepEqual(
      dev.delete.map((d) => [d.name, d.reason]).sort(),
      [
        ['U0', 'being-deleted'],
        ['U1', 'older'],
      ],
    );
  });

  it('keeps an image whose creation time is unknown without letting it push others out', () => {
    const plan = planRetirement(
      input({
        imagesToSave: 1,
        store: store([
          vhd('Unknown', 'Linux/Ubuntu.json', 'garbage'),
          vhd('U1', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z'),
          vhd('U2', 'Linux/Ubuntu.json', '2026-02-01T00:00:00Z'),
        ]),
      }),
    );
    const s = scope(plan, STORE_SCOPE_KEY);
    assert.deepEqual(
      s.keep.map((k) => [k.name, k.reason]).sort(),
      [
        ['U2', 'newest'],
        ['Unknown', 'unknown-time'],
      ],
    );
    assert.deepEqual(names(s.delete), ['U1']);
  });

  it('applies the selection rule to the factory lab when labs.json lists it as a target', () => {
    const w = [image('W1', 'Win2016/Datacenter.json', '2026-01-01T00:00:00Z')];
    const plan = planRetirement(input({ labs: [lab('Factory', ['Linux'], w)] }));
    assert.deepEqual(plan.deletions.map((d) => [d.name, d.reason]), [['W1', 'not-selected']]);
  });

  it('reports blobs that are not factory images and incomplete copies as left alone', () => {
    const plan = planRetirement(input({ store: store([], { otherBlobs: 3, incomplete: 2 }) }));
    const text = formatRetirementPlan(plan).join('\n');
    assert.match(text, /Factory image store of lab 'Factory': 0 to delete, 0 to keep, 3 blob\(s\) that are not factory images left alone, 2 incomplete copy\(ies\) left alone\./);
  });

  it('prints what goes and why and what stays', () => {
    const plan = planRetirement(
      input({
        imagesToSave: 1,
        store: store([vhd('U1', 'Linux/Ubuntu.json', '2026-01-01T00:00:00Z'), vhd('U2', 'Linux/Ubuntu.json', '2026-02-01T00:00:00Z')]),
      }),
    );
    const lines = formatRetirementPlan(plan);
    assert.ok(lines.includes('  delete U1 [Linux/Ubuntu.json, 2026-01-01T00:00:00.000Z]: older than the 1 newest of Linux/Ubuntu.json'), lines.join('\n'));
    assert.ok(lines.includes('  keep   U2 [Linux/Ubuntu.json, 2026-02-01T00:00:00.000Z]: newest 1 of 1'), lines.join('\n'));
  });

  describe("the PowerShell image factory's images", () => {
    // As its SnapImagesFromVMs and DistributeImages left them: tagged ImagePath alone, with Windows separators.
    const powerShell = (name: string, imagePath: string, creationDate: string): ObservedCustomImage => ({
      name,
      tags: { ImagePath: imagePath },
      creationDate: new Date(creationDate),
      provisioningState: 'Succeeded',
    });
    const labImages = () => [
      powerShell('Win2016_Datacenter-Oct-4-2026', 'Win2016\\Datacenter.json', '2026-10-04T10:00:00Z'),
      powerShell('Win2016_Datacenter-Oct-4-2026A', 'Win2016\\Datacenter.json', '2026-10-04T11:00:00Z'),
      image('W2', 'Win2016/Datacenter.json', '2026-11-02T00:00:00Z'),
      image('W3', 'Win2016/Datacenter.json', '2026-11-03T00:00:00Z'),
      // Tagged ImagePath but not named as the PowerShell factory named it: someone's own.
      powerShell('Win2016_Datacenter-Golden', 'Win2016\\Datacenter.json', '2026-01-01T00:00:00Z'),
      // Another factory's: its own ImageFactory tag.
      { ...powerShell('Win2016_Datacenter-Sep-1-2026', 'Win2016\\Datacenter.json', '2026-09-01T00:00:00Z'), tags: { ImagePath: 'Win2016\\Datacenter.json', ImageFactory: '/other' } },
      // No ImagePath at all.
      { name: 'Win2016_Datacenter-Aug-1-2026', creationDate: new Date('2026-08-01T00:00:00Z'), provisioningState: 'Succeeded' },
    ];

    it('retires them by the same rules as its own, ranked by creation date, and says whose they were', () => {
      const plan = planRetirement(input({ imagesToSave: 2, labs: [lab('Dev', ['Win2016'], labImages())] }));
      const [, dev] = plan.scopes;
      assert.deepEqual(names(dev.delete), ['Win2016_Datacenter-Oct-4-2026', 'Win2016_Datacenter-Oct-4-2026A']);
      assert.deepEqual(names(dev.keep), ['W2', 'W3']);
      assert.equal(dev.notOurs, 3);
      assert.equal(dev.delete[0].imagePath, 'Win2016/Datacenter.json');
      assert.ok(dev.delete.every((d) => d.detail === 'older than the 2 newest of Win2016/Datacenter.json (made by the PowerShell image factory)'));
    });

    it('retires those of a removed template and of a path a lab no longer selects, in the old naming too', () => {
      const plan = planRetirement(
        input({
          labs: [
            lab('Dev', ['Linux'], [powerShell('Win2012R2  SQLServer 2016 Express (Jan 9, 2017)', 'Win2012R2\\SQLServer 2016 Express.json', '2017-01-09T00:00:00Z')]),
            lab('Test', ['Linux'], [powerShell('Win2016_Datacenter-Oct-4-2026', 'Win2016\\Datacenter.json', '2026-10-04T00:00:00Z')]),
          ],
        }),
      );
      const [, dev, test] = plan.scopes;
      assert.deepEqual(dev.delete.map((d) => [d.name, d.reason]), [['Win2012R2  SQLServer 2016 Express (Jan 9, 2017)', 'template-removed']]);
      assert.deepEqual(test.delete.map((d) => [d.name, d.reason]), [['Win2016_Datacenter-Oct-4-2026', 'not-selected']]);
    });

    it('leaves them alone when turned off, counted as not the factory\'s', () => {
      const plan = planRetirement(input({ includePowerShellImages: false, imagesToSave: 2, labs: [lab('Dev', ['Win2016'], labImages())] }));
      const [, dev] = plan.scopes;
      assert.deepEqual(dev.delete, []);
      assert.deepEqual(names(dev.keep), ['W2', 'W3']);
      assert.equal(dev.notOurs, 5);
    });
  });

  it('refuses an ImagesToSave below 1', () => {
    assert.throws(() => planRetirement(input({ imagesToSave: 0 })), RangeError);
    assert.throws(() => planRetirement(input({ imagesToSave: 1.5 })), RangeError);
  });

  describe('over random factories', () => {
    const paths = ['Win2016/Datacenter.json', 'win2016\\datacenter.json', 'Win2019/Datacenter.json', 'Linux/Ubuntu.json', 'Gone/Old.json'];
    const selectors = ['Win2016', 'Win2019/Datacenter.json', 'Linux', 'Gone', 'Win2019'];

    function random(seed: number): () => number {
      let s = seed >>> 0;
      return () => {
        s = (s * 1664525 + 1013904223) >>> 0;
        return s / 2 ** 32;
      };
    }

    function randomInput(seed: number): RetirePlanInput {
      const rnd = random(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
      const date = () => new Date(Date.UTC(2026, 0, 1 + Math.floor(rnd() * 20))).toISOString();
      const images = (prefix: string): ObservedCustomImage[] =>
        Array.from({ length: Math.floor(rnd() * 8) }, (_, i) =>
          rnd() < 0.2
            ? { name: `${prefix}-foreign-${i}`, tags: rnd() < 0.5 ? { ImagePath: pick(paths) } : undefined, creationDate: new Date(date()) }
            : image(`${prefix}-${i}`, pick(paths), date()),
        );
      const labs: LabObservation[] = [lab('Factory', rnd() < 0.3 ? [pick(selectors)] : undefined, images('f'))];
      for (let l = 0; l < 4; l++) {
        const observed = lab(`L${l}`, Array.from({ length: 1 + Math.floor(rnd() * 2) }, () => pick(selectors)), images(`l${l}`));
        labs.push(rnd() < 0.15 ? { ...observed, read: { ok: false, reason: 'paging failed' } } : observed);
      }
      return input({
        imagesToSave: 1 + Math.floor(rnd() * 3),
        templatePaths: ['Win2016/Datacenter.json', 'Win2019/Datacenter.json', 'Linux/Ubuntu.json'],
        store: store(Array.from({ length: Math.floor(rnd() * 10) }, (_, i) => vhd(`s-${i}`, pick(paths), date()))),
        labs,
      });
    }

    function applied(before: RetirePlanInput, plan: RetirePlan): RetirePlanInput {
      const gone = (key: string) => new Set(plan.deletions.filter((d) => d.scopeKey === key).map((d) => d.name));
      const storeGone = gone(STORE_SCOPE_KEY);
      return {
        ...before,
        store: before.store.read.ok
          ? store(before.store.read.value.images.filter((i) => !storeGone.has(i.imageName)))
          : before.store,
        labs: before.labs.map((l) => (l.read.ok ? { ...l, read: { ok: true, value: l.read.value.filter((i) => !gone(l.key).has(i.name)) } } : l)),
      };
    }

    it('keeps every rule on 300 random factories, and a second run deletes nothing more', () => {
      for (let seed = 1; seed <= 300; seed++) {
        const before = randomInput(seed);
        const plan = planRetirement(before);
        for (const l of before.labs) {
          const deleted = plan.deletions.filter((d) => d.scopeKey === l.key);
          if (!l.read.ok) {
            assert.equal(deleted.length, 0, `seed ${seed}: unreadable lab touched`);
            continue;
          }
          const byName = new Map(l.read.value.map((i) => [i.name, i]));
          for (const d of deleted) assert.ok(!byName.get(d.name)!.name.includes('foreign'), `seed ${seed}: foreign image ${d.name} deleted`);
          if (!l.imagePaths) continue;
          const ours = l.read.value.filter((x) => !x.name.includes('foreign'));
          const remaining = ours.filter((i) => !deleted.some((d) => d.name === i.name));
          const count = (list: ObservedCustomImage[], key: string) => list.filter((i) => imagePathKey(i.tags!.ImagePath) === key).length;
          for (const key of new Set(ours.map((i) => imagePathKey(i.tags!.ImagePath)))) {
            const selected = labSelects(l.imagePaths, key);
            const templateExists = before.templatePaths.some((t) => imagePathKey(t) === key);
            // Once a path's template is gone, none of its images stays.
            if (!templateExists) assert.equal(count(remaining, key), 0, `seed ${seed}: ${l.label} kept an image of the removed ${key}`);
            // Of a path with a template that the lab selects, exactly the N newest stay.
            if (selected && templateExists) {
              assert.equal(count(remaining, key), Math.min(before.imagesToSave, count(ours, key)), `seed ${seed}: ${l.label} ${key}`);
              const kept = remaining.filter((i) => imagePathKey(i.tags!.ImagePath) === key);
              const oldestKept = Math.min(...kept.map((i) => Date.parse(i.tags!.ImageFactoryCreated)));
              for (const d of deleted.filter((x) => imagePathKey(x.imagePath) === key)) {
                assert.ok(Date.parse(d.created!) <= oldestKept, `seed ${seed}: ${d.name} deleted though newer than a kept image`);
              }
            }
            if (!selected) assert.equal(count(remaining, key), 0, `seed ${seed}: ${l.label} keeps ${key} it does not select`);
          }
        }
        const again = planRetirement(applied(before, plan));
        assert.deepEqual(again.deletions, [], `seed ${seed}: a second run would delete more`);
      }
    });

    it('finishes exactly the first plan when a run stopped after any part of it is run again', () => {
      for (let seed = 1; seed <= 300; seed++) {
        const before = randomInput(seed);
        const plan = planRetirement(before);
        const rnd = random(seed * 7919);
        const part: RetirePlan = { ...plan, deletions: plan.deletions.filter(() => rnd() < 0.5) };
        const rest = planRetirement(applied(before, part));
        const key = (d: { scopeKey: string; name: string }) => `${d.scopeKey}|${d.name}`;
        assert.deepEqual(
          [...part.deletions, ...rest.deletions].map(key).sort(),
          plan.deletions.map(key).sort(),
          `seed ${seed}: the re-run's plan differs from what the first run left undone`,
        );
      }
    });
  });
});
