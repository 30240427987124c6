/**
 * Azure writes a region as `westus2` or `West US 2` (Compute answers the second for the first); both name
 * the same place, so regions are compared by this key: no case, no spaces.
 */
export function regionKey(region: string): string {
  return region.toLowerCase().replace(/\s+/g, '');
}
