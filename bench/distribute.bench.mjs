// DistributeImages at scale under Azure's limits, against the local Azure: the built task, run as the agent runs
// it. The local Azure enforces Resource Manager's token buckets (429s), one source blob's throughput shared by
// every copy reading it, and the slower rate of a copy across regions; the model (bench/distributeModel.mjs)
// compresses Azure's time by a factor and keeps its sizes. Parts, each runnable alone
// (BENCH_DISTRIBUTE_PARTS=k1000,baseline,fanout,plan,rss, the default; `storm` on request):
//   k1000     20 images x 50 labs (K = 1,000) in three regions and two subscriptions, c = 20: makespan against a
//             lower bound under the limits, 429s, Resource Manager requests per job, copies avoided;
//   baseline  the same workload under the PowerShell factory's scheduling (bench/distributeBaseline.mjs);
//   fanout    2 images x 40 labs and 1 image x 100 labs, flat (all from the store) against tree fan-out;
//   plan      the plan phase (dry run) at 1,000 / 5,000 / 10,000 labs: requests, time, peak RSS;
//   rss       peak RSS against VHD size;
//   storm     the k1000 workload, smaller, with 30 % of Resource Manager requests refused with 429 on top.
// Each part's figures are kept in build/bench/distribute/<part>.json, so a run of some parts writes the section
// with the others' latest figures (from a run of the same kind, quick or not). BENCH_QUICK=1: small sizes.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isQuick, writeResult } from './run.mjs';
import { AZURE, MODEL, TIME_FACTOR, azureMinutes, bucketsOf, copyMs, imageMs, labsByRegion, lowerBound } from './distributeModel.mjs';
import { DEFAULT_SETTINGS, armCalls, fx, labTotals, localAzureHasSetting, runDistributeTask, taskInputs, withWorkload } from './distributeWorkload.mjs';

const quick = isQuick();
const ALL_PARTS = ['k1000', 'baseline', 'fanout', 'plan', 'rss', 'storm'];
const PARTS = (process.env.BENCH_DISTRIBUTE_PARTS ?? 'k1000,baseline,fanout,plan,rss').split(',').map((p) => p.trim()).filter(Boolean);
const unknownParts = PARTS.filter((p) => !ALL_PARTS.includes(p));
if (unknownParts.length) {
  console.error(`Unknown part(s) ${unknownParts.join(', ')}; parts: ${ALL_PARTS.join(', ')}.`);
  process.exit(2);
}

// What this build has: tree fan-out (the fanOut input), labs in other regions on the VHD route, and the local
// Azure's cross-region copy rate. A feature not there yet is left out of the workload and said so.
const FAN_OUT = taskInputs().has('fanOut');
// Known by the source (out/ may keep a module an earlier build left).
const CROSS_REGION = existsSync(join('core', 'distribute', 'regions.ts'));
const CROSS_RATE_SETTING = localAzureHasSetting('crossRegionCopyRateMBps') ? 'crossRegionCopyRateMBps' : undefined;
const C = 20;
const IMAGES_TO_SAVE = 2;
const GiB = 1024 ** 3;
const SETTINGS = {
  copyRateMBps: MODEL.copyRateMBps,
  sourceBlobMBps: MODEL.sourceBlobMBps,
  customImageDurationMs: MODEL.customImageDurationMs,
  lroRetryAfterSeconds: MODEL.lroRetryAfterSeconds,
  lroDurationMs: MODEL.lroDurationMs,
  ...(CROSS_RATE_SETTING ? { [CROSS_RATE_SETTING]: MODEL.crossRegionCopyRateMBps } : {}),
};
/** The settings the bounds reckon with: the local Azure's defaults under the benchmark's. */
const EFFECTIVE = { ...DEFAULT_SETTINGS, ...SETTINGS, crossRegionCopyRateMBps: CROSS_RATE_SETTING ? MODEL.crossRegionCopyRateMBps : undefined };
const BUCKETS = bucketsOf(EFFECTIVE);
const s = (ms) => Number((ms / 1000).toFixed(1));

// The K = 1,000 workload: 15 image paths, 5 of them with three stored versions (RetireImages keeps 2, so the
// oldest is left out) and 10 with one: 20 images to copy to each of 50 labs. Quick: 8 images to 12 labs.
const K1000 = quick
  ? { paths: 6, versions: (p) => (p < 2 ? 3 : 1), labs: 12, vhdBytes: AZURE.vhdGiB * GiB, subscriptions: 2, regions: CROSS_REGION ? 3 : 1, regionWeights: [3, 1, 1] }
  : { paths: 15, versions: (p) => (p < 5 ? 3 : 1), labs: 50, vhdBytes: AZURE.vhdGiB * GiB, subscriptions: 2, regions: CROSS_REGION ? 3 : 1, regionWeights: [3, 1, 1] };

