import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StateSnapshot } from '../../local-azure/control';
import type { ConnectionScheme } from '../../local-azure/serviceConnection';
import { outputLines, parseLoggingCommand } from '../helpers/loggingCommands';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, type TaskRun } from '../helpers/taskProcess';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SCENARIO = path.join(ROOT, 'local-azure', 'scenarios', 'demo.json');
const CONFIGURATION = path.join(ROOT, 'Configuration');

/** What the catalog may never change: every lab's VMs, custom images and blobs. */
function everything(state: StateSnapshot): unknown {
  return state.labs.map((lab) => ({
    lab: lab.name,
    vms: lab.vms.map((vm) => vm.name),
    images: lab.customImages.map(({ name, tags, provisioningState }) => ({ name, tags, provisioningState })),
    blobs: lab.blobs.map(({ name, metadata }) => ({ name, metadata })),
  }));
}

/** The row of a lab in the page's labs x image paths table. */
function labRow(page: string, labName: string): string {
  const rows = page.match(/<tr data-lab="\d+"[\s\S]*?<\/tr>/g) ?? [];
  const row = rows.find((r) => r.includes(`<th scope="row" data-sort="${labName.toLowerCase()}"`));
  assert.ok(row, `no row for lab ${labName}`);
  return row;
}

function artifactUploads(run: TaskRun): { properties: Record<string, string>; data: string }[] {
  return outputLines(run.stdout)
    .map((line) => parseLoggingCommand(line))
    .filter((command) => command?.command === 'artifact.upload')
    .map((command) => ({ properties: command!.properties, data: command!.data }));
}

