import { checkAlone, type Checker } from './scenarioChecker';

/**
 * A fault plan makes the local Azure misbehave the way Azure does on a bad day, per operation, either
 * for the next `count` calls or at random with `probability`. Operation names are the REST API
 * operation ids (`CustomImages_CreateOrUpdate`, `Disks_GrantAccess`, ...) and, for blob storage,
 * `Blob_<Operation>` (`Blob_StartCopy`, `Blob_GetProperties`, `Blob_Delete`, `Blob_AbortCopy`,
 * `Blob_List`, `Blob_Get`, `Blob_Put`); `*` matches every operation.
 */
export type FaultKind =
  /** Answer with an HTTP error status (429 with Retry-After, 500, 503, 409 ...). */
  | 'status'
  /** Drop the connection without an answer. */
  | 'reset'
  /** A long-running operation takes `delayMs` longer than usual. */
  | 'slowLro'
  /** A long-running operation ends Failed (for a custom image: provisioningState Failed). */
  | 'lroFailed'
  /** A server-side blob copy ends with x-ms-copy-status: failed after `failAfterPercent` percent. */
  | 'copyFailed';

export interface FaultRule {
  operation: string;
  kind: FaultKind;
  status?: number;
  /** Error code in the body, e.g. TooManyRequests, InternalServerError. */
  code?: string;
  retryAfterSeconds?: number;
  delayMs?: number;
  failAfterPercent?: number;
  /** Apply to this many matching calls, then stop. */
  count?: number;
  /** Apply to each matching call with this probability (0..1). Used when count is not set. */
  probability?: number;
  /** Only for requests whose path contains this text (a lab name, a blob name). */
  match?: string;
}

export class FaultPlan {
  private rules: (FaultRule & { remaining?: number })[] = [];
  private random: () => number;

  constructor(rules: readonly FaultRule[] = [], random: () => number = Math.random) {
    this.random = random;
    this.replace(rules);
  }

  replace(rules: readonly FaultRule[]): void {
    this.rules = rules.map((rule) => ({ ...rule, remaining: rule.count }));
  }

  list(): FaultRule[] {
    return this.rules.map(({ remaining, ...rule }) => ({ ...rule, count: remaining }));
  }

  /** The fault to apply to this call of `operation`, if any; a counted fault is used up by taking it. */
  take(operation: string, path = '', kinds?: readonly FaultKind[]): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.operation !== '*' && rule.operation !== operation) continue;
      if (kinds && !kinds.includes(rule.kind)) continue;
      if (rule.match && !path.includes(rule.match)) continue;
      if (rule.remaining !== undefined) {
        if (rule.remaining <= 0) continue;
        rule.remaining--;
        return rule;
      }
      if (rule.probability !== undefined && this.random() < rule.probability) return rule;
    }
    return undefined;
  }
}

const FAULT_KINDS: readonly FaultKind[] = ['status', 'reset', 'slowLro', 'lroFailed', 'copyFailed'];

/** A fault plan as the control endpoint replaces it: its rules, or a ScenarioError naming each problem. */
export function validateFaultRules(raw: unknown, source = 'faults'): FaultRule[] {
  return checkAlone(source, (c) => checkFaults(c, raw, source)) ?? [];
}

export function checkFaults(c: Checker, raw: unknown, path: string): FaultRule[] | undefined {
  const rules = c.array(raw, path);
  if (!rules) return undefined;
  const before = c.problems.length;
  rules.forEach((item, i) => {
    const rpath = `${path}[${i}]`;
    const r = c.object(item, rpath, ['operation', 'kind', 'status', 'code', 'retryAfterSeconds', 'delayMs', 'failAfterPercent', 'count', 'probability', 'match']);
    if (!r) return;
    c.string(r.operation, `${rpath}.operation`, { required: true });
    const kind = c.string(r.kind, `${rpath}.kind`, { required: true, oneOf: FAULT_KINDS });
    const status = c.number(r.status, `${rpath}.status`, { integer: true, min: 400, max: 599 });
    if (kind === 'status' && status === undefined && r.status === undefined) c.problem(`${rpath}.status`, 'is required for kind "status"');
    c.string(r.code, `${rpath}.code`);
    c.number(r.retryAfterSeconds, `${rpath}.retryAfterSeconds`, { integer: true, min: 0 });
    c.number(r.delayMs, `${rpath}.delayMs`, { min: 0 });
    if (kind === 'slowLro' && r.delayMs === undefined) c.problem(`${rpath}.delayMs`, 'is required for kind "slowLro"');
    c.number(r.failAfterPercent, `${rpath}.failAfterPercent`, { min: 0, max: 100 });
    c.number(r.count, `${rpath}.count`, { integer: true, min: 1 });
    c.number(r.probability, `${rpath}.probability`, { min: 0, max: 1 });
    if (r.count === undefined && r.probability === undefined) c.problem(rpath, 'needs count or probability');
    c.string(r.match, `${rpath}.match`);
  });
  return c.problems.length === before ? (rules as FaultRule[]) : undefined;
}