// ---- Part results, kept so that parts can be measured in separate runs ----
const partDir = join('build', 'bench', 'distribute');
function savePart(name, data) {
  mkdirSync(partDir, { recursive: true });
  writeFileSync(join(partDir, `${name}.json`), `${JSON.stringify({ quick, measuredAt: new Date().toISOString(), data }, null, 2)}\n`);
}
function loadPart(name) {
  const file = join(partDir, `${name}.json`);
  if (!existsSync(file)) return undefined;
  const part = JSON.parse(readFileSync(file, 'utf8'));
  return part.quick === quick ? part : undefined;
}

/** The images a lab of the workload gets (the newest ImagesToSave of each path) and the bound's view of them. */
function boundImages(workload) {
  const newest = new Map();
  for (const image of workload.stored) {
    const list = newest.get(image.imagePath) ?? [];
    list.push(image);
    newest.set(image.imagePath, list);
  }
  const byRegion = labsByRegion(workload.scenarioLabs, fx.FACTORY.name);
  return [...newest.values()].flatMap((list) =>
    list
      .sort((a, b) => b.createdUtc.localeCompare(a.createdUtc))
      .slice(0, IMAGES_TO_SAVE)
      .map((image) => ({ bytes: image.sizeBytes + 512, labsByRegion: byRegion })),
  );
}

const fanOutInputs = (fanOut) => (FAN_OUT && fanOut ? { fanOut } : {});

/** Lines of the task's log that end a job; those the plan has copying across regions (from the store) say so. */
function jobLines(lines) {
  const done = lines.filter((l) => /^\[\d+\/\d+\] Created /.test(l));
  // A copy from a lab that could not start falls back to another source (the store at worst), and says so.
  const fallbacks = lines.filter((l) => /; copying from another source\.?$/.test(l)).length;
  // `Fan-out: N copies read another lab's finished copy, M the image store.`
  const sources = /^Fan-out: (\d+) cop(?:y|ies) read another lab's finished copy, (\d+) the image store/.exec(lines.find((l) => l.startsWith('Fan-out: ')) ?? '');
  return {
    created: done.length,
    markedAcross: done.filter((l) => /across regions/.test(l)).length,
    fallbacks,
    ...(sources ? { fromLabs: Number(sources[1]), fromStore: Number(sources[2]) } : {}),
  };
}
const leftOutOf = (lines) => Number(/(\d+) left out because RetireImages/.exec(lines.find((l) => l.startsWith('Plan: ')) ?? '')?.[1] ?? 0);

/** Dry run, then the run, on the workload; requests of each. */
async function productRun(azure, config, inputs) {
  await azure.resetMetrics();
  const dry = await runDistributeTask(azure, config, { maxConcurrentJobs: String(C), ImagesToSave: String(IMAGES_TO_SAVE), dryRun: 'true', ...inputs });
  const planArm = armCalls(await azure.metrics());
  await azure.resetMetrics();
  const run = await runDistributeTask(azure, config, { maxConcurrentJobs: String(C), ImagesToSave: String(IMAGES_TO_SAVE), ...inputs });
  const metrics = await azure.metrics();
  const runArm = armCalls(metrics);
  const totals = labTotals(await azure.state());
  const jobs = jobLines(run.lines);
  const { lines: _dry, ...dryRest } = dry;
  const { lines: _run, ...runRest } = run;
  // Where the copies went, as the local Azure saw them (the log marks a job by the plan's source, the store).
  const crossed = metrics.byOperation.Blob_StartCopy_CrossRegion ?? 0;
  const copies = metrics.byOperation.Blob_StartCopy ?? 0;
  return { dry: dryRest, planArm, run: runRest, runArm, byOperation: metrics.byOperation, throttled: metrics.throttled, ...totals, ...jobs, crossed, copies, leftOut: leftOutOf(dry.lines) };
}

/** Requests of the jobs alone: the run's less its plan phase's (the dry run's). */
function jobRequests(p) {
  const out = {};
  for (const kind of ['reads', 'writes', 'deletes']) out[kind] = Math.max(0, p.runArm.accepted[kind] - p.planArm.accepted[kind]);
  return out;
}

