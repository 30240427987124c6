// The quick start: runs the factory's stages on the sample configuration, each through the same runner and
// log rendering as `npm run task`, and stops at the first stage that fails.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTask } from './run-task.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const configuration = join(root, 'Configuration');

const stages = [
  { title: 'Validate the configuration', task: 'ValidateLabsJson', inputs: { ConfigurationLocation: configuration } },
];

let exitCode = 0;
for (const [index, stage] of stages.entries()) {
  console.log(`\n== ${index + 1}/${stages.length} ${stage.title} (${stage.task}) ==`);
  const { result, exitCode: stageExit } = await runTask(stage.task, stage.inputs);
  if (stageExit !== 0) {
    console.log(`\nThe demo stopped: ${stage.task} ended ${result ?? 'without a result'}.`);
    exitCode = stageExit;
    break;
  }
}
process.exitCode = exitCode;
