/**
 * VM sizes Azure offers for lab VMs, and the VM generations each can boot. A template or input naming
 * a size not listed here is refused before anything is deployed (a typo would otherwise surface only
 * as a failed deployment minutes later). Sizes compare without regard to case, as Azure compares them.
 */

import type { HyperVGeneration } from '../vhdRoute';

/** A Hyper-V generation a size can boot (core/marketplace.ts says which one an image is). */
export type VmGeneration = HyperVGeneration;

const BOTH: readonly VmGeneration[] = ['V1', 'V2'];
const GEN1_ONLY: readonly VmGeneration[] = ['V1'];

const SIZES: Record<string, readonly VmGeneration[]> = {};
const add = (generations: readonly VmGeneration[], ...names: string[]) => {
  for (const name of names) SIZES[name.toLowerCase()] = generations;
};
// Av2 and the basic A sizes boot Generation 1 only.
add(GEN1_ONLY, 'Standard_A1_v2', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_A8_v2', 'Standard_A2m_v2', 'Standard_A4m_v2', 'Standard_A8m_v2', 'Basic_A1', 'Basic_A2');
add(BOTH, 'Standard_B1s', 'Standard_B1ms', 'Standard_B2s', 'Standard_B2ms', 'Standard_B4ms', 'Standard_B8ms');
add(BOTH, 'Standard_DS1_v2', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2');
add(BOTH, 'Standard_D2_v3', 'Standard_D4_v3', 'Standard_D8_v3', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3');
add(BOTH, 'Standard_D2_v4', 'Standard_D4_v4', 'Standard_D2s_v4', 'Standard_D4s_v4', 'Standard_D8s_v4', 'Standard_D2ds_v4', 'Standard_D4ds_v4');
add(BOTH, 'Standard_D2_v5', 'Standard_D4_v5', 'Standard_D8_v5', 'Standard_D2s_v5', 'Standard_D4s_v5', 'Standard_D8s_v5', 'Standard_D16s_v5', 'Standard_D2ds_v5', 'Standard_D4ds_v5', 'Standard_D2as_v5', 'Standard_D4as_v5');
add(BOTH, 'Standard_E2s_v3', 'Standard_E4s_v3', 'Standard_E8s_v3', 'Standard_E2s_v5', 'Standard_E4s_v5', 'Standard_E8s_v5', 'Standard_E2ds_v5', 'Standard_E4ds_v5');
add(BOTH, 'Standard_F2s_v2', 'Standard_F4s_v2', 'Standard_F8s_v2', 'Standard_F16s_v2');

/** The size as Azure knows it, or undefined for a size Azure has not. */
export function knownVmSize(size: string): { generations: readonly VmGeneration[] } | undefined {
  const generations = SIZES[size.toLowerCase()];
  return generations ? { generations } : undefined;
}

export function vmSizeNames(): string[] {
  return Object.keys(SIZES);
}
