import type { DevTestLabsClient, Lab } from '@azure/arm-devtestlabs';
import type { TokenCredential } from '@azure/core-auth';
import { BlobSASPermissions, BlobServiceClient, ContainerClient, type Pipeline, type UserDelegationKey } from '@azure/storage-blob';
import { AbortError } from '@azure/abort-controller';
import { ErrorCodes, FactoryError } from '../errors';
import type { Reporter } from '../report';
import { callAzure } from './azureErrors';
import { type BlobDataAccess, blobDataRolePolicyFactory } from './blobDataRoles';
import { STORAGE_SCOPE } from './serviceConnection';
import { storagePipeline, type StorageRetrySettings } from './storageClients';

/** The signed version of the read SAS of a lab's blob. */
const USER_DELEGATION_SAS_VERSION = '2025-11-05';

export interface LabRef {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
}

/** What the lab directory needs from the Azure context. */
export interface LabDirectoryContext {
  devTestLabs(subscriptionId: string): DevTestLabsClient;
  readonly credential: TokenCredential;
  readonly reporter: Reporter;
  readonly storageRetryOptions?: StorageRetrySettings;
}

/**
 * Finds labs by name. Each subscription's labs are listed at most once per run: a run over many labs
 * asks Resource Manager once per subscription, not once per lab.
 */
export class LabDirectory {
  /** Each subscription's labs, kept as references only: a subscription may hold thousands. */
  private readonly listings = new Map<string, Promise<SubscriptionLabs>>();
  private readonly storages = new Map<string, LabStorage>();
  private readonly containers: LabContainers;

  constructor(private readonly context: LabDirectoryContext) {
    this.containers = new LabContainers(context);
  }

  async find(subscriptionId: string, labName: string, options: { resourceGroup?: string; signal?: AbortSignal } = {}): Promise<LabRef> {
    options.signal?.throwIfAborted();
    const wanted = labName.toLowerCase();
    const wantedGroup = options.resourceGroup?.toLowerCase();
    let labs: SubscriptionLabs;
    try {
      labs = await untilAborted(this.list(subscriptionId), options.signal);
    } catch (error) {
      // An identity with roles on a resource group only may not list the subscription; with the
      // resource group known, the lab can still be read directly.
      if (!(options.resourceGroup && error instanceof FactoryError && error.code === ErrorCodes.AuthorizationFailed)) throw error;
      labs = subscriptionLabs([await this.get(subscriptionId, options.resourceGroup, labName, options.signal)].flatMap((lab) => toLabRef(lab, subscriptionId) ?? []));
    }
    const matches = (labs.byName.get(wanted) ?? []).filter((lab) => !wantedGroup || lab.resourceGroup.toLowerCase() === wantedGroup);
    if (matches.length === 1) return matches[0];
    const where = `subscription ${subscriptionId}${options.resourceGroup ? `, resource group '${options.resourceGroup}'` : ''}`;
    if (matches.length > 1) {
      throw new FactoryError(
        ErrorCodes.LabNameAmbiguous,
        `There are ${matches.length} labs named '${labName}' in ${where}: in resource groups ${matches.map((l) => `'${l.resourceGroup}'`).join(', ')}.`,
        { fix: "Name the lab's resource group as well, or rename one of the labs.", subject: labName },
      );
    }
    const known = labs.all.map((lab) => lab.name).filter(Boolean);
    throw new FactoryError(
      ErrorCodes.LabNotFound,
      `Lab '${labName}' was not found in ${where}. ${
        known.length ? `Labs the service connection can see there: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}.` : 'The service connection can see no labs there.'
      }`,
      {
        fix: "Check the lab's name and subscription, and give the service connection's identity at least Reader on the lab (Contributor for tasks that change it).",
        subject: labName,
      },
    );
  }

  /** The lab's storage; cached per lab. */
  storage(lab: LabRef): LabStorage {
    const key = lab.id.toLowerCase();
    let storage = this.storages.get(key);
    if (!storage) {
      storage = new LabStorage(lab, this.context, this.containers);
      this.storages.set(key, storage);
    }
    return storage;
  }

  private get(subscriptionId: string, resourceGroup: string, labName: string, signal: AbortSignal | undefined): Promise<Lab> {
    return callAzure(
      `Reading lab '${labName}' in resource group '${resourceGroup}' of subscription ${subscriptionId}`,
      () => this.context.devTestLabs(subscriptionId).labs.get(resourceGroup, labName, { abortSignal: signal }),
      { notFound: ErrorCodes.LabNotFound, subject: labName },
    );
  }

  private list(subscriptionId: string): Promise<SubscriptionLabs> {
    const key = subscriptionId.toLowerCase();
    let listing = this.listings.get(key);
    if (!listing) {
      // No caller's signal: the listing is shared, and one caller's cancel must not fail the others.
      listing = callAzure(`Listing the DevTest Labs of subscription ${subscriptionId}`, async () => {
        const labs: LabRef[] = [];
        for await (const lab of this.context.devTestLabs(subscriptionId).labs.listBySubscription()) {
          const ref = toLabRef(lab, subscriptionId);
          if (ref) labs.push(ref);
        }
        this.context.reporter.debug(`Subscription ${subscriptionId} has ${labs.length} lab(s) the service connection can see.`);
        return subscriptionLabs(labs);
      }, { subject: subscriptionId });
      this.listings.set(key, listing);
    }
    return listing;
  }
}

