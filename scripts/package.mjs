// Writes the installable extension, dist/<publisher>.<id>-<version>.vsix, from the built tasks.
//
//   npm run package                      build, stage build/vsix/, run tfx-cli (offline)
//   npm run package -- --version 1.2.0   first set the extension and every task to that version
//
// The staged tree holds only what the marketplace and the agent need: vss-extension.json, overview.md,
// images/ and, per task, task.json, the bundled index.js with its source map and icon.png. Task versions move in step with the
// extension's (Major.Minor.Patch of each task.json = the extension version), so one number names a release.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { taskFolders } from './build.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const stageDir = join(root, 'build', 'vsix');
const distDir = join(root, 'dist');
// index.js.map: the bundle's source map (own sources only), read when a task reports an internal error.
const TASK_FILES = ['task.json', 'index.js', 'index.js.map', 'icon.png'];

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
const taskVersion = (task) => `${task.version.Major}.${task.version.Minor}.${task.version.Patch}`;

function setVersion(version) {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`--version '${version}' is not Major.Minor.Patch (for example 1.2.0).`);
  const manifestFile = join(root, 'vss-extension.json');
  const manifest = readJson(manifestFile);
  manifest.version = version;
  writeJson(manifestFile, manifest);
  for (const folder of taskFolders()) {
    const file = join(folder, 'task.json');
    const task = readJson(file);
    task.version = { Major: Number(match[1]), Minor: Number(match[2]), Patch: Number(match[3]) };
    writeJson(file, task);
  }
  console.log(`Version set to ${version} in vss-extension.json and every task.json.`);
}

/** Everything that would make the package wrong, as sentences naming the file to fix. */
function problems(manifest, folders) {
  const found = [];
  const contributed = new Set(
    (manifest.contributions ?? [])
      .filter((c) => c.type === 'ms.vss-distributed-task.task')
      .map((c) => c.properties?.name),
  );
  for (const folder of folders) {
    const name = `tasks/${basename(folder)}`;
    if (!contributed.has(name)) found.push(`vss-extension.json contributes no task for ${name}; add a contribution for it.`);
    const task = readJson(join(folder, 'task.json'));
    if (taskVersion(task) !== manifest.version) {
      found.push(
        `${name}/task.json has version ${taskVersion(task)} but the extension is ${manifest.version}; ` +
          'run `npm run package -- --version <x.y.z>` to set them in step.',
      );
    }
    for (const file of TASK_FILES) {
      if (!existsSync(join(folder, file))) {
        found.push(`${name}/${file} is missing${file.startsWith('index.js') ? ' (the build did not bundle the task)' : ''}.`);
      }
    }
  }
  const folderNames = new Set(folders.map((f) => `tasks/${basename(f)}`));
  for (const name of contributed) {
    if (!folderNames.has(name)) found.push(`vss-extension.json contributes ${name}, which has no task.json.`);
  }
  return found;
}

function stage(manifest, folders) {
  rmSync(stageDir, { recursive: true, force: true });
  mkdirSync(stageDir, { recursive: true });
  copyFileSync(join(root, 'vss-extension.json'), join(stageDir, 'vss-extension.json'));
  copyFileSync(join(root, manifest.content.details.path), join(stageDir, manifest.content.details.path));
  cpSync(join(root, 'images'), join(stageDir, 'images'), { recursive: true });
  for (const folder of folders) {
    const target = join(stageDir, 'tasks', basename(folder));
    mkdirSync(target, { recursive: true });
    for (const file of TASK_FILES) copyFileSync(join(folder, file), join(target, file));
  }
}

function createVsix() {
  mkdirSync(distDir, { recursive: true });
  for (const old of readdirSync(distDir).filter((f) => f.endsWith('.vsix'))) rmSync(join(distDir, old));
  const tfx = join(root, 'node_modules', 'tfx-cli', '_build', 'tfx-cli.js');
  const output = execFileSync(
    process.execPath,
    [tfx, 'extension', 'create', '--root', stageDir, '--manifest-globs', 'vss-extension.json',
      '--output-path', distDir, '--no-prompt', '--json'],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(output.slice(output.indexOf('{'))).path;
}

export function packageExtension() {
  const manifest = readJson(join(root, 'vss-extension.json'));
  const folders = taskFolders();
  const found = problems(manifest, folders);
  if (found.length > 0) throw new Error(`The extension cannot be packaged:\n  ${found.join('\n  ')}`);
  stage(manifest, folders);
  const vsix = createVsix();
  return { vsix, bytes: statSync(vsix).size, tasks: folders.map((f) => basename(f)), version: manifest.version };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const versionAt = process.argv.indexOf('--version');
  if (versionAt > 0) setVersion(process.argv[versionAt + 1] ?? '');
  try {
    const result = packageExtension();
    console.log(
      `${relative(root, result.vsix)}: ${(result.bytes / 1024 / 1024).toFixed(2)} MB, version ${result.version}, ` +
        `${result.tasks.length} task(s): ${result.tasks.join(', ')}`,
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
