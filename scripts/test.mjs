// Runs mocha (arguments passed through) with the local Azure's test CA trusted, so tests that call the
// local Azure over HTTPS from the test process itself verify its certificates like any other.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { loadOrCreateCa } = require(path.join(root, 'out', 'local-azure', 'certs.js'));

const caDir = path.join(root, '.local-azure', 'ca');
const ca = await loadOrCreateCa(caDir);

const mocha = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'mocha.cmd' : 'mocha');
const child = spawn(mocha, process.argv.slice(2), {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.certPath },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
