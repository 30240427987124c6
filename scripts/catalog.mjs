// Writes the image catalog locally: runs the bundled PublishImageCatalog task as `npm run task` does.
//
//   npm run catalog                                   against the quick start's scenario in a local Azure started here
//   npm run catalog -- --azureSubscription <id> --DevTestLabName <lab> [--<Input> <value>]...
//                                                     against the Azure whose ENDPOINT_* variables are exported
//
// Without a service connection in the environment (no ENDPOINT_URL_<azureSubscription>), it starts the local
// Azure on local-azure/scenarios/demo.json and stops it afterwards. The page goes to out/catalog/image-catalog.html
// unless --CatalogFile says otherwise; its path is printed at the end.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArguments, runTask } from './run-task.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);

const { inputs, debug, raw } = parseArguments(['PublishImageCatalog', ...process.argv.slice(2)]);
const given = {
  ConfigurationLocation: join(root, 'Configuration'),
  azureSubscription: 'LocalAzure',
  DevTestLabName: 'ImageFactory',
  CatalogFile: join(root, 'out', 'catalog', 'image-catalog.html'),
  ArtifactName: '',
  ...inputs,
};

let azure;
let env = {};
try {
  if (!process.env[`ENDPOINT_URL_${given.azureSubscription}`]) {
    const { startLocalAzure } = require(join(root, 'out', 'test', 'helpers', 'localAzure.js'));
    console.log(`No service connection '${given.azureSubscription}' in the environment: starting the local Azure on the quick start's scenario.`);
    azure = await startLocalAzure({ scenario: join(root, 'local-azure', 'scenarios', 'demo.json') });
    env = azure.env;
  }
  const { exitCode, outputs } = await runTask('PublishImageCatalog', given, { debug, raw, env });
  if (outputs.CatalogFile) console.log(`\nImage catalog: ${outputs.CatalogFile}`);
  process.exitCode = exitCode;
} catch (error) {
  console.error(`npm run catalog failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
} finally {
  await azure?.stop();
}
