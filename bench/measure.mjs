// What the benchmarks measure of a built task run as the agent runs it: its peak RSS, its wall time, and
// the Resource Manager requests the local Azure counted (long-running operation polls apart).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { startTask } = require('../out/test/helpers/taskProcess.js');

/** Peak RSS (VmHWM) of a running process, looked at every 100 ms until it ends; the stop function gives MB. */
export function watchPeakRss(pid) {
  let peakKb = 0;
  const look = () => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peakKb = Math.max(peakKb, kb);
    } catch {
      // The process has ended.
    }
  };
  const timer = setInterval(look, 100);
  return () => {
    clearInterval(timer);
    return peakKb / 1024;
  };
}

/** Runs a built task to its end: the run (taskProcess.ts), its wall time and the task process's peak RSS. */
export async function runMeasured(task, inputs, env, options = {}) {
  const started = Date.now();
  const running = startTask(task, inputs, env, options);
  const peakRss = watchPeakRss(running.child.pid);
  const run = await running.done;
  return { run, wallMs: Date.now() - started, peakRssMb: peakRss() };
}

// The local Azure's operations that are not Resource Manager's: the authority's, and blob storage's (`Blob_*`).
const NOT_ARM = new Set(['Token', 'OpenIdConfiguration', 'Jwks', 'Federation', 'ManagedIdentity', 'Authorize']);
// Following a long-running operation: its status, or a custom image read until it is made.
const LRO = new Set(['Operation_Status', 'CustomImages_Get']);

/** Resource Manager requests in a metrics snapshot (localAzure.ts `metrics()`): `polls` (LRO) and the other `calls`. */
export function armCalls(metrics) {
  let calls = 0;
  let polls = 0;
  for (const [operation, n] of Object.entries(metrics.byOperation)) {
    if (NOT_ARM.has(operation) || operation.startsWith('Blob_')) continue;
    if (LRO.has(operation)) polls += n;
    else calls += n;
  }
  return { calls, polls };
}
