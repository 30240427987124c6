import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { compileLabsValidator, labsValidatorSource } from '../../core/config/labsValidator';

/*
 * The task bundles validate labs.json with ajv's standalone code, made by scripts/build.mjs from
 * labsValidatorSource(); the TypeScript build compiles the schema at run time. Both must answer the same
 * errors, as ValidateLabsJson's messages are made from them.
 */

const repoRoot = path.resolve(__dirname, '../../..');
const SUB = '7d2f5b8a-3c41-4e0f-9a6b-21c8d4e7f310';

function precompiled(): ValidateFunction {
  const module = { exports: {} as { default?: ValidateFunction } };
  // The generated code may require ajv's runtime helpers: resolve them from the repository.
  new Function('module', 'exports', 'require', labsValidatorSource({ esm: false }))(module, module.exports, createRequire(path.join(repoRoot, 'package.json')));
  return module.exports.default!;
}

const lab = (more: Record<string, unknown>) => ({ SubscriptionId: SUB, LabName: 'Dev', ImagePaths: ['Windows'], ...more });

const DOCUMENTS: Record<string, unknown> = {
  'the sample labs.json': JSON.parse(fs.readFileSync(path.join(repoRoot, 'Configuration', 'labs.json'), 'utf8')),
  'a misspelt property': { Labs: [{ SubscriptionId: SUB, LabNmae: 'Dev', ImagePaths: ['Windows'] }] },
  'a value of the wrong type and one off its pattern': { Labs: [lab({ ImagePaths: 'Windows' }), lab({ SubscriptionId: 'abc' })] },
  'an unknown top-level property and no Labs': { Lab: [] },
  'not an object': ['Labs'],
  'an empty lab': { Labs: [{}] },
};

describe('labs.json validator, precompiled for the bundles', () => {
  const atRunTime = compileLabsValidator();
  const ahead = precompiled();

  for (const [what, document] of Object.entries(DOCUMENTS)) {
    it(`answers ${what} with the errors the run-time compiled one gives`, () => {
      const valid = atRunTime(document);
      assert.equal(ahead(document), valid);
      assert.deepEqual(ahead.errors ?? null, atRunTime.errors ?? null);
      if (what !== 'the sample labs.json') assert.ok(!valid && atRunTime.errors!.length > 0, 'the document has errors to compare');
    });
  }
});
