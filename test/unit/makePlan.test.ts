import * as assert from 'node:assert/strict';
import type { GoldenTemplate } from '../../core/config/goldenImages';
import type { StoredImage } from '../../core/imageStore';
import { newestVersion } from '../../core/make/baseImages';
import { vmNameFor } from '../../core/make/naming';
import { describeMakePlan, type MakeOptions, type MakeVmFacts, planMake } from '../../core/make/plan';
import { describeTemplate } from '../../core/make/templates';

/** The make plan decided from templates, the lab's VMs and deployments and the image store alone. */

function item(imagePath: string, osType: 'Windows' | 'Linux' = 'Windows', sku = '2022-datacenter-azure-edition', size?: string) {
  const template: GoldenTemplate = { imagePath, file: `/c/GoldenImages/${imagePath}`, osType, galleryImageReference: { publisher: 'P', offer: 'O', sku, version: 'latest' }, ...(size ? { size } : {}) };
  const json = {
    contentVersion: '1.0.0.0',
    parameters: { labName: { type: 'string' }, newVMName: { type: 'string' }, size: { type: 'string', defaultValue: 'Standard_D2s_v5' }, userName: { type: 'string' }, password: { type: 'securestring' } },
    resources: [{ type: 'Microsoft.DevTestLab/labs/virtualmachines', name: imagePath, properties: {} }],
  };
  return { template, loaded: describeTemplate(json) };
}

const OPTIONS: MakeOptions = { defaultSize: 'Standard_D2s_v5', includeSysprep: true, credentials: { password: true, sshKey: false } };
const empty = { vms: [] as MakeVmFacts[], deployments: [], images: [] as StoredImage[] };