// ---- 1. K = 1,000 ----
async function partK1000() {
  return withWorkload({ ...K1000, settings: SETTINGS }, async (azure, config, workload) => {
    const p = await productRun(azure, config, fanOutInputs('tree'));
    const images = boundImages(workload);
    const K = images.reduce((n, i) => n + Object.values(i.labsByRegion).reduce((a, b) => a + b, 0), 0);
    const fanOut = FAN_OUT ? 'tree' : 'flat';
    const bound = lowerBound({
      images,
      factoryRegion: fx.REGION,
      c: C,
      fanOut,
      settings: EFFECTIVE,
      requests: jobRequests(p),
      subscriptions: workload.subscriptions.length,
      buckets: BUCKETS,
    });
    const remoteJobs = images.reduce((n, i) => n + Object.entries(i.labsByRegion).filter(([r]) => r !== fx.REGION).reduce((a, [, m]) => a + m, 0), 0);
    const result = { ...p, K, fanOut, regions: workload.regions, labsByRegion: images[0]?.labsByRegion, labs: workload.configLabs.length, imageCount: images.length, paths: K1000.paths, stored: workload.stored.length, bound, remoteJobs };
    console.log(
      `  k1000: ${p.run.result}, ${p.images} of ${K} images made (${p.staging} staging blobs left), makespan ${s(p.run.makespanMs)} s = ` +
        `${(p.run.makespanMs / bound.boundMs).toFixed(3)} x the bound ${s(bound.boundMs)} s (${bound.dominant}; work ${s(bound.parts.work)}, image ${s(bound.parts.image)}, ` +
        `tokens ${s(bound.parts.tokens)}); ${p.runArm.throttled} 429s; ${((p.runArm.calls - p.planArm.calls) / K).toFixed(2)} ARM requests per job ` +
        `(+ ${(p.runArm.polls / K).toFixed(2)} LRO polls); ${p.copies} copies started (from labs / the store: ${p.fromLabs ?? '?'} / ${p.fromStore ?? '?'}), ${p.crossed} across regions (${remoteJobs} jobs in other regions); ${p.leftOut} left out by retention; ` +
        `peak RSS ${p.run.peakRssMb.toFixed(0)} MB`,
    );
    if (p.run.firstErrors.length) console.log(`    errors: ${p.run.firstErrors.join(' | ')}`);
    console.log(`    requests: ${JSON.stringify(p.byOperation)}; throttled: ${JSON.stringify(p.throttled)}`);
    return result;
  });
}

