import Ajv, { type Options, type ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import labsSchemaDocument from '../../Configuration/labs.schema.json';

/**
 * labs.json's shape is Configuration/labs.schema.json, the same file editors use for completion; it is
 * compiled into the task (imported, not read from disk).
 *
 * Here it is compiled by ajv when first needed, which is how it runs from the TypeScript build (tests,
 * local tools). The task bundles do not carry ajv's compiler: scripts/build.mjs compiles the schema with
 * labsAjv() ahead of time (ajv's standalone code) and bundles that validator in place of this module, so
 * both give the same errors.
 */
export const labsSchema: object = labsSchemaDocument;

/** The ajv that compiles the schema, with `more` options (the build adds the ones for standalone code). */
export function labsAjv(more: Options = {}): Ajv {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, ...more });
  // VS Code's keyword for a readable pattern message; the validator uses it for "expected".
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  return ajv;
}

export function compileLabsValidator(): ValidateFunction {
  return labsAjv().compile(labsSchema);
}

/** The validator as ajv's standalone code (an ES module, or CommonJS): what scripts/build.mjs bundles. */
export function labsValidatorSource(options: { esm: boolean }): string {
  const ajv = labsAjv({ code: { source: true, esm: options.esm } });
  return standaloneCode(ajv, ajv.compile(labsSchema));
}
