import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  labsPerTemplate,
  labsSelecting,
  loadAndReportConfiguration,
  loadConfiguration,
  type ConfigurationResult,
} from '../../core/config/labsConfig';
import { MemoryReporter, type Issue } from '../../core/report';
import {
  labVmTemplate,
  largeConfigurationFiles,
  removeConfiguration,
  writeConfiguration,
} from '../fixtures/config/configurationFolder';

const repoRoot = path.resolve(__dirname, '../../..');
const SUB = '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310';
const OTHER_SUB = 'c1a9e4f2-6b83-4d57-8e20-94f3b7a1d6c8';

const TEMPLATES = {
  'GoldenImages/Windows/Server2022.json': labVmTemplate('Windows'),
  'GoldenImages/Windows/SQL/SQL2022.json': labVmTemplate('Windows'),
  'GoldenImages/Linux/Ubuntu2204.json': labVmTemplate('Linux'),
};

/** labs.json text with one lab per line, so that positions in tests are easy to read. */
function labsJson(labs: unknown[], extra = ''): string {
  return `{${extra}\n  "Labs": [\n${labs.map((lab) => `    ${JSON.stringify(lab)}`).join(',\n')}\n  ]\n}\n`;
}

const lab = (name: string, imagePaths: unknown, more: Record<string, unknown> = {}) => ({
  SubscriptionId: SUB,
  LabName: name,
  ImagePaths: imagePaths,
  ...more,
});

const summary = (issue: Issue) => `${issue.severity} ${issue.code} ${issue.line ?? '-'}:${issue.column ?? '-'} ${path.basename(issue.file ?? '')}`;

