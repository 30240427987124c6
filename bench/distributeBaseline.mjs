// The image factory scripts' scheduling, for comparison in distribute.bench.mjs: a new copy starts only when
// a periodic check (every 30 s) finds a free slot, and each copy is looked at on a fixed period (every 45 s);
// both periods are scaled by the benchmark's time factor. Everything else is the product's own code: the
// same configuration, plan, upload URIs, Copy Blob request, custom image creation and blob deletion.
//
//   node bench/distributeBaseline.mjs '<json: configurationLocation, factoryLabName, maxConcurrentJobs,
//                                        slotCheckMs, copyPollMs, pollIntervalMs>'
// with the service connection's ENDPOINT_* variables and NODE_EXTRA_CA_CERTS in the environment. Prints one
// JSON line: { makespanMs, jobs, failed }.
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
const { labsToRead, planDistribution } = require('../out/core/distribute/plan.js');
const { observeLabs } = require('../out/core/distribute/observe.js');
const { SasCache, deleteStagingBlob, putCustomImage, sourceUrl, uploadUri } = require('../out/core/distribute/job.js');

const options = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

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

async function job(job) {
  const storage = azure.labs.storage(job.lab);
  const blobName = stagingBlobName(job.image.imageName);
  const container = await storage.containerClient();
  const destination = sasBlobClient(await uploadUri(sas, storage, blobName), azure.storageRetryOptions);
  await destination.startCopyFromURL(await sourceUrl(sas, store, job.image.imageName), { metadata: stagingMetadata(job.image.imageName) });
  for (;;) {
    await sleep(options.copyPollMs);
    const properties = await destination.getProperties();
    if (properties.copyStatus === 'success') break;
    if (properties.copyStatus !== 'pending') throw new Error(`copy ${properties.copyStatus}`);
  }
  await putCustomImage({ azure, factory }, job, container.getBlobClient(blobName).url, signal);
  await deleteStagingBlob(container, blobName);
}

const started = Date.now();
const running = new Set();
let failed = 0;
for (const next of plan.jobs) {
  while (running.size >= options.maxConcurrentJobs) await sleep(options.slotCheckMs);
  const promise = job(next)
    .catch(() => failed++)
    .finally(() => running.delete(promise));
  running.add(promise);
}
await Promise.all(running);
console.log(JSON.stringify({ makespanMs: Date.now() - started, jobs: plan.jobs.length, failed }));
