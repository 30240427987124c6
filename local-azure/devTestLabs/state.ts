import { defaultMarketplaceImage, type MarketplaceImage } from '../compute/marketplace';
import type { ComputeState, PowerState, VirtualMachine, VmSource } from '../compute/state';
import { findByName, same, stableDigits, stableGuid } from '../ids';
import type { ScenarioCustomImage, ScenarioLab, ScenarioVm } from '../scenario';
import { checkAlone } from '../scenarioChecker';
import type { StorageState } from '../storage/state';
import { vhdSizeBytes } from '../storage/scenario';
import { defaultStorageAccount, labId, managedImageId } from './ids';
import { checkCustomImageScenario, checkVmScenario } from './scenario';

/**
 * The DevTest Labs slice of the local Azure's state: labs, their VMs and custom images. As in Azure, a
 * lab makes resources of other services: its storage account (Storage) and, for each lab VM, a
 * virtual machine and OS disk in resource group `<lab>-<vm>-<digits>` (Compute).
 */

/** The container of every lab storage account that DevTest Labs upload URIs point into. */
export const UPLOADS_CONTAINER = 'uploads';

export interface Lab {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  /** Name of the lab's storage account (see StorageState). */
  storageAccount: string;
  denyAccess: boolean;
  tags: Record<string, string>;
  createdDate: string;
  uniqueIdentifier: string;
  vms: LabVm[];
  customImages: CustomImage[];
  /** The Azure Compute Gallery attached to the lab (a lab has at most one). */
  sharedGallery?: SharedGallery;
}

export interface SharedGallery {
  name: string;
  /** The Compute gallery's resource id. */
  galleryId: string;
  allowAllImages: 'Enabled' | 'Disabled';
  uniqueIdentifier: string;
  /** Images enabled or disabled one by one, by definition name (lower case); others follow allowAllImages. */
  enableStates: Map<string, 'Enabled' | 'Disabled'>;
}

export interface LabVm {
  name: string;
  tags: Record<string, string>;
  notes?: string;
  uniqueIdentifier: string;
  /** The custom image it was created from (DevTest Labs' lower-case id); none for a marketplace VM. */
  customImageId?: string;
  /** Its Compute side, whose state (power, provisioning, size, OS disk) the lab VM shows. */
  compute: VirtualMachine;
  /** A VM created from an image of the lab's shared gallery. */
  sharedImage?: { sharedImageId: string; sharedImageVersion: string };
}

export interface CustomImage {
  name: string;
  tags: Record<string, string>;
  osType: 'Windows' | 'Linux' | 'None';
  creationDate: string;
  provisioningState: string;
  author?: string;
  description?: string;
  uniqueIdentifier: string;
  vhd?: { imageName?: string; sysPrep?: boolean; osType: string };
  vm?: { sourceVmId?: string; windowsOsInfo?: { windowsOsState?: string }; linuxOsInfo?: { linuxOsState?: string } };
  managedImageId?: string;
}

export class DevTestLabsState {
  readonly labs: Lab[] = [];

  constructor(
    scenarioLabs: readonly ScenarioLab[],
    private readonly services: { compute: ComputeState; storage: StorageState },
  ) {
    for (const scenarioLab of scenarioLabs) this.labs.push(this.createLab(scenarioLab));
  }

  labsIn(subscriptionId: string, resourceGroup?: string): Lab[] {
    return this.labs.filter(
      (lab) => same(lab.subscriptionId, subscriptionId) && (resourceGroup === undefined || same(lab.resourceGroup, resourceGroup)),
    );
  }

  findLab(subscriptionId: string, resourceGroup: string, name: string): Lab | undefined {
    return this.labs.find((lab) => same(lab.subscriptionId, subscriptionId) && same(lab.resourceGroup, resourceGroup) && same(lab.name, name));
  }

  findLabByName(name: string, subscriptionId?: string): Lab | undefined {
    return this.labs.find((lab) => same(lab.name, name) && (subscriptionId === undefined || same(lab.subscriptionId, subscriptionId)));
  }

