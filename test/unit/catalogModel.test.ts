import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCatalog, type CatalogInput, type MatrixCell } from '../../core/catalog/model';
import type { RouteState } from '../../core/catalog/route';
import { artifactNames, readTemplateFacts } from '../../core/catalog/templateFacts';
import { versionOf } from '../../core/catalog/vhdRoute';
import type { LabConfig } from '../../core/config/labsConfig';
import { held, lab, NOW, source, SUB_B, TEMPLATES } from '../helpers/catalogFixtures';

const WS = 'WindowsServer/Server2022.json';
const UB = 'Linux/Ubuntu.json';

function input(state: Partial<RouteState>, labs: LabConfig[], templates = TEMPLATES): CatalogInput {
  return {
    now: NOW,
    factoryLabName: 'ImageFactory',
    imagesToSave: 2,
    templates,
    labs,
    states: [
      {
        route: 'vhd',
        sourceLabel: "factory image store of lab 'ImageFactory'",
        source: { ok: true, value: [source(WS, 'Nov-10-2026'), source(WS, 'Dec-01-2026'), source(UB, 'Nov-20-2026', { osType: 'Linux' })] },
        sourceRetiring: new Map(),
        labs: labs.map((l) => ({ labIndex: l.index, read: { ok: true, value: [] } })),
        ...state,
      },
    ],
  };
}

function cell(model: ReturnType<typeof buildCatalog>, labName: string, imagePath: string): MatrixCell {
  const column = model.images.findIndex((image) => image.imagePath === imagePath);
  assert.ok(column >= 0, `no column ${imagePath}`);
  const row = model.labs.find((l) => l.name === labName);
  assert.ok(row, `no lab ${labName}`);
  return row.cells[column];
}

