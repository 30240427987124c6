import { ArmError } from '../http';

/**
 * ARM template expressions (`[concat(parameters('labName'), '/', 'vm')]`): parsed and evaluated for the
 * functions golden-image templates use. Any other function is refused with a 400 InvalidTemplate that
 * names it, so a template never deploys here differently from how it would in Azure.
 */

export type TemplateValue = string | number | boolean | null | TemplateValue[] | { [key: string]: TemplateValue };

export interface ExpressionScope {
  parameter(name: string): TemplateValue;
  variable(name: string): TemplateValue;
  resourceGroup(): { id: string; name: string; location: string };
  subscriptionId: string;
  /** Where in the template the expression is (`resources[0].name`), for the error. */
  where: string;
}

type Node =
  | { kind: 'literal'; value: TemplateValue }
  | { kind: 'call'; name: string; args: Node[]; accessors: Accessor[] };
type Accessor = { kind: 'property'; name: string } | { kind: 'index'; index: Node };

export function invalidTemplate(message: string): ArmError {
  return new ArmError(400, 'InvalidTemplate', `Deployment template validation failed: '${message}'.`);
}

/** Whether a template string is an expression: `[...]`, but not `[[...`, which stands for the literal text. */
export function isExpression(text: string): boolean {
  return text.startsWith('[') && text.endsWith(']') && !text.startsWith('[[');
}

/** Evaluates every string of `value` (recursively) that is an expression. */
export function evaluateValue(value: unknown, scope: ExpressionScope): TemplateValue {
  if (typeof value === 'string') return evaluateString(value, scope);
  if (Array.isArray(value)) return value.map((item, i) => evaluateValue(item, { ...scope, where: `${scope.where}[${i}]` }));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, TemplateValue> = {};
    for (const [key, item] of Object.entries(value)) result[key] = evaluateValue(item, { ...scope, where: `${scope.where}.${key}` });
    return result;
  }
  return value as TemplateValue;
}

export function evaluateString(text: string, scope: ExpressionScope): TemplateValue {
  if (text.startsWith('[[')) return text.slice(1);
  if (!isExpression(text)) return text;
  const parser = new Parser(text.slice(1, -1), scope.where);
  const node = parser.parseExpression();
  parser.expectEnd();
  return evaluate(node, scope);
}

class Parser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly where: string,
  ) {}

  private fail(problem: string): never {
    throw invalidTemplate(`The template language expression '${this.text}' at '${this.where}' is not valid: ${problem}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  expectEnd(): void {
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.text.slice(this.pos)}'`);
  }

  parseExpression(): Node {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "'") return { kind: 'literal', value: this.parseString() };
    if (c !== undefined && /[-0-9]/.test(c)) {
      const match = /^-?\d+/.exec(this.text.slice(this.pos));
      if (!match) this.fail('a number was expected');
      this.pos += match[0].length;
      return { kind: 'literal', value: Number(match[0]) };
    }
    const name = /^[A-Za-z_][\w.]*/.exec(this.text.slice(this.pos))?.[0];
    if (!name) this.fail(c === undefined ? 'the expression ends early' : `unexpected '${c}'`);
    this.pos += name.length;
    if (name === 'true' || name === 'false' || name === 'null') return { kind: 'literal', value: name === 'null' ? null : name === 'true' };
    this.skipSpace();
    if (this.text[this.pos] !== '(') this.fail(`'${name}' is not a function call`);
    this.pos++;
    const args: Node[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ')') this.pos++;
    else {
      for (;;) {
        args.push(this.parseExpression());
        this.skipSpace();
        const next = this.text[this.pos++];
        if (next === ')') break;
        if (next !== ',') this.fail(`',' or ')' was expected after an argument of '${name}'`);
      }
    }
    return { kind: 'call', name, args, accessors: this.parseAccessors() };
  }

  private parseAccessors(): Accessor[] {
    const accessors: Accessor[] = [];
    for (;;) {
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === '.') {
        this.pos++;
        const name = /^[A-Za-z_$][\w$]*/.exec(this.text.slice(this.pos))?.[0];
        if (!name) this.fail("a property name was expected after '.'");
        this.pos += name.length;
        accessors.push({ kind: 'property', name });
      } else if (c === '[') {
        this.pos++;
        const index = this.parseExpression();
        this.skipSpace();
        if (this.text[this.pos++] !== ']') this.fail("']' was expected");
        accessors.push({ kind: 'index', index });
      } else return accessors;
    }
  }

  private parseString(): string {
    let value = '';
    this.pos++;
    for (;;) {
      if (this.pos >= this.text.length) this.fail('a string is not closed');
      const c = this.text[this.pos++];
      if (c !== "'") value += c;
      else if (this.text[this.pos] === "'") {
        value += "'";
        this.pos++;
      } else return value;
    }
  }
}

