import type { IncomingMessage } from 'node:http';
import { createDiskBlob } from './compute/diskBlobs';
import { computeVmId, diskId, POWER_STATES, type PowerState } from './compute/state';
import { diskState } from './compute/views';
import { customImageId, labId, labVmId } from './devTestLabs/ids';
import { UPLOADS_CONTAINER, type Lab } from './devTestLabs/state';
import { galleriesSnapshot, type GallerySnapshot } from './galleries/snapshot';
import { validateFaultRules, type FaultPlan, type FaultRule } from './faults';
import { ArmError, ok, parseJsonBody, readBody, type Reply } from './http';
import { findByName } from './ids';
import type { Metrics } from './metrics';
import type { Operations } from './resourceManager/operations';
import { deploymentState } from './resourceManager/deploymentState';
import { checkMarketplaceSku } from './compute/marketplaceVersions';
import type { ScenarioCustomImage, ScenarioMarketplaceSku, ScenarioVhd, ScenarioVm } from './scenario';
import { checkAlone, ScenarioError } from './scenarioChecker';
import { CONNECTION_SCHEMES, type ConnectionOptions, type ConnectionScheme } from './serviceConnection';
import type { Settings } from './settings';
import type { AzureState } from './state';
import type { BlobService } from './storage/blobService';
import type { CopyLogEntry } from './storage/copies';
import { checkVhd, vhdSizeBytes } from './storage/scenario';

/**
 * Endpoints under /__local/ that are not Azure's: they let tests and benchmarks see the whole state,
 * read and reset request counts, change the fault plan and settings, and add resources mid-run.
 */

export interface ControlOptions {
  state: AzureState;
  blob: BlobService;
  faults: FaultPlan;
  metrics: Metrics;
  operations: Operations;
  info: () => Record<string, unknown>;
  /** The environment of a service connection with the given scheme (see LocalAzure.connectionEnv). */
  connectionEnv: (options: ConnectionOptions & { connectionId?: string }) => Promise<Record<string, string>>;
}

export async function handleControl(req: IncomingMessage, url: URL, options: ControlOptions): Promise<Reply> {
  try {
    return await dispatch(req, url, options);
  } catch (error) {
    if (error instanceof ScenarioError) return { status: 400, body: { error: { code: 'InvalidScenario', message: error.message, problems: error.problems } } };
    if (error instanceof ArmError) return error.toReply();
    throw error;
  }
}

