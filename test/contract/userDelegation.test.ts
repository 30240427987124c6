import * as assert from 'node:assert/strict';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import {
  AnonymousCredential,
  BlobClient,
  BlobSASPermissions,
  BlobServiceClient,
  RestError,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { createRsaKeyPair, issueServerCertificate, loadOrCreateCa } from '../../local-azure/certs';
import { FaultPlan } from '../../local-azure/faults';
import { Metrics } from '../../local-azure/metrics';
import { type BlobService, startBlobService } from '../../local-azure/storage/blobService';

/**
 * User delegation SAS and copies between lab accounts, through the real storage SDK: a key only for a
 * bearer token whose principal holds a data role on the account itself; a SAS no wider than its
 * permissions, refused when its key was never issued; a copy that reads the very blob it was told to
 * (x-ms-source-if-match) and fails when that blob is deleted under it.
 */
const SOURCE = 'sourcelab';
const DESTINATION = 'destlab';
const MIB = 1024 * 1024;
const STORAGE = 'https://storage.azure.com/';
const TENANT = '5f0d8a8c-6a3e-4c1b-9e2d-7b4a1c3e5d6f';
const TOKENS: Record<string, { principalId: string; tenantId: string; audience: string }> = {
  'token-account': { principalId: 'oid-account', tenantId: TENANT, audience: STORAGE },
  'token-container': { principalId: 'oid-container', tenantId: TENANT, audience: STORAGE },
};

function credential(token: string): TokenCredential {
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
}

async function refused(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RestError, String(error));
    assert.equal(error.statusCode, status, error.message);
    assert.equal(error.response?.headers.get('x-ms-error-code') ?? error.code, code, error.message);
    return true;
  });
}

describe('local Azure: user delegation SAS and copies from another lab', function () {
  this.timeout(30_000);
  let service: BlobService;
  let options: StoragePipelineOptions;

  before(async () => {
    const ca = await loadOrCreateCa();
    const certificate = issueServerCertificate(ca, ['127.0.0.1', 'localhost'], await createRsaKeyPair());
    service = await startBlobService({
      tls: { key: certificate.keyPem, cert: certificate.certPem },
      accounts: [SOURCE, DESTINATION],
      copyRateMBps: 4,
      verifyBearer: (token) => TOKENS[token],
      canAccessData: (principalId, _account, container) =>
        principalId === 'oid-account' || (principalId === 'oid-container' && container === 'uploads'),
      faults: new FaultPlan(),
      metrics: new Metrics(),
    });
    options = { tlsOptions: { ca: ca.certPem }, retryOptions: { maxTries: 1 } } as StoragePipelineOptions;
    await service.createPageBlob(SOURCE, 'uploads', 'staging-a.vhd', 8 * MIB);
  });
  after(async () => {
    await service?.stop();
  });

  const serviceClient = (token: string) => new BlobServiceClient(service.accountUrl(SOURCE), credential(token), options);
  const sasClient = (url: string) => new BlobClient(url, new AnonymousCredential(), options);
  const expiry = (ms: number) => new Date(Date.now() + ms);

  async function readSas(token = 'token-account', permissions = 'r'): Promise<string> {
    const client = serviceClient(token);
    const key = await client.getUserDelegationKey(new Date(Date.now() - 60_000), expiry(3600_000));
    return client
      .getContainerClient('uploads')
      .getBlobClient('staging-a.vhd')
      .generateUserDelegationSasUrl({ permissions: BlobSASPermissions.parse(permissions), expiresOn: expiry(600_000), version: '2025-11-05' }, key);
  }

  it('gives a key to a data role on the account only, and for at most 7 days', async () => {
    const key = await serviceClient('token-account').getUserDelegationKey(new Date(), expiry(3600_000));
    assert.equal(key.signedObjectId, 'oid-account');
    assert.equal(key.signedTenantId, TENANT);
    await refused(serviceClient('token-container').getUserDelegationKey(new Date(), expiry(3600_000)), 403, 'AuthorizationPermissionMismatch');
    await refused(serviceClient('token-account').getUserDelegationKey(new Date(), expiry(8 * 24 * 3600_000)), 400, 'InvalidXmlNodeValue');
    const sas = await readSas();
    const bySas = new BlobServiceClient(`${service.accountUrl(SOURCE)}?${new URL(sas).search.slice(1)}`, new AnonymousCredential(), options);
    await refused(bySas.getUserDelegationKey(new Date(), expiry(3600_000)), 403, 'AuthorizationFailure');
  });

  it('reads with a read SAS, and refuses a write and a key never issued', async () => {
    const sas = await readSas();
    assert.equal((await sasClient(sas).getProperties()).contentLength, 8 * MIB);
    await refused(sasClient(sas).getPageBlobClient().uploadPages(Buffer.alloc(512), 0, 512), 403, 'AuthorizationPermissionMismatch');
    const forged = new URL(sas);
    forged.searchParams.set('skt', new Date(Date.now() - 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    await refused(sasClient(forged.toString()).getProperties(), 403, 'AuthenticationFailed');
  });

  it('copies into another account from a read SAS, only from the blob it was told of, and fails when the source goes', async () => {
    const sas = await readSas();
    const etag = (await sasClient(sas).getProperties()).etag!;
    const destination = new BlobServiceClient(service.accountUrl(DESTINATION), credential('token-account'), options)
      .getContainerClient('uploads')
      .getBlobClient('staging-a.vhd');
    await refused(destination.beginCopyFromURL(sas, { sourceConditions: { ifMatch: '"0x0"' } }), 412, 'SourceConditionNotMet');
    const poller = await destination.beginCopyFromURL(sas, { sourceConditions: { ifMatch: etag } });
    assert.equal((await destination.getProperties()).copyStatus, 'pending');
    // The source is deleted under the copy (a lab's staging blob deleted too early): the copy fails.
    await serviceClient('token-account').getContainerClient('uploads').getBlobClient('staging-a.vhd').delete();
    await poller.cancelOperation().catch(() => undefined);
    const after = await destination.getProperties();
    assert.equal(after.copyStatus, 'failed');
    assert.match(after.copyStatusDescription ?? '', /BlobNotFound/);
    const log = service.copyLog();
    assert.deepEqual(log.map((c) => [c.destination, c.source, c.sourceSas?.permissions]), [[`${DESTINATION}/uploads/staging-a.vhd`, `${SOURCE}/uploads/staging-a.vhd`, 'r']]);
  });

  it('fails a copy whose SAS outlives its key once the key expires, as Azure does', async () => {
    await service.createPageBlob(SOURCE, 'uploads', 'staging-key.vhd', 8 * MIB);
    const client = serviceClient('token-account');
    // The key lasts 1.5 s, the SAS it signs ten minutes; the copy takes 2 s at 4 MB/s.
    const key = await client.getUserDelegationKey(new Date(Date.now() - 60_000), expiry(1500));
    const sas = await client
      .getContainerClient('uploads')
      .getBlobClient('staging-key.vhd')
      .generateUserDelegationSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: expiry(600_000), version: '2025-11-05' }, key);
    const destination = new BlobServiceClient(service.accountUrl(DESTINATION), credential('token-account'), options)
      .getContainerClient('uploads')
      .getBlobClient('staging-key.vhd');
    await destination.beginCopyFromURL(sas);
    assert.equal((await destination.getProperties()).copyStatus, 'pending');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const after = await destination.getProperties();
    assert.equal(after.copyStatus, 'failed');
    assert.match(after.copyStatusDescription ?? '', /AuthenticationFailed/);
  });
});
