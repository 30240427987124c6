import * as assert from 'node:assert/strict';
import { isPowerShellFactoryImage } from '../../core/retire/powerShellImages';

const tagged = (imagePath: string) => ({ ImagePath: imagePath });

describe("the PowerShell image factory's custom images", () => {
  it('are known by the ImagePath tag alone and the name its GetImageName gave (last folder and file, -MMM-d-yyyy, letters for the same day)', () => {
    const cases: [string, string][] = [
      ['Win2016_Datacenter-Nov-4-2026', 'Win2016\\Datacenter.json'],
      ['Win2016_Datacenter-Nov-24-2026', 'Win2016\\Datacenter.json'],
      ['Win2016_Datacenter-Nov-24-2026A', 'Win2016\\Datacenter.json'],
      ['Win2016_Datacenter-Nov-24-2026C', 'Win2016\\Datacenter.json'],
      ['win2016_datacenter-nov-24-2026', 'Win2016\\Datacenter.json'],
      // Only the last folder names the image; spaces become '-', dots '_'.
      ['Win2012R2_SQLServer-2016-Express-Jan-9-2027', 'Servers\\Win2012R2\\SQLServer 2016 Express.json'],
      ['Win2016_VS2017_5-Enterprise-Feb-28-2027', 'Win2016\\VS2017.5 Enterprise.json'],
      // A template directly in GoldenImages.
      ['Datacenter-Mar-1-2027', 'Datacenter.json'],
    ];
    for (const [name, imagePath] of cases) assert.ok(isPowerShellFactoryImage(name, tagged(imagePath)), `${name} from ${imagePath}`);
  });

  it("are known by the first versions' naming too: two spaces and (MMM d, yyyy)", () => {
    assert.ok(isPowerShellFactoryImage('Win2016  Datacenter (Nov 4, 2016)', tagged('Win2016\\Datacenter.json')));
    assert.ok(isPowerShellFactoryImage('Win2012R2  VS2015 Enterprise with Azure SDK (Jan 4, 2017)', tagged('Win2012R2\\VS2015 Enterprise with Azure SDK.json')));
  });

  it('are not: another name for the path, an image with an ImageFactory tag, or one without ImagePath', () => {
    const path = 'Win2016\\Datacenter.json';
    for (const name of ['Win2016_Datacenter', 'Win2016_Datacenter-Golden', 'Win2016_Datacenter-Nov-04-2026', 'Win2016_Datacenter-Foo-4-2026', 'Win2016_Datacenter-Nov-4-2026-copy', 'Win2016_SQL-Nov-4-2026', 'Datacenter-Nov-4-2026']) {
      assert.equal(isPowerShellFactoryImage(name, tagged(path)), false, name);
    }
    assert.equal(isPowerShellFactoryImage('Win2016_Datacenter-Nov-4-2026', { ImagePath: path, ImageFactory: '/subscriptions/x/labs/other' }), false);
    assert.equal(isPowerShellFactoryImage('Win2016_Datacenter-Nov-4-2026', undefined), false);
    assert.equal(isPowerShellFactoryImage('Win2016_Datacenter-Nov-4-2026', { imagepath: '' }), false);
  });

  it('read the tag whatever the case of its name', () => {
    assert.ok(isPowerShellFactoryImage('Win2016_Datacenter-Nov-4-2026', { imagepath: 'Win2016\\Datacenter.json' }));
  });
});
