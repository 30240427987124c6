import * as assert from 'node:assert/strict';
import { createAzureContext } from '../../core/azure/azureContext';
import { envEndpointReader } from '../../core/azure/endpoint';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { MemoryReporter } from '../../core/report';
import { createClientCertificate } from '../../local-azure/certs';
import type { Scenario } from '../../local-azure/scenario';
import { runConnection } from '../helpers/connectionRun';
import { startLocalAzure } from '../helpers/localAzure';

/**
 * Every service connection scheme the local Azure can serve, through a run longer than its tokens
 * live: a copy takes about four seconds while access tokens expire every two, and Resource Manager
 * and storage calls go on during and after it. Each run is a process of its own that knows only its
 * environment, as a task does.
 */
const SUB = '6d2f1c3b-8a4e-4b7f-9c1d-2e3f4a5b6c7d';
const SECRET_CLIENT = '8e1c2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const CERT_CLIENT = '9f2d3e4a-5b6c-4d7e-8f90-a1b2c3d4e5f6';
const USER_ASSIGNED = '2c7e9a14-6b3d-4f58-a0e2-8d1f5c9b3a76';
const ID = 'LocalAzure';

type LocalAzure = Awaited<ReturnType<typeof startLocalAzure>>;

/** A run that ended with one IF2002 whose message and fix say what the pattern says. */
function assertAuthFailure(run: Awaited<ReturnType<typeof runConnection>>, ...mentions: RegExp[]): void {
  assert.ok(!run.ok, 'the run should fail');
  assert.equal(run.error.code, ErrorCodes.AuthenticationFailed, run.error.message);
  for (const mention of mentions) assert.match(`${run.error.message} Fix: ${run.error.fix}`, mention);
}

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
      managedIdentities: [{ type: 'SystemAssigned' }, { type: 'UserAssigned', clientId: USER_ASSIGNED, displayName: 'factory-identity' }],
      labs: [{ subscriptionId: SUB, resourceGroup: 'FactoryRG', name: 'Factory', vms: [{ name: 'Golden', diskSizeGB: 2 }] }],
      settings: { copyRateMBps: 512, tokenLifetimeSeconds: 2, lroDurationMs: 100, lroRetryAfterSeconds: 0 },
    };
    azure = await startLocalAzure({ scenario });
  });
  after(async () => {
    await azure?.stop();
  });

  const schemes: { name: string; env: () => Promise<Record<string, string>>; signIn: string; extraOperation?: string }[] = [
    { name: 'service principal with a secret', env: async () => azure.env, signIn: 'Token' },
    {
      name: 'service principal with a certificate',
      env: async () =>
        withAuth(azure.env, ID, 'ServicePrincipal', {
          authenticationType: 'spnCertificate',
          serviceprincipalid: CERT_CLIENT,
          servicePrincipalCertificate: certificatePem,
          tenantid: azure.tenantId,
        }),
      signIn: 'Token',
    },
    { name: 'workload identity federation', env: async () => azure.federatedEnv, signIn: 'Token', extraOperation: 'Federation' },
    {
      name: 'user-assigned managed identity',
      env: () => azure.connectionEnv({ scheme: 'ManagedServiceIdentity', clientId: USER_ASSIGNED }),
      signIn: 'ManagedIdentity',
    },
  ];

  for (const scheme of schemes) {
    it(`${scheme.name}: keeps working through a copy longer than a token lives`, async () => {
      await azure.resetMetrics();
      const blobName = `schemes-${scheme.name.replace(/\W+/g, '-')}.vhd`;
      const run = await runConnection('copy', { connectionId: ID, subscriptionId: SUB, lab: 'Factory', vm: 'Golden', blobName }, await scheme.env());
      assert.ok(run.ok, JSON.stringify(run));
      const copy = run.value;
      assert.equal(copy.totalBytes, 2 * 1024 ** 3 + 512);
      assert.ok(copy.copyMs > 3000, `the copy outlived a token: ${copy.copyMs} ms`);
      assert.ok(copy.armCallsDuringCopy >= 5, `Resource Manager calls went on during the copy: ${copy.armCallsDuringCopy}`);
      assert.ok(copy.listedAfterCopy, 'storage with Azure AD works after the tokens of the start have expired');

      const metrics = await azure.metrics();
      assert.ok(metrics.byOperation[scheme.signIn] >= 3, `tokens were fetched again as they expired: ${JSON.stringify(metrics.byOperation)}`);
      for (const other of ['Token', 'ManagedIdentity'].filter((name) => name !== scheme.signIn)) {
        assert.equal(metrics.byOperation[other], undefined, `signs in through ${scheme.signIn} only: ${JSON.stringify(metrics.byOperation)}`);
      }
      if (scheme.extraOperation) {
        assert.ok(metrics.byOperation[scheme.extraOperation] >= 2, `a fresh OIDC token for each new access token: ${JSON.stringify(metrics.byOperation)}`);
      }
      assert.deepEqual((await azure.state()).diskGrants, [], 'disk access was revoked');
    });
  }

  it('system-assigned managed identity: signs in as the machine', async () => {
    await azure.resetMetrics();
    const run = await runConnection('findLab', { connectionId: ID, subscriptionId: SUB, lab: 'Factory' }, await azure.connectionEnv({ scheme: 'ManagedServiceIdentity' }));
    assert.ok(run.ok, JSON.stringify(run));
    assert.match(run.value.id, /\/labs\/Factory$/i);
    assert.ok((await azure.metrics()).byOperation.ManagedIdentity >= 1);
  });

  it('says the agent lacks the user-assigned identity the connection names, and what to do', async () => {
    const env = await azure.connectionEnv({ scheme: 'ManagedServiceIdentity', clientId: USER_ASSIGNED });
    const other = '4b1d7e3a-8c2f-4a69-b5d0-3e7a9c1f6b28';
    const run = await runConnection('findLab', { connectionId: ID, subscriptionId: SUB, lab: 'Factory' }, { ...env, [`ENDPOINT_DATA_${ID}_MSICLIENTID`]: other });
    assertAuthFailure(run, new RegExp(`service connection '${ID}'`), new RegExp(`agent has no user-assigned managed identity with client id ${other}`), /Fix: Assign that user-assigned identity to the agent machine/);
  });

  it('says the agent has no managed identity at all, and what to do', async () => {
    const bare = await startLocalAzure({
      scenario: { managedIdentities: [], labs: [{ subscriptionId: SUB, resourceGroup: 'FactoryRG', name: 'Factory' }], settings: { lroRetryAfterSeconds: 0 } },
    });
    try {
      const started = Date.now();
      const run = await runConnection('findLab', { connectionId: ID, subscriptionId: SUB, lab: 'Factory' }, await bare.connectionEnv({ scheme: 'ManagedServiceIdentity' }));
      assertAuthFailure(run, new RegExp(`service connection '${ID}'`), /the agent has no managed identity/, /Fix: Enable the system-assigned identity on the agent machine/);
      assert.ok(Date.now() - started < 15_000, 'fails without retrying for long');
      assert.equal((await bare.metrics()).byOperation.ManagedIdentity, 1, 'asks once: a missing identity does not appear by asking again');
    } finally {
      await bare.stop();
    }
  });

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
