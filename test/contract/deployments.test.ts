import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { Scenario } from '../../local-azure/scenario';
import { ARM_SCOPE, type LocalAzureProcess, sdkClients, startLocalAzure } from '../helpers/localAzure';
import { waitFor } from '../helpers/waitFor';

/**
 * Resource Manager deployments of golden-image templates through the official clients: the template
 * evaluated, the lab VM brought up through its phases with the generation of its SKU, failures reported
 * as ARM reports them (the deployment's error and its failed operations), and anything the local Azure
 * does not evaluate refused with InvalidTemplate naming it.
 */
const SUB = '5a1e0b7c-2d3f-4a6b-9c8d-0e1f2a3b4c5d';
const RG = 'Factory-rg';
const LAB = 'Factory';
const ROOT = path.resolve(__dirname, '..', '..', '..');
const template = (imagePath: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'Configuration', 'GoldenImages', imagePath), 'utf8'));
const PASSWORD = 'Lab-Admin-Pa55word!';

const scenario: Scenario = {
  labs: [{ subscriptionId: SUB, resourceGroup: RG, name: LAB, location: 'westus2' }],
  settings: { vmCreateDurationMs: 150, artifactDurationMs: 100, vmShutdownDurationMs: 100, lroDurationMs: 50, lroRetryAfterSeconds: 0 },
};

/** The sample Windows template made from the Generation 2 only Azure Edition SKU. */
function azureEdition(): Record<string, unknown> {
  const t = template('WindowsServer/Server2022-Datacenter.json');
  t.resources[0].properties.galleryImageReference.sku = '2022-datacenter-azure-edition';
  return t;
}

function withArtifact(t: Record<string, unknown>, artifact: string): Record<string, unknown> {
  const copy = structuredClone(t) as { resources: { properties: Record<string, unknown> }[] };
  copy.resources[0].properties.artifacts = [
    { artifactId: `[resourceId('Microsoft.DevTestLab/labs/artifactSources/artifacts', parameters('labName'), 'public repo', '${artifact}')]` },
  ];
  return copy;
}

