// The same factory on both routes, against the local Azure: SnapImagesFromVMs then DistributeImages, the
// built tasks run as the agent runs them, once on the VHD route and once on the gallery route (galleryName),
// each on a fresh local Azure holding the same factory: I generalized, deallocated Generation 1 factory VMs,
// one template each, and L target labs spread over three regions, every lab selecting every image.
// Measured per route and task: bytes copied, copies or replications, Resource Manager requests (long-running
// operation polls apart), makespan in the local Azure's model, peak RSS of the task process, and the labs a
// route could not serve. 20 images x 50 labs by default, 4 x 6 with smaller disks with BENCH_QUICK=1;
// BENCH_ROUTES_IMAGES / BENCH_ROUTES_LABS override I and L.
import { createRequire } from 'node:module';
import { armCalls, runMeasured } from './measure.mjs';
import { isQuick, writeResult } from './run.mjs';

const require = createRequire(import.meta.url);
const { startLocalAzure } = require('../out/test/helpers/localAzure.js');
const { labVmTemplate, removeConfiguration, writeConfiguration } = require('../out/test/fixtures/config/configurationFolder.js');
const { storeBlobName } = require('../out/core/factoryImages.js');

const IMAGES = Number(process.env.BENCH_ROUTES_IMAGES ?? (isQuick() ? 4 : 20));
const LABS = Number(process.env.BENCH_ROUTES_LABS ?? (isQuick() ? 6 : 50));
const REGIONS = ['westus2', 'eastus', 'northeurope'];
const FACTORY_REGION = REGIONS[0];
const C = 20;

// The model, in Azure's terms, then run SPEEDUP times faster: rates multiplied, durations divided. Disks keep
// their sizes (page blobs are sparse), so bytes are Azure's bytes.
// 1 s here stands for 20 min in Azure, so that 20 images to 50 labs take minutes here.
const SPEEDUP = 1200;
const AZURE = {
  // A page blob serves about 60 MiB/s in all to everything reading it; a copy on its own runs at that rate.
  copyMiBps: 60,
  // Copy Blob into another region's account, on its own (the local Azure's assumption: a quarter of the rate).
  crossRegionCopyMiBps: 15,
  // A gallery image version's replication into one region, assumed to run at a page blob's rate too.
  replicationMiBps: 60,
  customImageSeconds: 60,
  lroSeconds: 30,
};
// An OS disk as Azure's marketplace images make them: Windows 127 GiB, Linux 30 GiB (a quarter of that quick).
const DISK_GIB = isQuick() ? { Windows: 32, Linux: 8 } : { Windows: 127, Linux: 30 };
const SETTINGS = {
  copyRateMBps: AZURE.copyMiBps * SPEEDUP,
  sourceBlobMBps: AZURE.copyMiBps * SPEEDUP,
  crossRegionCopyRateMBps: AZURE.crossRegionCopyMiBps * SPEEDUP,
  galleryReplicationRateMBps: AZURE.replicationMiBps * SPEEDUP,
  customImageDurationMs: (AZURE.customImageSeconds * 1000) / SPEEDUP,
  lroDurationMs: (AZURE.lroSeconds * 1000) / SPEEDUP,
  // Whole seconds only: every long-running operation costs the tasks at least one poll a second.
  lroRetryAfterSeconds: 1,
  // Resource Manager's buckets keep Azure's sizes and refill on the model's clock (Azure: 25, 10, 10 a second).
  armReadRefillPerSecond: 25 * SPEEDUP,
  armWriteRefillPerSecond: 10 * SPEEDUP,
  armDeleteRefillPerSecond: 10 * SPEEDUP,
};

const SUB = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const FACTORY = 'Factory';
const FACTORY_RG = 'factory-rg';
const GALLERY = 'FactoryImages';
const GIB = 1024 ** 3;
const FOOTER = 512;

/** The factory's images: one VM and one template each, two Windows to one Linux. */
const images = Array.from({ length: IMAGES }, (_, i) => {
  const osType = i % 3 === 2 ? 'Linux' : 'Windows';
  const name = `Image${String(i).padStart(2, '0')}`;
  return { vm: `vm-${name.toLowerCase()}`, imagePath: `Route/${name}.json`, definition: `Route_${name}`, osType, diskGiB: DISK_GIB[osType] };
});
const labs = Array.from({ length: LABS }, (_, i) => ({ name: `Lab${String(i).padStart(2, '0')}`, location: REGIONS[i % REGIONS.length] }));

