import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The quick start's first line must keep working: the whole factory, end to end, from an empty factory lab, on the sample configuration. */
describe('quick-start demo', function () {
  this.timeout(180_000);

  it('runs every stage of the factory against the local Azure and ends with the expected labs', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: 170_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.status, 0, output.slice(-4000));

    const summary = output.slice(output.lastIndexOf('== Summary =='));
    for (const task of ['ValidateLabsJson', 'MakeGoldenImageVMs', 'SnapImagesFromVMs', 'DistributeImages', 'CleanUpFactory', 'RetireImages', 'PublishImageCatalog']) {
      assert.match(summary, new RegExp(`${task}\\s+Succeeded\\s`), `${task} did not succeed:\n${summary}`);
    }
    const labLine = (lab: string, what: string) => {
      const block = summary.slice(summary.indexOf(`  ${lab} (`));
      const line = block.split('\n').find((l) => l.trim().startsWith(`${what}:`));
      assert.ok(line, `no '${what}' line for ${lab}:\n${summary}`);
      return line!.slice(line!.indexOf(':') + 1).trim().split(', ').sort();
    };
    // The images saved today carry the run's UTC date; the scenario's older ones carry theirs.
    const today = /output SavedImageNames = .*Linux_Ubuntu2204-(\w{3}-\d{2}-\d{4})/.exec(output)?.[1];
    assert.ok(today, 'no SavedImageNames output');
    // The factory lab started empty: its VMs were made from the templates, saved, then cleaned up.
    assert.match(output, /output VmNames = .*linux-ubuntu2204/);
    assert.doesNotMatch(summary.slice(summary.indexOf('  ImageFactory ('), summary.indexOf('  Engineering-Dev (')), /VMs:/);
    assert.deepEqual(labLine('ImageFactory', 'stored VHDs'), [
      `Linux_Ubuntu2204-${today}.vhd`,
      `SQLServer_SQL2022-Developer-${today}.vhd`,
      'WindowsServer_Server2022-Datacenter-Nov-10-2026.vhd',
      `WindowsServer_Server2022-Datacenter-${today}.vhd`,
    ].sort());
    assert.deepEqual(labLine('Engineering-Dev', 'custom images'), [
      `SQLServer_SQL2022-Developer-${today}`,
      'TeamBaseImage',
      'WindowsServer_Server2022-Datacenter-Nov-10-2026',
      `WindowsServer_Server2022-Datacenter-${today}`,
    ].sort());
    assert.deepEqual(labLine('Engineering-Test', 'custom images'), [
      `Linux_Ubuntu2204-${today}`,
      'WindowsServer_Server2022-Datacenter-Nov-10-2026',
      `WindowsServer_Server2022-Datacenter-${today}`,
    ].sort());
    assert.deepEqual(labLine('Training', 'custom images'), [`Linux_Ubuntu2204-${today}`]);
    assert.match(summary, /Disk access still granted: none/);
    // The demo ends with the catalog of what the labs now hold, and says where it is.
    const catalog = /^Image catalog \(open it in a browser\): (.+)$/m.exec(summary)?.[1];
    assert.ok(catalog, `no catalog path at the end:\n${summary}`);
    const page = fs.readFileSync(catalog!, 'utf8');
    assert.ok(page.includes(`Linux_Ubuntu2204-${today}`), 'the catalog shows the images saved today');
    assert.doesNotMatch(output, /sig=[A-Za-z0-9%+/]{10,}/, 'a SAS signature reached the log');
  });
});