describe('catalog model: what each cell says', () => {
  const labs = [lab(0, 'Dev', ['WindowsServer']), lab(1, 'Test', ['WindowsServer', 'Linux']), lab(2, 'Training', ['Linux/Ubuntu.json'], SUB_B)];

  it('a lab that holds the newest image is current, with the version and its age', () => {
    const model = buildCatalog(input({ labs: [{ labIndex: 0, read: { ok: true, value: [held(WS, 'Dec-01-2026')] } }] }, [labs[0]]));
    const c = cell(model, 'Dev', WS);
    assert.equal(c.state, 'current');
    assert.equal(c.lacksNewest, false);
    assert.equal(c.holds?.version, 'Dec-01-2026');
    assert.equal(c.holds?.ageDays, 2);
    assert.equal(c.says, 'Dec-01-2026, 2 days old; the newest');
    assert.equal(model.counts.staleLabs, 0);
  });

  it('a lab that holds only an older image lacks the newest, and says which', () => {
    const model = buildCatalog(input({ labs: [{ labIndex: 0, read: { ok: true, value: [held(WS, 'Nov-10-2026')] } }] }, [labs[0]]));
    const c = cell(model, 'Dev', WS);
    assert.equal(c.state, 'behind');
    assert.equal(c.lacksNewest, true);
    assert.equal(c.says, 'Nov-10-2026, 23 days old; lacks the newest, Dec-01-2026');
    assert.equal(model.labs[0].staleCount, 1);
    assert.equal(model.counts.staleLabs, 1);
  });

  it('a lab that selects a path and holds none of it is missing it; one that does not select it says so', () => {
    const model = buildCatalog(input({}, [labs[0]]));
    assert.equal(cell(model, 'Dev', WS).state, 'missing');
    assert.equal(cell(model, 'Dev', WS).says, 'none; lacks the newest, Dec-01-2026');
    assert.equal(cell(model, 'Dev', UB).state, 'not-selected');
    assert.equal(cell(model, 'Dev', UB).lacksNewest, false);
    assert.equal(cell(model, 'Dev', UB).says, 'not selected');
  });

  it('marks an image retention will remove, naming its version, without making the lab stale', () => {
    const model = buildCatalog(
      input({ labs: [{ labIndex: 0, read: { ok: true, value: [held(WS, 'Dec-01-2026'), held(WS, 'Nov-10-2026'), held(WS, 'Nov-03-2026', { retiring: 'older than the 2 newest' })] } }] }, [labs[0]]),
    );
    const c = cell(model, 'Dev', WS);
    assert.equal(c.state, 'current');
    assert.equal(c.retiring, 1);
    assert.deepEqual(c.versions.map((v) => v.version), ['Dec-01-2026', 'Nov-10-2026', 'Nov-03-2026']);
    assert.equal(c.says, 'Dec-01-2026, 2 days old; the newest; retention removes Nov-03-2026');
    assert.equal(model.counts.retiring, 1);
    assert.equal(model.counts.staleLabs, 0);
  });

  it('a lab that could not be read is shown as such in every cell, not as empty', () => {
    const model = buildCatalog(
      input({ labs: [{ labIndex: 0, read: { ok: true, value: [] } }, { labIndex: 1, read: { ok: false, reason: 'AuthorizationFailed: no access' } }] }, [labs[0], labs[1]]),
    );
    const row = model.labs.find((l) => l.name === 'Test')!;
    assert.equal(row.unreadable, 'AuthorizationFailed: no access');
    assert.deepEqual(row.cells.map((c) => c.state), ['unreadable', 'unreadable']);
    assert.ok(row.cells.every((c) => c.says === 'could not be read' && !c.lacksNewest));
    assert.equal(model.counts.unreadableLabs, 1);
  });

  it('an image still being created or failed in a lab is named, and does not count as holding it', () => {
    const model = buildCatalog(input({ labs: [{ labIndex: 0, read: { ok: true, value: [held(WS, 'Dec-01-2026', { state: 'creating' })] } }] }, [labs[0]]));
    const c = cell(model, 'Dev', WS);
    assert.equal(c.state, 'missing');
    assert.equal(c.lacksNewest, true);
    assert.equal(c.says, 'none; lacks the newest, Dec-01-2026; Dec-01-2026 being created');
  });

  it('a lab that holds images of a path it no longer selects shows them, with retention removing them', () => {
    const model = buildCatalog(input({ labs: [{ labIndex: 0, read: { ok: true, value: [held(UB, 'Nov-20-2026', { retiring: 'not selected' })] } }] }, [labs[0]]));
    const c = cell(model, 'Dev', UB);
    assert.equal(c.state, 'held');
    assert.equal(c.lacksNewest, false);
    assert.equal(c.says, 'Nov-20-2026, 13 days old; no longer selected; retention removes Nov-20-2026');
  });

  it('a selected path without any image yet says so and is not stale', () => {
    const model = buildCatalog(input({ source: { ok: true, value: [source(WS, 'Dec-01-2026')] } }, [labs[2]]));
    const c = cell(model, 'Training', UB);
    assert.equal(c.state, 'no-image');
    assert.equal(c.says, 'selected; no image made yet');
    assert.equal(model.counts.staleLabs, 0);
    assert.equal(model.images.find((i) => i.imagePath === UB)?.newest, undefined);
  });

  it('when the source cannot be read, what labs hold is shown and nothing is called stale', () => {
    const model = buildCatalog(input({ source: { ok: false, reason: 'store gone' }, labs: [{ labIndex: 0, read: { ok: true, value: [held(WS, 'Nov-10-2026')] } }] }, [labs[0]]));
    const c = cell(model, 'Dev', WS);
    assert.equal(c.state, 'held');
    assert.equal(c.lacksNewest, false);
    assert.match(c.says, /newest unknown/);
    assert.equal(model.routes[0].sourceUnreadable, 'store gone');
  });
});

