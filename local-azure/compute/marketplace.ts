import type { OsType } from './state';

/**
 * Marketplace images and what Azure derives from an image reference: its Hyper-V generation and the
 * security types it allows. The generation decides how a VM boots (Generation 1: BIOS and an MBR disk;
 * Generation 2: UEFI and a GPT disk), so it travels with every VM, OS disk and image made from it.
 * Sources: https://learn.microsoft.com/azure/virtual-machines/generation-2 (Generation 2 images in the
 * marketplace) and https://learn.microsoft.com/azure/virtual-machines/trusted-launch (Trusted Launch
 * needs a Generation 2 image).
 */

// The generation rule is the product's own (the image catalog shows it for templates); Compute here applies the same.
export { type HyperVGeneration, imageGeneration } from '../../core/marketplace';
import type { HyperVGeneration } from '../../core/marketplace';
export const HYPER_V_GENERATIONS: readonly HyperVGeneration[] = ['V1', 'V2'];

/** Compute's `securityProfile.securityType`; `Standard` is what Compute reports as no security profile. */
export type SecurityType = 'Standard' | 'TrustedLaunch';
export const SECURITY_TYPES: readonly SecurityType[] = ['Standard', 'TrustedLaunch'];

export interface ImageReference {
  publisher: string;
  offer: string;
  sku: string;
  version?: string;
}

export interface MarketplaceImage extends ImageReference {
  osType: OsType;
  version: string;
}

/** The images VMs are made from when a scenario names none: Generation 1 SKUs, as the VHD route needs. */
const DEFAULT_IMAGES: Record<OsType, MarketplaceImage> = {
  Windows: { offer: 'WindowsServer', publisher: 'MicrosoftWindowsServer', sku: '2019-Datacenter', osType: 'Windows', version: 'latest' },
  Linux: { offer: '0001-com-ubuntu-server-jammy', publisher: 'Canonical', sku: '22_04-lts', osType: 'Linux', version: 'latest' },
};

export function defaultMarketplaceImage(osType: OsType): MarketplaceImage {
  return DEFAULT_IMAGES[osType];
}

/**
 * Why a VM of `generation` cannot have `securityType`, or undefined when it can: Trusted Launch runs
 * on UEFI firmware, which only Generation 2 has.
 */
export function securityTypeProblem(generation: HyperVGeneration, securityType: SecurityType): string | undefined {
  if (securityType === 'TrustedLaunch' && generation !== 'V2') {
    return 'Trusted Launch needs a Generation 2 image (UEFI firmware); this image is Generation 1';
  }
  return undefined;
}

/**
 * The security type Compute gives a new VM from a marketplace image when the request names none:
 * Trusted Launch for a Generation 2 image (Azure's Trusted Launch default for new VMs), Standard for a
 * Generation 1 image, which cannot have it. DevTest Labs asks for no security type, so its VMs get this.
 * Source: https://learn.microsoft.com/azure/virtual-machines/trusted-launch.
 */
export function defaultSecurityType(generation: HyperVGeneration): SecurityType {
  return generation === 'V2' ? 'TrustedLaunch' : 'Standard';
}

/** The id of the platform image version a disk was created from, as Compute writes it. */
export function platformImageId(subscriptionId: string, location: string, image: ImageReference): string {
  return `/Subscriptions/${subscriptionId}/Providers/Microsoft.Compute/Locations/${location}/Publishers/${image.publisher}/ArtifactTypes/VMImage/Offers/${image.offer}/Skus/${image.sku}/Versions/1.0.0`;
}

/**
 * The versions the marketplace publishes of each SKU it knows, keyed `publisher/offer/sku` in lower
 * case (Azure's names are case-insensitive). A scenario's `marketplace` adds SKUs or replaces a SKU's
 * versions; a SKU not listed is unknown, and listing its versions is answered 404 as Azure does.
 */
export const DEFAULT_MARKETPLACE_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  'microsoftwindowsserver/windowsserver/2019-datacenter': ['17763.6293.240905', '17763.6414.241004'],
  'microsoftwindowsserver/windowsserver/2022-datacenter': ['20348.2700.240905', '20348.2762.241004'],
  'microsoftwindowsserver/windowsserver/2022-datacenter-g2': ['20348.2700.240905', '20348.2762.241004'],
  'microsoftwindowsserver/windowsserver/2022-datacenter-azure-edition': ['20348.2700.240905', '20348.2762.241004'],
  'microsoftwindowsdesktop/windows-11/win11-23h2-ent': ['22631.4169.240905', '22631.4317.241004'],
  'microsoftsqlserver/sql2022-ws2022/sqldev': ['16.0.240910', '16.0.241010'],
  'microsoftsqlserver/sql2022-ws2022/sqldev-gen2': ['16.0.240910', '16.0.241010'],
  'canonical/0001-com-ubuntu-server-jammy/22_04-lts': ['22.04.202409110', '22.04.202410020'],
  'canonical/0001-com-ubuntu-server-jammy/22_04-lts-gen2': ['22.04.202409110', '22.04.202410020'],
};

export function marketplaceSkuKey(image: { publisher: string; offer: string; sku: string }): string {
  return `${image.publisher}/${image.offer}/${image.sku}`.toLowerCase();
}
