import { randomUUID } from 'node:crypto';
import { ok, type Reply } from '../http';
import type { ArmContext, ArmRequest } from '../resourceManager/context';
import { authorizationFailed, invalidRequestContent, parentResourceNotFound, resourceGroupNotFound, resourceNotFound } from '../resourceManager/errors';
import { page } from '../resourceManager/paging';
import { optionalObject } from '../resourceManager/requestBody';
import { UPLOADS_CONTAINER, type Lab } from './state';
import { labView } from './views';

/** DevTest Labs labs: get, list, upload URIs and the VHDs in the lab's uploads container. */

const UPLOAD_SAS_LIFETIME_MS = 24 * 3600 * 1000;

/** The lab a request names; 404 for a missing one, 403 for one the principal may not access. */
export function resolveLab(request: ArmRequest, options: { asParent?: boolean } = {}): Lab {
  const { subscriptionId, resourceGroupName, labName } = request.params;
  const { state } = request.context;
  const lab = state.devTestLabs.findLab(subscriptionId, resourceGroupName, labName);
  if (lab?.denyAccess) throw authorizationFailed(request);
  if (!lab) {
    if (!state.resourceManager.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
    throw options.asParent
      ? parentResourceNotFound('Microsoft.DevTestLab/labs', labName)
      : resourceNotFound('Microsoft.DevTestLab/labs', labName, resourceGroupName);
  }
  return lab;
}

export function getLab(request: ArmRequest): Reply {
  return ok(labView(resolveLab(request)));
}

export function listLabsBySubscription(request: ArmRequest): Reply {
  // Like ARM, a list shows only what the principal may read.
  const labs = request.context.state.devTestLabs.labsIn(request.params.subscriptionId).filter((lab) => !lab.denyAccess);
  return page(request, labs, labView);
}

export function listLabsByResourceGroup(request: ArmRequest): Reply {
  const { subscriptionId, resourceGroupName } = request.params;
  const { state } = request.context;
  if (!state.resourceManager.resourceGroupExists(subscriptionId, resourceGroupName)) throw resourceGroupNotFound(resourceGroupName);
  const labs = state.devTestLabs.labsIn(subscriptionId, resourceGroupName);
  if (labs.length > 0 && labs.every((lab) => lab.denyAccess)) throw authorizationFailed(request);
  return page(
    request,
    labs.filter((lab) => !lab.denyAccess),
    labView,
  );
}

export function generateUploadUri(request: ArmRequest): Reply {
  const lab = resolveLab(request);
  const body = optionalObject(request.body, 'generateUploadUriParameter');
  let blobName: string = randomUUID();
  if (body?.blobName !== undefined) {
    if (typeof body.blobName !== 'string' || body.blobName.trim() === '' || /[\\?#]/.test(body.blobName)) {
      throw invalidRequestContent(`blobName must be a blob name (no \\ ? #); got ${JSON.stringify(body.blobName)}.`);
    }
    blobName = body.blobName;
  }
  const { blob } = request.context;
  const uploadUri = blob.blobSasUrl(lab.storageAccount, UPLOADS_CONTAINER, blobName, 'rcw', new Date(Date.now() + UPLOAD_SAS_LIFETIME_MS));
  return ok({ uploadUri });
}

export async function listVhds(request: ArmRequest): Promise<Reply> {
  const lab = resolveLab(request);
  const { blob } = request.context;
  const blobs = await blob.listBlobs(lab.storageAccount, UPLOADS_CONTAINER);
  return ok({ value: blobs.map((item) => ({ id: blobUrl(request.context, lab.storageAccount, UPLOADS_CONTAINER, item.name) })) });
}

export function blobUrl(context: ArmContext, account: string, container: string, blobName: string): string {
  const encoded = blobName.split('/').map(encodeURIComponent).join('/');
  return `${context.blob.accountUrl(account).replace(/\/+$/, '')}/${container}/${encoded}`;
}

/** Account, container and blob of a blob URL of one of the labs' accounts; undefined for any other URL. */
export function parseLabBlobUrl(context: ArmContext, url: string): { account: string; container: string; blob: string } | undefined {
  const bare = url.split(/[?#]/)[0];
  for (const account of context.state.storage.accountNames()) {
    const prefix = `${context.blob.accountUrl(account).replace(/\/+$/, '')}/`;
    if (!bare.toLowerCase().startsWith(prefix.toLowerCase())) continue;
    const rest = bare.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1) return undefined;
    try {
      return { account, container: rest.slice(0, slash), blob: decodeURIComponent(rest.slice(slash + 1)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
