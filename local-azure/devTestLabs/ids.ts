import { stableDigits } from '../ids';
import type { CustomImage, Lab, LabVm } from './state';

/** Names and resource ids as DevTest Labs makes them. */

/** A storage account name in the style DevTest Labs picks: `a` + the lab name's letters + digits. */
export function defaultStorageAccount(subscriptionId: string, resourceGroup: string, labName: string): string {
  const letters = labName.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 13);
  return `a${letters}${stableDigits(`${subscriptionId}/${resourceGroup}/${labName}`.toLowerCase(), 10)}`;
}

/**
 * Lab ids as DevTest Labs writes them: all in lower case, names included, whatever case they were
 * created with (clients must compare resource ids without regard to case). Lab VMs' and custom
 * images' ids extend it, so they are lower case too.
 */
export function labId(lab: Lab): string {
  return `/subscriptions/${lab.subscriptionId}/resourcegroups/${lab.resourceGroup}/providers/microsoft.devtestlab/labs/${lab.name}`.toLowerCase();
}

export function labVmId(lab: Lab, vm: Pick<LabVm, 'name'>): string {
  return `${labId(lab)}/virtualmachines/${vm.name.toLowerCase()}`;
}

export function customImageId(lab: Lab, image: Pick<CustomImage, 'name'>): string {
  return `${labId(lab)}/customimages/${image.name.toLowerCase()}`;
}

/** The Compute image DevTest Labs makes for a custom image, in the lab's resource group. */
export function managedImageId(lab: Lab, imageName: string): string {
  return `/subscriptions/${lab.subscriptionId}/resourceGroups/${lab.resourceGroup}/providers/Microsoft.Compute/images/${imageName}`;
}
