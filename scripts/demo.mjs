// The quick start: runs the whole image factory on the sample configuration against the embedded local Azure
// (local-azure/scenarios/demo.json: an empty factory lab in westus2 whose image store holds older images, and
// target labs in three regions and two subscriptions) on both routes from the same factory lab: the Generation 1
// templates on the VHD route, then the Generation 2 templates on the gallery route (galleryName). Each stage runs
// as the agent runs it, through the same runner and log rendering as `npm run task`; the demo stops at the first
// stage that fails, or at Ctrl+C once the running stage has cleaned up, and always stops the local Azure last.
// The VHD route copies into labs of any region (Desktops-East's Ubuntu crosses from westus2 to eastus).
// Exit code: 0, 1 when a stage failed, 130 when cancelled.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTask } from './run-task.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const require = createRequire(import.meta.url);
const { startLocalAzure } = require(join(root, 'out', 'test', 'helpers', 'localAzure.js'));

const configuration = join(root, 'Configuration');
const scenario = join(root, 'local-azure', 'scenarios', 'demo.json');
const factory = { DevTestLabName: 'ImageFactory' };
// The demo's VM administrator; in a pipeline these come from secret variables.
const administrator = {
  machinePassword: 'Demo-Factory-Adm1n!',
  machineSshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoFactoryKey demo@imagefactory',
};
const catalogFile = join(root, 'out', 'catalog', 'image-catalog.html');

// The sample's Generation 1 templates travel the VHD route, its Generation 2 ones (Windows 11 Trusted Launch
// with a data disk, Ubuntu Gen2) the gallery route: MakeGoldenImageVMs builds each set in turn.
const vhdTemplates = 'WindowsServer, SQLServer, Linux/Ubuntu2204.json';
const galleryTemplates = 'Windows11, Linux/Ubuntu2204-Gen2.json';
const gallery = { galleryName: 'FactoryImages' };
const keep = { ImagesToSave: '2' };
const config = { ConfigurationLocation: configuration };

const stages = [
  { title: 'Validate the configuration', task: 'ValidateLabsJson', inputs: { ...config } },
  { title: 'VHD route: make the Generation 1 golden image VMs', task: 'MakeGoldenImageVMs', inputs: { ...config, ImagePaths: vhdTemplates, ...factory, ...administrator } },
  { title: 'VHD route: save the factory VMs as generalized VHDs', task: 'SnapImagesFromVMs', inputs: { ...factory } },
  { title: 'VHD route: copy the images to the labs as custom images', task: 'DistributeImages', inputs: { ...config, ...keep, ...factory } },
  { title: 'VHD route: clean up the saved factory VMs', task: 'CleanUpFactory', inputs: { ...factory } },
  { title: 'VHD route: retire old images (keep 2 per image path)', task: 'RetireImages', inputs: { ...config, ...keep, ...factory } },
  { title: 'Gallery route: make the Generation 2 golden image VMs', task: 'MakeGoldenImageVMs', inputs: { ...config, ImagePaths: galleryTemplates, ...factory, ...administrator } },
  { title: 'Gallery route: save the factory VMs as gallery image versions', task: 'SnapImagesFromVMs', inputs: { ...config, ...factory, ...gallery } },
  { title: 'Gallery route: attach the gallery to the labs and replicate to their regions', task: 'DistributeImages', inputs: { ...config, ...keep, ...factory, ...gallery } },
  { title: 'Gallery route: clean up the published factory VMs', task: 'CleanUpFactory', inputs: { ...factory, ...gallery } },
  { title: 'Gallery route: retire old versions (keep 2 per image path)', task: 'RetireImages', inputs: { ...config, ...keep, ...factory, ...gallery } },
  { title: 'Both routes: write the image catalog', task: 'PublishImageCatalog', inputs: { ...config, ...keep, CatalogFile: catalogFile, ArtifactName: '', ...factory, ...gallery } },
];

// Ctrl+C signals the whole process group: the demo, the local Azure and the running task. The task
// cancels and cleans up (the runner passes the signal on and waits for it); the local Azure, started with
// --ipc, ignores the signal and is stopped here only once the task has ended, so the clean-up has an Azure
// to talk to. No later stage starts.
let cancelled = false;
const onCancel = () => {
  if (cancelled) return;
  cancelled = true;
  console.log('\nCtrl+C: cancelling the demo; the running stage cleans up what it started, then the local Azure stops.');
};
process.on('SIGINT', onCancel);
process.on('SIGTERM', onCancel);

