import * as assert from 'node:assert/strict';
import { runSteps, Step, StepOutcome } from '../../core/steps';

interface Trace {
  events: string[];
}

function step(name: string, behaviour: { fail?: boolean; abort?: AbortController; cleanupFails?: boolean } = {}): Step<Trace> {
  return {
    name,
    async run(state) {
      state.events.push(`run ${name}`);
      if (behaviour.abort) {
        behaviour.abort.abort();
        const error = new Error('aborted');
        error.name = 'AbortError';
        throw error;
      }
      if (behaviour.fail) throw new Error(`${name} failed`);
    },
    async cleanup(state, outcome: StepOutcome) {
      state.events.push(`cleanup ${name} ${outcome}`);
      if (behaviour.cleanupFails) throw new Error(`cleanup ${name} failed`);
    },
  };
}

describe('runSteps', () => {
  it('runs steps in order and cleans up in reverse on success', async () => {
    const state: Trace = { events: [] };
    const outcome = await runSteps([step('grant'), step('copy')], state);
    assert.equal(outcome, 'succeeded');
    assert.deepEqual(state.events, ['run grant', 'run copy', 'cleanup copy succeeded', 'cleanup grant succeeded']);
  });

  it('cleans up every started step, including the one that failed, and rethrows', async () => {
    const state: Trace = { events: [] };
    await assert.rejects(runSteps([step('grant'), step('copy', { fail: true }), step('create')], state), /copy failed/);
    assert.deepEqual(state.events, ['run grant', 'run copy', 'cleanup copy failed', 'cleanup grant failed']);
  });

  it('reports a cancel as cancelled to cleanups and starts no further step', async () => {
    const state: Trace = { events: [] };
    const controller = new AbortController();
    await assert.rejects(
      runSteps([step('grant'), step('copy', { abort: controller }), step('create')], state, { signal: controller.signal }),
      { name: 'AbortError' },
    );
    assert.deepEqual(state.events, ['run grant', 'run copy', 'cleanup copy cancelled', 'cleanup grant cancelled']);
  });

  it('does not start when already cancelled', async () => {
    const state: Trace = { events: [] };
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(runSteps([step('grant')], state, { signal: controller.signal }));
    assert.deepEqual(state.events, []);
  });

  it('runs the remaining cleanups when one cleanup fails, and fails a run that had succeeded', async () => {
    const state: Trace = { events: [] };
    const cleanupErrors: string[] = [];
    await assert.rejects(
      runSteps([step('grant'), step('copy', { cleanupFails: true })], state, {
        onCleanupError: (name) => cleanupErrors.push(name),
      }),
      /cleanup copy failed/,
    );
    assert.deepEqual(state.events, ['run grant', 'run copy', 'cleanup copy succeeded', 'cleanup grant succeeded']);
    assert.deepEqual(cleanupErrors, ['copy']);
  });

  it('keeps the run error when a cleanup also fails', async () => {
    const state: Trace = { events: [] };
    await assert.rejects(runSteps([step('grant', { cleanupFails: true }), step('copy', { fail: true })], state), /copy failed/);
  });
});
