import { ComputeManagementClient } from '@azure/arm-compute';
import { DevTestLabsClient, type LabVirtualMachine } from '@azure/arm-devtestlabs';
import { ClientSecretCredential } from '@azure/identity';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { envEndpointReader, type EndpointReader } from '../../core/azure/endpoint';
import type { ErrorMessage, ReadyMessage, StartMessage } from '../../local-azure/cli';
import type { StateSnapshot } from '../../local-azure/control';
import type { FaultRule } from '../../local-azure/faults';
import type { Scenario, ScenarioCustomImage, ScenarioSettings, ScenarioVhd, ScenarioVm } from '../../local-azure/scenario';
import type { ConnectionScheme } from '../../local-azure/serviceConnection';

/**
 * Starts the local Azure in a child process for a test and talks to its control endpoints. The child
 * exits when this process goes away, however it ends.
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(REPO_ROOT, 'out', 'local-azure', 'cli.js');
/** The CA `npm test` trusts (NODE_EXTRA_CA_CERTS); created on first use. */
export const TEST_CA_DIR = path.join(REPO_ROOT, '.local-azure', 'ca');
export const CONNECTION_ID = 'LocalAzure';
const START_TIMEOUT_MS = 30_000;

export interface StartOptions {
  /** A scenario object or the path of a scenario JSON file. */
  scenario: Scenario | string;
  /** How long it may take to be ready; default 30 s. A scenario of thousands of labs takes longer to load. */
  startTimeoutMs?: number;
  /** Overrides the scenario's settings. */
  settings?: ScenarioSettings;
  /** Replaces the scenario's fault plan. */
  faults?: FaultRule[];
}

export interface MetricsSnapshot {
  since: string;
  total: number;
  byOperation: Record<string, number>;
  /** Requests Resource Manager refused for its token buckets (429), by operation. */
  throttled: Record<string, number>;
}

export interface VmChange {
  powerState?: string;
  provisioningState?: string;
  tags?: Record<string, string>;
}

export interface LocalAzureProcess {
  /** ENDPOINT_* variables of service connection `LocalAzure`, NODE_EXTRA_CA_CERTS and INPUT_AZURESUBSCRIPTION. */
  readonly env: Record<string, string>;
  /** The same service connection with workload identity federation, plus the job's OIDC request URL and access token. */
  readonly federatedEnv: Record<string, string>;
  /**
   * The variables of service connection `LocalAzure` with any scheme: a certificate credential is made
   * for ServicePrincipalCertificate; ManagedServiceIdentity adds the machine's IDENTITY_ENDPOINT and
   * IDENTITY_HEADER and, with `clientId`, names that user-assigned identity.
   */
  connectionEnv(options: { scheme: ConnectionScheme; clientId?: string }): Promise<Record<string, string>>;
  readonly endpoints: EndpointReader;
  readonly connectionId: string;
  readonly armUrl: string;
  readonly authorityUrl: string;
  readonly blobUrl: string;
  readonly caCertPath: string;
  readonly tenantId: string;
  readonly subscriptionId?: string;
  readonly principal: { clientId: string; clientSecret?: string; objectId: string };
  readonly pid: number;
  state(): Promise<StateSnapshot>;
  metrics(): Promise<MetricsSnapshot>;
  resetMetrics(): Promise<void>;
  setFaults(rules: FaultRule[]): Promise<void>;
  setSettings(settings: ScenarioSettings): Promise<void>;
  addVm(labName: string, vm: ScenarioVm): Promise<void>;
  updateVm(labName: string, vmName: string, change: VmChange): Promise<void>;
  addCustomImage(labName: string, image: ScenarioCustomImage): Promise<void>;
  addVhd(labName: string, vhd: ScenarioVhd): Promise<void>;
  /** A token of the local OIDC issuer, as a pipeline gets for a workload identity federation connection. */
  federationToken(options?: { subject?: string; audience?: string }): Promise<string>;
  /**
   * A control or Azure request with the test CA trusted, for status codes and headers the SDKs hide; a
   * string body is sent as it is, any other as JSON.
   */
  request(method: string, pathAndQuery: string, options?: { body?: unknown; headers?: Record<string, string> }): Promise<RawResponse>;
  stop(): Promise<void>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill();
});