// ---- 2. The PowerShell factory's scheduling on the same workload ----
const SLOT_CHECK_MS = Math.max(1, Math.round(30_000 * TIME_FACTOR));
const COPY_SLEEP_MS = Math.max(1, Math.round(45_000 * TIME_FACTOR));
async function partBaseline() {
  return withWorkload({ ...K1000, settings: SETTINGS }, async (azure, config, workload) => {
    await azure.resetMetrics();
    const child = spawn(
      process.execPath,
      [
        'bench/distributeBaseline.mjs',
        JSON.stringify({
          configurationLocation: config,
          factoryLabName: fx.FACTORY.name,
          maxConcurrentJobs: C,
          imagesToSave: IMAGES_TO_SAVE,
          slotCheckMs: SLOT_CHECK_MS,
          copySleepMs: COPY_SLEEP_MS,
          pollIntervalMs: 2000,
        }),
      ],
      { env: { ...process.env, ...azure.env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`bench/distributeBaseline.mjs exited ${code}`);
    const result = JSON.parse(out.trim().split('\n').pop());
    const metrics = await azure.metrics();
    const arm = armCalls(metrics);
    result.crossed = metrics.byOperation.Blob_StartCopy_CrossRegion ?? 0;
    // Every copy from the store: the flat bound of the same workload.
    const bound = lowerBound({ images: boundImages(workload), factoryRegion: fx.REGION, c: C, fanOut: 'flat', settings: EFFECTIVE });
    console.log(
      `  baseline (slot check ${SLOT_CHECK_MS} ms, copy sleep ${COPY_SLEEP_MS} ms): makespan ${s(result.makespanMs)} s, ${result.jobs} jobs, ` +
        `${result.failed} failed, ${result.crossed} copies across regions; ${arm.throttled} 429s; ${(result.makespanMs / bound.boundMs).toFixed(2)} x its flat bound ${s(bound.boundMs)} s`,
    );
    return { ...result, throttled: arm.throttled, flatBoundMs: bound.boundMs };
  });
}

// ---- 3. Fan-out: flat (every copy from the store) against tree ----
// Half the k1000 VHD, so that flat fan-out (L copies through one blob) stays within minutes; BENCH_DISTRIBUTE_FAN_GIB overrides.
const FAN_VHD_BYTES = Number(process.env.BENCH_DISTRIBUTE_FAN_GIB ?? 64) * GiB;
const FAN_WORKLOADS = quick
  ? [{ paths: 2, labs: 10 }, { paths: 1, labs: 24 }]
  : [{ paths: 2, labs: 40 }, { paths: 1, labs: 100 }];
async function partFanout() {
  const rows = [];
  for (const w of FAN_WORKLOADS) {
    const spec = { ...w, versions: 1, vhdBytes: FAN_VHD_BYTES, subscriptions: 2, regions: 1, settings: SETTINGS };
    const images = Array.from({ length: w.paths }, () => ({ bytes: FAN_VHD_BYTES + 512, labsByRegion: { [fx.REGION]: w.labs } }));
    const treeBound = lowerBound({ images, factoryRegion: fx.REGION, c: C, fanOut: 'tree', settings: EFFECTIVE });
    const flatBound = lowerBound({ images, factoryRegion: fx.REGION, c: C, fanOut: 'flat', settings: EFFECTIVE });
    for (const fanOut of FAN_OUT ? ['tree', 'flat'] : ['flat']) {
      const run = await withWorkload(spec, async (azure, config) => {
        const r = await runDistributeTask(azure, config, { maxConcurrentJobs: String(C), ImagesToSave: String(IMAGES_TO_SAVE), ...fanOutInputs(fanOut) });
        const { lines, ...rest } = r;
        return { ...rest, ...jobLines(lines), ...labTotals(await azure.state()) };
      });
      const row = { images: w.paths, labs: w.labs, fanOut, run, treeBoundMs: treeBound.boundMs, flatBoundMs: flatBound.boundMs };
      rows.push(row);
      console.log(
        `  fan-out ${w.paths} x ${w.labs}, ${fanOut}${FAN_OUT ? '' : ' (the only way in this build)'}: ${run.result}, ${run.created} created, makespan ${s(run.makespanMs)} s = ` +
          `${(run.makespanMs / treeBound.boundMs).toFixed(2)} x the tree's bound ${s(treeBound.boundMs)} s (${treeBound.dominant}); flat bound L·S/B ${s(flatBound.boundMs)} s; ` +
          `${run.fallbacks} copies fell back to another source; from labs / the store: ${run.fromLabs ?? '?'} / ${run.fromStore ?? '?'}`,
      );
      if (run.firstErrors.length) console.log(`    errors: ${run.firstErrors.join(' | ')}`);
    }
  }
  return { rows, vhdGiB: FAN_VHD_BYTES / GiB };
}

// ---- 4. The plan phase as labs grow ----
const PLAN_LABS = (process.env.BENCH_DISTRIBUTE_PLAN_LABS ?? (quick ? '100,1000' : '1000,5000,10000')).split(',').map(Number);
const PLAN_SUBSCRIPTIONS = Number(process.env.BENCH_DISTRIBUTE_PLAN_SUBSCRIPTIONS ?? 10);
async function partPlan() {
  const points = [];
  for (const labs of PLAN_LABS) {
    const point = await withWorkload({ paths: 5, labs, vhdBytes: AZURE.vhdGiB * GiB, subscriptions: PLAN_SUBSCRIPTIONS, settings: SETTINGS }, async (azure, config) => {
      await azure.resetMetrics();
      const run = await runDistributeTask(azure, config, { maxConcurrentJobs: String(C), dryRun: 'true' });
      const metrics = await azure.metrics();
      const arm = armCalls(metrics);
      const floor = lowerBound({ images: [], c: C, settings: EFFECTIVE, requests: arm.accepted, subscriptions: PLAN_SUBSCRIPTIONS, buckets: BUCKETS }).parts.tokens;
      const { lines, ...rest } = run;
      return { labs, run: rest, arm, byOperation: metrics.byOperation, tokenFloorMs: floor };
    });
    points.push(point);
    console.log(
      `  plan for ${labs} labs in ${PLAN_SUBSCRIPTIONS} subscriptions: ${point.run.result}, ${point.arm.calls} ARM requests (${(point.arm.calls / labs).toFixed(2)} per lab), ` +
        `${point.arm.throttled} 429s, ${s(point.run.wallMs)} s (token buckets alone: ${s(point.tokenFloorMs)} s), peak RSS ${point.run.peakRssMb.toFixed(0)} MB`,
    );
  }
  return { points, subscriptions: PLAN_SUBSCRIPTIONS };
}

// ---- 5. Peak RSS against VHD size: the same small workload with VHDs 128 times larger, copied 128 times faster ----
const RSS_PATHS = 10;
const RSS_LABS = 4;
async function partRss() {
  const rows = [];
  for (const gib of [1, 128]) {
    const factor = gib / AZURE.vhdGiB;
    const settings = { ...SETTINGS, copyRateMBps: SETTINGS.copyRateMBps * factor, sourceBlobMBps: SETTINGS.sourceBlobMBps * factor };
    const run = await withWorkload({ paths: RSS_PATHS, labs: RSS_LABS, vhdBytes: gib * GiB, settings }, async (azure, config) => {
      const { lines, ...rest } = await runDistributeTask(azure, config, { maxConcurrentJobs: String(C) });
      return rest;
    });
    rows.push({ gib, run });
    console.log(`  ${RSS_PATHS * RSS_LABS} jobs with ${gib} GiB VHDs: ${run.result}, peak RSS ${run.peakRssMb.toFixed(0)} MB`);
  }
  return { rows };
}

// ---- 6. A 429 storm on top of the token buckets ----
const STORM_SHARE = 0.3;
const STORM_OPERATIONS = ['Labs_ListBySubscription', 'Labs_GenerateUploadUri', 'CustomImages_List', 'CustomImages_CreateOrUpdate', 'CustomImages_Get', 'CustomImages_Delete', 'Operation_Status'];
async function partStorm() {
  const spec = { paths: quick ? 4 : 10, labs: quick ? 6 : 20, vhdBytes: AZURE.vhdGiB * GiB, subscriptions: 2, regions: K1000.regions, settings: SETTINGS };
  const runOnce = (faults) =>
    withWorkload({ ...spec, faults }, async (azure, config) => {
      const { lines, ...run } = await runDistributeTask(azure, config, { maxConcurrentJobs: String(C), ImagesToSave: String(IMAGES_TO_SAVE), ...fanOutInputs('tree') });
      return { run, ...labTotals(await azure.state()) };
    });
  const calm = await runOnce(undefined);
  const storm = await runOnce(
    STORM_OPERATIONS.map((operation) => ({ operation, kind: 'status', status: 429, code: 'TooManyRequests', retryAfterSeconds: 1, probability: STORM_SHARE })),
  );
  console.log(`  429 storm (${STORM_SHARE * 100} %): ${storm.run.result}, ${storm.images} images, makespan ${s(storm.run.makespanMs)} s against ${s(calm.run.makespanMs)} s without`);
  return { calm, storm, jobs: spec.paths * spec.labs };
}

const runners = { k1000: partK1000, baseline: partBaseline, fanout: partFanout, plan: partPlan, rss: partRss, storm: partStorm };
console.log(
  `DistributeImages under Azure's limits: time factor 1/${Math.round(1 / TIME_FACTOR)} (a ${AZURE.vhdGiB} GiB copy ${s(copyMs(AZURE.vhdGiB * GiB, MODEL.copyRateMBps))} s, ` +
    `${azureMinutes(copyMs(AZURE.vhdGiB * GiB, MODEL.copyRateMBps)).toFixed(1)} min in Azure); tree fan-out ${FAN_OUT ? 'in this build' : 'not in this build'}; ` +
    `labs in other regions ${CROSS_REGION ? 'served' : 'not served'} by this build; cross-region rate ${CROSS_RATE_SETTING ? 'set' : 'not in the local Azure yet'}; parts ${PARTS.join(', ')}`,
);
for (const part of PARTS) {
  console.log(`part ${part}:`);
  savePart(part, await runners[part]());
}
writeResult('distribute', assemble());

// ---- The section: every part's latest figures ----
function assemble() {
  const parts = Object.fromEntries(ALL_PARTS.map((name) => [name, loadPart(name)]).filter(([, p]) => p));
  const figures = [];
  const tables = [];
  const text = [];
  const k = parts.k1000?.data;
  if (k) {
    const ratio = k.run.makespanMs / k.bound.boundMs;
    const armPerJob = (k.runArm.calls - k.planArm.calls) / k.K;
    figures.push(
      { name: `Makespan ÷ lower bound, K = ${k.K}`, value: Number(ratio.toFixed(3)), unit: '', target: '≤ 1.10', met: ratio <= 1.1 },
      { name: `Makespan, K = ${k.K}`, value: s(k.run.makespanMs), unit: 's' },
      { name: `Lower bound (${k.bound.dominant})`, value: s(k.bound.boundMs), unit: 's' },
      { name: '429s received', value: k.runArm.throttled + k.planArm.throttled, unit: '' },
      { name: 'Resource Manager requests per job', value: Number(armPerJob.toFixed(2)), unit: '' },
      { name: 'Long-running operation polls per job', value: Number((k.runArm.polls / k.K).toFixed(2)), unit: '' },
      { name: 'Copies avoided by retention-aware planning', value: k.leftOut, unit: '' },
      ...(k.regions.length > 1
        ? [{ name: 'Copies across regions (jobs in labs of other regions)', value: `${k.crossed} (${k.remoteJobs})`, unit: '' }]
        : []),
      ...(k.fromLabs !== undefined ? [{ name: "Copies read from another lab's copy / from the store", value: `${k.fromLabs} / ${k.fromStore}`, unit: '' }] : []),
      ...(k.fanOut === 'tree' ? [{ name: 'Copies from a lab that fell back to another source', value: k.fallbacks ?? 0, unit: '' }] : []),
      { name: `Peak RSS of the task, K = ${k.K}`, value: Number(k.run.peakRssMb.toFixed(0)), unit: 'MB', target: '< 200 MB', met: k.run.peakRssMb < 200 },
    );
    tables.push({
      title: `K = ${k.K}: the lower bound's parts`,
      columns: ['Part', 'Bound (s)', 'How'],
      rows: [
        ['Work', s(k.bound.parts.work), `max(ceil(K/c)·(D_copy + D_image), Σ job times / c${k.fanOut === 'tree' ? ', every image\'s jobs as one pooled tree' : ''}); ${k.fanOut === 'tree' ? 'one copy per (image, other region) crosses' : 'every copy into another region crosses'}`],
        ['Image', s(k.bound.parts.image), k.fanOut === 'tree' ? "the image's tree alone with all c slots, or one cross-region copy and a custom image" : 'the store blob serves L·S at B, plus the last custom image'],
        ['Token buckets', s(k.bound.parts.tokens), `the jobs' accepted requests of a kind per subscription (${k.runArm.accepted.reads - k.planArm.accepted.reads} reads, ${k.runArm.accepted.writes - k.planArm.accepted.writes} writes, ${k.runArm.accepted.deletes - k.planArm.accepted.deletes} deletes over 2), past the bucket, ÷ refill`],
      ],
    });
  }
  const b = parts.baseline?.data;
  if (b) {
    figures.push({ name: "PowerShell factory's scheduling: makespan", value: s(b.makespanMs), unit: 's' });
    if (b.flatBoundMs) figures.push({ name: "PowerShell factory's scheduling ÷ its bound (every copy from the store)", value: Number((b.makespanMs / b.flatBoundMs).toFixed(2)), unit: '' });
    if (k) figures.push({ name: "PowerShell factory's scheduling ÷ the product's makespan", value: Number((b.makespanMs / k.run.makespanMs).toFixed(2)), unit: '' });
  }
  const f = parts.fanout?.data;
  if (f) {
    for (const row of f.rows) {
      const ratio = row.run.makespanMs / row.treeBoundMs;
      figures.push({
        name: `Fan-out ${row.images} × ${row.labs}, ${row.fanOut}: makespan ÷ tree's bound`,
        value: Number(ratio.toFixed(2)),
        unit: '',
        ...(row.fanOut === 'tree' ? { target: '≤ 1.2', met: ratio <= 1.2 } : {}),
      });
    }
    tables.push({
      title: `Fan-out (${f.vhdGiB} GiB VHDs, one region, c = ${C})`,
      columns: ['Images × labs', 'Fan-out', 'Result', 'Makespan (s)', "Tree's bound (s)", '÷ tree bound', 'Flat bound L·S/B (s)', 'Copies from labs / the store', 'Copies that fell back to another source'],
      rows: f.rows.map((r) => [
        `${r.images} × ${r.labs}`,
        r.fanOut,
        r.run.result,
        s(r.run.makespanMs),
        s(r.treeBoundMs),
        (r.run.makespanMs / r.treeBoundMs).toFixed(2),
        s(r.flatBoundMs),
        r.run.fromLabs !== undefined ? `${r.run.fromLabs} / ${r.run.fromStore}` : '',
        r.run.fallbacks ?? '',
      ]),
    });
  }
  const p = parts.plan?.data;
  if (p) {
    const big = p.points.find((x) => x.labs === 5000) ?? p.points.at(-1);
    if (big) figures.push({ name: `Peak RSS of the plan phase, ${big.labs} labs (dry run)`, value: Number(big.run.peakRssMb.toFixed(0)), unit: 'MB', target: '< 200 MB', met: big.run.peakRssMb < 200 });
    tables.push({
      title: `Plan phase as labs grow (5 images, every lab selects them all, labs over ${p.subscriptions} subscriptions; dry run)`,
      columns: ['Labs', 'Resource Manager requests', 'Per lab', '429s', 'Task time (s)', 'Token buckets alone (s)', 'Peak RSS (MB)'],
      rows: p.points.map((x) => [x.labs, x.arm.calls, (x.arm.calls / x.labs).toFixed(2), x.arm.throttled, s(x.run.wallMs), s(x.tokenFloorMs), x.run.peakRssMb.toFixed(0)]),
    });
  }
  const r = parts.rss?.data;
  if (r) {
    tables.push({
      title: `Peak RSS against VHD size (${RSS_PATHS} images × ${RSS_LABS} labs, copies as long at both sizes)`,
      columns: ['VHD size', 'Result', 'Makespan (s)', 'Peak RSS (MB)'],
      rows: r.rows.map((x) => [`${x.gib} GiB`, x.run.result, s(x.run.makespanMs), x.run.peakRssMb.toFixed(0)]),
    });
  }
  const st = parts.storm?.data;
  if (st) figures.push({ name: `Makespan under a 429 storm (${STORM_SHARE * 100} %) ÷ without, K = ${st.jobs}`, value: Number((st.storm.run.makespanMs / st.calm.run.makespanMs).toFixed(2)), unit: '' });
  if (k || b) {
    const w = k ?? {};
    const runs = [];
    if (k) runs.push(['Product', k.run.result, `${k.images} / ${k.K}`, s(k.run.makespanMs), k.crossed, k.runArm.throttled]);
    if (b) runs.push(["PowerShell factory's scheduling", b.failed ? 'Failed' : 'Succeeded', `${b.jobs - b.failed} / ${b.jobs}`, s(b.makespanMs), b.crossed, b.throttled]);
    tables.push({ title: `The product and the PowerShell factory's scheduling, K = ${k?.K ?? b.jobs}`, columns: ['Run', 'Result', 'Images made', 'Makespan (s)', `Copies across regions (${w.remoteJobs ?? '?'} jobs in other regions)`, '429s'], rows: runs });
  }

  const dc = copyMs(AZURE.vhdGiB * GiB, MODEL.copyRateMBps);
  text.push(
    `The built task, run as the agent runs it, against the local Azure with Azure's limits on: Resource Manager's token buckets per ` +
      `principal and subscription (reads ${BUCKETS.reads.size}, refilled ${BUCKETS.reads.refillPerSecond}/s; writes ${BUCKETS.writes.size}, ${BUCKETS.writes.refillPerSecond}/s; ` +
      `deletes ${BUCKETS.deletes.size}, ${BUCKETS.deletes.refillPerSecond}/s; a 429 with Retry-After when empty), one source blob's throughput B shared by every copy ` +
      `reading it, and ${CROSS_RATE_SETTING ? 'a slower rate for a copy across regions' : 'no cross-region rate yet (the local Azure has none in this build: copies across regions run at the in-region rate)'}.`,
    `**Model.** Sizes are Azure's, time is compressed: every rate is Azure's ÷ ${TIME_FACTOR.toExponential(3)} (time factor 1/${Math.round(1 / TIME_FACTOR)}). ` +
      `A ${AZURE.vhdGiB} GiB VHD copied at ${AZURE.blobMiBps} MiB/s (a page blob's throughput, which a copy on its own gets all of, so B = the per-copy rate) takes ` +
      `${azureMinutes(dc).toFixed(1)} min in Azure and ${s(dc)} s here; across regions at ${AZURE.crossRegionMiBps} MiB/s (a quarter: the local Azure's default and the product's assumption, as Azure publishes no rate) ` +
      `${s(copyMs(AZURE.vhdGiB * GiB, MODEL.crossRegionCopyRateMBps))} s. A custom image is seen made at the first poll its 1 s Retry-After allows, ` +
      `${s(imageMs(EFFECTIVE))} s, standing for ${azureMinutes(imageMs(EFFECTIVE)).toFixed(0)} min in Azure. The token buckets are Azure's, unscaled, ` +
      `so against compressed time they bind ${Math.round(1 / TIME_FACTOR)} times harder than in Azure. c = maxConcurrentJobs = ${C}; ImagesToSave ${IMAGES_TO_SAVE}. ` +
      'What is not compressed is the task\'s own time per request and per look at a copy (milliseconds to a second here, as in Azure): against ' +
      'compressed copies it weighs that many times more, so ratios to the bounds are pessimistic, most for short copies and many rounds (tree fan-out). ' +
      'In Azure the same run would take about the model\'s makespan × ' + Math.round(1 / TIME_FACTOR) + ' (K = 1,000 over c = 20: some 50 rounds of ~48 min, 40 hours). ' +
      'Makespan runs from the first job\'s start to the last job\'s end.',
  );
  if (k) {
    text.push(
      `**K = ${k.K}.** ${k.imageCount} images (${k.paths} image paths, some with three stored versions of which retention keeps ${IMAGES_TO_SAVE}, the others with one; ${k.stored} in the store) to ` +
        `${k.labs} labs in ${k.regions.length} region(s) (${Object.entries(k.labsByRegion ?? {}).map(([r, n]) => `${n} in ${r}`).join(', ')}; the factory in ${fx.REGION}) and 2 subscriptions, fan-out ${k.fanOut}${FAN_OUT ? '' : ' (every copy from the store: this build has no tree fan-out)'}. ` +
        'The lower bound is the largest of: **work**, each of the c slots runs its share of the jobs, max(ceil(K/c)·(D_copy + D_image), Σ job times / c), ' +
        'a copy into another region counted at the cross-region rate (with tree fan-out only one copy per image and other region must cross; flat, all of them); ' +
        '(a job holds its slot through its custom image: maxConcurrentJobs counts jobs); with tree fan-out also the **pooled tree**: every image\'s jobs as one tree ' +
        'that may read any image\'s blobs, from the store\'s blobs, each copy at the in-region rate, with every copy started as soon as a slot and a free source allow ' +
        '(bench/distributeModel.mjs treeMakespanMs: starting each copy as early as possible holds at least as many finished copies at every moment as any schedule, ' +
        'and pooling only adds choices, so no real schedule ends sooner); **image**, per image, tree: its own tree the same way with all c slots, and, with labs in other regions, ' +
        'one cross-region copy then a custom image; flat: its store blob serves L·S bytes at B (L·S/B), then the last custom image; **token buckets**: in each subscription the jobs\' accepted requests ' +
        'of a kind, past the bucket\'s size, come no faster than its refill ((N/2 − size) ÷ refill, the busiest of two subscriptions having at least half). ' +
        'Resource Manager requests are those to DevTest Labs and Compute, polls of a long-running operation (its status, then the finished resource) counted apart; ' +
        'the plan phase\'s requests (the dry run\'s) are taken off the run\'s. Copies avoided: pairs retention-aware planning leaves out (RetireImages would delete them right after); ' +
        'copies across regions, as the local Azure counted them, against the jobs into labs of other regions (each of which crosses when copied from the store; ' +
        'with tree fan-out one per image and region need to).',
    );
  }
  if (b) {
    text.push(
      `**The PowerShell factory's scheduling**, as DistributeImages.ps1 runs it, on the K = ${b.jobs} workload: a job starts only when a check finds a free slot, ` +
        'the check repeated every 30 s while all are busy; each copy is looked at twice right after its start, then looked at, slept on for 45 s, and only then ' +
        'is the look\'s result acted on, so a finished copy waits a further 45 s; both periods scaled by the time factor. Every copy is from the store, as the script ' +
        'copies (it refuses labs in other regions; here they are copied to from the store all the same). The plan, upload URIs, Copy Blob, custom image and blob ' +
        'deletion are the product\'s own, so only scheduling and copy sources differ. In Azure the periods are small against a 36-minute copy; what costs is copying every ' +
        'image into every lab from the store, across regions too.',
    );
  }
  if (f) {
    text.push(
      `**Fan-out.** ${f.vhdGiB} GiB VHDs (${s(copyMs(f.vhdGiB * GiB, MODEL.copyRateMBps))} s a copy), labs in the factory's region. Flat copies every lab from the store, whose blob ` +
        'serves all of them at B in total (bound L·S/B); tree copies from labs that already hold the image, so the blobs holding it can double every copy time. ' +
        "The tree's bound is the image bound above with the work bound (the pooled tree included); the ratio is each run's makespan to it." +
        (FAN_OUT ? '' : ' This build has no tree fan-out: only flat was measured.'),
    );
  }
  if (p) {
    text.push(
      `**Plan phase.** A dry run over 5 images and n labs, spread over ${p.subscriptions} subscriptions (a subscription's token buckets are its own, so thousands of labs in one ` +
        "subscription would spend minutes waiting for tokens); 'Token buckets alone' is the least time the buckets allow the plan's requests.",
    );
  }
  const when = Object.entries(parts)
    .map(([name, part]) => `${name} ${part.measuredAt.slice(0, 16).replace('T', ' ')} UTC`)
    .join(', ');
  return {
    title: 'DistributeImages under Azure\'s limits',
    description: text.join('\n\n'),
    figures,
    tables,
    notes:
      `Parts measured: ${when}${quick ? ' (quick run: reduced sizes)' : ''}. Each part prints its figures with ` +
      '`BENCH_DISTRIBUTE_PARTS=<part> npm run bench -- distribute` (parts k1000, baseline, fanout, plan, rss, storm; the plan part\'s lab counts with ' +
      '`BENCH_DISTRIBUTE_PLAN_LABS=1000,5000,10000`); `npm run bench -- distribute` runs all but storm. ' +
      "Bytes never pass through the agent: the copies are server-side, so the task's memory does not grow with VHD size.",
  };
}