describe('PublishImageCatalog against the local Azure', function () {
  this.timeout(120_000);
  let azure: LocalAzureProcess;
  let dir: string;

  const run = (extra: Record<string, string> = {}, env: Record<string, string> = azure.env) =>
    runTaskProcess(
      'PublishImageCatalog',
      { ConfigurationLocation: CONFIGURATION, azureSubscription: 'LocalAzure', DevTestLabName: 'ImageFactory', CatalogFile: path.join(dir, 'catalog', 'index.html'), ArtifactName: 'ImageCatalog', ...extra },
      env,
    );

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-scenario-'));
    azure = await startLocalAzure({ scenario: SCENARIO });
  });
  after(async () => {
    await azure?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes the page from the live state, publishes it as an artifact, digests it in the summary, and changes nothing', async () => {
    const before = everything(await azure.state());
    const r = await run();
    assert.equal(r.result, 'Succeeded', describeRun(r));
    assert.deepEqual(everything(await azure.state()), before, 'the catalog only reads');

    const file = path.join(dir, 'catalog', 'index.html');
    assert.equal(r.outputs.CatalogFile, file);
    const page = fs.readFileSync(file, 'utf8');
    assert.deepEqual(artifactUploads(r), [{ properties: { containerfolder: 'ImageCatalog', artifactname: 'ImageCatalog' }, data: file }]);

    // Engineering-Dev holds the store's newest Windows Server image; Engineering-Test selects it and holds none.
    assert.match(labRow(page, 'Engineering-Dev'), /class="cell current"[^>]*aria-label="WindowsServer\/Server2022-Datacenter\.json: Nov-10-2026, \d+ days old; the newest"/);
    assert.match(labRow(page, 'Engineering-Test'), /class="cell missing"[^>]*aria-label="WindowsServer\/Server2022-Datacenter\.json: none; lacks the newest, Nov-10-2026"/);
    assert.match(labRow(page, 'Engineering-Test'), /data-stale="true"/);
    // Generation and security type from the stored image's metadata where there is an image, else from the template.
    const imageRow = (imagePath: string) => page.match(new RegExp(`<tr data-os[^>]*>\\s*<th scope="row"><code>${imagePath.replace(/[./]/g, '\\$&')}</code>[\\s\\S]*?</tr>`))?.[0] ?? '';
    assert.match(imageRow('WindowsServer/Server2022-Datacenter.json'), /<td data-sort="V1">V1, Standard<\/td>/);
    assert.match(imageRow('Linux/Ubuntu2204.json'), /<td data-sort="V1">V1, Standard <span class="small">\(from the template\)<\/span><\/td>/);
    assert.match(labRow(page, 'Training'), /data-stale="false"/);

    const summary = r.summary ?? '';
    assert.match(summary, /^### Image catalog/m);
    // The sample's five templates (VHD and gallery route) and six labs; Engineering-Test is stale.
    assert.match(summary, /\| 5 \| 6 \| 1 \| 0 \| 0 \|/, summary);
    assert.match(summary, /\| Engineering-Test \| 7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310 \| WindowsServer\/Server2022-Datacenter\.json \(Nov-10-2026\) \|/, summary);
    assert.match(summary, /artifact \*\*ImageCatalog\*\*/);
    assert.ok(r.lines.some((line) => line === "  Lab 'Engineering-Test' lacks the newest image of WindowsServer/Server2022-Datacenter.json."), describeRun(r));
  });

  /** Each mark on the page of a catalog with `configuration` and ImagesToSave 1, and each lab deletion RetireImages' dry run plans; both with why. */
  async function marksAndPlan(configuration: string): Promise<{ marked: Map<string, string>; planned: Map<string, string> }> {
    const catalog = await run({ ConfigurationLocation: configuration, ImagesToSave: '1' });
    assert.equal(catalog.result, 'Succeeded', describeRun(catalog));
    const page = fs.readFileSync(catalog.outputs.CatalogFile, 'utf8');
    // Each mark, with why (its title): the reason RetireImages' plan gives for the deletion.
    const marked = new Map<string, string>();
    for (const lab of ['Engineering-Dev', 'Engineering-Test', 'Training']) {
      for (const match of labRow(page, lab).matchAll(/class="retiring" data-image="([^"]+)" title="([^"]*)"/g)) marked.set(`${lab}/${match[1]}`, match[2].replace(/&#39;/g, "'"));
    }

    const retire = await runTaskProcess(
      'RetireImages',
      { ConfigurationLocation: configuration, azureSubscription: 'LocalAzure', DevTestLabName: 'ImageFactory', ImagesToSave: '1', dryRun: 'true' },
      azure.env,
    );
    assert.equal(retire.result, 'Succeeded', describeRun(retire));
    const planned = new Map<string, string>();
    let scope: string | undefined;
    for (const line of retire.lines) {
      const title = /^Lab '([^']+)'/.exec(line);
      if (title) scope = title[1];
      else if (!line.startsWith('  ')) scope = undefined;
      const deletion = /^ {2}delete (\S+) \[[^\]]*\]: (.*)$/.exec(line);
      if (deletion && scope && scope !== 'ImageFactory') planned.set(`${scope}/${deletion[1]}`, deletion[2]);
    }
    assert.ok(planned.size > 0, describeRun(retire));
    return { marked, planned };
  }

  it('marks exactly what RetireImages, run with the same ImagesToSave, would delete from the labs, and why', async () => {
    const { marked, planned } = await marksAndPlan(CONFIGURATION);
    assert.deepEqual([...marked].sort(), [...planned].sort());
    assert.ok([...marked.values()].every((why) => why.startsWith('older than the 1 newest of ')), [...marked.values()].join('\n'));
  });

  it('marks every image of a template removed from GoldenImages, saying so, as RetireImages plans it', async () => {
    // The sample without its Windows Server template, and labs.json without the entries that named it.
    const configuration = path.join(dir, 'without-windows-server');
    fs.cpSync(CONFIGURATION, configuration, { recursive: true });
    fs.rmSync(path.join(configuration, 'GoldenImages', 'WindowsServer'), { recursive: true });
    const labs = JSON.parse(fs.readFileSync(path.join(configuration, 'labs.json'), 'utf8')) as { Labs: { LabName: string; ImagePaths: string[] }[] };
    for (const lab of labs.Labs) lab.ImagePaths = lab.ImagePaths.filter((entry) => !entry.startsWith('WindowsServer'));
    fs.writeFileSync(path.join(configuration, 'labs.json'), JSON.stringify(labs));

    const { marked, planned } = await marksAndPlan(configuration);
    assert.deepEqual([...marked].sort(), [...planned].sort());
    const removed = [...marked].filter(([, why]) => why.startsWith('its template WindowsServer/Server2022-Datacenter.json is no longer in GoldenImages'));
    assert.ok(removed.some(([image]) => image.startsWith('Engineering-Dev/WindowsServer_Server2022-Datacenter-')), [...marked].join('\n'));
  });

  it('marks a lab that could not be read, warns about it (IF8003), and still writes the page', async () => {
    await azure.setFaults([{ operation: 'CustomImages_List', kind: 'status', status: 403, code: 'AuthorizationFailed', match: '/labs/Training/', probability: 1 }]);
    try {
      const r = await run();
      assert.equal(r.result, 'SucceededWithIssues', describeRun(r));
      const warnings = r.issues.filter((issue) => issue.type === 'warning');
      assert.deepEqual(warnings.map((issue) => issue.code), ['IF8003'], describeRun(r));
      assert.match(warnings[0].message, /Lab 'Training' \(subscription c1a9e4f2-6b83-4d57-8e20-94f3b7a1d6c8\) could not be read/);
      const row = labRow(fs.readFileSync(r.outputs.CatalogFile, 'utf8'), 'Training');
      assert.match(row, /data-unreadable="true"/);
      assert.match(row, /could not be read: /);
      assert.doesNotMatch(row, /class="cell (current|behind|missing|not-selected)"/);
      assert.match(r.summary ?? '', /\| Training \| c1a9e4f2-6b83-4d57-8e20-94f3b7a1d6c8 \| could not be read \|/);
    } finally {
      await azure.setFaults([]);
    }
  });

  it('refuses a CatalogFile that names a folder (IF8002) before reading Azure', async () => {
    await azure.resetMetrics();
    const r = await run({ CatalogFile: `${dir}${path.sep}` });
    assert.equal(r.result, 'Failed', describeRun(r));
    assert.deepEqual(r.issues.map((issue) => issue.code), ['IF8002'], describeRun(r));
    assert.equal(r.outputs.CatalogFile, undefined);
    assert.doesNotMatch(r.stdout, /\n\s+at /, 'no stack trace');
    assert.equal((await azure.metrics()).total, 0, 'no request to Azure');
  });

  it('fails with IF8001, no stack trace, when the page cannot be written', async () => {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, 'not a folder');
    const r = await run({ CatalogFile: path.join(blocker, 'catalog.html') });
    assert.equal(r.result, 'Failed', describeRun(r));
    assert.deepEqual(r.issues.map((issue) => issue.code), ['IF8001'], describeRun(r));
    assert.match(r.issues[0].message, /could not be written to '.*catalog\.html': (EEXIST|ENOTDIR)\./);
    assert.equal(artifactUploads(r).length, 0);
    assert.doesNotMatch(r.stdout, /\n\s+at /, 'no stack trace');
  });

  for (const scheme of ['ServicePrincipal', 'ServicePrincipalCertificate', 'WorkloadIdentityFederation', 'ManagedServiceIdentity'] as ConnectionScheme[]) {
    it(`reads the state with a ${scheme} connection`, async () => {
      const r = await run({ CatalogFile: path.join(dir, scheme, 'catalog.html') }, await azure.connectionEnv({ scheme }));
      assert.equal(r.result, 'Succeeded', describeRun(r));
      assert.ok(fs.existsSync(path.join(dir, scheme, 'catalog.html')));
    });
  }
});
