// The PowerShell image factory's scheduling (DistributeImages.ps1), for comparison in distribute.bench.mjs:
//   - a job starts only when a check finds fewer than maxConcurrentJobs running; while all are busy the check is
//     repeated every 30 s (slotCheckMs);
//   - each copy is from the factory's store; its state is read right after the start and again at once, then the
//     loop reads it, sleeps 45 s (copySleepMs) and only then acts on what it read, so a copy that has finished
//     waits a further 45 s before its custom image is made;
// both periods scaled by the benchmark's time factor. Everything else is the product's own code: the same
// configuration, plan, upload URIs, Copy Blob request, custom image creation and blob deletion.
//
//   node bench/distributeBaseline.mjs '<json: configurationLocation, factoryLabName, maxConcurrentJobs,
//                                        imagesToSave, slotCheckMs, copySleepMs, pollIntervalMs>'
// with the service connection's ENDPOINT_* variables and NODE_EXTRA_CA_CERTS in the environment. Prints one
// JSON line: { makespanMs, jobs, failed, crossed }.
import { setMaxListeners } from 'node:events';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { readServiceConnection } = require('../out/core/azure/serviceConnection.js');
const { envEndpointReader } = require('../out/core/azure/endpoint.js');
const { createAzureContext } = require('../out/core/azure/azureContext.js');
const { sasBlobClient } = require('../out/core/azure/blobCopy.js');
const { loadConfiguration } = require('../out/core/config/labsConfig.js');
const { ImageStore } = require('../out/core/imageStore.js');
const { stagingBlobName, stagingMetadata } = require('../out/core/factoryImages.js');
const { labsToRead, planDistribution, sameRegion } = require('../out/core/distribute/plan.js');
const { observeLabs } = require('../out/core/distribute/observe.js');
const { SasCache, deleteStagingBlob, putCustomImage, sourceUrl, uploadUri } = require('../out/core/distribute/job.js');

const options = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const regionKey = (region) => String(region ?? '').replace(/\s+/g, '').toLowerCase();
const inRegion = sameRegion ?? ((a, b) => regionKey(a) === regionKey(b));

const connection = readServiceConnection(envEndpointReader(process.env), 'LocalAzure');
const azure = createAzureContext(connection, { pollIntervalMs: options.pollIntervalMs });
const { configuration } = await loadConfiguration(options.configurationLocation);
const factory = await azure.labs.find(connection.subscriptionId, options.factoryLabName);
const store = new ImageStore(azure.labs.storage(factory), azure.reporter);
const { images } = await store.list();
const sas = new SasCache();
const toRead = labsToRead(configuration.labs, images);
// As in the product, a signal shared by every lab read in flight.
const signal = new AbortController().signal;
setMaxListeners(0, signal);
const observations = await observeLabs(azure, toRead, images, { concurrency: 20, sas, signal, factoryLabId: factory.id });
const retention = { imagesToSave: options.imagesToSave ?? 2, templatePaths: configuration.templates.map((t) => t.imagePath) };
const plan = planDistribution({ factory, images, labs: configuration.labs, observations, retention });

/** Get-AzureStorageBlobCopyState: the copy's state, pending until it has ended. */
async function copyState(destination) {
  const properties = await destination.getProperties();
  return properties.copyStatus ?? 'success';
}

async function job(job) {
  const storage = azure.labs.storage(job.lab);
  const blobName = stagingBlobName(job.image.imageName);
  const container = await storage.containerClient();
  const destination = sasBlobClient(await uploadUri(sas, storage, blobName), azure.storageRetryOptions);
  // Always from the store, whatever the lab's region.
  await destination.startCopyFromURL(await sourceUrl(sas, store, job.image.imageName), { metadata: stagingMetadata(job.image.imageName) });
  let state = await copyState(destination);
  while (state === 'pending') {
    state = await copyState(destination);
    await sleep(options.copySleepMs);
  }
  if (state !== 'success') throw new Error(`copy ${state}`);
  await putCustomImage({ azure, factory }, job, container.getBlobClient(blobName).url, signal);
  await deleteStagingBlob(container, blobName);
}

const started = Date.now();
const running = new Set();
let failed = 0;
for (const next of plan.jobs) {
  while (running.size >= options.maxConcurrentJobs) await sleep(options.slotCheckMs);
  const promise = job(next)
    .catch((error) => {
      failed++;
      if (failed <= 3) console.error(`baseline job '${next.image.imageName}' in '${next.lab.name}': ${error instanceof Error ? error.message : String(error)}`);
    })
    .finally(() => running.delete(promise));
  running.add(promise);
}
await Promise.all(running);
const crossed = plan.jobs.filter((j) => !inRegion(j.lab.location ?? factory.location, factory.location)).length;
console.log(JSON.stringify({ makespanMs: Date.now() - started, jobs: plan.jobs.length, failed, crossed }));