export async function startLocalAzure(options: StartOptions): Promise<LocalAzureProcess> {
  // A scenario file is read by the command itself, exactly as `npm run local-azure -- --scenario <file>` does.
  const file = typeof options.scenario === 'string' ? path.resolve(options.scenario) : undefined;
  const scenario = typeof options.scenario === 'string' ? undefined : options.scenario;
  const child = fork(CLI, ['--ipc', ...(file ? ['--scenario', file] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  running.add(child);
  child.once('exit', () => running.delete(child));

  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`The local Azure did not start within ${options.startTimeoutMs ?? START_TIMEOUT_MS} ms.`));
    }, options.startTimeoutMs ?? START_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`The local Azure exited before it was ready (code ${code}, signal ${signal}).`));
    });
    child.on('message', (message: ReadyMessage | ErrorMessage) => {
      clearTimeout(timer);
      if (message.type === 'ready') resolve(message);
      else reject(new Error(message.message));
    });
    const start: StartMessage = { type: 'start', scenario, settings: options.settings, faults: options.faults, caDir: TEST_CA_DIR };
    child.send(start);
  });
  child.removeAllListeners('exit');
  child.once('exit', () => running.delete(child));

  const ca = fs.readFileSync(ready.caCertPath);
  const agent = new https.Agent({ ca, keepAlive: false });

  const request = (method: string, pathAndQuery: string, requestOptions: { body?: unknown; headers?: Record<string, string> } = {}) =>
    new Promise<RawResponse>((resolve, reject) => {
      const { body } = requestOptions;
      // A string goes as it is (to send malformed JSON); anything else as JSON.
      const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = https.request(
        new URL(pathAndQuery, ready.armUrl),
        {
          method,
          agent,
          headers: { ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}), ...requestOptions.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  const control = async <T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> => {
    const response = await request(method, `/__local/${pathAndQuery}`, { body });
    if (response.status >= 300) throw new Error(`Local Azure control ${method} ${pathAndQuery}: HTTP ${response.status} ${response.text}`);
    return response.json as T;
  };

  let stopped: Promise<void> | undefined;
  return {
    env: ready.env,
    federatedEnv: ready.federatedEnv,
    connectionEnv: ({ scheme, clientId }) =>
      control<Record<string, string>>('GET', `env?${new URLSearchParams({ scheme, ...(clientId ? { clientId } : {}) })}`),
    endpoints: envEndpointReader(ready.env),
    connectionId: CONNECTION_ID,
    armUrl: ready.armUrl,
    authorityUrl: ready.authorityUrl,
    blobUrl: ready.blobUrl,
    caCertPath: ready.caCertPath,
    tenantId: ready.tenantId,
    subscriptionId: ready.subscriptionId,
    principal: ready.principal,
    pid: child.pid!,
    state: () => control<StateSnapshot>('GET', 'state'),
    metrics: () => control<MetricsSnapshot>('GET', 'metrics'),
    resetMetrics: async () => {
      await control('POST', 'metrics/reset');
    },
    setFaults: async (rules) => {
      await control('PUT', 'faults', rules);
    },
    setSettings: async (settings) => {
      await control('PATCH', 'settings', settings);
    },
    addVm: async (labName, vm) => {
      await control('POST', `labs/${encodeURIComponent(labName)}/vms`, vm);
    },
    updateVm: async (labName, vmName, change) => {
      await control('PATCH', `labs/${encodeURIComponent(labName)}/vms/${encodeURIComponent(vmName)}`, change);
    },
    addCustomImage: async (labName, image) => {
      await control('POST', `labs/${encodeURIComponent(labName)}/customImages`, image);
    },
    addVhd: async (labName, vhd) => {
      await control('POST', `labs/${encodeURIComponent(labName)}/vhds`, vhd);
    },
    federationToken: async (tokenOptions = {}) => {
      const response = await request('POST', `/__local/oidctoken?api-version=7.1&serviceConnectionId=${CONNECTION_ID}`, {
        body: tokenOptions,
        headers: { authorization: `Bearer ${ready.federatedEnv.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN}` },
      });
      if (response.status !== 200) throw new Error(`OIDC token request: HTTP ${response.status} ${response.text}`);
      return (response.json as { oidcToken: string }).oidcToken;
    },
    request,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(killer);
          resolve();
        });
        child.disconnect();
      })),
  };
}

/** The Resource Manager audience's scope, as a task asks for it. */
export const ARM_SCOPE = 'https://management.core.windows.net//.default';

export interface SdkClients {
  credential: ClientSecretCredential;
  devTestLabs: DevTestLabsClient;
  compute: ComputeManagementClient;
}

/**
 * The SDK clients as a task makes them for a sovereign cloud: a secret credential with the local
 * authority and no instance discovery, clients with the local Resource Manager endpoint. Retries are
 * quick so fault tests stay fast.
 */
export function sdkClients(azure: LocalAzureProcess, subscriptionId = azure.subscriptionId!): SdkClients {
  const credential = new ClientSecretCredential(azure.tenantId, azure.principal.clientId, azure.principal.clientSecret!, {
    authorityHost: azure.authorityUrl,
    disableInstanceDiscovery: true,
  });
  const retryOptions = { maxRetries: 3, retryDelayInMs: 20, maxRetryDelayInMs: 100 };
  return {
    credential,
    devTestLabs: new DevTestLabsClient(credential, subscriptionId, { endpoint: azure.armUrl, credentialScopes: [ARM_SCOPE], retryOptions }),
    compute: new ComputeManagementClient(credential, subscriptionId, { endpoint: azure.armUrl, credentials: { scopes: [ARM_SCOPE] }, retryOptions }),
  };
}

/** A lab VM made from a distributed custom image, as a lab user makes one, once it has provisioned (or failed to). */
export async function labVmFromImage(
  azure: LocalAzureProcess,
  lab: { subscriptionId: string; resourceGroup: string; name: string; location: string },
  imageName: string,
): Promise<{ vm: LabVirtualMachine; customImageId?: string }> {
  const clients = sdkClients(azure, lab.subscriptionId);
  const image = await clients.devTestLabs.customImages.get(lab.resourceGroup, lab.name, imageName);
  const vm = await clients.devTestLabs.virtualMachines.beginCreateOrUpdateAndWait(
    lab.resourceGroup,
    lab.name,
    'from-golden',
    { location: lab.location, customImageId: image.id, size: 'Standard_DS2_v2', userName: 'labuser', password: 'Unused-Passw0rd' },
    { updateIntervalInMs: 20 },
  );
  return { vm, customImageId: image.id };
}
