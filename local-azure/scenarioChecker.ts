import { closestMatch } from '../core/config/suggest';

/**
 * What every service's scenario checks share: the error that lists every problem of a scenario at once,
 * and the checker that records each problem with its JSON path.
 */

/** A scenario file that does not describe a valid starting state; `problems` lists each, with its JSON path. */
export class ScenarioError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid scenario:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs `check` on one entry added on its own (a VM, a custom image, settings, a fault plan), as the
 * control endpoints add them: its result, or a ScenarioError under `label` naming every problem.
 */
export function checkAlone<T>(label: string, check: (c: Checker) => T): T {
  const problems: string[] = [];
  const result = check(new Checker(problems));
  if (problems.length) throw new ScenarioError(label, problems);
  return result;
}

/** Names in one list must differ (by `key`); checked on the raw entry, so a bad entry still counts. */
export function checkUnique(c: Checker, seen: Set<string>, entry: unknown, path: string, what: string, key: (name: string) => string): void {
  const name = entry && typeof entry === 'object' ? (entry as { name?: unknown }).name : undefined;
  if (typeof name !== 'string' || name === '') return;
  if (seen.has(key(name))) c.problem(path, `${what} ${name} is listed twice`);
  seen.add(key(name));
}

export class Checker {
  constructor(readonly problems: string[]) {}

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, 'must be an object');
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        const near = closestMatch(key, allowed);
        this.problem(`${path}.${key}`, near ? `unknown field; did you mean "${near}"?` : `unknown field (known: ${allowed.join(', ')})`);
      }
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.problem(path, 'must be an array');
      return undefined;
    }
    return value;
  }

  string(value: unknown, path: string, options: { required?: boolean; pattern?: RegExp; hint?: string; oneOf?: readonly string[] } = {}): string | undefined {
    if (value === undefined) {
      if (options.required) this.problem(path, 'is required');
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      this.problem(path, 'must be a non-empty string');
      return undefined;
    }
    if (options.oneOf && !options.oneOf.includes(value)) {
      this.problem(path, `must be one of ${options.oneOf.join(', ')} (got "${value}")`);
      return undefined;
    }
    if (options.pattern && !options.pattern.test(value)) {
      this.problem(path, `${options.hint ?? `must match ${options.pattern}`} (got "${value}")`);
      return undefined;
    }
    return value;
  }

  number(value: unknown, path: string, options: { min?: number; max?: number; integer?: boolean; above?: number } = {}): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.problem(path, 'must be a number');
      return undefined;
    }
    if (options.integer && !Number.isInteger(value)) this.problem(path, 'must be a whole number');
    else if (options.min !== undefined && value < options.min) this.problem(path, `must be at least ${options.min}`);
    else if (options.above !== undefined && value <= options.above) this.problem(path, `must be more than ${options.above}`);
    else if (options.max !== undefined && value > options.max) this.problem(path, `must be at most ${options.max}`);
    else return value;
    return undefined;
  }

  boolean(value: unknown, path: string): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') {
      this.problem(path, 'must be true or false');
      return undefined;
    }
    return value;
  }

  date(value: unknown, path: string): string | undefined {
    const text = this.string(value, path);
    if (text !== undefined && Number.isNaN(Date.parse(text))) {
      this.problem(path, `must be an ISO 8601 date (got "${text}")`);
      return undefined;
    }
    return text;
  }

  stringMap(value: unknown, path: string, keyPattern?: RegExp, keyHint?: string): Record<string, string> | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, 'must be an object of strings');
      return undefined;
    }
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') this.problem(`${path}.${key}`, 'must be a string');
      if (keyPattern && !keyPattern.test(key)) this.problem(`${path}.${key}`, keyHint ?? `name must match ${keyPattern}`);
    }
    return value as Record<string, string>;
  }
}
