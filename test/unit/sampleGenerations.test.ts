import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imageGeneration } from '../../local-azure/compute/marketplace';
import type { Scenario } from '../../local-azure/scenario';

/**
 * The sample golden images travel both routes: the templates the demo sends down the VHD route, which
 * carries Generation 1 only, name Generation 1 SKUs; those it sends down the gallery route name
 * Generation 2 SKUs (what the gallery route is for). The demo's factory VM of each template is made from it.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const GOLDEN = path.join(ROOT, 'Configuration', 'GoldenImages');
const GALLERY_ROUTE = ['Linux/Ubuntu2204-Gen2.json', 'Windows11/Enterprise.json'];

function templates(): { imagePath: string; sku: string; offer: string; dataDisks: number }[] {
  const found: { imagePath: string; sku: string; offer: string; dataDisks: number }[] = [];
  for (const folder of fs.readdirSync(GOLDEN)) {
    for (const file of fs.readdirSync(path.join(GOLDEN, folder)).filter((f) => f.endsWith('.json'))) {
      const template = JSON.parse(fs.readFileSync(path.join(GOLDEN, folder, file), 'utf8'));
      for (const resource of template.resources) {
        const reference = resource.properties?.galleryImageReference;
        if (reference) found.push({ imagePath: `${folder}/${file}`, sku: reference.sku, offer: reference.offer, dataDisks: resource.properties.dataDiskParameters?.length ?? 0 });
      }
    }
  }
  return found;
}

describe('sample configuration on both routes', () => {
  it('names a Generation 1 SKU in every VHD-route sample template and a Generation 2 SKU in every gallery-route one', () => {
    const samples = templates();
    assert.equal(samples.length, 5);
    for (const sample of samples) {
      assert.equal(imageGeneration(sample), GALLERY_ROUTE.includes(sample.imagePath) ? 'V2' : 'V1', `${sample.imagePath}: SKU ${sample.sku}`);
    }
    assert.equal(samples.find((s) => s.imagePath === 'Windows11/Enterprise.json')?.dataDisks, 1, 'the Windows 11 sample has a data disk');
  });

  it('sends the gallery-route templates in the demo to labs in three regions, and starts from an empty factory lab', () => {
    const scenario = JSON.parse(fs.readFileSync(path.join(ROOT, 'local-azure', 'scenarios', 'demo.json'), 'utf8')) as Scenario;
    const factory = scenario.labs.find((lab) => lab.name === 'ImageFactory')!;
    assert.deepEqual(factory.vms ?? [], []);
    const labs = JSON.parse(fs.readFileSync(path.join(ROOT, 'Configuration', 'labs.json'), 'utf8')).Labs as { LabName: string; ImagePaths: string[] }[];
    const regions = labs.filter((lab) => lab.ImagePaths.some((p) => p.startsWith('Windows11'))).map((lab) => scenario.labs.find((l) => l.name === lab.LabName)!.location);
    assert.deepEqual([...new Set(regions)].sort(), ['eastus', 'northeurope', 'westus2']);
  });
});