async function dispatch(req: IncomingMessage, url: URL, options: ControlOptions): Promise<Reply> {
  const { state, blob, faults, metrics } = options;
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname.replace(/\/+$/, '');
  const body = method === 'GET' ? undefined : parseJsonBody(await readBody(req));
  let match: RegExpExecArray | null;

  if (path === '/__local/info' && method === 'GET') return ok(options.info());
  if (path === '/__local/state' && method === 'GET') return ok(await snapshot(options));
  if (path === '/__local/env' && method === 'GET') {
    const scheme = url.searchParams.get('scheme') ?? 'ServicePrincipal';
    if (!(CONNECTION_SCHEMES as readonly string[]).includes(scheme)) {
      throw new ArmError(400, 'InvalidScheme', `scheme must be one of ${CONNECTION_SCHEMES.join(', ')}.`);
    }
    const param = (name: string) => url.searchParams.get(name) ?? undefined;
    try {
      return ok(
        await options.connectionEnv({
          scheme: scheme as ConnectionScheme,
          clientId: param('clientId'),
          connectionId: param('connectionId'),
          subscriptionId: param('subscriptionId'),
        }),
      );
    } catch (error) {
      throw new ArmError(400, 'InvalidConnection', (error as Error).message);
    }
  }
  if (path === '/__local/metrics' && method === 'GET') return ok(metrics.snapshot());
  if (path === '/__local/metrics/reset' && method === 'POST') {
    metrics.reset();
    return ok(metrics.snapshot());
  }
  if (path === '/__local/faults' && method === 'GET') return ok(faults.list());
  if (path === '/__local/faults' && method === 'PUT') {
    faults.replace(validateFaultRules(body ?? [], 'faults'));
    return ok(faults.list());
  }
  if (path === '/__local/settings' && method === 'GET') return ok(state.settings);
  if (path === '/__local/settings' && (method === 'PATCH' || method === 'PUT')) {
    state.updateSettings((body ?? {}) as never);
    return ok(state.settings);
  }
  if (path === '/__local/marketplace' && method === 'GET') return ok(state.compute.marketplace.snapshot());
  // A SKU's published versions replaced mid-run: the marketplace publishing a new version.
  if (path === '/__local/marketplace' && method === 'PUT') {
    const sku = checkAlone('marketplace', (c) => (checkMarketplaceSku(c, body, 'marketplace'), body as ScenarioMarketplaceSku));
    state.compute.marketplace.set(sku);
    return ok(state.compute.marketplace.snapshot());
  }
  if ((match = /^\/__local\/labs\/([^/]+)\/vms$/i.exec(path)) && method === 'POST') {
    const lab = findLab(state, match[1], url);
    const vm = state.devTestLabs.addVm(lab, body as ScenarioVm);
    for (const disk of [vm.compute.osDisk, ...vm.compute.dataDisks.map((d) => d.disk)]) await createDiskBlob(blob, disk);
    return { status: 201, body: (await snapshotLab(options, lab)).vms.find((v) => v.name === vm.name) };
  }
  if ((match = /^\/__local\/labs\/([^/]+)\/vms\/([^/]+)$/i.exec(path)) && method === 'PATCH') {
    const lab = findLab(state, match[1], url);
    const vm = findByName(lab.vms, decodeURIComponent(match[2]));
    if (!vm) throw new ArmError(404, 'NotFound', `Lab ${lab.name} has no VM ${match[2]}.`);
    const change = (body ?? {}) as { powerState?: string; provisioningState?: string; tags?: Record<string, string> };
    if (change.powerState !== undefined) {
      if (!POWER_STATES.includes(change.powerState as PowerState)) throw new ArmError(400, 'InvalidScenario', `powerState must be one of ${POWER_STATES.join(', ')}.`);
      vm.compute.powerState = change.powerState as PowerState;
    }
    if (change.provisioningState !== undefined) vm.compute.provisioningState = String(change.provisioningState);
    if (change.tags !== undefined) vm.tags = { ...change.tags };
    return ok((await snapshotLab(options, lab)).vms.find((v) => v.name === vm.name));
  }
  if ((match = /^\/__local\/labs\/([^/]+)\/customImages$/i.exec(path)) && method === 'POST') {
    const lab = findLab(state, match[1], url);
    const image = state.devTestLabs.addCustomImage(lab, body as ScenarioCustomImage);
    return { status: 201, body: { name: image.name, id: customImageId(lab, image) } };
  }
  if ((match = /^\/__local\/labs\/([^/]+)\/vhds$/i.exec(path)) && method === 'POST') {
    const lab = findLab(state, match[1], url);
    const vhd = checkVhd(body as ScenarioVhd);
    await blob.createPageBlob(lab.storageAccount, UPLOADS_CONTAINER, vhd.name, vhdSizeBytes(vhd), { metadata: vhd.metadata });
    return { status: 201, body: { name: vhd.name, url: `${blob.accountUrl(lab.storageAccount).replace(/\/+$/, '')}/${UPLOADS_CONTAINER}/${vhd.name}` } };
  }
  throw new ArmError(404, 'NotFound', `No control endpoint ${method} ${path}. See docs/local-azure.md.`);
}

function findLab(state: AzureState, name: string, url: URL): Lab {
  const lab = state.devTestLabs.findLabByName(decodeURIComponent(name), url.searchParams.get('subscriptionId') ?? undefined);
  if (!lab) throw new ArmError(404, 'NotFound', `No lab named ${decodeURIComponent(name)}.`);
  return lab;
}

/** GET /__local/state: everything, as a test asserts on it. */
export interface StateSnapshot {
  tenantId: string;
  settings: Settings;
  subscriptions: { subscriptionId: string; displayName: string }[];
  principals: { clientId: string; objectId: string; displayName: string }[];
  /** The machine's managed identities. */
  managedIdentities: { type: string; clientId: string; objectId: string; displayName: string }[];
  labs: LabSnapshot[];
  /** Azure Compute Galleries with their image definitions and versions. */
  galleries: GallerySnapshot[];
  /** Disks with a live read SAS. */
  diskGrants: string[];
  /** Every Copy Blob started, oldest first, with the blob it read (`account/container/blob`). */
  copies: CopyLogEntry[];
  /** Long-running operations still running. */
  operations: { id: string; operationId: string; path: string; status: string; startTime: string }[];
  faults: FaultRule[];
  /** Resource Manager deployments of every resource group, with their resource operations. */
  deployments: { subscriptionId: string; resourceGroup: string; name: string; provisioningState: string; tags: Record<string, string>; operations: { resourceName: string; state: string; error?: { code: string; message: string } }[] }[];
}

