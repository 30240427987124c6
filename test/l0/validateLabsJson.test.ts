import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockTestRunner } from 'azure-pipelines-task-lib/mock-test';
import { labVmTemplate, removeConfiguration, writeConfiguration } from '../fixtures/config/configurationFolder';
import { type LoggingCommand, loggingCommands } from '../helpers/loggingCommands';

const repoRoot = path.resolve(__dirname, '../../..');
const bundle = path.join(repoRoot, 'tasks', 'ValidateLabsJson', 'index.js');
const SUB = '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310';

interface Run {
  result?: string;
  stdout: string;
  commands: LoggingCommand[];
  errors: LoggingCommand[];
  warnings: LoggingCommand[];
  outputs: Record<string, string>;
  summary?: string;
}

const TEMPLATES = {
  'GoldenImages/Windows/Server2022.json': labVmTemplate('Windows'),
  'GoldenImages/Linux/Ubuntu2204.json': labVmTemplate('Linux'),
};
const labsJson = (labs: unknown[]) => `${JSON.stringify({ Labs: labs }, null, 2)}\n`;
const lab = (name: string, imagePaths: unknown, more: Record<string, unknown> = {}) => ({ SubscriptionId: SUB, LabName: name, ImagePaths: imagePaths, ...more });

describe('ValidateLabsJson (L0, the bundled task)', function () {
  this.timeout(60_000);
  let agentTemp: string;
  const made: string[] = [];
  const saved = process.env.AGENT_TEMPDIRECTORY;

  before(() => {
    assert.ok(fs.existsSync(bundle), `${bundle} is missing: run npm run build`);
    // task-lib keeps its .taskkey in the agent's temporary folder; the summary file goes there too.
    agentTemp = fs.mkdtempSync(path.join(os.tmpdir(), 'validate-l0-agent-'));
    process.env.AGENT_TEMPDIRECTORY = agentTemp;
  });
  after(() => {
    if (saved === undefined) delete process.env.AGENT_TEMPDIRECTORY;
    else process.env.AGENT_TEMPDIRECTORY = saved;
    fs.rmSync(agentTemp, { recursive: true, force: true });
    while (made.length > 0) removeConfiguration(made.pop()!);
  });

  function configuration(files: Record<string, unknown>): string {
    const location = writeConfiguration(files);
    made.push(location);
    return location;
  }

  async function run(location: string | undefined): Promise<Run> {
    process.env.VALIDATE_CONFIGURATION_LOCATION = location ?? '';
    try {
      const runner = new MockTestRunner(path.join(__dirname, 'validateLabsJson.run.js'));
      runner.nodePath = process.execPath;
      await runner.runAsync();
      const commands = loggingCommands(runner.stdout);
      const outputs: Record<string, string> = {};
      for (const c of commands) if (c.command === 'task.setvariable' && c.properties.isOutput === 'true') outputs[c.properties.variable] = c.data;
      const summaryFile = commands.find((c) => c.command === 'task.uploadsummary')?.data;
      return {
        result: commands.find((c) => c.command === 'task.complete')?.properties.result,
        stdout: runner.stdout,
        commands,
        errors: commands.filter((c) => c.command === 'task.logissue' && c.properties.type === 'error'),
        warnings: commands.filter((c) => c.command === 'task.logissue' && c.properties.type === 'warning'),
        outputs,
        summary: summaryFile && fs.existsSync(summaryFile) ? fs.readFileSync(summaryFile, 'utf8') : undefined,
      };
    } finally {
      delete process.env.VALIDATE_CONFIGURATION_LOCATION;
    }
  }

  /** Asserts a failed run whose only error has `code`, names `file`, and shows no stack trace. */
  function assertFailedWith(run: Run, code: string, file: string, position?: { line: number; column: number }): LoggingCommand {
    assert.equal(run.result, 'Failed', run.stdout);
    assert.equal(run.errors.length, 1, run.stdout);
    const [error] = run.errors;
    assert.equal(error.properties.code, code);
    assert.ok(error.data.startsWith(`[${code}] `), error.data);
    assert.equal(error.properties.sourcepath, file);
    if (position) {
      assert.equal(error.properties.linenumber, String(position.line));
      assert.equal(error.properties.columnnumber, String(position.column));
    }
    assert.doesNotMatch(run.stdout, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace for a user mistake');
    assert.match(run.stdout, /^ValidateLabsJson: 1 error, 0 warnings \(/m);
    return error;
  }

  it('succeeds on the sample configuration, with a summary, the counts and output variables', async () => {
    const result = await run(path.join(repoRoot, 'Configuration'));
    assert.equal(result.result, 'Succeeded', result.stdout);
    assert.deepEqual([result.errors, result.warnings], [[], []]);
    assert.match(result.stdout, /^6 labs in 2 subscriptions, 5 templates:$/m);
    assert.match(result.stdout, /^ {2}WindowsServer\/Server2022-Datacenter\.json \(Windows\): selected by 2 labs$/m);
    assert.match(result.stdout, /^ {2}SQLServer\/SQL2022-Developer\.json \(Windows\): selected by 1 lab$/m);
    assert.match(result.stdout, /^ {2}Windows11\/Enterprise\.json \(Windows\): selected by 3 labs$/m);
    assert.match(result.stdout, /^ValidateLabsJson: 0 errors, 0 warnings \(6 labs and 5 templates checked\)\.$/m);
    assert.deepEqual(result.outputs, { LabCount: '6', TemplateCount: '5' });
    assert.ok(result.summary, 'a summary was uploaded');
    assert.match(result.summary!, /^\| Linux\/Ubuntu2204\.json \| Linux \| Canonical 0001-com-ubuntu-server-jammy 22_04-lts latest \| 3 \|$/m);
  });

  it('succeeds with issues when a template is selected by no lab', async () => {
    const location = configuration({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows'])]) });
    const result = await run(location);
    assert.equal(result.result, 'SucceededWithIssues', result.stdout);
    assert.deepEqual(result.errors, []);
    assert.equal(result.warnings.length, 1);
    assert.equal(result.warnings[0].properties.code, 'IF1011');
    assert.equal(result.warnings[0].properties.sourcepath, path.join(location, 'GoldenImages', 'Linux', 'Ubuntu2204.json'));
    assert.match(result.warnings[0].data, /^\[IF1011\] Configuration\/GoldenImages\/Linux\/Ubuntu2204\.json: no lab in labs\.json selects this template/);
    assert.match(result.stdout, /^ValidateLabsJson: 0 errors, 1 warning \(1 lab and 2 templates checked\)\.$/m);
    assert.deepEqual(result.outputs, { LabCount: '1', TemplateCount: '2' });
  });

  it('fails when ConfigurationLocation is not given', async () => {
    const result = await run(undefined);
    assert.equal(result.result, 'Failed');
    assert.equal(result.errors.length, 1, result.stdout);
    assert.equal(result.errors[0].data, "[IF1012] The input 'ConfigurationLocation' is required. Fix: Set 'ConfigurationLocation' in the task's inputs.");
  });

  it('fails on a configuration folder, labs.json or GoldenImages that is not there (IF1001, IF1002, IF1008)', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-configuration');
    assertFailedWith(await run(missing), 'IF1001', missing);

    const noLabs = configuration(TEMPLATES);
    const labsError = assertFailedWith(await run(noLabs), 'IF1002', path.join(noLabs, 'labs.json'));
    assert.match(labsError.data, /^\[IF1002\] Configuration\/labs\.json: labs\.json does not exist\. Fix: Add labs\.json/);

    const noGolden = configuration({ 'labs.json': labsJson([]) });
    fs.rmSync(path.join(noGolden, 'GoldenImages'), { recursive: true });
    assertFailedWith(await run(noGolden), 'IF1008', path.join(noGolden, 'GoldenImages'));
  });

  it('fails on invalid JSON with the line and column (IF1003)', async () => {
    const location = configuration({ ...TEMPLATES, 'labs.json': '\uFEFF{\n  "Labs": [\n    { "LabName": "Dev" "ImagePaths": [] }\n  ]\n}\n' });
    const error = assertFailedWith(await run(location), 'IF1003', path.join(location, 'labs.json'), { line: 3, column: 24 });
    assert.match(error.data, /^\[IF1003\] Configuration\/labs\.json, line 3, column 24: labs\.json is not valid JSON: missing ',' between properties\./);
  });

  it('fails on a schema error naming the lab, path, found and expected (IF1004)', async () => {
    const location = configuration({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows', 'Linux'], { SubscriptionId: 'abc' })]) });
    const error = assertFailedWith(await run(location), 'IF1004', path.join(location, 'labs.json'), { line: 4, column: 25 });
    assert.match(error.data, /lab Labs\[0\] 'Dev', \$\.Labs\[0\]\.SubscriptionId: found "abc", expected a GUID/);
  });

  it('fails on a lab listed twice (IF1005)', async () => {
    const location = configuration({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows', 'Linux']), lab('dev', ['Linux'])]) });
    const error = assertFailedWith(await run(location), 'IF1005', path.join(location, 'labs.json'), { line: 11, column: 5 });
    assert.match(error.data, /the lab 'dev' in subscription 7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310 is listed again; it is already Labs\[0\] \(line 3\)/);
  });

  it('fails on an ImagePaths entry that escapes GoldenImages (IF1006) or selects nothing (IF1007)', async () => {
    const escaping = configuration({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows', 'Linux', '..\\Secrets'])]) });
    const invalid = assertFailedWith(await run(escaping), 'IF1006', path.join(escaping, 'labs.json'), { line: 9, column: 9 });
    assert.match(invalid.data, /\$\.Labs\[0\]\.ImagePaths\[2\]: the image path "\.\.\\\\Secrets" leads out of GoldenImages/);

    const nothing = configuration({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows', 'Linux/Ubuntu2204'])]) });
    const empty = assertFailedWith(await run(nothing), 'IF1007', path.join(nothing, 'labs.json'), { line: 8, column: 9 });
    assert.match(empty.data, /the image path "Linux\/Ubuntu2204" selects no template; .* Did you mean "Linux\/Ubuntu2204\.json"\?/);
  });

  it('fails on a template that is not JSON (IF1009), is not of the factory\'s shape (IF1010), or clashes in case (IF1013)', async () => {
    const labs = labsJson([lab('Dev', ['Windows', 'Linux'])]);
    const syntax = configuration({ ...TEMPLATES, 'GoldenImages/Linux/Broken.json': '{"resources": [}', 'labs.json': labs });
    assertFailedWith(await run(syntax), 'IF1009', path.join(syntax, 'GoldenImages', 'Linux', 'Broken.json'), { line: 1, column: 16 });

    const shape = configuration({
      ...TEMPLATES,
      'GoldenImages/Linux/NoOs.json': labVmTemplate('Linux', (vm) => delete (vm.properties.galleryImageReference as Record<string, unknown>).osType),
      'labs.json': labs,
    });
    const shapeError = assertFailedWith(await run(shape), 'IF1010', path.join(shape, 'GoldenImages', 'Linux', 'NoOs.json'), { line: 21, column: 34 });
    assert.match(shapeError.data, /^\[IF1010\] Configuration\/GoldenImages\/Linux\/NoOs\.json, line 21, column 34: galleryImageReference has no "osType", expected "Windows" or "Linux"\./);

    const clash = configuration({ ...TEMPLATES, 'GoldenImages/linux/ubuntu2204.json': labVmTemplate('Linux'), 'labs.json': labs });
    assertFailedWith(await run(clash), 'IF1013', path.join(clash, 'GoldenImages', 'linux', 'ubuntu2204.json'));
  });

  it('fails on a property written twice in one object of labs.json or of a template, naming both positions (IF1014)', async () => {
    const doubled = labsJson([lab('Dev', ['Windows', 'Linux'])]).replace('"ImagePaths": [', '"ImagePaths": ["Linux"],\n      "ImagePaths": [');
    const labs = configuration({ ...TEMPLATES, 'labs.json': doubled });
    const error = assertFailedWith(await run(labs), 'IF1014', path.join(labs, 'labs.json'), { line: 7, column: 7 });
    assert.match(error.data, /\$\.Labs\[0\]: the property "ImagePaths" is written twice in one object, at line 6, column 7 and at line 7, column 7/);

    const template = JSON.stringify(labVmTemplate('Linux'), null, 2).replace('"resources": [', '"resources": [],\n  "resources": [');
    const golden = configuration({ ...TEMPLATES, 'GoldenImages/Linux/Ubuntu2204.json': template, 'labs.json': labsJson([lab('Dev', ['Windows', 'Linux'])]) });
    const templateError = assertFailedWith(await run(golden), 'IF1014', path.join(golden, 'GoldenImages', 'Linux', 'Ubuntu2204.json'));
    assert.match(templateError.data, /\$: the property "resources" is written twice in one object/);
  });

  it('reports every problem of a run, then the count', async () => {
    const location = configuration({
      ...TEMPLATES,
      'GoldenImages/Tools/Broken.json': '[',
      'labs.json': labsJson([lab('Dev', ['Windows', 'Nothing']), lab('Dev', ['Linux'], { LabNmae: 'x' })]),
    });
    const result = await run(location);
    assert.equal(result.result, 'Failed');
    assert.deepEqual(result.errors.map((e) => e.properties.code), ['IF1007', 'IF1005', 'IF1004', 'IF1009']);
    assert.match(result.stdout, /^ValidateLabsJson: 4 errors, 0 warnings \(2 labs and 3 templates checked\)\.$/m);
    assert.deepEqual(result.outputs, {});
  });
});
