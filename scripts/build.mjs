// Bundles each task (a folder of tasks/ with a task.json) into one file, index.js, beside its task.json.
// The agent runs that file with its Node20_1 or Node24 handler, so the bundle targets Node 20.
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');

export function taskFolders() {
  const tasksDir = join(root, 'tasks');
  return readdirSync(tasksDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(tasksDir, entry.name, 'task.json')))
    .map((entry) => join(tasksDir, entry.name));
}

export async function buildTasks() {
  const folders = taskFolders().filter((folder) => {
    if (existsSync(join(folder, 'index.ts'))) return true;
    console.warn(`warning: ${folder} has a task.json but no index.ts yet; not bundled`);
    return false;
  });
  const results = await Promise.allSettled(
    folders.map((folder) =>
      build({
        entryPoints: [join(folder, 'index.ts')],
        outfile: join(folder, 'index.js'),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        minify: true,
        legalComments: 'none',
        // Some dependencies ship ES modules that locate themselves with import.meta.url; in the CommonJS
        // bundle that is the bundle file's own URL.
        define: { 'import.meta.url': '__bundleUrl' },
        banner: { js: 'var __bundleUrl=require("node:url").pathToFileURL(__filename).href;' },
        logLevel: 'warning',
      }),
    ),
  );
  const failed = folders.filter((_, i) => results[i].status === 'rejected');
  if (failed.length > 0) throw new Error(`Bundling failed for: ${failed.join(', ')}`);
  return folders;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const folders = await buildTasks();
  console.log(`Bundled ${folders.length} task(s): ${folders.map((f) => f.split(/[\\/]/).pop()).join(', ')}`);
}
