import * as assert from 'node:assert/strict';
import {
  createEmptyPipeline,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
  RestError,
} from '@azure/core-rest-pipeline';
import { describeAzureError, isAzureError, parseAuthorizationFailure, redactUrls } from '../../core/azure/azureErrors';
import { MAX_POLL_MS, MIN_POLL_MS, nextPollDelay, parseCopyProgress } from '../../core/azure/blobCopy';
import { describeSignInError } from '../../core/azure/credentials';
import { containerUrlFromUploadUri, maskSas, withoutQuery } from '../../core/azure/labs';
import { armRetryPolicy, backoffDelay, retryAfterMs, throttlingDelay } from '../../core/azure/retryPolicy';
import type { ServiceConnection } from '../../core/azure/serviceConnection';
import { ErrorCodes } from '../../core/errors';
import { MemoryReporter } from '../../core/report';

const headers = (values: Record<string, string>) => createHttpHeaders(values);

describe('upload URI to container URL', () => {
  it('strips the blob name and SAS from an account-host URL', () => {
    assert.equal(
      containerUrlFromUploadUri('https://afactory1234.blob.core.windows.net/uploads/Win2016-Nov.vhd?sv=2020-08-04&sp=rcw&sig=abc%2B'),
      'https://afactory1234.blob.core.windows.net/uploads',
    );
    assert.equal(
      containerUrlFromUploadUri('https://afactory.blob.core.chinacloudapi.cn/uploads/x.vhd?sig=1'),
      'https://afactory.blob.core.chinacloudapi.cn/uploads',
    );
  });

  it('keeps the account of a path-style URL', () => {
    assert.equal(containerUrlFromUploadUri('https://127.0.0.1:10443/afactory/uploads/x.vhd?sv=1&sig=2'), 'https://127.0.0.1:10443/afactory/uploads');
    assert.equal(containerUrlFromUploadUri('https://localhost:10443/acct/uploads/dir/x.vhd'), 'https://localhost:10443/acct/uploads');
    assert.equal(containerUrlFromUploadUri('https://[::1]:10443/acct/uploads/x.vhd'), 'https://[::1]:10443/acct/uploads');
  });

  it('keeps blob names with folders out of the container URL', () => {
    assert.equal(containerUrlFromUploadUri('https://a.blob.core.windows.net/uploads/folder/x.vhd?sig=1'), 'https://a.blob.core.windows.net/uploads');
  });

  it('refuses a URL without a blob', () => {
    assert.throws(() => containerUrlFromUploadUri('https://a.blob.core.windows.net/uploads'), (e: { code?: string }) => e.code === ErrorCodes.AzureRequestFailed);
    assert.throws(() => containerUrlFromUploadUri('not a url'), (e: { code?: string }) => e.code === ErrorCodes.AzureRequestFailed);
  });
});

describe('SAS handling', () => {
  it('masks the SAS URL and its signature, raw and encoded', () => {
    const reporter = new MemoryReporter();
    maskSas('https://a.blob.core.windows.net/uploads/x.vhd?sv=1&sig=ab%2Bc%3D', reporter);
    assert.deepEqual(reporter.secrets, ['https://a.blob.core.windows.net/uploads/x.vhd?sv=1&sig=ab%2Bc%3D', 'ab+c=', 'ab%2Bc%3D']);
  });

  it('removes queries from URLs in any text', () => {
    assert.equal(withoutQuery('https://a/b/c.vhd?sig=x'), 'https://a/b/c.vhd');
    assert.equal(
      redactUrls("Copy source 'https://d.blob.core.windows.net/x/abcd?sv=1&sig=SECRET' failed; also https://a/b?c=1."),
      "Copy source 'https://d.blob.core.windows.net/x/abcd' failed; also https://a/b",
    );
  });
});

