import * as assert from 'node:assert/strict';
import { ClientSecretCredential } from '@azure/identity';
import { AnonymousCredential, BlockBlobClient, ContainerClient, RestError, type StoragePipelineOptions } from '@azure/storage-blob';
import { type LocalAzureProcess, sdkClients, startLocalAzure } from '../helpers/localAzure';

/**
 * Blob data with an Azure AD token needs a Storage Blob Data role of the token's principal on the
 * account or the container (Reader: read and list; Contributor: also write and delete). Without it
 * storage answers 403 AuthorizationPermissionMismatch in its XML error shape. A SAS is not affected.
 */
const SUB = '7a1c3e5f-2b4d-4f68-9a0c-1e3f5a7b9c24';
const READER = { clientId: '0c6e2a48-1d3f-4b57-8e9a-2c4d6f8a0b31', clientSecret: 'reader-secret' };
const NOBODY = { clientId: '5f1b3d79-2e4a-4c68-9b0d-3e5f7a9c1d42', clientSecret: 'nobody-secret' };
const SCOPED = { clientId: '9d3f5b71-4c6e-4a80-8b2d-5f7a9c1e3b53', clientSecret: 'scoped-secret' };
const ACCOUNT = 'rolestore';
const STORAGE_SCOPE = 'https://storage.azure.com/.default';

describe('local blob storage: Storage Blob Data roles (Azure RBAC for blob data)', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        principals: [
          { clientId: '3c9a6e12-4b7d-4f0e-8a21-6d5c4b3a2f10', clientSecret: 'local-azure-factory-secret' },
          READER,
          NOBODY,
          SCOPED,
        ],
        labs: [
          {
            subscriptionId: SUB,
            resourceGroup: 'roles-rg',
            name: 'Roles',
            storageAccount: ACCOUNT,
            blobDataRoles: [
              { principal: '3c9a6e12-4b7d-4f0e-8a21-6d5c4b3a2f10', role: 'Storage Blob Data Contributor' },
              { principal: READER.clientId, role: 'Storage Blob Data Reader' },
              { principal: SCOPED.clientId, role: 'Storage Blob Data Contributor', container: 'other' },
            ],
          },
        ],
      },
    });
  });
  after(async () => azure?.stop());

  const options = { retryOptions: { maxTries: 1 } } as StoragePipelineOptions;
  const container = (principal: { clientId: string; clientSecret: string }, name = 'uploads') =>
    new ContainerClient(
      `${azure.blobUrl}/${ACCOUNT}/${name}`,
      new ClientSecretCredential(azure.tenantId, principal.clientId, principal.clientSecret, { authorityHost: azure.authorityUrl, disableInstanceDiscovery: true }),
      { ...options, audience: STORAGE_SCOPE },
    );

  async function expectMismatch(promise: Promise<unknown>): Promise<void> {
    const error = await promise.then(
      () => assert.fail('the request succeeded'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RestError, String(error));
    assert.equal(error.statusCode, 403);
    assert.equal(error.response?.headers.get('x-ms-error-code'), 'AuthorizationPermissionMismatch');
    const body = error.response?.bodyAsText ?? '';
    if (error.request?.method !== 'HEAD') {
      assert.match(body, /<Error><Code>AuthorizationPermissionMismatch<\/Code><Message>This request is not authorized to perform this operation using this permission\.\nRequestId:[0-9a-f-]{36}\nTime:/);
    }
  }

  it('lets a Contributor write, read, list and delete', async () => {
    const writer = container({ clientId: '3c9a6e12-4b7d-4f0e-8a21-6d5c4b3a2f10', clientSecret: 'local-azure-factory-secret' });
    const blob = writer.getBlockBlobClient('by-contributor.txt');
    await blob.upload('hello', 5);
    assert.equal((await blob.downloadToBuffer()).toString(), 'hello');
    const names: string[] = [];
    for await (const item of writer.listBlobsFlat()) names.push(item.name);
    assert.ok(names.includes('by-contributor.txt'));
    await blob.delete();
  });

  it('lets a Reader read and list, and refuses its writes and deletes with 403 AuthorizationPermissionMismatch', async () => {
    const writer = container({ clientId: '3c9a6e12-4b7d-4f0e-8a21-6d5c4b3a2f10', clientSecret: 'local-azure-factory-secret' });
    await writer.getBlockBlobClient('kept.txt').upload('kept', 4);
    const reader = container(READER);
    assert.equal((await reader.getBlobClient('kept.txt').downloadToBuffer()).toString(), 'kept');
    assert.equal((await reader.getBlobClient('kept.txt').getProperties()).contentLength, 4);
    await reader.listBlobsFlat().next();
    await expectMismatch(reader.getBlockBlobClient('new.txt').upload('x', 1));
    await expectMismatch(reader.getBlobClient('kept.txt').setMetadata({ a: 'b' }));
    await expectMismatch(reader.getBlobClient('kept.txt').delete());
    await expectMismatch(reader.getBlobClient('copy.txt').beginCopyFromURL(reader.getBlobClient('kept.txt').url));
  });

  it('refuses every data request of a principal without a role, and of one whose role is on another container', async () => {
    for (const principal of [NOBODY, SCOPED]) {
      const denied = container(principal);
      await expectMismatch(denied.listBlobsFlat().next());
      await expectMismatch(denied.getBlobClient('kept.txt').getProperties());
      await expectMismatch(denied.getBlobClient('kept.txt').downloadToBuffer());
      await expectMismatch(denied.getBlockBlobClient('x.txt').upload('x', 1));
    }
  });

  it('reads a copy source in the same account with the token only where its roles let it read', async () => {
    const scoped = container(SCOPED, 'other');
    await scoped.createIfNotExists();
    await scoped.getBlockBlobClient('own.txt').upload('own', 3);
    const copy = await scoped.getBlobClient('copy-of-own.txt').beginCopyFromURL(scoped.getBlobClient('own.txt').url);
    assert.equal((await copy.pollUntilDone()).copyStatus, 'success', 'a source in its own container');
    const refused = await scoped.getBlobClient('copy-of-kept.txt').beginCopyFromURL(`${azure.blobUrl}/${ACCOUNT}/uploads/kept.txt`).then(
      () => assert.fail('copied a source it may not read'),
      (error: unknown) => error as RestError,
    );
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.response?.headers.get('x-ms-error-code'), 'CannotVerifyCopySource');
    assert.equal(refused.response?.headers.get('x-ms-copy-source-error-code'), 'AuthorizationPermissionMismatch');
  });

  it('does not apply roles to a SAS: an upload URI works whoever asked for it', async () => {
    const { devTestLabs } = sdkClients(azure, SUB);
    const { uploadUri } = await devTestLabs.labs.generateUploadUri('roles-rg', 'Roles', { blobName: 'by-sas.vhd' });
    const blob = new BlockBlobClient(uploadUri!, new AnonymousCredential(), options);
    await blob.upload('sas', 3);
    assert.equal((await blob.downloadToBuffer()).toString(), 'sas');
  });
});
