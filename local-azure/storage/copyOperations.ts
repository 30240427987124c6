import type * as http from 'node:http';
import type { FaultPlan, FaultRule } from '../faults';
import type { Metrics } from '../metrics';
import type { Auth, AuthenticationOptions } from './authentication';
import { appendQuery, isSuccess, type AzuriteProxy } from './azuriteProxy';
import type { CopyRecord, CopyTracker } from './copies';
import type { DiskGrants, GrantCheck } from './diskGrants';
import { parseTarget, targetBlobKey, type RequestTarget } from './requestTarget';
import { sendStorageError, StorageMessages } from './storageErrors';

/**
 * The blob copy operations: Copy Blob (asynchronous, modelled by the copy tracker), Copy Blob From URL
 * (synchronous) and Abort Copy Blob. A copy is admitted only onto a destination without a pending
 * copy, from a source the front has verified with the source's own credentials. Admission is atomic:
 * from the moment a start is admitted until its copy is recorded (or refused) the destination counts
 * as having a pending copy, so of two starts that race only one gets 202, as in Azure.
 */

/** Copy Blob From URL copies block blobs of at most 256 MiB. */
const SYNC_COPY_MAX_BYTES = 256 * 1024 * 1024;

export interface CopyOptions {
  azuriteOrigin: string;
  frontHost: string;
  frontPort: () => number;
  accounts: ReadonlySet<string>;
  accountSas: ReadonlyMap<string, string>;
  tracker: CopyTracker;
  grants: DiskGrants;
  faults: FaultPlan;
  /** The Storage Blob Data roles, for a source read with the destination's token (authentication.ts). */
  canAccessData: AuthenticationOptions['canAccessData'];
  /** User delegation keys, for a source read with a user delegation SAS. */
  delegation: AuthenticationOptions['delegation'];
  /** A storage account's region (its lab's location); undefined for one of no region (managed disks' bytes). */
  accountRegion(account: string): string | undefined;
  /** Counts the copies started across regions (`Blob_StartCopy_CrossRegion`), for benchmarks and tests. */
  metrics?: Pick<Metrics, 'count'>;
}

interface VerifiedSource {
  azuriteUrl: string;
  /** The source blob (`account/container/blob`), whose throughput concurrent copies share. */
  key: string;
  account: string;
  totalBytes: number;
  blobType: string;
  sourceDisk?: string;
  expiresAtMs?: number;
}

export class CopyOperations {
  /** Destinations whose copy start is admitted but not yet recorded in the tracker. */
  private readonly admitting = new Set<string>();

  constructor(
    private readonly o: CopyOptions,
    private readonly proxy: AzuriteProxy,
  ) {}

