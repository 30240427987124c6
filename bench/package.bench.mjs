// Package size and cold start: how big the installable .vsix is, and how soon each task, started by the
// agent as `node <task folder>/index.js`, writes its first line. Tasks are run from the files the .vsix holds, in
// a folder with no node_modules, with the variables the agent sets and no inputs (so each ends at its
// first missing required input, which also gives the time to a result).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageExtension } from '../scripts/package.mjs';
import { isQuick, median, writeResult } from './run.mjs';

const VSIX_TARGET_MB = 3;
const COLD_START_TARGET_MS = 300;
const runs = isQuick() ? 3 : 9;

/** Starts `node <args>` and resolves with the ms to its first line of stdout and to its exit. */
function time(args, { cwd, env }) {
  return new Promise((resolveTime, reject) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'ignore'] });
    let firstLine;
    let output = '';
    child.stdout.on('data', (chunk) => {
      if (firstLine === undefined && chunk.includes(10)) firstLine = elapsed();
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', () => {
      const result = /##vso\[task\.complete result=(\w+)/.exec(output)?.[1];
      resolveTime({ firstLine: firstLine ?? elapsed(), exit: elapsed(), result });
    });
  });
}

const { vsix, bytes, tasks } = packageExtension();
const vsixMb = bytes / 1024 / 1024;
console.log(`${vsix}: ${bytes} bytes (${vsixMb.toFixed(2)} MB; target < ${VSIX_TARGET_MB} MB)`);

// The staged tree is exactly what the .vsix holds (package.mjs zips it as is).
const staged = join(process.cwd(), 'build', 'vsix', 'tasks');
const scratch = mkdtempSync(join(tmpdir(), 'cold-start-'));
const env = { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: scratch, ...(process.env.SYSTEMROOT ? { SYSTEMROOT: process.env.SYSTEMROOT } : {}) };

try {
  const nodeAlone = [];
  for (let i = 0; i < runs; i++) nodeAlone.push((await time(['-e', 'console.log(1)'], { cwd: scratch, env })).firstLine);
  const baseline = median(nodeAlone);
  console.log(`node alone, to its first line: ${baseline.toFixed(0)} ms (median of ${runs})`);

  const rows = [];
  for (const task of tasks) {
    const entry = join(staged, task, 'index.js');
    const firstLines = [];
    const exits = [];
    let result;
    for (let i = 0; i < runs; i++) {
      const t = await time([entry], { cwd: scratch, env });
      firstLines.push(t.firstLine);
      exits.push(t.exit);
      result = t.result;
    }
    const row = {
      task,
      bundleKb: statSync(entry).size / 1024,
      firstLine: median(firstLines),
      exit: median(exits),
      result: result ?? 'none',
    };
    rows.push(row);
    console.log(
      `${task}: bundle ${row.bundleKb.toFixed(0)} KB, first line ${row.firstLine.toFixed(0)} ms, ` +
        `result (${row.result}) ${row.exit.toFixed(0)} ms (medians of ${runs}; target < ${COLD_START_TARGET_MS} ms)`,
    );
  }

  const slowest = rows.reduce((a, b) => (b.firstLine > a.firstLine ? b : a));
  writeResult('package', {
    title: 'Package size and cold start',
    description:
      `\`npm run package\` output, and each task started as the agent starts it (\`node index.js\` from the ` +
      `packaged files, no node_modules, no inputs), timed from the spawn to its first line of output and to ` +
      `its result; medians of ${runs} runs. Without inputs a task ends at its first missing required input, so ` +
      `"to result" is start-up plus loading the whole bundle.`,
    figures: [
      { name: '.vsix size', value: Number(vsixMb.toFixed(2)), unit: 'MB', target: `< ${VSIX_TARGET_MB} MB`, met: vsixMb < VSIX_TARGET_MB },
      {
        name: `Slowest cold start to first line (${slowest.task})`,
        value: Math.round(slowest.firstLine),
        unit: 'ms',
        target: `< ${COLD_START_TARGET_MS} ms`,
        met: slowest.firstLine < COLD_START_TARGET_MS,
      },
      { name: 'Node alone to first line (baseline)', value: Math.round(baseline), unit: 'ms' },
    ],
    tables: [
      {
        title: 'Per task',
        columns: ['Task', 'Bundle (KB)', 'To first line (ms)', 'To result (ms)', 'Result without inputs'],
        rows: rows.map((r) => [r.task, r.bundleKb.toFixed(0), r.firstLine.toFixed(0), r.exit.toFixed(0), r.result]),
      },
    ],
  });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