describe('catalog model: golden images', () => {
  it('lists each template with its base image, notes, the newest image and how many labs hold it', () => {
    const labs = [lab(0, 'Dev', ['WindowsServer']), lab(1, 'Test', ['WindowsServer'])];
    const model = buildCatalog(input({ labs: [{ labIndex: 0, read: { ok: true, value: [held(WS, 'Dec-01-2026')] } }, { labIndex: 1, read: { ok: true, value: [] } }] }, labs));
    const ws = model.images.find((i) => i.imagePath === WS)!;
    assert.equal(ws.osType, 'Windows');
    assert.equal(ws.notes, 'Server 2022');
    assert.deepEqual(ws.baseImage, { publisher: 'P', offer: 'O', sku: '2022-datacenter', version: 'latest' });
    assert.deepEqual(ws.newest, { name: 'WindowsServer_Server2022-Dec-01-2026', version: 'Dec-01-2026', createdUtc: '2026-12-01T06:00:00.000Z', ageDays: 2, sizeBytes: 1048576 });
    assert.equal(ws.versionCount, 2);
    assert.equal(ws.labsSelecting, 2);
    assert.equal(ws.labsWithNewest, 1);
    assert.equal(ws.templateRemoved, false);
  });

  it('takes generation and security type from the image when it says, else from the template', () => {
    const model = buildCatalog(
      input({ source: { ok: true, value: [source(WS, 'Dec-01-2026', { generation: 'V2', securityType: 'TrustedLaunch' }), source(UB, 'Nov-20-2026', { osType: 'Linux' })] } }, []),
    );
    const ws = model.images.find((i) => i.imagePath === WS)!;
    const ub = model.images.find((i) => i.imagePath === UB)!;
    assert.deepEqual([ws.generation, ws.securityType], [{ value: 'V2', from: 'image' }, { value: 'TrustedLaunch', from: 'image' }]);
    assert.deepEqual([ub.generation, ub.securityType], [{ value: 'V2', from: 'template' }, { value: 'Standard', from: 'template' }]);
  });

  it('keeps a path whose template was removed while images of it remain', () => {
    const model = buildCatalog(input({ source: { ok: true, value: [source('Old/Gone.json', 'Oct-01-2026')] } }, []));
    const gone = model.images.find((i) => i.imagePath === 'Old/Gone.json');
    assert.ok(gone);
    assert.equal(gone.templateRemoved, true);
    assert.equal(gone.osType, 'Windows');
    assert.equal(gone.baseImage, undefined);
  });
});

describe('catalog template facts', () => {
  it('names the artifacts a lab VM applies, from literal ids and resourceId expressions', () => {
    assert.deepEqual(
      artifactNames([
        { artifactId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/L/artifactSources/public repo/artifacts/windows-chrome' },
        { artifactId: "[resourceId('Microsoft.DevTestLab/labs/artifactSources/artifacts', parameters('labName'), 'public repo', 'windows-sysprep')]" },
        { parameters: [] },
      ]),
      ['windows-chrome', 'windows-sysprep'],
    );
    assert.deepEqual(artifactNames(undefined), []);
  });

  it('reads generation from the marketplace image and security type from the template', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-facts-'));
    try {
      const file = path.join(dir, 'T.json');
      fs.writeFileSync(
        file,
        JSON.stringify({
          resources: [{ type: 'Microsoft.DevTestLab/labs/virtualmachines', properties: { securityType: 'TrustedLaunch', artifacts: [{ artifactId: '/a/artifacts/git' }] } }],
        }),
      );
      const facts = await readTemplateFacts({ imagePath: 'T.json', file, osType: 'Linux', galleryImageReference: { publisher: 'p', offer: 'o', sku: 'x-gen2', version: 'latest' } });
      assert.deepEqual(facts, { artifacts: ['git'], generation: 'V2', securityType: 'TrustedLaunch' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives an image its version: the name without the part its ImagePath gives it', () => {
    assert.equal(versionOf('WindowsServer_Server2022-Datacenter-Nov-24-2026B', 'WindowsServer\\Server2022-Datacenter.json'), 'Nov-24-2026B');
    assert.equal(versionOf('Custom-Name', 'WindowsServer/Server2022-Datacenter.json'), 'Custom-Name');
  });
});
