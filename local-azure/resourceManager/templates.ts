import { evaluateString, evaluateValue, invalidTemplate, type ExpressionScope, type TemplateValue } from './templateExpressions';

/**
 * A deployment's template and parameters checked as Resource Manager checks them before it accepts the
 * deployment (400 InvalidTemplate), then evaluated into the resources to create. What the local Azure
 * does not evaluate (copy loops, conditions, user functions, Key Vault references) is refused by name.
 */

export interface EvaluatedResource {
  type: string;
  apiVersion: string;
  name: string;
  location?: string;
  tags?: Record<string, string>;
  properties: Record<string, TemplateValue>;
}

export interface EvaluatedTemplate {
  resources: EvaluatedResource[];
  /** Names of parameters whose values must never be shown (securestring, secureObject). */
  secureParameters: string[];
  /** The parameter values as the deployment shows them: secure ones without their value. */
  shownParameters: Record<string, { type: string; value?: TemplateValue }>;
}

const TEMPLATE_MEMBERS = ['$schema', 'contentversion', 'apiprofile', 'metadata', 'parameters', 'variables', 'functions', 'resources', 'outputs'];
const RESOURCE_MEMBERS = ['type', 'apiversion', 'name', 'location', 'tags', 'properties', 'dependson', 'comments', 'metadata'];
const PARAMETER_TYPES = ['string', 'securestring', 'int', 'bool', 'object', 'secureobject', 'array'];

export interface TemplateContext {
  subscriptionId: string;
  resourceGroup: { id: string; name: string; location: string };
}

export function evaluateTemplate(template: unknown, parameters: unknown, context: TemplateContext): EvaluatedTemplate {
  const t = object(template, 'template');
  for (const key of Object.keys(t)) {
    if (!TEMPLATE_MEMBERS.includes(key.toLowerCase())) throw invalidTemplate(`Could not find member '${key}' on object of type 'Template'`);
  }
  if (typeof member(t, 'contentVersion') !== 'string') throw invalidTemplate("Required property 'contentVersion' not found in the template");
  const functions = member(t, 'functions');
  if (functions !== undefined && !(Array.isArray(functions) && functions.length === 0)) {
    throw invalidTemplate("The template's user-defined 'functions' are not supported by the local Azure");
  }
  const declared = member(t, 'parameters') === undefined ? {} : object(member(t, 'parameters'), 'parameters');
  const given = parameters === undefined || parameters === null ? {} : object(parameters, 'parameters');
  const values = parameterValues(declared, given, context);

  const variables = member(t, 'variables') === undefined ? {} : object(member(t, 'variables'), 'variables');
  const evaluatedVariables = new Map<string, TemplateValue>();
  const evaluating = new Set<string>();
  const scope = (where: string): ExpressionScope => ({
    where,
    subscriptionId: context.subscriptionId,
    resourceGroup: () => context.resourceGroup,
    parameter: (name) => {
      const key = Object.keys(values.values).find((k) => k.toLowerCase() === name.toLowerCase());
      if (key === undefined) throw invalidTemplate(`The template parameter '${name}' used at '${where}' is not found. Please see https://aka.ms/arm-syntax-parameters for usage details`);
      return values.values[key];
    },
    variable: (name) => {
      const key = Object.keys(variables).find((k) => k.toLowerCase() === name.toLowerCase());
      if (key === undefined) throw invalidTemplate(`The template variable '${name}' used at '${where}' is not found. Please see https://aka.ms/arm-syntax-variables for usage details`);
      const cached = evaluatedVariables.get(key.toLowerCase());
      if (cached !== undefined) return cached;
      if (evaluating.has(key.toLowerCase())) throw invalidTemplate(`The template variable '${key}' refers to itself`);
      evaluating.add(key.toLowerCase());
      if (key.toLowerCase() === 'copy') throw invalidTemplate("Variable 'copy' loops are not supported by the local Azure");
      const value = evaluateValue(variables[key], scope(`variables.${key}`));
      evaluating.delete(key.toLowerCase());
      evaluatedVariables.set(key.toLowerCase(), value);
      return value;
    },
  });

  const resources = member(t, 'resources');
  if (!Array.isArray(resources)) throw invalidTemplate("Required property 'resources' not found in the template, or it is not an array");
  const evaluated = resources.map((raw, i) => evaluateResource(raw, `resources[${i}]`, scope));
  return { resources: evaluated, secureParameters: values.secure, shownParameters: values.shown };
}

