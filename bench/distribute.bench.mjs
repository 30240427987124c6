// DistributeImages at scale, against the local Azure: the built task, run as the agent runs it, distributes
// I images to L labs (K = I x L jobs), each job a server-side copy of D_copy seconds (VHD size / copy rate) and
// a custom image that takes D_image, with maxConcurrentJobs c. Measured:
//   - makespan of the jobs against the lower bound ceil(K / c) x D, D = D_copy + D_image (target <= 1.05);
//   - Resource Manager requests per job (LRO polls counted apart) and for the plan phase as labs grow;
//   - peak RSS of the task process, with VHDs of two sizes (target < 200 MB, independent of VHD size);
//   - the same workload under a 429 storm (a share of all Resource Manager requests throttled);
//   - the same workload under the image factory scripts' scheduling (bench/distributeBaseline.mjs).
// 20 images x 20 labs (K = 400) by default, 10 x 10 with BENCH_QUICK=1. BENCH_DISTRIBUTE_IMAGES / BENCH_DISTRIBUTE_LABS override I and L.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { watchPeakRss } from './measure.mjs';
import { isQuick, writeResult } from './run.mjs';

const require = createRequire(import.meta.url);
const { startLocalAzure } = require('../out/test/helpers/localAzure.js');
const { startTask } = require('../out/test/helpers/taskProcess.js');
const fx = require('../out/test/scenarios/distribute/factory.js');
const { removeConfiguration } = require('../out/test/fixtures/config/configurationFolder.js');

const IMAGES = Number(process.env.BENCH_DISTRIBUTE_IMAGES ?? (isQuick() ? 10 : 20));
const LABS = Number(process.env.BENCH_DISTRIBUTE_LABS ?? (isQuick() ? 10 : 20));
const C = 20;
// Labs of the plan-phase points; BENCH_DISTRIBUTE_PLAN_LABS=5000 measures one point.
const PLAN_LABS = (process.env.BENCH_DISTRIBUTE_PLAN_LABS ?? (isQuick() ? '10,100,1000' : '10,100,1000,5000,10000')).split(',').map(Number);
const K = IMAGES * LABS;
const COPY_RATE_MBPS = 512;
const VHD_GIB = 6; // 6 GiB at 512 MB/s: D_copy = 12 s
const D_COPY_MS = (VHD_GIB * 1024 * 1000) / COPY_RATE_MBPS;
// Azure names a 1 s Retry-After while the custom image is made; it is ready just before the first look.
const D_IMAGE_MS = 900;
const D_MS = D_COPY_MS + D_IMAGE_MS;
// D stands for a 10-minute job in Azure (a 128 GB VHD copied at about 200 MB/s, then made an image):
// the scripts' periods shrink by the same factor.
const REAL_JOB_MS = 10 * 60_000;
const TIME_FACTOR = D_MS / REAL_JOB_MS;
const SETTINGS = { copyRateMBps: COPY_RATE_MBPS, customImageDurationMs: D_IMAGE_MS, lroRetryAfterSeconds: 1, lroDurationMs: 200 };
const ARM = /^(Labs|CustomImages|VirtualMachines|Disks)_/;
// Following a long-running operation: its status, then the resource once it is done.
const LRO = new Set(['Operation_Status', 'CustomImages_Get']);
const TEMPLATE_PATHS = ['Windows/Datacenter.json', 'Windows/SQL.json', 'Linux/Ubuntu.json'];

function workload({ images, labs, vhdBytes }) {
  const stored = Array.from({ length: images }, (_, i) => {
    const path = TEMPLATE_PATHS[i % TEMPLATE_PATHS.length];
    return fx.factoryImage(`${path.split('/')[1].replace('.json', '')}${String(i).padStart(3, '0')}-Nov-24-2026`, path, vhdBytes);
  });
  const scenarioLabs = [{ ...fx.FACTORY, vhds: stored.map(fx.storeVhd) }];
  const configLabs = [];
  for (let i = 0; i < labs; i++) {
    const subscriptionId = i % 2 ? fx.SUB_B : fx.SUB_A;
    const name = `Lab${String(i).padStart(4, '0')}`;
    scenarioLabs.push({ subscriptionId, resourceGroup: `rg${i % 10}`, name, location: fx.REGION });
    configLabs.push({ SubscriptionId: subscriptionId, LabName: name, ImagePaths: ['Windows', 'Linux'] });
  }
  return { scenarioLabs, configLabs };
}