/**
 * A subscription's labs, in listing order and by lower-case name: finding each of thousands of labs
 * by scanning the whole list made garbage in proportion to labs squared, which the heap kept growing by.
 */
interface SubscriptionLabs {
  all: readonly LabRef[];
  byName: ReadonlyMap<string, readonly LabRef[]>;
}

function subscriptionLabs(all: readonly LabRef[]): SubscriptionLabs {
  const byName = new Map<string, LabRef[]>();
  for (const lab of all) {
    const key = lab.name.toLowerCase();
    const same = byName.get(key);
    if (same) same.push(lab);
    else byName.set(key, [lab]);
  }
  return { all, byName };
}

/** A lab's storage account, reached the ways DevTest Labs allows: upload URIs, and Azure AD on the `uploads` container. */
export class LabStorage {
  /** The container's URL, not a client: a client is made on each call, on the run's one pipeline. */
  private containerUrl?: Promise<string>;
  private lastUploadUri?: string;

  constructor(
    readonly lab: LabRef,
    private readonly context: LabDirectoryContext,
    private readonly containers: LabContainers,
  ) {}

  /** A blob SAS URL (sp=rcw) for `blobName` in the lab's `uploads` container; the SAS is masked. */
  async uploadUri(blobName: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const { lab } = this;
    const result = await callAzure(
      `Asking lab '${lab.name}' for an upload URI for '${blobName}'`,
      () =>
        this.context
          .devTestLabs(lab.subscriptionId)
          .labs.generateUploadUri(lab.resourceGroup, lab.name, { blobName }, { abortSignal: options.signal }),
      { notFound: ErrorCodes.LabNotFound, subject: lab.name },
    );
    const uri = result.uploadUri;
    if (!uri) {
      throw new FactoryError(ErrorCodes.AzureRequestFailed, `Lab '${lab.name}' gave no upload URI for '${blobName}'.`, {
        fix: 'Run again; if it persists, check the lab in the Azure portal.',
        subject: lab.name,
      });
    }
    maskSas(uri, this.context.reporter);
    this.lastUploadUri = uri;
    return uri;
  }

  /** The `uploads` container with Azure AD (bearer) access: list with metadata, read, delete. */
  async containerClient(options: { signal?: AbortSignal } = {}): Promise<ContainerClient> {
    if (!this.containerUrl) {
      const made = (async () => {
        // Any upload URI names the container; one made earlier in the run saves a request.
        const uri = this.lastUploadUri ?? (await this.uploadUri('imagefactory-container-probe.vhd', options));
        return this.containers.add(this.lab, containerUrlFromUploadUri(uri));
      })();
      this.containerUrl = made;
      made.catch(() => {
        if (this.containerUrl === made) this.containerUrl = undefined;
      });
    }
    return this.containers.client(await untilAborted(this.containerUrl, options.signal));
  }

