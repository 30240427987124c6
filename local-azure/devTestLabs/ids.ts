import { stableDigits } from '../ids';
import type { CustomImage, Lab, LabVm } from './state';

/** Names and resource ids as DevTest Labs makes them. */

/** A storage account name in the style DevTest Labs picks: `a` + the lab name's letters + digits. */
export function defaultStorageAccount(subscriptionId: string, resourceGroup: string, labName: string): string {
  const letters = labName.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 13);
  return `a${letters}${stableDigits(`${subscriptionId}/${resourceGroup}/${labName}`.toLowerCase(), 10)}`;
}

/** Lab ids as DevTest Labs writes them: provider and `resourcegroups` in lower case, names as created. */
export function labId(lab: Lab): string {
  return `/subscriptions/${lab.subscriptionId}/resourcegroups/${lab.resourceGroup}/providers/microsoft.devtestlab/labs/${lab.name}`;
}

export function labVmId(lab: Lab, vm: Pick<LabVm, 'name'>): string {
  return `${labId(lab)}/virtualmachines/${vm.name}`;
}

export function customImageId(lab: Lab, image: CustomImage): string {
  return `${labId(lab)}/customimages/${image.name}`;
}

/** The Compute image DevTest Labs makes for a custom image, in the lab's resource group. */
export function managedImageId(lab: Lab, imageName: string): string {
  return `/subscriptions/${lab.subscriptionId}/resourceGroups/${lab.resourceGroup}/providers/Microsoft.Compute/images/${imageName}`;
}