describe('copy polling', () => {
  it('reads x-ms-copy-progress', () => {
    assert.deepEqual(parseCopyProgress('1048576/4194304'), { copiedBytes: 1048576, totalBytes: 4194304 });
    assert.equal(parseCopyProgress(undefined), undefined);
    assert.equal(parseCopyProgress('garbage'), undefined);
  });

  it('looks again a little after the copy is expected to end', () => {
    // 1 GB left at 1 MB/ms -> about 1 s.
    const delay = nextPollDelay({ copiedBytes: 1e9, totalBytes: 2e9, bytesPerMs: 1e6 });
    assert.ok(delay >= 1000 && delay <= 1200, `delay ${delay}`);
  });

  it('waits at most the maximum on a long copy, so progress stays visible', () => {
    assert.equal(nextPollDelay({ copiedBytes: 1e6, totalBytes: 1e12, bytesPerMs: 1e3 }), MAX_POLL_MS);
    assert.equal(nextPollDelay({ copiedBytes: 1e6, totalBytes: 1e12, bytesPerMs: 1e3 }, { maxMs: 5000 }), 5000);
  });

  it('does not trust a rate seen over a few milliseconds', () => {
    // 2 MB after 37 ms looks like 19 s to go; look again soon instead and measure better.
    const early = nextPollDelay({ copiedBytes: 2 ** 21, totalBytes: 2 ** 30, bytesPerMs: 2 ** 21 / 37, observedMs: 37 });
    assert.ok(early <= 250, `delay ${early}`);
    const later = nextPollDelay({ copiedBytes: 2 ** 28, totalBytes: 2 ** 30, bytesPerMs: 2 ** 28 / 640, observedMs: 640 });
    assert.ok(later > 1280 * 0.99 && later <= 1281, `twice the observed time at most: ${later}`);
    const settled = nextPollDelay({ copiedBytes: 2 ** 29, totalBytes: 2 ** 30, bytesPerMs: 2 ** 29 / 2000, observedMs: 2000 });
    assert.ok(settled >= 1700 && settled < 2000, `a little before the expected end: ${settled}`);
    const close = nextPollDelay({ copiedBytes: 2 ** 30 - 2 ** 20, totalBytes: 2 ** 30, bytesPerMs: 2 ** 20 / 500, observedMs: 4000 });
    assert.ok(close >= 500 && close <= 500 + MIN_POLL_MS, `just after the end once it is close: ${close}`);
  });

  it('never polls faster than the minimum', () => {
    assert.equal(nextPollDelay({ copiedBytes: 999, totalBytes: 1000, bytesPerMs: 1e9 }), MIN_POLL_MS);
  });

  it('starts short and doubles while the rate is unknown', () => {
    const first = nextPollDelay({ copiedBytes: 0, totalBytes: 1e9 });
    const second = nextPollDelay({ copiedBytes: 0, totalBytes: 1e9, previousDelayMs: first });
    assert.equal(second, first * 2);
    let delay = first;
    for (let i = 0; i < 20; i++) delay = nextPollDelay({ copiedBytes: 0, totalBytes: 1e9, previousDelayMs: delay });
    assert.equal(delay, MAX_POLL_MS);
  });
});

describe('Retry-After and back-off', () => {
  it('reads Retry-After in seconds, as a date, and the millisecond headers', () => {
    assert.equal(retryAfterMs(headers({ 'Retry-After': '7' })), 7000);
    assert.equal(retryAfterMs(headers({ 'retry-after-ms': '250' })), 250);
    assert.equal(retryAfterMs(headers({ 'x-ms-retry-after-ms': '40' })), 40);
    const date = retryAfterMs(headers({ 'Retry-After': new Date(Date.now() + 5000).toUTCString() }));
    assert.ok(date !== undefined && date > 3000 && date <= 5000, `date ${date}`);
    assert.equal(retryAfterMs(headers({})), undefined);
  });

  it('treats 429 as throttling with or without Retry-After, and 503 only with it', () => {
    assert.equal(throttlingDelay({ status: 429, headers: headers({ 'Retry-After': '3' }) }), 3000);
    const bare429 = throttlingDelay({ status: 429, headers: headers({}) }, 1000, 30000, 1);
    assert.ok(bare429 !== undefined && bare429 >= 800 && bare429 <= 1000);
    assert.equal(throttlingDelay({ status: 503, headers: headers({ 'Retry-After': '2' }) }), 2000);
    assert.equal(throttlingDelay({ status: 503, headers: headers({}) }), undefined);
    assert.equal(throttlingDelay({ status: 500, headers: headers({ 'Retry-After': '2' }) }), undefined);
  });

  it('backs off exponentially with jitter up to the cap', () => {
    assert.equal(backoffDelay(0, 1000, 30000, () => 1), 1000);
    assert.equal(backoffDelay(3, 1000, 30000, () => 1), 8000);
    assert.equal(backoffDelay(10, 1000, 30000, () => 1), 30000);
    assert.equal(backoffDelay(3, 1000, 30000, () => 0), 6400);
  });
});

/** A transport that answers from a script, to watch what the retry policy does with each answer. */
function scripted(statuses: { status: number; headers?: Record<string, string> }[]): HttpClient & { calls: number } {
  const client = {
    calls: 0,
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const next = statuses[Math.min(client.calls, statuses.length - 1)];
      client.calls++;
      return { request, status: next.status, headers: headers(next.headers ?? {}), bodyAsText: '{}' };
    },
  };
  return client;
}

