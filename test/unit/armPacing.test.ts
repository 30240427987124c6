import * as assert from 'node:assert/strict';
import { createHttpHeaders, createPipelineRequest, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { ArmPacer } from '../../core/azure/armPacing';

/**
 * The pacer keeps a run's Resource Manager requests within the token buckets the answers describe:
 * one request in flight until an answer says what is left, then no more than that, and nothing of a
 * kind while a 429's Retry-After runs.
 */
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const URL_OF_SUB = 'https://management.azure.com/subscriptions/0b8c4a2e-3f61-4d5a-9c7e-2a1b3c4d5e6f/providers/Microsoft.DevTestLab/labs?api-version=2018-09-15';

function answer(request: PipelineRequest, status: number, headers: Record<string, string>): PipelineResponse {
  return { request, status, headers: createHttpHeaders(headers) };
}

describe('ArmPacer', () => {
  it('sends one request until an answer says what is left, then keeps no more in flight than that', async () => {
    const policy = new ArmPacer().policy();
    let inFlight = 0;
    const peaks: number[] = [];
    let remaining = 3;
    const send = (request: PipelineRequest) => {
      inFlight++;
      peaks.push(inFlight);
      return tick(20).then(() => {
        inFlight--;
        return answer(request, 200, { 'x-ms-ratelimit-remaining-subscription-reads': String(remaining) });
      });
    };
    const first = Array.from({ length: 4 }, () => policy.sendRequest(createPipelineRequest({ url: URL_OF_SUB, method: 'GET' }), send));
    await Promise.all(first);
    assert.equal(peaks[0], 1);
    assert.ok(Math.max(...peaks) <= 3, `peaks: ${peaks.join(', ')}`);
    assert.equal(peaks[1], 1, 'the others waited for the first answer');
    remaining = 0;
    peaks.length = 0;
    await Promise.all(Array.from({ length: 4 }, () => policy.sendRequest(createPipelineRequest({ url: URL_OF_SUB, method: 'GET' }), send)));
    assert.ok(peaks.filter((p) => p > 1).length <= 2, `once nothing is left, one at a time: ${peaks.join(', ')}`);
  });

  it("holds every request of the kind after a 429 until its Retry-After has passed, and not the other kinds", async () => {
    const policy = new ArmPacer().policy();
    const sentAt: { method: string; at: number }[] = [];
    let refuse = true;
    const send = async (request: PipelineRequest) => {
      sentAt.push({ method: request.method, at: Date.now() });
      if (request.method === 'GET' && refuse) {
        refuse = false;
        return answer(request, 429, { 'retry-after-ms': '300', 'x-ms-ratelimit-remaining-subscription-reads': '0' });
      }
      return answer(request, 200, { 'x-ms-ratelimit-remaining-subscription-reads': '50', 'x-ms-ratelimit-remaining-subscription-writes': '50' });
    };
    const started = Date.now();
    assert.equal((await policy.sendRequest(createPipelineRequest({ url: URL_OF_SUB, method: 'GET' }), send)).status, 429);
    await policy.sendRequest(createPipelineRequest({ url: URL_OF_SUB, method: 'POST' }), send);
    assert.ok(Date.now() - started < 250, 'a write is not held by the reads');
    await policy.sendRequest(createPipelineRequest({ url: URL_OF_SUB, method: 'GET' }), send);
    assert.ok(sentAt[2].at - started >= 290, `the next read waited for Retry-After: ${sentAt[2].at - started} ms`);
  });

  it('gives up waiting when the request is cancelled', async () => {
    const policy = new ArmPacer().policy();
    const send = async (request: PipelineRequest) => answer(request, 429, { 'retry-after': '30' });
    await policy.sendRequest(createPipelineRequest({ url: URL_OF_SUB, method: 'DELETE' }), send);
    const controller = new AbortController();
    const waiting = policy.sendRequest(createPipelineRequest({ url: URL_OF_SUB, method: 'DELETE', abortSignal: controller.signal }), send);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(waiting, (error: Error) => error.name === 'AbortError');
  });
});
