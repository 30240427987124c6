import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * The quick start's first line must keep working: the whole factory, end to end, from an empty factory lab,
 * on the sample configuration, on both routes: the Generation 1 templates as VHDs and custom images, then
 * the Generation 2 ones (Windows 11 Trusted Launch with a data disk, Ubuntu Gen2) as gallery versions
 * enabled in labs in three regions.
 */
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
    // Every stage ran and succeeded, each title saying its route: the VHD route's five, then the gallery route's.
    const stages = [...output.matchAll(/^== (\d+)\/12 (.+) \((\w+)\) ==$/gm)].map((m) => `${m[2].split(':')[0]} ${m[3]}`);
    const route = ['MakeGoldenImageVMs', 'SnapImagesFromVMs', 'DistributeImages', 'CleanUpFactory', 'RetireImages'];
    assert.deepEqual(stages, [
      'Validate the configuration ValidateLabsJson',
      ...route.map((task) => `VHD route ${task}`),
      ...route.map((task) => `Gallery route ${task}`),
      'Both routes PublishImageCatalog',
    ]);
    const results = [...summary.matchAll(/^ {2}(VHD route|Gallery route|Both routes| {11}) +(\w+) +(\w+) +[\d.]+ s$/gm)].map((m) => [m[1].trim(), m[2], m[3]].filter(Boolean).join(' '));
    assert.deepEqual(results, stages.map((stage) => `${stage.replace(/^Validate the configuration /, '')} Succeeded`), summary);
    const labLine = (lab: string, what: string) => {
      const block = summary.slice(summary.indexOf(`  ${lab} (`));
      const line = block.split('\n').find((l) => l.trim().startsWith(`${what}:`));
      assert.ok(line, `no '${what}' line for ${lab}:\n${summary}`);
      return line!.slice(line!.indexOf(':') + 1).trim().split(', ').sort();
    };
    // The images saved today carry the run's UTC date; the scenario's older ones carry theirs.
    const today = /output SavedImageNames = .*Linux_Ubuntu2204-(\w{3}-\d{2}-\d{4})/.exec(output)?.[1];
    assert.ok(today, 'no SavedImageNames output');
    // The gallery route's versions: named by the time they were saved.
    const win11 = /output SavedImageNames = .*Windows11_Enterprise\/([\d.]+)/.exec(output)?.[1];
    const ubuntu2 = /output SavedImageNames = .*Linux_Ubuntu2204-Gen2\/([\d.]+)/.exec(output)?.[1];
    assert.ok(win11 && ubuntu2, 'no gallery-route SavedImageNames output');
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

    // The gallery route: the Windows 11 version is Generation 2, Trusted Launch, with its data disk, replicated to
    // the three regions of the labs that select it, and each of those labs serves it as a shared image from its
    // own region's replica. The VHD route's labs that select no Generation 2 image have no gallery attached.
    const galleryLine = (image: string) => summary.split('\n').find((l) => l.startsWith(`  ${image}/`));
    assert.equal(galleryLine('Windows11_Enterprise'), `  Windows11_Enterprise/${win11} (Generation 2, TrustedLaunch, 1 data disk(s)): westus2, eastus, northeurope`);
    assert.match(galleryLine('Linux_Ubuntu2204-Gen2') ?? '', new RegExp(`^ {2}Linux_Ubuntu2204-Gen2/${ubuntu2} \\(Generation 2, TrustedLaunch\\): `));
    const sharedImages = (lab: string) => labLine(lab, 'shared images').map((entry) => entry.replace(/ \(gallery FactoryImages\)$/, ''));
    for (const lab of ['Desktops-West', 'Desktops-East', 'Desktops-Europe']) assert.ok(sharedImages(lab).includes(`Windows11_Enterprise/${win11}`), `${lab}:\n${summary}`);
    assert.deepEqual(sharedImages('Desktops-East'), [`Linux_Ubuntu2204-Gen2/${ubuntu2}`, `Windows11_Enterprise/${win11}`]);
    // Engineering-Test selects the Linux folder: it holds the Generation 1 Ubuntu as a custom image and the Gen2 one from the gallery.
    assert.deepEqual(sharedImages('Engineering-Test'), [`Linux_Ubuntu2204-Gen2/${ubuntu2}`]);
    for (const lab of ['Engineering-Dev', 'Training']) {
      const block = summary.slice(summary.indexOf(`  ${lab} (`)).split('\n').slice(1);
      const own = block.slice(0, block.findIndex((l) => !l.startsWith('    ')));
      assert.ok(!own.some((l) => l.includes('shared images')), `${lab} selects no gallery image:\n${summary}`);
    }
    for (const lab of ['Desktops-West', 'Desktops-Europe']) assert.deepEqual(labLine(lab, 'custom images'), ['(none)']);
    // Desktops-East (eastus) also selects the Generation 1 Ubuntu: the VHD route copied it across regions.
    assert.deepEqual(labLine('Desktops-East', 'custom images'), [`Linux_Ubuntu2204-${today}`]);
    assert.match(output, /to distribute across regions, westus2 to eastus/);
    assert.match(summary, /Disk access still granted: none/);
    // The demo ends with the catalog of what the labs now hold, and says where it is.
    const catalog = /^Image catalog \(open it in a browser\): (.+)$/m.exec(summary)?.[1];
    assert.ok(catalog, `no catalog path at the end:\n${summary}`);
    const page = fs.readFileSync(catalog!, 'utf8');
    assert.ok(page.includes(`Linux_Ubuntu2204-${today}`), 'the catalog shows the images saved today');
    assert.ok(page.includes(`Windows11/Enterprise.json: ${win11}`), 'the catalog shows the gallery route\'s version too');
    // The factory VMs of both routes were cleaned up.
    assert.match(output, /Deleted VM 'windows11-[0-9a-f]{4}': published as version Windows11_Enterprise\/[\d.]+ of gallery 'FactoryImages'\./);
    assert.doesNotMatch(output, /sig=[A-Za-z0-9%+/]{10,}/, 'a SAS signature reached the log');
  });
});
