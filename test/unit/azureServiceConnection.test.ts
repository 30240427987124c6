import * as assert from 'node:assert/strict';
import * as util from 'node:util';
import type { TokenCredential } from '@azure/core-auth';
import { createHttpHeaders, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { createAzureContext } from '../../core/azure/azureContext';
import { computeClient } from '../../core/azure/compute';
import { envEndpointReader, variableEnvironmentName } from '../../core/azure/endpoint';
import { KnownClouds, readServiceConnection, scopeFor } from '../../core/azure/serviceConnection';
import { ErrorCodes, FactoryError } from '../../core/errors';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '1b7f9c7e-9f3a-4e34-8a51-0c3f6a1d2e10';
const SUB = 'c7a1d2b3-0000-4000-8000-000000000001';

/** The variables an agent sets for an AzureRM service connection with a service principal secret. */
function spnKeyEnv(id: string, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    [`ENDPOINT_URL_${id}`]: 'https://management.azure.com/',
    [`ENDPOINT_AUTH_${id}`]: JSON.stringify({
      scheme: 'ServicePrincipal',
      parameters: { authenticationType: 'spnKey', serviceprincipalid: CLIENT, serviceprincipalkey: 's3cr3t~value', tenantid: TENANT },
    }),
    [`ENDPOINT_AUTH_SCHEME_${id}`]: 'ServicePrincipal',
    [`ENDPOINT_DATA_${id}_SUBSCRIPTIONID`]: SUB,
    [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: 'AzureCloud',
    [`ENDPOINT_DATA_${id}_ENVIRONMENTAUTHORITYURL`]: 'https://login.windows.net/',
    [`ENDPOINT_DATA_${id}_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID`]: 'https://management.core.windows.net/',
    ...overrides,
  };
}

function expectInvalid(fn: () => unknown, ...mentions: RegExp[]): FactoryError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof FactoryError, `expected a FactoryError, got ${String(error)}`);
    assert.equal(error.code, ErrorCodes.ServiceConnectionInvalid);
    assert.ok(error.fix, 'an IF2001 error says what to do');
    for (const mention of mentions) assert.match(`${error.message} ${error.fix}`, mention);
    return error;
  }
  assert.fail('expected IF2001');
}

