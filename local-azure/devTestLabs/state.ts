import { defaultMarketplaceImage, type HyperVGeneration, type MarketplaceImage, type SecurityType } from '../compute/marketplace';
import type { ComputeState, OsType, PowerState, VirtualMachine, VmSource } from '../compute/state';
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
  tags?: Record<string, string>;
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
  /** The artifacts a deployment asked for, with how each went. */
  artifacts?: LabVmArtifact[];
}

export interface LabVmArtifact {
  artifactId: string;
  status: 'Pending' | 'Installing' | 'Succeeded' | 'Failed';
}

/** What a deployment asks DevTest Labs to create. */
export interface DeployedVmSpec {
  name: string;
  tags: Record<string, string>;
  notes?: string;
  osType: 'Windows' | 'Linux';
  size: string;
  imageReference: MarketplaceImage;
  artifacts: LabVmArtifact[];
  securityType: SecurityType;
  /** New empty data disks by LUN (`dataDiskParameters`). */
  dataDisks: readonly { lun: number; diskSizeGB: number }[];
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
  /**
   * The generation of the managed image behind the custom image. One made from a VHD is always
   * Generation 1 (DevTest Labs 2018-09-15 has no way to say otherwise); one made from a lab VM has the
   * VM's generation.
   */
  hyperVGeneration: HyperVGeneration;
  /** What the OS on the image's disk boots with: for a VHD, what its first sectors show. */
  bootGeneration: HyperVGeneration;
  /** The OS disk size of VMs made from it, in GiB. */
  sizeGB: number;
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

  /** Adds a VM a deployment creates: Creating and starting until its provisioning has run. */
  addDeployedVm(lab: Lab, spec: DeployedVmSpec): LabVm {
    const vm = this.makeVm(lab, {
      name: spec.name,
      tags: spec.tags,
      notes: spec.notes,
      osType: spec.osType,
      size: spec.size,
      source: { kind: 'marketplace', image: spec.imageReference },
      securityType: spec.securityType,
      provisioningState: 'Creating',
      powerState: 'starting',
      diskSizeGB: 1,
      dataDisks: spec.dataDisks,
      fresh: true,
    });
    vm.artifacts = spec.artifacts;
    lab.vms.push(vm);
    return vm;
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
      location: lab.location,
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

  /**
   * Creates a lab VM with its compute VM and OS disk, but not the disk's bytes (createDiskBlob) nor the
   * lab's list entry: what VirtualMachines_CreateOrUpdate, a deployment of lab VMs and a scenario share.
   */
  makeVm(lab: Lab, vm: NewLabVm): LabVm {
    const seed = `${labId(lab)}/${vm.name}${vm.fresh ? `/${Date.now()}` : ''}`.toLowerCase();
    const compute = this.services.compute.createVirtualMachine({
      subscriptionId: lab.subscriptionId,
      resourceGroup: `${lab.name}-${vm.name}-${stableDigits(`rg:${seed}`, 6)}`,
      name: vm.name,
      location: lab.location,
      osType: vm.osType,
      size: vm.size ?? 'Standard_DS2_v2',
      source: vm.source,
      securityType: vm.securityType,
      powerState: vm.powerState,
      provisioningState: vm.provisioningState,
      createdDate: vm.createdDate ?? new Date().toISOString(),
      diskSizeGB: vm.diskSizeGB,
      dataDisks: vm.dataDisks,
      seed,
      lab,
    });
    return { name: vm.name, tags: { ...vm.tags }, notes: vm.notes, uniqueIdentifier: stableGuid(`vm:${seed}`), customImageId: vm.customImageId, compute };
  }

  /** A lab VM being created from a shared gallery image: its compute VM starts in `Creating`. */
  addCreatingVm(lab: Lab, vm: Omit<NewLabVm, 'powerState' | 'provisioningState'>, sharedImage: LabVm['sharedImage']): LabVm {
    const labVm = this.makeVm(lab, { ...vm, provisioningState: 'Creating', powerState: 'starting' });
    labVm.sharedImage = sharedImage;
    lab.vms.push(labVm);
    return labVm;
  }

  private createVm(lab: Lab, vm: ScenarioVm): LabVm {
    return this.makeVm(lab, {
      name: vm.name,
      tags: vm.tags ?? {},
      notes: vm.notes,
      osType: vm.osType ?? 'Windows',
      size: vm.size,
      source: { kind: 'marketplace', image: scenarioImage(vm) },
      securityType: vm.securityType,
      powerState: (vm.powerState ?? 'deallocated') as PowerState,
      provisioningState: vm.provisioningState ?? 'Succeeded',
      createdDate: vm.createdDate,
      diskSizeGB: vm.diskSizeGB ?? 1,
      dataDisks: (vm.dataDisks ?? []).map((disk) => ({ lun: disk.lun, diskSizeGB: disk.diskSizeGB ?? 1 })),
    });
  }
}

/** A lab VM to make: from a marketplace image or a custom image of the lab (`customImageId`). */
export interface NewLabVm {
  name: string;
  tags: Record<string, string>;
  notes?: string;
  osType: OsType;
  size?: string;
  source: VmSource;
  customImageId?: string;
  securityType?: SecurityType;
  powerState: PowerState;
  provisioningState: string;
  createdDate?: string;
  diskSizeGB: number;
  /** Data disks by LUN. */
  dataDisks?: readonly { lun: number; diskSizeGB: number }[];
  /** Made while the local Azure runs: new ids (VM, disk) even under an earlier VM's name, as in Azure. */
  fresh?: boolean;
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
    hyperVGeneration: 'V1',
    bootGeneration: 'V1',
    sizeGB: 1,
  };
}
