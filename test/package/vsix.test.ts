import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type LoggingCommand, loggingCommands } from '../helpers/loggingCommands';
import { repoRoot, taskFolders } from './taskFolders';
import { readZip } from './zipReader';

/*
 * The installable extension, as a user gets it: dist/*.vsix, made by `npm run package`. The tasks run here
 * from the unpacked package, in a folder with no node_modules, with only the variables the agent sets.
 */

const distDir = path.join(repoRoot, 'dist');
// Each task bundles its own copy of the Azure SDK clients it uses (about 380 KB compressed; storage's CRC64
// WebAssembly and ajv left out, one build of the HTTP stack, scripts/build.mjs): seven tasks within the 3 MB
// target of bench/package.bench.mjs.
const MAX_VSIX_BYTES = 3 * 1024 * 1024;

interface Manifest { id: string; publisher: string; version: string }

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const manifest = readJson<Manifest>(path.join(repoRoot, 'vss-extension.json'));

/** Everything the package is made from; the package is stale when any of it is newer. */
function packageInputs(): string[] {
  const files = ['vss-extension.json', 'overview.md'].map((f) => path.join(repoRoot, f));
  for (const image of fs.readdirSync(path.join(repoRoot, 'images'))) files.push(path.join(repoRoot, 'images', image));
  for (const folder of taskFolders()) {
    for (const file of ['task.json', 'index.js', 'index.js.map', 'icon.png']) files.push(path.join(repoRoot, 'tasks', folder, file));
  }
  return files;
}

/** dist/<publisher>.<id>-<version>.vsix, packaged again unless it is newer than everything it holds. */
function freshVsix(): string {
  const vsix = path.join(distDir, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
  const newestInput = Math.max(...packageInputs().map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : Infinity)));
  if (!fs.existsSync(vsix) || fs.statSync(vsix).mtimeMs < newestInput) {
    const run = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'package.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(run.status, 0, `npm run package failed:\n${run.stdout}${run.stderr}`);
  }
  assert.ok(fs.existsSync(vsix), `${vsix} was not written`);
  return vsix;
}

interface TaskRun { stdout: string; result?: string; errors: LoggingCommand[]; warnings: LoggingCommand[]; outputs: Record<string, string> }

