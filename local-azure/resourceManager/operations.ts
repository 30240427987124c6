import { randomUUID } from 'node:crypto';
import type { FaultPlan } from '../faults';
import { ArmError, type Reply } from '../http';
import type { Settings } from '../settings';

/**
 * Long-running operations. Each runs for a set time and takes effect when a request arrives after that
 * time (any request settles every due operation first), so the state a client sees is always consistent
 * with what the operation-status endpoints say, without timers that outlive the server.
 */

export type Provider = 'Microsoft.DevTestLab' | 'Microsoft.Compute';

export interface OperationError {
  code: string;
  message: string;
}

export interface OperationSpec {
  provider: Provider;
  subscriptionId: string;
  location: string;
  /** The swagger operation id that started it (for faults and the state view). */
  operationId: string;
  /** Request path that started it; fault rules with `match` are matched against it. */
  path: string;
  durationMs: number;
  /** The effect when the time is up; the value is the result body. Throwing an ArmError fails the operation. */
  complete: () => Promise<unknown> | unknown;
  /** The effect when the operation ends Failed (a `lroFailed` fault or `complete` throwing). */
  onFailure?: (error: OperationError) => void;
  /** The error a `lroFailed` fault gives, unless the fault names its own code. */
  failure?: OperationError;
  /** api-version for the status links (the one of the starting request). */
  apiVersion: string;
}

export interface AsyncOperation {
  id: string;
  spec: OperationSpec;
  startTime: Date;
  endTime?: Date;
  doneAt: number;
  status: 'Running' | 'Succeeded' | 'Failed';
  error?: OperationError;
  errorStatus?: number;
  result?: unknown;
  injectedFailure?: { error: OperationError; status: number };
  settling?: Promise<void>;
}

/** Finished operations are kept this long for late polls. */
const RETENTION_MS = 30 * 60 * 1000;

export class Operations {
  private readonly operations = new Map<string, AsyncOperation>();

  constructor(
    private readonly settings: Settings,
    private readonly faults: FaultPlan,
    private readonly baseUrl: () => string,
  ) {}

  /** Starts an operation for an ARM request on `resource` (in its subscription and location). */
  startFor(
    request: { operationId: string; url: URL; apiVersion: string },
    resource: { subscriptionId: string; location: string },
    provider: Provider,
    spec: Pick<OperationSpec, 'durationMs' | 'complete' | 'onFailure' | 'failure'>,
  ): AsyncOperation {
    return this.start({
      provider,
      subscriptionId: resource.subscriptionId,
      location: resource.location,
      operationId: request.operationId,
      path: request.url.pathname,
      apiVersion: request.apiVersion,
      ...spec,
    });
  }

  start(spec: OperationSpec): AsyncOperation {
    let durationMs = spec.durationMs;
    const slow = this.faults.take(spec.operationId, spec.path, ['slowLro']);
    if (slow) durationMs += slow.delayMs ?? 0;
    const failed = this.faults.take(spec.operationId, spec.path, ['lroFailed']);
    const op: AsyncOperation = {
      id: randomUUID(),
      spec,
      startTime: new Date(),
      doneAt: Date.now() + durationMs,
      status: 'Running',
    };
    if (failed) {
      const base = spec.failure ?? { code: 'InternalServerError', message: `The operation ${spec.operationId} failed.` };
      op.injectedFailure = {
        error: { code: failed.code ?? base.code, message: base.message },
        status: failed.status ?? 500,
      };
    }
    this.operations.set(op.id, op);
    return op;
  }

  get(id: string): AsyncOperation | undefined {
    return this.operations.get(id.toLowerCase());
  }

  running(): AsyncOperation[] {
    return [...this.operations.values()].filter((op) => op.status === 'Running');
  }

  /** Completes every operation whose time is up. */
  async settleDue(): Promise<void> {
    const now = Date.now();
    const due: Promise<void>[] = [];
    for (const op of this.operations.values()) {
      if (op.status === 'Running' && op.doneAt <= now) due.push(this.settle(op));
      else if (op.endTime && now - op.endTime.getTime() > RETENTION_MS) this.operations.delete(op.id);
    }
    await Promise.all(due);
  }

