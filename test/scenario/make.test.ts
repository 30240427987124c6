import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StateSnapshot } from '../../local-azure/control';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { vhdRouteSample } from '../fixtures/config/sampleRoutes';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, startTask, type TaskRun } from '../helpers/taskProcess';
import { waitFor } from '../helpers/waitFor';
import { emptyFactory, LAB } from '../scenarios/make/factory';

/**
 * The built MakeGoldenImageVMs task against the local Azure, run as the agent runs it, on the sample
 * configuration (three templates: Windows Server, SQL Server, Ubuntu) and an empty factory lab.
 * Assertions are on the local Azure's state: which VMs exist, tagged how, in which power state, with
 * which disk generation, and that no deployment is left in the resource group.
 */
const PASSWORD = 'Factory-Adm1n-Secret!';
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFactoryKey factory@example';

/** A copy of the sample configuration's VHD-route part (its Generation 1 templates), to change templates in. */
const copyConfiguration = vhdRouteSample;

const factory = (state: StateSnapshot) => state.labs.find((l) => l.name === LAB)!;
const vms = (state: StateSnapshot) =>
  factory(state)
    .vms.map(({ name, tags, provisioningState, powerState, hyperVGeneration, size }) => ({ name, imagePath: tags.ImagePath, provisioningState, powerState, hyperVGeneration, size }))
    .sort((a, b) => a.imagePath.localeCompare(b.imagePath));
const errors = (run: TaskRun) => run.issues.filter((i) => i.type === 'error').map((i) => i.code);

