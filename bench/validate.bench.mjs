// Configuration checks at scale, for docs/benchmarks.md (see run.mjs): loadConfiguration on a labs.json of
// 20,000 labs (out/bench/validate.js, in a fresh process), and the bundled ValidateLabsJson task run on it
// as the agent runs it, from start to result.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isQuick, median, writeResult } from './run.mjs';

const require = createRequire(import.meta.url);
const { largeConfigurationFiles, removeConfiguration, writeConfiguration } = require('../out/test/fixtures/config/configurationFolder.js');

const LABS = 20_000;
const TARGET_MS = 3000;
const scratch = mkdtempSync(join(tmpdir(), 'validate-bench-'));

try {
  const jsonFile = join(scratch, 'timing.json');
  const measured = spawnSync(process.execPath, ['out/bench/validate.js', String(LABS), '--json', jsonFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (measured.status !== 0) throw new Error('out/bench/validate.js failed');
  const { valid, broken } = JSON.parse(readFileSync(jsonFile, 'utf8'));

  // The whole task, as the agent starts it: bundle load, checks, every issue printed, summary, result.
  const location = writeConfiguration(largeConfigurationFiles(LABS));
  const task = [];
  let result;
  try {
    for (let i = 0; i < (isQuick() ? 1 : 5); i++) {
      const started = process.hrtime.bigint();
      const run = spawnSync(process.execPath, ['tasks/ValidateLabsJson/index.js'], {
        env: { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: scratch, INPUT_CONFIGURATIONLOCATION: location },
        encoding: 'utf8',
      });
      task.push(Number(process.hrtime.bigint() - started) / 1e6);
      result = /##vso\[task\.complete result=(\w+)/.exec(run.stdout)?.[1];
    }
  } finally {
    removeConfiguration(location);
  }
  const taskMs = median(task);
  console.log(`ValidateLabsJson task on ${LABS} labs, start to result: ${taskMs.toFixed(0)} ms (${result})`);

  writeResult('validate', {
    title: 'Configuration checks at scale',
    description:
      `A generated labs.json of ${LABS.toLocaleString('en-US')} labs (${(valid.labsJsonBytes / 2 ** 20).toFixed(1)} MB) over 20 subscriptions, ` +
      'each selecting templates by folder, by file and with Windows separators, and eight golden-image templates. ' +
      '"First run" is loadConfiguration in a fresh process (schema compile included), as a task run pays it; ' +
      'the task figure is the bundled ValidateLabsJson started as the agent starts it, to its result (median).',
    figures: [
      { name: `Validate ${LABS} labs (first run)`, value: Math.round(valid.firstMs), unit: 'ms', target: `< ${TARGET_MS} ms`, met: valid.firstMs < TARGET_MS },
      { name: `Validate ${LABS} labs (later runs, median)`, value: Math.round(valid.medianMs), unit: 'ms' },
      { name: `ValidateLabsJson task on ${LABS} labs, start to result`, value: Math.round(taskMs), unit: 'ms', target: `< ${TARGET_MS} ms`, met: taskMs < TARGET_MS },
      { name: `Validate ${LABS} labs with ${broken.issues} problems, each located (first run)`, value: Math.round(broken.firstMs), unit: 'ms' },
    ],
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
