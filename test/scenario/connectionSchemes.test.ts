import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { ConnectionScheme } from '../../local-azure/serviceConnection';
import { outputLines, parseLoggingCommand } from '../helpers/loggingCommands';
import { CONNECTION_ID, type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, type TaskRun } from '../helpers/taskProcess';

/**
 * A task, bundled and run as the agent runs it (real task-lib, INPUT_* and ENDPOINT_* variables), signs
 * in with every scheme a service connection can use, and its log, debug output included (system.debug,
 * `npm run task -- ... --debug`), holds no secret of the connection other than where the task registers
 * it with task.setsecret for the agent to mask.
 */
const SUB = '5e8a1c3d-7b2f-4e69-8d0a-4c1b2e3f5a6d';
const LAB = 'Factory';
const USER_ASSIGNED = '6b2e4d8f-1a3c-4e57-9b0d-2f4a6c8e0b13';
/** Access tokens and OIDC tokens: JWTs. */
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/;

interface Scheme {
  name: string;
  env(azure: LocalAzureProcess): Promise<Record<string, string>>;
  /** The connection's secrets, as the agent hands them to the task: each must be registered for masking. */
  secrets(env: Record<string, string>): string[];
  /** Secrets of the machine the task only passes on (the identity endpoint's header). */
  machineSecrets?(env: Record<string, string>): string[];
}

const authParameter = (env: Record<string, string>, key: string) => env[`ENDPOINT_AUTH_PARAMETER_${CONNECTION_ID}_${key.toUpperCase()}`] ?? '';
/** The lines of a PEM's private key, each a secret on its own: the agent masks line by line. */
const privateKeyLines = (pem: string) =>
  (/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END [A-Z ]*PRIVATE KEY-----/.exec(pem)?.[1] ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length >= 16);

const schemes: Scheme[] = [
  {
    name: 'service principal with a secret',
    env: async (azure) => azure.connectionEnv({ scheme: 'ServicePrincipal' }),
    secrets: (env) => [authParameter(env, 'serviceprincipalkey')],
  },
  {
    name: 'service principal with a certificate',
    env: async (azure) => azure.connectionEnv({ scheme: 'ServicePrincipalCertificate' }),
    secrets: (env) => {
      const pem = authParameter(env, 'servicePrincipalCertificate');
      assert.ok(/PRIVATE KEY/.test(pem), 'the connection holds a PEM with its private key');
      return [pem, ...privateKeyLines(pem)];
    },
  },
  {
    name: 'workload identity federation',
    env: async (azure) => azure.connectionEnv({ scheme: 'WorkloadIdentityFederation' }),
    secrets: (env) => [env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN ?? ''],
  },
  {
    name: 'system-assigned managed identity',
    env: async (azure) => azure.connectionEnv({ scheme: 'ManagedServiceIdentity' as ConnectionScheme }),
    secrets: () => [],
    machineSecrets: (env) => [env.IDENTITY_HEADER ?? ''],
  },
  {
    name: 'user-assigned managed identity',
    env: async (azure) => azure.connectionEnv({ scheme: 'ManagedServiceIdentity', clientId: USER_ASSIGNED }),
    secrets: () => [],
    machineSecrets: (env) => [env.IDENTITY_HEADER ?? ''],
  },
];

/** Lines of the output, raw and as the agent reads each command, except the registrations themselves. */
function printed(run: TaskRun): string[] {
  const texts: string[] = [];
  for (const line of outputLines(`${run.stdout}\n${run.stderr}`)) {
    const command = parseLoggingCommand(line);
    if (command?.command === 'task.setsecret') continue;
    texts.push(line);
    if (command) texts.push(command.data, ...Object.values(command.properties));
  }
  return texts;
}

const CONFIGURATION = path.resolve(__dirname, '..', '..', '..', 'Configuration');

describe('a task signing in with each kind of service connection', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        managedIdentities: [{ type: 'SystemAssigned' }, { type: 'UserAssigned', clientId: USER_ASSIGNED }],
        labs: [{ subscriptionId: SUB, resourceGroup: 'factory-rg', name: LAB }],
        settings: { lroDurationMs: 100, lroRetryAfterSeconds: 0 },
      },
    });
  });
  after(async () => {
    await azure?.stop();
  });

  schemes.forEach((scheme, index) => {
    it(`${scheme.name}: SnapImagesFromVMs saves a VM, with no secret in its debug output`, async () => {
      // A VM of its own for each run, so that each run reads and writes Resource Manager, disks and storage.
      const vm = `golden-${index}`;
      await azure.addVm(LAB, { name: vm, osType: 'Linux', diskSizeGB: 1, tags: { ImagePath: `Linux/Scheme${index}.json` } });
      const env = await scheme.env(azure);
      const secrets = scheme.secrets(env);
      const neverPrinted = [...secrets, ...(scheme.machineSecrets?.(env) ?? [])];
      assert.ok(neverPrinted.length > 0 && neverPrinted.every((s) => s.length >= 8), `the scheme's secrets are known to the test: ${neverPrinted.length}`);

      const run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: LAB }, { ...env, SYSTEM_DEBUG: 'true' });
      assert.equal(run.result, 'Succeeded', describeRun(run));
      assert.match(run.outputs.SavedImageNames ?? '', new RegExp(`(^|,)Linux_Scheme${index}-`));
      assert.ok(run.stdout.includes('##vso[task.debug]'), 'debug output was on');

      for (const text of printed(run)) {
        for (const secret of neverPrinted) assert.ok(!text.includes(secret), `a secret of the connection is printed: ${text.slice(0, 300)}`);
        assert.doesNotMatch(text, JWT, 'a token is printed');
      }
      // What the agent masks must have been registered: every secret the task was given.
      for (const secret of secrets.filter((s) => !s.includes('\n'))) {
        assert.ok(run.secrets.includes(secret), `registered with task.setsecret: ${secret.slice(0, 20)}…`);
      }
      assert.deepEqual((await azure.state()).diskGrants, [], 'disk access was revoked');
    });

    it(`${scheme.name}: MakeGoldenImageVMs reads the lab, its deployments and its store and plans, with no secret in its debug output`, async () => {
      const env = await scheme.env(azure);
      const neverPrinted = [...scheme.secrets(env), ...(scheme.machineSecrets?.(env) ?? [])];
      const run = await runTaskProcess(
        'MakeGoldenImageVMs',
        { ConfigurationLocation: CONFIGURATION, DevTestLabName: LAB, machinePassword: 'Scheme-Test-Pa55word!', machineSshPublicKey: 'ssh-ed25519 AAAAC3Nza scheme', dryRun: 'true' },
        { ...env, SYSTEM_DEBUG: 'true' },
      );
      assert.equal(run.result, 'Succeeded', describeRun(run));
      assert.match(run.lines.join('\n'), /Plan: make 5 VM\(s\)/);
      for (const text of printed(run)) {
        for (const secret of [...neverPrinted, 'Scheme-Test-Pa55word!']) assert.ok(!text.includes(secret), `a secret is printed: ${text.slice(0, 300)}`);
        assert.doesNotMatch(text, JWT, 'a token is printed');
      }
    });
  });
});
