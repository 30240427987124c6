import * as assert from 'node:assert/strict';
import { BlobClient } from '@azure/storage-blob';
import type { Scenario } from '../../local-azure/scenario';
import { sdkClients, startLocalAzure, type LocalAzureProcess, type SdkClients } from '../helpers/localAzure';

/**
 * DevTest Labs custom images and lab VMs against Azure's rules, through the official SDK clients: a
 * managed disk exports as a fixed VHD; a custom image is made only from a fixed VHD page blob; a made
 * image's source cannot change; a lab VM can be made from a custom image, and one whose firmware
 * cannot boot the image's OS (a Generation 2 disk saved as a VHD) fails to provision.
 */

const SUB = 'a1b2c3d4-0000-4000-8000-0000000000b1';
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const RG = 'TeamRG';
const LAB = 'TeamLab';
const OPTS = { updateIntervalInMs: 20 };

const SCENARIO: Scenario = {
  labs: [
    {
      subscriptionId: SUB,
      resourceGroup: RG,
      name: LAB,
      vms: [
        { name: 'gen1-golden', osType: 'Windows' },
        { name: 'gen2-golden', osType: 'Windows', imageReference: { publisher: 'MicrosoftWindowsServer', offer: 'WindowsServer', sku: '2022-datacenter-azure-edition' } },
      ],
      vhds: [
        { name: 'valid.vhd', sizeBytes: 8 * MIB + 512 },
        { name: 'odd-size.vhd', sizeBytes: MIB },
      ],
    },
  ],
  settings: { lroDurationMs: 50, customImageDurationMs: 50, lroRetryAfterSeconds: 0 },
};

/** A VHD footer as the VHD specification lays it out, read here on its own rather than with the local Azure's reader. */
function footerOf(bytes: Buffer) {
  const checksum = bytes.readUInt32BE(64);
  // The checksum is over every byte but its own field.
  const sum = Buffer.concat([bytes.subarray(0, 64), bytes.subarray(68)]).reduce((total, byte) => total + byte, 0);
  return { cookie: bytes.toString('latin1', 0, 8), diskType: bytes.readUInt32BE(60), currentSize: Number(bytes.readBigUInt64BE(48)), checksumValid: checksum === (~sum >>> 0) };
}

async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; statusCode?: number }> {
  return promise.then(
    () => assert.fail('expected the operation to fail'),
    (error: Error & { code?: string; statusCode?: number }) => error,
  );
}

