// Runs mocha (arguments passed through) with the local Azure's test CA trusted, so tests that call the
// local Azure over HTTPS from the test process itself verify its certificates like any other.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { loadOrCreateCa } = require(path.join(root, 'out', 'local-azure', 'certs.js'));

const caDir = path.join(root, '.local-azure', 'ca');
const ca = await loadOrCreateCa(caDir);

// Tasks run by the tests write task-lib's .taskkey and their summaries into the agent's temporary folder, as on
// an agent; without one task-lib would write .taskkey into the working copy.
const agentTemp = mkdtempSync(path.join(tmpdir(), 'factory-tests-agent-'));

const mocha = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'mocha.cmd' : 'mocha');
const child = spawn(mocha, process.argv.slice(2), {
  cwd: root,
  stdio: 'inherit',
  env: { AGENT_TEMPDIRECTORY: agentTemp, ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  rmSync(agentTemp, { recursive: true, force: true });
  process.exitCode = code ?? (signal ? 1 : 0);
});
