import type { ScenarioSettings } from './scenario';
import type { Checker } from './scenarioChecker';

/** The local Azure's knobs: each service reads its own (copy rate, operation times, token lifetime, page size). */
export interface Settings {
  copyRateMBps: number;
  /** What one source blob serves to all copies reading it at once; undefined: `copyRateMBps`. */
  sourceBlobMBps?: number;
  /** A copy between storage accounts in different regions, on its own; undefined: a quarter of `copyRateMBps`. */
  crossRegionCopyRateMBps?: number;
  lroDurationMs: number;
  customImageDurationMs: number;
  lroRetryAfterSeconds: number;
  tokenLifetimeSeconds: number;
  pageSize: number;
  /** Speed at which a gallery image version's disks are replicated into each target region. */
  galleryReplicationRateMBps: number;
  vmCreateDurationMs: number;
  artifactDurationMs: number;
  vmShutdownDurationMs: number;
  /** Resource Manager's token buckets (resourceManager/throttling.ts); off only to test something else. */
  armThrottling: boolean;
  armReadBucket: number;
  armReadRefillPerSecond: number;
  armWriteBucket: number;
  armWriteRefillPerSecond: number;
  armDeleteBucket: number;
  armDeleteRefillPerSecond: number;
}

export const DEFAULT_SETTINGS: Readonly<Settings> = {
  copyRateMBps: 1024,
  lroDurationMs: 200,
  customImageDurationMs: 500,
  lroRetryAfterSeconds: 1,
  tokenLifetimeSeconds: 3600,
  pageSize: 100,
  galleryReplicationRateMBps: 2048,
  vmCreateDurationMs: 1000,
  artifactDurationMs: 500,
  vmShutdownDurationMs: 500,
  // Azure's documented buckets per subscription and principal.
  armThrottling: true,
  armReadBucket: 250,
  armReadRefillPerSecond: 25,
  armWriteBucket: 200,
  armWriteRefillPerSecond: 10,
  armDeleteBucket: 200,
  armDeleteRefillPerSecond: 10,
};

export function checkSettings(c: Checker, raw: unknown, path: string): ScenarioSettings | undefined {
  const s = c.object(raw, path, [...Object.keys(DEFAULT_SETTINGS), 'sourceBlobMBps', 'crossRegionCopyRateMBps']);
  if (!s) return undefined;
  const before = c.problems.length;
  c.number(s.copyRateMBps, `${path}.copyRateMBps`, { above: 0 });
  c.number(s.sourceBlobMBps, `${path}.sourceBlobMBps`, { above: 0 });
  c.number(s.crossRegionCopyRateMBps, `${path}.crossRegionCopyRateMBps`, { above: 0 });
  c.number(s.lroDurationMs, `${path}.lroDurationMs`, { min: 0 });
  c.number(s.customImageDurationMs, `${path}.customImageDurationMs`, { min: 0 });
  c.number(s.lroRetryAfterSeconds, `${path}.lroRetryAfterSeconds`, { integer: true, min: 0 });
  c.number(s.tokenLifetimeSeconds, `${path}.tokenLifetimeSeconds`, { integer: true, min: 1 });
  c.number(s.pageSize, `${path}.pageSize`, { integer: true, min: 1 });
  c.number(s.galleryReplicationRateMBps, `${path}.galleryReplicationRateMBps`, { above: 0 });
  c.number(s.vmCreateDurationMs, `${path}.vmCreateDurationMs`, { min: 0 });
  c.number(s.artifactDurationMs, `${path}.artifactDurationMs`, { min: 0 });
  c.number(s.vmShutdownDurationMs, `${path}.vmShutdownDurationMs`, { min: 0 });
  c.boolean(s.armThrottling, `${path}.armThrottling`);
  for (const kind of ['Read', 'Write', 'Delete']) {
    c.number(s[`arm${kind}Bucket`], `${path}.arm${kind}Bucket`, { integer: true, min: 1 });
    c.number(s[`arm${kind}RefillPerSecond`], `${path}.arm${kind}RefillPerSecond`, { above: 0 });
  }
  return c.problems.length === before ? (s as ScenarioSettings) : undefined;
}
