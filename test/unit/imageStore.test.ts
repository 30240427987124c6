import * as assert from 'node:assert/strict';
import { classifyStoreBlob } from '../../core/imageStore';
import { type FactoryImage, stagingMetadata, toBlobMetadata } from '../../core/factoryImages';

const image: FactoryImage = {
  imageName: 'Win2016_Datacenter-Nov-24-2026',
  imagePath: 'Win2016/Datacenter.json',
  description: 'Datacenter',
  osType: 'Windows',
  generalized: true,
  sourceVmId: '/subscriptions/s/resourcegroups/rg/providers/microsoft.devtestlab/labs/Factory/virtualmachines/win2016',
  sourceDiskId: '/subscriptions/s/resourceGroups/rg2/providers/Microsoft.Compute/disks/win2016-os',
  createdUtc: '2026-11-24T10:00:00.000Z',
  sizeBytes: 1024,
  hyperVGeneration: 'V1',
  securityType: 'Standard',
};

const blob = (metadata: Record<string, string> | undefined, copyStatus?: 'pending' | 'success' | 'failed' | 'aborted') => ({
  name: 'x.vhd',
  metadata,
  properties: { copyStatus },
});

describe('image store blob classification', () => {
  it('counts a factory blob whose copy succeeded, or that was not copied, as an image', () => {
    assert.deepEqual(classifyStoreBlob(blob(toBlobMetadata(image), 'success')), { kind: 'image', image });
    assert.deepEqual(classifyStoreBlob(blob(toBlobMetadata(image))), { kind: 'image', image });
  });

  it('keeps pending, failed and aborted factory copies apart from images', () => {
    for (const status of ['pending', 'failed', 'aborted'] as const) {
      assert.deepEqual(classifyStoreBlob(blob(toBlobMetadata(image), status)), { kind: 'incomplete', copyStatus: status, image });
    }
  });

  it('leaves blobs without factory metadata alone, whatever their copy state', () => {
    assert.deepEqual(classifyStoreBlob(blob(undefined, 'pending')), { kind: 'other' });
    assert.deepEqual(classifyStoreBlob(blob({ owner: 'someone' })), { kind: 'other' });
    assert.deepEqual(classifyStoreBlob(blob(stagingMetadata(image.imageName), 'failed')), { kind: 'other' });
    const { imagename: _dropped, ...broken } = toBlobMetadata(image);
    assert.deepEqual(classifyStoreBlob(blob(broken, 'success')), { kind: 'other' });
  });
});
