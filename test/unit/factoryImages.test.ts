import * as assert from 'node:assert/strict';
import {
  customImageTags,
  FactoryImage,
  fromBlobMetadata,
  getTag,
  isFactoryCustomImage,
  isStagingBlob,
  stagingBlobName,
  stagingMetadata,
  storeBlobName,
  toBlobMetadata,
  BLOB_METADATA_MAX_BYTES,
} from '../../core/factoryImages';

const image: FactoryImage = {
  imageName: 'Win2016_Datacenter-Nov-24-2026',
  imagePath: 'Win2016\\Datacenter.json',
  description: 'Golden Windows Server 2016 — with tools: 7-Zip & Git',
  osType: 'Windows',
  generalized: true,
  sourceVmId: '/subscriptions/s/resourcegroups/rg/providers/microsoft.devtestlab/labs/Factory/virtualmachines/win2016-dc',
  sourceDiskId: '/subscriptions/s/resourceGroups/Factory-win2016-dc-123/providers/Microsoft.Compute/disks/osdisk',
  createdUtc: '2026-11-24T10:00:00.000Z',
  sizeBytes: 136365211648,
  hyperVGeneration: 'V1',
  securityType: 'Standard',
};

describe('factory image metadata', () => {
  const bytesOf = (metadata: Record<string, string>) => Object.entries(metadata).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

  it("keeps within Azure's 8 KB, cutting only the description, at a whole character and with a marker", () => {
    for (const notes of ['x'.repeat(20_000), 'é✓'.repeat(6000), '😀'.repeat(5000), `${'a'.repeat(8100)}é`]) {
      const metadata = toBlobMetadata({ ...image, description: notes });
      assert.ok(bytesOf(metadata) <= BLOB_METADATA_MAX_BYTES, `${bytesOf(metadata)} bytes`);
      const back = fromBlobMetadata(metadata)!;
      assert.deepEqual({ ...back, description: '' }, { ...image, imagePath: 'Win2016/Datacenter.json', description: '' }, 'every other field whole');
      const cut = /^([\s\S]*)… \(notes cut from (\d+) to (\d+) characters\)$/.exec(back.description);
      assert.ok(cut, back.description.slice(-80));
      assert.ok(notes.startsWith(cut[1]));
      assert.equal(Number(cut[2]), [...notes].length);
      assert.equal(Number(cut[3]), [...cut[1]].length);
      assert.ok(bytesOf(metadata) > BLOB_METADATA_MAX_BYTES - 80, `the budget is used: ${bytesOf(metadata)} bytes`);
    }
  });

  it('keeps a description that fits as it is', () => {
    const notes = 'n'.repeat(7000);
    assert.equal(fromBlobMetadata(toBlobMetadata({ ...image, description: notes }))!.description, notes);
  });

  it('round-trips through ASCII blob metadata', () => {
    const metadata = toBlobMetadata(image);
    for (const value of Object.values(metadata)) assert.match(value, /^[\x20-\x7e]*$/);
    assert.deepEqual(fromBlobMetadata(metadata), { ...image, imagePath: 'Win2016/Datacenter.json' });
  });

  it('reads metadata whatever the case of its keys', () => {
    const upper = Object.fromEntries(Object.entries(toBlobMetadata(image)).map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal(fromBlobMetadata(upper)?.imageName, image.imageName);
  });

  it('does not take a blob without the factory marker, or with incomplete metadata, for an image', () => {
    const { imagefactory: _marker, ...withoutMarker } = toBlobMetadata(image);
    assert.equal(fromBlobMetadata(withoutMarker), undefined);
    assert.equal(fromBlobMetadata({ ...toBlobMetadata(image), ostype: 'Plan9' }), undefined);
    assert.equal(fromBlobMetadata({ ...toBlobMetadata(image), sizebytes: 'lots' }), undefined);
    assert.equal(fromBlobMetadata(undefined), undefined);
  });

  it('names store and staging blobs apart, and recognizes staging blobs', () => {
    assert.equal(storeBlobName(image.imageName), 'Win2016_Datacenter-Nov-24-2026.vhd');
    assert.notEqual(stagingBlobName(image.imageName), storeBlobName(image.imageName));
    assert.ok(isStagingBlob(stagingMetadata(image.imageName)));
    assert.ok(!isStagingBlob(toBlobMetadata(image)));
    assert.equal(fromBlobMetadata(stagingMetadata(image.imageName)), undefined);
  });

  it('tags custom images so that only the factory that made them recognizes them', () => {
    const factoryId = '/subscriptions/S/resourceGroups/RG/providers/Microsoft.DevTestLab/labs/Factory';
    const tags = customImageTags(image, factoryId);
    assert.equal(tags.ImagePath, 'Win2016/Datacenter.json');
    assert.ok(isFactoryCustomImage(tags, factoryId.toLowerCase()));
    assert.ok(isFactoryCustomImage({ imagepath: 'x', IMAGEFACTORY: factoryId }, factoryId));
    assert.ok(!isFactoryCustomImage(tags, '/subscriptions/S/resourceGroups/RG/providers/Microsoft.DevTestLab/labs/Other'));
    assert.ok(!isFactoryCustomImage({ ImagePath: 'x' }, factoryId));
    assert.ok(!isFactoryCustomImage(undefined, factoryId));
    assert.equal(getTag({ imagepath: 'a' }, 'ImagePath'), 'a');
  });

  it('carries the generation and security type in the metadata, and reads an image saved before they were recorded as Generation 1', () => {
    const gen2 = { ...image, hyperVGeneration: 'V2' as const, securityType: 'TrustedLaunch' as const };
    const metadata = toBlobMetadata(gen2);
    assert.equal(metadata.hypervgeneration, 'V2');
    assert.equal(metadata.securitytype, 'TrustedLaunch');
    assert.equal(fromBlobMetadata(metadata)?.hyperVGeneration, 'V2');
    assert.equal(fromBlobMetadata(metadata)?.securityType, 'TrustedLaunch');
    const { hypervgeneration: _g, securitytype: _s, ...older } = toBlobMetadata(image);
    assert.equal(fromBlobMetadata(older)?.hyperVGeneration, 'V1');
    assert.equal(fromBlobMetadata(older)?.securityType, 'Standard');
  });

  it('keeps the generation whole when the notes fill the 8 KB budget', () => {
    const metadata = toBlobMetadata({ ...image, description: 'x'.repeat(20_000), hyperVGeneration: 'V2' });
    const bytes = Object.entries(metadata).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
    assert.ok(bytes <= BLOB_METADATA_MAX_BYTES, `${bytes} bytes`);
    assert.equal(fromBlobMetadata(metadata)?.hyperVGeneration, 'V2');
  });
});
