import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imageGeneration } from '../../local-azure/compute/marketplace';
import type { Scenario } from '../../local-azure/scenario';

/**
 * The sample golden images go through the VHD route, which carries Generation 1 only: each sample
 * template names a Generation 1 SKU, and the demo's factory VM of each template was made from it.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const GOLDEN = path.join(ROOT, 'Configuration', 'GoldenImages');

function templates(): { imagePath: string; sku: string; offer: string }[] {
  const found: { imagePath: string; sku: string; offer: string }[] = [];
  for (const folder of fs.readdirSync(GOLDEN)) {
    for (const file of fs.readdirSync(path.join(GOLDEN, folder)).filter((f) => f.endsWith('.json'))) {
      const template = JSON.parse(fs.readFileSync(path.join(GOLDEN, folder, file), 'utf8'));
      for (const resource of template.resources) {
        const reference = resource.properties?.galleryImageReference;
        if (reference) found.push({ imagePath: `${folder}/${file}`, sku: reference.sku, offer: reference.offer });
      }
    }
  }
  return found;
}

describe('sample configuration on the VHD route', () => {
  it('names a Generation 1 SKU in every sample template', () => {
    const samples = templates();
    assert.equal(samples.length, 3);
    for (const sample of samples) assert.equal(imageGeneration(sample), 'V1', `${sample.imagePath}: SKU ${sample.sku}`);
  });

  it('starts the demo from an empty factory lab, so every factory VM is made from its template and has its SKU', () => {
    const scenario = JSON.parse(fs.readFileSync(path.join(ROOT, 'local-azure', 'scenarios', 'demo.json'), 'utf8')) as Scenario;
    const factory = scenario.labs.find((lab) => lab.name === 'ImageFactory')!;
    assert.deepEqual(factory.vms ?? [], []);
  });
});
