import * as assert from 'node:assert/strict';
import { DevTestLabsClient } from '@azure/arm-devtestlabs';
import { ClientSecretCredential } from '@azure/identity';
import { RestError, type PipelineResponse } from '@azure/core-rest-pipeline';
import { ARM_SCOPE, type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';

/**
 * Resource Manager's throttling: a token bucket per subscription, principal and kind of request (reads,
 * writes, deletes), refilled continuously; every answer says what is left; an empty bucket answers 429
 * SubscriptionRequestsThrottled with Retry-After. Small buckets here, so the test is quick.
 */
const SUB = '2d4f6a8c-1e3b-4d5f-8a7c-9e1b3d5f7a92';
const FACTORY = { clientId: '3c9a6e12-4b7d-4f0e-8a21-6d5c4b3a2f10', clientSecret: 'local-azure-factory-secret' };
const OTHER = { clientId: '8e2a4c6f-3b5d-4e71-9a0c-4d6f8b0e2a64', clientSecret: 'other-secret' };
const SETTINGS = {
  armReadBucket: 5,
  armReadRefillPerSecond: 2,
  armWriteBucket: 3,
  armWriteRefillPerSecond: 1,
  armDeleteBucket: 2,
  armDeleteRefillPerSecond: 1,
};

describe('local Resource Manager: throttling per principal (token buckets)', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        principals: [FACTORY, OTHER],
        labs: [{ subscriptionId: SUB, resourceGroup: 'rg', name: 'Lab', vms: [{ name: 'vm1' }] }],
        settings: { ...SETTINGS, lroDurationMs: 50, lroRetryAfterSeconds: 0 },
      },
    });
  });
  after(async () => azure?.stop());
  // A fresh start for each test: the buckets refill completely within 3 s.
  beforeEach(async () => new Promise((resolve) => setTimeout(resolve, 3000)));

  /** An SDK client that does not retry, so each 429 is seen. */
  const client = (principal = FACTORY, maxRetries = 0) =>
    new DevTestLabsClient(
      new ClientSecretCredential(azure.tenantId, principal.clientId, principal.clientSecret, { authorityHost: azure.authorityUrl, disableInstanceDiscovery: true }),
      SUB,
      { endpoint: azure.armUrl, credentialScopes: [ARM_SCOPE], retryOptions: { maxRetries, retryDelayInMs: 10, maxRetryDelayInMs: 50 } },
    );

  async function readWithHeaders(c: DevTestLabsClient): Promise<PipelineResponse> {
    let raw: PipelineResponse | undefined;
    await c.labs.get('rg', 'Lab', { onResponse: (response) => (raw = response) });
    return raw!;
  }

  it('counts reads from a bucket of the set size, says what is left on every answer, and answers 429 with Retry-After when it is empty', async () => {
    const c = client();
    const left: string[] = [];
    const global: string[] = [];
    for (let i = 0; i < SETTINGS.armReadBucket; i++) {
      const response = await readWithHeaders(c);
      left.push(response.headers.get('x-ms-ratelimit-remaining-subscription-reads')!);
      global.push(response.headers.get('x-ms-ratelimit-remaining-subscription-global-reads')!);
      assert.equal(response.headers.get('x-ms-ratelimit-remaining-subscription-writes'), undefined, 'a read tells of reads only');
    }
    // Tokens come back while the reads run, so what is left can only be as low as this, or a little higher.
    assert.deepEqual(left.map(Number).slice(0, 2), [4, 3]);
    assert.ok(Number(left[4]) <= 1, `left: ${left.join(', ')}`);
    assert.ok(Number(global[0]) >= 15 * SETTINGS.armReadBucket - 2, `the subscription's global bucket is 15 times larger: ${global.join(', ')}`);

    let throttled: RestError | undefined;
    for (let i = 0; i < 5 && !throttled; i++) {
      await c.labs.get('rg', 'Lab').catch((error: unknown) => {
        assert.ok(error instanceof RestError, String(error));
        throttled = error;
      });
    }
    assert.ok(throttled, 'an empty bucket is refused');
    assert.equal(throttled.statusCode, 429);
    assert.equal(throttled.code, 'SubscriptionRequestsThrottled');
    assert.match(throttled.message, /^Number of 'read' requests for subscription '[0-9a-f-]+' actor '[0-9a-f-]+' exceeded\. Please try again after '1' seconds after additional tokens are available\./);
    assert.equal(throttled.response?.headers.get('retry-after'), '1');
    assert.equal(throttled.response?.headers.get('x-ms-ratelimit-remaining-subscription-reads'), '0');

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const after = await readWithHeaders(c);
    assert.equal(after.status, 200, 'a token is back after Retry-After');
  });

  it('keeps writes and deletes in buckets of their own, and each principal in its own bucket', async () => {
    const c = client();
    const writes: number[] = [];
    for (let i = 0; i < SETTINGS.armWriteBucket; i++) {
      await c.labs.generateUploadUri('rg', 'Lab', { blobName: `w${i}.vhd` }, {
        onResponse: (response) => writes.push(Number(response.headers.get('x-ms-ratelimit-remaining-subscription-writes'))),
      });
    }
    assert.deepEqual(writes, [2, 1, 0]);
    await assert.rejects(c.labs.generateUploadUri('rg', 'Lab', { blobName: 'refused.vhd' }), (error: RestError) => error.statusCode === 429);
    // Reads are untouched by the writes, and another principal has buckets of its own.
    assert.equal((await readWithHeaders(c)).status, 200);
    let other: PipelineResponse | undefined;
    await client(OTHER).labs.generateUploadUri('rg', 'Lab', { blobName: 'other.vhd' }, { onResponse: (response) => (other = response) });
    assert.equal(other?.headers.get('x-ms-ratelimit-remaining-subscription-writes'), '2');

    let deletes: string | undefined;
    await c.customImages.beginDeleteAndWait('rg', 'Lab', 'absent', {
      onResponse: (response) => (deletes ??= response.headers.get('x-ms-ratelimit-remaining-subscription-deletes')),
    });
    assert.equal(deletes, '1', 'a delete takes from the delete bucket');
  });

  it('is waited out by the SDK, which honours Retry-After; every refusal is counted', async () => {
    const c = client(FACTORY, 5);
    await azure.resetMetrics();
    const started = Date.now();
    await Promise.all(Array.from({ length: SETTINGS.armReadBucket + 2 }, () => c.labs.get('rg', 'Lab')));
    const metrics = await azure.metrics();
    assert.ok((metrics.throttled.Labs_Get ?? 0) >= 1, JSON.stringify(metrics));
    assert.ok(Date.now() - started >= 900, 'the refused reads waited for Retry-After');
  });
});