describe('configuration (labs.json and GoldenImages)', () => {
  const made: string[] = [];
  afterEach(() => {
    while (made.length > 0) removeConfiguration(made.pop()!);
  });

  async function load(files: Record<string, unknown>): Promise<ConfigurationResult & { location: string }> {
    const location = writeConfiguration(files);
    made.push(location);
    return { ...(await loadConfiguration(location)), location };
  }

  /** The single issue of a result, asserted to be the only one. */
  function only(result: ConfigurationResult): Issue {
    assert.equal(result.issues.length, 1, `expected one issue, got:\n${result.issues.map((i) => i.message).join('\n')}`);
    return result.issues[0];
  }

  describe('a valid configuration', () => {
    it('accepts the sample Configuration folder with no issue', async () => {
      const result = await loadConfiguration(path.join(repoRoot, 'Configuration'));
      assert.deepEqual(result.issues, []);
      const configuration = result.configuration!;
      assert.deepEqual(
        configuration.templates.map((t) => `${t.imagePath} ${t.osType}`),
        [
          'Linux/Ubuntu2204-Gen2.json Linux',
          'Linux/Ubuntu2204.json Linux',
          'SQLServer/SQL2022-Developer.json Windows',
          'Windows11/Enterprise.json Windows',
          'WindowsServer/Server2022-Datacenter.json Windows',
        ],
      );
      assert.equal(configuration.labs.length, 6);
      assert.deepEqual(result.checked, { labs: 6, templates: 5 });
      const sample = JSON.parse(fs.readFileSync(path.join(repoRoot, 'Configuration', 'labs.json'), 'utf8'));
      assert.equal(sample.$schema, './labs.schema.json');
    });

    it('reads each lab, normalizes its ImagePaths and resolves the templates they select', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([
          lab('Dev', ['windows\\', 'Linux/Ubuntu2204.json'], { ResourceGroup: 'dev-rg' }),
          lab('Test', ['Windows\\SQL'], { SubscriptionId: OTHER_SUB }),
          lab('Empty', []),
        ]),
      });
      assert.deepEqual(result.issues, []);
      const { labs, templates, location, labsFile, goldenImagesFolder } = result.configuration!;
      assert.equal(location, result.location);
      assert.equal(labsFile, path.join(result.location, 'labs.json'));
      assert.equal(goldenImagesFolder, path.join(result.location, 'GoldenImages'));
      assert.deepEqual(labs, [
        {
          index: 0,
          subscriptionId: SUB,
          labName: 'Dev',
          resourceGroup: 'dev-rg',
          imagePaths: ['windows', 'Linux/Ubuntu2204.json'],
          templates: ['Linux/Ubuntu2204.json', 'Windows/SQL/SQL2022.json', 'Windows/Server2022.json'],
        },
        { index: 1, subscriptionId: OTHER_SUB, labName: 'Test', imagePaths: ['Windows/SQL'], templates: ['Windows/SQL/SQL2022.json'] },
        { index: 2, subscriptionId: SUB, labName: 'Empty', imagePaths: [], templates: [] },
      ]);
      assert.deepEqual(templates[0], {
        imagePath: 'Linux/Ubuntu2204.json',
        file: path.join(result.location, 'GoldenImages', 'Linux', 'Ubuntu2204.json'),
        osType: 'Linux',
        galleryImageReference: { publisher: 'Canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts', version: 'latest' },
        notes: 'A Linux golden image',
        size: 'Standard_D2s_v5',
      });
      const configuration = result.configuration!;
      assert.deepEqual([...labsPerTemplate(configuration)], [
        ['Linux/Ubuntu2204.json', 1],
        ['Windows/SQL/SQL2022.json', 2],
        ['Windows/Server2022.json', 1],
      ]);
      assert.deepEqual(labsSelecting(configuration, 'windows\\sql\\sql2022.JSON').map((l) => l.labName), ['Dev', 'Test']);
    });

    it('accepts byte-order marks (UTF-8, UTF-16), "$schema", any case of the file and folder names and of osType', async () => {
      const result = await load({
        'GoldenImages/Linux/a.json': labVmTemplate('linux', (vm) => {
          vm.type = 'microsoft.devtestlab/Labs/VirtualMachines';
          delete (vm.properties.galleryImageReference as Record<string, unknown>).version;
          vm.properties.notes = "[parameters('notes')]";
        }),
        'GoldenImages/Linux/README.md': 'not a template',
        'GoldenImages/.drafts/broken.json': '{',
        'labs.json': `\uFEFF${labsJson([lab('Dev', ['linux'])], ' "$schema": "./labs.schema.json",')}`,
      });
      assert.deepEqual(result.issues, []);
      const template = result.configuration!.templates[0];
      assert.equal(template.osType, 'Linux');
      assert.equal(template.galleryImageReference.version, 'latest');
      assert.equal(template.notes, undefined, 'an expression is not a description');

      const text = labsJson([lab('Dév', ['linux'])]);
      const littleEndian = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
      const bigEndian = Buffer.from(littleEndian).swap16();
      for (const bytes of [littleEndian, bigEndian]) {
        const utf16 = await load({ 'GoldenImages/Linux/a.json': labVmTemplate('Linux'), 'labs.json': bytes });
        assert.deepEqual(utf16.issues.map((i) => i.message), [
          'Configuration/labs.json, line 3, column 72: lab Labs[0] \'Dév\', $.Labs[0].LabName: found "Dév", expected a DevTest Labs lab name: 1 to 50 characters, letters, digits, underscores (_) and hyphens (-).',
        ]);
      }

      const renamed = writeConfiguration({ ...TEMPLATES, 'Labs.JSON': labsJson([lab('Dev', ['Windows', 'Linux'])]) });
      made.push(renamed);
      fs.renameSync(path.join(renamed, 'GoldenImages'), path.join(renamed, 'goldenimages'));
      const other = await loadConfiguration(renamed);
      assert.deepEqual(other.issues, []);
      assert.equal(other.configuration!.labsFile, path.join(renamed, 'Labs.JSON'));
    });
  });

  describe('the folder, labs.json and GoldenImages', () => {
    it('reports a configuration folder that does not exist or is a file', async () => {
      const missing = await loadConfiguration('/nonexistent/Configuration');
      assert.deepEqual(missing.issues, [
        {
          severity: 'error',
          code: 'IF1001',
          message: "The configuration folder '/nonexistent/Configuration' does not exist.",
          fix: 'Set ConfigurationLocation to the folder that holds labs.json and GoldenImages/ (in a pipeline usually $(Build.SourcesDirectory)/Configuration).',
          file: '/nonexistent/Configuration',
        },
      ]);
      assert.equal(missing.configuration, undefined);
      const result = await load({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows', 'Linux'])]) });
      const file = await loadConfiguration(path.join(result.location, 'labs.json'));
      assert.equal(only(file).code, 'IF1001');
      assert.match(only(file).message, /labs\.json' is a file, not a folder\.$/);
    });

    it('reports a missing labs.json and still checks every template', async () => {
      const result = await load({ ...TEMPLATES, 'GoldenImages/Bad.json': '[' });
      assert.deepEqual(result.issues.map(summary), ['error IF1002 -:- labs.json', 'error IF1009 1:2 Bad.json']);
      assert.equal(result.issues[0].message, 'Configuration/labs.json: labs.json does not exist.');
      assert.equal(result.issues[0].file, path.join(result.location, 'labs.json'));
      assert.equal(result.configuration, undefined);
    });

    it('reports a missing GoldenImages folder, and no ImagePaths entry as selecting nothing', async () => {
      const location = writeConfiguration({ 'labs.json': labsJson([lab('Dev', ['Windows'])]) });
      made.push(location);
      fs.rmSync(path.join(location, 'GoldenImages'), { recursive: true });
      const result = await loadConfiguration(location);
      assert.equal(only(result).code, 'IF1008');
      assert.equal(only(result).message, 'Configuration/GoldenImages: the GoldenImages folder does not exist.');
      fs.writeFileSync(path.join(location, 'GoldenImages'), '');
      assert.equal(only(await loadConfiguration(location)).message, 'Configuration/GoldenImages: GoldenImages is a file, not a folder.');
    });
  });

  describe('labs.json syntax', () => {
    it('reports invalid JSON with the file, line and column, after a byte-order mark too', async () => {
      const result = await load({ ...TEMPLATES, 'labs.json': '\uFEFF{\n  "Labs": [\n    {"LabName": "Dev",}\n  ]\n}\n' });
      const issue = only(result);
      assert.deepEqual(issue, {
        severity: 'error',
        code: 'IF1003',
        message: "Configuration/labs.json, line 3, column 22: labs.json is not valid JSON: a trailing comma before '}' is not allowed in JSON.",
        fix: 'Correct the JSON at line 3, column 22; an editor that knows JSON (with "$schema": "./labs.schema.json" in the file) shows such mistakes as you type.',
        file: path.join(result.location, 'labs.json'),
        line: 3,
        column: 22,
      });
    });
  });

  describe('property names written twice', () => {
    it('refuses labs.json with a doubled ImagePaths, naming both positions, and yields no configuration', async () => {
      const text = '{\n  "Labs": [\n    {\n      "SubscriptionId": "' + SUB + '",\n      "LabName": "Dev",\n      "ImagePaths": ["Windows"],\n      "ImagePaths": ["Linux"]\n    }\n  ]\n}\n';
      const result = await load({ ...TEMPLATES, 'labs.json': text });
      assert.equal(result.configuration, undefined);
      assert.deepEqual(only(result), {
        severity: 'error',
        code: 'IF1014',
        message:
          'Configuration/labs.json, line 7, column 7: $.Labs[0]: the property "ImagePaths" is written twice in one object, at line 6, column 7 and at line 7, column 7; JSON would keep only the second and drop the first without a word.',
        fix: 'Keep one "ImagePaths" in the object (merge the two values into it if both are wanted).',
        file: path.join(result.location, 'labs.json'),
        line: 7,
        column: 7,
      });
    });

    it('reports every doubled name in a template, at any depth, and treats the template as broken', async () => {
      const template = JSON.stringify(labVmTemplate('Linux'), null, 2)
        .replace('"contentVersion": "1.0.0.0",', '"contentVersion": "1.0.0.0",\n  "contentVersion": "2.0.0.0",')
        .replace('"osType": "Linux",', '"osType": "Linux",\n          "osType": "Windows",');
      const result = await load({ ...TEMPLATES, 'GoldenImages/Linux/Ubuntu2204.json': template, 'labs.json': labsJson([lab('Dev', ['Windows', 'Linux'])]) });
      assert.equal(result.configuration, undefined);
      assert.deepEqual(
        result.issues.map((i) => `${i.code} ${i.line}:${i.column} ${i.message.replace(/^.*?: /, '').replace(/ is written.*/, '')}`),
        ['IF1014 4:3 $: the property "contentVersion"', 'IF1014 27:11 $.resources[0].properties.galleryImageReference: the property "osType"'],
      );
    });

    it('accepts the same name in different objects, and names that differ in case', async () => {
      const result = await load({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows']), lab('Test', ['Linux'])], '\n  "labs": [],') });
      assert.ok(!result.issues.some((i) => i.code === 'IF1014'), result.issues.map((i) => i.message).join('\n'));
    });
  });

  describe('labs.json schema', () => {
    it('names the lab, JSON path, what was found and what is expected, at the value', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([lab('Dev', ['Windows', 'Linux']), lab('Test', ['Windows'], { SubscriptionId: 'not-a-guid' })]),
      });
      const issue = only(result);
      assert.equal(issue.code, 'IF1004');
      assert.equal(
        issue.message,
        'Configuration/labs.json, line 4, column 23: lab Labs[1] \'Test\', $.Labs[1].SubscriptionId: found "not-a-guid", expected a GUID, 8-4-4-4-12 hexadecimal digits, e.g. 7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310.',
      );
      assert.equal(
        issue.fix,
        'Set $.Labs[1].SubscriptionId to a GUID, 8-4-4-4-12 hexadecimal digits, e.g. 7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310. Add "$schema": "./labs.schema.json" to labs.json and editors check it as you type.',
      );
      assert.deepEqual([issue.line, issue.column], [4, 23]);
      assert.equal(result.configuration, undefined);
    });

    it('reports a misspelt property once, at its name, with a suggestion', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([{ SubscriptionId: SUB, LabNmae: 'Dev', ImagePaths: ['Windows', 'Linux'] }], ' "$schema": "./labs.schema.json",'),
      });
      const issue = only(result);
      assert.equal(
        issue.message,
        "Configuration/labs.json, line 3, column 62: lab Labs[0], $.Labs[0].LabNmae: found an unknown property 'LabNmae', expected one of 'SubscriptionId', 'LabName', 'ResourceGroup', 'ImagePaths' (names are case-sensitive). Did you mean 'LabName'?",
      );
      assert.equal(issue.fix, "Rename 'LabNmae' to 'LabName'.");
    });

    it('suggests the right case, and nothing for an unrelated name', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([{ subscriptionid: SUB, LabName: 'Dev', ImagePaths: ['Windows', 'Linux'], Owner: 'me' }]),
      });
      assert.deepEqual(
        result.issues.map((i) => `${i.code} ${i.fix}`),
        [
          "IF1004 Rename 'subscriptionid' to 'SubscriptionId'. Add \"$schema\": \"./labs.schema.json\" to labs.json and editors check it as you type.",
          "IF1004 Remove 'Owner'; labs.json takes only the properties labs.schema.json describes. Add \"$schema\": \"./labs.schema.json\" to labs.json and editors check it as you type.",
        ],
      );
    });

    it('reports missing properties at the lab, wrong types, and a document that is not an object', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([
          { SubscriptionId: SUB, ImagePaths: ['Windows', 'Linux'] },
          { SubscriptionId: 42, LabName: 'Two', ImagePaths: 'Windows' },
          { SubscriptionId: SUB, LabName: 'Three', ImagePaths: ['Windows', 7] },
          'Four',
        ]),
      });
      assert.deepEqual(
        result.issues.map((i) => `${i.line}:${i.column} ${i.message.replace(/^Configuration\/labs\.json, line \d+, column \d+: /, '')}`),
        [
          "3:5 lab Labs[0], $.Labs[0]: found no 'LabName' property, expected 'LabName': a DevTest Labs lab name: 1 to 50 characters, letters, digits, underscores (_) and hyphens (-).",
          "4:23 lab Labs[1] 'Two', $.Labs[1].SubscriptionId: found 42 (a number), expected a string: a GUID, 8-4-4-4-12 hexadecimal digits, e.g. 7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310.",
          "4:55 lab Labs[1] 'Two', $.Labs[1].ImagePaths: found \"Windows\", expected an array of strings.",
          "5:104 lab Labs[2] 'Three', $.Labs[2].ImagePaths[1]: found 7 (a number), expected a string.",
          '6:5 lab Labs[3], $.Labs[3]: found "Four", expected an object.',
        ],
      );
      assert.equal(result.issues[0].fix, "Add 'LabName' to $.Labs[0]. Add \"$schema\": \"./labs.schema.json\" to labs.json and editors check it as you type.");

      const notObject = await load({ ...TEMPLATES, 'labs.json': '[{"LabName": "Dev"}]' });
      assert.equal(only(notObject).message, 'Configuration/labs.json, line 1, column 1: $: found an array of 1 item(s), expected an object.');
      for (const text of ['null', '0', 'false', '""']) {
        const falsy = await load({ ...TEMPLATES, 'labs.json': text });
        assert.equal(only(falsy).code, 'IF1004', text);
        assert.match(only(falsy).message, /^Configuration\/labs\.json, line 1, column 1: \$: found .*, expected an object\.$/);
      }
      const noLabs = await load({ ...TEMPLATES, 'labs.json': '{"Lab": []}' });
      assert.deepEqual(
        noLabs.issues.map((i) => i.message),
        ["Configuration/labs.json, line 1, column 2: $.Lab: found an unknown property 'Lab', expected one of 'Labs' (names are case-sensitive). Did you mean 'Labs'?"],
      );
    });

    it('holds LabName to the DevTest Labs naming rule and ResourceGroup to the resource group rule', async () => {
      const fifty = 'L'.repeat(50);
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([
          lab(fifty, ['Windows', 'Linux'], { ResourceGroup: 'rg_(1).x' }),
          lab('dev_lab-1', ['Windows']),
          lab(`${fifty}1`, ['Windows']),
          lab('Dev Lab', ['Windows']),
          lab('', ['Windows']),
          lab('Dev.Lab', ['Windows']),
          lab('Five', ['Windows'], { ResourceGroup: 'rg.' }),
          lab('Six', ['Windows'], { ResourceGroup: 'r'.repeat(91) }),
        ]),
      });
      assert.deepEqual(
        result.issues.map((i) => `${i.code} ${/\$\.Labs\[\d\]\.\w+/.exec(i.message)?.[0]}`),
        [
          'IF1004 $.Labs[2].LabName',
          'IF1004 $.Labs[3].LabName',
          'IF1004 $.Labs[4].LabName',
          'IF1004 $.Labs[5].LabName',
          'IF1004 $.Labs[6].ResourceGroup',
          'IF1004 $.Labs[7].ResourceGroup',
        ],
      );
      assert.match(result.issues[1].message, /found "Dev Lab", expected a DevTest Labs lab name: 1 to 50 characters, letters, digits, underscores \(_\) and hyphens \(-\)\.$/);
    });
  });

  describe('labs.json meaning', () => {
    it('reports a lab listed twice, comparing subscription and name without regard to case', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([
          lab('Dev', ['Windows']),
          lab('Dev', ['Linux'], { SubscriptionId: OTHER_SUB }),
          lab('DEV', ['Linux'], { SubscriptionId: SUB.toUpperCase() }),
        ]),
      });
      const issue = only(result);
      assert.equal(issue.code, 'IF1005');
      assert.equal(
        issue.message,
        `Configuration/labs.json, line 5, column 5: lab Labs[2] 'DEV', $.Labs[2]: the lab 'DEV' in subscription ${SUB.toUpperCase()} is listed again; it is already Labs[0] (line 3). Found it twice, expected each lab once (subscription id and lab name compared without regard to case).`,
      );
      assert.equal(issue.fix, 'Keep one entry for the lab and merge the ImagePaths of both into it.');
    });

    it('reports blank, absolute and escaping ImagePaths entries', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([lab('Dev', ['Windows', 'Linux', '  ', '/etc/x.json', 'C:\\Images\\a.json', '\\\\server\\share', 'Windows/../../secret.json'])]),
      });
      const problems = result.issues.map((i) => `${i.code} ${i.column} ${/the image path .*?;/.exec(i.message)?.[0]}`);
      assert.deepEqual(problems, [
        'IF1006 110 the image path "  " is blank;',
        'IF1006 115 the image path "/etc/x.json" is an absolute path;',
        'IF1006 129 the image path "C:\\\\Images\\\\a.json" is an absolute path;',
        'IF1006 150 the image path "\\\\\\\\server\\\\share" is an absolute path;',
        "IF1006 170 the image path \"Windows/../../secret.json\" leads out of GoldenImages ('..');",
      ]);
      assert.match(result.issues[0].message, /expected a template file or folder relative to Configuration\/GoldenImages\.$/);
      assert.equal(result.issues[0].fix, 'Write the path relative to GoldenImages, e.g. "Windows" or "Windows/Server2022.json".');
    });

    it('reports an entry that selects no template, by whole path segments, with a suggestion', async () => {
      const result = await load({
        ...TEMPLATES,
        'labs.json': labsJson([lab('Dev', ['Win', 'Linux/Ubuntu2204', 'Windwos\\SQL', 'Windows/SQL2022.json', 'Linux'])]),
      });
      assert.deepEqual(
        result.issues.map((i) => `${i.code} ${i.column} ${i.message.replace(/^.*?ImagePaths\[\d\]: /, '')}`),
        [
          'IF1007 92 the image path "Win" selects no template; expected a template file or a folder of templates under Configuration/GoldenImages (it holds Linux/ and Windows/).',
          'IF1007 98 the image path "Linux/Ubuntu2204" selects no template; expected a template file or a folder of templates under Configuration/GoldenImages (it holds Linux/ and Windows/). Did you mean "Linux/Ubuntu2204.json"?',
          'IF1007 117 the image path "Windwos\\\\SQL" selects no template; expected a template file or a folder of templates under Configuration/GoldenImages (it holds Linux/ and Windows/). Did you mean "Windows/SQL"?',
          'IF1007 132 the image path "Windows/SQL2022.json" selects no template; expected a template file or a folder of templates under Configuration/GoldenImages (it holds Linux/ and Windows/). Did you mean "Windows/SQL/SQL2022.json"?',
        ],
      );
      assert.equal(result.issues[1].fix, 'Change the entry to "Linux/Ubuntu2204.json", or add the template it names.');
      assert.equal(
        result.issues[0].fix,
        'Change the entry to a template file or folder under GoldenImages (a folder selects the templates at or below it, by whole folder names), or add the template.',
      );
    });

    it('does not call an entry empty when the templates it selects are broken: their own errors say so', async () => {
      const result = await load({
        ...TEMPLATES,
        'GoldenImages/Tools/Tool.json': '{"resources": []}',
        'labs.json': labsJson([lab('Dev', ['Windows', 'Linux', 'Tools'])]),
      });
      assert.deepEqual(result.issues.map(summary), ['error IF1010 1:15 Tool.json']);
    });
  });

  describe('golden-image templates', () => {
    const shapeProblem = async (template: unknown): Promise<string[]> => {
      const result = await load({
        ...TEMPLATES,
        'GoldenImages/Linux/Bad.json': template,
        'labs.json': labsJson([lab('Dev', ['Windows', 'Linux'])]),
      });
      for (const issue of result.issues) {
        assert.equal(issue.file, path.join(result.location, 'GoldenImages', 'Linux', 'Bad.json'));
        assert.ok(issue.message.startsWith('Configuration/GoldenImages/Linux/Bad.json'), issue.message);
      }
      return result.issues.map((i) => `${i.code} ${i.line}:${i.column} ${i.message.replace(/^.*?: /, '')}`);
    };
    const resource = (properties: unknown, type = 'Microsoft.DevTestLab/labs/virtualmachines') => ({ type, properties });

    it('reports a template that is not valid JSON with its line and column', async () => {
      assert.deepEqual(await shapeProblem('{\n  "resources": [\n    {"type": "x"\n  ]\n}\n'), [
        "IF1009 4:3 the template is not valid JSON: expected ',' or '}' after a property value, found ']'.",
      ]);
    });

    it('reports each way a template can miss the shape the factory needs', async () => {
      assert.deepEqual(await shapeProblem('[]'), ['IF1010 1:1 found an empty array, expected an ARM template (a JSON object with "resources").']);
      assert.deepEqual(await shapeProblem({ parameters: {} }), [
        'IF1010 1:1 the template has no "resources", expected one Microsoft.DevTestLab/labs/virtualmachines resource.',
      ]);
      assert.deepEqual(await shapeProblem({ resources: {} }), ['IF1010 2:16 "resources" is an object, expected an array of resources.']);
      assert.deepEqual(await shapeProblem({ resources: [resource({}, 'Microsoft.Compute/virtualMachines')] }), [
        'IF1010 2:16 the template has no Microsoft.DevTestLab/labs/virtualmachines resource, expected exactly one (the lab VM the image is made from).',
      ]);
      const two = labVmTemplate('Linux');
      (two.resources as unknown[]).push((two.resources as unknown[])[0]);
      assert.match((await shapeProblem(two))[0], /^IF1010 \d+:5 the template has 2 Microsoft\.DevTestLab\/labs\/virtualmachines resources, expected exactly one/);
      assert.deepEqual(await shapeProblem({ resources: [{ type: 'Microsoft.DevTestLab/labs/virtualmachines' }] }), [
        'IF1010 3:5 the lab VM resource\'s "properties" is missing, expected an object with "galleryImageReference".',
      ]);
      assert.deepEqual(await shapeProblem({ resources: [resource({ customImageId: 'x' })] }), [
        'IF1010 5:21 the lab VM has no properties.galleryImageReference, expected the marketplace image it is made from (publisher, offer, sku, osType).',
      ]);
      assert.deepEqual(await shapeProblem({ resources: [resource({ galleryImageReference: 'Ubuntu' })] }), [
        'IF1010 6:34 properties.galleryImageReference is "Ubuntu", expected an object with publisher, offer, sku and osType.',
      ]);
    });

    it('reports every problem a template has for MakeGoldenImageVMs at once: a parameter it fills, an unknown size, a size that cannot boot the generation', async () => {
      const noName = labVmTemplate('Windows', (vm) => {
        vm.properties.size = 'Standard_Q9_v9';
      });
      delete (noName.parameters as Record<string, unknown>).newVMName;
      assert.deepEqual(
        (await shapeProblem(noName)).map((p) => p.replace(/ \d+:\d+ /, ' ')),
        [
          "IF6004 the template does not declare the parameter(s) 'newVMName', which MakeGoldenImageVMs fills with the factory lab's name and the VM's name.",
          "IF6005 the VM size 'Standard_Q9_v9' is not a size Azure offers.",
        ],
      );
      const gen1Size = labVmTemplate('Linux', (vm) => {
        vm.properties.size = 'Standard_A2_v2';
        (vm.properties.galleryImageReference as Record<string, unknown>).sku = '22_04-lts-gen2';
      });
      assert.deepEqual((await shapeProblem(gen1Size)).map((p) => p.replace(/ \d+:\d+ /, ' ')), [
        "IF6007 the SKU '22_04-lts-gen2' is a Generation 2 image, which a VM of size 'Standard_A2_v2' cannot boot.",
      ]);
    });

    it('reports every missing or wrong gallery image property of a template', async () => {
      const problems = await shapeProblem(
        labVmTemplate('Mac', (vm) => {
          const reference = vm.properties.galleryImageReference as Record<string, unknown>;
          delete reference.sku;
          reference.offer = '';
          reference.version = 2;
        }),
      );
      assert.deepEqual(
        problems.map((p) => p.replace(/^IF1010 \d+:\d+ /, '')),
        [
          'galleryImageReference has no "sku", expected the marketplace image\'s sku.',
          'galleryImageReference.offer is "", expected the marketplace image\'s offer as text.',
          'galleryImageReference.osType is "Mac", expected "Windows" or "Linux".',
          'galleryImageReference.version is 2 (a number), expected a version such as "latest".',
        ],
      );
      assert.deepEqual(await shapeProblem(labVmTemplate("[parameters('os')]")), [
        'IF1010 25:21 galleryImageReference.osType is the expression "[parameters(\'os\')]", expected "Windows" or "Linux" written out: the factory needs the OS type without deploying the template.',
      ]);
    });

    it('reports two templates whose paths differ only in case', async () => {
      const result = await load({
        ...TEMPLATES,
        'GoldenImages/linux/ubuntu2204.json': labVmTemplate('Linux'),
        'labs.json': labsJson([lab('Dev', ['Windows', 'Linux'])]),
      });
      const issue = only(result);
      assert.equal(issue.code, 'IF1013');
      assert.equal(
        issue.message,
        "Configuration/GoldenImages/linux/ubuntu2204.json: the template path 'linux/ubuntu2204.json' differs from 'Linux/Ubuntu2204.json' only in case; image paths ignore case, so both would make the same images.",
      );
    });

    it('warns of a template no lab selects, and the configuration is still usable', async () => {
      const result = await load({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows/SQL', 'Linux'])]) });
      const issue = only(result);
      assert.deepEqual(issue, {
        severity: 'warning',
        code: 'IF1011',
        message: "Configuration/GoldenImages/Windows/Server2022.json: no lab in labs.json selects this template (image path 'Windows/Server2022.json'), so its images reach no lab.",
        fix: 'Add "Windows/Server2022.json" or one of its folders to a lab\'s ImagePaths, or remove the template.',
        file: path.join(result.location, 'GoldenImages', 'Windows', 'Server2022.json'),
      });
      assert.equal(result.configuration?.labs.length, 1);
    });

    it('does not warn of unselected templates while a lab\'s ImagePaths cannot be read', async () => {
      const result = await load({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', 'Windows')]) });
      assert.deepEqual(result.issues.map(summary), ['error IF1004 3:91 labs.json']);
    });
  });

  it('reports every problem of every file in one run, file by file in reading order', async () => {
    const result = await load({
      ...TEMPLATES,
      'GoldenImages/B/broken.json': '{"resources": [}',
      'GoldenImages/A/noref.json': { resources: [{ type: 'Microsoft.DevTestLab/labs/virtualmachines', properties: {} }] },
      'labs.json': labsJson([
        lab('Dev', ['Windows', 'A', 'B', 'Nothing']),
        { SubscriptionId: 'x', LabName: 'Bad Name', ImagePaths: ['..\\x'] },
        lab('dev', ['Linux']),
      ]),
    });
    assert.deepEqual(result.issues.map(summary), [
      'error IF1007 3:110 labs.json',
      'error IF1004 4:23 labs.json',
      'error IF1004 4:37 labs.json',
      'error IF1006 4:62 labs.json',
      'error IF1005 5:5 labs.json',
      'error IF1010 5:21 noref.json',
      'error IF1009 1:16 broken.json',
    ]);
    assert.deepEqual(result.checked, { labs: 3, templates: 5 });
    assert.equal(result.configuration, undefined);
  });

  it('lets other tasks report the issues and stop on errors', async () => {
    const good = writeConfiguration({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Windows'])]) });
    const bad = writeConfiguration({ ...TEMPLATES, 'labs.json': labsJson([lab('Dev', ['Nothing'])]) });
    made.push(good, bad);
    const reporter = new MemoryReporter();
    const configuration = await loadAndReportConfiguration(good, reporter);
    assert.equal(configuration?.labs[0].labName, 'Dev');
    assert.deepEqual(reporter.issues, []);
    assert.match(reporter.debugLines[0], /^\[IF1011\] Configuration\/GoldenImages\/Linux\/Ubuntu2204\.json: no lab/);

    const loud = new MemoryReporter();
    await loadAndReportConfiguration(good, loud, { reportWarnings: true });
    assert.deepEqual(loud.warnings.map((w) => w.code), ['IF1011']);

    const failing = new MemoryReporter();
    assert.equal(await loadAndReportConfiguration(bad, failing), undefined);
    assert.deepEqual(failing.errors.map((e) => e.code), ['IF1007']);
  });

  it('validates 20,000 labs (its speed is measured by the validate benchmark)', async function () {
    this.timeout(30_000);
    const location = writeConfiguration(largeConfigurationFiles(20_000));
    made.push(location);
    const result = await loadConfiguration(location);
    assert.deepEqual(result.issues, []);
    assert.equal(result.configuration?.labs.length, 20_000);
    assert.deepEqual(result.configuration?.labs[5].templates, ['Linux/Base.json', 'SQL/Base.json', 'SQL/Full.json', 'Tools/Full.json']);
  });
});
