// Runs the benchmarks and rewrites docs/benchmarks.md from their results.
//
//   npm run bench                       build, then run every bench/*.bench.mjs
//   npm run bench -- package distribute only those (file names without .bench.mjs)
//   npm run bench -- --quick            fewer repetitions, for a quick look (BENCH_QUICK=1)
//
// A benchmark is a file bench/<name>.bench.mjs that this driver runs as `node bench/<name>.bench.mjs`,
// one at a time, from the repository root, after the build (tasks bundled). It:
//   - prints its figures for a human as it goes (stdout and stderr pass through);
//   - writes its result to build/bench/<name>.json (BENCH_RESULT names the file; `writeResult(name, result)`
//     exported here does it, and `median`, `isQuick` help with repetitions):
//       {
//         "title": "Package size and cold start",            section heading
//         "description": "What is measured and how.",        markdown, optional
//         "figures": [                                        the headline numbers
//           { "name": ".vsix size", "value": 1.21, "unit": "MB",
//             "target": "< 3 MB", "met": true }               target and met optional
//         ],
//         "tables": [                                         optional detail tables
//           { "title": "Cold start per task", "columns": ["Task", "ms"], "rows": [["ValidateLabsJson", 120]] }
//         ],
//         "notes": "markdown"                                  optional
//       }
//   - exits non-zero when it cannot measure (its section in the document is then left as it was);
//   - honours BENCH_QUICK=1 by doing fewer repetitions.
// Each benchmark gets a section of docs/benchmarks.md between `<!-- bench:<name> -->` and
// `<!-- /bench:<name> -->`, stamped with the machine (CPUs, Node version) and date of its run; sections of
// benchmarks not run this time stay as they were. A missed target is marked in the document and listed at
// the end of the run, but does not fail it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const benchDir = join(root, 'bench');
const resultDir = join(root, 'build', 'bench');
const docFile = join(root, 'docs', 'benchmarks.md');

const HEADER = `# Benchmarks

Measured with \`npm run bench\` (every benchmark) or \`npm run bench -- <name>\` (one of them); the
benchmarks live in \`bench/\` and each section below says on which machine and when it was measured.
Targets are the product's requirements.

## What changed with the local Azure's limits on

The local Azure now enforces what Azure does (docs/local-azure.md): Resource Manager's token buckets per
principal, one source blob's throughput shared by every copy reading it, Storage Blob Data roles, fixed-VHD
checks. The DistributeImages section is measured under these limits, against a lower bound that reckons with
them; bench/distributeModel.mjs states the model (Azure's sizes and rates, time compressed by one factor).
`;

/** For benchmarks: writes the result where the driver expects it (also when a benchmark is run alone). */
export function writeResult(name, result) {
  const file = process.env.BENCH_RESULT || join(resultDir, `${name}.json`);
  mkdirSync(resolve(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export const isQuick = () => process.env.BENCH_QUICK === '1';

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function machine() {
  const cpu = cpus();
  return `${cpu.length} CPU(s) (${cpu[0]?.model.trim() ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GB RAM, ` +
    `Node ${process.version}, ${process.platform}/${process.arch}`;
}

const cell = (value) => String(value ?? '').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const table = (columns, rows) =>
  [`| ${columns.map(cell).join(' | ')} |`, `|${columns.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

function formatValue(figure) {
  const value = typeof figure.value === 'number' && !Number.isInteger(figure.value) ? figure.value.toFixed(2) : figure.value;
  return figure.unit ? `${value} ${figure.unit}` : String(value);
}

export function renderSection(name, result, { date, machine: where }) {
  const lines = [`<!-- bench:${name} -->`, `## ${result.title}`, ''];
  if (result.description) lines.push(result.description.trim(), '');
  lines.push(`Measured ${date} on ${where}.`, '');
  const figures = result.figures ?? [];
  if (figures.length > 0) {
    const withTargets = figures.some((f) => f.target);
    lines.push(
      table(
        withTargets ? ['Figure', 'Value', 'Target', 'Met'] : ['Figure', 'Value'],
        figures.map((f) => (withTargets ? [f.name, formatValue(f), f.target ?? '', f.met === undefined ? '' : f.met ? 'yes' : '**no**'] : [f.name, formatValue(f)])),
      ),
      '',
    );
  }
  for (const t of result.tables ?? []) {
    if (t.title) lines.push(`### ${t.title}`, '');
    lines.push(table(t.columns, t.rows), '');
  }
  if (result.notes) lines.push(result.notes.trim(), '');
  lines.push(`<!-- /bench:${name} -->`);
  return lines.join('\n');
}

/** The sections of the current document by benchmark name, in document order. */
function existingSections() {
  const sections = new Map();
  if (!existsSync(docFile)) return sections;
  const text = readFileSync(docFile, 'utf8');
  for (const match of text.matchAll(/<!-- bench:([\w.-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g)) sections.set(match[1], match[0]);
  return sections;
}

function available() {
  return readdirSync(benchDir).filter((f) => f.endsWith('.bench.mjs')).map((f) => f.slice(0, -'.bench.mjs'.length)).sort();
}

async function main() {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const all = available();
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    console.error(`No benchmark named ${unknown.join(', ')}. Benchmarks: ${all.join(', ')}.`);
    process.exitCode = 2;
    return;
  }
  const selected = names.length > 0 ? names : all;
  mkdirSync(resultDir, { recursive: true });
  const rendered = new Map();
  const stamp = { date: new Date().toISOString().slice(0, 10), machine: machine() };
  const failed = [];
  const missed = [];

  for (const name of selected) {
    const resultFile = join(resultDir, `${name}.json`);
    rmSync(resultFile, { force: true });
    console.log(`\n=== ${name} ===`);
    const run = spawnSync(process.execPath, [join(benchDir, `${name}.bench.mjs`)], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, BENCH_RESULT: resultFile, ...(quick ? { BENCH_QUICK: '1' } : {}) },
    });
    if (run.status !== 0 || !existsSync(resultFile)) {
      failed.push(`${name} (${run.status !== 0 ? `exit ${run.status ?? run.signal}` : 'no result file'})`);
      continue;
    }
    const result = JSON.parse(readFileSync(resultFile, 'utf8'));
    for (const f of result.figures ?? []) if (f.met === false) missed.push(`${name}: ${f.name} ${formatValue(f)} (target ${f.target})`);
    rendered.set(name, renderSection(name, result, stamp));
  }

  // Read the document only now: a long run must not drop a section written meanwhile. Keep the document's
  // order; benchmarks new to it go at the end, by name.
  const sections = existingSections();
  for (const [name, section] of rendered) sections.set(name, section);
  const body = [...sections.values()].join('\n\n');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(docFile, `${HEADER}\n${body}\n`);
  console.log(`\ndocs/benchmarks.md updated (${selected.length - failed.length} of ${selected.length} benchmark(s) measured).`);
  if (missed.length > 0) console.log(`Targets missed:\n  ${missed.join('\n  ')}`);
  if (failed.length > 0) {
    console.error(`Benchmarks that could not measure: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
