import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { loggingCommands } from '../helpers/loggingCommands';

/** Runs the task with `inputs` and returns whether it failed and its error issues (`[code] message`). */
async function run(inputs: Record<string, string>): Promise<{ failed: boolean; errors: string[]; stdout: string }> {
  process.env.SNAP_INPUTS = JSON.stringify(inputs);
  try {
    const runner = new MockTestRunner(path.join(__dirname, 'snapInputs.run.js'));
    runner.nodePath = process.execPath;
    await runner.runAsync();
    const errors = loggingCommands(runner.stdout)
      .filter((c) => c.command === 'task.logissue' && c.properties.type === 'error')
      .map((c) => c.data);
    return { failed: runner.failed, errors, stdout: runner.stdout };
  } finally {
    delete process.env.SNAP_INPUTS;
  }
}

const valid = { azureSubscription: 'NoSuchConnection', DevTestLabName: 'Factory' };

describe('SnapImagesFromVMs inputs (L0)', function () {
  this.timeout(30_000);

  it('fails, naming the input, when maxConcurrentJobs is out of range', async () => {
    const result = await run({ ...valid, maxConcurrentJobs: '0' });
    assert.ok(result.failed, result.stdout);
    assert.equal(result.errors.length, 1, result.stdout);
    assert.match(result.errors[0], /^\[IF1012\] The input 'maxConcurrentJobs' is '0'; it must be a whole number from 1 to 200\./);
  });

  it('fails when dryRun is not true or false, and when TimeoutMinutes is not a number', async () => {
    const dry = await run({ ...valid, dryRun: 'perhaps' });
    assert.ok(dry.failed);
    assert.match(dry.errors.join('\n'), /\[IF1012\] The input 'dryRun' is 'perhaps', which is not true or false/);
    const timeout = await run({ ...valid, TimeoutMinutes: 'soon' });
    assert.ok(timeout.failed);
    assert.match(timeout.errors.join('\n'), /\[IF1012\] The input 'TimeoutMinutes' is 'soon'/);
  });

  it('fails when the factory lab is not named', async () => {
    const result = await run({ azureSubscription: 'NoSuchConnection' });
    assert.ok(result.failed);
    assert.match(result.errors.join('\n'), /\[IF1012\] The input 'DevTestLabName' is required\./);
  });

  it('fails, naming the service connection, when the agent did not provide it', async () => {
    const result = await run(valid);
    assert.ok(result.failed);
    assert.equal(result.errors.length, 1, result.stdout);
    assert.match(result.errors[0], /^\[IF2001\] .*NoSuchConnection/);
    assert.doesNotMatch(result.stdout, /\n\s+at /, 'no stack trace for a user error');
  });
});