describe('MakeGoldenImageVMs against the local Azure', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let configuration: string;
  const inputs = () => ({
    ConfigurationLocation: configuration,
    DevTestLabName: LAB,
    machinePassword: PASSWORD,
    machineSshPublicKey: SSH_KEY,
    maxConcurrentJobs: '2',
    StandardTimeoutMinutes: '2',
  });
  const run = (extra: Record<string, string> = {}) => runTaskProcess('MakeGoldenImageVMs', { ...inputs(), ...extra }, azure.env);

  describe('an empty factory lab', () => {
    before(async () => {
      azure = await startLocalAzure({ scenario: emptyFactory() });
      configuration = copyConfiguration();
    });
    after(async () => {
      await azure?.stop();
      removeConfiguration(configuration);
    });

    it('a dry run prints the plan (names, sizes, generations) and changes nothing', async () => {
      const r = await run({ dryRun: 'true' });
      assert.equal(r.result, 'Succeeded', describeRun(r));
      const log = r.lines.join('\n');
      assert.match(log, /make +'Linux\/Ubuntu2204\.json' as VM 'linux-ubuntu2204' \(Linux, Standard_D2s_v5, Generation 1, Canonical\/0001-com-ubuntu-server-jammy\/22_04-lts\/22\.04\.202410020 \(latest\), then deprovision\)/);
      assert.match(log, /make +'WindowsServer\/Server2022-Datacenter\.json' as VM 'windowsser-[0-9a-f]{4}' \(Windows, Standard_D2s_v5, Generation 1, .*then sysprep\)/);
      assert.match(log, /Dry run: nothing was changed/);
      const state = await azure.state();
      assert.deepEqual(factory(state).vms, []);
      assert.deepEqual(state.deployments, []);
      assert.equal(r.outputs.VmNames, undefined);
      assert.match(r.summary ?? '', /dry run/);
    });

    it('masks a multi-line password line by line (task-lib refuses a multi-line secret) and never prints it', async () => {
      const password = 'First-Line-Pa55!\nSecond-Line-Pa55!';
      const r = await run({ machinePassword: password, dryRun: 'true' });
      assert.equal(r.result, 'Succeeded', describeRun(r));
      assert.ok(r.secrets.includes('First-Line-Pa55!') && r.secrets.includes('Second-Line-Pa55!'), r.secrets.join(', '));
      assert.ok(!r.stdout.split('\n').some((line) => !line.startsWith('##vso[task.setsecret]') && /Line-Pa55/.test(line)), 'no line of the password is printed');
    });

    it('makes every template a generalized, deallocated, tagged VM with the disk generation of its SKU, deletes its deployments, and never prints the password', async () => {
      const r = await run();
      assert.equal(r.result, 'Succeeded', describeRun(r));
      const state = await azure.state();
      const made = vms(state);
      assert.deepEqual(
        made.map(({ imagePath, provisioningState, powerState, hyperVGeneration }) => ({ imagePath, provisioningState, powerState, hyperVGeneration })),
        [
          { imagePath: 'Linux/Ubuntu2204.json', provisioningState: 'Succeeded', powerState: 'deallocated', hyperVGeneration: 'V1' },
          { imagePath: 'SQLServer/SQL2022-Developer.json', provisioningState: 'Succeeded', powerState: 'deallocated', hyperVGeneration: 'V1' },
          { imagePath: 'WindowsServer/Server2022-Datacenter.json', provisioningState: 'Succeeded', powerState: 'deallocated', hyperVGeneration: 'V1' },
        ],
      );
      const vm = factory(state).vms.find((v) => v.tags.ImagePath === 'WindowsServer/Server2022-Datacenter.json')!;
      assert.equal(vm.tags.ImageFactory, factory(state).id.toLowerCase());
      assert.match(vm.tags.ImageFactoryTemplateHash, /^[0-9a-f]{16}$/);
      assert.equal(vm.tags.ImageFactoryBaseImage, 'MicrosoftWindowsServer/WindowsServer/2022-datacenter/20348.2762.241004', 'latest, resolved to the newest marketplace version');
      assert.match(vm.artifacts[0].artifactId, /\/artifactSources\/public repo\/artifacts\/windows-sysprep$/);
      assert.deepEqual(state.deployments, [], 'every deployment is deleted when done');
      assert.deepEqual(r.outputs.VmNames.split(',').sort(), made.map((v) => v.name).sort());
      assert.ok(r.secrets.includes(PASSWORD), 'the password is masked');
      assert.ok(!r.stdout.split('\n').some((line) => !line.startsWith('##vso[task.setsecret]') && line.includes(PASSWORD)), 'the password is never printed');
      assert.match(r.summary ?? '', /3 template\(s\): 3 made/);
      assert.ok(r.progress.includes(100));
    });

    it('a rerun with nothing changed makes nothing: each VM waits in the factory', async () => {
      const before = vms(await azure.state());
      const r = await run();
      assert.equal(r.result, 'Succeeded', describeRun(r));
      assert.deepEqual(vms(await azure.state()), before);
      assert.equal((r.lines.join('\n').match(/skip +'.*waits in the factory/g) ?? []).length, 3, describeRun(r));
      assert.equal(r.outputs.VmNames, '');
    });

    it('a changed template is rebuilt, its stale VM replaced; the others are left', async () => {
      const file = path.join(configuration, 'GoldenImages', 'Linux', 'Ubuntu2204.json');
      const template = JSON.parse(fs.readFileSync(file, 'utf8'));
      template.resources[0].properties.notes = 'Ubuntu Server 22.04 LTS, rebuilt';
      fs.writeFileSync(file, JSON.stringify(template, null, 2));
      const before = vms(await azure.state());
      const oldDisk = factory(await azure.state()).vms.find((v) => v.tags.ImagePath === 'Linux/Ubuntu2204.json')!.diskId;
      const r = await run();
      assert.equal(r.result, 'Succeeded', describeRun(r));
      const state = await azure.state();
      assert.deepEqual(vms(state), before, 'same names and states');
      const rebuilt = factory(state).vms.find((v) => v.tags.ImagePath === 'Linux/Ubuntu2204.json')!;
      assert.equal(rebuilt.notes, 'Ubuntu Server 22.04 LTS, rebuilt');
      assert.notEqual(rebuilt.diskId, oldDisk, 'a new VM, with a new disk');
      assert.equal(r.outputs.VmNames, 'linux-ubuntu2204');
    });
    it('a newer marketplace version of a `latest` SKU rebuilds exactly the templates on that SKU, and the plan says why', async () => {
      const before = factory(await azure.state()).vms;
      const ubuntu = before.find((v) => v.tags.ImagePath === 'Linux/Ubuntu2204.json')!;
      assert.equal(ubuntu.tags.ImageFactoryBaseImage, 'Canonical/0001-com-ubuntu-server-jammy/22_04-lts/22.04.202410020');
      // As text 22.04.1202411050 sorts before 22.04.202410020; as a version it is the newer, and Azure lists by text.
      const published = await azure.request('PUT', '/__local/marketplace', {
        body: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts', versions: ['22.04.202409110', '22.04.202410020', '22.04.1202411050'] },
      });
      assert.equal(published.status, 200, published.text);
      const r = await run();
      assert.equal(r.result, 'Succeeded', describeRun(r));
      const log = r.lines.join('\n');
      assert.match(log, /make +'Linux\/Ubuntu2204\.json' as VM 'linux-ubuntu2204' .*replacing the stale VM\(s\) 'linux-ubuntu2204': the base image changed from Canonical\/0001-com-ubuntu-server-jammy\/22_04-lts\/22\.04\.202410020 to Canonical\/0001-com-ubuntu-server-jammy\/22_04-lts\/22\.04\.1202411050/, describeRun(r));
      assert.equal((log.match(/skip +'.*waits in the factory/g) ?? []).length, 2, describeRun(r));
      assert.equal(r.outputs.VmNames, 'linux-ubuntu2204');
      const after = factory(await azure.state()).vms;
      const rebuilt = after.find((v) => v.tags.ImagePath === 'Linux/Ubuntu2204.json')!;
      assert.equal(rebuilt.tags.ImageFactoryBaseImage, 'Canonical/0001-com-ubuntu-server-jammy/22_04-lts/22.04.1202411050');
      assert.notEqual(rebuilt.diskId, ubuntu.diskId, 'a new VM, with a new disk');
      for (const other of before.filter((v) => v !== ubuntu)) {
        assert.equal(after.find((v) => v.name === other.name)?.diskId, other.diskId, `'${other.name}' is left as it was`);
      }
    });

    it('once SnapImagesFromVMs saved the VMs (carrying the template hash) and CleanUpFactory deleted them, a rerun makes nothing', async () => {
      const snap = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: LAB }, azure.env);
      assert.equal(snap.result, 'Succeeded', describeRun(snap));
      const cleanup = await runTaskProcess('CleanUpFactory', { DevTestLabName: LAB }, azure.env);
      assert.equal(cleanup.result, 'Succeeded', describeRun(cleanup));
      const state = await azure.state();
      assert.deepEqual(factory(state).vms, []);
      assert.ok(factory(state).blobs.every((b) => /^[0-9a-f]{16}$/.test(b.metadata.templatehash)), JSON.stringify(factory(state).blobs.map((b) => b.metadata)));
      const r = await run();
      assert.equal(r.result, 'Succeeded', describeRun(r));
      assert.equal((r.lines.join('\n').match(/skip +'.*was made from this template version/g) ?? []).length, 3, describeRun(r));
      assert.deepEqual(factory(await azure.state()).vms, []);
    });
  });

  describe('failures', () => {
    before(async () => {
      configuration = copyConfiguration();
    });
    afterEach(async () => {
      await azure?.stop();
    });
    after(() => removeConfiguration(configuration));

    it('a template whose artifact fails is reported with the deployment\'s error and deleted; the rest are made', async () => {
      azure = await startLocalAzure({ scenario: emptyFactory(), faults: [{ operation: 'VirtualMachines_ApplyArtifacts', kind: 'lroFailed', match: 'linux-ubuntu2204', count: 1 }] });
      const r = await run();
      assert.equal(r.result, 'Failed', describeRun(r));
      assert.deepEqual(errors(r), ['IF6001']);
      const issue = r.issues.find((i) => i.code === 'IF6001')!;
      assert.match(issue.message, /deployment 'imagefactory-linux-ubuntu2204' of VM 'linux-ubuntu2204'.*ResourceDeploymentFailure.*linux-deprovision/);
      const state = await azure.state();
      assert.deepEqual(vms(state).map((v) => v.imagePath), ['SQLServer/SQL2022-Developer.json', 'WindowsServer/Server2022-Datacenter.json']);
      assert.deepEqual(state.deployments, []);
    });

    it('cancel deletes what the run started and had not finished', async () => {
      azure = await startLocalAzure({ scenario: emptyFactory({ vmCreateDurationMs: 20_000 }) });
      const task = startTask('MakeGoldenImageVMs', inputs(), azure.env);
      const started = await waitFor(async () => ((await azure.state()).deployments.length >= 2 ? true : undefined), 20_000);
      assert.ok(started, 'deployments started');
      task.child.kill('SIGINT');
      const r = await task.done;
      assert.equal(r.result, 'Cancelled', describeRun(r));
      const state = await azure.state();
      assert.deepEqual(factory(state).vms.map((v) => v.name), [], 'no VM is left');
      assert.deepEqual(state.deployments, [], 'no deployment is left');
    });

    it('a VM not deallocated within StandardTimeoutMinutes fails with IF6002 and is deleted', async function () {
      // The smallest timeout the input takes is 1 minute, so this test runs a little over a minute.
      this.timeout(110_000);
      azure = await startLocalAzure({ scenario: emptyFactory({ vmShutdownDurationMs: 600_000 }) });
      const r = await run({ ImagePaths: 'Linux', StandardTimeoutMinutes: '1' });
      assert.equal(r.result, 'Failed', describeRun(r));
      assert.deepEqual(errors(r), ['IF6002']);
      assert.match(r.issues.find((i) => i.code === 'IF6002')!.message, /VM 'linux-ubuntu2204' in lab '.*' was not deallocated within 1 minute\(s\).*It was deleted/);
      const state = await azure.state();
      assert.deepEqual(factory(state).vms, [], 'the VM is deleted');
      assert.deepEqual(state.deployments, [], 'no deployment is left');
    });

    it('kill -9 mid-run, then a rerun: no orphan VM or deployment, every template made', async () => {
      azure = await startLocalAzure({ scenario: emptyFactory({ vmCreateDurationMs: 1500 }) });
      const task = startTask('MakeGoldenImageVMs', { ...inputs(), maxConcurrentJobs: '3' }, azure.env);
      const started = await waitFor(async () => ((await azure.state()).deployments.length >= 3 ? true : undefined), 20_000);
      assert.ok(started, 'deployments started');
      task.child.kill('SIGKILL');
      await task.done;
      const r = await run();
      assert.equal(r.result, 'Succeeded', describeRun(r));
      assert.match(r.lines.join('\n'), /wait +'.*' was started by an earlier run/);
      const state = await azure.state();
      assert.equal(vms(state).filter((v) => v.powerState === 'deallocated' && v.provisioningState === 'Succeeded').length, 3);
      assert.equal(factory(state).vms.length, 3, 'no orphan VM');
      assert.deepEqual(state.deployments, [], 'no orphan deployment');
    });
  });
});
