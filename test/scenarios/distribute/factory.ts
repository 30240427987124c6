import { type FactoryImage, storeBlobName, toBlobMetadata } from '../../../core/factoryImages';
import type { ScenarioLab, ScenarioVhd } from '../../../local-azure/scenario';
import { labVmTemplate, writeConfiguration } from '../../fixtures/config/configurationFolder';

/**
 * A factory lab whose image store holds saved images, and target labs in two subscriptions, for
 * DistributeImages tests and benchmarks.
 */
export const SUB_A = '3c5e7a90-1b2d-4f6e-8a0b-1c2d3e4f5a61';
export const SUB_B = '9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c62';
export const REGION = 'westus2';
export const FACTORY: ScenarioLab = { subscriptionId: SUB_A, resourceGroup: 'factory-rg', name: 'Factory', location: REGION, storageAccount: 'factorystore' };
export const FACTORY_ID = labId(FACTORY).toLowerCase();

export const TEMPLATE_FILES: Record<string, unknown> = {
  'GoldenImages/Windows/Datacenter.json': labVmTemplate('Windows'),
  'GoldenImages/Windows/SQL.json': labVmTemplate('Windows'),
  'GoldenImages/Linux/Ubuntu.json': labVmTemplate('Linux'),
};

export function labId(lab: Pick<ScenarioLab, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${lab.subscriptionId}/resourcegroups/${lab.resourceGroup}/providers/microsoft.devtestlab/labs/${lab.name}`;
}

export function factoryImage(imageName: string, imagePath: string, sizeBytes = 64 * 1024 * 1024): FactoryImage {
  const osType = imagePath.startsWith('Linux') ? 'Linux' : 'Windows';
  return {
    imageName,
    imagePath,
    description: `Golden image ${imagePath}`,
    osType,
    generalized: true,
    sourceVmId: `${labId(FACTORY)}/virtualmachines/${imageName.toLowerCase()}`,
    sourceDiskId: `/subscriptions/${SUB_A}/resourceGroups/factory-rg/providers/Microsoft.Compute/disks/${imageName}-os`,
    createdUtc: '2026-11-24T08:00:00.000Z',
    sizeBytes,
    hyperVGeneration: 'V1',
    securityType: 'Standard',
  };
}

/** The store blob of an image, as SnapImagesFromVMs leaves it. */
export function storeVhd(image: FactoryImage): ScenarioVhd {
  // A fixed VHD: the disk's bytes and the 512-byte footer.
  return { name: storeBlobName(image.imageName), sizeBytes: image.sizeBytes + 512, metadata: toBlobMetadata(image) };
}

export interface LabsJsonLab {
  SubscriptionId: string;
  LabName: string;
  ResourceGroup?: string;
  ImagePaths: string[];
}

/** A configuration folder with the three templates and these labs. */
export function writeDistributeConfiguration(labs: LabsJsonLab[], templates: Record<string, unknown> = TEMPLATE_FILES): string {
  return writeConfiguration({ ...templates, 'labs.json': { Labs: labs } });
}
