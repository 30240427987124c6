import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot, taskFolders } from '../package/taskFolders';

const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';

interface Contribution { id: string; type: string; targets: string[]; properties?: { name?: string } }
interface Manifest {
  manifestVersion: number; id: string; publisher: string; version: string; name: string; description: string;
  categories: string[]; targets: { id: string }[]; icons: { default: string }; content: { details: { path: string } };
  files: { path: string; addressable?: boolean }[]; contributions: Contribution[];
}
interface TaskVersion { Major: number; Minor: number; Patch: number }

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) as T;

/** Width and height from a PNG's IHDR chunk; throws when the file is not a PNG. */
function pngSize(file: string): { width: number; height: number } {
  const bytes = fs.readFileSync(path.join(repoRoot, file));
  assert.equal(bytes.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is not a PNG`);
  assert.equal(bytes.subarray(12, 16).toString('ascii'), 'IHDR', `${file} has no IHDR chunk`);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('vss-extension.json', () => {
  const manifest = readJson<Manifest>('vss-extension.json');
  const folders = taskFolders();

  it('is a manifest for an Azure Pipelines extension', () => {
    assert.equal(manifest.manifestVersion, 1);
    assert.match(manifest.id, /^[A-Za-z0-9][A-Za-z0-9-]*$/);
    assert.match(manifest.publisher, /^[A-Za-z0-9][A-Za-z0-9-]*$/);
    assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
    assert.ok(manifest.name.trim() && manifest.description.trim());
    assert.deepEqual(manifest.categories, ['Azure Pipelines']);
    assert.deepEqual(manifest.targets, [{ id: 'Microsoft.VisualStudio.Services' }]);
  });

  it('points at an overview and an icon that exist', () => {
    const overview = fs.readFileSync(path.join(repoRoot, manifest.content.details.path), 'utf8');
    for (const folder of folders) assert.ok(overview.includes(`\`${folder}\``), `${manifest.content.details.path} does not present ${folder}`);
    assert.deepEqual(pngSize(manifest.icons.default), { width: 128, height: 128 });
    assert.ok(
      manifest.files.some((f) => manifest.icons.default.startsWith(`${f.path}/`)),
      `${manifest.icons.default} is in no folder of "files"`,
    );
  });

  it('contributes every task folder, and nothing else', () => {
    const contributed = manifest.contributions
      .filter((c) => c.type === TASK_CONTRIBUTION)
      .map((c) => c.properties?.name);
    assert.deepEqual([...contributed].sort(), folders.map((f) => `tasks/${f}`));
    assert.deepEqual(manifest.contributions.filter((c) => c.type !== TASK_CONTRIBUTION), []);
    for (const contribution of manifest.contributions) {
      assert.deepEqual(contribution.targets, ['ms.vss-distributed-task.tasks'], contribution.id);
    }
    const ids = manifest.contributions.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate contribution ids: ${ids.join(', ')}`);
  });

  it('ships each task folder and the images, and only paths that exist', () => {
    const shipped = manifest.files.map((f) => f.path);
    for (const folder of folders) assert.ok(shipped.includes(`tasks/${folder}`), `"files" does not ship tasks/${folder}`);
    assert.ok(shipped.includes('images'));
    for (const file of shipped) assert.ok(fs.existsSync(path.join(repoRoot, file)), `"files" lists ${file}, which does not exist`);
    assert.deepEqual(shipped.filter((f) => f.startsWith('tasks/')).sort(), folders.map((f) => `tasks/${f}`));
  });

  it('moves in step with every task version', () => {
    for (const folder of folders) {
      const { Major, Minor, Patch } = readJson<{ version: TaskVersion }>(`tasks/${folder}/task.json`).version;
      assert.equal(`${Major}.${Minor}.${Patch}`, manifest.version, `tasks/${folder}/task.json`);
    }
  });

  it('has a 32×32 icon beside each task.json', () => {
    for (const folder of folders) assert.deepEqual(pngSize(`tasks/${folder}/icon.png`), { width: 32, height: 32 }, folder);
  });
});