describe('make plan', () => {
  it('names VMs from the ImagePath within Azure limits, unique in the lab', () => {
    assert.equal(vmNameFor('Linux/Ubuntu2204.json', 'Linux', new Set()), 'linux-ubuntu2204');
    const windows = vmNameFor('WindowsServer/Server2022-Datacenter.json', 'Windows', new Set());
    assert.match(windows, /^windowsser-[0-9a-f]{4}$/);
    assert.ok(windows.length <= 15);
    const other = vmNameFor('WindowsServer/Server2022-Datacenter.json', 'Windows', new Set([windows]));
    assert.notEqual(other, windows);
    assert.ok(other.length <= 15);
    assert.equal(vmNameFor('2022.json', 'Linux', new Set()), 'vm-2022');
  });

  it('makes a new template, skips one whose image is stored or whose VM waits, waits for one an earlier run started, replaces a stale one', () => {
    const fresh = item('A/New.json');
    const stored = item('B/Stored.json');
    const waiting = item('C/Waiting.json');
    const started = item('D/Started.json');
    const stale = item('E/Stale.json');
    const tags = (i: ReturnType<typeof item>, hash = i.loaded.hash) => ({ ImagePath: i.template.imagePath, ImageFactoryTemplateHash: hash, ImageFactoryBaseImage: 'P/O/2022-datacenter-azure-edition/latest' });
    const plan = planMake(
      [fresh, stored, waiting, started, stale],
      {
        vms: [
          { name: 'c-waiting', tags: tags(waiting), provisioningState: 'Succeeded', powerState: 'deallocated' },
          { name: 'd-started', tags: tags(started), provisioningState: 'Creating', powerState: 'starting' },
          { name: 'e-stale', tags: tags(stale, 'oldhash'), provisioningState: 'Succeeded', powerState: 'deallocated' },
        ],
        deployments: [
          { name: 'imagefactory-d-started', provisioningState: 'Running' },
          { name: 'imagefactory-e-stale', provisioningState: 'Succeeded' },
          { name: 'imagefactory-gone', provisioningState: 'Failed' },
          { name: 'imagefactory-other-run', provisioningState: 'Running' },
          { name: 'someone-elses', provisioningState: 'Succeeded' },
        ],
        images: [{ imagePath: 'B/Stored.json', imageName: 'B_Stored-Nov-01-2026', templateHash: stored.loaded.hash, baseImage: 'P/O/2022-datacenter-azure-edition/latest' } as StoredImage],
      },
      OPTIONS,
    );
    assert.deepEqual(
      plan.actions.map((a) => `${a.kind} ${a.item.template.imagePath}${a.kind === 'skip' ? ` ${a.reason}` : ''}${a.kind === 'adopt' ? ` ${a.vm.vmName} ${a.deployment}` : ''}${a.kind === 'make' ? ` ${a.vm.vmName} [${a.replaces}] [${a.staleDeployments}]` : ''}`),
      [
        'make A/New.json a-new [] []',
        'skip B/Stored.json stored',
        'skip C/Waiting.json waiting',
        'adopt D/Started.json d-started imagefactory-d-started',
        'make E/Stale.json e-stale [e-stale] [imagefactory-e-stale]',
      ],
    );
    assert.deepEqual(plan.staleDeployments, ['imagefactory-gone'], "a running deployment may be another run's; another prefix is not the factory's");
  });

  it('reports a template it cannot make: unknown size, a generation the size cannot boot, credentials missing', () => {
    const plan = planMake(
      [item('A/BadSize.json', 'Windows', '2022-datacenter-azure-edition', 'Standard_Q9'), item('B/Gen2OnA.json', 'Linux', '22_04-lts-gen2', 'Standard_A2_v2')],
      empty,
      OPTIONS,
    );
    assert.deepEqual(plan.actions.map((a) => (a.kind === 'invalid' ? a.issue.code : a.kind)), ['IF6005', 'IF6007']);
    const noPassword = planMake([item('A/New.json')], empty, { ...OPTIONS, credentials: { password: false, sshKey: false } });
    assert.equal(noPassword.actions[0].kind === 'invalid' && noPassword.actions[0].issue.code, 'IF6003');
  });

  it('appends the generalizing artifact only when asked and the template has none', () => {
    const plan = planMake([item('Linux/U.json', 'Linux', '22_04-lts-gen2')], empty, OPTIONS);
    const make = plan.actions[0];
    assert.ok(make.kind === 'make');
    assert.deepEqual([make.vm.generalize, make.vm.endsDeallocated, make.vm.generation, make.vm.size], [true, true, 'V2', 'Standard_D2s_v5']);
    const without = planMake([item('Linux/U.json', 'Linux', '22_04-lts-gen2')], empty, { ...OPTIONS, includeSysprep: false }).actions[0];
    assert.ok(without.kind === 'make');
    assert.deepEqual([without.vm.generalize, without.vm.endsDeallocated], [false, false]);
  });

  it('says a Generation 2 VM will be Trusted Launch (what Azure makes a lab VM from a Generation 2 image), and a Generation 1 VM its generation alone', () => {
    const plan = planMake([item('Win11/E.json', 'Windows', 'win11-23h2-ent'), item('Linux/U.json', 'Linux', '22_04-lts')], empty, OPTIONS);
    const specs = plan.actions.map((a) => (a.kind === 'make' ? [a.vm.imagePath, a.vm.generation, a.vm.securityType] : a.kind));
    assert.deepEqual(specs.sort(), [
      ['Linux/U.json', 'V1', 'Standard'],
      ['Win11/E.json', 'V2', 'TrustedLaunch'],
    ]);
    const lines = describeMakePlan(plan).join('\n');
    assert.match(lines, /make +'Win11\/E\.json' as VM '[^']+' \(Windows, Standard_D2s_v5, Generation 2, Trusted Launch, P\/O\/win11-23h2-ent\/latest, then sysprep\)/);
    assert.match(lines, /make +'Linux\/U\.json' as VM '[^']+' \(Linux, Standard_D2s_v5, Generation 1, P\/O\/22_04-lts\/latest, then deprovision\)/);
  });

  it('compares marketplace versions as numbers, part by part, not as text', () => {
    assert.equal(newestVersion(['22.04.202410020', '22.04.1202411050', '9.0.0']), '22.04.1202411050');
    assert.equal(newestVersion(['9.0.0', '10.0.0', '9.10.0']), '10.0.0');
    assert.equal(newestVersion([]), undefined);
  });

  it('a `latest` template whose stored image came from an older version than the newest is remade, and the plan says why; the newest one is skipped', () => {
    const template = item('A/Latest.json');
    const image = (baseImage: string) => ({ imagePath: 'A/Latest.json', imageName: 'A_Latest-Nov-01-2026', templateHash: template.loaded.hash, baseImage }) as StoredImage;
    const latestVersions = new Map([['p/o/2022-datacenter-azure-edition', '2.0.0']]);
    const older = planMake([template], { ...empty, images: [image('P/O/2022-datacenter-azure-edition/1.0.0')] }, { ...OPTIONS, latestVersions });
    const action = older.actions[0];
    assert.equal(action.kind, 'make');
    assert.equal(action.kind === 'make' && action.vm.baseImage, 'P/O/2022-datacenter-azure-edition/2.0.0');
    assert.match(describeMakePlan(older).join('\n'), /make +'A\/Latest\.json' .*P\/O\/2022-datacenter-azure-edition\/2\.0\.0 \(latest\).*: the base image changed from P\/O\/2022-datacenter-azure-edition\/1\.0\.0 to P\/O\/2022-datacenter-azure-edition\/2\.0\.0/);
    const newest = planMake([template], { ...empty, images: [image('P/O/2022-datacenter-azure-edition/2.0.0')] }, { ...OPTIONS, latestVersions });
    assert.equal(newest.actions[0].kind, 'skip');
  });
});
