import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes } from '../../core/errors';

/*
 * docs/errors.md is where a user lands after searching for a code from a log: every code in ErrorCodes
 * has an entry `### <code> <Name>` under its range's heading, with a Cause and a Fix.
 */
const repoRoot = path.resolve(__dirname, '../../..');
const RANGES = [
  'IF1xxx Configuration',
  'IF2xxx Azure connection and access',
  'IF3xxx SnapImagesFromVMs',
  'IF4xxx DistributeImages',
  'IF5xxx RetireImages and CleanUpFactory',
  'IF6xxx MakeGoldenImageVMs',
  'IF7xxx Gallery route',
  'IF8xxx PublishImageCatalog',
  'IF9xxx Unexpected',
];

interface Entry {
  code: string;
  name: string;
  range: string;
  body: string;
}

function readEntries(): { ranges: string[]; entries: Entry[] } {
  const text = fs.readFileSync(path.join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const ranges: string[] = [];
  const entries: Entry[] = [];
  let current: Entry | undefined;
  for (const line of text.split(/\r?\n/)) {
    const range = /^## (.+?)\s*$/.exec(line);
    const entry = /^### (\S+) (\S+)\s*$/.exec(line);
    if (range) {
      ranges.push(range[1]);
      current = undefined;
    } else if (entry) {
      current = { code: entry[1], name: entry[2], range: ranges[ranges.length - 1] ?? '', body: '' };
      entries.push(current);
    } else if (line.startsWith('### ')) {
      throw new Error(`docs/errors.md: '${line}' is not of the form '### IF1234 Name'`);
    } else if (current) {
      current.body += `${line}\n`;
    }
  }
  return { ranges, entries };
}

describe('docs/errors.md', () => {
  const { ranges, entries } = readEntries();

  it('has one heading per range, in order', () => {
    assert.deepEqual(ranges, RANGES);
  });

  it('documents every error code under its range, with its name, a cause and a fix', () => {
    const problems: string[] = [];
    for (const [name, code] of Object.entries(ErrorCodes)) {
      const entry = entries.find((e) => e.code === code);
      if (!entry) {
        problems.push(`${code} ${name}: not documented`);
        continue;
      }
      if (entry.name !== name) problems.push(`${code}: documented as ${entry.name}, ErrorCodes calls it ${name}`);
      if (!entry.range.startsWith(`${code.slice(0, 3)}xxx `)) problems.push(`${code} ${name}: documented under '${entry.range}'`);
      if (!/^Cause( \(warning\))?: \S/m.test(entry.body)) problems.push(`${code} ${name}: no 'Cause:' line`);
      if (!/^Fix: \S/m.test(entry.body)) problems.push(`${code} ${name}: no 'Fix:' line`);
    }
    assert.deepEqual(problems, [], `docs/errors.md needs:\n  ${problems.join('\n  ')}`);
  });

  it('documents no code twice and none that does not exist', () => {
    const known = new Set<string>(Object.values(ErrorCodes));
    const codes = entries.map((e) => e.code);
    assert.deepEqual(codes.filter((code) => !known.has(code)), []);
    assert.deepEqual(codes.filter((code, i) => codes.indexOf(code) !== i), []);
    assert.equal(known.size, Object.keys(ErrorCodes).length, 'two names share a code');
  });
});
