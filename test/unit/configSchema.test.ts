import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { labsSchema, schemaProblems } from '../../core/config/labsSchema';
import { closestMatch, editDistance } from '../../core/config/suggest';

const repoRoot = path.resolve(__dirname, '../../..');
const schemaFile = path.join(repoRoot, 'Configuration', 'labs.schema.json');

interface SchemaNode {
  description?: string;
  pattern?: string;
  patternErrorMessage?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  definitions?: Record<string, SchemaNode>;
}

describe('labs.schema.json', () => {
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as SchemaNode & { $schema: string };

  it('is what the task validates with, compiled in', () => {
    assert.deepEqual(labsSchema, schema);
  });

  it('is a draft-07 schema that the sample labs.json refers to, as editors need for completion', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    const sample = JSON.parse(fs.readFileSync(path.join(repoRoot, 'Configuration', 'labs.json'), 'utf8'));
    assert.equal(sample.$schema, './labs.schema.json');
    assert.deepEqual(schemaProblems(sample), []);
  });

  it('describes every property, and every pattern in words (VS Code shows patternErrorMessage)', () => {
    const undescribed: string[] = [];
    const visit = (node: SchemaNode, where: string) => {
      if (!node.description) undescribed.push(where);
      if (node.pattern) {
        assert.ok(node.patternErrorMessage, `${where} has a pattern but no patternErrorMessage`);
        assert.doesNotThrow(() => new RegExp(node.pattern!, 'u'), `${where}'s pattern`);
      }
      for (const [name, child] of Object.entries(node.properties ?? {})) visit(child, `${where}.${name}`);
      if (node.items && !('$ref' in node.items)) visit(node.items, `${where}[]`);
    };
    visit(schema, '$');
    for (const [name, definition] of Object.entries(schema.definitions ?? {})) visit(definition, `#${name}`);
    assert.deepEqual(undescribed, []);
  });

  it('states the DevTest Labs lab naming rule it enforces', () => {
    const labName = schema.definitions!.lab.properties!.LabName;
    assert.match(labName.description!, /1 to 50 characters, letters, digits, underscores \(_\) and hyphens \(-\)/);
    const accepts = (name: string) => schemaProblems({ Labs: [{ SubscriptionId: '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310', LabName: name, ImagePaths: [] }] }).length === 0;
    for (const name of ['a', 'Lab_1-Dev', 'L'.repeat(50), '0-_']) assert.ok(accepts(name), name);
    for (const name of ['', 'L'.repeat(51), 'Dev Lab', 'Dev.Lab', 'Déja', 'a/b']) assert.ok(!accepts(name), name);
  });

  it('takes subscription ids as GUIDs in either case', () => {
    const accepts = (id: unknown) => schemaProblems({ Labs: [{ SubscriptionId: id, LabName: 'a', ImagePaths: [] }] }).length === 0;
    assert.ok(accepts('7D2F5B8A-3C41-4E0F-9A6B-21C8D4E7F310'));
    for (const id of ['7d2f5b8a3c414e0f9a6b21c8d4e7f310', '{7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310}', '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f31g', 7]) {
      assert.ok(!accepts(id), String(id));
    }
  });
});

describe('suggestions for mistyped names', () => {
  it('measures edits without regard to case, transpositions counting once', () => {
    assert.equal(editDistance('LabNmae', 'LabName'), 1);
    assert.equal(editDistance('labname', 'LabName'), 0);
    assert.equal(editDistance('Win2061', 'Win2016'), 1);
    assert.equal(editDistance('Win2061', 'Win2160'), 2);
    assert.equal(editDistance('', 'abc'), 3);
  });

  it('suggests the closest candidate only when it is close', () => {
    assert.equal(closestMatch('ImagePath', ['SubscriptionId', 'LabName', 'ImagePaths']), 'ImagePaths');
    assert.equal(closestMatch('Owner', ['SubscriptionId', 'LabName', 'ImagePaths']), undefined);
    assert.equal(closestMatch('Windwos', ['Linux', 'Windows', 'Windows/SQL']), 'Windows');
    assert.equal(closestMatch('ab', ['cd', 'xy']), undefined, 'a short name changed entirely is another name');
    assert.equal(closestMatch('ab', ['ac', 'xy']), 'ac');
  });
});
