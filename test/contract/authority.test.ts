import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { createAzureContext } from '../../core/azure/azureContext';
import { envEndpointReader } from '../../core/azure/endpoint';
import { readServiceConnection } from '../../core/azure/serviceConnection';
import { ErrorCodes, FactoryError } from '../../core/errors';
import { MemoryReporter } from '../../core/report';
import { startLocalAzure } from '../helpers/localAzure';

/**
 * Signing in when the authority itself fails, rather than refusing the credential: its failures get
 * Resource Manager's transient budget and are reported for what they are (HTTP status, network), never
 * as a wrong tenant or credential. Retries are quick here; the bundled task's are tested in
 * test/scenario/authority.test.ts.
 */
const SCENARIO = path.join(__dirname, '..', '..', '..', 'test', 'contract', 'connection.scenario.json');
const SUB = '0b8c4a2e-3f61-4d5a-9c7e-2a1b3c4d5e6f';
const CONNECTION = 'LocalAzure';

async function signInError(promise: Promise<unknown>): Promise<FactoryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof FactoryError, `expected a FactoryError, got ${(error as Error)?.stack ?? String(error)}`);
    return error;
  }
  assert.fail('expected signing in to fail');
}

describe('signing in when the authority fails', function () {
  this.timeout(60_000);
  let azure: Awaited<ReturnType<typeof startLocalAzure>>;
  const connect = (env: Record<string, string> = azure.env) =>
    createAzureContext(readServiceConnection(envEndpointReader(env), CONNECTION), {
      reporter: new MemoryReporter(),
      maxRetries: 6,
      retryDelayInMs: 10,
      maxRetryDelayInMs: 20,
    });

  before(async () => {
    azure = await startLocalAzure({ scenario: SCENARIO });
  });
  after(async () => {
    await azure?.stop();
  });
  beforeEach(async () => {
    await azure.setFaults([]);
    await azure.resetMetrics();
  });

  it("retries the authority's server errors with Resource Manager's budget, and then signs in", async () => {
    await azure.setFaults([{ operation: 'Token', kind: 'status', status: 500, count: 6 }]);
    const lab = await connect().labs.find(SUB, 'ImageFactory');
    assert.equal(lab.name, 'ImageFactory');
    assert.equal((await azure.metrics()).byOperation.Token, 7, 'six retries, as for Resource Manager');
  });

  it('reports server errors that outlast the retries as the HTTP status they are, not as a wrong credential', async () => {
    await azure.setFaults([{ operation: 'Token', kind: 'status', status: 500, count: 100 }]);
    const error = await signInError(connect().labs.find(SUB, 'ImageFactory'));
    assert.equal(error.code, ErrorCodes.AzureRequestFailed, error.message);
    assert.match(error.message, /authority .*answered HTTP 500/);
    assert.match(error.message, /7 tries/);
    assert.doesNotMatch(`${error.message} ${error.fix}`, /tenant id|client secret|credential is wrong/i);
    assert.match(error.fix ?? '', /run again/i);
    assert.equal((await azure.metrics()).byOperation.Token, 7);
  });

  it('waits out throttling of the authority as it asks', async () => {
    await azure.setFaults([{ operation: 'Token', kind: 'status', status: 429, retryAfterSeconds: 1, count: 2 }]);
    const started = Date.now();
    await connect().labs.find(SUB, 'ImageFactory');
    assert.ok(Date.now() - started >= 1900, 'waited Retry-After twice');
  });

  it('reports dropped connections as a network failure', async () => {
    await azure.setFaults([{ operation: 'Token', kind: 'reset', count: 100 }]);
    const error = await signInError(connect().labs.find(SUB, 'ImageFactory'));
    assert.equal(error.code, ErrorCodes.AzureRequestFailed, error.message);
    assert.match(error.message, /authority .*could not be reached \(ECONNRESET/);
    assert.match(error.fix ?? '', /network|proxy/i);
  });

  it('reports a refused connection as a network failure, not as an unknown tenant', async () => {
    const env = { ...azure.env, [`ENDPOINT_DATA_${CONNECTION}_ENVIRONMENTAUTHORITYURL`]: 'https://127.0.0.1:9/' };
    const error = await signInError(connect(env).labs.find(SUB, 'ImageFactory'));
    assert.equal(error.code, ErrorCodes.AzureRequestFailed, error.message);
    assert.match(error.message, /authority 127\.0\.0\.1:9 could not be reached \(ECONNREFUSED/);
    assert.doesNotMatch(error.message, /does not know tenant/);
  });

  it("keeps the wrong-tenant message for the authority's own answer", async () => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(azure.env)) {
      env[key] = key.toUpperCase().endsWith('_TENANTID') ? '00000000-0000-4000-8000-000000000000' : value;
    }
    const auth = JSON.parse(env[`ENDPOINT_AUTH_${CONNECTION}`]!);
    auth.parameters.tenantid = '00000000-0000-4000-8000-000000000000';
    env[`ENDPOINT_AUTH_${CONNECTION}`] = JSON.stringify(auth);
    const error = await signInError(connect(env).labs.find(SUB, 'ImageFactory'));
    assert.equal(error.code, ErrorCodes.AuthenticationFailed, error.message);
    assert.match(error.message, /tenant '00000000-0000-4000-8000-000000000000'/);
  });
});
