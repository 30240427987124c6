import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labVmTemplate, removeConfiguration, writeConfiguration } from '../fixtures/config/configurationFolder';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, type TaskRun } from '../helpers/taskProcess';

/**
 * A configuration the factory cannot trust is refused by every task that acts on it, before a single
 * request reaches Azure: DistributeImages copies nothing and RetireImages deletes nothing.
 */
const SUB = '3c5e7a90-1b2d-4f6e-8a0b-1c2d3e4f5a61';
const ACTING_TASKS = ['DistributeImages', 'RetireImages'];

const TEMPLATES = {
  'GoldenImages/Windows/Datacenter.json': labVmTemplate('Windows'),
  'GoldenImages/Linux/Ubuntu.json': labVmTemplate('Linux'),
};

/** labs.json with lab Dev's ImagePaths written twice: JSON.parse would keep only ["Linux"]. */
const DOUBLED_IMAGE_PATHS = `{
  "Labs": [
    {
      "SubscriptionId": "${SUB}",
      "LabName": "Dev",
      "ImagePaths": ["Windows"],
      "ImagePaths": ["Linux"]
    }
  ]
}
`;

describe('a configuration refused by the tasks that act on it', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  const made: string[] = [];

  before(async () => {
    azure = await startLocalAzure({ scenario: { labs: [{ subscriptionId: SUB, resourceGroup: 'factory-rg', name: 'Factory' }] } });
  });
  after(async () => {
    await azure?.stop();
    while (made.length > 0) removeConfiguration(made.pop()!);
  });
  beforeEach(async () => {
    await azure.resetMetrics();
  });

  function configuration(files: Record<string, unknown>): string {
    const location = writeConfiguration(files);
    made.push(location);
    return location;
  }

  async function runRefused(task: string, location: string, code: string): Promise<TaskRun> {
    const run = await runTaskProcess(task, { ConfigurationLocation: location, azureSubscription: 'LocalAzure', DevTestLabName: 'Factory', SubscriptionId: SUB }, azure.env);
    assert.equal(run.result, 'Failed', describeRun(run));
    const errors = run.issues.filter((i) => i.type === 'error');
    assert.ok(errors.length > 0 && errors.every((e) => e.code === code), describeRun(run));
    assert.doesNotMatch(run.stdout, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace for a user mistake');
    assert.equal((await azure.metrics()).total, 0, 'no request reached Azure, not even a sign-in');
    return run;
  }

  describe('150,000 labs, each with the same mistake', () => {
    const LABS = 150_000;
    let location: string;
    before(() => {
      const labs = [];
      for (let i = 0; i < LABS; i++) labs.push({ SubscriptionId: SUB, LabName: `Lab${i}`, ImagePaths: ['Windows/Nope.json'] });
      location = configuration({ ...TEMPLATES, 'labs.json': JSON.stringify({ Labs: labs }) });
    });

    /** Asserts the run printed 50 IF1007 errors and one counting the rest, with no crash. */
    function assertCapped(run: TaskRun): void {
      assert.equal(run.result, 'Failed', run.stdout.slice(-3000));
      assert.doesNotMatch(run.stdout, /Maximum call stack|IF9001/);
      const errors = run.issues.filter((i) => i.type === 'error');
      assert.equal(errors.length, 51, run.stdout.slice(-3000));
      assert.ok(errors.every((e) => e.code === 'IF1007'));
      assert.match(errors[0].message, /lab Labs\[0\] 'Lab0', \$\.Labs\[0\]\.ImagePaths\[0\]: the image path "Windows\/Nope\.json" selects no template/);
      assert.equal(errors[50].message, `[IF1007] ...and ${LABS - 50} more IF1007 error(s) like the above, not shown (${LABS} in all); every one was checked. Fix: The first 50 are shown; they often share one cause. Fix it and run again to see what is left.`);
      assert.ok(run.stdout.length < 1_000_000, `${run.stdout.length} characters of log`);
    }

    it('ValidateLabsJson checks every lab, prints the first 50 errors and a count, and gives the totals', async () => {
      const run = await runTaskProcess('ValidateLabsJson', { ConfigurationLocation: location }, {});
      assertCapped(run);
      assert.ok(run.lines.includes(`ValidateLabsJson: ${LABS} errors, 0 warnings (${LABS} labs and 2 templates checked).`), run.stdout.slice(-3000));
      assert.match(run.summary ?? '', new RegExp(`: ${LABS} errors, 0 warnings\\.`));
    });

    for (const task of ACTING_TASKS) {
      it(`${task} refuses it with the first 50 errors and a count, before any request`, async () => {
        const run = await runTaskProcess(task, { ConfigurationLocation: location, azureSubscription: 'LocalAzure', DevTestLabName: 'Factory', SubscriptionId: SUB }, azure.env);
        assertCapped(run);
        assert.equal((await azure.metrics()).total, 0, 'no request reached Azure');
      });
    }
  });

  describe('links out of the configuration folder and files over the size limit', () => {
    let outside: string;
    before(() => {
      outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-config-'));
      fs.mkdirSync(path.join(outside, 'Windows'));
      fs.writeFileSync(path.join(outside, 'Windows', 'Datacenter.json'), JSON.stringify(labVmTemplate('Windows')));
    });
    after(() => fs.rmSync(outside, { recursive: true, force: true }));

    const labs = { Labs: [{ SubscriptionId: SUB, LabName: 'Dev', ImagePaths: ['Windows'] }] };
    const cases: { name: string; code: string; message: RegExp; make: () => string }[] = [
      {
        name: 'a labs.json linked to /dev/zero',
        code: 'IF1015',
        message: /^\[IF1015\] Configuration\/labs\.json: labs\.json is a symbolic link to '\/dev\/zero', outside the configuration folder/,
        make: () => {
          const location = configuration(TEMPLATES);
          fs.symlinkSync('/dev/zero', path.join(location, 'labs.json'));
          return location;
        },
      },
      {
        name: 'a GoldenImages folder linked out of the configuration folder',
        code: 'IF1015',
        message: /^\[IF1015\] Configuration\/GoldenImages: GoldenImages is a symbolic link to '[^']+', outside the configuration folder/,
        make: () => {
          const location = configuration({ 'labs.json': labs });
          fs.rmSync(path.join(location, 'GoldenImages'), { recursive: true });
          fs.symlinkSync(outside, path.join(location, 'GoldenImages'));
          return location;
        },
      },
      {
        name: 'a labs.json over 64 MiB',
        code: 'IF1016',
        message: /^\[IF1016\] Configuration\/labs\.json: labs\.json holds 67108865 bytes, more than the 64\.0 MiB/,
        make: () => {
          const location = configuration({ ...TEMPLATES, 'labs.json': '' });
          fs.truncateSync(path.join(location, 'labs.json'), 64 * 1024 * 1024 + 1);
          return location;
        },
      },
    ];
    for (const { name, code, message, make } of cases) {
      it(`ValidateLabsJson refuses ${name} (${code})`, async () => {
        const run = await runTaskProcess('ValidateLabsJson', { ConfigurationLocation: make() }, {});
        assert.equal(run.result, 'Failed', describeRun(run));
        assert.deepEqual(run.issues.map((i) => i.code), [code], describeRun(run));
        assert.match(run.issues[0].message, message);
      });
      for (const task of ACTING_TASKS) {
        it(`${task} refuses ${name} (${code}) before any request`, async () => {
          const run = await runRefused(task, make(), code);
          assert.match(run.issues[0].message, message);
        });
      }
    }
  });

  for (const task of ACTING_TASKS) {
    it(`${task} refuses a labs.json with a property written twice (IF1014), naming both positions`, async () => {
      const location = configuration({ ...TEMPLATES, 'labs.json': DOUBLED_IMAGE_PATHS });
      const run = await runRefused(task, location, 'IF1014');
      assert.match(run.issues[0].message, /\$\.Labs\[0\]: the property "ImagePaths" is written twice in one object, at line 6, column 7 and at line 7, column 7/);
    });

    it(`${task} refuses a template with a property written twice (IF1014)`, async () => {
      const template = JSON.stringify(labVmTemplate('Linux'), null, 2).replace('"resources": [', '"resources": [],\n  "resources": [');
      const labs = { Labs: [{ SubscriptionId: SUB, LabName: 'Dev', ImagePaths: ['Windows', 'Linux'] }] };
      const location = configuration({ ...TEMPLATES, 'GoldenImages/Linux/Ubuntu.json': template, 'labs.json': labs });
      const run = await runRefused(task, location, 'IF1014');
      assert.match(run.issues[0].message, /^\[IF1014\] Configuration\/GoldenImages\/Linux\/Ubuntu\.json, line \d+, column 3: \$: the property "resources" is written twice/);
    });
  }
});
