import { AbortError } from '@azure/abort-controller';
import { isRestError, type PipelinePolicy, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import type { Reporter } from '../report';
import { retryAfterMs, sleep } from './retryPolicy';

/**
 * Keeps a run's Resource Manager requests within the connection's token buckets instead of running
 * into them. Resource Manager keeps one bucket per subscription, principal and kind of request (reads,
 * writes, deletes) and says on every answer how many tokens are left
 * (`x-ms-ratelimit-remaining-subscription-<kind>`, and `-global-<kind>` for all principals together).
 * Parallel jobs would otherwise all be refused at once and, after the same Retry-After, all try again
 * at once, so that most of what they send is refused. So, for each bucket:
 *
 * - no more requests are in flight than the tokens last reported left (at least one, to learn more),
 *   and only one until the first answer has said how many are left;
 * - after a 429, no request of that kind is sent until its Retry-After has passed.
 *
 * The retry policy (retryPolicy.ts) still waits out each refused request; this only keeps the others
 * from adding to the refusals. One pacer serves every client of a run, as the buckets are the principal's.
 */
export const armPacingPolicyName = 'imageFactoryArmPacingPolicy';

interface Gate {
  /** Whether any answer has come back yet. */
  answered: boolean;
  /** Tokens the last answer said were left; undefined when answers do not say. */
  remaining?: number;
  resumeAtMs: number;
  inFlight: number;
  waiting: (() => void)[];
}

export class ArmPacer {
  private readonly gates = new Map<string, Gate>();

  constructor(private readonly reporter?: Reporter) {}

  policy(): PipelinePolicy {
    return {
      name: armPacingPolicyName,
      sendRequest: async (request, next) => {
        const gate = this.gateOf(request);
        await this.enter(gate, request);
        try {
          const response = await next(request);
          this.learn(gate, response, request);
          return response;
        } catch (error) {
          if (isRestError(error) && error.response) this.learn(gate, error.response, request);
          throw error;
        } finally {
          this.leave(gate);
        }
      },
    };
  }

  private gateOf(request: PipelineRequest): Gate {
    const key = `${subscriptionOf(request.url)} ${kindOf(request.method)}`;
    let gate = this.gates.get(key);
    if (!gate) {
      gate = { answered: false, resumeAtMs: 0, inFlight: 0, waiting: [] };
      this.gates.set(key, gate);
    }
    return gate;
  }

  private async enter(gate: Gate, request: PipelineRequest): Promise<void> {
    for (;;) {
      const wait = gate.resumeAtMs - Date.now();
      if (wait > 0) {
        await sleep(wait, request.abortSignal);
        continue;
      }
      if (gate.inFlight < limitOf(gate)) break;
      await new Promise<void>((resolve, reject) => {
        const signal = request.abortSignal;
        const onAbort = () => {
          gate.waiting.splice(gate.waiting.indexOf(wake), 1);
          reject(new AbortError('The operation was aborted.'));
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        gate.waiting.push(wake);
      });
    }
    gate.inFlight++;
  }

  private leave(gate: Gate): void {
    gate.inFlight--;
    gate.waiting.shift()?.();
  }

  private learn(gate: Gate, response: PipelineResponse, request: PipelineRequest): void {
    const kind = kindOf(request.method);
    const left = ['subscription', 'subscription-global', 'tenant']
      .map((scope) => Number(response.headers.get(`x-ms-ratelimit-remaining-${scope}-${kind}`)))
      .filter((n) => Number.isFinite(n) && n >= 0);
    gate.answered = true;
    gate.remaining = left.length ? Math.min(...left) : undefined;
    if (response.status === 429) {
      gate.remaining = 0;
      const resumeAtMs = Date.now() + (retryAfterMs(response.headers) ?? 1000);
      if (resumeAtMs > gate.resumeAtMs) {
        gate.resumeAtMs = resumeAtMs;
        this.reporter?.debug(`Resource Manager's ${kind} limit is reached; holding ${kind} until ${new Date(resumeAtMs).toISOString()}.`);
      }
    }
    // A slot may have opened: wake as many waiters as may now run.
    const room = limitOf(gate) - gate.inFlight;
    for (let i = 1; i < room && gate.waiting.length; i++) gate.waiting.shift()?.();
  }
}

/** How many requests may be in flight: one until an answer says what is left, then that many (at least one). */
function limitOf(gate: Gate): number {
  if (!gate.answered) return 1;
  return gate.remaining === undefined ? Infinity : Math.max(1, gate.remaining);
}

function kindOf(method: string): 'reads' | 'writes' | 'deletes' {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD') return 'reads';
  if (upper === 'DELETE') return 'deletes';
  return 'writes';
}

function subscriptionOf(url: string): string {
  return /\/subscriptions\/([^/?]+)/i.exec(url)?.[1]?.toLowerCase() ?? 'tenant';
}
