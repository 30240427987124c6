/**
 * What Azure derives from a marketplace image reference. The generation decides how a VM boots
 * (Generation 1: BIOS and an MBR disk; Generation 2: UEFI and a GPT disk), so it travels with every VM,
 * OS disk and image made from it. Source: https://learn.microsoft.com/azure/virtual-machines/generation-2
 */
import type { HyperVGeneration, SecurityType } from './vhdRoute';

export type { HyperVGeneration };

/**
 * The generation of a marketplace image, from its offer and SKU as the marketplace names them: every
 * `-gen2` / `-g2` SKU (and `gen2` alone, as SUSE names it), Windows Server Azure Edition and every
 * Windows 11 SKU are Generation 2 only, as are Ubuntu 24.04 and later but for their `-gen1` SKUs;
 * any other SKU is Generation 1 (its Generation 2 twin has one of those suffixes).
 */
export function imageGeneration(reference: { offer: string; sku: string }): HyperVGeneration {
  const sku = reference.sku.toLowerCase();
  const offer = reference.offer.toLowerCase();
  if (/(^|[-_])gen1$/.test(sku)) return 'V1';
  if (/(^|[-_])(gen2|g2|gensecond)($|[-_])/.test(sku)) return 'V2';
  if (sku.includes('azure-edition')) return 'V2';
  if (offer === 'windows-11' || sku.startsWith('win11-')) return 'V2';
  // Ubuntu from 24.04 on is Generation 2 unless its SKU says `-gen1`.
  if (/^ubuntu-2[4-9]_/.test(offer)) return 'V2';
  return 'V1';
}

/**
 * The security type of a lab VM made from a marketplace image of this generation. DevTest Labs asks
 * Compute for no security type, so the VM gets Azure's default for new VMs: Trusted Launch for a
 * Generation 2 image, Standard for a Generation 1 image, which cannot have it.
 * Source: https://learn.microsoft.com/azure/virtual-machines/trusted-launch
 */
export function labVmSecurityType(generation: HyperVGeneration): SecurityType {
  return generation === 'V2' ? 'TrustedLaunch' : 'Standard';
}