function scenario() {
  return {
    labs: [
      {
        subscriptionId: SUB,
        resourceGroup: FACTORY_RG,
        name: FACTORY,
        location: FACTORY_REGION,
        vms: images.map((image) => ({ name: image.vm, osType: image.osType, diskSizeGB: image.diskGiB, tags: { ImagePath: image.imagePath } })),
      },
      ...labs.map((lab) => ({ subscriptionId: SUB, resourceGroup: 'labs-rg', name: lab.name, location: lab.location })),
    ],
    settings: SETTINGS,
  };
}

function configuration() {
  return writeConfiguration({
    'labs.json': { Labs: labs.map((lab) => ({ SubscriptionId: SUB, LabName: lab.name, ImagePaths: ['Route'] })) },
    ...Object.fromEntries(images.map((image) => [`GoldenImages/${image.imagePath}`, labVmTemplate(image.osType)])),
  });
}

const errorsOf = (run) => run.issues.filter((i) => i.type === 'error');
const codes = (run) => [...new Set(errorsOf(run).map((i) => i.code ?? '(no code)'))].sort();

/** Snap then Distribute on a fresh local Azure; each task's run and requests, then the state they left. */
async function runRoute(inputs) {
  const azure = await startLocalAzure({ scenario: scenario(), startTimeoutMs: 60_000 });
  const config = configuration();
  const common = { azureSubscription: azure.connectionId, DevTestLabName: FACTORY, ConfigurationLocation: config, maxConcurrentJobs: String(C), ...inputs };
  try {
    const tasks = {};
    for (const task of ['SnapImagesFromVMs', 'DistributeImages']) {
      await azure.resetMetrics();
      const measured = await runMeasured(task, common, azure.env);
      const metrics = await azure.metrics();
      tasks[task] = { ...measured, metrics, arm: armCalls(metrics) };
      const { run } = measured;
      console.log(
        `    ${task}: ${run.result} in ${(measured.wallMs / 1000).toFixed(1)} s, ${tasks[task].arm.calls} ARM requests + ${tasks[task].arm.polls} polls, ` +
          `peak RSS ${measured.peakRssMb.toFixed(0)} MB${errorsOf(run).length ? `; errors ${codes(run).join(', ')}: ${errorsOf(run)[0].message}` : ''}`,
      );
      console.log(`      requests: ${JSON.stringify(metrics.byOperation)}`);
    }
    return { tasks, state: await azure.state() };
  } finally {
    await azure.stop();
    removeConfiguration(config);
  }
}

const targetLabs = (state) => state.labs.filter((lab) => lab.name !== FACTORY);

/** VHD route: each VM's disk copied into the store, then each store VHD into each lab that got its custom image. */
function vhdFigures(state) {
  const factory = state.labs.find((lab) => lab.name === FACTORY);
  const stored = factory.blobs.filter((b) => b.name.endsWith('.vhd') && !b.name.startsWith('staging-'));
  const sizeOf = new Map(stored.map((b) => [b.name, b.sizeBytes]));
  const served = [];
  let labBytes = 0;
  let labCopies = 0;
  const copiesByRegion = new Map();
  for (const lab of targetLabs(state)) {
    const made = lab.customImages.filter((image) => image.provisioningState === 'Succeeded');
    for (const image of made) labBytes += sizeOf.get(storeBlobName(image.name)) ?? 0;
    labCopies += made.length;
    copiesByRegion.set(lab.location, (copiesByRegion.get(lab.location) ?? 0) + made.length);
    if (made.length >= IMAGES) served.push(lab);
  }
  return {
    copiesByRegion,
    storeCopies: stored.length,
    storeBytes: stored.reduce((sum, b) => sum + b.sizeBytes, 0),
    labCopies,
    labBytes,
    served,
  };
}

