// The DistributeImages workload shared by the benchmarks (distribute.bench.mjs, and any benchmark that runs the
// built DistributeImages task against the local Azure): a factory lab whose store holds saved images, target
// labs over subscriptions and regions, the configuration folder, and running the task as the agent runs it
// with its peak RSS and Resource Manager requests counted.
import { watchPeakRss } from './measure.mjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(fileURLToPath(import.meta.url), '../..');
const { startLocalAzure } = require('../out/test/helpers/localAzure.js');
const { startTask } = require('../out/test/helpers/taskProcess.js');
const { labVmTemplate, removeConfiguration } = require('../out/test/fixtures/config/configurationFolder.js');
const { DEFAULT_SETTINGS, checkSettings } = require('../out/local-azure/settings.js');
const { Checker } = require('../out/local-azure/scenarioChecker.js');
export const fx = require('../out/test/scenarios/distribute/factory.js');

/** The factory's region first; labs are dealt over these in turn. */
export const REGIONS = [fx.REGION, 'eastus', 'westeurope'];
/** Subscriptions beyond the fixture's two, for workloads spread wider (a plan over thousands of labs). */
export const subscriptionIds = (n) =>
  Array.from({ length: n }, (_, i) => (i === 0 ? fx.SUB_A : i === 1 ? fx.SUB_B : `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));

/** Inputs the built DistributeImages task declares, so a benchmark uses a feature only once the task has it. */
export function taskInputs(task = 'DistributeImages') {
  const manifest = JSON.parse(readFileSync(join(root, 'tasks', task, 'task.json'), 'utf8'));
  return new Set(manifest.inputs.map((input) => input.name));
}

/** Whether this build's local Azure takes a scenario setting of that name (a numeric one). */
export function localAzureHasSetting(name) {
  const problems = [];
  checkSettings(new Checker(problems), { [name]: 1 }, 'settings');
  return problems.length === 0;
}
export { DEFAULT_SETTINGS, watchPeakRss };

/**
 * A workload: `paths` image paths (templates under GoldenImages), `versions` stored images of each (newest
 * first; RetireImages' ImagesToSave decides how many a lab keeps), to `labs` labs that select them all,
 * dealt over `subscriptions` subscriptions and `regions` regions (the factory's first).
 *   spec: { paths, versions?: number | (pathIndex) => number, labs, vhdBytes, subscriptions?: 2, regions?: 1,
 *           regionWeights?: [3, 1, 1] (labs per region in that proportion; default even) }
 * Returns the scenario's labs, the labs.json entries and the configuration files.
 */
export function distributeWorkload(spec) {
  const versionsOf = typeof spec.versions === 'function' ? spec.versions : () => spec.versions ?? 1;
  const subs = subscriptionIds(spec.subscriptions ?? 2);
  const regions = REGIONS.slice(0, spec.regions ?? 1);
  // Labs are dealt over the regions in turn, each region taking as many turns as its weight.
  const turns = regions.flatMap((region, r) => Array(spec.regionWeights?.[r] ?? 1).fill(region));
  const templates = {};
  const stored = [];
  for (let p = 0; p < spec.paths; p++) {
    const osType = p % 3 === 2 ? 'Linux' : 'Windows';
    const path = `${osType}/Image${String(p).padStart(3, '0')}.json`;
    templates[`GoldenImages/${path}`] = labVmTemplate(osType);
    for (let v = 0; v < versionsOf(p); v++) {
      // Version 0 is the newest: one day apart, as nightly runs make them.
      const day = 24 - v;
      const image = fx.factoryImage(`Image${String(p).padStart(3, '0')}-Nov-${day}-2026`, path, spec.vhdBytes);
      stored.push({ ...image, createdUtc: `2026-11-${day}T08:00:00.000Z` });
    }
  }
  const scenarioLabs = [{ ...fx.FACTORY, vhds: stored.map(fx.storeVhd) }];
  const configLabs = [];
  // Each lab selects every template: the OS folders there are (labs.json may name only folders that hold one).
  const imagePaths = [...new Set(stored.map((image) => image.imagePath.split('/')[0]))].sort();
  for (let i = 0; i < spec.labs; i++) {
    const subscriptionId = subs[i % subs.length];
    const name = `Lab${String(i).padStart(5, '0')}`;
    scenarioLabs.push({ subscriptionId, resourceGroup: `rg${i % 10}`, name, location: turns[i % turns.length] });
    configLabs.push({ SubscriptionId: subscriptionId, LabName: name, ImagePaths: imagePaths });
  }
  return { scenarioLabs, configLabs, templates, stored, regions, subscriptions: subs };
}

/** Starts the local Azure with the workload, writes its configuration, runs `body(azure, config, workload)`, then stops. */
export async function withWorkload(spec, body) {
  const workload = distributeWorkload(spec);
  const azure = await startLocalAzure({
    scenario: { labs: workload.scenarioLabs, settings: spec.settings },
    faults: spec.faults,
    // Loading a scenario of thousands of labs takes a while on a busy machine.
    startTimeoutMs: 30_000 + 50 * spec.labs,
  });
  const config = fx.writeDistributeConfiguration(workload.configLabs, workload.templates);
  try {
    return await body(azure, config, workload);
  } finally {
    await azure.stop();
    removeConfiguration(config);
  }
}

/**
 * Runs the built DistributeImages task on the factory lab. Times: the task's wall time, the plan phase (until
 * the plan is printed) and the makespan (the first job's start to the last job's end, from the task's log).
 * `onLine` sees every line of the task's output.
 */
export async function runDistributeTask(azure, config, inputs = {}, { onLine } = {}) {
  let jobsStartedAt;
  let lastJobAt;
  let planDoneAt;
  const lines = [];
  const started = Date.now();
  const task = startTask(
    'DistributeImages',
    { azureSubscription: azure.connectionId, DevTestLabName: fx.FACTORY.name, ConfigurationLocation: config, ...inputs },
    azure.env,
    {
      onLine: (line) => {
        if (/^Running \d+ jobs?/.test(line)) jobsStartedAt = Date.now();
        else if (/^\[\d+\/\d+\]/.test(line)) lastJobAt = Date.now();
        else if (/^Plan: /.test(line)) planDoneAt = Date.now();
        lines.push(line);
        onLine?.(line);
      },
    },
  );
  const peakRss = watchPeakRss(task.child.pid);
  const run = await task.done;
  const peakRssMb = peakRss();
  const failed = run.issues.filter((i) => i.type === 'error');
  return {
    result: run.result,
    errors: failed.length,
    firstErrors: failed.slice(0, 3).map((i) => `${i.code} ${i.message}`),
    wallMs: Date.now() - started,
    planMs: planDoneAt ? planDoneAt - started : undefined,
    makespanMs: jobsStartedAt && lastJobAt ? lastJobAt - jobsStartedAt : undefined,
    peakRssMb,
    lines,
  };
}

/** Resource Manager's kind of request for its token buckets, by the local Azure's operation name. */
export function requestKind(operation) {
  if (/_Delete\w*$/.test(operation)) return 'deletes';
  // Labs_ListVhds and the Generate/Grant/Revoke actions are POSTs: writes.
  if (operation === 'Labs_ListVhds') return 'writes';
  if (operation === 'Operation_Status' || /_(Get|List\w*|InstanceView)$/.test(operation)) return 'reads';
  return 'writes';
}

// Resource Manager operations of the VHD route (DevTest Labs, Compute); polls of a long-running operation
// (its status, then the resource once it is done) are counted apart.
const ARM = /^(Labs|CustomImages|VirtualMachines|Disks|SharedGalleries|Galleries|GalleryImages|GalleryImageVersions)_/;
const LRO = new Set(['Operation_Status', 'CustomImages_Get']);

/**
 * Resource Manager requests in a metrics snapshot: `calls` and `polls` (LRO), `throttled` (429s for the
 * token buckets), and the requests the buckets let through by kind (`accepted.reads`, ...).
 */
export function armCalls(metrics) {
  let calls = 0;
  let polls = 0;
  let throttled = 0;
  const accepted = { reads: 0, writes: 0, deletes: 0 };
  for (const [op, n] of Object.entries(metrics.byOperation)) {
    const refused = metrics.throttled?.[op] ?? 0;
    if (LRO.has(op)) polls += n;
    else if (ARM.test(op)) calls += n;
    else continue;
    throttled += refused;
    accepted[requestKind(op)] += n - refused;
  }
  return { calls, polls, throttled, accepted };
}

/** Image counts in a local Azure state: custom images in the target labs, staging blobs left. */
export function labTotals(state) {
  let images = 0;
  let staging = 0;
  for (const lab of state.labs) {
    if (lab.name === fx.FACTORY.name) continue;
    images += lab.customImages.length;
    staging += lab.blobs.filter((b) => b.name.startsWith('staging-')).length;
  }
  return { images, staging };
}