const outcomes = [];
let exitCode = 0;
let azure;
try {
  console.log('Starting the local Azure (Resource Manager, identity and blob storage on loopback)...');
  azure = await startLocalAzure({ scenario });
  console.log(`  Resource Manager: ${azure.armUrl}\n  Blob storage:     ${azure.blobUrl}`);
  for (const [index, stage] of stages.entries()) {
    if (cancelled) break;
    console.log(`\n== ${index + 1}/${stages.length} ${stage.title} (${stage.task}) ==`);
    const started = Date.now();
    const { result, exitCode: stageExit } = await runTask(stage.task, stage.inputs, { env: azure.env });
    const route = stage.title.includes(':') ? stage.title.slice(0, stage.title.indexOf(':')) : '';
    outcomes.push({ stage: stage.task, route, result: result ?? 'no result', seconds: (Date.now() - started) / 1000 });
    if (cancelled) break;
    if (stageExit !== 0) {
      console.log(`\nThe demo stopped: ${stage.task} ended ${result ?? 'without a result'}.`);
      exitCode = stageExit;
      break;
    }
  }
  if (!cancelled || outcomes.length > 0) printSummary(outcomes, await azure.state());
  if (outcomes.some((o) => o.stage === 'PublishImageCatalog' && o.result === 'Succeeded')) console.log(`\nImage catalog (open it in a browser): ${catalogFile}`);
} catch (error) {
  // The demo's own failure (the local Azure did not start, or went away): one line, no stack trace.
  console.error(`\nThe demo failed: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await azure?.stop();
}
if (cancelled) {
  const last = outcomes.at(-1);
  console.log(`\nThe demo was cancelled${last ? ` during ${last.stage} (${last.result})` : ''}; the local Azure has stopped.`);
  exitCode = 130;
}
process.exitCode = exitCode;

function printSummary(outcomes, state) {
  console.log('\n== Summary ==');
  for (const { stage, route, result, seconds } of outcomes) console.log(`  ${route.padEnd(13)} ${stage.padEnd(20)} ${result.padEnd(20)} ${seconds.toFixed(1)} s`);
  const images = galleryImages(state);
  for (const gallery of state.galleries) {
    console.log(`\nGallery ${gallery.name} (${gallery.location}), the gallery route's images:`);
    for (const image of gallery.images) {
      for (const v of image.versions) {
        const disks = v.dataDiskLuns.length ? `, ${v.dataDiskLuns.length} data disk(s)` : '';
        console.log(`  ${image.name}/${v.name} (Generation ${v.hyperVGeneration.slice(1)}, ${v.securityType}${disks}): ${v.regions.map((r) => r.name).join(', ')}`);
      }
    }
  }
  console.log('\nWhat the labs hold now:');
  for (const lab of state.labs) {
    const customImages = lab.customImages.map((image) => image.name).sort();
    const vhds = lab.blobs.map((blob) => blob.name).sort();
    const shared = Object.entries(lab.sharedGallery?.enableStates ?? {})
      .filter(([, enabled]) => enabled === 'Enabled')
      .map(([name]) => images.get(name.toLowerCase())?.(lab.location) ?? `${name} (no replica here)`)
      .sort();
    console.log(`  ${lab.name} (${lab.location}, ${lab.subscriptionId.slice(0, 8)}…)`);
    if (lab.vms.length) console.log(`    VMs:           ${lab.vms.map((vm) => vm.name).join(', ')}`);
    console.log(`    custom images: ${customImages.length ? customImages.join(', ') : '(none)'}`);
    if (vhds.length) console.log(`    stored VHDs:   ${vhds.join(', ')}`);
    if (lab.sharedGallery) console.log(`    shared images: ${shared.length ? shared.join(', ') : '(none)'} (gallery ${lab.sharedGallery.name})`);
  }
  console.log(`  Disk access still granted: ${state.diskGrants.length ? state.diskGrants.join(', ') : 'none'}`);
}

/**
 * Per gallery image (by lower-case name, as a lab lists its shared images): what a lab in a region serves,
 * `image/version` of the newest version with a complete replica there.
 */
function galleryImages(state) {
  const byName = new Map();
  for (const image of state.galleries.flatMap((g) => g.images)) {
    const finished = image.versions.filter((v) => v.provisioningState === 'Succeeded').sort((a, b) => b.name.localeCompare(a.name, 'en', { numeric: true }));
    const region = (name) => name.replace(/\s/g, '').toLowerCase();
    byName.set(image.name.toLowerCase(), (location) => {
      const version = finished.find((v) => v.regions.some((r) => r.completed && region(r.name) === region(location)));
      return version ? `${image.name}/${version.name}` : `${image.name} (no replica here)`;
    });
  }
  return byName;
}