describe('Resource Manager deployments (local Azure, @azure/arm-resources)', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let resources: ResourceManagementClient;
  let clients: ReturnType<typeof sdkClients>;

  before(async () => {
    azure = await startLocalAzure({ scenario });
    clients = sdkClients(azure, SUB);
    resources = new ResourceManagementClient(clients.credential, SUB, { endpoint: azure.armUrl, $host: azure.armUrl, credentialScopes: [ARM_SCOPE], retryOptions: { maxRetries: 2, retryDelayInMs: 20 } });
  });
  after(async () => {
    await azure?.stop();
  });

  const windowsParameters = (vmName: string) => ({ labName: { value: LAB }, newVMName: { value: vmName }, userName: { value: 'factoryadmin' }, password: { value: PASSWORD } });

  it('deploys a template with the sysprep artifact: the VM ends generalized and deallocated, its disk Generation 2 as its SKU implies', async () => {
    const result = await resources.deployments.beginCreateOrUpdateAndWait(
      RG,
      'make-ws2022',
      { properties: { mode: 'Incremental', template: withArtifact(azureEdition(), 'windows-sysprep'), parameters: windowsParameters('ws2022') } },
      { updateIntervalInMs: 20 },
    );
    assert.equal(result.properties?.provisioningState, 'Succeeded');
    assert.deepEqual(result.properties?.parameters?.password, { type: 'SecureString' }, 'a secure parameter is never shown');
    assert.equal((result.properties?.parameters as Record<string, { value?: string }>).size?.value, 'Standard_D2s_v5', 'the default value is used');
    const vm = await clients.devTestLabs.virtualMachines.get(RG, LAB, 'ws2022');
    assert.equal(vm.provisioningState, 'Succeeded');
    assert.equal(vm.artifactDeploymentStatus?.deploymentStatus, 'Succeeded');
    assert.equal(vm.galleryImageReference?.sku, '2022-datacenter-azure-edition');
    await waitFor(async () => (await azure.state()).labs[0].vms.find((v) => v.name === 'ws2022')?.powerState === 'deallocated' || undefined, 10_000);
    const state = await azure.state();
    const saved = state.labs[0].vms.find((v) => v.name === 'ws2022')!;
    assert.equal(saved.hyperVGeneration, 'V2');
    const disk = await clients.compute.disks.get(saved.diskId.split('/')[4], saved.diskName);
    assert.equal(disk.hyperVGeneration, 'V2');

    const listed = [];
    for await (const op of resources.deploymentOperations.list(RG, 'make-ws2022')) listed.push(op);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].properties?.provisioningState, 'Succeeded');
    assert.equal(listed[0].properties?.targetResource?.resourceType, 'Microsoft.DevTestLab/labs/virtualmachines');
  });

  it('deploys the sample Windows 11 template as a Generation 2 Trusted Launch VM (Azure\'s default) with its data disk; a Generation 1 VM stays Standard', async () => {
    const deploy = (name: string, t: Record<string, unknown>, vmName: string) =>
      resources.deployments.beginCreateOrUpdateAndWait(RG, name, { properties: { mode: 'Incremental', template: t, parameters: windowsParameters(vmName) } }, { updateIntervalInMs: 20 });
    assert.equal((await deploy('make-win11', template('Windows11/Enterprise.json'), 'win11')).properties?.provisioningState, 'Succeeded');
    assert.equal((await deploy('make-ws2022-g1', template('WindowsServer/Server2022-Datacenter.json'), 'ws2022-g1')).properties?.provisioningState, 'Succeeded');
    const vms = (await azure.state()).labs[0].vms;
    const win11 = vms.find((v) => v.name === 'win11')!;
    assert.deepEqual([win11.hyperVGeneration, win11.securityType, win11.dataDiskIds.length], ['V2', 'TrustedLaunch', 1]);
    const dataDisk = await clients.compute.disks.get(win11.dataDiskIds[0].split('/')[4], win11.dataDiskIds[0].split('/').pop()!);
    assert.equal(dataDisk.diskSizeGB, 32, 'the size dataDiskParameters asked for');
    const osDisk = await clients.compute.disks.get(win11.diskId.split('/')[4], win11.diskName);
    assert.equal(osDisk.securityProfile?.securityType, 'TrustedLaunch');
    const gen1 = vms.find((v) => v.name === 'ws2022-g1')!;
    assert.deepEqual([gen1.hyperVGeneration, gen1.securityType, gen1.dataDiskIds.length], ['V1', 'Standard', 0]);

    const existing = template('Windows11/Enterprise.json');
    existing.resources[0].properties.dataDiskParameters = [{ existingLabDiskId: '/subscriptions/x/disks/d' }];
    await assert.rejects(deploy('make-win11-existing', existing, 'win11-b'), /DeploymentFailed/);
    const ops = [];
    for await (const op of resources.deploymentOperations.list(RG, 'make-win11-existing')) ops.push(op);
    assert.match(JSON.stringify(ops[0].properties?.statusMessage), /existingLabDiskId/);
  });

  it('a failing artifact fails the deployment with its error in the failed operation; the VM stays, Failed', async () => {
    await azure.setFaults([{ operation: 'VirtualMachines_ApplyArtifacts', kind: 'lroFailed', count: 1, match: 'ubuntu-bad' }]);
    const t = withArtifact(template('Linux/Ubuntu2204.json'), 'linux-deprovision');
    const parameters = { labName: { value: LAB }, newVMName: { value: 'ubuntu-bad' }, userName: { value: 'factory' }, sshKey: { value: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE factory' } };
    await assert.rejects(
      resources.deployments.beginCreateOrUpdateAndWait(RG, 'make-ubuntu-bad', { properties: { mode: 'Incremental', template: t, parameters } }, { updateIntervalInMs: 20 }),
      /DeploymentFailed/,
    );
    const deployment = await resources.deployments.get(RG, 'make-ubuntu-bad');
    assert.equal(deployment.properties?.provisioningState, 'Failed');
    assert.equal(deployment.properties?.error?.details?.[0]?.code, 'ResourceDeploymentFailure');
    const ops = [];
    for await (const op of resources.deploymentOperations.list(RG, 'make-ubuntu-bad')) ops.push(op);
    assert.equal(ops[0].properties?.provisioningState, 'Failed');
    assert.match(JSON.stringify(ops[0].properties?.statusMessage), /linux-deprovision/);
    const vm = await clients.devTestLabs.virtualMachines.get(RG, LAB, 'ubuntu-bad');
    assert.equal(vm.provisioningState, 'Failed');
    assert.equal(vm.artifactDeploymentStatus?.deploymentStatus, 'Failed');
  });

  it('refuses a template with a function it does not evaluate, naming it, and a missing parameter, with 400 InvalidTemplate', async () => {
    const t = template('WindowsServer/Server2022-Datacenter.json');
    t.resources[0].name = "[concat(parameters('labName'), '/', uniqueString(resourceGroup().id))]";
    await assert.rejects(
      resources.deployments.beginCreateOrUpdateAndWait(RG, 'bad-function', { properties: { mode: 'Incremental', template: t, parameters: windowsParameters('x1') } }),
      (error: { statusCode?: number; code?: string; message: string }) => {
        assert.equal(error.statusCode, 400);
        assert.equal(error.code, 'InvalidTemplate');
        assert.match(error.message, /'uniqueString'/);
        return true;
      },
    );
    const { password: _omitted, ...withoutPassword } = windowsParameters('x2');
    await assert.rejects(
      resources.deployments.beginCreateOrUpdateAndWait(RG, 'no-password', { properties: { mode: 'Incremental', template: template('WindowsServer/Server2022-Datacenter.json'), parameters: withoutPassword } }),
      (error: { code?: string; message: string }) => error.code === 'InvalidTemplate' && /'password' is not provided/.test(error.message),
    );
    await assert.rejects(resources.deployments.get(RG, 'bad-function'), (error: { statusCode?: number }) => error.statusCode === 404);
  });

  it('fails a VM of a size Azure does not know, and a password Azure would refuse, in the deployment operation', async () => {
    const parameters = { ...windowsParameters('ws-badsize'), size: { value: 'Standard_Q9_v9' } };
    await assert.rejects(
      resources.deployments.beginCreateOrUpdateAndWait(RG, 'bad-size', { properties: { mode: 'Incremental', template: template('WindowsServer/Server2022-Datacenter.json'), parameters } }, { updateIntervalInMs: 20 }),
    );
    const ops = [];
    for await (const op of resources.deploymentOperations.list(RG, 'bad-size')) ops.push(op);
    assert.match(JSON.stringify(ops[0].properties?.statusMessage), /InvalidVmSize/);
    const weak = { ...windowsParameters('ws-weak'), password: { value: 'short' } };
    await assert.rejects(
      resources.deployments.beginCreateOrUpdateAndWait(RG, 'weak-password', { properties: { mode: 'Incremental', template: template('WindowsServer/Server2022-Datacenter.json'), parameters: weak } }, { updateIntervalInMs: 20 }),
    );
    const state = await azure.state();
    assert.equal(state.labs[0].vms.some((v) => v.name === 'ws-badsize' || v.name === 'ws-weak'), false, 'no VM is made');
  });

  it('deletes deployments from the history, leaving what they made', async () => {
    const names: string[] = [];
    for await (const d of resources.deployments.listByResourceGroup(RG)) names.push(d.name!);
    assert.ok(names.includes('make-ws2022'), names.join(', '));
    await resources.deployments.beginDeleteAndWait(RG, 'make-ws2022', { updateIntervalInMs: 20 });
    await assert.rejects(resources.deployments.get(RG, 'make-ws2022'), (error: { code?: string }) => error.code === 'DeploymentNotFound');
    const vm = await clients.devTestLabs.virtualMachines.get(RG, LAB, 'ws2022');
    assert.equal(vm.name, 'ws2022');
  });
});