function evaluateResource(raw: unknown, where: string, scope: (where: string) => ExpressionScope): EvaluatedResource {
  const r = object(raw, where);
  for (const key of Object.keys(r)) {
    if (!RESOURCE_MEMBERS.includes(key.toLowerCase())) {
      throw invalidTemplate(`The resource property '${key}' at '${where}' is not supported by the local Azure, which deploys type, apiVersion, name, location, tags and properties (no copy, condition or nested resources)`);
    }
  }
  const text = (name: string, required: boolean): string | undefined => {
    const value = member(r, name);
    if (value === undefined) {
      if (required) throw invalidTemplate(`The template resource at '${where}' has no '${name}'`);
      return undefined;
    }
    const result = typeof value === 'string' ? evaluateString(value, scope(`${where}.${name}`)) : value;
    if (typeof result !== 'string') throw invalidTemplate(`The template resource '${name}' at '${where}' must be a string`);
    return result;
  };
  const type = text('type', true)!;
  const apiVersion = text('apiVersion', true)!;
  const name = text('name', true)!;
  const location = text('location', false);
  const tags = member(r, 'tags') === undefined ? undefined : evaluateValue(member(r, 'tags'), scope(`${where}.tags`));
  if (tags !== undefined && (tags === null || typeof tags !== 'object' || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string'))) {
    throw invalidTemplate(`The template resource '${name}' at '${where}' has tags that are not an object of strings`);
  }
  const properties = member(r, 'properties') === undefined ? {} : evaluateValue(member(r, 'properties'), scope(`${where}.properties`));
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
    throw invalidTemplate(`The template resource '${name}' at '${where}' has 'properties' that are not an object`);
  }
  return { type, apiVersion, name, location, tags: tags as Record<string, string> | undefined, properties };
}

function parameterValues(
  declared: Record<string, unknown>,
  given: Record<string, unknown>,
  context: TemplateContext,
): { values: Record<string, TemplateValue>; secure: string[]; shown: EvaluatedTemplate['shownParameters'] } {
  const values: Record<string, TemplateValue> = {};
  const shown: EvaluatedTemplate['shownParameters'] = {};
  const secure: string[] = [];
  const declaredKeys = Object.keys(declared);
  const unknown = Object.keys(given).filter((name) => !declaredKeys.some((k) => k.toLowerCase() === name.toLowerCase()));
  if (unknown.length > 0) {
    throw invalidTemplate(`The template parameters '${unknown.join(', ')}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '${declaredKeys.join(', ')}'`);
  }
  for (const name of declaredKeys) {
    const spec = object(declared[name], `parameters.${name}`);
    const type = member(spec, 'type');
    if (typeof type !== 'string' || !PARAMETER_TYPES.includes(type.toLowerCase())) {
      throw invalidTemplate(`The template parameter '${name}' has type ${JSON.stringify(type)}; it must be one of string, securestring, int, bool, object, secureObject, array`);
    }
    const givenKey = Object.keys(given).find((k) => k.toLowerCase() === name.toLowerCase());
    let value: TemplateValue | undefined;
    if (givenKey !== undefined) {
      const entry = object(given[givenKey], `parameters.${givenKey}`);
      if (member(entry, 'reference') !== undefined) throw invalidTemplate(`The parameter '${name}' is a Key Vault reference, which the local Azure does not support; give its value`);
      value = member(entry, 'value') as TemplateValue | undefined;
    }
    if (value === undefined && member(spec, 'defaultValue') !== undefined) {
      // A default value may be an expression of the deployment's context (resourceGroup().location).
      value = evaluateValue(member(spec, 'defaultValue'), {
        where: `parameters.${name}.defaultValue`,
        subscriptionId: context.subscriptionId,
        resourceGroup: () => context.resourceGroup,
        parameter: (other) => {
          throw invalidTemplate(`The default value of parameter '${name}' refers to parameter '${other}', which the local Azure does not evaluate`);
        },
        variable: (other) => {
          throw invalidTemplate(`The default value of parameter '${name}' refers to variable '${other}', which is not allowed`);
        },
      });
    }
    if (value === undefined) {
      throw invalidTemplate(`The value for the template parameter '${name}' is not provided. Please see https://aka.ms/arm-create-parameter-file for usage details`);
    }
    checkParameterType(name, type.toLowerCase(), value);
    const allowed = member(spec, 'allowedValues');
    if (Array.isArray(allowed) && !allowed.some((a) => JSON.stringify(a) === JSON.stringify(value))) {
      throw invalidTemplate(`The provided value for the template parameter '${name}' is not valid. The value is not one of the allowed values ${JSON.stringify(allowed)}`);
    }
    values[name] = value;
    const isSecure = type.toLowerCase().startsWith('secure');
    if (isSecure) secure.push(name);
    shown[name] = isSecure ? { type: type === 'securestring' ? 'SecureString' : 'SecureObject' } : { type: capitalType(type), value };
  }
  return { values, secure, shown };
}

function checkParameterType(name: string, type: string, value: TemplateValue): void {
  const ok =
    type === 'string' || type === 'securestring'
      ? typeof value === 'string'
      : type === 'int'
        ? Number.isInteger(value)
        : type === 'bool'
          ? typeof value === 'boolean'
          : type === 'array'
            ? Array.isArray(value)
            : value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!ok) throw invalidTemplate(`Template parameter JToken type is not valid. Expected '${capitalType(type)}' for the template parameter '${name}'`);
}

function capitalType(type: string): string {
  const names: Record<string, string> = { string: 'String', securestring: 'SecureString', int: 'Int', bool: 'Bool', object: 'Object', secureobject: 'SecureObject', array: 'Array' };
  return names[type.toLowerCase()] ?? type;
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidTemplate(`The '${what}' must be a JSON object`);
  return value as Record<string, unknown>;
}

/** A member of a template object, named without regard to case as ARM reads templates. */
function member(value: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(value).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : value[key];
}
