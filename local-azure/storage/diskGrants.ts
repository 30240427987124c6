/**
 * Managed disk read grants. A grant's SAS is an ordinary blob SAS that Azurite would honour until it
 * expires, so the front keeps every grant signature it issued and refuses those of revoked grants
 * itself: revoking takes effect at once, as Azure's end-get-access does.
 */
export interface GrantCheck {
  diskName: string;
  live: boolean;
  expiresAtMs: number;
  revoked: boolean;
}

interface IssuedGrant {
  diskName: string;
  /** Disk names compare without case, as Azure resource names do. */
  diskKey: string;
  expiresAtMs: number;
  revoked: boolean;
}

export class DiskGrants {
  /** By SAS signature; revoked grants stay here until they would have expired anyway. */
  private readonly bySignature = new Map<string, IssuedGrant>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(diskName: string, signature: string, expiresAtMs: number): void {
    this.prune();
    this.bySignature.set(signature, { diskName, diskKey: diskName.toLowerCase(), expiresAtMs, revoked: false });
  }

  /** Revokes every grant on the disk; returns whether any was live. */
  revoke(diskName: string): boolean {
    const diskKey = diskName.toLowerCase();
    let any = false;
    for (const grant of this.bySignature.values()) {
      if (grant.diskKey !== diskKey || grant.revoked) continue;
      if (grant.expiresAtMs > this.now()) any = true;
      grant.revoked = true;
    }
    return any;
  }

  /** The grant a SAS signature belongs to, or undefined when the signature is not a disk grant's. */
  check(signature: string): GrantCheck | undefined {
    const grant = this.bySignature.get(signature);
    if (!grant) return undefined;
    const { diskName, expiresAtMs, revoked } = grant;
    return { diskName, expiresAtMs, revoked, live: !revoked && expiresAtMs > this.now() };
  }

  activeDisks(): string[] {
    const now = this.now();
    const disks = new Map<string, string>();
    for (const grant of this.bySignature.values()) {
      if (!grant.revoked && grant.expiresAtMs > now) disks.set(grant.diskKey, grant.diskName);
    }
    return [...disks.values()].sort();
  }

  private prune(): void {
    const now = this.now();
    // Past expiry Azurite itself refuses the signature, so the entry is no longer needed.
    for (const [signature, grant] of this.bySignature) if (grant.expiresAtMs + 60_000 < now) this.bySignature.delete(signature);
  }
}