  /**
   * A read-only SAS URL of one blob of the `uploads` container, valid until `expiresOn`: a user delegation
   * SAS, signed with a key the connection's identity asks the account for (any Storage Blob Data role at the
   * account allows it; one on the container alone does not). Upload URIs cannot serve here: DevTest Labs
   * signs them read-create-write for a day. The SAS is masked.
   */
  async readSasUrl(blobName: string, options: { expiresOn: Date; signal?: AbortSignal }): Promise<string> {
    const container = await this.containerClient(options);
    const serviceUrl = container.url.slice(0, container.url.lastIndexOf('/'));
    const { key, startsOn } = await this.containers.delegationKey(serviceUrl, options.expiresOn, options.signal);
    const url = await container.getBlobClient(blobName).generateUserDelegationSasUrl(
      // A signed version storage has long taken (the SDK's newest is not yet served everywhere, emulators included).
      { permissions: BlobSASPermissions.parse('r'), startsOn, expiresOn: options.expiresOn, version: USER_DELEGATION_SAS_VERSION },
      key,
    );
    maskSas(url, this.context.reporter);
    return url;
  }
}

/**
 * The labs' `uploads` containers, reached with the connection's own token through one storage pipeline
 * for the run: one token cache and one set of policies however many labs a run reads (a pipeline per
 * lab, kept with its container, held some 15 KB, 75 MB over 5,000 labs). Which lab a refused request
 * was for, for the missing-role error, is told from its URL.
 */
/** A user delegation key is asked for with this much time past the SAS it signs first, so later ones can share it. */
const DELEGATION_KEY_SPARE_MS = 60 * 60_000;
/** Azure gives a user delegation key seven days at most. */
const DELEGATION_KEY_MAX_MS = 7 * 24 * 60 * 60_000;

class LabContainers {
  private pipeline?: Pipeline;
  /** By `account/container`, lower case. */
  private readonly labs = new Map<string, LabRef>();
  /** By account, lower case: a lab's account holds its one `uploads` container. */
  private readonly byAccount = new Map<string, LabRef>();
  /** User delegation keys by service URL, lower case. */
  private readonly keys = new Map<string, { key: Promise<{ key: UserDelegationKey; startsOn: Date }>; expiresOnMs: number }>();

  constructor(private readonly context: LabDirectoryContext) {}

  /** Registers a lab's container; returns its URL. */
  add(lab: LabRef, containerUrl: string): string {
    const where = accountAndContainer(containerUrl);
    this.labs.set(containerKey(where), lab);
    this.byAccount.set(where.account.toLowerCase(), lab);
    return containerUrl;
  }

  client(containerUrl: string): ContainerClient {
    return new ContainerClient(containerUrl, this.bearerPipeline());
  }

  /** The account's blob service (a user delegation key is asked of the account, not of a container). */
  service(serviceUrl: string): BlobServiceClient {
    return new BlobServiceClient(serviceUrl, this.bearerPipeline());
  }

  /**
   * A user delegation key of the account at `serviceUrl` valid at least until `expiresOn`. One key signs
   * every SAS of the account the run needs within its lifetime (a request less per copy read from a lab);
   * it is asked for with an hour to spare, and again once a SAS would outlive it. Kept in memory only.
   */
  delegationKey(serviceUrl: string, expiresOn: Date, signal?: AbortSignal): Promise<{ key: UserDelegationKey; startsOn: Date }> {
    const account = serviceUrl.toLowerCase();
    const cached = this.keys.get(account);
    if (cached && cached.expiresOnMs >= expiresOn.getTime()) return untilAborted(cached.key, signal);
    // The key may start a little early: a storage front whose clock runs behind still takes it.
    const startsOn = new Date(Date.now() - 5 * 60_000);
    const keyExpiresOn = new Date(Math.min(expiresOn.getTime() + DELEGATION_KEY_SPARE_MS, startsOn.getTime() + DELEGATION_KEY_MAX_MS));
    // Shared by every copy that asks meanwhile, so no one copy's signal cancels it; each stops waiting on its own.
    const key = this.service(serviceUrl)
      .getUserDelegationKey(startsOn, keyExpiresOn)
      .then((value) => ({ key: value, startsOn }));
    const entry = { key, expiresOnMs: keyExpiresOn.getTime() };
    this.keys.set(account, entry);
    // A refused or cancelled request is not kept: the next copy asks again (and a missing role is told then).
    key.catch(() => {
      if (this.keys.get(account) === entry) this.keys.delete(account);
    });
    return untilAborted(key, signal);
  }