describe('service connection', () => {
  it('reads a service principal secret connection as the agent passes it', () => {
    const connection = readServiceConnection(envEndpointReader(spnKeyEnv('conn1')), 'conn1');
    assert.equal(connection.connectionId, 'conn1');
    assert.equal(connection.scheme, 'ServicePrincipal');
    assert.equal(connection.tenantId, TENANT);
    assert.equal(connection.clientId, CLIENT);
    assert.equal(connection.subscriptionId, SUB);
    assert.deepEqual(connection.cloud, {
      name: 'AzureCloud',
      resourceManagerUrl: 'https://management.azure.com',
      authorityHost: 'https://login.windows.net',
      resourceManagerAudience: 'https://management.core.windows.net/',
    });
    assert.deepEqual(connection.source, { kind: 'clientSecret', clientSecret: 's3cr3t~value' });
  });

  it('keeps the secret out of JSON and inspected output', () => {
    const connection = readServiceConnection(envEndpointReader(spnKeyEnv('conn1')), 'conn1');
    assert.doesNotMatch(JSON.stringify(connection), /s3cr3t/);
    assert.doesNotMatch(util.inspect(connection, { depth: 10 }), /s3cr3t/);
  });

  it('reads the auth parameters from per-parameter variables too', () => {
    const env = spnKeyEnv('c', { ENDPOINT_AUTH_c: undefined });
    env.ENDPOINT_AUTH_PARAMETER_c_SERVICEPRINCIPALID = CLIENT;
    env.ENDPOINT_AUTH_PARAMETER_c_SERVICEPRINCIPALKEY = 'other';
    env.ENDPOINT_AUTH_PARAMETER_c_TENANTID = TENANT;
    const connection = readServiceConnection(envEndpointReader(env), 'c');
    assert.deepEqual(connection.source, { kind: 'clientSecret', clientSecret: 'other' });
  });

  for (const [name, cloud] of Object.entries(KnownClouds)) {
    it(`fills what the agent leaves out from the cloud name ${name}`, () => {
      const env = spnKeyEnv('c', {
        ENDPOINT_URL_c: undefined,
        ENDPOINT_DATA_c_ENVIRONMENT: name,
        ENDPOINT_DATA_c_ENVIRONMENTAUTHORITYURL: undefined,
        ENDPOINT_DATA_c_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID: undefined,
      });
      const connection = readServiceConnection(envEndpointReader(env), 'c');
      assert.deepEqual(connection.cloud, { ...cloud });
    });

    it(`uses the connection's own URLs over the defaults of ${name}`, () => {
      const env = spnKeyEnv('c', {
        ENDPOINT_URL_c: 'https://arm.example.test:8443/',
        ENDPOINT_DATA_c_ENVIRONMENT: name,
        ENDPOINT_DATA_c_ENVIRONMENTAUTHORITYURL: 'https://login.example.test/',
        ENDPOINT_DATA_c_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID: 'https://arm.example.test/',
      });
      const connection = readServiceConnection(envEndpointReader(env), 'c');
      assert.equal(connection.cloud.resourceManagerUrl, 'https://arm.example.test:8443');
      assert.equal(connection.cloud.authorityHost, 'https://login.example.test');
      assert.equal(connection.cloud.resourceManagerAudience, 'https://arm.example.test/');
      assert.equal(connection.cloud.name, name);
    });
  }

  it('matches the cloud name without case', () => {
    const env = spnKeyEnv('c', { ENDPOINT_URL_c: undefined, ENDPOINT_DATA_c_ENVIRONMENT: 'azureusgovernment' });
    assert.equal(readServiceConnection(envEndpointReader(env), 'c').cloud.resourceManagerUrl, 'https://management.usgovcloudapi.net');
  });

  it('works for a custom cloud that gives every URL (Azure Stack, a private authority)', () => {
    const env = spnKeyEnv('c', {
      ENDPOINT_URL_c: 'https://127.0.0.1:7443/',
      ENDPOINT_DATA_c_ENVIRONMENT: 'AzureStack',
      ENDPOINT_DATA_c_ENVIRONMENTAUTHORITYURL: 'https://127.0.0.1:7443/',
      ENDPOINT_DATA_c_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID: 'https://127.0.0.1:7443/',
    });
    const connection = readServiceConnection(envEndpointReader(env), 'c');
    assert.equal(connection.cloud.resourceManagerUrl, 'https://127.0.0.1:7443');
    assert.equal(connection.cloud.name, 'AzureStack');
  });

  it('names the missing URL of a custom cloud', () => {
    const env = spnKeyEnv('c', { ENDPOINT_DATA_c_ENVIRONMENT: 'AzureStack', ENDPOINT_DATA_c_ENVIRONMENTAUTHORITYURL: undefined });
    expectInvalid(() => readServiceConnection(envEndpointReader(env), 'c'), /'c'/, /authority URL/, /AzureStack/);
  });

  it('says which connection is missing which field', () => {
    const missingKey = spnKeyEnv('prod', {
      ENDPOINT_AUTH_prod: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { serviceprincipalid: CLIENT, tenantid: TENANT } }),
    });
    expectInvalid(() => readServiceConnection(envEndpointReader(missingKey), 'prod'), /'prod'/, /serviceprincipalkey/);

    const missingTenant = spnKeyEnv('prod', {
      ENDPOINT_AUTH_prod: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { serviceprincipalid: CLIENT, serviceprincipalkey: 'x' } }),
    });
    expectInvalid(() => readServiceConnection(envEndpointReader(missingTenant), 'prod'), /'prod'/, /tenant/);

    const missingClient = spnKeyEnv('prod', {
      ENDPOINT_AUTH_prod: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { serviceprincipalkey: 'x', tenantid: TENANT } }),
    });
    expectInvalid(() => readServiceConnection(envEndpointReader(missingClient), 'prod'), /serviceprincipalid/);
  });

  it('reports a connection the agent did not pass at all', () => {
    expectInvalid(() => readServiceConnection(envEndpointReader({}), 'nowhere'), /'nowhere'/, /not found/, /authorized/);
  });

  it('rejects URLs that are not URLs and tenants that are not tenant ids', () => {
    expectInvalid(() => readServiceConnection(envEndpointReader(spnKeyEnv('c', { ENDPOINT_URL_c: 'management azure com' })), 'c'), /Resource Manager URL/);
    const badTenant = spnKeyEnv('c', {
      ENDPOINT_AUTH_c: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { serviceprincipalid: CLIENT, serviceprincipalkey: 'x', tenantid: 'my tenant/1' } }),
    });
    expectInvalid(() => readServiceConnection(envEndpointReader(badTenant), 'c'), /tenant id/);
  });

  it('rejects an unknown authorization scheme with the schemes it supports', () => {
    const env = spnKeyEnv('c', { ENDPOINT_AUTH_SCHEME_c: 'UsernamePassword' });
    expectInvalid(() => readServiceConnection(envEndpointReader(env), 'c'), /UsernamePassword/, /workload identity federation/);
  });

  it('reads a certificate connection and checks the PEM holds a key and a certificate', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIabc\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIdef\n-----END CERTIFICATE-----\n';
    const auth = (parameters: Record<string, string>) =>
      spnKeyEnv('c', { ENDPOINT_AUTH_c: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { serviceprincipalid: CLIENT, tenantid: TENANT, ...parameters } }) });
    const connection = readServiceConnection(envEndpointReader(auth({ authenticationType: 'spnCertificate', servicePrincipalCertificate: pem })), 'c');
    assert.deepEqual(connection.source, { kind: 'clientCertificate', certificatePem: pem.trim() });
    expectInvalid(
      () => readServiceConnection(envEndpointReader(auth({ authenticationType: 'spnCertificate', servicePrincipalCertificate: 'MIIabc' })), 'c'),
      /PEM/,
    );
    expectInvalid(() => readServiceConnection(envEndpointReader(auth({ authenticationType: 'spnCertificate' })), 'c'), /servicePrincipalCertificate/);
  });

  it('reads a workload identity federation connection with the OIDC request URL and the job token', () => {
    const env = spnKeyEnv('wif', {
      ENDPOINT_AUTH_SCHEME_wif: 'WorkloadIdentityFederation',
      ENDPOINT_AUTH_wif: JSON.stringify({ scheme: 'WorkloadIdentityFederation', parameters: { serviceprincipalid: CLIENT, tenantid: TENANT } }),
      SYSTEM_OIDCREQUESTURI: 'https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken',
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: 'job-token',
    });
    const connection = readServiceConnection(envEndpointReader(env), 'wif');
    assert.equal(connection.scheme, 'WorkloadIdentityFederation');
    assert.deepEqual(connection.source, {
      kind: 'workloadIdentity',
      oidcRequestUri: 'https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken',
      accessToken: 'job-token',
    });

    const fromVariable = { ...env, ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: undefined, SYSTEM_ACCESSTOKEN: 'mapped-token' };
    assert.equal((readServiceConnection(envEndpointReader(fromVariable), 'wif').source as { accessToken: string }).accessToken, 'mapped-token');

    expectInvalid(() => readServiceConnection(envEndpointReader({ ...env, SYSTEM_OIDCREQUESTURI: undefined }), 'wif'), /OIDC request URL/);
    expectInvalid(
      () => readServiceConnection(envEndpointReader({ ...env, ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: undefined }), 'wif'),
      /access token/,
    );
  });

  it('reads system-assigned and user-assigned managed identity connections', () => {
    const msi = (parameters: Record<string, string>) =>
      spnKeyEnv('msi', {
        ENDPOINT_AUTH_SCHEME_msi: 'ManagedServiceIdentity',
        ENDPOINT_AUTH_msi: JSON.stringify({ scheme: 'ManagedServiceIdentity', parameters: { tenantid: TENANT, ...parameters } }),
      });
    const system = readServiceConnection(envEndpointReader(msi({})), 'msi');
    assert.equal(system.scheme, 'ManagedServiceIdentity');
    assert.equal(system.clientId, undefined);
    assert.deepEqual(system.source, { kind: 'managedIdentity' });
    const user = readServiceConnection(envEndpointReader({ ...msi({}), ENDPOINT_DATA_msi_MSICLIENTID: CLIENT }), 'msi');
    assert.equal(user.clientId, CLIENT);
    assert.equal(readServiceConnection(envEndpointReader(msi({ serviceprincipalid: CLIENT })), 'msi').clientId, CLIENT);
  });

  it('maps dotted variable names to the agent environment names', () => {
    assert.equal(variableEnvironmentName('System.OidcRequestUri'), 'SYSTEM_OIDCREQUESTURI');
    assert.equal(variableEnvironmentName('System.AccessToken'), 'SYSTEM_ACCESSTOKEN');
  });
});