/** Gallery route: each version's disks replicated into each of its regions, `replicaCount` times. */
function galleryFigures(state) {
  const gallery = state.galleries.find((g) => g.name === GALLERY);
  const sizeOf = new Map(images.map((image) => [image.definition.toLowerCase(), image.diskGiB * GIB]));
  const byRegion = new Map(REGIONS.map((region) => [region, { replications: 0, replicas: 0, bytes: 0 }]));
  const completedIn = new Map();
  for (const image of gallery?.images ?? []) {
    const bytes = sizeOf.get(image.name.toLowerCase()) ?? 0;
    for (const version of image.versions) {
      for (const region of version.regions) {
        const key = region.name.toLowerCase().replace(/\s+/g, '');
        const entry = byRegion.get(key) ?? { replications: 0, replicas: 0, bytes: 0 };
        entry.replications += 1;
        entry.replicas += region.replicaCount;
        entry.bytes += bytes * region.replicaCount;
        byRegion.set(key, entry);
        if (region.completed) completedIn.set(key, (completedIn.get(key) ?? 0) + 1);
      }
    }
  }
  const served = targetLabs(state).filter((lab) => {
    const enabled = Object.values(lab.sharedGallery?.enableStates ?? {}).filter((s) => s === 'Enabled').length;
    return lab.sharedGallery?.galleryId?.toLowerCase().endsWith(`/galleries/${GALLERY.toLowerCase()}`) && enabled >= IMAGES && (completedIn.get(lab.location) ?? 0) >= IMAGES;
  });
  const totals = [...byRegion.values()].reduce((t, r) => ({ replications: t.replications + r.replications, replicas: t.replicas + r.replicas, bytes: t.bytes + r.bytes }), { replications: 0, replicas: 0, bytes: 0 });
  return { versions: (gallery?.images ?? []).reduce((n, i) => n + i.versions.length, 0), byRegion, ...totals, served };
}

const gib = (bytes) => bytes / GIB;
const tib = (bytes) => bytes / 1024 ** 4;
const seconds = (ms) => ms / 1000;
const azureHours = (ms) => (ms * SPEEDUP) / 3_600_000;
const round = (value, digits = 1) => Number(value.toFixed(digits));

const pairs = IMAGES * LABS;
const disksGiB = images.reduce((sum, image) => sum + image.diskGiB, 0);
console.log(
  `Routes: ${IMAGES} images (${disksGiB} GiB of OS disks) to ${LABS} labs in ${REGIONS.length} regions (${pairs} image-lab pairs), ` +
    `maxConcurrentJobs ${C}; 1 s here stands for ${SPEEDUP / 60} min in Azure`,
);

console.log('  VHD route');
const vhd = await runRoute({});
const vhdOut = vhdFigures(vhd.state);
console.log('  gallery route');
const gal = await runRoute({ galleryName: GALLERY, galleryResourceGroup: FACTORY_RG });
const galOut = galleryFigures(gal.state);

function routeSummary(route) {
  const snap = route.tasks.SnapImagesFromVMs;
  const distribute = route.tasks.DistributeImages;
  return {
    makespanMs: snap.wallMs + distribute.wallMs,
    calls: snap.arm.calls + distribute.arm.calls,
    polls: snap.arm.polls + distribute.arm.polls,
    peakRssMb: Math.max(snap.peakRssMb, distribute.peakRssMb),
    snap,
    distribute,
  };
}
const v = routeSummary(vhd);
const g = routeSummary(gal);
const vhdBytes = vhdOut.storeBytes + vhdOut.labBytes;
const notServed = (served) => labs.filter((lab) => !served.some((s) => s.name === lab.name));
const vhdNotServed = notServed(vhdOut.served);
const galNotServed = notServed(galOut.served);
const perPair = (bytes, n) => (n ? round(gib(bytes / n), 1) : '-');
const regionsOf = (list) => [...new Set(list.map((lab) => lab.location))].sort().join(', ');

console.log(
  `  VHD route: ${tib(vhdBytes).toFixed(2)} TiB copied (${vhdOut.storeCopies} into the store, ${vhdOut.labCopies} into labs), ` +
    `${v.calls} ARM requests + ${v.polls} polls, makespan ${seconds(v.makespanMs).toFixed(1)} s (${azureHours(v.makespanMs).toFixed(1)} h in Azure), ` +
    `${vhdOut.served.length} of ${LABS} labs served${vhdNotServed.length ? ` (not: ${vhdNotServed.length} in ${regionsOf(vhdNotServed)}; ${codes(v.distribute.run).join(', ')})` : ''}`,
);
console.log(
  `  gallery route: ${tib(galOut.bytes).toFixed(2)} TiB replicated (${galOut.replications} replications of ${galOut.versions} versions, ${galOut.replicas} replicas), ` +
    `${g.calls} ARM requests + ${g.polls} polls, makespan ${seconds(g.makespanMs).toFixed(1)} s (${azureHours(g.makespanMs).toFixed(1)} h in Azure), ` +
    `${galOut.served.length} of ${LABS} labs served${galNotServed.length ? ` (not: ${galNotServed.length} in ${regionsOf(galNotServed)}; ${codes(g.distribute.run).join(', ')})` : ''}`,
);

