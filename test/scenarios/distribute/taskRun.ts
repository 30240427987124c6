import * as assert from 'node:assert/strict';
import type { LabSnapshot, StateSnapshot } from '../../../local-azure/control';
import type { LocalAzureProcess, MetricsSnapshot } from '../../helpers/localAzure';
import { type StartedTask, type TaskRun, startTask } from '../../helpers/taskProcess';
import { FACTORY } from './factory';

/** DistributeImages run as the agent runs it, and what the tests read of the local Azure's state. */

export interface Finished extends TaskRun {
  /** task.setprogress: percent and activity. */
  steps: { percent: number; activity: string }[];
  durationMs: number;
}

export function runDistribute(azure: LocalAzureProcess, inputs: Record<string, string>, onLine?: (line: string) => void): StartedTask & { finished: Promise<Finished> } {
  const steps: Finished['steps'] = [];
  const started = Date.now();
  const task = startTask(
    'DistributeImages',
    { azureSubscription: azure.connectionId, DevTestLabName: FACTORY.name, ...inputs },
    azure.env,
    {
      onLine: (line) => {
        const step = /^##vso\[task\.setprogress value=(\d+);?\](.*)$/.exec(line);
        if (step) steps.push({ percent: Number(step[1]), activity: step[2] });
        onLine?.(line);
      },
    },
  );
  return { ...task, finished: task.done.then((run) => ({ ...run, steps, durationMs: Date.now() - started })) };
}

export const lab = (state: StateSnapshot, name: string): LabSnapshot => {
  const found = state.labs.find((l) => l.name === name);
  assert.ok(found, `lab ${name} is in the state`);
  return found;
};
export const imageNames = (l: LabSnapshot) => l.customImages.map((i) => i.name).sort();
export const stagingBlobs = (state: StateSnapshot) =>
  state.labs.flatMap((l) => l.blobs.filter((b) => b.name.startsWith('staging-')).map((b) => `${l.name}/${b.name} (${b.copyStatus})`));
export const unfinishedImages = (state: StateSnapshot) =>
  state.labs.flatMap((l) => l.customImages.filter((i) => i.provisioningState !== 'Succeeded').map((i) => `${l.name}/${i.name} ${i.provisioningState}`));
/** Resource Manager calls, LRO polls and blob storage aside. */
export const armCalls = (m: MetricsSnapshot, operation?: string) =>
  Object.entries(m.byOperation)
    .filter(([op]) => (operation ? op === operation : /^(Labs|CustomImages|VirtualMachines|Disks)_/.test(op)))
    .reduce((sum, [, n]) => sum + n, 0);

/** Sends `signal` to a running task once the local Azure's state meets `condition`. */
export async function interruptWhen(
  azure: LocalAzureProcess,
  task: ReturnType<typeof runDistribute>,
  condition: (state: StateSnapshot) => boolean,
  signal: NodeJS.Signals,
  what: string,
): Promise<{ run: Finished; tookMs: number }> {
  for (const deadline = Date.now() + 20_000; !condition(await azure.state()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > deadline) {
      task.child.kill('SIGKILL');
      throw new Error(`never saw ${what}`);
    }
  }
  const signalled = Date.now();
  task.child.kill(signal);
  const run = await task.finished;
  return { run, tookMs: Date.now() - signalled };
}

