import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import {
  AnonymousCredential,
  BlobClient,
  BlobServiceClient,
  ContainerClient,
  RestError,
  StorageSharedKeyCredential,
  type BlobBeginCopyFromUrlPollState,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import {
  DISKS_ACCOUNT,
  DISKS_CONTAINER,
  pageBlobHeader,
  startBlobService,
  type BlobService,
} from '../../local-azure/storage/blobService';
import { createRsaKeyPair, issueServerCertificate, loadOrCreateCa } from '../../local-azure/certs';
import { FaultPlan } from '../../local-azure/faults';
import { Metrics } from '../../local-azure/metrics';

/**
 * Blob storage of the local Azure through the real @azure/storage-blob SDK over HTTPS: authentication
 * as for lab storage accounts (SAS, Azure AD, no shared key), asynchronous copies with visible
 * progress, abort, failures and disk grants.
 */

const LAB = 'labone';
const OTHER_LAB = 'labtwo';
const MIB = 1024 * 1024;
/** 8 MiB at 8 MB/s: each copy stays pending for about a second. */
const DISK_BYTES = 8 * MIB;
const COPY_RATE_MBPS = 8;
const STORAGE = 'https://storage.azure.com/';

const TOKENS: Record<string, { principalId: string; audience: string }> = {
  'token-contributor': { principalId: 'contributor', audience: STORAGE },
  'token-outsider': { principalId: 'outsider', audience: 'https://storage.azure.com' },
  'token-arm': { principalId: 'contributor', audience: 'https://management.azure.com/' },
};

function tokenCredential(token: string): TokenCredential {
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function expectRestError(promise: Promise<unknown>, status: number, code: string): Promise<RestError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RestError, `expected RestError ${status} ${code}, got ${String(error)}`);
    assert.equal(error.statusCode, status, `status of ${error.message}`);
    const errorCode = error.response?.headers.get('x-ms-error-code') ?? error.code;
    assert.equal(errorCode, code, error.message);
    return error;
  }
  assert.fail(`expected RestError ${status} ${code}, but the call succeeded`);
}

function copyIdOf(state: unknown): string {
  const copyId = (state as BlobBeginCopyFromUrlPollState).copyId;
  assert.ok(copyId, 'the copy has an id');
  return copyId;
}

function progressOf(value: string | undefined): { copied: number; total: number } {
  const match = /^(\d+)\/(\d+)$/.exec(value ?? '');
  assert.ok(match, `copy progress ${value}`);
  return { copied: Number(match[1]), total: Number(match[2]) };
}

