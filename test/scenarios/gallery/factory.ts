import type { Scenario, ScenarioLab } from '../../../local-azure/scenario';
import { labVmTemplate, writeConfiguration } from '../../fixtures/config/configurationFolder';

/**
 * A factory on the gallery route: a factory lab in westus2 with a Generation 2 Trusted Launch Windows 11
 * VM with a data disk, a Generation 2 Linux VM and a Generation 1 Windows Server VM, and target labs in
 * three regions. labs.json sends Windows 11 and Linux to every target lab and Windows Server to the west.
 */
export const SUB = '4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b';
export const FACTORY = 'Factory';
export const FACTORY_RG = 'factory-rg';
export const GALLERY = 'FactoryImages';
export const GALLERY_ID = `/subscriptions/${SUB}/resourceGroups/${FACTORY_RG}/providers/Microsoft.Compute/galleries/${GALLERY}`;
export const OTHER_GALLERY_ID = `/subscriptions/${SUB}/resourceGroups/team-rg/providers/Microsoft.Compute/galleries/TeamImages`;

export const VMS = {
  win11: { name: 'win11-ent', osType: 'Windows', imageReference: { publisher: 'MicrosoftWindowsDesktop', offer: 'windows-11', sku: 'win11-23h2-ent' }, securityType: 'TrustedLaunch', diskSizeGB: 2, dataDisks: [{ lun: 0, diskSizeGB: 1 }], tags: { ImagePath: 'Win11\\Enterprise.json' } },
  ubuntu: { name: 'ubuntu-2204', osType: 'Linux', imageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts-gen2' }, diskSizeGB: 1, tags: { ImagePath: 'Linux/Ubuntu2204.json' } },
  server: { name: 'ws2016', osType: 'Windows', diskSizeGB: 1, tags: { ImagePath: 'WindowsServer/2016-Datacenter.json' } },
  jumpbox: { name: 'jumpbox', osType: 'Windows', powerState: 'running', tags: { owner: 'ops' } },
} as const;

export const TARGETS = {
  west: { name: 'Team-West', location: 'westus2' },
  east: { name: 'Team-East', location: 'eastus' },
  europe: { name: 'Team-Europe', location: 'northeurope' },
  /** A lab that has another gallery attached: the factory must leave it alone. */
  other: { name: 'Team-Other', location: 'eastus' },
  /** In a fourth region, for a second labs.json over the same gallery. */
  asia: { name: 'Team-Asia', location: 'japaneast' },
};

export function galleryFactory(options: { withOtherGalleryLab?: boolean; withAsiaLab?: boolean; rateMBps?: number } = {}): Scenario {
  const target = (t: { name: string; location: string }, extra: Partial<ScenarioLab> = {}): ScenarioLab => ({ subscriptionId: SUB, resourceGroup: 'team-rg', name: t.name, location: t.location, ...extra });
  return {
    galleries: [{ subscriptionId: SUB, resourceGroup: 'team-rg', name: 'TeamImages', location: 'eastus' }],
    labs: [
      { subscriptionId: SUB, resourceGroup: FACTORY_RG, name: FACTORY, location: 'westus2', vms: Object.values(VMS).map((vm) => ({ ...vm, tags: { ...vm.tags }, dataDisks: 'dataDisks' in vm ? [...vm.dataDisks] : undefined })) },
      target(TARGETS.west),
      target(TARGETS.east),
      target(TARGETS.europe),
      ...(options.withOtherGalleryLab ? [target(TARGETS.other, { sharedGallery: { name: 'TeamImages', galleryId: OTHER_GALLERY_ID } })] : []),
      ...(options.withAsiaLab ? [target(TARGETS.asia)] : []),
    ],
    settings: { lroDurationMs: 50, lroRetryAfterSeconds: 0, galleryReplicationRateMBps: options.rateMBps ?? 16_384 },
  };
}

/** labs.json and the three templates; `labs` are the target labs' names with their ImagePaths. */
export function galleryConfiguration(labs: { name: string; imagePaths: string[] }[] = defaultLabs()): string {
  return writeConfiguration({
    'labs.json': { Labs: labs.map((lab) => ({ SubscriptionId: SUB, LabName: lab.name, ImagePaths: lab.imagePaths })) },
    'GoldenImages/Win11/Enterprise.json': labVmTemplate('Windows'),
    'GoldenImages/Linux/Ubuntu2204.json': labVmTemplate('Linux'),
    'GoldenImages/WindowsServer/2016-Datacenter.json': labVmTemplate('Windows'),
  });
}

export function defaultLabs(): { name: string; imagePaths: string[] }[] {
  return [
    { name: TARGETS.west.name, imagePaths: ['Win11', 'Linux', 'WindowsServer'] },
    { name: TARGETS.east.name, imagePaths: ['Win11/Enterprise.json', 'Linux'] },
    { name: TARGETS.europe.name, imagePaths: ['Win11', 'Linux/Ubuntu2204.json'] },
  ];
}

/** The factory lab's id as the factory tags its images with (lower case). */
export const FACTORY_ID = `/subscriptions/${SUB}/resourcegroups/${FACTORY_RG}/providers/microsoft.devtestlab/labs/${FACTORY.toLowerCase()}`;

/**
 * The same factory running both routes: Windows Server (Generation 1) takes the VHD route, so its VM is
 * gone and its image is in the factory's image store and in Team-West as a custom image; Windows 11 and
 * Linux take the gallery route.
 */
export function bothRoutesFactory(options: { withOtherGalleryLab?: boolean } = {}): Scenario {
  const scenario = galleryFactory(options);
  const name = 'WindowsServer_2016-Datacenter-Nov-20-2026';
  const created = '2026-11-20T06:00:00.000Z';
  const imagePath = 'WindowsServer/2016-Datacenter.json';
  const factory = scenario.labs!.find((lab) => lab.name === FACTORY)!;
  factory.vms = factory.vms!.filter((vm) => vm.name !== VMS.server.name);
  const meta = (value: string) => encodeURIComponent(value);
  factory.vhds = [
    {
      name: `${name}.vhd`,
      sizeBytes: 1049088,
      metadata: {
        imagefactory: '1',
        imagename: name,
        imagepath: meta(imagePath),
        description: meta('Windows Server 2016 Datacenter golden image'),
        ostype: 'Windows',
        generalized: 'true',
        sourcevmid: meta(`${FACTORY_ID}/virtualmachines/ws2016-nov20`),
        sourcediskid: meta(`/subscriptions/${SUB}/resourceGroups/${FACTORY}-ws2016-nov20-100/providers/Microsoft.Compute/disks/ws2016-nov20`),
        createdutc: created,
        sizebytes: '1048576',
      },
    },
  ];
  const west = scenario.labs!.find((lab) => lab.name === TARGETS.west.name)!;
  west.customImages = [
    { name, osType: 'Windows', creationDate: created, author: `Image factory ${FACTORY}`, tags: { ImagePath: imagePath, ImageFactory: FACTORY_ID, ImageFactoryCreated: created } },
  ];
  return scenario;
}