  async startCopy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: RequestTarget,
    auth: Auth,
    faultPath: string,
  ): Promise<void> {
    const key = this.reserve(req, res, target);
    if (!key) return;
    try {
      await this.admittedStart(req, res, target, auth, key, faultPath);
    } finally {
      this.admitting.delete(key);
    }
  }

  private async admittedStart(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: RequestTarget,
    auth: Auth,
    key: string,
    faultPath: string,
  ): Promise<void> {
    const admitted = await this.admitCopy(req, res, target, auth, key);
    if (!admitted) return;
    const { existing, source } = admitted;
    if (existing) await this.o.tracker.settle(existing);
    const failure = this.o.faults.take('Blob_StartCopy', faultPath, ['copyFailed']);
    const answer = await this.proxy.forward(req, target, auth, { copySource: source.azuriteUrl });
    if (answer.statusCode !== 202) return this.proxy.pipeAnswer(req, answer, res);
    answer.resume();
    const copyId = String(answer.headers['x-ms-copy-id']);
    const crossesRegion = this.crossesRegion(source.account, target.account);
    if (crossesRegion) this.o.metrics?.count('Blob_StartCopy_CrossRegion');
    const record = this.o.tracker.start({
      key,
      copyId,
      source: req.headers['x-ms-copy-source'] as string,
      totalBytes: source.totalBytes,
      sourceDisk: source.sourceDisk,
      sourceKey: source.key,
      sourceExpiresAtMs: source.expiresAtMs,
      crossesRegion,
      leaseId: leaseIdOf(req),
      failAfterPercent: failure ? (failure.failAfterPercent ?? 50) : undefined,
      failDescription: failure ? copyFailureDescription(failure) : undefined,
    });
    const headers = this.proxy.answerHeaders(answer);
    headers['x-ms-copy-status'] = this.o.tracker.state(record).status;
    res.writeHead(202, headers);
    res.end();
  }

  /**
   * Claims the destination for one copy start, before anything is awaited: a destination whose copy is
   * pending, or whose start another request is being admitted for, is refused with 409.
   */
  private reserve(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget): string | undefined {
    const key = targetBlobKey(target)!;
    const existing = this.o.tracker.get(key);
    if (this.admitting.has(key) || (existing && this.o.tracker.isPending(existing))) {
      sendStorageError(req, res, 409, 'PendingCopyOperation', StorageMessages.PendingCopyOperation);
      return undefined;
    }
    this.admitting.add(key);
    return key;
  }

  /** With the destination reserved, verifies the source. */
  private async admitCopy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: RequestTarget,
    auth: Auth,
    key: string,
  ): Promise<{ existing?: CopyRecord; source: VerifiedSource } | undefined> {
    const existing = this.o.tracker.get(key);
    const source = await this.verifyCopySource(req, res, target, auth);
    return source && { existing, source };
  }

  /**
   * Azure reads the source with the credentials in its URL before it accepts a copy; so does the
   * front (a HEAD through Azurite with the source's own SAS), which also learns the size to copy.
   */
  private async verifyCopySource(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: RequestTarget,
    auth: Auth,
  ): Promise<VerifiedSource | undefined> {
    const cannotVerify = (status: number, sourceCode: string, message: string): undefined => {
      sendStorageError(req, res, status, 'CannotVerifyCopySource', message, {
        headers: { 'x-ms-copy-source-status-code': String(status), 'x-ms-copy-source-error-code': sourceCode },
      });
      return undefined;
    };
    const url = copySourceUrl(req);
    if (!url) {
      sendStorageError(req, res, 400, 'InvalidHeaderValue', 'The value for one of the HTTP headers is not in the correct format.');
      return undefined;
    }
    const source = this.isFrontUrl(url) ? parseTarget(url.pathname + url.search) : undefined;
    if (!source || !source.blob || !this.o.accounts.has(source.account)) {
      return cannotVerify(404, 'ResourceNotFound', StorageMessages.CannotVerifyCopySourceNotFound);
    }
    let query = source.rawQuery;
    let grant: GrantCheck | undefined;
    const signature = source.query.get('sig');
    if (signature) {
      grant = this.o.grants.check(signature);
      if (grant && !grant.live) return cannotVerify(403, 'AuthenticationFailed', StorageMessages.AuthenticationFailed);
      const delegated = this.o.delegation.refusal(source.query, source, 'read', this.o);
      if (delegated) return cannotVerify(delegated.status, delegated.code, StorageMessages.CannotVerifyCopySourceForbidden);
    } else if (auth.kind === 'bearer' && source.account === target.account) {
      // Within one account the destination's token reads the source too, as far as its roles let it read there.
      if (!this.o.canAccessData(auth.principalId, source.account, source.container, 'read')) {
        return cannotVerify(403, 'AuthorizationPermissionMismatch', StorageMessages.CannotVerifyCopySourceForbidden);
      }
      query = appendQuery(query, this.o.accountSas.get(source.account)!);
    } else {
      return cannotVerify(404, 'ResourceNotFound', StorageMessages.CannotVerifyCopySourceNotFound);
    }
    const azuriteUrl = `${this.o.azuriteOrigin}${source.rawPath}${query ? `?${query}` : ''}`;
    const probe = await this.proxy.request('HEAD', azuriteUrl, {});
    probe.resume();
    if (probe.statusCode !== 200) {
      const status = probe.statusCode === 404 ? 404 : probe.statusCode === 403 ? 403 : 500;
      const sourceCode = String(probe.headers['x-ms-error-code'] ?? 'Unknown');
      const message =
        status === 404
          ? StorageMessages.CannotVerifyCopySourceNotFound
          : status === 403
            ? StorageMessages.CannotVerifyCopySourceForbidden
            : 'Could not verify the copy source within the specified time.';
      return cannotVerify(status, sourceCode, message);
    }
    // x-ms-source-if-match: the copy reads the very blob the client checked, or none.
    const ifMatch = req.headers['x-ms-source-if-match'];
    if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== probe.headers.etag) {
      sendStorageError(req, res, 412, 'SourceConditionNotMet', StorageMessages.SourceConditionNotMet);
      return undefined;
    }
    // A copy reads its source for as long as it runs: it fails once the SAS expires, or, for a user delegation
    // SAS, once the key that signed it does (`ske`), whichever comes first.
    const signedExpiry = source.query.get('se');
    const keyExpiry = source.query.get('ske');
    const sasExpiresAtMs = Math.min(
      ...[signedExpiry, keyExpiry].map((value) => (value ? Date.parse(value) : NaN)).filter(Number.isFinite),
    );
    const expiresAtMs = grant?.expiresAtMs ?? sasExpiresAtMs;
    return {
      azuriteUrl,
      key: targetBlobKey(source)!,
      account: source.account,
      totalBytes: Number(probe.headers['content-length'] ?? 0),
      blobType: String(probe.headers['x-ms-blob-type'] ?? ''),
      sourceDisk: grant?.diskName,
      expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : undefined,
    };
  }

  /** Copy Blob From URL: synchronous, for committed block blobs up to 256 MiB only. */
  async syncCopy(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const key = this.reserve(req, res, target);
    if (!key) return;
    try {
      await this.admittedSyncCopy(req, res, target, auth, key);
    } finally {
      this.admitting.delete(key);
    }
  }

  private async admittedSyncCopy(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth, key: string): Promise<void> {
    const admitted = await this.admitCopy(req, res, target, auth, key);
    if (!admitted) return;
    const { existing, source } = admitted;
    if (source.blobType !== 'BlockBlob') {
      return sendStorageError(req, res, 409, 'InvalidSourceBlobType', StorageMessages.InvalidSourceBlobType);
    }
    if (source.totalBytes > SYNC_COPY_MAX_BYTES) {
      return sendStorageError(
        req,
        res,
        409,
        'CannotVerifyCopySource',
        'The source request body for synchronous copy is too large and exceeds the maximum permissible limit (256MB).',
      );
    }
    if (existing) await this.o.tracker.settle(existing);
    const answer = await this.proxy.forward(req, target, auth, { copySource: source.azuriteUrl });
    if (isSuccess(answer.statusCode)) this.o.tracker.forget(key);
    this.proxy.pipeAnswer(req, answer, res);
  }

  /**
   * Azurite's copy has long finished, so it would call every abort "no pending copy"; it still checks
   * the credentials and the copy id, and the front decides from the modelled state.
   */
  async abortCopy(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const key = targetBlobKey(target);
    const record = key ? this.o.tracker.get(key) : undefined;
    const answer = await this.proxy.forward(req, target, auth);
    if (!record || answer.statusCode === 401 || answer.statusCode === 403 || answer.statusCode === 404) {
      return this.proxy.pipeAnswer(req, answer, res);
    }
    answer.resume();
    if (target.query.get('copyid') !== record.copyId) {
      return sendStorageError(req, res, 409, 'CopyIdMismatch', StorageMessages.CopyIdMismatch);
    }
    if (!this.o.tracker.end(record, 'aborted')) {
      return sendStorageError(req, res, 409, 'NoPendingCopyOperation', StorageMessages.NoPendingCopyOperation);
    }
    await this.o.tracker.settle(record);
    const headers = this.proxy.answerHeaders(answer);
    delete headers['x-ms-error-code'];
    delete headers['content-type'];
    headers['content-length'] = '0';
    res.writeHead(204, headers);
    res.end();
  }

  /** Between accounts of two known regions; a copy from managed disks' bytes stays in the region. */
  private crossesRegion(sourceAccount: string, destinationAccount: string): boolean {
    const from = this.o.accountRegion(sourceAccount);
    const to = this.o.accountRegion(destinationAccount);
    return !!from && !!to && from !== to;
  }

  private isFrontUrl(url: URL): boolean {
    const hosts = new Set(['127.0.0.1', 'localhost', this.o.frontHost]);
    return url.protocol === 'https:' && hosts.has(url.hostname) && Number(url.port || 443) === this.o.frontPort();
  }
}

export function copySourceUrl(req: http.IncomingMessage): URL | undefined {
  const header = req.headers['x-ms-copy-source'];
  if (typeof header !== 'string') return undefined;
  try {
    return new URL(header);
  } catch {
    return undefined;
  }
}

/** The destination lease a copy was started under; the front needs it to empty the blob when the copy fails. */
function leaseIdOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers['x-ms-lease-id'];
  return typeof header === 'string' && header ? header : undefined;
}

function copyFailureDescription(fault: FaultRule): string {
  const status = fault.status ?? 500;
  const code = fault.code ?? 'InternalError';
  return `${status} ${code} "Copy failed while reading the source."`;
}