describe('blob storage (Azurite behind the HTTPS front)', function () {
  this.timeout(30_000);
  let service: BlobService;
  let clientOptions: StoragePipelineOptions;
  const faults = new FaultPlan();
  const metrics = new Metrics();

  const sasClient = (url: string): BlobClient => new BlobClient(url, new AnonymousCredential(), clientOptions);
  const uploadClient = (blob: string, account = LAB): BlobClient =>
    sasClient(service.blobSasUrl(account, 'uploads', blob, 'rcw', new Date(Date.now() + 3600_000)));
  const aadContainer = (token: string, account = LAB): ContainerClient =>
    new BlobServiceClient(service.accountUrl(account), tokenCredential(token), clientOptions).getContainerClient('uploads');

  let diskCount = 0;
  async function newDisk(): Promise<string> {
    const name = `vm${++diskCount}-osdisk`;
    await service.createPageBlob(DISKS_ACCOUNT, DISKS_CONTAINER, name, DISK_BYTES);
    return name;
  }

  before(async () => {
    const ca = await loadOrCreateCa();
    const certificate = issueServerCertificate(ca, ['127.0.0.1', 'localhost'], await createRsaKeyPair());
    service = await startBlobService({
      tls: { key: certificate.keyPem, cert: certificate.certPem },
      accounts: [LAB, OTHER_LAB],
      copyRateMBps: COPY_RATE_MBPS,
      verifyBearer: (token) => TOKENS[token],
      canAccessData: (principalId, account) => principalId === 'contributor' && account === LAB,
      faults,
      metrics,
    });
    // tlsOptions reaches the SDK's HTTP pipeline; StoragePipelineOptions does not declare it.
    clientOptions = {
      tlsOptions: { ca: ca.certPem },
      retryOptions: { maxTries: 4, retryDelayInMs: 50, maxRetryDelayInMs: 200 },
    } as StoragePipelineOptions;
  });

  after(async () => {
    await service?.stop();
  });

  afterEach(() => faults.replace([]));

  it('serves path-style HTTPS URLs per account, with an uploads container in each lab account', async () => {
    assert.match(service.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(service.accountUrl(LAB), `${service.url}/${LAB}`);
    assert.deepEqual(await service.listBlobs(OTHER_LAB, 'uploads'), []);
    const note = uploadClient('notes/hello.txt').getBlockBlobClient();
    await note.upload('hello', 5, { metadata: { purpose: 'test' } });
    assert.equal((await note.downloadToBuffer()).toString(), 'hello');
    const listed = await service.listBlobs(LAB, 'uploads');
    const item = listed.find((b) => b.name === 'notes/hello.txt');
    assert.deepEqual(item && { size: item.sizeBytes, metadata: item.metadata }, { size: 5, metadata: { purpose: 'test' } });
    assert.deepEqual(await service.blobExists(LAB, 'uploads', 'notes/hello.txt'), { sizeBytes: 5, copyStatus: undefined });
    assert.equal(await service.blobExists(LAB, 'uploads', 'absent.txt'), undefined);

    const readOnly = sasClient(service.blobSasUrl(LAB, 'uploads', 'notes/hello.txt', 'r', new Date(Date.now() + 3600_000)));
    assert.equal((await readOnly.downloadToBuffer()).toString(), 'hello');
    await expectRestError(readOnly.getBlockBlobClient().upload('x', 1), 403, 'AuthorizationPermissionMismatch');
    const expired = sasClient(service.blobSasUrl(LAB, 'uploads', 'notes/hello.txt', 'r', new Date(Date.now() - 1000)));
    await expectRestError(expired.getProperties(), 403, 'AuthenticationFailed');
  });

  it('copies between lab accounts with an upload URI as the source, as distribution does', async () => {
    const store = uploadClient('store-image.vhd');
    await service.createPageBlob(LAB, 'uploads', 'store-image.vhd', DISK_BYTES / 4, { metadata: { imagename: 'store' } });
    const target = uploadClient('staging-image.vhd', OTHER_LAB);
    const poller = await target.beginCopyFromURL(store.url, { metadata: { staging: 'true' }, intervalInMs: 50 });
    assert.equal((await target.getProperties()).copyStatus, 'pending');
    assert.equal((await poller.pollUntilDone()).copyStatus, 'success');
    const copied = await target.downloadToBuffer(0, 512);
    assert.deepEqual(copied, pageBlobHeader(LAB, 'uploads', 'store-image.vhd', DISK_BYTES / 4));
    assert.deepEqual((await target.getProperties()).metadata, { staging: 'true' });
  });

  it('copies a disk into a lab asynchronously: pending with growing progress, then success at the modelled time', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    assert.ok(service.activeDiskGrants().includes(disk));
    const destination = uploadClient('image-one.vhd');
    const startsBefore = metrics.snapshot().byOperation.Blob_StartCopy ?? 0;
    const started = Date.now();
    const poller = await destination.beginCopyFromURL(source, { metadata: { imagename: 'image-one' }, intervalInMs: 100 });
    const copyId = copyIdOf(poller.getOperationState());
    assert.equal(metrics.snapshot().byOperation.Blob_StartCopy, startsBefore + 1);

    const first = await destination.getProperties();
    assert.equal(first.copyStatus, 'pending');
    assert.equal(first.copyId, copyId);
    assert.equal(first.blobType, 'PageBlob');
    assert.deepEqual(first.metadata, { imagename: 'image-one' }, 'metadata from the copy request is there from the start');
    const p1 = progressOf(first.copyProgress);
    assert.equal(p1.total, DISK_BYTES);
    assert.ok(p1.copied < DISK_BYTES);
    assert.equal(first.copySource, source);

    const listed = [];
    for await (const item of aadContainer('token-contributor').listBlobsFlat({ includeCopy: true, includeMetadata: true })) {
      if (item.name === 'image-one.vhd') listed.push(item);
    }
    assert.equal(listed[0]?.properties.copyStatus, 'pending');
    assert.equal(listed[0]?.properties.copyId, first.copyId);
    assert.deepEqual(listed[0]?.metadata, { imagename: 'image-one' });
    for await (const item of aadContainer('token-contributor').listBlobsFlat({ prefix: 'image-one' })) {
      assert.equal(item.properties.copyId, undefined, 'copy properties only when asked for (include=copy)');
    }

    await sleep(250);
    const second = await destination.getProperties();
    assert.equal(second.copyStatus, 'pending');
    const p2 = progressOf(second.copyProgress);
    assert.ok(p2.copied > p1.copied, `progress grows: ${p1.copied} then ${p2.copied}`);

    const done = await poller.pollUntilDone();
    assert.equal(done.copyStatus, 'success');
    const elapsed = Date.now() - started;
    const modelledMs = (DISK_BYTES / (COPY_RATE_MBPS * MIB)) * 1000;
    assert.ok(elapsed >= modelledMs - 50, `success after ${elapsed} ms, modelled ${modelledMs} ms`);
    const final = await destination.getProperties();
    assert.equal(final.copyStatus, 'success');
    assert.equal(final.copyProgress, `${DISK_BYTES}/${DISK_BYTES}`);
    assert.ok(final.copyCompletedOn instanceof Date);
    assert.equal(final.contentLength, DISK_BYTES);

    const head = await destination.downloadToBuffer(0, 512);
    assert.deepEqual(head, pageBlobHeader(DISKS_ACCOUNT, DISKS_CONTAINER, disk, DISK_BYTES), 'the copy holds the disk bytes');
    const tail = await destination.downloadToBuffer(DISK_BYTES - 512, 512);
    assert.equal(tail.subarray(0, 8).toString('ascii'), 'conectix', 'a fixed VHD footer ends the disk');

    const state = (await service.listBlobs(LAB, 'uploads')).find((b) => b.name === 'image-one.vhd');
    assert.deepEqual(state, {
      name: 'image-one.vhd',
      sizeBytes: DISK_BYTES,
      metadata: { imagename: 'image-one' },
      copyStatus: 'success',
      copyProgress: `${DISK_BYTES}/${DISK_BYTES}`,
    });
    service.revokeDiskRead(disk);
  });

  it('aborts a pending copy, leaving an empty destination that keeps its metadata', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    const destination = uploadClient('aborted.vhd');
    const poller = await destination.beginCopyFromURL(source, { metadata: { imagename: 'aborted' } });
    const copyId = copyIdOf(poller.getOperationState());
    await expectRestError(destination.abortCopyFromURL('not-this-copy'), 409, 'CopyIdMismatch');
    await destination.abortCopyFromURL(copyId);
    const properties = await destination.getProperties();
    assert.equal(properties.copyStatus, 'aborted');
    assert.equal(properties.copyId, copyId);
    assert.equal(properties.contentLength, 0);
    assert.deepEqual(properties.metadata, { imagename: 'aborted' });
    await expectRestError(destination.abortCopyFromURL(copyId), 409, 'NoPendingCopyOperation');
    const listed = await service.listBlobs(LAB, 'uploads');
    assert.equal(listed.find((b) => b.name === 'aborted.vhd')?.copyStatus, 'aborted');
    service.revokeDiskRead(disk);
  });

  it('fails a copy on a copyFailed fault after the given share, with a status description', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    faults.replace([{ operation: 'Blob_StartCopy', kind: 'copyFailed', failAfterPercent: 25, count: 1, match: 'failing' }]);
    const destination = uploadClient('failing.vhd');
    const poller = await destination.beginCopyFromURL(source, { intervalInMs: 100 });
    await assert.rejects(poller.pollUntilDone(), /failed/i);
    const properties = await destination.getProperties();
    assert.equal(properties.copyStatus, 'failed');
    assert.equal(properties.copyProgress, `${DISK_BYTES / 4}/${DISK_BYTES}`);
    assert.match(properties.copyStatusDescription ?? '', /^500 InternalError /);
    assert.equal(properties.contentLength, 0, 'a failed copy leaves an empty blob');
    assert.deepEqual(faults.list(), [{ operation: 'Blob_StartCopy', kind: 'copyFailed', failAfterPercent: 25, count: 0, match: 'failing' }]);
    service.revokeDiskRead(disk);
  });

  it('revoking a disk grant stops its URL at once and fails copies still reading from it', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    const reader = sasClient(source);
    assert.equal((await reader.getProperties()).contentLength, DISK_BYTES);
    const destination = uploadClient('revoked.vhd');
    await destination.beginCopyFromURL(source);
    assert.equal((await destination.getProperties()).copyStatus, 'pending');

    service.revokeDiskRead(disk);
    assert.ok(!service.activeDiskGrants().includes(disk));
    const properties = await destination.getProperties();
    assert.equal(properties.copyStatus, 'failed');
    assert.match(properties.copyStatusDescription ?? '', /^403 AuthenticationFailed/);
    await expectRestError(reader.getProperties(), 403, 'AuthenticationFailed');
    await expectRestError(reader.downloadToBuffer(0, 512), 403, 'AuthenticationFailed');
    await expectRestError(uploadClient('revoked-again.vhd').beginCopyFromURL(source), 403, 'CannotVerifyCopySource');
  });

  it('honours the expiry of a disk grant', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 1);
    assert.ok(service.activeDiskGrants().includes(disk));
    await sleep(1100);
    assert.ok(!service.activeDiskGrants().includes(disk));
    await expectRestError(sasClient(source).getProperties(), 403, 'AuthenticationFailed');
  });

  it('refuses a second copy onto a destination whose copy is pending, and Copy Blob From URL for page blobs', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    const destination = uploadClient('busy.vhd');
    const poller = await destination.beginCopyFromURL(source);
    await expectRestError(destination.beginCopyFromURL(source), 409, 'PendingCopyOperation');
    await destination.abortCopyFromURL(copyIdOf(poller.getOperationState()));
    await expectRestError(uploadClient('sync.vhd').syncCopyFromURL(source), 409, 'InvalidSourceBlobType');
    await expectRestError(uploadClient('nowhere.vhd').beginCopyFromURL(`${service.url}/${LAB}/uploads/none.vhd`), 404, 'CannotVerifyCopySource');
    service.revokeDiskRead(disk);
  });

  it('admits one of two copy starts that race onto the same destination; the other gets 409 PendingCopyOperation', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    for (let round = 0; round < 3; round++) {
      const destination = uploadClient(`raced-${round}.vhd`);
      const starts = await Promise.allSettled([0, 1, 2].map(() => destination.beginCopyFromURL(source)));
      const admitted = starts.filter((s) => s.status === 'fulfilled');
      const refused = starts.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      assert.equal(admitted.length, 1, `round ${round}: one start admitted`);
      for (const { reason } of refused) {
        assert.ok(reason instanceof RestError, String(reason));
        assert.equal(reason.statusCode, 409);
        assert.equal(reason.response?.headers.get('x-ms-error-code'), 'PendingCopyOperation');
      }
      await destination.abortCopyFromURL(copyIdOf((admitted[0] as PromiseFulfilledResult<{ getOperationState(): unknown }>).value.getOperationState()));
    }
    service.revokeDiskRead(disk);
  });

  it('honours a lease on the destination: copies, writes and deletes need its id, and a failed copy still ends', async () => {
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    const destination = sasClient(service.blobSasUrl(LAB, 'uploads', 'leased.vhd', 'rcwd', new Date(Date.now() + 3600_000)));
    await destination.getBlockBlobClient().upload('', 0, { metadata: { claim: 'run-1' } });
    const lease = destination.getBlobLeaseClient();
    const { leaseId } = await lease.acquireLease(15);
    assert.ok(leaseId);
    await expectRestError(destination.beginCopyFromURL(source), 412, 'LeaseIdMissing');
    await expectRestError(destination.beginCopyFromURL(source, { conditions: { leaseId: '5c9b8f0a-9d5e-4c7e-9b1a-000000000000' } }), 412, 'LeaseIdMismatchWithBlobOperation');
    await expectRestError(destination.getBlockBlobClient().upload('x', 1), 412, 'LeaseIdMissing');
    await expectRestError(destination.delete(), 412, 'LeaseIdMissing');

    faults.replace([{ operation: 'Blob_StartCopy', kind: 'copyFailed', failAfterPercent: 10, count: 1, match: 'leased' }]);
    await destination.beginCopyFromURL(source, { conditions: { leaseId }, metadata: { claim: 'run-1', image: 'leased' } });
    await expectRestError(destination.beginCopyFromURL(source, { conditions: { leaseId } }), 409, 'PendingCopyOperation');
    const failed = await waitForCopy(destination);
    assert.equal(failed.copyStatus, 'failed');
    assert.equal(failed.contentLength, 0, 'the failed copy leaves an empty blob, lease or not');
    assert.equal(failed.leaseState, 'leased', 'and the lease stands');
    assert.deepEqual(failed.metadata, { claim: 'run-1', image: 'leased' });

    await destination.beginCopyFromURL(source, { conditions: { leaseId } });
    assert.equal((await waitForCopy(destination)).copyStatus, 'success');
    await lease.releaseLease();
    await destination.delete();
    service.revokeDiskRead(disk);
  });

  async function waitForCopy(blob: BlobClient) {
    for (;;) {
      const properties = await blob.getProperties();
      if (properties.copyStatus !== 'pending') return properties;
      await sleep(100);
    }
  }

  it('accepts Azure AD tokens for storage from principals with data access, and nothing else', async () => {
    const container = aadContainer('token-contributor');
    const blob = container.getBlockBlobClient('aad/written.txt');
    await blob.upload('by token', 8, { metadata: { writer: 'contributor' } });
    assert.equal((await blob.downloadToBuffer()).toString(), 'by token');
    assert.deepEqual((await blob.getProperties()).metadata, { writer: 'contributor' });
    const names = [];
    for await (const item of container.listBlobsFlat({ prefix: 'aad/' })) names.push(item.name);
    assert.deepEqual(names, ['aad/written.txt']);
    await blob.delete();
    assert.equal(await service.blobExists(LAB, 'uploads', 'aad/written.txt'), undefined);

    await expectRestError(aadContainer('token-outsider').getBlobClient('x').getProperties(), 403, 'AuthorizationPermissionMismatch');
    await expectRestError(aadContainer('token-contributor', OTHER_LAB).getBlobClient('x').getProperties(), 403, 'AuthorizationPermissionMismatch');
    const listing = aadContainer('token-outsider').listBlobsFlat().next();
    await expectRestError(listing, 403, 'AuthorizationPermissionMismatch');
    await expectRestError(aadContainer('token-arm').getBlobClient('x').getProperties(), 401, 'InvalidAuthenticationInfo');
    await expectRestError(aadContainer('token-unknown').getBlobClient('x').getProperties(), 401, 'InvalidAuthenticationInfo');
  });

  it('refuses shared key authorization and answers anonymous requests as Azure does', async () => {
    const sharedKey = new StorageSharedKeyCredential(LAB, randomBytes(64).toString('base64'));
    const keyed = new BlobServiceClient(service.accountUrl(LAB), sharedKey, clientOptions);
    await expectRestError(keyed.getContainerClient('uploads').getBlobClient('x').getProperties(), 403, 'KeyBasedAuthenticationNotPermitted');
    const anonymous = new BlobServiceClient(service.accountUrl(LAB), new AnonymousCredential(), clientOptions);
    await expectRestError(anonymous.getContainerClient('uploads').getBlobClient('notes/hello.txt').download(), 404, 'ResourceNotFound');
    await expectRestError(anonymous.listContainers().next(), 401, 'NoAuthenticationInformation');
  });

  it('retries 503 ServerBusy and dropped connections in the SDK; passes 429 on with its Retry-After', async () => {
    const blob = uploadClient('notes/hello.txt');
    const before = metrics.snapshot().byOperation.Blob_GetProperties ?? 0;
    faults.replace([{ operation: 'Blob_GetProperties', kind: 'status', status: 503, retryAfterSeconds: 1, count: 2 }]);
    assert.equal((await blob.getProperties()).contentLength, 5);
    assert.equal(metrics.snapshot().byOperation.Blob_GetProperties, before + 3, 'two refusals, then the answer');

    faults.replace([{ operation: 'Blob_Get', kind: 'reset', count: 1 }]);
    assert.equal((await blob.downloadToBuffer()).toString(), 'hello');

    faults.replace([{ operation: 'Blob_GetProperties', kind: 'status', status: 429, retryAfterSeconds: 2, count: 1 }]);
    const throttled = await expectRestError(blob.getProperties(), 429, 'TooManyRequests');
    assert.equal(throttled.response?.headers.get('retry-after'), '2');
    assert.equal((await blob.getProperties()).contentLength, 5, 'the next call goes through');
  });
  it('refuses metadata over 8 KB, names and values together, as Azure does (400 MetadataTooLarge)', async () => {
    const sized = (bytes: number) => ({ imagefactory: '1', description: 'd'.repeat(bytes - 'imagefactory'.length - 1 - 'description'.length) });
    const atLimit = uploadClient('metadata-at-limit.txt').getBlockBlobClient();
    await atLimit.upload('x', 1, { metadata: sized(8192) });
    assert.equal(Object.values((await atLimit.getProperties()).metadata ?? {}).join('').length + 'imagefactorydescription'.length, 8192);

    const over = uploadClient('metadata-over.txt').getBlockBlobClient();
    const refused = await expectRestError(over.upload('x', 1, { metadata: sized(8193) }), 400, 'MetadataTooLarge');
    assert.match(refused.message, /metadata exceeds the maximum size permitted/);
    // Far over the limit (20 KB of notes): still Azure's answer, not the HTTP server's header limit.
    await expectRestError(over.upload('x', 1, { metadata: sized(20 * 1024) }), 400, 'MetadataTooLarge');
    await expectRestError(atLimit.setMetadata(sized(8193)), 400, 'MetadataTooLarge');
    const disk = await newDisk();
    const source = await service.grantDiskRead(disk, 600);
    await expectRestError(uploadClient('metadata-copy.vhd').beginCopyFromURL(source, { metadata: sized(9000) }), 400, 'MetadataTooLarge');
    assert.equal(await service.blobExists(LAB, 'uploads', 'metadata-over.txt'), undefined);
    assert.equal(await service.blobExists(LAB, 'uploads', 'metadata-copy.vhd'), undefined);
  });
});
