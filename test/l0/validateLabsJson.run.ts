// Runs the bundled ValidateLabsJson task under task-lib's mock runner, with ConfigurationLocation taken
// from VALIDATE_CONFIGURATION_LOCATION (left unset when that is empty). The bundle carries its own
// task-lib, so the task runs as on an agent: real inputs, real logging commands.
import * as path from 'node:path';
import { TaskMockRunner } from 'azure-pipelines-task-lib/mock-run';

const runner = new TaskMockRunner(path.join(__dirname, '../../../tasks/ValidateLabsJson/index.js'));
const location = process.env.VALIDATE_CONFIGURATION_LOCATION;
if (location) runner.setInput('ConfigurationLocation', location);
runner.run(true);
