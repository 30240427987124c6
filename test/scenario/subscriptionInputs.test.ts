import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { removeConfiguration } from '../fixtures/config/configurationFolder';
import { CONNECTION_ID, type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';
import { writeDistributeConfiguration } from '../scenarios/distribute/factory';

/**
 * A subscription id that is not a GUID, wherever it is given (a task input, labs.json, the service
 * connection), is refused as the user's mistake before the task sends a single request to Azure.
 */
const SUB = '3c5e7a90-1b2d-4f6e-8a0b-1c2d3e4f5a61';
const CONFIGURATION = path.join(__dirname, '..', '..', '..', 'test', 'scenarios', 'distribute', 'Configuration');

describe('subscription ids that are not GUIDs', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;

  before(async () => {
    azure = await startLocalAzure({ scenario: { labs: [{ subscriptionId: SUB, resourceGroup: 'factory-rg', name: 'Factory' }] } });
  });
  after(async () => {
    await azure?.stop();
  });
  beforeEach(async () => {
    await azure.resetMetrics();
  });

  const assertNoRequest = async () => assert.equal((await azure.metrics()).total, 0, 'no request reached Azure, not even a sign-in');

  for (const task of ['DistributeImages', 'RetireImages']) {
    for (const value of ['not-a-guid', `${SUB}x`, `{${SUB}}`, '/subscriptions/x']) {
      it(`${task} refuses the input SubscriptionId '${value}' as IF1012`, async () => {
        const run = await runTaskProcess(task, { ConfigurationLocation: CONFIGURATION, DevTestLabName: 'Factory', SubscriptionId: value }, azure.env);
        assert.equal(run.result, 'Failed', describeRun(run));
        const errors = run.issues.filter((i) => i.type === 'error');
        assert.equal(errors.length, 1, describeRun(run));
        assert.equal(errors[0].code, 'IF1012', errors[0].message);
        assert.match(errors[0].message, /'SubscriptionId'/);
        assert.match(errors[0].message, /GUID/);
        await assertNoRequest();
      });
    }
  }

  it('DistributeImages takes a GUID with surrounding spaces and capitals', async () => {
    const run = await runTaskProcess('DistributeImages', { ConfigurationLocation: CONFIGURATION, DevTestLabName: 'Factory', SubscriptionId: ` ${SUB.toUpperCase()} `, dryRun: 'true' }, azure.env);
    assert.ok(!run.issues.some((i) => i.code === 'IF1012'), describeRun(run));
  });

  it('DistributeImages refuses a labs.json SubscriptionId that is not a GUID (IF1004) before any request', async () => {
    const location = writeDistributeConfiguration([
      { SubscriptionId: SUB, LabName: 'Factory', ImagePaths: ['Linux'] },
      { SubscriptionId: ` ${SUB}`, LabName: 'Dev1', ImagePaths: ['Windows'] },
    ]);
    try {
      const run = await runTaskProcess('DistributeImages', { ConfigurationLocation: location, DevTestLabName: 'Factory' }, azure.env);
      assert.equal(run.result, 'Failed', describeRun(run));
      assert.ok(run.issues.some((i) => i.code === 'IF1004' && /SubscriptionId/.test(i.message)), describeRun(run));
      await assertNoRequest();
    } finally {
      removeConfiguration(location);
    }
  });

  it('CleanUpFactory refuses a service connection whose subscription id is not a GUID (IF2001) before any request', async () => {
    const run = await runTaskProcess('CleanUpFactory', { DevTestLabName: 'Factory' }, { ...azure.env, [`ENDPOINT_DATA_${CONNECTION_ID}_SUBSCRIPTIONID`]: 'my-subscription' });
    assert.equal(run.result, 'Failed', describeRun(run));
    const errors = run.issues.filter((i) => i.type === 'error');
    assert.equal(errors.length, 1, describeRun(run));
    assert.equal(errors[0].code, 'IF2001', errors[0].message);
    assert.match(errors[0].message, /subscription id/);
    await assertNoRequest();
  });
});
