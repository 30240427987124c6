import * as assert from 'node:assert/strict';
import { galleryRefFor } from '../../core/gallery/gallery';
import { labReadConcurrency } from '../../core/pool';

const factory = { subscriptionId: 'sub1', resourceGroup: 'factory-rg' };

describe('the gallery a run names', () => {
  it("is in the factory lab's subscription and, unless the inputs name one, its resource group", () => {
    assert.deepEqual(galleryRefFor(factory, { galleryName: 'FactoryImages' }), { subscriptionId: 'sub1', resourceGroup: 'factory-rg', name: 'FactoryImages' });
    assert.deepEqual(galleryRefFor(factory, { galleryName: 'FactoryImages', galleryResourceGroup: undefined }), { subscriptionId: 'sub1', resourceGroup: 'factory-rg', name: 'FactoryImages' });
    assert.deepEqual(galleryRefFor(factory, { galleryName: 'Shared', galleryResourceGroup: 'images-rg' }), { subscriptionId: 'sub1', resourceGroup: 'images-rg', name: 'Shared' });
  });
});

describe('labs read at once', () => {
  it('follow maxConcurrentJobs between 10 and 50', () => {
    assert.deepEqual([1, 10, 20, 50, 200].map(labReadConcurrency), [10, 10, 20, 50, 50]);
  });
});
