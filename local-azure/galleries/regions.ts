import { regionKey } from './state';

/**
 * Region names. Compute accepts a region by name (`westus2`) or display name (`West US 2`) and answers
 * target regions and replication status with display names, so clients must compare them normalized.
 */
const DISPLAY_NAMES: Record<string, string> = {
  eastus: 'East US',
  eastus2: 'East US 2',
  westus: 'West US',
  westus2: 'West US 2',
  westus3: 'West US 3',
  centralus: 'Central US',
  northcentralus: 'North Central US',
  southcentralus: 'South Central US',
  westcentralus: 'West Central US',
  canadacentral: 'Canada Central',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  uksouth: 'UK South',
  francecentral: 'France Central',
  germanywestcentral: 'Germany West Central',
  swedencentral: 'Sweden Central',
  japaneast: 'Japan East',
  australiaeast: 'Australia East',
  southeastasia: 'Southeast Asia',
  eastasia: 'East Asia',
  centralindia: 'Central India',
  brazilsouth: 'Brazil South',
};

export function regionDisplayName(region: string): string {
  return DISPLAY_NAMES[regionKey(region)] ?? region;
}