describe('Resource Manager retry policy', () => {
  const send = (client: HttpClient, options: Parameters<typeof armRetryPolicy>[0]) => {
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(armRetryPolicy(options));
    return pipeline.sendRequest(client, createPipelineRequest({ url: 'https://arm.test/subscriptions/s/providers/x', method: 'GET' }));
  };

  it('waits out throttling without using the transient budget', async () => {
    const client = scripted([
      { status: 429, headers: { 'Retry-After-Ms': '5' } },
      { status: 429, headers: { 'Retry-After-Ms': '5' } },
      { status: 429, headers: { 'Retry-After-Ms': '5' } },
      { status: 500 },
      { status: 200 },
    ]);
    const response = await send(client, { maxRetries: 1, retryDelayInMs: 1 });
    assert.equal(response.status, 200);
    assert.equal(client.calls, 5);
  });

  it('gives up on transient failures after maxRetries and returns the last answer', async () => {
    const client = scripted([{ status: 500 }]);
    const response = await send(client, { maxRetries: 3, retryDelayInMs: 1, maxRetryDelayInMs: 2 });
    assert.equal(response.status, 500);
    assert.equal(client.calls, 4);
  });

  it('does not retry what retrying cannot fix', async () => {
    for (const status of [400, 401, 403, 404, 409, 501]) {
      const client = scripted([{ status }]);
      assert.equal((await send(client, { retryDelayInMs: 1 })).status, status);
      assert.equal(client.calls, 1, `HTTP ${status} is not retried`);
    }
  });

  it('stops waiting for throttling when the total wait would pass the limit', async () => {
    const client = scripted([{ status: 429, headers: { 'Retry-After-Ms': '150' } }]);
    const response = await send(client, { maxThrottleWaitMs: 400 });
    assert.equal(response.status, 429);
    assert.equal(client.calls, 3);
  });
});

describe('Azure errors for users', () => {
  const restError = (status: number, code: string, message: string) =>
    new RestError(message, { statusCode: status, code, request: createPipelineRequest({ url: 'https://arm.test/x?sig=secret', method: 'GET' }) });

  it('names the action, the scope and the role for AuthorizationFailed', () => {
    const message =
      "The client 'abc' with object id 'abc' does not have authorization to perform action 'Microsoft.DevTestLab/labs/customImages/write' over scope '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/Lab1/customimages/img' or the scope is invalid.";
    assert.deepEqual(parseAuthorizationFailure(message), {
      action: 'Microsoft.DevTestLab/labs/customImages/write',
      scope: '/subscriptions/s1/resourceGroups/rg/providers/Microsoft.DevTestLab/labs/Lab1/customimages/img',
    });
    const error = describeAzureError(restError(403, 'AuthorizationFailed', message), "Creating custom image 'img' in lab 'Lab1'");
    assert.equal(error.code, ErrorCodes.AuthorizationFailed);
    assert.match(error.message, /customImages\/write/);
    assert.match(error.message, /labs\/Lab1\/customimages\/img/);
    assert.match(error.fix!, /Contributor/);
  });

  it('tells storage data-plane refusals apart and names the data role', () => {
    const error = describeAzureError(restError(403, 'AuthorizationPermissionMismatch', 'This request is not authorized.'), 'Listing images');
    assert.equal(error.code, ErrorCodes.StorageAccessDenied);
    assert.match(error.fix!, /Storage Blob Data Contributor/);
  });

  it('maps an unknown subscription and a missing lab', () => {
    assert.equal(describeAzureError(restError(404, 'SubscriptionNotFound', "The subscription 's' could not be found."), 'x').code, ErrorCodes.SubscriptionNotFound);
    assert.equal(describeAzureError(restError(404, 'ResourceNotFound', 'gone'), 'x', { notFound: ErrorCodes.LabNotFound }).code, ErrorCodes.LabNotFound);
    assert.equal(describeAzureError(restError(404, 'ResourceNotFound', 'gone'), 'x').code, ErrorCodes.AzureRequestFailed);
  });

  it('explains a token from the wrong tenant', () => {
    const error = describeAzureError(
      restError(401, 'InvalidAuthenticationTokenTenant', "The access token is from the wrong issuer 'https://sts.windows.net/t1/'."),
      'Listing labs',
    );
    assert.equal(error.code, ErrorCodes.AuthenticationFailed);
    assert.match(error.fix!, /tenant/);
  });

  it("quotes the error of a long-running operation that ended Failed, which the SDK's poller reports without a status", () => {
    const failed = new Error(
      "The long-running operation has failed. ResourceDeploymentFailure. The resource operation completed with terminal provisioning state 'Failed'. Image from https://a.blob.core.windows.net/uploads/x.vhd?sig=SECRET.",
    );
    assert.ok(isAzureError(failed));
    const error = describeAzureError(failed, "Creating custom image 'img' in lab 'Lab1'");
    assert.equal(error.code, ErrorCodes.AzureRequestFailed);
    assert.match(error.message, /^Creating custom image 'img' in lab 'Lab1' failed: Azure reports the operation Failed \(ResourceDeploymentFailure\)\. The resource operation completed/);
    assert.doesNotMatch(error.message, /SECRET/);
    assert.equal(error.cause, failed);
    assert.ok(!isAzureError(new Error('The long-running operation has failed to be written in our own code')), 'a defect keeps its stack');
  });

  it('keeps SAS queries out of messages', () => {
    const error = describeAzureError(restError(500, 'InternalError', 'Copy of https://a.blob.core.windows.net/c/b?sv=1&sig=SECRET failed'), 'Copying');
    assert.doesNotMatch(`${error.message} ${error.fix}`, /SECRET/);
  });
});

