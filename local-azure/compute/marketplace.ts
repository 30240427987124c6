import type { OsType } from './state';

/** The marketplace images the local Azure's VMs are made from, one per OS type. */

export interface MarketplaceImage {
  publisher: string;
  offer: string;
  sku: string;
  osType: OsType;
  version: string;
}

const MARKETPLACE_IMAGES: Record<OsType, MarketplaceImage> = {
  Windows: { offer: 'WindowsServer', publisher: 'MicrosoftWindowsServer', sku: '2019-Datacenter', osType: 'Windows', version: 'latest' },
  Linux: { offer: '0001-com-ubuntu-server-jammy', publisher: 'Canonical', sku: '22_04-lts-gen2', osType: 'Linux', version: 'latest' },
};

export function marketplaceImage(osType: OsType): MarketplaceImage {
  return MARKETPLACE_IMAGES[osType];
}

/** The id of the platform image version a disk was created from, as Compute writes it. */
export function platformImageId(subscriptionId: string, location: string, osType: OsType): string {
  const image = marketplaceImage(osType);
  return `/Subscriptions/${subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${image.publisher}/ArtifactTypes/VMImage/Offers/${image.offer}/Skus/${image.sku}/Versions/1.0.0`;
}