  private settle(op: AsyncOperation): Promise<void> {
    op.settling ??= (async () => {
      if (op.injectedFailure) {
        this.finishFailed(op, op.injectedFailure.error, op.injectedFailure.status);
        return;
      }
      try {
        op.result = await op.spec.complete();
        op.status = 'Succeeded';
        op.endTime = new Date();
      } catch (error) {
        if (!(error instanceof ArmError)) throw error;
        this.finishFailed(op, { code: error.code, message: error.message }, error.status);
      }
    })();
    return op.settling;
  }

  private finishFailed(op: AsyncOperation, error: OperationError, status: number): void {
    op.status = 'Failed';
    op.error = error;
    op.errorStatus = status;
    op.endTime = new Date();
    op.spec.onFailure?.(error);
  }

  /** Azure-AsyncOperation: the operation's status resource. */
  statusUrl(op: AsyncOperation): string {
    return `${this.operationsUrl(op)}/${op.id}?api-version=${op.spec.apiVersion}`;
  }

  /** Location: 202 while running, then the result (or the error) with its status code. */
  resultUrl(op: AsyncOperation): string {
    return op.spec.provider === 'Microsoft.Compute'
      ? `${this.operationsUrl(op)}/${op.id}?monitor=true&api-version=${op.spec.apiVersion}`
      : `${this.locationUrl(op)}/operationResults/${op.id}?api-version=${op.spec.apiVersion}`;
  }

  /**
   * Headers of the 201/202 answer that starts `op`. DevTest Labs and Compute both name the status resource
   * (Azure-AsyncOperation) as well as the Location: clients follow the status, which answers 200 with
   * `Failed` and the error when the operation fails, where the Location would answer the error's own
   * status (a 500 that clients retry for a minute before they report it).
   */
  startHeaders(op: AsyncOperation): Record<string, string> {
    return { 'Azure-AsyncOperation': this.statusUrl(op), Location: this.resultUrl(op), ...this.retryAfter() };
  }

  retryAfter(): Record<string, string> {
    // 0 leaves the header out, so clients poll at their own interval (fast tests).
    return this.settings.lroRetryAfterSeconds > 0 ? { 'Retry-After': String(this.settings.lroRetryAfterSeconds) } : {};
  }

  /** GET on an Azure-AsyncOperation URL. DevTest Labs answers 202 while running (its OperationResult). */
  statusReply(op: AsyncOperation): Reply {
    if (op.spec.provider === 'Microsoft.DevTestLab') {
      if (op.status === 'Running') return { status: 202, headers: this.retryAfter(), body: { status: 'Running' } };
      if (op.status === 'Succeeded') return { status: 200, body: { status: 'Succeeded', statusCode: 'OK' } };
      return { status: 200, body: { status: 'Failed', statusCode: httpStatusName(op.errorStatus ?? 500), error: op.error } };
    }
    const body: Record<string, unknown> = {
      name: op.id,
      status: op.status === 'Running' ? 'InProgress' : op.status,
      startTime: op.startTime.toISOString(),
    };
    if (op.endTime) body.endTime = op.endTime.toISOString();
    if (op.error) body.error = op.error;
    if (op.status === 'Succeeded' && op.result !== undefined) body.properties = { output: op.result };
    return { status: 200, headers: op.status === 'Running' ? this.retryAfter() : {}, body };
  }

  /** GET on a Location URL. */
  resultReply(op: AsyncOperation): Reply {
    if (op.status === 'Running') return { status: 202, headers: { Location: this.resultUrl(op), ...this.retryAfter() } };
    if (op.status === 'Failed') {
      return new ArmError(op.errorStatus ?? 500, op.error?.code ?? 'InternalServerError', op.error?.message ?? 'The operation failed.').toReply();
    }
    return op.result === undefined ? { status: op.spec.provider === 'Microsoft.Compute' ? 200 : 204 } : { status: 200, body: op.result };
  }

  private locationUrl(op: AsyncOperation): string {
    return `${this.baseUrl()}/subscriptions/${op.spec.subscriptionId}/providers/${op.spec.provider}/locations/${op.spec.location}`;
  }

  private operationsUrl(op: AsyncOperation): string {
    return `${this.locationUrl(op)}/operations`;
  }
}

function httpStatusName(status: number): string {
  const names: Record<number, string> = {
    400: 'BadRequest',
    404: 'NotFound',
    409: 'Conflict',
    429: 'TooManyRequests',
    500: 'InternalServerError',
    503: 'ServiceUnavailable',
  };
  return names[status] ?? String(status);
}