describe('sign-in errors', () => {
  const connection = {
    connectionId: 'prod-conn',
    scheme: 'ServicePrincipal',
    tenantId: 'tenant-1',
    clientId: 'client-1',
    cloud: { resourceManagerUrl: 'https://arm', authorityHost: 'https://login.test', resourceManagerAudience: 'https://arm/' },
    source: { kind: 'clientSecret', clientSecret: 'x' },
  } as ServiceConnection;
  const aad = (text: string) => Object.assign(new Error(text), { name: 'AuthenticationError' });

  it('says when the secret is wrong or expired, naming the connection and the app', () => {
    const wrong = describeSignInError(aad('AADSTS7000215: Invalid client secret provided.\nTrace ID: 1'), connection);
    assert.equal(wrong.code, ErrorCodes.AuthenticationFailed);
    assert.match(wrong.message, /prod-conn/);
    assert.match(wrong.message, /secret is wrong/);
    assert.match(wrong.fix!, /client-1/);
    const expired = describeSignInError(aad('AADSTS7000222: The provided client secret keys are expired.'), connection);
    assert.match(expired.message, /expired/);
  });

  it('says when the tenant is wrong', () => {
    const error = describeSignInError(aad("AADSTS90002: Tenant 'tenant-1' not found."), connection);
    assert.match(error.message, /tenant 'tenant-1' does not exist at https:\/\/login\.test/);
    assert.match(error.fix!, /tenant id/);
    const app = describeSignInError(aad("AADSTS700016: Application with identifier 'client-1' was not found in the directory."), connection);
    assert.match(app.message, /not found in tenant 'tenant-1'/);
  });

  it('says when a managed identity is missing on the agent', () => {
    const msi = { ...connection, scheme: 'ManagedServiceIdentity', clientId: undefined } as unknown as ServiceConnection;
    Object.defineProperty(msi, 'source', { value: { kind: 'managedIdentity' } });
    const error = describeSignInError(Object.assign(new Error('ManagedIdentityCredential: no managed identity endpoint found.'), { name: 'CredentialUnavailableError' }), msi);
    assert.match(error.message, /agent has no managed identity/);
    assert.match(error.fix!, /system-assigned/);
  });

  it("quotes only the identity endpoint's own words, and tells a missing identity from an unreachable endpoint and a failing one", () => {
    const msi = { ...connection, scheme: 'ManagedServiceIdentity' } as unknown as ServiceConnection;
    Object.defineProperty(msi, 'source', { value: { kind: 'managedIdentity' } });
    const unavailable = (message: string) => Object.assign(new Error(message), { name: 'CredentialUnavailableError' });

    const missing = describeSignInError(
      unavailable(
        'ManagedIdentityCredential: Authentication failed. Message : Error(s): Not Available - Timestamp: Not Available - Description: No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId. - Correlation ID: 1a74 - Trace ID: Not Available',
      ),
      msi,
    );
    assert.equal(
      missing.message,
      "Signing in with service connection 'prod-conn' failed: the agent has no user-assigned managed identity with client id client-1 (the machine's identity endpoint says: No User Assigned or Delegated Managed Identity found for specified ClientId/ResourceId/PrincipalId).",
    );
    assert.match(missing.fix!, /Assign that user-assigned identity to the agent machine/);

    const unreachable = describeSignInError(unavailable('ManagedIdentityCredential: Network unreachable. Message: network_error: See https://aka.ms/msal.js.errors#network_error for details'), msi);
    assert.match(unreachable.message, /agent machine has no managed identity: its identity endpoint could not be reached\.$/);
    assert.match(unreachable.fix!, /Azure VM or scale set with a managed identity/);

    const failing = describeSignInError(unavailable('ManagedIdentityCredential: Authentication failed. Message : Error(s): Not Available - Description: The service is busy. - Correlation ID: 9'), msi);
    assert.match(failing.message, /the agent's user-assigned managed identity with client id client-1 gave no token \(The service is busy\)\.$/);
  });
});
