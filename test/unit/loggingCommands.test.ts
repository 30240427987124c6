import * as assert from 'node:assert/strict';
import { TaskCommand } from 'azure-pipelines-task-lib/taskcommand';
import { loggingCommands, parseLoggingCommand } from '../helpers/loggingCommands';

/** What task-lib writes for a command, so the reading is checked against the real escaping. */
const written = (command: string, properties: Record<string, string>, data: string) => new TaskCommand(command, properties, data).toString();

describe('logging commands read from a task output', () => {
  it("reads back what task-lib writes, with task-lib's escaping undone", () => {
    const properties = { type: 'error', code: 'IF1003', sourcepath: 'C:\\a;b]c\\50%0A.json', linenumber: '3' };
    const data = "line one\r\nline two: 100% done, [IF1003] ';' and ']' kept, a literal %0A and %AZP25";
    assert.deepEqual(parseLoggingCommand(written('task.logissue', properties, data)), { command: 'task.logissue', properties, data });
  });

  it('reads a command without properties or data', () => {
    assert.deepEqual(parseLoggingCommand(written('task.setsecret', {}, 's3cr3t')), { command: 'task.setsecret', properties: {}, data: 's3cr3t' });
    assert.deepEqual(parseLoggingCommand('##vso[task.complete result=Succeeded;]'), { command: 'task.complete', properties: { result: 'Succeeded' }, data: '' });
  });

  it('passes over lines that are not logging commands', () => {
    assert.equal(parseLoggingCommand('Checking the image factory configuration'), undefined);
    assert.equal(parseLoggingCommand('##[debug]task result: Succeeded'), undefined);
  });

  it('finds a command anywhere in a line, as the agent does', () => {
    assert.deepEqual(parseLoggingCommand('  ##vso[task.complete result=Failed;]indented'), { command: 'task.complete', properties: { result: 'Failed' }, data: 'indented' });
    assert.deepEqual(parseLoggingCommand("VM 'x' (ImagePath 'a ##vso[task.setvariable variable=X]y')")?.properties, { variable: 'X' });
    assert.equal(parseLoggingCommand('##VSO[task.complete result=Failed;]'), undefined, 'the prefix is case-sensitive');
  });

  it('lists the commands of an output in order, CRLF or LF', () => {
    const output = ['plain', written('task.setprogress', { value: '50' }, 'half'), '', written('task.complete', { result: 'Failed' }, 'no')].join('\r\n');
    assert.deepEqual(
      loggingCommands(`${output}\n`).map((c) => [c.command, c.data]),
      [
        ['task.setprogress', 'half'],
        ['task.complete', 'no'],
      ],
    );
  });
});
