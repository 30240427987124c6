import { ArmError } from '../http';
import type { Settings } from '../settings';

/**
 * Resource Manager's throttling, as Azure runs it since 2024: a token bucket per subscription (or
 * tenant), principal and kind of request (reads: GET and HEAD; deletes: DELETE; writes: everything
 * else, POST actions included), refilled continuously; and, per subscription and kind, a global bucket
 * shared by all principals, 15 times the size and refill of one principal's. A request takes a token
 * from both; when either is empty it is refused with 429 SubscriptionRequestsThrottled and Retry-After.
 * Every answer says what is left: `x-ms-ratelimit-remaining-subscription-<kind>` (the principal's
 * bucket), `x-ms-ratelimit-remaining-subscription-global-<kind>`, or `x-ms-ratelimit-remaining-tenant-<kind>`.
 * https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
 */

export type RequestKind = 'reads' | 'writes' | 'deletes';
/** The global bucket of a subscription is this many times one principal's. */
export const GLOBAL_FACTOR = 15;

interface Bucket {
  tokens: number;
  atMs: number;
}

export interface ThrottleDecision {
  headers: Record<string, string>;
  /** Set when the request is refused. */
  refusal?: ArmError;
}

export class ArmThrottle {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: Settings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for one request, or says how long to wait for one. */
  take(principalObjectId: string, subscriptionId: string | undefined, method: string): ThrottleDecision {
    if (!this.settings.armThrottling) return { headers: {} };
    const kind = kindOf(method);
    const { size, refillPerSecond } = this.limits(kind);
    const atMs = this.now();
    const scope = subscriptionId ? `subscription ${subscriptionId.toLowerCase()}` : 'tenant';
    const own = this.refilled(`${scope} ${principalObjectId.toLowerCase()} ${kind}`, size, refillPerSecond, atMs);
    const global = subscriptionId ? this.refilled(`${scope} * ${kind}`, size * GLOBAL_FACTOR, refillPerSecond * GLOBAL_FACTOR, atMs) : undefined;
    const empty = [own, global].filter((b): b is { bucket: Bucket; rate: number } => !!b && b.bucket.tokens < 1);
    if (empty.length === 0) {
      own.bucket.tokens -= 1;
      if (global) global.bucket.tokens -= 1;
    }
    const headers: Record<string, string> = subscriptionId
      ? {
          [`x-ms-ratelimit-remaining-subscription-${kind}`]: String(Math.floor(own.bucket.tokens)),
          [`x-ms-ratelimit-remaining-subscription-global-${kind}`]: String(Math.floor(global!.bucket.tokens)),
        }
      : { [`x-ms-ratelimit-remaining-tenant-${kind}`]: String(Math.floor(own.bucket.tokens)) };
    if (empty.length === 0) return { headers };
    // The wait until the emptier bucket holds a whole token again, in whole seconds as Azure gives it.
    const waitSeconds = Math.max(1, Math.ceil(Math.max(...empty.map((b) => (1 - b.bucket.tokens) / b.rate))));
    const where = subscriptionId ? `subscription '${subscriptionId}'` : 'tenant';
    const message =
      `Number of '${kind.slice(0, -1)}' requests for ${where} actor '${principalObjectId}' exceeded. Please try again after ` +
      `'${waitSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.`;
    const code = subscriptionId ? 'SubscriptionRequestsThrottled' : 'TenantRequestsThrottled';
    return { headers, refusal: new ArmError(429, code, message, { ...headers, 'Retry-After': String(waitSeconds) }) };
  }

  private limits(kind: RequestKind): { size: number; refillPerSecond: number } {
    const s = this.settings;
    if (kind === 'reads') return { size: s.armReadBucket, refillPerSecond: s.armReadRefillPerSecond };
    if (kind === 'deletes') return { size: s.armDeleteBucket, refillPerSecond: s.armDeleteRefillPerSecond };
    return { size: s.armWriteBucket, refillPerSecond: s.armWriteRefillPerSecond };
  }

  /** The bucket as it is now: a new one is full; tokens come back continuously, up to its size. */
  private refilled(key: string, size: number, rate: number, atMs: number): { bucket: Bucket; rate: number } {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: size, atMs };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(size, bucket.tokens + ((atMs - bucket.atMs) / 1000) * rate);
    bucket.atMs = atMs;
    return { bucket, rate };
  }
}

export function kindOf(method: string): RequestKind {
  const upper = method.toUpperCase();
  if (upper === 'GET' || upper === 'HEAD') return 'reads';
  if (upper === 'DELETE') return 'deletes';
  return 'writes';
}
