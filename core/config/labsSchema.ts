import type { ErrorObject, ValidateFunction } from 'ajv';
import { describeFound } from './configIssues';
import { jsonPointer } from './jsonText';
import { compileLabsValidator } from './labsValidator';
import { closestMatch } from './suggest';

/** labs.json's shape: Configuration/labs.schema.json (labsValidator.ts), checked once compiled per process. */
export { labsSchema } from './labsValidator';

/** One thing wrong with labs.json's shape, in the user's terms. */
export interface SchemaProblem {
  /** JSON pointer of the offending value or property (`/Labs/3/LabName`). */
  pointer: string;
  /** Whether the problem is best shown at the property's name (unknown property) or at the value. */
  at: 'key' | 'value';
  found: string;
  expected: string;
  /** For an unknown property: the known property it was probably meant to be. */
  suggestion?: string;
  /** For an unknown property: its name. */
  unknownProperty?: string;
  /** For a missing required property: its name. */
  missingProperty?: string;
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= compileLabsValidator();
  return compiled;
}

/** Checks a parsed labs.json against labs.schema.json; one problem per mistake, in document order. */
export function schemaProblems(document: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(document)) return [];
  const errors = validate.errors ?? [];

  // A misspelt property shows up twice in ajv's answer: as an unknown property and as a missing
  // required one. It is one mistake, reported once, as the misspelling with its suggestion.
  const problems: SchemaProblem[] = [];
  const suggestedFor = new Set<string>();
  for (const error of errors) {
    if (error.keyword !== 'additionalProperties') continue;
    const problem = unknownProperty(error);
    if (problem.suggestion) suggestedFor.add(`${error.instancePath}\u0000${problem.suggestion}`);
    problems.push(problem);
  }
  for (const error of errors) {
    if (error.keyword === 'additionalProperties') continue;
    if (error.keyword === 'required') {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      if (suggestedFor.has(`${error.instancePath}\u0000${missing}`)) continue;
      problems.push(missingProperty(error, missing));
      continue;
    }
    problems.push(wrongValue(error));
  }
  return problems;
}

function unknownProperty(error: ErrorObject): SchemaProblem {
  const name = (error.params as { additionalProperty: string }).additionalProperty;
  const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
  const present = new Set(Object.keys((error.data as object) ?? {}));
  const suggestion = closestMatch(
    name,
    known.filter((candidate) => !present.has(candidate)),
  );
  const list = known.filter((k) => k !== '$schema').map((k) => `'${k}'`);
  return {
    pointer: `${error.instancePath}${jsonPointer([name])}`,
    at: 'key',
    found: `an unknown property '${name}'`,
    expected: `one of ${list.join(', ')} (names are case-sensitive)`,
    suggestion,
    unknownProperty: name,
  };
}

function missingProperty(error: ErrorObject, missing: string): SchemaProblem {
  const property = ((error.parentSchema as { properties?: Record<string, PropertySchema> }).properties ?? {})[missing];
  return {
    pointer: error.instancePath,
    at: 'value',
    found: `no '${missing}' property`,
    missingProperty: missing,
    expected: `'${missing}'${property ? `: ${expectation(property)}` : ''}`,
  };
}

interface PropertySchema {
  type?: string;
  patternErrorMessage?: string;
  items?: PropertySchema;
}

function expectation(schema: PropertySchema): string {
  if (schema.patternErrorMessage) return schema.patternErrorMessage;
  if (schema.type === 'array') return schema.items?.type ? `an array of ${schema.items.type}s` : 'an array';
  return schema.type ? article(schema.type) : 'a value';
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function wrongValue(error: ErrorObject): SchemaProblem {
  const parent = error.parentSchema as PropertySchema;
  let expected: string;
  switch (error.keyword) {
    case 'type': {
      const type = (error.params as { type: string }).type;
      expected = parent.patternErrorMessage ? `${article(type)}: ${parent.patternErrorMessage}` : expectation({ ...parent, type });
      break;
    }
    case 'pattern':
      expected = parent.patternErrorMessage ?? `text matching ${(error.params as { pattern: string }).pattern}`;
      break;
    default:
      expected = `a value that ${error.message ?? 'matches the schema'}`;
  }
  return { pointer: error.instancePath, at: 'value', found: describeFound(error.data), expected };
}