function evaluate(node: Node, scope: ExpressionScope): TemplateValue {
  if (node.kind === 'literal') return node.value;
  const args = node.args.map((arg) => evaluate(arg, scope));
  let value = call(node.name, args, scope);
  for (const accessor of node.accessors) {
    const key = accessor.kind === 'property' ? accessor.name : evaluate(accessor.index, scope);
    if (value === null || typeof value !== 'object' || typeof key === 'object' || typeof key === 'boolean') {
      throw invalidTemplate(`The language expression property '${String(key)}' at '${scope.where}' cannot be read from ${JSON.stringify(value)}`);
    }
    const found: TemplateValue | undefined = Array.isArray(value) ? value[Number(key)] : findProperty(value, String(key));
    if (found === undefined) throw invalidTemplate(`The language expression property '${String(key)}' at '${scope.where}' does not exist`);
    value = found;
  }
  return value;
}

/** Template properties are read without regard to case, as ARM reads them. */
function findProperty(object: { [key: string]: TemplateValue }, key: string): TemplateValue | undefined {
  const match = Object.keys(object).find((k) => k.toLowerCase() === key.toLowerCase());
  return match === undefined ? undefined : object[match];
}

function call(name: string, args: TemplateValue[], scope: ExpressionScope): TemplateValue {
  const text = (i: number): string => {
    const value = args[i];
    if (typeof value !== 'string') {
      throw invalidTemplate(`The template function '${name}' at '${scope.where}' expects a string as argument ${i + 1}; got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const arity = (min: number, max = min) => {
    if (args.length < min || args.length > max) {
      throw invalidTemplate(`The template function '${name}' at '${scope.where}' takes ${min === max ? min : `${min} to ${max}`} argument(s); it was given ${args.length}`);
    }
  };
  switch (name.toLowerCase()) {
    case 'parameters':
      arity(1);
      return scope.parameter(text(0));
    case 'variables':
      arity(1);
      return scope.variable(text(0));
    case 'concat':
      if (args.length > 0 && args.every(Array.isArray)) return (args as TemplateValue[][]).flat();
      return args.map((arg) => (typeof arg === 'object' && arg !== null ? JSON.stringify(arg) : String(arg))).join('');
    case 'resourcegroup':
      arity(0);
      return { ...scope.resourceGroup() };
    case 'resourceid':
      return resourceId(args.map((_, i) => text(i)), scope);
    default:
      throw invalidTemplate(
        `The template function '${name}' at '${scope.where}' is not supported by the local Azure, which evaluates parameters, variables, concat, resourceGroup and resourceId`,
      );
  }
}

/** resourceId([subscriptionId], [resourceGroupName], resourceType, name1, name2, ...), in the deployment's resource group by default. */
function resourceId(args: string[], scope: ExpressionScope): string {
  const typeIndex = args.findIndex((arg) => arg.includes('/'));
  if (typeIndex < 0 || typeIndex > 2) throw invalidTemplate(`The template function 'resourceId' at '${scope.where}' needs a resource type such as 'Microsoft.DevTestLab/labs'`);
  const type = args[typeIndex];
  const names = args.slice(typeIndex + 1);
  const segments = type.split('/');
  const namespace = segments[0];
  const types = segments.slice(1);
  if (types.length !== names.length) {
    throw invalidTemplate(
      `Unable to evaluate template language function 'resourceId' at '${scope.where}': the type '${type}' requires ${types.length} resource name argument(s); ${names.length} were given`,
    );
  }
  const subscriptionId = typeIndex === 2 ? args[0] : scope.subscriptionId;
  const resourceGroup = typeIndex === 0 ? scope.resourceGroup().name : args[typeIndex - 1];
  const path = types.map((t, i) => `${t}/${names[i]}`).join('/');
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${namespace}/${path}`;
}
