// Runs the SnapImagesFromVMs task under task-lib's mock runner with the inputs given as JSON in SNAP_INPUTS.
import * as path from 'node:path';
import { TaskMockRunner } from 'azure-pipelines-task-lib/mock-run';

const runner = new TaskMockRunner(path.join(__dirname, '../../tasks/SnapImagesFromVMs/index.js'));
for (const [name, value] of Object.entries(JSON.parse(process.env.SNAP_INPUTS ?? '{}') as Record<string, string>)) {
  runner.setInput(name, value);
}
runner.run();
