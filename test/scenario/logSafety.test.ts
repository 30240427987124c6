import * as assert from 'node:assert/strict';
import { LOGGING_COMMAND_PREFIX, outputLines, parseLoggingCommand } from '../helpers/loggingCommands';
import { type LocalAzureProcess, startLocalAzure } from '../helpers/localAzure';
import { describeRun, runTaskProcess, type TaskRun } from '../helpers/taskProcess';

/**
 * Values that come from Azure (VM tags, names, Azure's error messages) or from files reach the log, the
 * summary and output variables. Whatever they hold, they must not start a logging command (the agent
 * finds `##vso[` anywhere in a line) and must stay on one line; in the summary they must not break the
 * table or bring their own HTML.
 */
const SUB = '3a9c5e71-2b4d-4f68-9a0c-1e2d3f4a5b6c';
const LAB = 'Factory';
const INJECTION = '##vso[task.setvariable variable=Injected]pwned';

const VMS = [
  // A line break before the command: printed raw, the command would stand at the start of its own line.
  { name: 'tag-newline', tags: { ImagePath: `Win2016/Datacenter.json\n${INJECTION}` } },
  // A carriage return alone also ends a line for the agent.
  { name: 'tag-return', tags: { ImagePath: `Win2019/Core.json\r##vso[task.setvariable variable=Injected3]pwned` } },
  // No line break: the agent still finds the command in the middle of the line.
  { name: 'tag-inline', tags: { ImagePath: 'Linux/Ubuntu.json ##vso[task.setvariable variable=Injected2]pwned' }, powerState: 'running' },
  // Markup and a cell separator for the summary table.
  { name: 'tag-markup', tags: { ImagePath: 'Linux/<img src=x onerror=alert(1)>|x.json' }, powerState: 'running' },
];

/** Every logging command of the output, as the agent reads it, with the line it came from. */
function commands(run: TaskRun) {
  return outputLines(run.stdout)
    .map((line) => ({ line, command: parseLoggingCommand(line) }))
    .filter((entry): entry is { line: string; command: NonNullable<ReturnType<typeof parseLoggingCommand>> } => !!entry.command);
}

describe('values from Azure in the task log', function () {
  this.timeout(60_000);
  let azure: LocalAzureProcess;
  let run: TaskRun;

  before(async () => {
    azure = await startLocalAzure({
      scenario: {
        labs: [{ subscriptionId: SUB, resourceGroup: 'factory-rg', name: LAB, vms: VMS.map((vm) => ({ osType: 'Windows', diskSizeGB: 1, ...vm })) }],
        settings: { lroRetryAfterSeconds: 0 },
      },
    });
    run = await runTaskProcess('SnapImagesFromVMs', { DevTestLabName: LAB }, { ...azure.env, SYSTEM_DEBUG: 'true' });
  });
  after(async () => {
    await azure?.stop();
  });

  it('an ImagePath tag holding a line break and a logging command sets no variable', () => {
    assert.ok(run.result, describeRun(run));
    const variables = commands(run).filter((c) => c.command.command === 'task.setvariable').map((c) => c.command.properties.variable);
    assert.deepEqual(variables, ['SavedImageNames'], describeRun(run));
    for (const { line } of commands(run)) {
      assert.equal(line.indexOf(LOGGING_COMMAND_PREFIX), 0, `a logging command in the middle of a line: ${line}`);
      assert.equal(line.indexOf(LOGGING_COMMAND_PREFIX, 1), -1, `a second logging command in one line: ${line}`);
    }
  });

  it('prints each tag on one line: in plain lines, issues, debug lines and the result', () => {
    for (const { command } of commands(run)) {
      assert.doesNotMatch(command.data, /[\r\n\u2028\u2029\u0085]/, `${command.command} spans lines: ${JSON.stringify(command.data)}`);
    }
    const plan = run.lines.find((line) => line.includes("VM 'tag-newline'"));
    assert.ok(plan, `the plan names the VM:\n${run.lines.join('\n')}`);
    assert.match(plan, /Win2016\/Datacenter\.json.*task\.setvariable variable=Injected\]pwned/, 'the whole tag, on the VM line');
    const issue = run.issues.find((i) => i.message.includes("VM 'tag-newline'"));
    assert.ok(issue, 'the VM is reported');
    assert.match(issue.message, /Win2016\/Datacenter\.json.*task\.setvariable variable=Injected\]pwned/);
    assert.ok(run.issues.some((i) => i.message.includes("VM 'tag-inline'") && i.message.includes('task.setvariable variable=Injected2')));
    assert.ok(!outputLines(run.stdout).some((line) => line.startsWith('##[')), 'no line starts a formatting command');
  });

  it('keeps the summary table whole and free of the values\' markup', () => {
    const summary = run.summary ?? '';
    const rows = summary.split('\n').filter((line) => line.startsWith('|'));
    assert.ok(rows.length >= 2 + VMS.length, summary);
    const cellsOf = (row: string) => row.replace(/\\\|/g, '').split('|').length;
    for (const row of rows) assert.equal(cellsOf(row), cellsOf(rows[0]), `a row with another number of cells: ${row}`);
    assert.ok(VMS.every((vm) => rows.some((row) => row.startsWith(`| ${vm.name} |`))), `a row per VM:\n${summary}`);
    assert.doesNotMatch(summary, /<img/i, 'no HTML of a value reaches the summary');
    assert.match(summary, /&lt;img src=x onerror=alert\(1\)&gt;\\\|x\.json/);
  });
});