async function runTask(azure, config, inputs = {}) {
  let jobsStartedAt;
  let lastJobAt;
  let planDoneAt;
  const started = Date.now();
  const task = startTask(
    'DistributeImages',
    { azureSubscription: azure.connectionId, DevTestLabName: fx.FACTORY.name, ConfigurationLocation: config, maxConcurrentJobs: String(C), ...inputs },
    azure.env,
    {
      onLine: (line) => {
        if (/^Running \d+ jobs?/.test(line)) jobsStartedAt = Date.now();
        else if (/^\[\d+\/\d+\]/.test(line)) lastJobAt = Date.now();
        else if (/^Plan: /.test(line)) planDoneAt = Date.now();
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
  };
}

function armCalls(metrics) {
  let calls = 0;
  let polls = 0;
  for (const [op, n] of Object.entries(metrics.byOperation)) {
    if (LRO.has(op)) polls += n;
    else if (ARM.test(op)) calls += n;
  }
  return { calls, polls };
}

async function withAzure(spec, body) {
  const { scenarioLabs, configLabs } = workload(spec);
  const azure = await startLocalAzure({
    scenario: { labs: scenarioLabs, settings: { ...SETTINGS, ...spec.settings } },
    faults: spec.faults,
    // Loading a scenario of thousands of labs takes a while on a busy machine.
    startTimeoutMs: 30_000 + 50 * spec.labs,
  });
  const config = fx.writeDistributeConfiguration(configLabs);
  try {
    return await body(azure, config);
  } finally {
    await azure.stop();
    removeConfiguration(config);
  }
}

const lowerBoundMs = Math.ceil(K / C) * D_MS;
const vhdBytes = VHD_GIB * 1024 ** 3;
console.log(
  `DistributeImages: ${IMAGES} images x ${LABS} labs = ${K} jobs, c = ${C}, D = ${(D_COPY_MS / 1000).toFixed(1)} s copy + ` +
    `${(D_IMAGE_MS / 1000).toFixed(1)} s custom image; lower bound ceil(K/c) x D = ${(lowerBoundMs / 1000).toFixed(1)} s`,
);

// 1. The product: plan phase (dry run) and the whole run, Resource Manager requests counted for each.
const main = await withAzure({ images: IMAGES, labs: LABS, vhdBytes }, async (azure, config) => {
  await azure.resetMetrics();
  const dry = await runTask(azure, config, { dryRun: 'true' });
  const planArm = armCalls(await azure.metrics());
  await azure.resetMetrics();
  const run = await runTask(azure, config);
  const runMetrics = await azure.metrics();
  const runArm = armCalls(runMetrics);
  const state = await azure.state();
  const images = state.labs.reduce((n, lab) => n + (lab.name === fx.FACTORY.name ? 0 : lab.customImages.length), 0);
  const staging = state.labs.reduce((n, lab) => n + lab.blobs.filter((b) => b.name.startsWith('staging-')).length, 0);
  return { dry, planArm, run, runArm, byOperation: runMetrics.byOperation, images, staging };
});
const ratio = main.run.makespanMs / lowerBoundMs;
const armPerJob = (main.runArm.calls - main.planArm.calls) / K;
const pollsPerJob = main.runArm.polls / K;
console.log(
  `  product: ${main.run.result}, ${main.images} images made, ${main.staging} staging blobs left; makespan ${(main.run.makespanMs / 1000).toFixed(1)} s ` +
    `= ${ratio.toFixed(3)} x lower bound; ${armPerJob.toFixed(2)} ARM requests per job (+ ${pollsPerJob.toFixed(2)} LRO polls); ` +
    `plan phase ${main.planArm.calls} ARM requests; peak RSS ${main.run.peakRssMb.toFixed(0)} MB`,
);
console.log(`    requests: ${JSON.stringify(main.byOperation)}`);

// 2. Peak RSS against VHD size: the same small workload with VHDs 32 times larger, copied 32 times faster.
const RSS_IMAGES = 5;
const RSS_LABS = 8;
const rssBySize = [];
for (const factor of [1, 32]) {
  const run = await withAzure(
    { images: RSS_IMAGES, labs: RSS_LABS, vhdBytes: vhdBytes * factor, settings: { copyRateMBps: COPY_RATE_MBPS * factor } },
    (azure, config) => runTask(azure, config),
  );
  rssBySize.push({ gib: VHD_GIB * factor, run });
  console.log(`  ${RSS_IMAGES * RSS_LABS} jobs with ${VHD_GIB * factor} GiB VHDs: ${run.result}, peak RSS ${run.peakRssMb.toFixed(0)} MB`);
}

// 3. A 429 storm: 30 % of all Resource Manager requests (LRO polls included) throttled with Retry-After 1 s.
const STORM_SHARE = 0.3;
const stormOperations = [
  'Labs_ListBySubscription',
  'Labs_GenerateUploadUri',
  'CustomImages_List',
  'CustomImages_CreateOrUpdate',
  'CustomImages_Get',
  'CustomImages_Delete',
  'Operation_Status',
];
const storm = await withAzure(
  {
    images: IMAGES,
    labs: LABS,
    vhdBytes,
    faults: stormOperations.map((operation) => ({ operation, kind: 'status', status: 429, code: 'TooManyRequests', retryAfterSeconds: 1, probability: STORM_SHARE })),
  },
  async (azure, config) => {
    const run = await runTask(azure, config);
    const metrics = await azure.metrics();
    const state = await azure.state();
    const images = state.labs.reduce((n, lab) => n + (lab.name === fx.FACTORY.name ? 0 : lab.customImages.length), 0);
    return { run, images, armRequests: armCalls(metrics).calls };
  },
);
console.log(
  `  429 storm (${STORM_SHARE * 100} % of ARM requests): ${storm.run.result}, ${storm.images} of ${K} images, makespan ${(storm.run.makespanMs / 1000).toFixed(1)} s ` +
    `(${(storm.run.makespanMs / main.run.makespanMs).toFixed(2)} x without)`,
);

// 4. The scripts' scheduling, with the same primitives.
const slotCheckMs = Math.round(30_000 * TIME_FACTOR);
const copyPollMs = Math.round(45_000 * TIME_FACTOR);
const baseline = await withAzure({ images: IMAGES, labs: LABS, vhdBytes }, async (azure, config) => {
  const child = spawn(
    process.execPath,
    [
      'bench/distributeBaseline.mjs',
      JSON.stringify({ configurationLocation: config, factoryLabName: fx.FACTORY.name, maxConcurrentJobs: C, slotCheckMs, copyPollMs, pollIntervalMs: 2000 }),
    ],
    { env: { ...process.env, ...azure.env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  await new Promise((resolve) => child.on('close', resolve));
  return JSON.parse(out.trim().split('\n').pop());
});
const baselineRatio = baseline.makespanMs / main.run.makespanMs;
console.log(
  `  scripts' scheduling (slot check ${slotCheckMs} ms, copy poll ${copyPollMs} ms): makespan ${(baseline.makespanMs / 1000).toFixed(1)} s, ` +
    `${baseline.failed} failed; ${baselineRatio.toFixed(2)} x the product's`,
);

// 5. The plan phase as labs grow: one dry run each, Resource Manager requests counted.
const planScale = [];
for (const labs of PLAN_LABS) {
  const point = await withAzure({ images: 5, labs, vhdBytes }, async (azure, config) => {
    await azure.resetMetrics();
    const run = await runTask(azure, config, { dryRun: 'true' });
    const metrics = await azure.metrics();
    return { labs, run, arm: armCalls(metrics), byOperation: metrics.byOperation };
  });
  planScale.push(point);
  console.log(
    `  plan for ${labs} labs: ${point.arm.calls} ARM requests (${(point.arm.calls / labs).toFixed(2)} per lab), ${(point.run.wallMs / 1000).toFixed(1)} s, ` +
      `peak RSS ${point.run.peakRssMb.toFixed(0)} MB; ${JSON.stringify(point.byOperation)}`,
  );
}

const rssMb = Math.max(main.run.peakRssMb, ...rssBySize.map((r) => r.run.peakRssMb));
const plan5000 = planScale.find((p) => p.labs === 5000);
writeResult('distribute', {
  title: 'DistributeImages',
  description:
    `The built task, run as the agent runs it, against the local Azure: ${IMAGES} images to ${LABS} labs in two subscriptions ` +
    `(K = ${K} jobs) with maxConcurrentJobs c = ${C}. Each job copies a ${VHD_GIB} GiB VHD at ${COPY_RATE_MBPS} MB/s ` +
    `(${(D_COPY_MS / 1000).toFixed(1)} s) and creates a custom image that takes ${(D_IMAGE_MS / 1000).toFixed(1)} s, so D = ` +
    `${(D_MS / 1000).toFixed(1)} s and the lower bound ceil(K/c) x D is ${(lowerBoundMs / 1000).toFixed(1)} s. Makespan runs from the first job's ` +
    `start to the last job's end. ${K < 1000 ? `K is ${K} rather than 1,000 to keep a run of every measurement within minutes on 2 cores. ` : ''}` +
    `The scripts' scheduling checks for a free slot every 30 s and looks at each copy every 45 s, both scaled by D / 10 min ` +
    `(D standing for a 10-minute copy and image in Azure), and uses the product's own plan, upload URIs, Copy Blob, custom image and delete calls. ` +
    "The local Azure's limits are on, as in Azure: Resource Manager's token buckets per principal (reads 250, refilled 25/s; writes and " +
    'deletes 200, refilled 10/s), and one source blob serving its throughput (here the rate of a copy on its own) in total to all copies ' +
    "reading it; the product's schedule has jobs that run together copy different images, so the lower bound assumes no sharing.",
  figures: [
    { name: 'Makespan ÷ ceil(K/c)·D', value: Number(ratio.toFixed(3)), unit: '', target: '≤ 1.05', met: ratio <= 1.05 },
    { name: 'Makespan', value: Number((main.run.makespanMs / 1000).toFixed(1)), unit: 's' },
    { name: 'Resource Manager requests per job', value: Number(armPerJob.toFixed(2)), unit: '' },
    { name: 'Long-running operation polls per job', value: Number(pollsPerJob.toFixed(2)), unit: '' },
    { name: `Plan phase, ${LABS} labs`, value: main.planArm.calls, unit: 'requests' },
    { name: 'Peak RSS of the task', value: Number(rssMb.toFixed(0)), unit: 'MB', target: '< 200 MB', met: rssMb < 200 },
    ...(plan5000
      ? [{ name: 'Peak RSS of the plan phase, 5,000 labs (dry run)', value: Number(plan5000.run.peakRssMb.toFixed(0)), unit: 'MB', target: '< 200 MB', met: plan5000.run.peakRssMb < 200 }]
      : []),
    { name: 'Makespan under a 429 storm ÷ without', value: Number((storm.run.makespanMs / main.run.makespanMs).toFixed(2)), unit: '' },
    { name: "Scripts' scheduling makespan ÷ the product's", value: Number(baselineRatio.toFixed(2)), unit: '' },
  ],
  tables: [
    {
      title: 'Runs',
      columns: ['Run', 'Result', 'Images made', 'Makespan (s)', 'Peak RSS (MB)'],
      rows: [
        ['Product', main.run.result, `${main.images} / ${K}`, (main.run.makespanMs / 1000).toFixed(1), main.run.peakRssMb.toFixed(0)],
        ...rssBySize.map(({ gib, run }) => [
          `Product, ${RSS_IMAGES * RSS_LABS} jobs, ${gib} GiB VHDs`,
          run.result,
          '',
          run.makespanMs ? (run.makespanMs / 1000).toFixed(1) : '',
          run.peakRssMb.toFixed(0),
        ]),
        [`Product, 429 storm (${STORM_SHARE * 100} %)`, storm.run.result, `${storm.images} / ${K}`, (storm.run.makespanMs / 1000).toFixed(1), storm.run.peakRssMb.toFixed(0)],
        ["Scripts' scheduling", baseline.failed ? 'Failed' : 'Succeeded', `${baseline.jobs - baseline.failed} / ${baseline.jobs}`, (baseline.makespanMs / 1000).toFixed(1), ''],
      ],
    },
    {
      title: 'Plan phase as labs grow (5 images, every lab selects them all; dry run)',
      columns: ['Labs', 'Resource Manager requests', 'Per lab', 'Labs_ListBySubscription', 'CustomImages_List', 'Labs_GenerateUploadUri', 'Task time (s)', 'Peak RSS (MB)'],
      rows: planScale.map((p) => [
        p.labs,
        p.arm.calls,
        (p.arm.calls / p.labs).toFixed(2),
        p.byOperation.Labs_ListBySubscription ?? 0,
        p.byOperation.CustomImages_List ?? 0,
        p.byOperation.Labs_GenerateUploadUri ?? 0,
        (p.run.wallMs / 1000).toFixed(1),
        p.run.peakRssMb.toFixed(0),
      ]),
    },
  ],
  notes:
    'Resource Manager requests are those to DevTest Labs; polls of a long-running operation (its status, then the finished resource) are counted apart. ' +
    'Per job the task asks Resource Manager for one upload URI and creates one custom image; per lab it lists the custom images once, and only a lab ' +
    'with a job is asked for an upload URI (kept for its first job) to list its storage; per subscription it lists the labs once; per image it asks for one source URI. ' +
    'A subscription\'s lab list comes in pages of 100, so 1,000 labs over 2 subscriptions take 11 list requests. ' +
    'Bytes never pass through the agent: the copies are server-side, so the task\'s memory does not grow with VHD size. ' +
    'The scripts\' scheduling loses, on average, half a slot check before a job starts and half a copy poll after its copy ends: ' +
    'about 37 s of a 10-minute job in Azure, so its makespan grows by some 6 % here, and by more the shorter the copies.',
});
