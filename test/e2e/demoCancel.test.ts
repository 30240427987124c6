import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Whether any process of the process group `pgid` is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ctrl+C on the quick start's demo, as a terminal sends it: SIGINT to the whole foreground process group
 * (the demo, the local Azure it started, the task it runs). The running task must stop first and clean
 * up against a local Azure that is still there, then the local Azure stops, with one clear message and
 * no stack trace.
 */
describe('quick-start demo cancelled with Ctrl+C', function () {
  this.timeout(120_000);

  it('stops the running task first, then the local Azure, and ends promptly with exit code 130', async function () {
    if (process.platform === 'win32') this.skip();
    // A process group of its own, so that the test can signal it as a terminal signals its foreground group.
    const demo = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs')], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let signalledAt = 0;
    let atSignal = 0;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => demo.on('close', (code, signal) => resolve({ code, signal })));
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // Mid-run: DistributeImages has printed its plan and its copies are under way.
      if (!signalledAt && /== \d+\/\d+ [^\n]*\(DistributeImages\)[\s\S]*\[\s*\d+%\]/.test(output)) {
        signalledAt = Date.now();
        atSignal = output.length;
        process.kill(-demo.pid!, 'SIGINT');
      }
    };
    demo.stdout!.on('data', onData);
    demo.stderr!.on('data', onData);
    const watchdog = setTimeout(() => process.kill(-demo.pid!, 'SIGKILL'), 110_000);
    const { code, signal } = await exited;
    clearTimeout(watchdog);

    assert.ok(signalledAt, `DistributeImages never got under way:\n${output.slice(-3000)}`);
    const tookMs = Date.now() - signalledAt;
    const after = output.slice(atSignal);
    assert.equal(signal, null, `killed by ${signal}:\n${after}`);
    assert.equal(code, 130, `exit code ${code}:\n${after}`);
    assert.ok(tookMs < 15_000, `ended ${tookMs} ms after Ctrl+C:\n${after}`);
    assert.doesNotMatch(after, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace:\n${after}`);
    assert.doesNotMatch(after, /ECONNREFUSED|ECONNRESET|Unhandled|uncaught/i, after);
    assert.match(after, /result: Cancelled/, 'DistributeImages ended Cancelled, having cleaned up');
    assert.match(after, /demo was cancelled/i);
    assert.doesNotMatch(after, /\((CleanUpFactory|RetireImages|PublishImageCatalog)\) ==/, 'no later stage starts');
    // Nothing of the demo is left running: the local Azure stopped with it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(groupAlive(demo.pid!), false, 'a process of the demo is still running');
  });
});