describe('credential scope', () => {
  it('is the audience with /.default, whatever the trailing slashes', () => {
    assert.equal(scopeFor('https://management.core.windows.net/'), 'https://management.core.windows.net/.default');
    assert.equal(scopeFor('https://management.core.windows.net'), 'https://management.core.windows.net/.default');
    assert.equal(scopeFor('https://management.usgovcloudapi.net//'), 'https://management.usgovcloudapi.net/.default');
    assert.equal(scopeFor('https://management.chinacloudapi.cn/.default'), 'https://management.chinacloudapi.cn/.default');
    assert.equal(scopeFor(' https://127.0.0.1:7443/ '), 'https://127.0.0.1:7443/.default');
  });
});

/**
 * What the clients do with a connection's cloud: every Resource Manager request goes to the
 * connection's URL and is signed for its audience, whichever cloud; nothing falls back to public Azure.
 */
describe('clients of each cloud', () => {
  const clouds: { name: string; overrides: Record<string, string | undefined>; arm: string; scope: string }[] = [
    ...Object.entries(KnownClouds).map(([name, cloud]) => ({
      name,
      // Only the cloud's name: every URL comes from the known cloud.
      overrides: { ENDPOINT_URL_c: undefined, ENDPOINT_DATA_c_ENVIRONMENT: name, ENDPOINT_DATA_c_ENVIRONMENTAUTHORITYURL: undefined, ENDPOINT_DATA_c_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID: undefined },
      arm: cloud.resourceManagerUrl,
      scope: scopeFor(cloud.resourceManagerAudience),
    })),
    {
      name: 'a custom cloud',
      overrides: {
        ENDPOINT_URL_c: 'https://management.contoso.test:8443/',
        ENDPOINT_DATA_c_ENVIRONMENT: 'AzureStack',
        ENDPOINT_DATA_c_ENVIRONMENTAUTHORITYURL: 'https://login.contoso.test/adfs/',
        ENDPOINT_DATA_c_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID: 'https://management.contoso.test/71fb7c2f-2f80-4f7f-8a4a-3f1c2d3e4f50',
      },
      arm: 'https://management.contoso.test:8443',
      scope: 'https://management.contoso.test/71fb7c2f-2f80-4f7f-8a4a-3f1c2d3e4f50/.default',
    },
  ];

  for (const cloud of clouds) {
    it(`${cloud.name}: DevTest Labs and Compute requests go to its Resource Manager, signed for its audience`, async () => {
      const connection = readServiceConnection(envEndpointReader(spnKeyEnv('c', cloud.overrides)), 'c');
      const scopes: string[] = [];
      const credential: TokenCredential = {
        getToken: async (scope) => {
          scopes.push(...[scope].flat());
          return { token: 'token', expiresOnTimestamp: Date.now() + 3600_000 };
        },
      };
      const context = createAzureContext(connection, { credential, maxRetries: 0 });
      const sent: { url: string; authorization?: string }[] = [];
      // In place of the network, once the request is signed: what was sent, and a 404 answer.
      const network: PipelinePolicy = {
        name: 'network',
        sendRequest: async (request) => {
          sent.push({ url: request.url, authorization: request.headers.get('authorization') });
          return {
            request,
            status: 404,
            headers: createHttpHeaders({ 'content-type': 'application/json' }),
            bodyAsText: '{"error":{"code":"ResourceNotFound","message":"not here"}}',
          };
        },
      };
      context.devTestLabs(SUB).pipeline.addPolicy(network, { afterPhase: 'Sign' });
      computeClient(context, SUB).pipeline.addPolicy(network, { afterPhase: 'Sign' });
      await assert.rejects(context.devTestLabs(SUB).labs.get('rg', 'lab'), (e: { statusCode?: number }) => e.statusCode === 404);
      await assert.rejects(computeClient(context, SUB).disks.get('rg', 'disk'), (e: { statusCode?: number }) => e.statusCode === 404);
      assert.equal(sent.length, 2);
      for (const request of sent) {
        assert.ok(request.url.startsWith(`${cloud.arm}/subscriptions/${SUB}/resourceGroups/rg/providers/`), request.url);
        assert.equal(request.authorization, 'Bearer token');
      }
      assert.deepEqual([...new Set(scopes)], [cloud.scope]);
    });
  }
});