describe('the packaged extension (.vsix)', function () {
  this.timeout(120_000);
  let vsix: string;
  let entries: Map<string, Buffer>;
  let unpacked: string;
  let scratch: string;

  before(() => {
    vsix = freshVsix();
    entries = readZip(fs.readFileSync(vsix));
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vsix-test-'));
    unpacked = path.join(scratch, 'extension');
    for (const [name, data] of entries) {
      if (name.endsWith('/')) continue;
      fs.mkdirSync(path.dirname(path.join(unpacked, name)), { recursive: true });
      fs.writeFileSync(path.join(unpacked, name), data);
    }
  });
  after(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  it(`is smaller than ${MAX_VSIX_BYTES / 1024 / 1024} MB`, () => {
    const bytes = fs.statSync(vsix).size;
    assert.ok(bytes < MAX_VSIX_BYTES, `${path.basename(vsix)} is ${bytes} bytes`);
  });

  it('holds, per task, exactly task.json, the bundled index.js with its source map, and icon.png', () => {
    const files = [...entries.keys()].filter((name) => !name.endsWith('/'));
    const expectedTaskFiles = taskFolders().flatMap((t) => ['icon.png', 'index.js', 'index.js.map', 'task.json'].map((f) => `tasks/${t}/${f}`));
    assert.deepEqual(files.filter((f) => f.startsWith('tasks/')).sort(), expectedTaskFiles.sort());
    assert.deepEqual(files.filter((f) => !f.startsWith('tasks/')).sort(), [
      '[Content_Types].xml', 'extension.vsixmanifest', 'extension.vsomanifest', 'images/extension-icon.png', 'overview.md',
    ]);
  });

  it('declares each task where the agent looks for it, at the extension version', () => {
    const vso = JSON.parse(entries.get('extension.vsomanifest')!.toString('utf8')) as {
      contributions: { type: string; properties: { name: string } }[];
    };
    const contributed = vso.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task').map((c) => c.properties.name);
    assert.deepEqual(contributed.sort(), taskFolders().map((t) => `tasks/${t}`));
    for (const folder of contributed) {
      const task = JSON.parse(entries.get(`${folder}/task.json`)!.toString('utf8')) as {
        version: { Major: number; Minor: number; Patch: number };
        execution: Record<string, { target: string }>;
      };
      assert.equal(`${task.version.Major}.${task.version.Minor}.${task.version.Patch}`, manifest.version, folder);
      for (const handler of ['Node20_1', 'Node24']) {
        assert.ok(entries.has(`${folder}/${task.execution[handler].target}`), `${folder}: ${handler} target is not in the package`);
      }
    }
    const identity = /<Identity [^>]*Id="([^"]+)"[^>]*Publisher="([^"]+)"[^>]*Version="([^"]+)"/.exec(
      entries.get('extension.vsixmanifest')!.toString('utf8'),
    );
    assert.deepEqual(identity?.slice(1), [manifest.id, manifest.publisher, manifest.version]);
  });

  describe('ValidateLabsJson run from the unpacked package', () => {
    const goodConfiguration = path.join(repoRoot, 'Configuration');

    function runValidate(configurationLocation: string): TaskRun {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        INPUT_CONFIGURATIONLOCATION: configurationLocation,
        AGENT_TEMPDIRECTORY: fs.mkdtempSync(path.join(scratch, 'agent-temp-')),
      };
      if (process.env.SYSTEMROOT) env.SYSTEMROOT = process.env.SYSTEMROOT;
      const run = spawnSync(process.execPath, [path.join(unpacked, 'tasks', 'ValidateLabsJson', 'index.js')], {
        cwd: scratch,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const commands = loggingCommands(run.stdout);
      const issues = commands.filter((c) => c.command === 'task.logissue' || c.command === 'task.issue');
      const outputs: Record<string, string> = {};
      for (const c of commands) if (c.command === 'task.setvariable' && c.properties.isOutput === 'true') outputs[c.properties.variable] = c.data;
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+\(.+:\d+:\d+\)/, 'a stack trace reached the log');
      return {
        stdout: run.stdout,
        result: commands.filter((c) => c.command === 'task.complete').pop()?.properties.result,
        // task-lib repeats the result message as an uncoded TaskInternal issue; the problems are the coded ones.
        errors: issues.filter((c) => c.properties.type === 'error' && c.properties.code),
        warnings: issues.filter((c) => c.properties.type === 'warning' && c.properties.code),
        outputs,
      };
    }

    const codes = (issues: LoggingCommand[]) => [...new Set(issues.map((i) => i.properties.code))].sort();
    const mentioning = (issues: LoggingCommand[], code: string, ...words: string[]) =>
      issues.filter((i) => i.properties.code === code && words.every((w) => i.data.includes(w)));

    /** A configuration folder in the scratch space, with the first sample template as its valid one. */
    function configuration(name: string, labsJson: string, templates: Record<string, string> = {}): string {
      const folder = path.join(scratch, name);
      fs.mkdirSync(path.join(folder, 'GoldenImages'), { recursive: true });
      fs.writeFileSync(path.join(folder, 'labs.json'), labsJson);
      for (const [file, text] of Object.entries(templates)) {
        fs.mkdirSync(path.dirname(path.join(folder, 'GoldenImages', file)), { recursive: true });
        fs.writeFileSync(path.join(folder, 'GoldenImages', file), text);
      }
      return folder;
    }
    function sampleTemplate(): string {
      const walk = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.json') ? [path.join(dir, e.name)] : []));
      const templates = walk(path.join(goodConfiguration, 'GoldenImages')).sort();
      assert.ok(templates.length > 0, 'Configuration/GoldenImages holds no template');
      return fs.readFileSync(templates[0], 'utf8');
    }
    const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';

    it('passes the sample configuration and reports its counts', () => {
      const run = runValidate(goodConfiguration);
      assert.deepEqual(run.errors, [], run.stdout);
      assert.deepEqual(run.warnings, [], run.stdout);
      assert.equal(run.result, 'Succeeded', run.stdout);
      const labs = readJson<{ Labs: unknown[] }>(path.join(goodConfiguration, 'labs.json')).Labs.length;
      assert.equal(run.outputs.LabCount, String(labs));
      assert.match(run.outputs.TemplateCount ?? '', /^[1-9]\d*$/);
    });

    it('fails a configuration with mistakes, naming each one', () => {
      const folder = configuration(
        'bad-meaning',
        JSON.stringify({
          Labs: [
            { SubscriptionId: SUBSCRIPTION, LabName: 'TeamLab', ImagePaths: ['Windows/Server.json', 'Linux', '../Outside'] },
            { SubscriptionId: SUBSCRIPTION.toUpperCase(), LabName: 'teamlab', ImagePaths: ['Windows'] },
            { SubscriptionId: 'not-a-guid', LabName: 'OtherLab', ImagePaths: ['Windows'] },
            { SubscriptionId: SUBSCRIPTION, LabName: 'ThirdLab', ImagePahts: ['Windows'] },
          ],
        }, null, 2),
        { 'Windows/Server.json': sampleTemplate(), 'Windows/Broken.json': '{ "resources": [ ' },
      );
      const run = runValidate(folder);
      assert.equal(run.result, 'Failed', run.stdout);
      assert.ok(mentioning(run.errors, 'IF1005', 'teamlab').length > 0 || mentioning(run.errors, 'IF1005', 'TeamLab').length > 0, `duplicate lab not named:\n${run.stdout}`);
      assert.equal(mentioning(run.errors, 'IF1007', 'Linux').length, 1, `ImagePath selecting nothing not named:\n${run.stdout}`);
      assert.equal(mentioning(run.errors, 'IF1006', '../Outside').length, 1, `escaping ImagePath not named:\n${run.stdout}`);
      assert.ok(mentioning(run.errors, 'IF1004', 'not-a-guid').length > 0, `bad SubscriptionId not named:\n${run.stdout}`);
      assert.ok(mentioning(run.errors, 'IF1004', 'ImagePahts', 'ImagePaths').length > 0, `misspelt property without a suggestion:\n${run.stdout}`);
      assert.equal(mentioning(run.errors, 'IF1009', 'Broken.json').length, 1, `broken template not named:\n${run.stdout}`);
      for (const issue of run.errors) assert.ok(issue.properties.sourcepath, `no file on: ${issue.data}`);
    });

    it('fails labs.json that is not JSON, with the line and column', () => {
      const folder = configuration('bad-syntax', '{\n  "Labs": [\n    { "LabName": "A", }\n  ]\n}\n', { 'Server.json': sampleTemplate() });
      const run = runValidate(folder);
      assert.equal(run.result, 'Failed', run.stdout);
      assert.deepEqual(codes(run.errors), ['IF1003'], run.stdout);
      assert.equal(run.errors[0].properties.linenumber, '3', run.stdout);
      assert.ok(run.errors[0].properties.columnnumber, run.stdout);
      assert.match(run.errors[0].data, /labs\.json/);
    });

    it('warns about a template no lab selects and succeeds with issues', () => {
      const folder = configuration(
        'unselected',
        `\uFEFF${JSON.stringify({ Labs: [{ SubscriptionId: SUBSCRIPTION, LabName: 'TeamLab', ImagePaths: ['Used.json'] }] })}`,
        { 'Used.json': sampleTemplate(), 'Spare/Unused.json': sampleTemplate() },
      );
      const run = runValidate(folder);
      assert.deepEqual(run.errors, [], run.stdout);
      assert.equal(run.result, 'SucceededWithIssues', run.stdout);
      assert.deepEqual(codes(run.warnings), ['IF1011']);
      assert.match(run.warnings[0].data, /Unused\.json/);
    });

    it("reports an internal error with a stack that names the TypeScript sources, not the minified bundle", () => {
      // A defect injected where the task writes its summary: the task's own code is on the stack.
      const inject = path.join(scratch, 'inject-defect.js');
      fs.writeFileSync(
        inject,
        "const fs = require('node:fs'); const write = fs.writeFileSync;\n" +
          "fs.writeFileSync = function (file, ...rest) { if (String(file).includes('-summary-')) throw new TypeError('injected defect'); return write.call(this, file, ...rest); };\n",
      );
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        INPUT_CONFIGURATIONLOCATION: goodConfiguration,
        SYSTEM_DEBUG: 'true',
        AGENT_TEMPDIRECTORY: fs.mkdtempSync(path.join(scratch, 'agent-temp-')),
      };
      if (process.env.SYSTEMROOT) env.SYSTEMROOT = process.env.SYSTEMROOT;
      const entry = path.join(unpacked, 'tasks', 'ValidateLabsJson', 'index.js');
      const run = spawnSync(process.execPath, ['--require', inject, entry], { cwd: scratch, env, encoding: 'utf8', timeout: 60_000 });
      const commands = loggingCommands(run.stdout);
      const internal = commands.find((c) => c.command === 'task.logissue' && c.properties.code === 'IF9001');
      assert.ok(internal, run.stdout);
      assert.match(internal.data, /injected defect \(at tasks\/common\/taskContext\.ts:\d+\)/, 'the message names where in the sources');
      const stack = commands.filter((c) => c.command === 'task.debug').map((c) => c.data);
      assert.ok(stack.some((line) => /^\s+at .*\(tasks\/common\/taskContext\.ts:\d+:\d+\)$/.test(line)), stack.join('\n'));
      assert.ok(stack.some((line) => /^\s+at .*tasks\/ValidateLabsJson\/index\.ts:\d+:\d+\)?$/.test(line)), stack.join('\n'));
    });

    it('fails a configuration folder that does not exist, naming it', () => {
      const missing = path.join(scratch, 'no-such-configuration');
      const run = runValidate(missing);
      assert.equal(run.result, 'Failed', run.stdout);
      assert.deepEqual(codes(run.errors), ['IF1001'], run.stdout);
      assert.ok(run.errors[0].data.includes('no-such-configuration'), run.stdout);
    });
  });
});

