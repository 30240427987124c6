import * as assert from 'node:assert/strict';
import { createAzureContext } from '../../core/azure/azureContext';
import { copyBlob, sasBlobClient } from '../../core/azure/blobCopy';
import { envEndpointReader } from '../../core/azure/endpoint';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { MemoryReporter } from '../../core/report';
import { createClientCertificate } from '../../local-azure/certs';
import type { Scenario } from '../../local-azure/scenario';
import { startLocalAzure } from '../helpers/localAzure';

/**
 * Every service connection scheme the local Azure can serve, through a run longer than its tokens
 * live: a copy takes about four seconds while access tokens expire every two, and Resource Manager
 * and storage calls go on during and after it.
 */
const SUB = '6d2f1c3b-8a4e-4b7f-9c1d-2e3f4a5b6c7d';
const SECRET_CLIENT = '8e1c2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const CERT_CLIENT = '9f2d3e4a-5b6c-4d7e-8f90-a1b2c3d4e5f6';
const ID = 'LocalAzure';

type LocalAzure = Awaited<ReturnType<typeof startLocalAzure>>;

async function expectAuthFailure(promise: Promise<unknown>, ...mentions: RegExp[]): Promise<FactoryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FactoryError, `expected IF2002, got ${(error as Error)?.stack ?? String(error)}`);
    assert.equal(error.code, ErrorCodes.AuthenticationFailed, error.message);
    for (const mention of mentions) assert.match(`${error.message} Fix: ${error.fix}`, mention);
    return error;
  }
  assert.fail('expected IF2002');
}

/** A service connection's agent variables with other authorization parameters. */
function withAuth(env: Record<string, string>, id: string, scheme: string, parameters: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (!key.toUpperCase().startsWith(`ENDPOINT_AUTH_PARAMETER_${id.toUpperCase()}_`)) result[key] = value;
  result[`ENDPOINT_AUTH_${id}`] = JSON.stringify({ scheme, parameters });
  result[`ENDPOINT_AUTH_SCHEME_${id}`] = scheme;
  return result;
}

/** The same connection under another id (its OIDC subject changes with it). */
function renamed(env: Record<string, string>, from: string, to: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) result[key.replace(`_${from}`, `_${to}`)] = value;
  return result;
}