  private bearerPipeline(): Pipeline {
    if (!this.pipeline) {
      const pipeline = storagePipeline(this.context.credential, this.context.storageRetryOptions, STORAGE_SCOPE);
      // Only these requests carry the connection's own token, so only they need a Storage Blob Data role.
      pipeline.factories.unshift(blobDataRolePolicyFactory((url) => this.access(url)));
      this.pipeline = pipeline;
    }
    return this.pipeline;
  }

  /** Who a refused request was for: the lab of its container, or of its account for an account-level request. */
  private access(url: string): BlobDataAccess | undefined {
    const where = accountAndContainer(url);
    const lab = where.container ? this.labs.get(containerKey(where)) : this.byAccount.get(where.account.toLowerCase());
    return lab && { credential: this.context.credential, lab, account: where.account, container: where.container || 'uploads' };
  }
}

const containerKey = (where: { account: string; container: string }) => `${where.account}/${where.container}`.toLowerCase();

/**
 * The container URL (no SAS, no blob name) of an upload URI, for account-host URLs
 * (`https://acct.blob.core.windows.net/uploads/x.vhd`) and path-style URLs of emulators and private
 * endpoints (`https://127.0.0.1:10000/acct/uploads/x.vhd`).
 */
export function containerUrlFromUploadUri(uploadUri: string): string {
  let url: URL;
  try {
    url = new URL(uploadUri);
  } catch {
    throw new FactoryError(ErrorCodes.AzureRequestFailed, 'DevTest Labs returned an upload URI that is not a URL.', {
      fix: 'Run again; if it persists, check the lab in the Azure portal.',
    });
  }
  const segments = url.pathname.split('/').filter(Boolean);
  const containerIndex = isPathStyle(url) ? 1 : 0;
  if (segments.length < containerIndex + 2) {
    throw new FactoryError(ErrorCodes.AzureRequestFailed, `DevTest Labs returned an upload URI without a container and blob: ${url.origin}${url.pathname}.`, {
      fix: 'Run again; if it persists, check the lab in the Azure portal.',
    });
  }
  return `${url.origin}/${segments.slice(0, containerIndex + 1).join('/')}`;
}

/** The storage account and container of a container or blob URL (account-host or path-style). */
function accountAndContainer(containerUrl: string): { account: string; container: string } {
  const url = new URL(containerUrl);
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  return isPathStyle(url)
    ? { account: segments[0], container: segments[1] }
    : { account: url.hostname.split('.')[0], container: segments[0] };
}

/** Path-style blob URLs put the account in the path: IP hosts and `localhost`, as the storage SDK reads them. */
function isPathStyle(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/** Masks a SAS URL and its signature, so neither appears in the log. */
export function maskSas(url: string, reporter: Reporter): void {
  reporter.maskSecret(url);
  try {
    const sig = new URL(url).searchParams.get('sig');
    if (sig) {
      reporter.maskSecret(sig);
      reporter.maskSecret(encodeURIComponent(sig));
    }
  } catch {
    // Not a URL: the whole value is masked already.
  }
}

/** The URL without its query: what may be logged of a SAS URL. */
export function withoutQuery(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
}

/** When a SAS URL stops working (its `se`), or undefined when it does not say. */
export function sasExpiresAtMs(url: string): number | undefined {
  try {
    const expiry = new URL(url).searchParams.get('se');
    const at = expiry ? Date.parse(expiry) : NaN;
    return Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

function toLabRef(lab: Lab, subscriptionId: string): LabRef | undefined {
  if (!lab.id || !lab.name) return undefined;
  const resourceGroup = /\/resourceGroups\/([^/]+)/i.exec(lab.id)?.[1];
  if (!resourceGroup) return undefined;
  const subscription = /\/subscriptions\/([^/]+)/i.exec(lab.id)?.[1] ?? subscriptionId;
  return { id: lab.id, subscriptionId: subscription, resourceGroup, name: lab.name, location: lab.location ?? '' };
}

/** Waits for a shared promise, giving up (with AbortError) when this caller's signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new AbortError('The operation was aborted.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError('The operation was aborted.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
