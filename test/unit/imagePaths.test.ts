import * as assert from 'node:assert/strict';
import { checkImagePath, imagePathKey, imagePathSelects, labSelects, normalizeImagePath } from '../../core/config/imagePaths';

describe('image paths', () => {
  it('treats \\ and / alike and drops empty and "." segments', () => {
    assert.equal(normalizeImagePath('Win2016\\Datacenter.json'), 'Win2016/Datacenter.json');
    assert.equal(normalizeImagePath('./Win2016//SQL\\2019.json '), 'Win2016/SQL/2019.json');
    assert.equal(imagePathKey('WIN2016\\datacenter.JSON'), 'win2016/datacenter.json');
  });

  it('rejects blank, absolute and escaping entries', () => {
    assert.deepEqual(checkImagePath('  '), { ok: false, reason: 'blank' });
    assert.deepEqual(checkImagePath('.\\'), { ok: false, reason: 'blank' });
    assert.deepEqual(checkImagePath('/etc/passwd'), { ok: false, reason: 'absolute' });
    assert.deepEqual(checkImagePath('\\\\server\\share'), { ok: false, reason: 'absolute' });
    assert.deepEqual(checkImagePath('C:\\Images\\x.json'), { ok: false, reason: 'absolute' });
    assert.deepEqual(checkImagePath('Win2016/../../secrets.json'), { ok: false, reason: 'escapes' });
    assert.deepEqual(checkImagePath('Win2016\\Datacenter.json'), { ok: true, normalized: 'Win2016/Datacenter.json' });
  });

  it('selects a file by its path and a folder by whole segments', () => {
    assert.ok(imagePathSelects('Win2016/Datacenter.json', 'win2016\\datacenter.json'));
    assert.ok(imagePathSelects('Win2016', 'Win2016/Datacenter.json'));
    assert.ok(imagePathSelects('Win2016\\', 'Win2016/SQL/2019.json'));
    assert.ok(!imagePathSelects('Win', 'Win2016/Datacenter.json'));
    assert.ok(!imagePathSelects('Win2016/Datacenter', 'Win2016/Datacenter.json'));
    assert.ok(!imagePathSelects('', 'Win2016/Datacenter.json'));
  });

  it('selects for a lab when any entry selects', () => {
    assert.ok(labSelects(['Linux', 'Win2016/Datacenter.json'], 'Linux/Ubuntu.json'));
    assert.ok(!labSelects(['Linux'], 'Win2016/Datacenter.json'));
    assert.ok(!labSelects([], 'Linux/Ubuntu.json'));
  });
});
