import type { Settings } from '../settings';
import { regionKey, type GalleryImageVersion, type Replica } from './state';

/**
 * How long a gallery image version takes to reach a region: its disks (OS and data) are copied into
 * the region's replicas at the scenario's rate, after the operation's own time. Regions replicate in
 * parallel, as Azure replicates them; the version is done when its last region is.
 */

const MIB_PER_GIB = 1024;

export function versionSizeGB(version: Pick<GalleryImageVersion, 'osDisk' | 'dataDisks'>): number {
  return version.osDisk.sizeGB + version.dataDisks.reduce((sum, disk) => sum + disk.sizeGB, 0);
}

export function replicationMs(sizeGB: number, settings: Settings): number {
  return settings.lroDurationMs + Math.ceil(((sizeGB * MIB_PER_GIB) / settings.galleryReplicationRateMBps) * 1000);
}

export function newReplica(target: Omit<Replica, 'startedAt' | 'doneAt'>, sizeGB: number, settings: Settings, now = Date.now()): Replica {
  return { ...target, startedAt: now, doneAt: now + replicationMs(sizeGB, settings) };
}

export function replicaDone(replica: Replica, now = Date.now()): boolean {
  return now >= replica.doneAt;
}

/** The region's copy, if it is there and complete (a region being removed still serves until it goes). */
export function replicatedTo(version: GalleryImageVersion, region: string, now = Date.now()): boolean {
  return version.replicas.some((replica) => regionKey(replica.name) === regionKey(region) && replicaDone(replica, now));
}

/** `replicationStatus` as `$expand=ReplicationStatus` shows it. */
export function replicationStatus(version: GalleryImageVersion, displayName: (region: string) => string, now = Date.now()): Record<string, unknown> {
  const summary = version.replicas.map((replica) => {
    const done = replicaDone(replica, now);
    const span = Math.max(1, replica.doneAt - replica.startedAt);
    return {
      region: displayName(replica.name),
      state: done ? 'Completed' : 'Replicating',
      details: '',
      progress: done ? 100 : Math.min(99, Math.floor(((now - replica.startedAt) / span) * 100)),
    };
  });
  const failed = version.provisioningState === 'Failed';
  return {
    aggregatedState: failed ? 'Failed' : summary.every((s) => s.state === 'Completed') ? 'Completed' : 'InProgress',
    summary,
  };
}

/** When every replica that stays is done: the end of the version's create or update. */
export function replicationEnd(version: GalleryImageVersion): number {
  return Math.max(0, ...version.replicas.filter((r) => !r.removing).map((r) => r.doneAt));
}
