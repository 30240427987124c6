import { checkUnique, GUID, type Checker } from '../scenarioChecker';

/** The galleries part of a scenario: `galleries`, Azure Compute Galleries that exist at the start. */
export function checkGalleriesScenario(c: Checker, raw: unknown): void {
  const names = new Set<string>();
  c.array(raw, '$.galleries')?.forEach((item, i) => {
    const path = `$.galleries[${i}]`;
    const gallery = c.object(item, path, ['subscriptionId', 'resourceGroup', 'name', 'location', 'tags', 'description']);
    if (!gallery) return;
    c.string(gallery.subscriptionId, `${path}.subscriptionId`, { required: true, pattern: GUID, hint: 'must be a GUID' });
    c.string(gallery.resourceGroup, `${path}.resourceGroup`, { required: true, pattern: /^[-\w.()]{0,89}[-\w()]$/, hint: 'must be 1-90 letters, digits, _ - . ( ) and not end with a dot' });
    c.string(gallery.name, `${path}.name`, { required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,78}[A-Za-z0-9_]$|^[A-Za-z0-9]$/, hint: 'must be 1-80 letters, digits, _ . -, starting with a letter or digit' });
    c.string(gallery.location, `${path}.location`, { pattern: /^[a-z0-9]+$/, hint: 'must be a region name such as westus2' });
    c.stringMap(gallery.tags, `${path}.tags`);
    c.string(gallery.description, `${path}.description`);
    const key = `${String(gallery.subscriptionId)}/${String(gallery.resourceGroup)}/${String(gallery.name)}`.toLowerCase();
    checkUnique(c, names, { name: key }, `${path}.name`, 'gallery', (name) => name);
  });
}