// The package step itself refuses a manifest out of step with its tasks, before tfx-cli ever runs.
describe('npm run package', function () {
  this.timeout(60_000);

  it('refuses a task whose version is not the extension version, naming it', () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'package-test-'));
    try {
      for (const item of ['scripts', 'images', 'overview.md', 'vss-extension.json', 'package.json']) {
        fs.cpSync(path.join(repoRoot, item), path.join(copy, item), { recursive: true });
      }
      fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(copy, 'node_modules'), 'junction');
      for (const folder of taskFolders()) {
        fs.mkdirSync(path.join(copy, 'tasks', folder), { recursive: true });
        for (const file of ['task.json', 'icon.png']) fs.copyFileSync(path.join(repoRoot, 'tasks', folder, file), path.join(copy, 'tasks', folder, file));
        fs.writeFileSync(path.join(copy, 'tasks', folder, 'index.js'), '');
        fs.writeFileSync(path.join(copy, 'tasks', folder, 'index.js.map'), '{}');
      }
      const taskFile = path.join(copy, 'tasks', 'RetireImages', 'task.json');
      const task = readJson<{ version: { Minor: number } }>(taskFile);
      task.version.Minor += 1;
      fs.writeFileSync(taskFile, JSON.stringify(task));
      let failure = '';
      try {
        execFileSync(process.execPath, [path.join(copy, 'scripts', 'package.mjs')], { cwd: copy, encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        failure = String((error as { stderr?: string }).stderr);
      }
      assert.match(failure, /tasks\/RetireImages\/task\.json has version \d+\.\d+\.\d+ but the extension is/);
      assert.ok(!fs.existsSync(path.join(copy, 'dist')), 'a package was written anyway');
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  });
});
