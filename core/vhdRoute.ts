import { ErrorCodes } from './errors';

/**
 * What the VHD route carries: a DevTest Labs custom image made from a VHD is always Generation 1, so a
 * Generation 2 OS disk saved as a VHD gives VMs that do not boot, and a Trusted Launch VM (always
 * Generation 2, with UEFI secure boot and a vTPM) loses what makes it one. Such images go through an
 * Azure Compute Gallery attached to the lab instead.
 * Sources: https://learn.microsoft.com/azure/virtual-machines/generation-2 and
 * https://learn.microsoft.com/azure/devtest-labs/configure-shared-image-gallery.
 */

export type HyperVGeneration = 'V1' | 'V2';

/** Compute's security type; `Standard` when a VM or disk has none. */
export type SecurityType = 'Standard' | 'TrustedLaunch' | 'ConfidentialVM';

export interface ImageGeneration {
  hyperVGeneration: HyperVGeneration;
  securityType: SecurityType;
}

export const VHD_ROUTE_FIX =
  'The VHD route carries Generation 1 images only. Send this image through the Azure Compute Gallery route, which carries Generation 2 and Trusted Launch images (set the galleryName input of the tasks), or build its template from a Generation 1 SKU (one without -gen2 or -g2 that is neither Windows Server Azure Edition nor Windows 11, such as 2022-datacenter), then run again.';

/** Why the VHD route cannot carry an image of this generation and security type, or undefined when it can. */
export function vhdRouteRefusal(image: ImageGeneration): { code: string; reason: string } | undefined {
  if (image.securityType !== 'Standard') {
    return {
      code: ErrorCodes.VhdRouteTrustedLaunch,
      reason: `it uses security type ${image.securityType} (Generation ${image.hyperVGeneration === 'V2' ? '2' : '1'}), which a custom image made from a VHD cannot keep`,
    };
  }
  if (image.hyperVGeneration === 'V2') {
    return { code: ErrorCodes.VhdRouteGeneration2, reason: 'it is Generation 2, and a custom image made from a VHD is Generation 1, whose VMs cannot boot it' };
  }
  return undefined;
}

/** A generation as Azure writes it (`V1`, `V2`, any case), or undefined for anything else. */
export function parseHyperVGeneration(value: string | undefined): HyperVGeneration | undefined {
  const upper = value?.toUpperCase();
  return upper === 'V1' || upper === 'V2' ? upper : undefined;
}

/** A security type as Azure writes it; `Standard` when absent. Confidential VM types all count as ConfidentialVM. */
export function parseSecurityType(value: string | undefined): SecurityType {
  if (!value || value.toLowerCase() === 'standard') return 'Standard';
  if (value.toLowerCase() === 'trustedlaunch') return 'TrustedLaunch';
  return 'ConfidentialVM';
}
