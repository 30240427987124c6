import * as http from 'node:http';
import { pipeline } from 'node:stream';
import type { FaultPlan, FaultRule } from '../faults';
import type { Metrics } from '../metrics';
import type { CopyRecord, CopyState, CopyTracker } from './copies';
import type { DiskGrants, GrantCheck } from './diskGrants';
import { rewriteListXml } from './listXml';
import {
  classify,
  isSyncCopy,
  parseTarget,
  targetBlobKey,
  type RequestTarget,
} from './requestTarget';
import { defaultErrorCode, sendStorageError, StorageMessages } from './storageErrors';

/** Bearer tokens for blob data must be issued for Azure Storage. */
const STORAGE_AUDIENCES = new Set(['https://storage.azure.com', 'https://storage.azure.com/']);
/** The first service version that accepts bearer tokens. */
const BEARER_MIN_VERSION = '2017-11-09';
/** Copy Blob From URL copies block blobs of at most 256 MiB. */
const SYNC_COPY_MAX_BYTES = 256 * 1024 * 1024;
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer'];
const COPY_HEADERS = [
  'x-ms-copy-id',
  'x-ms-copy-status',
  'x-ms-copy-source',
  'x-ms-copy-progress',
  'x-ms-copy-completion-time',
  'x-ms-copy-status-description',
];
const SERVER_HEADER = 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0';

export interface FrontOptions {
  azuriteOrigin: string;
  /** Filled in once the front listens: `https://<host>:<port>`. */
  frontOrigin: () => string;
  frontPort: () => number;
  frontHost: string;
  accounts: ReadonlySet<string>;
  /** An account SAS per account: how requests authorized by bearer token reach Azurite. */
  accountSas: ReadonlyMap<string, string>;
  tracker: CopyTracker;
  grants: DiskGrants;
  faults: FaultPlan;
  metrics: Metrics;
  verifyBearer(token: string): { principalId: string; audience: string } | undefined;
  canAccessData(principalId: string, account: string): boolean;
}

type Auth = { kind: 'sas'; grant?: GrantCheck } | { kind: 'bearer'; principalId: string };

interface VerifiedSource {
  azuriteUrl: string;
  totalBytes: number;
  blobType: string;
  sourceDisk?: string;
  expiresAtMs?: number;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * The HTTPS face of blob storage: authenticates as Azure does for accounts with shared key access
 * disabled, injects faults, models asynchronous copies, and streams everything else to Azurite.
 */
export class BlobFront {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

  constructor(private readonly o: FrontOptions) {}

  close(): void {
    this.agent.destroy();
  }

