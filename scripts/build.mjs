// Bundles each task (a folder of tasks/ with a task.json) into one file, index.js, beside its task.json.
// The agent runs that file with its Node20_1 or Node24 handler, so the bundle targets Node 20.
import { decode, encode } from '@jridgewell/sourcemap-codec';
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  const precompiled = precompiledLabsValidator(labsValidatorCode());
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
        plugins: [withoutStorageCrc64, precompiled, oneBuildOfAzureCore],
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
 * labs.json's validator, compiled ahead of time: ajv's standalone code for the schema, made by the same
 * ajv setup the TypeScript build compiles it with at run time (core/config/labsValidator.ts, from out/,
 * which `npm run build` writes first; test/unit/labsValidator.test.ts holds the two to the same errors).
 * The bundles carry that code (and any ajv runtime helper it would require: none for this schema), not
 * ajv's compiler and its dependencies (about 125 KB in each bundle that reads labs.json), and start
 * without compiling.
 */
function labsValidatorCode() {
  const compiled = join(root, 'out', 'core', 'config', 'labsValidator.js');
  if (!existsSync(compiled)) throw new Error(`${relative(root, compiled)} is missing: run \`npm run build\` (tsc first).`);
  return createRequire(import.meta.url)(compiled).labsValidatorSource({ esm: true });
}

/** Bundles the precompiled validator where core/config/labsValidator.ts would compile one. */
function precompiledLabsValidator(validatorCode) {
  return {
    name: 'precompiled-labs-validator',
    setup(build) {
      build.onLoad({ filter: /[\\/]core[\\/]config[\\/]labsValidator\.ts$/ }, () => ({
        contents: [
          "export { default as labsSchema } from '../../Configuration/labs.schema.json';",
          'export function compileLabsValidator() { return validate; }',
          validatorCode,
        ].join('\n'),
        loader: 'js',
        resolveDir: join(root, 'core', 'config'),
      }));
    },
  };
}

/**
 * @azure/arm-devtestlabs ships CommonJS only, so its require() of @azure/core-client and
 * @azure/core-rest-pipeline took their CommonJS builds (and @typespec/ts-http-runtime's) while every
 * other SDK client imports their ES module builds: two copies of the HTTP stack in each bundle (about
 * 150 KB), whose classes and module state are not each other's. Resolving those requires as imports bundles
 * one, which the CommonJS code then requires as esbuild does any ES module.
 */
const oneBuildOfAzureCore = {
  name: 'one-build-of-azure-core',
  setup(build) {
    build.onResolve({ filter: /^@(azure|typespec)\// }, async (args) => {
      if (args.kind !== 'require-call' || args.pluginData?.asImport) return undefined;
      const resolved = await build.resolve(args.path, { kind: 'import-statement', importer: args.importer, resolveDir: args.resolveDir, pluginData: { asImport: true } });
      return resolved.errors.length > 0 ? undefined : { path: resolved.path, external: resolved.external, sideEffects: resolved.sideEffects };
    });
  },
};

/**
 * Keeps every mapping into the product's own sources and, of the dependencies (most of each bundle),
 * only where a run of their code starts: a stack names the factory's TypeScript files and lines, and the
 * maps, and the .vsix, stay small. The start of a dependency's run is kept (rather than left out, or
 * marked unmapped, which Node's reader takes for the source before it) so that its code is never taken for
 * the product code before it; tasks/common/stack.ts leaves such frames as they are. The original names of
 * minified identifiers are left out (a third of each compressed map): stack.ts puts back a frame's file,
 * line and column, never its function's name, and the product reads the maps for nothing else.
 */
export function keepOwnMappings(file) {
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const own = map.sources.map((source) => !isDependency(source));
  const sources = [];
  const sourceIndex = new Map();
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
      const [column, source, line, sourceColumn] = segment;
      const mapped = [column, indexOf(sources, sourceIndex, fromRoot(file, map.sources[source])), line, sourceColumn];
      if (!own[source]) {
        if (!unmapped) kept.push(mapped);
        unmapped = true;
        continue;
      }
      unmapped = false;
      kept.push(mapped);
    }
    return kept;
  });
  // Sources named from the repository root (`tasks/common/taskContext.ts`, `core/snap/apply.ts`), as the
  // product names its files, with the root relative to the map so that tools still find them.
  const sourceRoot = relative(dirname(file), root).split(sep).join('/');
  writeFileSync(file, JSON.stringify({ version: 3, sourceRoot: `${sourceRoot}/`, sources, names: [], mappings: encode(mappings) }));
}

const isDependency = (source) => /(^|\/)node_modules\//.test(source);

function fromRoot(mapFile, source) {
  return relative(root, resolve(dirname(mapFile), source)).split(sep).join('/');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const folders = await buildTasks();
  console.log(`Bundled ${folders.length} task(s): ${folders.map((f) => f.split(/[\\/]/).pop()).join(', ')}`);
}
