import * as assert from 'node:assert/strict';
import { JsonLocator, jsonPathOf, jsonPointer, LineIndex, parseJson } from '../../core/config/jsonText';

function syntaxError(text: string): { message: string; line: number; column: number } {
  const result = parseJson(text);
  assert.equal(result.ok, false, `expected ${JSON.stringify(text)} to be rejected`);
  if (result.ok) throw new Error('unreachable');
  return { message: result.message, line: result.position.line, column: result.position.column };
}

describe('configuration JSON text', () => {
  it('parses JSON and accepts a UTF-8 byte-order mark', () => {
    const result = parseJson('\uFEFF{"Labs": []}');
    assert.ok(result.ok);
    assert.deepEqual(result.ok && result.value, { Labs: [] });
    assert.equal(result.ok && result.text, '{"Labs": []}');
  });

  it('names common mistakes with their line and column', () => {
    assert.deepEqual(syntaxError('{\n  "Labs": [1, 2,]\n}'), {
      message: "a trailing comma before ']' is not allowed in JSON",
      line: 2,
      column: 16,
    });
    assert.deepEqual(syntaxError('{\n  "a": 1,\n}'), { message: "a trailing comma before '}' is not allowed in JSON", line: 2, column: 9 });
    assert.deepEqual(syntaxError('{\n  // labs\n  "Labs": []\n}'), { message: 'comments are not allowed in JSON', line: 2, column: 3 });
    assert.deepEqual(syntaxError("{'Labs': []}"), { message: 'property names must be in double quotes, not single quotes', line: 1, column: 2 });
    assert.deepEqual(syntaxError('{Labs: []}'), { message: 'property names must be in double quotes', line: 1, column: 2 });
    assert.deepEqual(syntaxError('{"a": \'x\'}'), { message: 'strings must be in double quotes, not single quotes', line: 1, column: 7 });
    assert.deepEqual(syntaxError('{\n "a": 1\n "b": 2\n}'), { message: "missing ',' between properties", line: 3, column: 2 });
    assert.deepEqual(syntaxError('["a" "b"]'), { message: "missing ',' between array items", line: 1, column: 6 });
    assert.deepEqual(syntaxError('{"a": "Win2016\\Datacenter.json"}'), {
      message: "'\\D' is not a JSON escape; write a backslash as '\\\\' (Windows paths may also use '/')",
      line: 1,
      column: 15,
    });
    assert.deepEqual(syntaxError('{"a": "open\n}'), { message: 'a string is not closed before the end of the line', line: 1, column: 12 });
    assert.deepEqual(syntaxError('{"a": [1, 2'), { message: "expected ',' or ']' after an array item, found the end of the file", line: 1, column: 12 });
    assert.deepEqual(syntaxError('{"a": tru}'), {
      message: "expected a value (an object, array, string, number, true, false or null), found 'tru'",
      line: 1,
      column: 7,
    });
    assert.deepEqual(syntaxError('{"a": 01}'), {
      message: 'a number is not written as JSON allows (no leading zeros, hex, NaN or trailing dot)',
      line: 1,
      column: 8,
    });
    assert.deepEqual(syntaxError('{} {}'), {
      message: "unexpected '{' after the end of the JSON value; a file holds exactly one value",
      line: 1,
      column: 4,
    });
    assert.deepEqual(syntaxError('{"a": 1 {}}'), { message: "expected ',' or '}' after a property value, found '{'", line: 1, column: 9 });
    assert.deepEqual(syntaxError('['.repeat(501)), { message: 'the JSON is nested more than 500 levels deep', line: 1, column: 501 });
    assert.deepEqual(syntaxError('  \n'), { message: 'the file is empty; expected a JSON value', line: 2, column: 1 });
    assert.deepEqual(syntaxError('\uFEFF{\n\t"a" 1}'), { message: `expected ':' after the property name "a", found '1'`, line: 2, column: 6 });
  });

  it('counts lines ended by LF, CRLF and CR alike', () => {
    assert.deepEqual(syntaxError('{\r\n"a": 1,\r\n x}'), { message: 'property names must be in double quotes', line: 3, column: 2 });
    assert.deepEqual(syntaxError('{\r"a": 1,\r x}'), { message: 'property names must be in double quotes', line: 3, column: 2 });
    const lines = new LineIndex('ab\r\ncd\ne');
    assert.deepEqual(lines.position(0), { offset: 0, line: 1, column: 1 });
    assert.deepEqual(lines.position(4), { offset: 4, line: 2, column: 1 });
    assert.deepEqual(lines.position(8), { offset: 8, line: 3, column: 2 });
  });

  it('rejects exactly what JSON.parse rejects', () => {
    const samples = [
      '{}', '[]', '""', '0', '-0', '-1.5e+3', '1E5', 'true', 'null', '"\\u00e9\\n"', '{"a":{"b":[{"c":null}]}}',
      ' \t\r\n[1 , 2 ]\n', '"\\/"', '{"":1}', '[-]', '[1.]', '[.5]', '[+1]', '["\t"]', '["\\x"]', '["\\u12"]',
      '[NaN]', '[0x1]', '{"a"}', '{"a":}', '{,}', '[,1]', '[1,,2]', 'nul', '"a', '{"a":1', '[', '{"a":1}x', '[1e]',
      '["a\u2028b"]', '[1e-0]', '{"a":-}',
    ];
    for (const sample of samples) {
      let accepted = true;
      try {
        JSON.parse(sample);
      } catch {
        accepted = false;
      }
      assert.equal(parseJson(sample).ok, accepted, `${JSON.stringify(sample)}: JSON.parse ${accepted ? 'accepts' : 'rejects'} it`);
      if (!accepted) assert.notEqual((parseJson(sample) as { message: string }).message, '', JSON.stringify(sample));
    }
  });

  it('locates values and property names by JSON pointer', () => {
    const text = '{\n  "Labs": [\n    { "LabName": "a/b~c", "x/y": [10, {"z": true}] }\n  ]\n}';
    const locator = new JsonLocator(text);
    assert.deepEqual(locator.value(''), { offset: 0, line: 1, column: 1 });
    assert.equal(locator.value('/Labs')?.line, 2);
    assert.equal(locator.value('/Labs')?.column, 11);
    assert.deepEqual(locator.key('/Labs/0/LabName'), { offset: text.indexOf('"LabName"'), line: 3, column: 7 });
    assert.equal(locator.value('/Labs/0/LabName')?.column, 18);
    assert.equal(locator.key('/Labs/0/x~1y')?.column, 27);
    assert.equal(locator.value('/Labs/0/x~1y/1/z')?.column, 45);
    assert.equal(locator.value('/Labs/1'), undefined);
    // A key lookup for an array item falls back to the item itself.
    assert.equal(locator.key('/Labs/0')?.column, 5);
  });

  it('writes JSON pointers and the JSON paths messages show', () => {
    assert.equal(jsonPointer(['Labs', 3, 'a/b', 'c~d']), '/Labs/3/a~1b/c~0d');
    assert.equal(jsonPathOf(''), '$');
    assert.equal(jsonPathOf('/Labs/3/ImagePaths/0'), '$.Labs[3].ImagePaths[0]');
    assert.equal(jsonPathOf('/Labs/3/Image Paths'), '$.Labs[3]["Image Paths"]');
    assert.equal(jsonPathOf('/a~1b/$schema'), '$["a/b"].$schema');
  });
});
