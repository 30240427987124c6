import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FaultRule } from './faults';
import type { Scenario, ScenarioSettings } from './scenario';
import { startLocalAzure, type LocalAzure, type LocalAzureOptions } from './server';
import { CONNECTION_SCHEMES, type ConnectionScheme, DEFAULT_CONNECTION_ID } from './serviceConnection';
import { ScenarioError } from './scenarioChecker';
import { loadScenarioFile } from './state';

/**
 * `npm run local-azure -- --scenario <file>`: runs the local Azure in the foreground and prints the
 * environment that points a task at it. Started by a test harness with an IPC channel (`--ipc`), it takes
 * its scenario over the channel, answers with a ready message and exits as soon as the parent goes away,
 * so it never outlives a crashed test run.
 */

/** Sent by the parent over IPC to start. */
export interface StartMessage {
  type: 'start';
  /** The scenario; without it, the --scenario file. */
  scenario?: Scenario;
  settings?: ScenarioSettings;
  faults?: FaultRule[];
  caDir?: string;
  port?: number;
  blobPort?: number;
  host?: string;
}

/** Sent to the parent once listening. */
export interface ReadyMessage {
  type: 'ready';
  armUrl: string;
  authorityUrl: string;
  blobUrl: string;
  caCertPath: string;
  tenantId: string;
  subscriptionId?: string;
  principal: { clientId: string; clientSecret?: string; objectId: string };
  env: Record<string, string>;
  /** The same connection with workload identity federation. */
  federatedEnv: Record<string, string>;
}

export interface ErrorMessage {
  type: 'error';
  message: string;
}

const USAGE = `Usage: npm run local-azure -- --scenario <file> [options]

Runs a local Azure (Resource Manager for DevTest Labs and Compute, an identity authority and blob
storage) over HTTPS on loopback, and prints the environment of an AzureRM service connection that
points a task at it.

Options:
  --scenario <file>        scenario JSON (see docs/local-azure.md)
  --port <n>               HTTPS port of Resource Manager and the authority (default: a free port)
  --blob-port <n>          HTTPS port of blob storage (default: a free port)
  --host <address>         address to listen on (default 127.0.0.1)
  --ca-dir <dir>           keep and reuse the CA here (default .local-azure/ca)
  --connection-id <id>     service connection id in the variable names (default ${DEFAULT_CONNECTION_ID})
  --scheme <scheme>        how the service connection signs in: ${CONNECTION_SCHEMES.join(', ')}
                           (default ServicePrincipal, with a secret)
  --client-id <id>         the scenario principal to sign in as (default: the first), or with
                           ManagedServiceIdentity a user-assigned identity (default: system-assigned)
  --write-env <file>       also write the export lines to this file
  --exit-on-stdin-close    stop when standard input closes
  --ipc                    started by a test harness: report readiness to the parent process and
                           exit when it goes away; the scenario may come from the parent
`;

interface CliOptions {
  scenario?: string;
  port?: number;
  blobPort?: number;
  host?: string;
  caDir: string;
  connectionId: string;
  scheme: ConnectionScheme;
  clientId?: string;
  envFile?: string;
  exitOnStdinClose: boolean;
  ipc: boolean;
}