  readonly handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.route(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendStorageError(req, res, 500, 'InternalError', `${StorageMessages.InternalError} (${String(error)})`);
      } else {
        res.destroy();
      }
    });
  };

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? '/');
    if (!target) {
      this.o.metrics.count('Blob_Other');
      return sendStorageError(req, res, 400, 'InvalidUri', StorageMessages.InvalidUri);
    }
    const op = classify(req.method, target, req.headers);
    this.o.metrics.count(`Blob_${op}`);
    // Copies can be singled out by their source as well (a VM's disk, say).
    const faultPath = op === 'StartCopy' ? `${target.path} ${this.copySourcePath(req)}` : target.path;
    const fault = this.o.faults.take(`Blob_${op}`, faultPath, ['status', 'reset']);
    if (fault) return this.applyFault(req, res, fault);
    if (!this.o.accounts.has(target.account)) {
      return sendStorageError(req, res, 404, 'ResourceNotFound', `The storage account ${target.account} does not exist.`);
    }
    const auth = this.authenticate(req, res, target);
    if (!auth) return;
    switch (op) {
      case 'StartCopy':
        return this.startCopy(req, res, target, auth, faultPath);
      case 'AbortCopy':
        return this.abortCopy(req, res, target, auth);
      case 'GetProperties':
      case 'Get':
        return this.read(req, res, target, auth);
      case 'List':
        return this.list(req, res, target, auth);
      case 'Delete':
        return this.remove(req, res, target, auth);
      case 'Put':
        return isSyncCopy(req.headers) && req.headers['x-ms-copy-source'] !== undefined
          ? this.syncCopy(req, res, target, auth)
          : this.write(req, res, target, auth);
      default:
        return this.passThrough(req, res, target, auth);
    }
  }

  private copySourcePath(req: http.IncomingMessage): string {
    const source = parseTarget(this.copySourceUrl(req)?.pathname ?? '');
    return source?.path ?? '';
  }

  private copySourceUrl(req: http.IncomingMessage): URL | undefined {
    const header = req.headers['x-ms-copy-source'];
    if (typeof header !== 'string') return undefined;
    try {
      return new URL(header);
    } catch {
      return undefined;
    }
  }

  private applyFault(req: http.IncomingMessage, res: http.ServerResponse, fault: FaultRule): void {
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    const status = fault.status ?? 503;
    const code = fault.code ?? defaultErrorCode(status);
    const message = (StorageMessages as Record<string, string>)[code] ?? StorageMessages.InternalError;
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    sendStorageError(req, res, status, code, message, { headers });
  }

  private authenticate(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget): Auth | undefined {
    const authorization = req.headers.authorization;
    if (authorization) {
      const space = authorization.indexOf(' ');
      const scheme = space < 0 ? authorization : authorization.slice(0, space);
      if (/^SharedKey(Lite)?$/i.test(scheme)) {
        sendStorageError(req, res, 403, 'KeyBasedAuthenticationNotPermitted', StorageMessages.KeyBasedAuthenticationNotPermitted);
        return undefined;
      }
      if (!/^Bearer$/i.test(scheme)) {
        sendStorageError(req, res, 401, 'InvalidAuthenticationInfo', StorageMessages.InvalidAuthenticationInfo, {
          authenticationErrorDetail: `Authentication scheme ${scheme} is not supported.`,
        });
        return undefined;
      }
      const version = String(req.headers['x-ms-version'] ?? '');
      if (version < BEARER_MIN_VERSION) {
        sendStorageError(req, res, 400, 'InvalidAuthenticationInfo', 'Authentication scheme Bearer is not supported in this version.');
        return undefined;
      }
      const claims = this.o.verifyBearer(authorization.slice(space + 1).trim());
      if (!claims) {
        sendStorageError(req, res, 401, 'InvalidAuthenticationInfo', StorageMessages.InvalidAuthenticationInfo, {
          authenticationErrorDetail: 'The access token is not valid or has expired.',
        });
        return undefined;
      }
      if (!STORAGE_AUDIENCES.has(claims.audience)) {
        sendStorageError(req, res, 401, 'InvalidAuthenticationInfo', StorageMessages.InvalidAuthenticationInfo, {
          authenticationErrorDetail: 'Audience validation failed. Audience did not match.',
        });
        return undefined;
      }
      if (!this.o.canAccessData(claims.principalId, target.account)) {
        sendStorageError(req, res, 403, 'AuthorizationPermissionMismatch', StorageMessages.AuthorizationPermissionMismatch);
        return undefined;
      }
      return { kind: 'bearer', principalId: claims.principalId };
    }
    const signature = target.query.get('sig');
    if (signature) {
      const grant = this.o.grants.check(signature);
      if (grant && !grant.live) {
        sendStorageError(req, res, 403, 'AuthenticationFailed', StorageMessages.AuthenticationFailed, {
          authenticationErrorDetail: grantRefusal(grant),
        });
        return undefined;
      }
      const expiresAtMs = Date.parse(target.query.get('se') ?? '');
      if (expiresAtMs <= Date.now()) {
        sendStorageError(req, res, 403, 'AuthenticationFailed', StorageMessages.AuthenticationFailed, {
          authenticationErrorDetail: expiredDetail(expiresAtMs),
        });
        return undefined;
      }
      return { kind: 'sas', grant };
    }
    // Lab storage has no public containers: Azure answers anonymous requests as if nothing were there.
    if (!target.container) {
      sendStorageError(req, res, 401, 'NoAuthenticationInformation', StorageMessages.NoAuthenticationInformation);
    } else {
      sendStorageError(req, res, 404, 'ResourceNotFound', StorageMessages.ResourceNotFound);
    }
    return undefined;
  }

  // ---- copies ------------------------------------------------------------------------------------

  private async startCopy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: RequestTarget,
    auth: Auth,
    faultPath: string,
  ): Promise<void> {
    const admitted = await this.admitCopy(req, res, target, auth);
    if (!admitted) return;
    const { key, existing, source } = admitted;
    if (existing) await this.o.tracker.settle(existing);
    const failure = this.o.faults.take('Blob_StartCopy', faultPath, ['copyFailed']);
    const answer = await this.forward(req, target, auth, { copySource: source.azuriteUrl });
    if (answer.statusCode !== 202) return this.pipeAnswer(req, answer, res);
    answer.resume();
    const copyId = String(answer.headers['x-ms-copy-id']);
    const record = this.o.tracker.start({
      key,
      copyId,
      source: req.headers['x-ms-copy-source'] as string,
      totalBytes: source.totalBytes,
      sourceDisk: source.sourceDisk,
      sourceExpiresAtMs: source.expiresAtMs,
      failAfterPercent: failure ? (failure.failAfterPercent ?? 50) : undefined,
      failDescription: failure ? copyFailureDescription(failure) : undefined,
    });
    const headers = this.answerHeaders(answer);
    headers['x-ms-copy-status'] = this.o.tracker.state(record).status;
    res.writeHead(202, headers);
    res.end();
  }

  /** A copy onto a destination whose copy is still pending is refused; else the source is verified. */
  private async admitCopy(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: RequestTarget,
    auth: Auth,
  ): Promise<{ key: string; existing?: CopyRecord; source: VerifiedSource } | undefined> {
    const key = targetBlobKey(target)!;
    const existing = this.o.tracker.get(key);
    if (existing && this.o.tracker.isPending(existing)) {
      sendStorageError(req, res, 409, 'PendingCopyOperation', StorageMessages.PendingCopyOperation);
      return undefined;
    }
    const source = await this.verifyCopySource(req, res, target, auth);
    return source && { key, existing, source };
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
    const url = this.copySourceUrl(req);
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
    } else if (auth.kind === 'bearer' && source.account === target.account) {
      // Within one account a token that may write the destination may also read the source.
      query = appendQuery(query, this.o.accountSas.get(source.account)!);
    } else {
      return cannotVerify(404, 'ResourceNotFound', StorageMessages.CannotVerifyCopySourceNotFound);
    }
    const azuriteUrl = `${this.o.azuriteOrigin}${source.rawPath}${query ? `?${query}` : ''}`;
    const probe = await this.request('HEAD', azuriteUrl, {});
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
    const signedExpiry = source.query.get('se');
    const expiresAtMs = grant?.expiresAtMs ?? (signedExpiry ? Date.parse(signedExpiry) : undefined);
    return {
      azuriteUrl,
      totalBytes: Number(probe.headers['content-length'] ?? 0),
      blobType: String(probe.headers['x-ms-blob-type'] ?? ''),
      sourceDisk: grant?.diskName,
      expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : undefined,
    };
  }

  /** Copy Blob From URL: synchronous, for committed block blobs up to 256 MiB only. */
  private async syncCopy(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const admitted = await this.admitCopy(req, res, target, auth);
    if (!admitted) return;
    const { key, existing, source } = admitted;
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
    const answer = await this.forward(req, target, auth, { copySource: source.azuriteUrl });
    if (isSuccess(answer.statusCode)) this.o.tracker.forget(key);
    this.pipeAnswer(req, answer, res);
  }

  /**
   * Azurite's copy has long finished, so it would call every abort "no pending copy"; it still checks
   * the credentials and the copy id, and the front decides from the modelled state.
   */
  private async abortCopy(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const key = targetBlobKey(target);
    const record = key ? this.o.tracker.get(key) : undefined;
    const answer = await this.forward(req, target, auth);
    if (!record || answer.statusCode === 401 || answer.statusCode === 403 || answer.statusCode === 404) {
      return this.pipeAnswer(req, answer, res);
    }
    answer.resume();
    if (target.query.get('copyid') !== record.copyId) {
      return sendStorageError(req, res, 409, 'CopyIdMismatch', StorageMessages.CopyIdMismatch);
    }
    if (!this.o.tracker.end(record, 'aborted')) {
      return sendStorageError(req, res, 409, 'NoPendingCopyOperation', StorageMessages.NoPendingCopyOperation);
    }
    await this.o.tracker.settle(record);
    const headers = this.answerHeaders(answer);
    delete headers['x-ms-error-code'];
    delete headers['content-type'];
    headers['content-length'] = '0';
    res.writeHead(204, headers);
    res.end();
  }

  // ---- reads and writes ------------------------------------------------------------------------

  private async read(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const key = targetBlobKey(target);
    const record = key ? this.o.tracker.get(key) : undefined;
    if (record) await this.o.tracker.settle(record);
    const answer = await this.forward(req, target, auth);
    const state = record && isSuccess(answer.statusCode) ? this.o.tracker.state(record) : undefined;
    this.pipeAnswer(req, answer, res, (headers) => {
      if (state) setCopyHeaders(headers, state);
    });
  }

  private async list(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const prefix = target.container ? `${target.account}/${target.container}/` : undefined;
    if (prefix) await Promise.all(this.o.tracker.under(prefix).map((record) => this.o.tracker.settle(record)));
    const answer = await this.forward(req, target, auth);
    if (answer.statusCode !== 200) return this.pipeAnswer(req, answer, res);
    const body = (await readAll(answer)).toString('utf8');
    const include = (target.query.get('include') ?? '').toLowerCase().split(',');
    const xml = rewriteListXml(body, {
      azuriteOrigin: this.o.azuriteOrigin,
      frontOrigin: this.o.frontOrigin(),
      includeCopy: include.includes('copy'),
      copyOf: (name) => {
        const record = prefix ? this.o.tracker.get(prefix + name) : undefined;
        return record ? this.o.tracker.state(record) : undefined;
      },
    });
    const payload = Buffer.from(xml, 'utf8');
    const headers = this.answerHeaders(answer);
    headers['content-length'] = String(payload.length);
    res.writeHead(200, headers);
    res.end(payload);
  }

  private async remove(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const answer = await this.forward(req, target, auth);
    if (isSuccess(answer.statusCode)) {
      const key = targetBlobKey(target);
      // Deleting the destination ends its copy, pending or not.
      if (key) this.o.tracker.forget(key);
      else if (target.container && target.query.get('restype') === 'container') {
        this.o.tracker.forgetUnder(`${target.account}/${target.container}/`);
      }
    }
    this.pipeAnswer(req, answer, res);
  }

  private async write(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const key = targetBlobKey(target);
    const record = key ? this.o.tracker.get(key) : undefined;
    if (record && this.o.tracker.isPending(record)) {
      return sendStorageError(req, res, 409, 'PendingCopyOperation', StorageMessages.PendingCopyOperation);
    }
    if (record) await this.o.tracker.settle(record);
    const answer = await this.forward(req, target, auth);
    const comp = target.query.get('comp');
    // A new blob in its place ends the copy's story; page writes keep the copy properties, as in Azure.
    if (key && isSuccess(answer.statusCode) && (!comp || comp === 'blocklist')) this.o.tracker.forget(key);
    this.pipeAnswer(req, answer, res);
  }

  private async passThrough(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const answer = await this.forward(req, target, auth);
    this.pipeAnswer(req, answer, res);
  }

  // ---- plumbing ----------------------------------------------------------------------------------

  private isFrontUrl(url: URL): boolean {
    const hosts = new Set(['127.0.0.1', 'localhost', this.o.frontHost]);
    return url.protocol === 'https:' && hosts.has(url.hostname) && Number(url.port || 443) === this.o.frontPort();
  }

  /** Sends the request on to Azurite, body streamed, authorized by its SAS or by the account SAS. */
  private forward(
    req: http.IncomingMessage,
    target: RequestTarget,
    auth: Auth,
    options: { copySource?: string } = {},
  ): Promise<http.IncomingMessage> {
    const query = auth.kind === 'bearer' ? appendQuery(target.rawQuery, this.o.accountSas.get(target.account)!) : target.rawQuery;
    const headers: Headers = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name === 'host' || name === 'authorization' || HOP_BY_HOP.includes(name)) continue;
      headers[name] = value;
    }
    if (options.copySource) headers['x-ms-copy-source'] = options.copySource;
    else if (typeof headers['x-ms-copy-source'] === 'string') {
      headers['x-ms-copy-source'] = headers['x-ms-copy-source'].split(this.o.frontOrigin()).join(this.o.azuriteOrigin);
    }
    const url = `${this.o.azuriteOrigin}${target.rawPath}${query ? `?${query}` : ''}`;
    return this.request(req.method ?? 'GET', url, headers, req);
  }

  private request(method: string, url: string, headers: Headers, body?: http.IncomingMessage): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const outgoing = http.request(url, { method, headers, agent: this.agent }, resolve);
      outgoing.on('error', reject);
      if (body) {
        // A client that goes away mid-upload takes the request to Azurite down with it.
        pipeline(body, outgoing, (error) => {
          if (error) outgoing.destroy(error);
        });
      } else {
        outgoing.end();
      }
    });
  }

  private answerHeaders(answer: http.IncomingMessage): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || HOP_BY_HOP.includes(name)) continue;
      headers[name] = name === 'x-ms-copy-source' && typeof value === 'string' ? this.toFrontUrl(value) : value;
    }
    headers.server = SERVER_HEADER;
    return headers;
  }

  private toFrontUrl(value: string): string {
    return value.split(this.o.azuriteOrigin).join(this.o.frontOrigin());
  }

  /** Streams Azurite's answer to the client: blobs are never held in memory. */
  private pipeAnswer(
    req: http.IncomingMessage,
    answer: http.IncomingMessage,
    res: http.ServerResponse,
    adjust?: (headers: Record<string, string | string[]>) => void,
  ): void {
    if (answer.statusCode === 403 && answer.headers['x-ms-error-code'] === 'AuthorizationFailure') {
      // Azurite's one refusal for a SAS; expired SAS are refused earlier, so what remains is a SAS
      // without the permission the operation needs, which Azure calls a permission mismatch.
      answer.resume();
      sendStorageError(req, res, 403, 'AuthorizationPermissionMismatch', StorageMessages.AuthorizationPermissionMismatch);
      return;
    }
    const headers = this.answerHeaders(answer);
    adjust?.(headers);
    res.writeHead(answer.statusCode ?? 500, headers);
    pipeline(answer, res, () => undefined);
  }
}

