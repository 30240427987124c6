import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOrCreateCa } from '../../local-azure/certs';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess } from '../helpers/taskProcess';

/**
 * The bundled CleanUpFactory, run as the agent runs it, when the authority fails in ways that have
 * nothing to do with the service connection: it must say what happened, not blame the credential.
 */
const SUB = '8c2e4a6f-1b3d-4f57-9e0a-2c4d6e8f0a1b';
const LAB = 'Factory';

describe('a task whose authority fails', function () {
  this.timeout(90_000);
  let azure: LocalAzureProcess;
  const inputs = { DevTestLabName: LAB, dryRun: 'true' };

  before(async () => {
    azure = await startLocalAzure({ scenario: { labs: [{ subscriptionId: SUB, resourceGroup: 'factory-rg', name: LAB }], settings: { lroRetryAfterSeconds: 0 } } });
  });
  after(async () => {
    await azure?.stop();
  });
  beforeEach(async () => {
    await azure.setFaults([]);
    await azure.resetMetrics();
  });

  it('rides out server errors of the authority with the retries Resource Manager gets', async () => {
    // The identity library's own budget gave up after 4 tries and called it a wrong credential.
    await azure.setFaults([{ operation: 'Token', kind: 'status', status: 500, count: 4 }]);
    const run = await runTaskProcess('CleanUpFactory', inputs, azure.env);
    assert.equal(run.result, 'Succeeded', describeRun(run));
    assert.ok((await azure.metrics()).byOperation.Token >= 5, 'retried past the fourth failure');
  });

  it('names an untrusted TLS certificate (a TLS-inspecting proxy) rather than an unknown tenant', async () => {
    // Another CA than the local Azure's: the agent trusts a certificate authority, just not the one presented.
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'other-ca-'));
    try {
      const other = await loadOrCreateCa(folder);
      const run = await runTaskProcess('CleanUpFactory', inputs, { ...azure.env, NODE_EXTRA_CA_CERTS: other.certPath });
      assert.equal(run.result, 'Failed', describeRun(run));
      const errors = run.issues.filter((i) => i.type === 'error');
      assert.equal(errors.length, 1, describeRun(run));
      assert.equal(errors[0].code, 'IF2006', errors[0].message);
      assert.match(errors[0].message, /TLS certificate of the authority 127\.0\.0\.1:\d+ is not trusted/);
      assert.match(errors[0].message, /is not trusted \([A-Z_]+: [^)]+\)/, 'with the certificate problem Node names');
      assert.match(errors[0].message, /NODE_EXTRA_CA_CERTS/);
      assert.doesNotMatch(errors[0].message, /tenant/);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
