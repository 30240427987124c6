import { ArmError, ok, type Reply } from '../http';
import type { ArmRequest } from '../resourceManager/context';
import type { ScenarioMarketplaceSku } from '../scenario';
import type { Checker } from '../scenarioChecker';
import { DEFAULT_MARKETPLACE_VERSIONS, marketplaceSkuKey } from './marketplace';

/**
 * The marketplace's published versions of each SKU, and Compute's `VirtualMachineImages_List`, which
 * lists them. Azure answers an array of `{ name, location, id }`; `$orderby` sorts by name as text
 * (so `9.0` comes after `10.0`), which is why the factory compares versions itself.
 */
const VERSION = /^\d+(\.\d+){0,3}$/;

export class MarketplaceVersions {
  private readonly bySku = new Map<string, string[]>();

  constructor(scenario: readonly ScenarioMarketplaceSku[] = []) {
    for (const [key, versions] of Object.entries(DEFAULT_MARKETPLACE_VERSIONS)) this.bySku.set(key, [...versions]);
    for (const sku of scenario) this.set(sku);
  }

  /** Replaces a SKU's versions (adds the SKU if the marketplace did not know it). */
  set(sku: ScenarioMarketplaceSku): void {
    this.bySku.set(marketplaceSkuKey(sku), [...sku.versions]);
  }

  versions(image: { publisher: string; offer: string; sku: string }): readonly string[] | undefined {
    return this.bySku.get(marketplaceSkuKey(image));
  }

  snapshot(): Record<string, string[]> {
    return Object.fromEntries([...this.bySku].map(([key, versions]) => [key, [...versions]]));
  }
}

export function checkMarketplace(c: Checker, raw: unknown, path: string): void {
  const skus = c.array(raw, path);
  skus?.forEach((entry, i) => checkMarketplaceSku(c, entry, `${path}[${i}]`));
}

export function checkMarketplaceSku(c: Checker, raw: unknown, path: string): void {
  const sku = c.object(raw, path, ['publisher', 'offer', 'sku', 'versions']);
  if (!sku) return;
  for (const field of ['publisher', 'offer', 'sku'] as const) c.string(sku[field], `${path}.${field}`, { required: true });
  const versions = c.array(sku.versions, `${path}.versions`);
  if (!versions) c.problem(`${path}.versions`, 'is required');
  versions?.forEach((v, i) => c.string(v, `${path}.versions[${i}]`, { required: true, pattern: VERSION, hint: 'a version such as 1.2.3' }));
}

export function listImageVersions(request: ArmRequest): Reply {
  const { subscriptionId, location, publisherName, offer, skus } = request.params;
  const versions = request.context.state.compute.marketplace.versions({ publisher: publisherName, offer, sku: skus });
  if (!versions) throw new ArmError(404, 'NotFound', 'Artifact: VMImage was not found.');
  let names = [...versions];
  const orderby = request.url.searchParams.get('$orderby');
  if (orderby !== null) {
    const m = /^name( (asc|desc))?$/i.exec(orderby.trim());
    if (!m) throw new ArmError(400, 'InvalidParameter', `The value '${orderby}' of $orderby is not supported; only 'name', 'name asc' and 'name desc' are.`);
    names.sort();
    if (m[2]?.toLowerCase() === 'desc') names.reverse();
  }
  const top = request.url.searchParams.get('$top');
  if (top !== null) {
    if (!/^\d+$/.test(top)) throw new ArmError(400, 'InvalidParameter', `The value '${top}' of $top is not a whole number.`);
    names = names.slice(0, Number(top));
  }
  return ok(
    names.map((name) => ({
      name,
      location,
      id: `/Subscriptions/${subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${publisherName}/ArtifactTypes/VMImage/Offers/${offer}/Skus/${skus}/Versions/${name}`,
    })),
  );
}