  /** The labs' own resource groups (their VMs' compute groups are Compute's). */
  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    return this.labs.some((lab) => same(lab.subscriptionId, subscriptionId) && same(lab.resourceGroup, resourceGroup));
  }

  /** Adds a VM to a running lab (the control endpoint), checked as a scenario's VM is. */
  addVm(lab: Lab, vm: ScenarioVm): LabVm {
    const checked = checkAlone('VM', (c) => {
      const entry = checkVmScenario(c, vm, 'vm');
      if (findByName(lab.vms, vm.name)) c.problem('vm.name', `lab ${lab.name} already has a VM named ${vm.name}`);
      return entry;
    });
    const labVm = this.createVm(lab, checked ?? vm);
    lab.vms.push(labVm);
    return labVm;
  }

  /** Deletes the lab VM and its compute resources. */
  removeVm(lab: Lab, vm: LabVm): void {
    const index = lab.vms.indexOf(vm);
    if (index >= 0) lab.vms.splice(index, 1);
    this.services.compute.deleteVirtualMachine(vm.compute);
  }

  /** Adds a custom image to a running lab (the control endpoint), checked as a scenario's image is. */
  addCustomImage(lab: Lab, image: ScenarioCustomImage): CustomImage {
    const checked = checkAlone('custom image', (c) => {
      const entry = checkCustomImageScenario(c, image, 'customImage');
      if (findByName(lab.customImages, image.name)) c.problem('customImage.name', `lab ${lab.name} already has a custom image named ${image.name}`);
      return entry;
    });
    const custom = toCustomImage(lab, checked ?? image);
    lab.customImages.push(custom);
    return custom;
  }

  private createLab(scenarioLab: ScenarioLab): Lab {
    const { subscriptionId, resourceGroup, name } = scenarioLab;
    const lab: Lab = {
      subscriptionId,
      resourceGroup,
      name,
      location: scenarioLab.location ?? 'westus2',
      storageAccount: scenarioLab.storageAccount ?? defaultStorageAccount(subscriptionId, resourceGroup, name),
      denyAccess: scenarioLab.denyAccess ?? false,
      tags: { ...scenarioLab.tags },
      createdDate: '2024-01-15T09:30:00.0000000+00:00',
      uniqueIdentifier: stableGuid(`lab:${subscriptionId}/${resourceGroup}/${name}`.toLowerCase()),
      vms: [],
      customImages: [],
    };
    this.services.storage.addAccount({
      subscriptionId,
      resourceGroup,
      name: lab.storageAccount,
      denyAccess: lab.denyAccess,
      blobDataRoles: scenarioLab.blobDataRoles,
      initialBlobs: (scenarioLab.vhds ?? []).map((vhd) => ({ container: UPLOADS_CONTAINER, name: vhd.name, sizeBytes: vhdSizeBytes(vhd), metadata: vhd.metadata })),
    });
    for (const vm of scenarioLab.vms ?? []) lab.vms.push(this.createVm(lab, vm));
    if (scenarioLab.sharedGallery) {
      lab.sharedGallery = {
        name: scenarioLab.sharedGallery.name,
        galleryId: scenarioLab.sharedGallery.galleryId,
        allowAllImages: scenarioLab.sharedGallery.allowAllImages ?? 'Disabled',
        uniqueIdentifier: stableGuid(`sharedgallery:${labId(lab)}/${scenarioLab.sharedGallery.name}`.toLowerCase()),
        enableStates: new Map(),
      };
    }
    for (const image of scenarioLab.customImages ?? []) lab.customImages.push(toCustomImage(lab, image));
    return lab;
  }

  /** A lab VM being created (VirtualMachines_CreateOrUpdate): its compute VM starts in `Creating`. */
  addCreatingVm(lab: Lab, vm: ScenarioVm, source: VmSource, sharedImage: LabVm['sharedImage']): LabVm {
    const labVm = this.createVm(lab, { ...vm, provisioningState: 'Creating', powerState: 'starting' }, source);
    labVm.sharedImage = sharedImage;
    lab.vms.push(labVm);
    return labVm;
  }

  /** `source`: what the VM is made from, when not the scenario's marketplace image. */
  private createVm(lab: Lab, vm: ScenarioVm, source?: VmSource): LabVm {
    const seed = `${labId(lab)}/${vm.name}`.toLowerCase();
    const compute = this.services.compute.createVirtualMachine({
      subscriptionId: lab.subscriptionId,
      resourceGroup: `${lab.name}-${vm.name}-${stableDigits(`rg:${seed}`, 6)}`,
      name: vm.name,
      location: lab.location,
      osType: vm.osType ?? 'Windows',
      size: vm.size ?? 'Standard_DS2_v2',
      source: source ?? { kind: 'marketplace', image: scenarioImage(vm) },
      securityType: vm.securityType,
      powerState: (vm.powerState ?? 'deallocated') as PowerState,
      provisioningState: vm.provisioningState ?? 'Succeeded',
      createdDate: vm.createdDate ?? new Date().toISOString(),
      diskSizeGB: vm.diskSizeGB ?? 1,
      dataDisks: (vm.dataDisks ?? []).map((disk) => ({ lun: disk.lun, diskSizeGB: disk.diskSizeGB ?? 1 })),
      seed,
      lab,
    });
    return { name: vm.name, tags: { ...vm.tags }, notes: vm.notes, uniqueIdentifier: stableGuid(`vm:${seed}`), compute };
  }
}

function scenarioImage(vm: ScenarioVm): MarketplaceImage {
  const osType = vm.osType ?? 'Windows';
  if (!vm.imageReference) return defaultMarketplaceImage(osType);
  return { ...vm.imageReference, osType, version: vm.imageReference.version ?? 'latest' };
}

function toCustomImage(lab: Lab, image: ScenarioCustomImage): CustomImage {
  return {
    name: image.name,
    tags: { ...image.tags },
    osType: image.osType ?? 'Windows',
    creationDate: image.creationDate ?? new Date().toISOString(),
    provisioningState: image.provisioningState ?? 'Succeeded',
    author: image.author,
    description: image.description,
    uniqueIdentifier: stableGuid(`image:${labId(lab)}/${image.name}`.toLowerCase()),
    vhd: { osType: image.osType ?? 'Windows', sysPrep: false },
    managedImageId: managedImageId(lab, image.name),
  };
}
