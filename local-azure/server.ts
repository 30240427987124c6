import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Operations } from './resourceManager/operations';
import { ResourceManager } from './resourceManager/front';
import { startBlobService, type BlobService } from './storage/blobService';
import { createDiskBlob } from './compute/diskBlobs';
import { createClientCertificate, createRsaKeyPair, issueServerCertificate, loadOrCreateCa } from './certs';
import { handleControl } from './control';
import { FaultPlan, type FaultRule } from './faults';
import { ArmError, writeReply, type Reply } from './http';
import { IdentityAuthority } from './identity/authority';
import { MANAGED_IDENTITY_PATH } from './identity/managedIdentity';
import { STORAGE_AUDIENCES } from './identity/tokens';
import { Metrics } from './metrics';
import type { Scenario } from './scenario';
import {
  type ConnectionOptions,
  DEFAULT_CONNECTION_ID,
  serviceConnectionEnv,
  type ServiceConnectionEnv,
} from './serviceConnection';
import type { Principal } from './identity/state';
import { AzureState, loadScenarioFile } from './state';

/**
 * The local Azure: Resource Manager (DevTest Labs, Compute) and the identity authority on one HTTPS
 * port, blob storage (Azurite behind an HTTPS front) on another, all in this process.
 */

export interface LocalAzureOptions {
  /** A scenario object or the path of a scenario JSON file. */
  scenario: Scenario | string;
  /** HTTPS port of Resource Manager and the authority; 0 (default) picks a free one. */
  port?: number;
  /** HTTPS port of blob storage; 0 (default) picks a free one. */
  blobPort?: number;
  /** Keep the CA here (ca.pem, ca-key.pem) and reuse it; default: a CA for this run only. */
  caDir?: string;
  /** Address to listen on. Default 127.0.0.1. */
  host?: string;
}

export interface LocalAzure {
  readonly armUrl: string;
  readonly authorityUrl: string;
  readonly blobUrl: string;
  readonly caCertPath: string;
  readonly tenantId: string;
  readonly principal: Principal;
  readonly subscriptionId: string | undefined;
  readonly state: AzureState;
  readonly faults: FaultPlan;
  readonly metrics: Metrics;
  /**
   * ENDPOINT_* variables for an AzureRM service connection `connectionId` (default LocalAzure), plus
   * NODE_EXTRA_CA_CERTS and what the scheme needs from the machine and the job; by default a service
   * principal with its secret.
   */
  env(connectionId?: string, options?: ConnectionOptions): ServiceConnectionEnv;
  /**
   * A certificate credential for the principal `clientId` (default: the first): registers a new
   * certificate on it and returns the PEM of its private key and certificate, as the connection holds it.
   */
  createCertificateCredential(clientId?: string): Promise<string>;
  /** `env`, with a certificate credential made for ServicePrincipalCertificate when none is given. */
  connectionEnv(options?: ConnectionOptions & { connectionId?: string }): Promise<ServiceConnectionEnv>;
  stop(): Promise<void>;
}

