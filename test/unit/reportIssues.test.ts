import * as assert from 'node:assert/strict';
import { type Issue, MemoryReporter, reportIssues } from '../../core/report';

const issue = (code: string, n: number, severity: Issue['severity'] = 'error'): Issue => ({ severity, code, message: `${code} number ${n}` });
const many = (code: string, count: number, severity: Issue['severity'] = 'error') => Array.from({ length: count }, (_, n) => issue(code, n, severity));

describe('reportIssues', () => {
  it('prints every issue when there are few, in their order', () => {
    const reporter = new MemoryReporter();
    const issues = [issue('IF1004', 1), issue('IF1007', 1, 'warning'), issue('IF1004', 2)];
    reportIssues(reporter, issues);
    assert.deepEqual(reporter.issues, issues);
  });

  it('prints the first N of each code and severity, then one issue counting the rest', () => {
    const reporter = new MemoryReporter();
    reportIssues(reporter, [...many('IF1007', 100_000), ...many('IF1004', 3), ...many('IF1011', 7, 'warning')], { perCode: 5 });
    assert.deepEqual(
      reporter.issues.map((i) => `${i.severity} ${i.message}`),
      [
        ...[0, 1, 2, 3, 4].map((n) => `error IF1007 number ${n}`),
        ...[0, 1, 2].map((n) => `error IF1004 number ${n}`),
        ...[0, 1, 2, 3, 4].map((n) => `warning IF1011 number ${n}`),
        'error ...and 99995 more IF1007 error(s) like the above, not shown (100000 in all); every one was checked.',
        'warning ...and 2 more IF1011 warning(s) like the above, not shown (7 in all); every one was checked.',
      ],
    );
    assert.equal(reporter.issues[13].code, 'IF1007');
  });

  it('caps debug output the same way', () => {
    const reporter = new MemoryReporter();
    reportIssues(reporter, [...many('IF1011', 60, 'warning'), issue('IF1007', 0)], { asDebug: (i) => i.severity === 'warning' });
    assert.equal(reporter.debugLines.length, 51);
    assert.equal(reporter.debugLines[50], '[IF1011] ...and 10 more IF1011 warning(s) like the above, not shown (60 in all); every one was checked.');
    assert.deepEqual(reporter.issues.map((i) => i.code), ['IF1007']);
  });

  it('handles 150,000 issues of one code without overflowing the stack', () => {
    const reporter = new MemoryReporter();
    reportIssues(reporter, many('IF1007', 150_000));
    assert.equal(reporter.issues.length, 51);
  });
});
