// Bundles each task (a folder of tasks/ with a task.json) into one file, index.js, beside its task.json.
// The agent runs that file with its Node20_1 or Node24 handler, so the bundle targets Node 20.
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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
        // A source map beside each bundle, without the sources themselves (small), so that an internal
        // error's stack names the TypeScript file and line (tasks/common/stack.ts reads it only then).
        sourcemap: 'linked',
        sourcesContent: false,
        // Some dependencies ship ES modules that locate themselves with import.meta.url; in the CommonJS
        // bundle that is the bundle file's own URL.
        define: { 'import.meta.url': '__bundleUrl' },
        banner: { js: 'var __bundleUrl=require("node:url").pathToFileURL(__filename).href;' },
        logLevel: 'warning',
        plugins: [withoutStorageCrc64],
      }),
    ),
  );
  const failed = folders.filter((_, i) => results[i].status === 'rejected');
  if (failed.length > 0) throw new Error(`Bundling failed for: ${failed.join(', ')}`);
  for (const folder of folders) keepOwnMappings(join(folder, 'index.js.map'));
  return folders;
}

/**
 * Storage's CRC64 content validation, an 83 KB WebAssembly build (45 KB compressed in each of six bundles,
 * a tenth of the .vsix), runs only when a blob call asks for contentChecksumAlgorithm 'StorageCrc64' or
 * 'Auto', and the tasks never do: they copy blobs server-side and read no blob content. It is left out of
 * the bundles; a call that asked for it would fail with this message, never go unchecked.
 */
const withoutStorageCrc64 = {
  name: 'without-storage-crc64',
  setup(build) {
    build.onLoad({ filter: /[\\/]@azure[\\/]storage-common[\\/]dist[\\/]esm[\\/]crc64\.js$/ }, () => ({
      contents:
        'export default function NativeCRC64() { return Promise.reject(new Error("CRC64 content validation is not bundled with this task (scripts/build.mjs).")); }',
      loader: 'js',
    }));
  },
};

/**
 * Keeps every mapping into the product's own sources and, of the dependencies (most of each bundle),
 * only where a run of their code starts: a stack names the factory's TypeScript files and lines, and the
 * maps, and the .vsix, stay small. The start of a dependency's run is kept (rather than left out, or
 * marked unmapped, which Node's reader takes for the source before it) so that its code is never taken for
 * the product code before it; tasks/common/stack.ts leaves such frames as they are.
 */
export function keepOwnMappings(file) {
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const own = map.sources.map((source) => !isDependency(source));
  const sources = [];
  const sourceIndex = new Map();
  const names = [];
  const nameIndex = new Map();
  const indexOf = (list, index, value) => {
    if (!index.has(value)) index.set(value, list.push(value) - 1);
    return index.get(value);
  };
  const mappings = decode(map.mappings).map((segments) => {
    const kept = [];
    let unmapped = false;
    for (const segment of segments) {
      if (segment.length === 1) {
        kept.push(segment);
        continue;
      }
      const [column, source, line, sourceColumn, name] = segment;
      const mapped = [column, indexOf(sources, sourceIndex, fromRoot(file, map.sources[source])), line, sourceColumn];
      if (!own[source]) {
        if (!unmapped) kept.push(mapped);
        unmapped = true;
        continue;
      }
      unmapped = false;
      if (name !== undefined) mapped.push(indexOf(names, nameIndex, map.names[name]));
      kept.push(mapped);
    }
    return kept;
  });
  // Sources named from the repository root (`tasks/common/taskContext.ts`, `core/snap/apply.ts`), as the
  // product names its files, with the root relative to the map so that tools still find them.
  const sourceRoot = relative(dirname(file), root).split(sep).join('/');
  writeFileSync(file, JSON.stringify({ version: 3, sourceRoot: `${sourceRoot}/`, sources, names, mappings: encode(mappings) }));
}

const isDependency = (source) => /(^|\/)node_modules\//.test(source);

function fromRoot(mapFile, source) {
  return relative(root, resolve(dirname(mapFile), source)).split(sep).join('/');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const folders = await buildTasks();
  console.log(`Bundled ${folders.length} task(s): ${folders.map((f) => f.split(/[\\/]/).pop()).join(', ')}`);
}
