import * as assert from 'node:assert/strict';
import type { ScenarioLab } from '../../local-azure/scenario';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, type MetricsSnapshot, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';
import { factoryImage, FACTORY, storeVhd, SUB_A, writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * A DistributeImages run under Resource Manager's token buckets, with no fault injected: buckets far
 * smaller than Azure's, so that a run of a few seconds meets them. The run completes, and it paces
 * itself: what it sends, refusals included, stays within what the buckets let through in that time,
 * instead of parallel jobs all being refused and trying again together.
 */
const IMAGE = factoryImage('Linux_Ubuntu-Nov-24-2026', 'Linux/Ubuntu.json', 8 * 1024 * 1024);
const LABS = 12;
const TARGETS: ScenarioLab[] = Array.from({ length: LABS }, (_, i) => ({ subscriptionId: SUB_A, resourceGroup: 'dev-rg', name: `Dev${i + 1}` }));
const LIMITS = {
  reads: { size: 15, refill: 8 },
  writes: { size: 6, refill: 4 },
  deletes: { size: 4, refill: 2 },
};

/** Resource Manager requests of the run by kind, as the operation ids name them (POST actions are writes). */
function requestsByKind(metrics: MetricsSnapshot): Record<keyof typeof LIMITS, number> {
  const counts = { reads: 0, writes: 0, deletes: 0 };
  for (const [operation, n] of Object.entries(metrics.byOperation)) {
    if (operation.startsWith('Blob_') || ['Token', 'ManagedIdentity', 'OpenIdConfiguration', 'Jwks', 'Federation', 'Unknown'].includes(operation)) continue;
    if (/_Delete$/.test(operation)) counts.deletes += n;
    else if (/_(CreateOrUpdate|Update|GenerateUploadUri|ListVhds|Stop|Start|GrantAccess|RevokeAccess)$/.test(operation)) counts.writes += n;
    else counts.reads += n;
  }
  return counts;
}

const startThrottledAzure = () =>
  startLocalAzure({
    scenario: {
      labs: [{ ...FACTORY, vhds: [storeVhd(IMAGE)] }, ...TARGETS],
      settings: {
        armReadBucket: LIMITS.reads.size,
        armReadRefillPerSecond: LIMITS.reads.refill,
        armWriteBucket: LIMITS.writes.size,
        armWriteRefillPerSecond: LIMITS.writes.refill,
        armDeleteBucket: LIMITS.deletes.size,
        armDeleteRefillPerSecond: LIMITS.deletes.refill,
        lroDurationMs: 100,
        customImageDurationMs: 300,
        lroRetryAfterSeconds: 1,
      },
    },
  });

describe('DistributeImages under Resource Manager throttling', function () {
  this.timeout(180_000);
  let azure: LocalAzureProcess;
  let configuration: string;

  before(async () => {
    azure = await startThrottledAzure();
    configuration = writeDistributeConfiguration(TARGETS.map((lab) => ({ SubscriptionId: SUB_A, LabName: lab.name, ImagePaths: ['Linux'] })));
  });
  after(async () => {
    await azure?.stop();
    if (configuration) removeConfiguration(configuration);
  });

  it(`distributes to ${LABS} labs at once, and sends no more than the buckets let through`, async () => {
    await azure.resetMetrics();
    const started = Date.now();
    const run = await runTaskProcess(
      'DistributeImages',
      // Every copy from the store: the request mix this bound is written for (fan-out adds tag writes; below).
      { ConfigurationLocation: configuration, DevTestLabName: FACTORY.name, maxConcurrentJobs: String(LABS), fanOut: 'flat' },
      azure.env,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.result, 'Succeeded', describeRun(run));
    const state = await azure.state();
    for (const lab of TARGETS) {
      assert.deepEqual(state.labs.find((l) => l.name === lab.name)!.customImages.map((i) => i.name), [IMAGE.imageName], lab.name);
    }

    const metrics = await azure.metrics();
    const sent = requestsByKind(metrics);
    const refused = Object.values(metrics.throttled).reduce((sum, n) => sum + n, 0);
    const report = `in ${seconds.toFixed(1)} s: ${JSON.stringify(sent)}, ${refused} refused (${JSON.stringify(metrics.throttled)})`;
    assert.ok(sent.writes > LIMITS.writes.size, `the run meets the write bucket: ${report}`);
    // What a bucket lets through in the run's time: its size, then its refill. Refusals count as sent.
    for (const kind of ['reads', 'writes', 'deletes'] as const) {
      const allowed = LIMITS[kind].size + LIMITS[kind].refill * seconds;
      assert.ok(sent[kind] <= allowed, `${kind}: ${sent[kind]} sent, at most ${allowed.toFixed(0)} allowed; ${report}`);
    }
    // Pacing keeps refusals rare: a bucket is met now and then, not by every job each round (without
    // pacing this run has some 25 refusals).
    assert.ok(refused < LABS, `refusals: ${report}`);
  });

  it(`fans out to ${LABS} labs at once with the buckets met now and then, not by every job`, async () => {
    // Fan-out tags each source lab's custom image while other labs read its VHD: more writes per job, so
    // the write bucket is met more often; pacing still keeps refusals below one per job.
    // A fresh local Azure: every lab lacks the image again, and the buckets are full.
    await azure.stop();
    azure = await startThrottledAzure();
    await azure.resetMetrics();
    const run = await runTaskProcess(
      'DistributeImages',
      { ConfigurationLocation: configuration, DevTestLabName: FACTORY.name, maxConcurrentJobs: String(LABS), fanOut: 'tree' },
      azure.env,
    );
    assert.equal(run.result, 'Succeeded', describeRun(run));
    const state = await azure.state();
    for (const lab of TARGETS) {
      assert.deepEqual(state.labs.find((l) => l.name === lab.name)!.customImages.map((i) => i.name), [IMAGE.imageName], lab.name);
    }
    const metrics = await azure.metrics();
    const refused = Object.values(metrics.throttled).reduce((sum, n) => sum + n, 0);
    assert.ok(requestsByKind(metrics).writes > LIMITS.writes.size, 'the run meets the write bucket');
    assert.ok(refused < LABS, `refusals: ${refused} (${JSON.stringify(metrics.throttled)})`);
  });
});