describe('local DevTest Labs: custom images from VHDs and lab VMs from custom images', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let clients: SdkClients;
  let uploads: string;

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
    clients = sdkClients(azure, SUB);
    const lab = await clients.devTestLabs.labs.get(RG, LAB);
    uploads = `${azure.blobUrl}/${lab.defaultStorageAccount!.split('/').pop()!}/uploads`;
  });
  after(async () => {
    await azure?.stop();
  });

  const diskOf = async (vmName: string) => {
    const vm = await clients.devTestLabs.virtualMachines.get(RG, LAB, vmName, { expand: 'properties($expand=computeVm)' });
    const parts = vm.computeVm!.osDiskId!.split('/');
    return { rg: parts[4], name: parts[8] };
  };

  /** Exports a lab VM's OS disk into the lab's uploads container as `blobName`, as the VHD route does. */
  async function exportDisk(vmName: string, blobName: string): Promise<string> {
    const disk = await diskOf(vmName);
    const access = await clients.compute.disks.beginGrantAccessAndWait(disk.rg, disk.name, { access: 'Read', durationInSeconds: 600 }, OPTS);
    try {
      const { uploadUri } = await clients.devTestLabs.labs.generateUploadUri(RG, LAB, { blobName });
      const destination = new BlobClient(uploadUri!);
      const poller = await destination.beginCopyFromURL(access.accessSAS!, { intervalInMs: 20 });
      await poller.pollUntilDone();
    } finally {
      await clients.compute.disks.beginRevokeAccessAndWait(disk.rg, disk.name, OPTS);
    }
    return `${uploads}/${blobName}`;
  }

  const createImage = (name: string, imageName: string, osType = 'Windows') =>
    clients.devTestLabs.customImages.beginCreateOrUpdateAndWait(RG, LAB, name, { vhd: { imageName, osType, sysPrep: true } }, OPTS);

  const createVm = (name: string, customImageId: string) =>
    clients.devTestLabs.virtualMachines.beginCreateOrUpdateAndWait(
      RG,
      LAB,
      name,
      { location: 'westus2', customImageId, size: 'Standard_DS2_v2', userName: 'factory', password: 'Unused-Passw0rd', labSubnetName: `Dtl${LAB}Subnet` },
      OPTS,
    );

  it('exports a managed disk as a fixed VHD: N GiB and a valid 512-byte footer', async () => {
    const disk = await diskOf('gen1-golden');
    const access = await clients.compute.disks.beginGrantAccessAndWait(disk.rg, disk.name, { access: 'Read', durationInSeconds: 60 }, OPTS);
    try {
      const reader = new BlobClient(access.accessSAS!);
      const properties = await reader.getProperties();
      assert.equal(properties.blobType, 'PageBlob');
      assert.equal(properties.contentLength, GIB + 512);
      const footer = footerOf(await reader.downloadToBuffer(GIB, 512));
      assert.deepEqual(footer, { cookie: 'conectix', diskType: 2, currentSize: GIB, checksumValid: true });
    } finally {
      await clients.compute.disks.beginRevokeAccessAndWait(disk.rg, disk.name, OPTS);
    }
  });

  it('makes a custom image of a valid fixed VHD page blob', async () => {
    const image = await createImage('Valid-Image', `${uploads}/valid.vhd`);
    assert.equal(image.provisioningState, 'Succeeded');
  });

  it('fails a custom image of a VHD whose size is not a whole number of MiB plus the footer (InvalidVhd)', async () => {
    const error = await failure(createImage('Odd-Image', `${uploads}/odd-size.vhd`));
    assert.match(`${error.code} ${error.message}`, /InvalidVhd/);
    assert.match(error.message, /whole number of MiB plus the 512-byte VHD footer/);
    assert.equal((await clients.devTestLabs.customImages.get(RG, LAB, 'Odd-Image')).provisioningState, 'Failed');
  });

  it('fails a custom image of a block blob, and of a page blob without a VHD footer (InvalidVhd)', async () => {
    const { uploadUri: blockUri } = await clients.devTestLabs.labs.generateUploadUri(RG, LAB, { blobName: 'block.vhd' });
    await new BlobClient(blockUri!).getBlockBlobClient().upload(Buffer.alloc(MIB + 512), MIB + 512);
    const block = await failure(createImage('Block-Image', `${uploads}/block.vhd`));
    assert.match(block.message, /is a BlockBlob; an image is made only from a page blob/);

    const { uploadUri: bareUri } = await clients.devTestLabs.labs.generateUploadUri(RG, LAB, { blobName: 'bare.vhd' });
    await new BlobClient(bareUri!).getPageBlobClient().create(MIB + 512);
    const bare = await failure(createImage('Bare-Image', `${uploads}/bare.vhd`));
    assert.match(bare.message, /cookie in its last 512 bytes is not 'conectix'/);
  });

  it('fails a custom image of a VHD whose footer checksum is wrong, or that is not fixed (InvalidVhd)', async () => {
    // A VHD of its own, not a copy: the local storage's copies share pages with their source.
    await azure.addVhd(LAB, { name: 'tampered.vhd', sizeBytes: GIB + 512 });
    const good = `${uploads}/tampered.vhd`;
    const { uploadUri } = await clients.devTestLabs.labs.generateUploadUri(RG, LAB, { blobName: 'tampered.vhd' });
    const page = new BlobClient(uploadUri!).getPageBlobClient();
    const footer = await page.downloadToBuffer(GIB, 512);
    footer.writeUInt32BE(0xdeadbeef, 24); // timestamp changed, checksum left as it was
    await page.uploadPages(footer, GIB, 512);
    assert.match((await failure(createImage('Tampered-Image', good))).message, /checksum does not match/);

    const { uploadUri: dynamicUri } = await clients.devTestLabs.labs.generateUploadUri(RG, LAB, { blobName: 'dynamic.vhd' });
    const dynamic = new BlobClient(dynamicUri!).getPageBlobClient();
    await dynamic.create(MIB + 512);
    const dynamicFooter = Buffer.from(footer);
    dynamicFooter.writeUInt32BE(3, 60);
    await dynamic.uploadPages(dynamicFooter, MIB, 512);
    assert.match((await failure(createImage('Dynamic-Image', `${uploads}/dynamic.vhd`))).message, /is a dynamic VHD; only fixed VHDs are supported/);
  });

  it('creates a lab VM from a Generation 1 custom image (LRO); the VM provisions, from any casing of the image id', async () => {
    const image = await createImage('Gen1-Image', await exportDisk('gen1-golden', 'gen1.vhd'));
    assert.equal(image.id, image.id!.toLowerCase(), 'DevTest Labs ids are lower case');
    const vm = await createVm('from-gen1', image.id!.toUpperCase());
    assert.equal(vm.provisioningState, 'Succeeded');
    assert.equal(vm.customImageId, image.id);
    assert.equal(vm.virtualMachineCreationSource, 'FromCustomImage');
    const disk = await diskOf('from-gen1');
    assert.equal((await clients.compute.disks.get(disk.rg, disk.name)).hyperVGeneration, 'V1');
  });

  it('makes a VM from a VHD custom image of a Generation 2 disk that fails to provision (OSProvisioningTimedOut)', async () => {
    const image = await createImage('Gen2-As-Vhd', await exportDisk('gen2-golden', 'gen2.vhd'));
    assert.equal(image.provisioningState, 'Succeeded', 'the custom image itself is made: nothing checks what the VHD boots with');
    const error = await failure(createVm('from-gen2', image.id!));
    assert.match(`${error.code} ${error.message}`, /OSProvisioningTimedOut/);
    assert.match(error.message, /Generation 1 \(BIOS\) firmware cannot boot the OS/);
    assert.equal((await clients.devTestLabs.virtualMachines.get(RG, LAB, 'from-gen2')).provisioningState, 'Failed');
  });

  it('refuses a lab VM from a custom image that is not the lab\'s', async () => {
    const error = await failure(createVm('nowhere', `/subscriptions/${SUB}/resourcegroups/${RG}/providers/microsoft.devtestlab/labs/${LAB}/customimages/missing`));
    assert.equal(error.statusCode, 400);
  });

  it('refuses a PUT that changes a made image\'s VHD or OS type (409 PropertyChangeNotAllowed), and takes one that changes its description', async () => {
    const vhd = await createImage('Fixed-Source', `${uploads}/valid.vhd`);
    assert.equal(vhd.provisioningState, 'Succeeded');
    const otherVhd = await failure(createImage('Fixed-Source', `${uploads}/gen1.vhd`));
    assert.equal(otherVhd.statusCode, 409);
    assert.equal(otherVhd.code, 'PropertyChangeNotAllowed');
    assert.match(otherVhd.message, /'vhd\.imageName'/);
    const otherOs = await failure(createImage('Fixed-Source', `${uploads}/valid.vhd`, 'Linux'));
    assert.equal(otherOs.code, 'PropertyChangeNotAllowed');
    assert.match(otherOs.message, /'vhd\.osType'/);
    const described = await clients.devTestLabs.customImages.beginCreateOrUpdateAndWait(
      RG,
      LAB,
      'Fixed-Source',
      { vhd: { imageName: `${uploads}/valid.vhd`, osType: 'Windows' }, description: 'now described' },
      OPTS,
    );
    assert.equal(described.description, 'now described');
  });
});