async function snapshot(options: ControlOptions): Promise<StateSnapshot> {
  const { state, blob, operations, faults } = options;
  return {
    tenantId: state.identity.tenantId,
    settings: state.settings,
    subscriptions: state.resourceManager.subscriptions,
    principals: state.identity.principals.map(({ clientId, objectId, displayName }) => ({ clientId, objectId, displayName })),
    managedIdentities: state.identity.managedIdentities.map(({ managedIdentity, clientId, objectId, displayName }) => ({ type: managedIdentity!, clientId, objectId, displayName })),
    labs: await Promise.all(state.devTestLabs.labs.map((lab) => snapshotLab(options, lab))),
    galleries: galleriesSnapshot(state.galleries),
    diskGrants: blob.activeDiskGrants(),
    copies: blob.copyLog(),
    operations: operations.running().map((op) => ({
      id: op.id,
      operationId: op.spec.operationId,
      path: op.spec.path,
      status: op.status,
      startTime: op.startTime.toISOString(),
    })),
    faults: faults.list(),
    deployments: state.resourceManager.deployments.all().map((d) => ({
      subscriptionId: d.subscriptionId,
      resourceGroup: d.resourceGroup,
      name: d.name,
      provisioningState: deploymentState(d),
      tags: d.tags,
      operations: d.operations.map((op) => ({ resourceName: op.resourceName, state: op.state, error: op.error })),
    })),
  };
}

export interface LabSnapshot extends Pick<Lab, 'subscriptionId' | 'resourceGroup' | 'name' | 'location' | 'storageAccount' | 'denyAccess' | 'tags'> {
  id: string;
  vms: {
    name: string;
    id: string;
    tags: Record<string, string>;
    osType: string;
    powerState: string;
    provisioningState: string;
    notes?: string;
    computeId: string;
    diskId: string;
    diskName: string;
    diskState: string;
    diskSizeGB: number;
    hyperVGeneration: string;
    size: string;
    artifacts: { artifactId: string; status: string }[];
    securityType: string;
    dataDiskIds: string[];
  }[];
  customImages: {
    name: string;
    id: string;
    tags: Record<string, string>;
    osType: string;
    provisioningState: string;
    creationDate: string;
    author?: string;
    description?: string;
    vhd?: unknown;
  }[];
  blobs: { container: string; name: string; sizeBytes: number; metadata: Record<string, string>; copyStatus?: string; copyProgress?: string }[];
  /** The attached Azure Compute Gallery, with the images enabled one by one. */
  sharedGallery?: { name: string; galleryId: string; allowAllImages: string; enableStates: Record<string, string> };
}

async function snapshotLab(options: ControlOptions, lab: Lab): Promise<LabSnapshot> {
  const blobs = await options.blob.listBlobs(lab.storageAccount, UPLOADS_CONTAINER);
  return {
    id: labId(lab),
    subscriptionId: lab.subscriptionId,
    resourceGroup: lab.resourceGroup,
    name: lab.name,
    location: lab.location,
    storageAccount: lab.storageAccount,
    denyAccess: lab.denyAccess,
    tags: lab.tags,
    vms: lab.vms.map(({ name, tags, notes, compute, artifacts }) => ({
      name,
      id: labVmId(lab, { name }),
      tags,
      osType: compute.osType,
      powerState: compute.powerState,
      provisioningState: compute.provisioningState,
      notes,
      computeId: computeVmId(compute),
      diskId: diskId(compute.osDisk),
      diskName: compute.osDisk.name,
      diskState: diskState(compute.osDisk),
      diskSizeGB: compute.osDisk.sizeGB,
      size: compute.size,
      artifacts: (artifacts ?? []).map((a) => ({ ...a })),
      hyperVGeneration: compute.hyperVGeneration,
      securityType: compute.securityType,
      dataDiskIds: compute.dataDisks.map((d) => diskId(d.disk)),
    })),
    customImages: lab.customImages.map((image) => ({
      name: image.name,
      id: customImageId(lab, image),
      tags: image.tags,
      osType: image.osType,
      provisioningState: image.provisioningState,
      creationDate: image.creationDate,
      author: image.author,
      description: image.description,
      vhd: image.vhd,
    })),
    blobs: blobs.map((item) => ({ container: UPLOADS_CONTAINER, ...item })),
    ...(lab.sharedGallery
      ? {
          sharedGallery: {
            name: lab.sharedGallery.name,
            galleryId: lab.sharedGallery.galleryId,
            allowAllImages: lab.sharedGallery.allowAllImages,
            enableStates: Object.fromEntries(lab.sharedGallery.enableStates),
          },
        }
      : {}),
  };
}