describe('every service connection scheme against the local Azure', function () {
  this.timeout(120_000);
  let azure: LocalAzure;
  let certificatePem: string;
  let otherCertificatePem: string;

  before(async () => {
    const certificate = await createClientCertificate('image-factory-cert');
    const other = await createClientCertificate('not-registered');
    certificatePem = `${certificate.keyPem}\n${certificate.certPem}`;
    otherCertificatePem = `${other.keyPem}\n${other.certPem}`;
    const scenario: Scenario = {
      principals: [
        { clientId: SECRET_CLIENT, clientSecret: 'factory-secret-value', displayName: 'factory' },
        { clientId: CERT_CLIENT, certificatePem: certificate.certPem, displayName: 'factory-cert' },
      ],
      labs: [{ subscriptionId: SUB, resourceGroup: 'FactoryRG', name: 'Factory', vms: [{ name: 'Golden', diskSizeGB: 2 }] }],
      settings: { copyRateMBps: 512, tokenLifetimeSeconds: 2, lroDurationMs: 100, lroRetryAfterSeconds: 1 },
    };
    azure = await startLocalAzure({ scenario });
  });
  after(async () => {
    await azure?.stop();
  });

  const schemes: { name: string; env: () => Record<string, string>; extraOperation?: string }[] = [
    { name: 'service principal with a secret', env: () => azure.env },
    {
      name: 'service principal with a certificate',
      env: () =>
        withAuth(azure.env, ID, 'ServicePrincipal', {
          authenticationType: 'spnCertificate',
          serviceprincipalid: CERT_CLIENT,
          servicePrincipalCertificate: certificatePem,
          tenantid: azure.tenantId,
        }),
    },
    { name: 'workload identity federation', env: () => azure.federatedEnv, extraOperation: 'Federation' },
  ];

  for (const scheme of schemes) {
    it(`${scheme.name}: keeps working through a copy longer than a token lives`, async () => {
      const reporter = new MemoryReporter();
      const context = createAzureContext(readServiceConnection(envEndpointReader(scheme.env()), ID), { reporter, pollIntervalMs: 100 });
      await azure.resetMetrics();

      const lab = await context.labs.find(SUB, 'Factory');
      const dtl = context.devTestLabs(SUB);
      const vm = await dtl.virtualMachines.get(lab.resourceGroup, lab.name, 'Golden', { expand: 'properties($expand=computeVm)' });
      const diskId = vm.computeVm!.osDiskId!;
      const diskGroup = /\/resourceGroups\/([^/]+)/i.exec(diskId)![1];
      const diskName = diskId.split('/').pop()!;
      const compute = context.compute(SUB);
      const access = await compute.disks.beginGrantAccessAndWait(diskGroup, diskName, { access: 'Read', durationInSeconds: 600 }, { updateIntervalInMs: 100 });
      const blobName = `schemes-${scheme.name.replace(/\W+/g, '-')}.vhd`;
      try {
        const uploadUri = await context.labs.storage(lab).uploadUri(blobName);
        const started = Date.now();
        let copying = true;
        // Other jobs keep using Resource Manager while a copy runs.
        const busy = (async () => {
          let calls = 0;
          while (copying) {
            await dtl.labs.get(lab.resourceGroup, lab.name);
            calls++;
            await new Promise((resolve) => setTimeout(resolve, 400));
          }
          return calls;
        })();
        let copied;
        try {
          copied = await copyBlob(sasBlobClient(uploadUri), access.accessSAS!, { reporter });
        } finally {
          copying = false;
        }
        assert.ok((await busy) >= 5, 'Resource Manager calls went on during the copy');
        assert.ok(Date.now() - started > 3000, 'the copy outlived a token');
        assert.equal(copied.totalBytes, 2 * 1024 ** 3);

        // Storage with Azure AD after the tokens of the start have expired.
        const container = await context.labs.storage(lab).containerClient();
        const names: string[] = [];
        for await (const blob of container.listBlobsFlat()) names.push(blob.name);
        assert.ok(names.includes(blobName));
        await container.deleteBlob(blobName);
      } finally {
        await compute.disks.beginRevokeAccessAndWait(diskGroup, diskName, { updateIntervalInMs: 100 });
      }

      const metrics = await azure.metrics();
      assert.ok(metrics.byOperation.Token >= 3, `tokens were fetched again as they expired: ${JSON.stringify(metrics.byOperation)}`);
      if (scheme.extraOperation) {
        assert.ok(metrics.byOperation[scheme.extraOperation] >= 2, `a fresh OIDC token for each new access token: ${JSON.stringify(metrics.byOperation)}`);
      }
    });
  }

  it('names the wrong tenant', async () => {
    const env = withAuth(azure.env, ID, 'ServicePrincipal', {
      authenticationType: 'spnKey',
      serviceprincipalid: SECRET_CLIENT,
      serviceprincipalkey: 'factory-secret-value',
      tenantid: '00000000-0000-4000-8000-000000000000',
    });
    const context = createAzureContext(readServiceConnection(envEndpointReader(env), ID), { reporter: new MemoryReporter() });
    await expectAuthFailure(context.labs.find(SUB, 'Factory'), /tenant '00000000-0000-4000-8000-000000000000'/, /Fix: .*tenant id/);
  });

  it('names an application that is not in the tenant', async () => {
    const env = withAuth(azure.env, ID, 'ServicePrincipal', {
      authenticationType: 'spnKey',
      serviceprincipalid: '11111111-2222-4333-8444-555555555555',
      serviceprincipalkey: 'x',
      tenantid: azure.tenantId,
    });
    const context = createAzureContext(readServiceConnection(envEndpointReader(env), ID), { reporter: new MemoryReporter() });
    await expectAuthFailure(context.labs.find(SUB, 'Factory'), /11111111-2222-4333-8444-555555555555 was not found in tenant/);
  });

  it('names a certificate that is not registered on the app', async () => {
    const env = withAuth(azure.env, ID, 'ServicePrincipal', {
      authenticationType: 'spnCertificate',
      serviceprincipalid: CERT_CLIENT,
      servicePrincipalCertificate: otherCertificatePem,
      tenantid: azure.tenantId,
    });
    const context = createAzureContext(readServiceConnection(envEndpointReader(env), ID), { reporter: new MemoryReporter() });
    await expectAuthFailure(context.labs.find(SUB, 'Factory'), /certificate/, new RegExp(`Fix: .*${CERT_CLIENT}`));
  });

  it('says when Azure DevOps refuses the OIDC token request', async () => {
    const env = { ...azure.federatedEnv, ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: 'not-the-job-token' };
    const context = createAzureContext(readServiceConnection(envEndpointReader(env), ID), { reporter: new MemoryReporter() });
    await expectAuthFailure(context.labs.find(SUB, 'Factory'), /refused the OIDC token request/, /HTTP 401/, /Fix: Authorize this pipeline/);
  });

  it('says when no federated credential matches the connection', async () => {
    const env = renamed(azure.federatedEnv, ID, 'OtherConnection');
    const context = createAzureContext(readServiceConnection(envEndpointReader(env), 'OtherConnection'), { reporter: new MemoryReporter() });
    await expectAuthFailure(context.labs.find(SUB, 'Factory'), /federated credential/, /OtherConnection/);
  });
});