function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { caDir: '.local-azure/ca', connectionId: DEFAULT_CONNECTION_ID, scheme: 'ServicePrincipal', exitOnStdinClose: false, ipc: false };
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) fail(`${name} needs a value.`);
    return v;
  };
  const port = (text: string, name: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name} must be a port number (0-65535), not '${text}'.`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--scenario':
        options.scenario = value(i++, arg);
        break;
      case '--port':
        options.port = port(value(i++, arg), arg);
        break;
      case '--blob-port':
        options.blobPort = port(value(i++, arg), arg);
        break;
      case '--host':
        options.host = value(i++, arg);
        break;
      case '--ca-dir':
        options.caDir = value(i++, arg);
        break;
      case '--connection-id':
        options.connectionId = value(i++, arg);
        break;
      case '--scheme': {
        const scheme = value(i++, arg);
        const known = CONNECTION_SCHEMES.find((s) => s.toLowerCase() === scheme.toLowerCase());
        if (!known) fail(`--scheme must be one of ${CONNECTION_SCHEMES.join(', ')}, not '${scheme}'.`);
        options.scheme = known;
        break;
      }
      case '--client-id':
        options.clientId = value(i++, arg);
        break;
      case '--write-env':
        options.envFile = value(i++, arg);
        break;
      case '--exit-on-stdin-close':
        options.exitOnStdinClose = true;
        break;
      case '--ipc':
        options.ipc = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        process.exit(0);
        break;
      default:
        fail(`Unknown argument '${arg}'.`);
    }
  }
  if (!options.ipc && !options.scenario) fail('--scenario <file> is required.');
  return options;
}

function fail(message: string): never {
  process.stderr.write(`local-azure: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function describeScheme(scheme: ConnectionScheme, clientId: string | undefined): string {
  switch (scheme) {
    case 'ServicePrincipal':
      return 'service principal with a secret';
    case 'ServicePrincipalCertificate':
      return 'service principal with a certificate made for this run';
    case 'WorkloadIdentityFederation':
      return 'workload identity federation';
    case 'ManagedServiceIdentity':
      return clientId ? `user-assigned managed identity ${clientId}` : 'system-assigned managed identity';
  }
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  let azure: LocalAzure | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    try {
      await azure?.stop();
    } finally {
      process.exit(code);
    }
  };
  // Started by a harness (--ipc), it stops when the harness disconnects: Ctrl+C in a terminal signals the
  // whole process group, and the harness may still need it while the task it runs cleans up.
  process.on('SIGINT', () => {
    if (!cli.ipc) void stop(0);
  });
  process.on('SIGTERM', () => void stop(0));
  if (cli.exitOnStdinClose) {
    process.stdin.on('end', () => void stop(0));
    process.stdin.on('close', () => void stop(0));
    process.stdin.resume();
  }

  if (cli.ipc) {
    if (!process.send) fail('--ipc needs a parent process with an IPC channel (child_process.fork).');
    process.on('disconnect', () => void stop(0));
    const start = await new Promise<StartMessage>((resolve) => {
      process.once('message', (message: StartMessage) => resolve(message));
    });
    try {
      const base = start.scenario ?? loadScenarioFile(cli.scenario ?? fail('--ipc needs a scenario in the start message or --scenario <file>.'));
      const scenario: Scenario = {
        ...base,
        settings: { ...base.settings, ...start.settings },
        faults: start.faults ?? base.faults,
      };
      const options: LocalAzureOptions = { scenario, caDir: start.caDir, port: start.port, blobPort: start.blobPort, host: start.host };
      azure = await startLocalAzure(options);
    } catch (error) {
      const message: ErrorMessage = { type: 'error', message: error instanceof ScenarioError ? error.message : ((error as Error).stack ?? String(error)) };
      process.send!(message, () => process.exit(1));
      return;
    }
    const ready: ReadyMessage = {
      type: 'ready',
      armUrl: azure.armUrl,
      authorityUrl: azure.authorityUrl,
      blobUrl: azure.blobUrl,
      caCertPath: azure.caCertPath,
      tenantId: azure.tenantId,
      subscriptionId: azure.subscriptionId,
      principal: { clientId: azure.principal.clientId, clientSecret: azure.principal.clientSecret, objectId: azure.principal.objectId },
      env: azure.env(cli.connectionId),
      federatedEnv: azure.env(cli.connectionId, { scheme: 'WorkloadIdentityFederation' }),
    };
    process.send!(ready);
    return;
  }

  try {
    azure = await startLocalAzure({ scenario: cli.scenario!, port: cli.port, blobPort: cli.blobPort, host: cli.host, caDir: path.resolve(cli.caDir) });
  } catch (error) {
    if (error instanceof ScenarioError) {
      process.stderr.write(`local-azure: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let env: Record<string, string>;
  try {
    env = await azure.connectionEnv({ connectionId: cli.connectionId, scheme: cli.scheme, clientId: cli.clientId });
  } catch (error) {
    process.stderr.write(`local-azure: ${(error as Error).message}\n`);
    await azure.stop();
    process.exit(2);
  }
  const lines = Object.entries(env).map(([key, value]) => `export ${key}=${shellQuote(value)}`);
  const subscriptions = azure.state.resourceManager.subscriptions.map((s) => s.subscriptionId).join(', ');
  const text = [
    `# Local Azure for scenario ${cli.scenario}`,
    `#   Resource Manager and authority: ${azure.armUrl}`,
    `#   Blob storage:                   ${azure.blobUrl}`,
    `#   Tenant ${azure.tenantId}; subscriptions ${subscriptions}`,
    `#   State: curl --cacert ${azure.caCertPath} ${azure.armUrl}/__local/state`,
    `# Environment for a task (service connection ${cli.connectionId}, ${describeScheme(cli.scheme, cli.clientId)}):`,
    ...lines,
    '# Running; Ctrl+C stops it.',
    '',
  ].join('\n');
  if (cli.envFile) fs.writeFileSync(cli.envFile, `${lines.join('\n')}\n`);
  process.stdout.write(text);
}

main().catch((error) => {
  process.stderr.write(`local-azure: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
