import * as assert from 'node:assert/strict';
import type { Scenario } from '../../local-azure/scenario';
import { sdkClients, startLocalAzure, type LocalAzureProcess, type SdkClients } from '../helpers/localAzure';

/**
 * Compute's VirtualMachineImages_List through the official SDK client: the versions of a marketplace
 * SKU as `{ name, location, id }`, sorted by name as text with `$orderby`, cut by `$top`, a SKU's
 * versions set by the scenario and changed through the control API, and 404 for a SKU the
 * marketplace does not know.
 */

const SUB = 'a1b2c3d4-0000-4000-8000-0000000000a1';
const SCENARIO: Scenario = {
  labs: [{ subscriptionId: SUB, resourceGroup: 'FactoryRG', name: 'Factory' }],
  marketplace: [{ publisher: 'Contoso', offer: 'Hardened', sku: 'base', versions: ['9.0.1', '10.0.0', '1.2.3'] }],
};

describe('local Compute: marketplace image versions', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let clients: SdkClients;

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
    clients = sdkClients(azure, SUB);
  });
  after(async () => {
    await azure?.stop();
  });

  it('lists a known SKU\'s versions as Azure does (name, location, id)', async () => {
    const listed = await clients.compute.virtualMachineImages.list('westus2', 'Canonical', '0001-com-ubuntu-server-jammy', '22_04-lts');
    assert.ok(listed.length >= 2, JSON.stringify(listed));
    for (const v of listed) {
      assert.match(v.name, /^\d+\.\d+\.\d+$/);
      assert.equal(v.location, 'westus2');
      assert.equal(v.id, `/Subscriptions/${SUB}/Providers/Microsoft.Compute/Locations/westus2/Publishers/Canonical/ArtifactTypes/VMImage/Offers/0001-com-ubuntu-server-jammy/Skus/22_04-lts/Versions/${v.name}`);
    }
  });

  it('a scenario\'s SKU, sorted by name as text with $orderby and cut by $top', async () => {
    const all = await clients.compute.virtualMachineImages.list('westus2', 'contoso', 'hardened', 'BASE', { orderby: 'name desc' });
    assert.deepEqual(all.map((v) => v.name), ['9.0.1', '10.0.0', '1.2.3']);
    const top = await clients.compute.virtualMachineImages.list('westus2', 'Contoso', 'Hardened', 'base', { orderby: 'name', top: 1 });
    assert.deepEqual(top.map((v) => v.name), ['1.2.3']);
  });

  it('answers 404 NotFound for a SKU the marketplace does not know', async () => {
    await assert.rejects(clients.compute.virtualMachineImages.list('westus2', 'Canonical', '0001-com-ubuntu-server-jammy', 'no-such-sku'), (error: { statusCode?: number; code?: string }) => {
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, 'NotFound');
      return true;
    });
  });

  it('the control API replaces a SKU\'s versions: a newly published version is listed', async () => {
    const r = await azure.request('PUT', '/__local/marketplace', { body: { publisher: 'Contoso', offer: 'Hardened', sku: 'base', versions: ['9.0.1', '10.0.0', '1.2.3', '10.1.0'] } });
    assert.equal(r.status, 200, r.text);
    const listed = await clients.compute.virtualMachineImages.list('westus2', 'Contoso', 'Hardened', 'base');
    assert.ok(listed.some((v) => v.name === '10.1.0'));
    const bad = await azure.request('PUT', '/__local/marketplace', { body: { publisher: 'Contoso', offer: 'Hardened', sku: 'base', versions: ['not a version'] } });
    assert.equal(bad.status, 400, bad.text);
  });
});
