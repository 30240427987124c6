import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MAX_GOLDEN_IMAGES_DEPTH, MAX_GOLDEN_IMAGES_ENTRIES, MAX_LABS_FILE_BYTES, MAX_TEMPLATE_FILE_BYTES, readBoundedFile } from '../../core/config/configFiles';
import { type ConfigurationResult, loadConfiguration } from '../../core/config/labsConfig';
import { labVmTemplate, removeConfiguration, writeConfiguration } from '../fixtures/config/configurationFolder';

const SUB = '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310';
const TEMPLATES = { 'GoldenImages/Windows/Server.json': labVmTemplate('Windows'), 'GoldenImages/Linux/Ubuntu.json': labVmTemplate('Linux') };
const LABS = { Labs: [{ SubscriptionId: SUB, LabName: 'Dev', ImagePaths: ['Windows', 'Linux'] }] };

const codes = (result: ConfigurationResult) => result.issues.map((i) => `${i.code} ${i.message.replace(/^(\S+?): .*$/, '$1')}`);

describe('configuration files read within bounds', () => {
  const made: string[] = [];
  let outside: string;
  before(() => {
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-config-'));
    fs.writeFileSync(path.join(outside, 'labs.json'), JSON.stringify(LABS));
    fs.mkdirSync(path.join(outside, 'Templates'));
    fs.writeFileSync(path.join(outside, 'Templates', 'Other.json'), JSON.stringify(labVmTemplate('Linux')));
  });
  after(() => fs.rmSync(outside, { recursive: true, force: true }));
  afterEach(() => {
    while (made.length > 0) removeConfiguration(made.pop()!);
  });

  function folder(files: Record<string, unknown>): string {
    const location = writeConfiguration(files);
    made.push(location);
    return location;
  }

  it('follows links that stay inside the configuration folder', async () => {
    const location = folder({ ...TEMPLATES, 'real-labs.json': LABS, 'Shared/Extra.json': labVmTemplate('Linux') });
    fs.symlinkSync(path.join(location, 'real-labs.json'), path.join(location, 'labs.json'));
    fs.symlinkSync(path.join(location, 'Shared'), path.join(location, 'GoldenImages', 'Shared'));
    const result = await loadConfiguration(location);
    assert.ok(result.configuration, codes(result).join('\n'));
    assert.deepEqual(result.configuration.templates.map((t) => t.imagePath), ['Linux/Ubuntu.json', 'Shared/Extra.json', 'Windows/Server.json']);
  });

  it('refuses a labs.json linked to /dev/zero or to a file outside the folder (IF1015), without reading it', async () => {
    for (const target of ['/dev/zero', path.join(outside, 'labs.json')]) {
      const location = folder(TEMPLATES);
      fs.symlinkSync(target, path.join(location, 'labs.json'));
      const result = await loadConfiguration(location);
      assert.equal(result.configuration, undefined);
      assert.deepEqual(codes(result), ['IF1015 Configuration/labs.json']);
      assert.match(result.issues[0].message, new RegExp(`labs\\.json is a symbolic link to '${target.replace(/[/.]/g, '\\$&')}', outside the configuration folder`));
    }
  });

  it('refuses a GoldenImages folder, a folder in it or a template that links out of the configuration folder (IF1015)', async () => {
    const whole = folder({ 'labs.json': LABS });
    fs.rmSync(path.join(whole, 'GoldenImages'), { recursive: true });
    fs.symlinkSync('/usr', path.join(whole, 'GoldenImages'));
    const wholeResult = await loadConfiguration(whole);
    assert.deepEqual(codes(wholeResult), ['IF1015 Configuration/GoldenImages']);
    assert.match(wholeResult.issues[0].message, /GoldenImages is a symbolic link to '\/usr', outside the configuration folder/);

    const part = folder({ ...TEMPLATES, 'labs.json': LABS });
    fs.symlinkSync('/usr', path.join(part, 'GoldenImages', 'System'));
    fs.symlinkSync(path.join(outside, 'Templates', 'Other.json'), path.join(part, 'GoldenImages', 'Linux', 'Other.json'));
    const partResult = await loadConfiguration(part);
    assert.equal(partResult.configuration, undefined);
    assert.deepEqual(codes(partResult).sort(), ['IF1015 Configuration/GoldenImages/Linux/Other.json', 'IF1015 Configuration/GoldenImages/System']);
  });

  it('refuses labs.json or a template over its size limit (IF1016), reading none of it', async () => {
    const big = folder(TEMPLATES);
    // Sparse files: the size is there, the bytes need not be.
    fs.writeFileSync(path.join(big, 'labs.json'), '');
    fs.truncateSync(path.join(big, 'labs.json'), MAX_LABS_FILE_BYTES + 1);
    const labsResult = await loadConfiguration(big);
    assert.deepEqual(codes(labsResult), ['IF1016 Configuration/labs.json']);
    assert.match(labsResult.issues[0].message, /labs\.json holds 67108865 bytes, more than the 64\.0 MiB a configuration file may hold; nothing of it was read\./);

    const template = folder({ ...TEMPLATES, 'labs.json': LABS });
    fs.truncateSync(path.join(template, 'GoldenImages', 'Linux', 'Ubuntu.json'), MAX_TEMPLATE_FILE_BYTES + 1);
    assert.deepEqual(codes(await loadConfiguration(template)), ['IF1016 Configuration/GoldenImages/Linux/Ubuntu.json']);
  });

  it('refuses a labs.json that is a named pipe (IF1017) at once, instead of waiting for a writer', async function () {
    if (process.platform === 'win32') this.skip();
    const location = folder(TEMPLATES);
    execFileSync('mkfifo', [path.join(location, 'labs.json')]);
    const result = await loadConfiguration(location);
    assert.deepEqual(codes(result), ['IF1017 Configuration/labs.json']);
    assert.match(result.issues[0].message, /labs\.json is not a regular file \(a named pipe\)\./);
  });

  it(`stops the GoldenImages walk past ${MAX_GOLDEN_IMAGES_DEPTH} folders deep (IF1018), and uses none of the configuration`, async () => {
    const deep = Array.from({ length: MAX_GOLDEN_IMAGES_DEPTH + 1 }, (_, i) => `d${i}`).join('/');
    const location = folder({ ...TEMPLATES, [`GoldenImages/${deep}/Deep.json`]: labVmTemplate('Linux'), 'labs.json': LABS });
    const result = await loadConfiguration(location);
    assert.equal(result.configuration, undefined);
    assert.deepEqual(codes(result), [`IF1018 Configuration/GoldenImages/${deep}`]);
    assert.match(result.issues[0].message, /is more than 16 folders deep, past what the factory reads of GoldenImages/);

    // Exactly at the bound is fine.
    const atBound = Array.from({ length: MAX_GOLDEN_IMAGES_DEPTH }, (_, i) => `d${i}`).join('/');
    const fine = folder({ ...TEMPLATES, [`GoldenImages/${atBound}/Deep.json`]: labVmTemplate('Linux'), 'labs.json': { Labs: [{ ...LABS.Labs[0], ImagePaths: ['Windows', 'Linux', 'd0'] }] } });
    const fineResult = await loadConfiguration(fine);
    assert.ok(fineResult.configuration, codes(fineResult).join('\n'));
  });

  it(`stops the GoldenImages walk past ${MAX_GOLDEN_IMAGES_ENTRIES} files and folders (IF1018)`, async () => {
    const location = folder({ ...TEMPLATES, 'labs.json': LABS });
    const crowd = path.join(location, 'GoldenImages', 'Crowd');
    fs.mkdirSync(crowd);
    for (let i = 0; i < MAX_GOLDEN_IMAGES_ENTRIES; i++) fs.writeFileSync(path.join(crowd, `notes-${i}.txt`), '');
    const result = await loadConfiguration(location);
    assert.equal(result.configuration, undefined);
    assert.deepEqual(codes(result), ['IF1018 Configuration/GoldenImages/Crowd']);
    assert.match(result.issues[0].message, /holds more than 10000 files and folders in all/);
  });

  it('reads at most one byte past the limit of a file that claims less', async () => {
    const location = folder({ 'small.json': '{"a": 1}' });
    const read = await readBoundedFile(fs.realpathSync(location), path.join(location, 'small.json'), 4);
    assert.deepEqual(read.ok ? 'read' : read.refusal, { kind: 'too-large', text: 'holds 8 bytes, more than the 4 B a configuration file may hold' });
    const whole = await readBoundedFile(fs.realpathSync(location), path.join(location, 'small.json'), 8);
    assert.equal(whole.ok && whole.bytes.toString(), '{"a": 1}');
  });
});