function setCopyHeaders(headers: Record<string, string | string[]>, state: CopyState): void {
  for (const name of COPY_HEADERS) delete headers[name];
  headers['x-ms-copy-id'] = state.copyId;
  headers['x-ms-copy-status'] = state.status;
  headers['x-ms-copy-source'] = state.source;
  headers['x-ms-copy-progress'] = state.progress;
  if (state.completedAt) headers['x-ms-copy-completion-time'] = state.completedAt.toUTCString();
  if (state.description) headers['x-ms-copy-status-description'] = state.description;
}

function grantRefusal(grant: GrantCheck): string {
  if (grant.revoked) return `Access to disk ${grant.diskName} has been revoked.`;
  return expiredDetail(grant.expiresAtMs);
}

function expiredDetail(expiresAtMs: number): string {
  return `Signed expiry time [${new Date(expiresAtMs).toUTCString()}] must be after signed start time and current time [${new Date().toUTCString()}]`;
}

function copyFailureDescription(fault: FaultRule): string {
  const status = fault.status ?? 500;
  const code = fault.code ?? 'InternalError';
  return `${status} ${code} "Copy failed while reading the source."`;
}

function appendQuery(query: string, extra: string): string {
  return query ? `${query}&${extra}` : extra;
}

function isSuccess(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}

function readAll(stream: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