const MODEL = 'yes (model)';
const PLAN = 'no (given the plan)';
const row = (name, vhdValue, galleryValue, depends) => [name, vhdValue, galleryValue, depends];
const taskRow = (label, pick, depends) => [
  row(`${label}, SnapImagesFromVMs`, pick(v.snap), pick(g.snap), depends),
  row(`${label}, DistributeImages`, pick(v.distribute), pick(g.distribute), depends),
];
const perRegion = REGIONS.map((region) => {
  const r = galOut.byRegion.get(region);
  const labsThere = labs.filter((lab) => lab.location === region).length;
  return [region, labsThere, r.replications, r.replicas, round(gib(r.bytes), 0), vhdOut.copiesByRegion.get(region) ?? 0];
});

writeResult('routes', {
  title: 'The same factory on both routes',
  description:
    `SnapImagesFromVMs then DistributeImages, the built tasks run as the agent runs them against the local Azure, once on the VHD route and ` +
    `once on the gallery route (galleryName), each on a fresh local Azure with the same factory: ${IMAGES} generalized, deallocated ` +
    `Generation 1 factory VMs, one template each, two Windows (${DISK_GIB.Windows} GiB OS disk) to one Linux (${DISK_GIB.Linux} GiB), ` +
    `${disksGiB} GiB in all, and ${LABS} target labs in one subscription spread evenly over ${REGIONS.join(', ')} (the factory lab in ` +
    `${FACTORY_REGION}), every lab selecting every image (${pairs} image-lab pairs); maxConcurrentJobs ${C} on both tasks, DistributeImages' fanOut as it defaults, one replica per region. ` +
    `The model in Azure's terms: a page blob serves ${AZURE.copyMiBps} MiB/s in all to the copies reading it and a copy on its own runs at that rate ` +
    `within a region and at ${AZURE.crossRegionCopyMiBps} MiB/s into another region (the local Azure's assumption: Azure publishes no rate); ` +
    `a gallery version replicates into each region at ${AZURE.replicationMiBps} MiB/s (an assumption: Azure publishes no rate), regions and versions ` +
    `in parallel; a custom image takes ${AZURE.customImageSeconds} s, other long-running operations ${AZURE.lroSeconds} s; Resource Manager's ` +
    `token buckets as in Azure (reads 250, refilled 25/s; writes and deletes 200, refilled 10/s). The local Azure runs all of it ${SPEEDUP} ` +
    `times faster (rates and refills multiplied, durations divided: 1 s here stands for ${SPEEDUP / 60} min in Azure); disks keep their ` +
    `sizes (sparse page blobs), so bytes are Azure's. What cannot be scaled: Retry-After is whole seconds, so each long-running ` +
    `operation costs a task at least one 1 s poll, and the tasks' own time (start-up, requests to the local Azure) runs on the real clock; ` +
    `both count ${SPEEDUP} times over in the hours-in-Azure figures, which therefore overstate short runs (the gallery route's most). ` +
    `Makespan is Snap's wall time plus Distribute's, task start-up included. Bytes, copies, replications and Resource Manager requests ` +
    `follow from the plan and do not depend on the model; makespan and polls do (copy and replication rates, long-running operation ` +
    `durations, throttling).`,
  figures: [
    { name: 'VHD route: bytes copied', value: round(tib(vhdBytes), 2), unit: 'TiB' },
    { name: 'Gallery route: bytes replicated', value: round(tib(galOut.bytes), 2), unit: 'TiB' },
    { name: 'VHD route: makespan (model)', value: round(seconds(v.makespanMs)), unit: `s (${azureHours(v.makespanMs).toFixed(1)} h in Azure)` },
    { name: 'Gallery route: makespan (model)', value: round(seconds(g.makespanMs)), unit: `s (${azureHours(g.makespanMs).toFixed(1)} h in Azure)` },
    { name: 'VHD route: Resource Manager requests', value: v.calls, unit: `(+ ${v.polls} polls)` },
    { name: 'Gallery route: Resource Manager requests', value: g.calls, unit: `(+ ${g.polls} polls)` },
    { name: 'VHD route: labs served', value: vhdOut.served.length, unit: `of ${LABS}` },
    { name: 'Gallery route: labs served', value: galOut.served.length, unit: `of ${LABS}` },
  ],
  tables: [
    {
      title: 'Per route',
      columns: ['Figure', 'VHD route', 'Gallery route', 'Depends on the model'],
      rows: [
        row('Bytes copied (GiB)', round(gib(vhdBytes), 0), round(gib(galOut.bytes), 0), PLAN),
        row('Into the image store: copies, GiB', `${vhdOut.storeCopies}, ${round(gib(vhdOut.storeBytes), 0)}`, '-', PLAN),
        row('Into labs: copies, GiB', `${vhdOut.labCopies}, ${round(gib(vhdOut.labBytes), 0)}`, '-', PLAN),
        ...taskRow('Copy Blob requests', (t) => t.metrics.byOperation.Blob_StartCopy ?? 0, PLAN),
        row('Image-lab pairs served', vhdOut.labCopies, galOut.served.length * IMAGES, PLAN),
        row('Bytes per image-lab pair served (GiB)', perPair(vhdBytes, vhdOut.labCopies), perPair(galOut.bytes, galOut.served.length * IMAGES), PLAN),
        row('Gallery versions; replications (version x region); replicas', '-', `${galOut.versions}; ${galOut.replications}; ${galOut.replicas}`, PLAN),
        ...taskRow('Resource Manager requests', (t) => t.arm.calls, 'no (given the plan; throttled retries aside)'),
        ...taskRow('Refused for the token buckets (429)', (t) => Object.values(t.metrics.throttled).reduce((a, b) => a + b, 0), MODEL),
        ...taskRow('Long-running operation polls', (t) => t.arm.polls, MODEL),
        ...taskRow('Wall time (s)', (t) => round(seconds(t.wallMs)), MODEL),
        row('Makespan (s)', round(seconds(v.makespanMs)), round(seconds(g.makespanMs)), MODEL),
        row('Makespan in Azure (h)', round(azureHours(v.makespanMs)), round(azureHours(g.makespanMs)), MODEL),
        ...taskRow('Peak RSS (MB)', (t) => round(t.peakRssMb, 0), 'no'),
        ...taskRow('Result', (t) => t.run.result, 'no'),
        row('Labs served', `${vhdOut.served.length} of ${LABS}`, `${galOut.served.length} of ${LABS}`, PLAN),
        row('Labs not served', vhdNotServed.length ? `${vhdNotServed.length} (${regionsOf(vhdNotServed)}; ${codes(v.distribute.run).join(', ')})` : 'none', galNotServed.length ? `${galNotServed.length} (${regionsOf(galNotServed)}; ${codes(g.distribute.run).join(', ')})` : 'none', PLAN),
      ],
    },
    {
      title: 'Per region (gallery route: one replica per region)',
      columns: ['Region', 'Labs', 'Replications', 'Replicas', 'GiB replicated', 'VHD route lab copies there'],
      rows: perRegion,
    },
  ],
  notes:
    'Resource Manager requests are all the local Azure counted that are not blob storage or the authority; polls (a long-running ' +
    "operation's status, and a custom image read once it is made) are counted apart. On the VHD route every (image, lab) pair is a " +
    "copy of the whole VHD; with DistributeImages' default fanOut (tree) each copy reads the image's store blob or a lab whose copy " +
    'has finished, one reader per source, so the sources double with each round of copies; on the ' +
    'gallery route a version is copied once per region and a lab only attaches the gallery and enables the images, so its bytes grow ' +
    'with regions, not labs. Both tasks read the same labs.json, so SnapImagesFromVMs already replicates each version to every ' +
    `selecting lab's region and DistributeImages adds none (${g.distribute.metrics.byOperation.GalleryImageVersions_Update ?? 0} version updates). ` +
    'SnapImagesFromVMs on the gallery route makes the missing image definitions one after another, ' +
    'each a long-running operation (at least one 1 s poll here), before the versions, which replicate in parallel: with one new ' +
    'definition per image its wall time here grows by about a second per image, which stands for far more than Azure takes.' +
    (vhdNotServed.length
      ? ` The VHD route served ${vhdOut.served.length} of the ${LABS} labs: DistributeImages refused the ${vhdNotServed.length} in ` +
        `${regionsOf(vhdNotServed)} (${codes(v.distribute.run).join(', ')}), so its bytes, copies and requests are those of the labs it served.`
      : ''),
});
