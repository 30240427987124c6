import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { createCredential, oidcTokenFetcher } from '../../core/azure/credentials';
import { envEndpointReader } from '../../core/azure/endpoint';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { MemoryReporter } from '../../core/report';
import { createRsaKeyPair, issueServerCertificate, loadOrCreateCa } from '../../local-azure/certs';

interface Seen {
  method?: string;
  url: URL;
  authorization?: string;
}

let tls: { certPem: string; keyPem: string; caPem: string } | undefined;

/** A certificate for 127.0.0.1 from a CA of this process only. */
async function serverTls() {
  if (!tls) {
    const ca = await loadOrCreateCa();
    tls = { ...issueServerCertificate(ca, ['127.0.0.1'], await createRsaKeyPair()), caPem: ca.certPem };
  }
  return tls;
}

/** The default HTTP client, trusting the test CA the way NODE_EXTRA_CA_CERTS makes an agent trust one. */
function trustingClient(caPem: string): HttpClient {
  const inner = createDefaultHttpClient();
  const agent = new https.Agent({ ca: caPem });
  return { sendRequest: (request) => inner.sendRequest(Object.assign(request, { agent })) };
}

/** An OIDC request endpoint on loopback answering like Azure DevOps' oidctoken API. */
async function oidcEndpoint(answer: (seen: Seen, count: number) => { status: number; body: string }) {
  const seen: Seen[] = [];
  const { certPem, keyPem, caPem } = await serverTls();
  const server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const entry = { method: req.method, url: new URL(req.url ?? '/', 'http://localhost'), authorization: req.headers.authorization };
    seen.push(entry);
    req.resume();
    req.on('end', () => {
      const { status, body } = answer(entry, seen.length);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    httpClient: trustingClient(caPem),
    url: `https://127.0.0.1:${port}/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function expectAuthFailure(promise: Promise<unknown>, ...mentions: RegExp[]): Promise<FactoryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FactoryError, String(error));
    assert.equal(error.code, ErrorCodes.AuthenticationFailed);
    for (const mention of mentions) assert.match(`${error.message} ${error.fix}`, mention);
    return error;
  }
  assert.fail('expected IF2002');
}

describe('workload identity federation: OIDC token request', function () {
  this.timeout(30_000);

  it('asks the agent for a fresh token for the service connection every time, and masks it', async () => {
    const endpoint = await oidcEndpoint((_seen, count) => ({ status: 200, body: JSON.stringify({ oidcToken: `header.payload${count}.signature` }) }));
    try {
      const reporter = new MemoryReporter();
      const fetch = oidcTokenFetcher({ connectionId: 'wif-conn' }, { oidcRequestUri: endpoint.url, accessToken: 'job-token' }, { reporter, httpClient: endpoint.httpClient });
      assert.equal(await fetch(), 'header.payload1.signature');
      assert.equal(await fetch(), 'header.payload2.signature');
      assert.equal(endpoint.seen.length, 2);
      const first = endpoint.seen[0];
      assert.equal(first.method, 'POST');
      assert.equal(first.url.pathname, '/org/proj/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/oidctoken');
      assert.equal(first.url.searchParams.get('serviceConnectionId'), 'wif-conn');
      assert.ok(first.url.searchParams.get('api-version'));
      assert.equal(first.authorization, 'Bearer job-token');
      assert.deepEqual(reporter.secrets, ['header.payload1.signature', 'header.payload2.signature']);
    } finally {
      await endpoint.close();
    }
  });

  it('says what to do when Azure DevOps refuses the request', async () => {
    const endpoint = await oidcEndpoint(() => ({ status: 401, body: '{"message":"unauthorized"}' }));
    try {
      const fetch = oidcTokenFetcher({ connectionId: 'wif-conn' }, { oidcRequestUri: endpoint.url, accessToken: 'bad' }, { httpClient: endpoint.httpClient });
      await expectAuthFailure(fetch(), /refused the OIDC token request/, /wif-conn/, /HTTP 401/, /Authorize this pipeline/);
    } finally {
      await endpoint.close();
    }
  });

  it('treats an answer without a token as a refusal', async () => {
    const endpoint = await oidcEndpoint(() => ({ status: 200, body: '{"value":null}' }));
    try {
      const fetch = oidcTokenFetcher({ connectionId: 'c' }, { oidcRequestUri: endpoint.url, accessToken: 't' }, { httpClient: endpoint.httpClient });
      await expectAuthFailure(fetch(), /without a token/);
    } finally {
      await endpoint.close();
    }
  });

  it('retries the agent endpoint through server errors', async () => {
    const endpoint = await oidcEndpoint((_seen, count) =>
      count < 3 ? { status: 503, body: '{}' } : { status: 200, body: JSON.stringify({ oidcToken: 'a.b.c' }) },
    );
    try {
      const fetch = oidcTokenFetcher({ connectionId: 'c' }, { oidcRequestUri: endpoint.url, accessToken: 't' }, { retry: { retryDelayInMs: 5 }, httpClient: endpoint.httpClient });
      assert.equal(await fetch(), 'a.b.c');
      assert.equal(endpoint.seen.length, 3);
    } finally {
      await endpoint.close();
    }
  });
});

describe('credential factory', () => {
  const base = (id: string, scheme: string, parameters: Record<string, string>, extra: Record<string, string> = {}) =>
    envEndpointReader({
      [`ENDPOINT_URL_${id}`]: 'https://management.usgovcloudapi.net/',
      [`ENDPOINT_AUTH_${id}`]: JSON.stringify({ scheme, parameters: { tenantid: 'contoso.onmicrosoft.com', ...parameters } }),
      [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: 'AzureUSGovernment',
      ...extra,
    });

  it('masks the secret material of each scheme', () => {
    const reporter = new MemoryReporter();
    createCredential(readServiceConnection(base('a', 'ServicePrincipal', { serviceprincipalid: 'app', serviceprincipalkey: 'sec-ret' }), 'a'), { reporter });
    assert.deepEqual(reporter.secrets, ['sec-ret']);

    const wifReporter = new MemoryReporter();
    const wif = base('w', 'WorkloadIdentityFederation', { serviceprincipalid: 'app' }, {
      SYSTEM_OIDCREQUESTURI: 'https://dev.azure.com/o/p/_apis/oidctoken',
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: 'job-token-value',
    });
    createCredential(readServiceConnection(wif, 'w'), { reporter: wifReporter });
    assert.deepEqual(wifReporter.secrets, ['job-token-value']);

    const certReporter = new MemoryReporter();
    const key = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC';
    const pem = `-----BEGIN PRIVATE KEY-----\n${key}\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----`;
    const cert = base('c', 'ServicePrincipal', { serviceprincipalid: 'app', authenticationType: 'spnCertificate', servicePrincipalCertificate: pem });
    try {
      createCredential(readServiceConnection(cert, 'c'), { reporter: certReporter });
    } catch {
      // The identity library may refuse a PEM that is not a real key; masking happens before.
    }
    assert.deepEqual(certReporter.secrets, [key], 'each line of the private key, never the block: task-lib refuses multi-line secrets');
  });

  it('says an authority that cannot be reached is a network failure (IF2006), naming the connection and the authority', async () => {
    // A closed port: the authority cannot be reached at all, which says nothing about the credential.
    const connection = readServiceConnection(
      envEndpointReader({
        ENDPOINT_URL_x: 'https://127.0.0.1:9/',
        ENDPOINT_AUTH_x: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { tenantid: 't1', serviceprincipalid: 'app', serviceprincipalkey: 'k' } }),
        ENDPOINT_DATA_x_ENVIRONMENTAUTHORITYURL: 'https://127.0.0.1:9/',
        ENDPOINT_DATA_x_ACTIVEDIRECTORYSERVICEENDPOINTRESOURCEID: 'https://127.0.0.1:9/',
      }),
      'x',
    );
    const credential = createCredential(connection, { retry: { retryDelayInMs: 5, maxRetryDelayInMs: 10 } });
    try {
      await credential.getToken('https://127.0.0.1:9/.default');
      assert.fail('expected the sign-in to fail');
    } catch (error) {
      assert.ok(error instanceof FactoryError, String(error));
      assert.equal(error.code, ErrorCodes.AzureRequestFailed, error.message);
      assert.match(error.message, /service connection 'x'/);
      assert.match(error.message, /the authority 127\.0\.0\.1:9 could not be reached \(ECONNREFUSED\)/);
    }
  });
});

/**
 * A managed identity endpoint on loopback, in the shape hosts with a managed identity serve it
 * (IDENTITY_ENDPOINT and IDENTITY_HEADER), so the managed identity credential runs for real.
 */
describe('managed identity', function () {
  this.timeout(30_000);
  let server: http.Server;
  let requests: URL[];
  let answer: (url: URL) => { status: number; body: unknown };
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      requests.push(url);
      const reply = req.headers['x-identity-header'] === 'host-secret' ? answer(url) : { status: 401, body: { error: 'unauthorized' } };
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) saved[name] = process.env[name];
    process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
    process.env.IDENTITY_HEADER = 'host-secret';
  });
  after(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    requests = [];
  });

  const msiConnection = (clientId?: string) =>
    readServiceConnection(
      envEndpointReader({
        ENDPOINT_URL_msi: 'https://management.chinacloudapi.cn/',
        ENDPOINT_AUTH_msi: JSON.stringify({
          scheme: 'ManagedServiceIdentity',
          parameters: { tenantid: 'contoso.partner.onmschina.cn', ...(clientId ? { serviceprincipalid: clientId } : {}) },
        }),
        ENDPOINT_DATA_msi_ENVIRONMENT: 'AzureChinaCloud',
      }),
      'msi',
    );

  it("signs in as the user-assigned identity and fetches a new token when the old one expires", async () => {
    answer = (url) => ({
      status: 200,
      body: {
        access_token: `token-${requests.length}`,
        expires_on: String(Math.floor(Date.now() / 1000) + 1),
        resource: url.searchParams.get('resource'),
        token_type: 'Bearer',
      },
    });
    const credential = createCredential(msiConnection('5a6b7c8d-0000-4000-8000-000000000001'));
    const first = await credential.getToken('https://management.core.chinacloudapi.cn/.default');
    assert.equal(first?.token, 'token-1');
    assert.equal(requests[0].searchParams.get('client_id'), '5a6b7c8d-0000-4000-8000-000000000001');
    assert.equal(requests[0].searchParams.get('resource'), 'https://management.core.chinacloudapi.cn');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await credential.getToken('https://management.core.chinacloudapi.cn/.default');
    assert.equal(second?.token, 'token-2', 'an expired token is not reused');
  });

  it('says the agent lacks the identity when the host does not know it', async () => {
    answer = () => ({ status: 400, body: { error: 'invalid_request', error_description: 'Identity not found' } });
    const credential = createCredential(msiConnection('5a6b7c8d-0000-4000-8000-000000000002'), { retry: { retryDelayInMs: 5 } });
    await expectAuthFailure(
      credential.getToken('https://management.core.chinacloudapi.cn/.default') as Promise<unknown>,
      /service connection 'msi'/,
      /no user-assigned managed identity with client id 5a6b7c8d-0000-4000-8000-000000000002/,
      /Assign that user-assigned identity/,
    );
  });
});
