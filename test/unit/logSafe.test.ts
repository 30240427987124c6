import * as assert from 'node:assert/strict';
import { logSafe, markdownCell } from '../../core/format';

describe('log-safe text', () => {
  it('keeps ordinary text as it is', () => {
    for (const text of ["VM 'win2016-dc' (ImagePath 'Win2016\\Datacenter.json')", 'Ünïcödé – 100% done; a#b ## c', 'tab\tkept']) {
      assert.equal(logSafe(text), text);
    }
  });

  it('puts every line break on one line', () => {
    assert.equal(logSafe('a\nb\r\nc\rd\u2028e\u2029f\u0085g\vh\fi'), 'a b c d e f g h i');
  });

  it('takes the meaning from logging and formatting commands, wherever they stand', () => {
    assert.equal(logSafe('x ##vso[task.setvariable variable=X]y'), 'x **vso[task.setvariable variable=X]y');
    assert.equal(logSafe('##[error]fake'), '**[error]fake');
    assert.equal(logSafe('##VSO[task.complete]'), '**VSO[task.complete]');
    assert.equal(logSafe('#\n#vso[x]'), '# #vso[x]');
  });

  it('replaces terminal escapes and other control characters', () => {
    assert.equal(logSafe('red \u001b[31m text\u0000\u007f\u009b'), 'red \uFFFD[31m text\uFFFD\uFFFD\uFFFD');
    assert.equal(logSafe('abc\u202Edcb'), 'abc\uFFFDdcb');
  });
});

describe('markdown table cells', () => {
  it('escapes cell separators, markup and line breaks', () => {
    assert.equal(markdownCell('a|b'), 'a\\|b');
    assert.equal(markdownCell('a\\|b'), 'a\\\\\\|b', 'a backslash before a pipe cannot escape the escape');
    assert.equal(markdownCell('<img src=x onerror=alert(1)> & co'), '&lt;img src=x onerror=alert(1)&gt; &amp; co');
    assert.equal(markdownCell('one\ntwo ##vso[x]'), 'one two **vso[x]');
    assert.equal(markdownCell('Win2016\\Datacenter.json'), 'Win2016\\Datacenter.json');
  });
});
