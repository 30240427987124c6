import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Scenario } from '../../local-azure/scenario';
import { DEFAULT_MANAGED_IDENTITIES } from '../../local-azure/identity/state';
import { ScenarioError } from '../../local-azure/scenarioChecker';
import { DEFAULT_SETTINGS } from '../../local-azure/settings';
import { AzureState, validateScenario } from '../../local-azure/state';
import { runConnection } from '../helpers/connectionRun';
import { startLocalAzure } from '../helpers/localAzure';

/**
 * The local Azure as a tool: scenario checking and defaults, the command line, and a lifecycle in which
 * no process outlives the one that started it.
 */

const REPO = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(REPO, 'out', 'local-azure', 'cli.js');
const HELPER = path.join(REPO, 'out', 'test', 'helpers', 'localAzure.js');
const SUB = 'e1f2a3b4-0000-4000-8000-000000000001';

function problemsOf(raw: unknown): string[] {
  try {
    validateScenario(raw, 'test.json');
  } catch (error) {
    assert.ok(error instanceof ScenarioError, String(error));
    assert.match(error.message, /^test\.json is not a valid scenario:/);
    return error.problems;
  }
  assert.fail('expected the scenario to be refused');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads a child's stdout until `marker` appears. */
function outputUntil(child: ChildProcess, marker: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${marker} in: ${text}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (marker.test(text)) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${marker}: ${text}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function getJson(url: string, caPath: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: fs.readFileSync(caPath) }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

describe('local Azure scenarios and lifecycle', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'local-azure-test-'));
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('scenario files', () => {
    it('reports every problem at once, each with its JSON path and what is expected', () => {
      const problems = problemsOf({
        labs: [
          {
            subscriptionId: 'not-a-guid',
            resourceGroup: 'RG',
            name: 'Lab',
            vms: [{ name: 'vm1', powerState: 'paused', diskSizeGB: 1.5 }, { name: 'VM1' }],
            vhds: [{ name: 'a.vhd', sizeBytes: 1000, metadata: { 'bad-name': 'x' } }],
          },
          { subscriptionId: SUB, resourceGroup: 'RG', name: 'Twin', storageAccount: 'shared' },
          { subscriptionId: SUB, resourceGroup: 'RG', name: 'twin', storageAccount: 'shared', locaton: 'westus' },
        ],
        settings: { pageSize: 0, copyRateMBps: -1 },
        faults: [{ operation: 'Labs_Get', kind: 'explode' }],
      });
      const expected = [
        /^\$\.labs\[0\]\.subscriptionId: must be a GUID \(got "not-a-guid"\)$/,
        /^\$\.labs\[0\]\.vms\[0\]\.powerState: must be one of deallocated, stopped, running, starting, deallocating, stopping \(got "paused"\)$/,
        /^\$\.labs\[0\]\.vms\[0\]\.diskSizeGB: must be a whole number$/,
        /^\$\.labs\[0\]\.vms\[1\]\.name: VM VM1 is listed twice$/,
        /^\$\.labs\[0\]\.vhds\[0\]\.sizeBytes: must be a multiple of 512/,
        /^\$\.labs\[0\]\.vhds\[0\]\.metadata\.bad-name: metadata names must be/,
        /^\$\.labs\[2\]\.locaton: unknown field; did you mean "location"\?$/,
        /^\$\.labs\[2\]\.name: lab twin in resource group RG is listed twice$/,
        /^\$\.labs\[2\]\.storageAccount: storage account shared is used by two labs$/,
        /^\$\.settings\.pageSize: must be at least 1$/,
        /^\$\.settings\.copyRateMBps: must be more than 0$/,
        /^\$\.faults\[0\]\.kind: must be one of status, reset, slowLro, lroFailed, copyFailed/,
        /^\$\.faults\[0\]: needs count or probability$/,
      ];
      for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in:\n${problems.join('\n')}`);
      assert.equal(problems.length, expected.length, problems.join('\n'));
      assert.deepEqual(problemsOf({}), ['$.labs: is required (an empty list is fine)']);
      assert.deepEqual(
        problemsOf({
          labs: [],
          managedIdentities: [{ type: 'SystemAssigned' }, { type: 'SystemAssigned' }, { type: 'UserAssigned' }, { type: 'Shared', clientId: 'x' }],
        }),
        [
          '$.managedIdentities[1].type: a machine has at most one system-assigned identity',
          '$.managedIdentities[2].clientId: is required',
          '$.managedIdentities[3].type: must be one of SystemAssigned, UserAssigned (got "Shared")',
          '$.managedIdentities[3].clientId: must be a GUID (got "x")',
        ],
      );
    });

    it('gives every field a default', () => {
      const state = new AzureState({ labs: [{ subscriptionId: SUB, resourceGroup: 'RG', name: 'My_Lab-1', vms: [{ name: 'vm' }], customImages: [{ name: 'img' }] }] });
      assert.match(state.identity.tenantId, /^[0-9a-f-]{36}$/);
      assert.equal(state.identity.principals.length, 1);
      assert.ok(state.identity.defaultPrincipal.clientSecret);
      assert.equal(state.identity.defaultPrincipal.federatedCredentials[0].subject, 'sc://LocalOrg/ImageFactory/LocalAzure');
      assert.deepEqual(state.settings, DEFAULT_SETTINGS);
      assert.deepEqual(
        state.identity.managedIdentities.map((m) => [m.managedIdentity, m.clientId]),
        DEFAULT_MANAGED_IDENTITIES.map((m) => [m.type, m.clientId]),
        'the machine has a system-assigned and a user-assigned identity',
      );
      assert.equal(new AzureState({ labs: [], managedIdentities: [] }).identity.findManagedIdentity({}), undefined);
      assert.deepEqual(state.resourceManager.subscriptions.map((s) => s.subscriptionId), [SUB]);
      const lab = state.devTestLabs.labs[0];
      assert.equal(lab.location, 'westus2');
      assert.match(lab.storageAccount, /^amylab1\d{10}$/);
      assert.equal(lab.denyAccess, false);
      const vm = lab.vms[0];
      assert.deepEqual([vm.compute.osType, vm.compute.powerState, vm.compute.provisioningState, vm.compute.osDisk.sizeGB], ['Windows', 'deallocated', 'Succeeded', 1]);
      assert.match(vm.compute.resourceGroup, /^My_Lab-1-vm-\d{6}$/);
      assert.deepEqual([lab.customImages[0].osType, lab.customImages[0].provisioningState], ['Windows', 'Succeeded']);
      // The same scenario gives the same ids on every start.
      const again = new AzureState({ labs: [{ subscriptionId: SUB, resourceGroup: 'RG', name: 'My_Lab-1', vms: [{ name: 'vm' }] }] });
      assert.equal(again.devTestLabs.labs[0].vms[0].compute.osDisk.name, vm.compute.osDisk.name);
      assert.equal(again.devTestLabs.labs[0].storageAccount, lab.storageAccount);
    });

    it('refuses a bad VM added through the control endpoint with the same messages', async () => {
      const azure = await startLocalAzure({ scenario: { labs: [{ subscriptionId: SUB, resourceGroup: 'RG', name: 'Lab' }] } });
      try {
        const response = await azure.request('POST', '/__local/labs/Lab/vms', { body: { name: 'x', powerState: 'paused' } });
        assert.equal(response.status, 400);
        assert.match(response.text, /vm\.powerState: must be one of/);
        const missing = await azure.request('POST', '/__local/labs/NoLab/vms', { body: { name: 'x' } });
        assert.equal(missing.status, 404);
        await azure.addVm('Lab', { name: 'added', powerState: 'running', osType: 'Linux' });
        await azure.updateVm('Lab', 'added', { powerState: 'deallocated', tags: { a: 'b' } });
        const vm = (await azure.state()).labs[0].vms[0];
        assert.deepEqual([vm.name, vm.powerState, vm.diskState, vm.tags], ['added', 'deallocated', 'Reserved', { a: 'b' }]);
      } finally {
        await azure.stop();
      }
    });
  });

  describe('command line', () => {
    const scenarioFile = () => {
      const file = path.join(tmp, 'scenario.json');
      fs.writeFileSync(file, JSON.stringify({ labs: [{ subscriptionId: SUB, resourceGroup: 'RG', name: 'Lab', vms: [{ name: 'vm' }] }] } satisfies Scenario));
      return file;
    };

    it('runs in the foreground, prints the service connection environment, and stops when stdin closes', async () => {
      const child = spawn(process.execPath, [CLI, '--scenario', scenarioFile(), '--ca-dir', path.join(tmp, 'ca'), '--exit-on-stdin-close'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      try {
        const output = await outputUntil(child, /# Running/);
        const env: Record<string, string> = {};
        for (const match of output.matchAll(/^export (\w+)='([^']*)'$/gm)) env[match[1]] = match[2];
        assert.deepEqual(
          [
            'ENDPOINT_URL_LocalAzure',
            'ENDPOINT_AUTH_LocalAzure',
            'ENDPOINT_DATA_LocalAzure_SUBSCRIPTIONID',
            'ENDPOINT_DATA_LocalAzure_ENVIRONMENT',
            'ENDPOINT_DATA_LocalAzure_ENVIRONMENTAUTHORITYURL',
            'ENDPOINT_DATA_LocalAzure_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID',
            'NODE_EXTRA_CA_CERTS',
            'INPUT_AZURESUBSCRIPTION',
          ].filter((key) => !env[key]),
          [],
        );
        const auth = JSON.parse(env.ENDPOINT_AUTH_LocalAzure);
        assert.equal(auth.scheme, 'ServicePrincipal');
        assert.deepEqual(Object.keys(auth.parameters).sort(), ['authenticationType', 'serviceprincipalid', 'serviceprincipalkey', 'tenantid']);
        assert.equal(auth.parameters.authenticationType, 'spnKey');
        assert.equal(env.ENDPOINT_DATA_LocalAzure_SUBSCRIPTIONID, SUB);
        assert.equal(env.ENDPOINT_DATA_LocalAzure_ENVIRONMENT, 'LocalAzure');
        assert.equal(env.ENDPOINT_DATA_LocalAzure_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID, 'https://management.core.windows.net/');
        assert.equal(env.INPUT_AZURESUBSCRIPTION, 'LocalAzure');
        assert.equal(env.NODE_EXTRA_CA_CERTS, path.join(tmp, 'ca', 'ca.pem'));
        const info = await getJson(`${env.ENDPOINT_URL_LocalAzure}__local/info`, env.NODE_EXTRA_CA_CERTS);
        assert.equal(info.status, 200);
        assert.equal(info.body.tenantId, auth.parameters.tenantid);

        child.stdin!.end();
        assert.equal(await exitOf(child), 0);
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('prints a working environment for each scheme: --scheme ServicePrincipalCertificate, WorkloadIdentityFederation, ManagedServiceIdentity', async () => {
      const file = scenarioFile();
      const userAssigned = DEFAULT_MANAGED_IDENTITIES.find((m) => m.type === 'UserAssigned')!.clientId!;
      const cases: { args: string[]; scheme: string; expect: (env: Record<string, string>) => void }[] = [
        {
          args: ['--scheme', 'ServicePrincipalCertificate'],
          scheme: 'ServicePrincipal',
          expect: (env) => {
            assert.equal(env.ENDPOINT_AUTH_PARAMETER_LocalAzure_AUTHENTICATIONTYPE, 'spnCertificate');
            assert.match(env.ENDPOINT_AUTH_PARAMETER_LocalAzure_SERVICEPRINCIPALCERTIFICATE, /-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN CERTIFICATE-----/);
            assert.equal(env.ENDPOINT_AUTH_PARAMETER_LocalAzure_SERVICEPRINCIPALKEY, undefined);
          },
        },
        {
          args: ['--scheme', 'workloadidentityfederation'],
          scheme: 'WorkloadIdentityFederation',
          expect: (env) => {
            assert.ok(env.SYSTEM_OIDCREQUESTURI && env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN);
            assert.equal(env.ENDPOINT_AUTH_PARAMETER_LocalAzure_SERVICEPRINCIPALKEY, undefined);
          },
        },
        {
          args: ['--scheme', 'ManagedServiceIdentity', '--client-id', userAssigned],
          scheme: 'ManagedServiceIdentity',
          expect: (env) => {
            assert.equal(env.ENDPOINT_DATA_LocalAzure_MSICLIENTID, userAssigned);
            assert.match(env.IDENTITY_ENDPOINT, /^https:\/\/127\.0\.0\.1:\d+\//);
            assert.ok(env.IDENTITY_HEADER);
          },
        },
      ];
      for (const { args, scheme, expect } of cases) {
        const child = spawn(process.execPath, [CLI, '--scenario', file, '--ca-dir', path.join(tmp, 'ca'), '--exit-on-stdin-close', ...args], {
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        try {
          const output = await outputUntil(child, /# Running/);
          const env: Record<string, string> = {};
          for (const match of output.matchAll(/^export (\w+)='([^']*)'$/gm)) env[match[1]] = match[2];
          assert.equal(env.ENDPOINT_AUTH_SCHEME_LocalAzure, scheme, output);
          assert.equal(JSON.parse(env.ENDPOINT_AUTH_LocalAzure).scheme, scheme);
          expect(env);
          // The printed environment is all a task needs to sign in.
          const run = await runConnection('findLab', { connectionId: 'LocalAzure', subscriptionId: SUB, lab: 'Lab' }, env);
          assert.ok(run.ok, `${args.join(' ')}: ${JSON.stringify(run)}`);
          child.stdin!.end();
          assert.equal(await exitOf(child), 0);
        } finally {
          child.kill('SIGKILL');
        }
      }

      const unknown = spawn(process.execPath, [CLI, '--scenario', file, '--scheme', 'Password'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      unknown.stderr!.on('data', (chunk) => (stderr += chunk));
      assert.equal(await exitOf(unknown), 2);
      assert.match(stderr, /--scheme must be one of ServicePrincipal, ServicePrincipalCertificate, WorkloadIdentityFederation, ManagedServiceIdentity, not 'Password'/);
    });

    it('stops on SIGTERM, and refuses a bad scenario with its problems and exit code 2', async () => {
      const child = spawn(process.execPath, [CLI, '--scenario', scenarioFile(), '--ca-dir', path.join(tmp, 'ca')], { stdio: ['ignore', 'pipe', 'inherit'] });
      await outputUntil(child, /# Running/);
      child.kill('SIGTERM');
      assert.equal(await exitOf(child), 0);

      const bad = path.join(tmp, 'bad.json');
      fs.writeFileSync(bad, JSON.stringify({ labs: [{ subscriptionId: SUB, resourceGroup: 'RG' }] }));
      const refused = spawn(process.execPath, [CLI, '--scenario', bad, '--ca-dir', path.join(tmp, 'ca')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      refused.stderr!.on('data', (chunk) => (stderr += chunk));
      assert.equal(await exitOf(refused), 2);
      assert.match(stderr, /bad\.json is not a valid scenario:\n {2}- \$\.labs\[0\]\.name: is required/);
    });
  });

  describe('lifecycle', () => {
    it('starts with a scenario and stops', async () => {
      const scenario: Scenario = {
        labs: Array.from({ length: 3 }, (_, i) => ({
          subscriptionId: SUB,
          resourceGroup: `RG${i}`,
          name: `Lab${i}`,
          vms: Array.from({ length: 4 }, (_, j) => ({ name: `vm${j}`, diskSizeGB: 127 })),
          vhds: [{ name: 'image.vhd' }],
        })),
      };
      const azure = await startLocalAzure({ scenario });
      try {
        const state = await azure.state();
        assert.equal(state.labs.flatMap((l) => l.vms).length, 12);
        assert.equal(state.labs[0].blobs[0].sizeBytes, 1024 ** 3 + 512);
      } finally {
        await azure.stop();
      }
      await waitUntil(() => !isAlive(azure.pid), 5000, 'the process ends on stop');
    });

    it('never outlives a test process that dies without stopping it', async () => {
      const script = `
        require(${JSON.stringify(HELPER)})
          .startLocalAzure({ scenario: { labs: [] } })
          .then((azure) => { process.stdout.write('pid ' + azure.pid + '\\n'); setInterval(() => {}, 1000); });`;
      const runner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const output = await outputUntil(runner, /pid \d+\n/);
      const pid = Number(/pid (\d+)/.exec(output)![1]);
      assert.ok(isAlive(pid));
      runner.kill('SIGKILL');
      await waitUntil(() => !isAlive(pid), 5000, 'the local Azure exits once its parent is gone');
    });
  });
});
