import type { DevTestLabsClient } from '@azure/arm-devtestlabs';
import { createHttpHeaders, createPipelineRequest, RestError, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { LabRef } from './labs';
import { sleep } from './retryPolicy';

/**
 * DevTest Labs shared galleries (api-version 2018-10-15-preview), which @azure/arm-devtestlabs 4 (API
 * 2018-09-15) has no operations for: sent through the DevTest Labs client's own pipeline, so they go
 * over HTTPS with the same credential, token refresh and retries as every other Resource Manager call.
 * Lab VMs from shared images are created here too, as only this version has `sharedImageId`.
 */

export const SHARED_GALLERY_API_VERSION = '2018-10-15-preview';

export interface LabSharedGallery {
  id: string;
  name: string;
  galleryId: string;
  allowAllImages: 'Enabled' | 'Disabled';
}

export interface LabSharedImage {
  id: string;
  name: string;
  definitionName: string;
  enableState: 'Enabled' | 'Disabled';
  osType?: string;
}

export interface LabSharedGalleriesContext {
  devTestLabs(subscriptionId: string): DevTestLabsClient;
  readonly pollIntervalMs: number;
}

interface CallOptions {
  signal?: AbortSignal;
}

interface ArmResource {
  id?: string;
  name?: string;
  properties?: Record<string, unknown>;
}

export class LabSharedGalleries {
  constructor(
    private readonly context: LabSharedGalleriesContext,
    private readonly endpoint: string,
  ) {}

  async list(lab: LabRef, options: CallOptions = {}): Promise<LabSharedGallery[]> {
    const items = await this.listAll(lab, `${labPath(lab)}/sharedgalleries`, options);
    return items.map((item) => ({
      id: item.id ?? '',
      name: item.name ?? '',
      galleryId: String(item.properties?.galleryId ?? ''),
      allowAllImages: item.properties?.allowAllImages === 'Enabled' ? 'Enabled' : 'Disabled',
    }));
  }

  /** Attaches `galleryId` to the lab as `name`, with every image disabled until enabled one by one. */
  async attach(lab: LabRef, name: string, galleryId: string, options: CallOptions = {}): Promise<void> {
    await this.send(lab, 'PUT', `${labPath(lab)}/sharedgalleries/${encodeURIComponent(name)}`, { properties: { galleryId, allowAllImages: 'Disabled' } }, options);
  }

  async listImages(lab: LabRef, galleryName: string, options: CallOptions = {}): Promise<LabSharedImage[]> {
    const items = await this.listAll(lab, `${labPath(lab)}/sharedgalleries/${encodeURIComponent(galleryName)}/sharedimages`, options);
    return items.map((item) => ({
      id: item.id ?? '',
      name: item.name ?? '',
      definitionName: String(item.properties?.definitionName ?? item.name ?? ''),
      enableState: item.properties?.enableState === 'Enabled' ? 'Enabled' : 'Disabled',
      osType: typeof item.properties?.osType === 'string' ? item.properties.osType : undefined,
    }));
  }

  async setImageState(lab: LabRef, galleryName: string, definitionName: string, enableState: 'Enabled' | 'Disabled', options: CallOptions = {}): Promise<void> {
    const path = `${labPath(lab)}/sharedgalleries/${encodeURIComponent(galleryName)}/sharedimages/${encodeURIComponent(definitionName)}`;
    await this.send(lab, 'PUT', path, { properties: { definitionName, enableState } }, options);
  }

  /** Creates a lab VM from a shared image and waits until it has provisioned (or failed). */
  async createVm(lab: LabRef, vmName: string, properties: Record<string, unknown>, options: CallOptions = {}): Promise<ArmResource> {
    const path = `${labPath(lab)}/virtualmachines/${encodeURIComponent(vmName)}`;
    const response = await this.send(lab, 'PUT', path, { location: lab.location, properties }, options);
    const status = response.headers.get('azure-asyncoperation');
    if (status && (response.status === 201 || response.status === 202)) await this.waitForOperation(lab, status, options);
    return parse(await this.send(lab, 'GET', path, undefined, options)) as ArmResource;
  }

  private async waitForOperation(lab: LabRef, url: string, options: CallOptions): Promise<void> {
    for (;;) {
      const response = await this.sendUrl(lab, 'GET', url, undefined, options);
      const body = parse(response) as { status?: string; error?: { code?: string; message?: string } };
      if (body.status === 'Succeeded') return;
      if (body.status === 'Failed' || body.status === 'Canceled') {
        // The SDK pollers' wording, so a failed operation is reported the same way on every route.
        throw new Error(`The long-running operation has failed. ${body.error?.code ?? 'Failed'}. ${body.error?.message ?? ''}`);
      }
      const retryAfter = Number(response.headers.get('retry-after'));
      await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : this.context.pollIntervalMs, options.signal);
    }
  }

  private async listAll(lab: LabRef, path: string, options: CallOptions): Promise<ArmResource[]> {
    const items: ArmResource[] = [];
    let response = await this.send(lab, 'GET', path, undefined, options);
    for (;;) {
      const page = parse(response) as { value?: ArmResource[]; nextLink?: string };
      items.push(...(page.value ?? []));
      if (!page.nextLink) return items;
      response = await this.sendUrl(lab, 'GET', page.nextLink, undefined, options);
    }
  }

  private send(lab: LabRef, method: 'GET' | 'PUT' | 'DELETE', path: string, body: unknown, options: CallOptions): Promise<PipelineResponse> {
    const url = new URL(path, this.endpoint);
    url.searchParams.set('api-version', SHARED_GALLERY_API_VERSION);
    return this.sendUrl(lab, method, url.toString(), body, options);
  }

  private async sendUrl(lab: LabRef, method: 'GET' | 'PUT' | 'DELETE', url: string, body: unknown, options: CallOptions): Promise<PipelineResponse> {
    const request = createPipelineRequest({
      url,
      method,
      abortSignal: options.signal,
      headers: createHttpHeaders({ accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const response = await this.context.devTestLabs(lab.subscriptionId).sendRequest(request);
    if (response.status >= 400) {
      const error = (parseSafe(response.bodyAsText) as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new RestError(error?.message ?? `HTTP ${response.status}`, { code: error?.code, statusCode: response.status, request, response });
    }
    return response;
  }
}

function labPath(lab: LabRef): string {
  return `/subscriptions/${lab.subscriptionId}/resourceGroups/${lab.resourceGroup}/providers/Microsoft.DevTestLab/labs/${encodeURIComponent(lab.name)}`;
}

function parse(response: PipelineResponse): unknown {
  return parseSafe(response.bodyAsText) ?? {};
}

function parseSafe(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