export async function startLocalAzure(options: LocalAzureOptions): Promise<LocalAzure> {
  const scenario = typeof options.scenario === 'string' ? loadScenarioFile(options.scenario) : options.scenario;
  const state = new AzureState(scenario);
  const host = options.host ?? '127.0.0.1';

  const [ca, serverKeys, signingKey] = await Promise.all([loadOrCreateCa(options.caDir), createRsaKeyPair(), createRsaKeyPair()]);
  const certificate = issueServerCertificate(ca, [...new Set([host, '127.0.0.1', 'localhost'])], serverKeys);
  let caCertPath = ca.certPath;
  let temporaryDir: string | undefined;
  if (!caCertPath) {
    temporaryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-azure-ca-'));
    caCertPath = path.join(temporaryDir, 'ca.pem');
    fs.writeFileSync(caCertPath, ca.certPem);
  }

  const faults = new FaultPlan(state.faults);
  const metrics = new Metrics();
  let baseUrl = '';
  // The job access token a pipeline would have: it authorizes requests for federation tokens.
  const jobAccessToken = randomBytes(24).toString('base64url');
  // The machine's secret for its identity endpoint (IDENTITY_HEADER), new at each start as on a host.
  const identityHeader = randomBytes(24).toString('base64url');
  const identity = new IdentityAuthority({ identity: state.identity, settings: state.settings, signingKey, baseUrl: () => baseUrl, jobAccessToken, identityHeader });
  const operations = new Operations(state.settings, faults, () => baseUrl);

  const server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem, keepAlive: true });
  const blobStarting = startBlobService({
    tls: { key: certificate.keyPem, cert: certificate.certPem },
    host,
    port: options.blobPort ?? 0,
    accounts: state.storage.accountNames(),
    copyRateMBps: state.settings.copyRateMBps,
    sourceBlobMBps: state.settings.sourceBlobMBps,
    crossRegionCopyRateMBps: state.settings.crossRegionCopyRateMBps,
    accountRegions: state.storage.accountRegions(),
    verifyBearer: (token) => {
      const check = identity.tokens.verifyAccessToken(token, STORAGE_AUDIENCES);
      return check.ok ? { principalId: check.claims.oid, tenantId: check.claims.tid, audience: check.claims.aud } : undefined;
    },
    canAccessData: (principalId, account, container, action) =>
      state.storage.canAccessData(state.identity.findPrincipalByObjectId(principalId), account, container, action),
    faults,
    metrics,
  });
  let blob: BlobService | undefined;
  try {
    await Promise.all([
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
      blobStarting.then((started) => {
        blob = started;
      }),
    ]);
    baseUrl = `https://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
    await seedBlobs(state, blob!);
  } catch (error) {
    // Whatever did start is stopped again, so a failed start leaves nothing listening.
    server.close();
    await blobStarting.then((started) => started.stop()).catch(() => undefined);
    if (temporaryDir) fs.rmSync(temporaryDir, { recursive: true, force: true });
    throw error;
  }
  const blobService = blob!;

  const resourceManager = new ResourceManager({ state, blob: blobService, operations, faults, baseUrl: () => baseUrl }, identity.tokens);
  const subscriptionId = state.resourceManager.subscriptions[0]?.subscriptionId;
  const info = () => ({
    armUrl: baseUrl,
    authorityUrl: baseUrl,
    blobUrl: blobService.url,
    tenantId: state.identity.tenantId,
    subscriptionId,
    caCertPath,
    principals: state.identity.principals.map(({ clientId, objectId, displayName }) => ({ clientId, objectId, displayName })),
    managedIdentities: state.identity.managedIdentities.map(({ managedIdentity, clientId, objectId, displayName }) => ({ type: managedIdentity, clientId, objectId, displayName })),
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error) => {
      process.stderr.write(`local-azure: ${req.method} ${req.url} failed: ${(error as Error).stack ?? error}\n`);
      if (!res.headersSent) writeReply(res, new ArmError(500, 'InternalServerError', `The local Azure failed: ${(error as Error).message}`).toReply());
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    await operations.settleDue();
    if (/^\/__local\//i.test(url.pathname) && !identity.operationOf(req.method ?? 'GET', url.pathname)) {
      writeReply(res, await handleControl(req, url, { state, blob: blobService, faults, metrics, operations, info, connectionEnv }));
      return;
    }
    const identityOperation = identity.operationOf(req.method ?? 'GET', url.pathname);
    const operation = identityOperation ?? resourceManager.operationOf(req.method ?? 'GET', url.pathname);
    metrics.count(operation);
    const fault = faults.take(operation, safeDecode(url.pathname), ['status', 'reset']);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault) {
      writeReply(res, faultReply(fault, identityOperation !== undefined));
      return;
    }
    const reply = identityOperation ? await identity.handle(req, url) : await resourceManager.handle(req, url);
    if (!identityOperation && reply.status === 429) metrics.throttled(operation);
    writeReply(res, reply);
  }

  function env(connectionId = DEFAULT_CONNECTION_ID, envOptions: ConnectionOptions = {}): ServiceConnectionEnv {
    const scheme = envOptions.scheme ?? 'ServicePrincipal';
    const common = {
      connectionId,
      armUrl: baseUrl,
      authorityUrl: baseUrl,
      tenantId: state.identity.tenantId,
      subscriptionId: envOptions.subscriptionId ?? subscriptionId,
      caCertPath: caCertPath!,
    };
    if (scheme === 'ManagedServiceIdentity') {
      if (envOptions.clientId && !state.identity.findManagedIdentity({ clientId: envOptions.clientId })) {
        throw new Error(`The machine has no user-assigned identity ${envOptions.clientId}.`);
      }
      return serviceConnectionEnv({
        ...common,
        scheme,
        userAssignedClientId: envOptions.clientId,
        identityEndpoint: `${baseUrl}${MANAGED_IDENTITY_PATH}`,
        identityHeader,
      });
    }
    const principal = envOptions.clientId ? state.identity.findPrincipal(envOptions.clientId) : state.identity.defaultPrincipal;
    if (!principal) throw new Error(`The scenario has no principal ${envOptions.clientId}.`);
    return serviceConnectionEnv({
      ...common,
      scheme,
      principal,
      certificatePem: envOptions.certificatePem,
      oidcRequestUri: `${baseUrl}/__local/oidctoken`,
      jobAccessToken,
      federationIssuer: identity.tokens.federationIssuer,
    });
  }

  async function createCertificateCredential(clientId = state.identity.defaultPrincipal.clientId): Promise<string> {
    const principal = state.identity.findPrincipal(clientId);
    if (!principal) throw new Error(`The scenario has no principal ${clientId}.`);
    const certificate = await createClientCertificate(principal.displayName);
    state.identity.addCertificate(principal.clientId, certificate.certPem);
    return `${certificate.keyPem}\n${certificate.certPem}`;
  }

  async function connectionEnv(options: ConnectionOptions & { connectionId?: string } = {}): Promise<ServiceConnectionEnv> {
    const { connectionId, ...connection } = options;
    if (connection.scheme === 'ServicePrincipalCertificate' && !connection.certificatePem) {
      connection.certificatePem = await createCertificateCredential(connection.clientId);
    }
    return env(connectionId, connection);
  }

  let stopped = false;
  return {
    armUrl: baseUrl,
    authorityUrl: baseUrl,
    blobUrl: blobService.url,
    caCertPath,
    tenantId: state.identity.tenantId,
    principal: state.identity.defaultPrincipal,
    subscriptionId,
    state,
    faults,
    metrics,
    env,
    createCertificateCredential,
    connectionEnv,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), blobService.stop()]);
      if (temporaryDir) fs.rmSync(temporaryDir, { recursive: true, force: true });
    },
  };
}

/** The blobs the scenario's resources start with: each disk's bytes, and what each storage account holds. */
async function seedBlobs(state: AzureState, blob: BlobService): Promise<void> {
  const work: Promise<void>[] = [];
  for (const disk of state.compute.disks()) work.push(createDiskBlob(blob, disk));
  for (const account of state.storage.accounts) {
    for (const initial of account.initialBlobs) {
      work.push(blob.createPageBlob(account.name, initial.container, initial.name, initial.sizeBytes, { metadata: initial.metadata }));
    }
  }
  await Promise.all(work);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function faultReply(fault: FaultRule, identity: boolean): Reply {
  const status = fault.status ?? 500;
  const headers: Record<string, string> = {};
  const retryAfter = fault.retryAfterSeconds ?? (status === 429 || status === 503 ? 1 : undefined);
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  const code = fault.code ?? DEFAULT_FAULT_CODES[status] ?? 'InternalServerError';
  const message =
    status === 429
      ? 'The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:01:00. For more information, see - https://aka.ms/srpthrottlinglimits'
      : `The service is unavailable right now (${code}); try again later.`;
  if (identity) {
    return { status, headers, body: { error: status === 429 ? 'temporarily_unavailable' : code, error_description: `AADSTS90033: ${message}`, error_codes: [90033] } };
  }
  return new ArmError(status, code, message, headers).toReply();
}

const DEFAULT_FAULT_CODES: Record<number, string> = {
  400: 'BadRequest',
  404: 'NotFound',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};
