import type * as http from 'node:http';
import type { FaultPlan, FaultRule } from '../faults';
import type { Metrics } from '../metrics';
import { authenticate, type Auth, type AuthenticationOptions } from './authentication';
import { dataActionOf } from './dataRoles';
import { AzuriteProxy, isSuccess, type ProxyOptions } from './azuriteProxy';
import { copySourceUrl, CopyOperations, type CopyOptions } from './copyOperations';
import { type CopyState, SOURCE_GONE_DESCRIPTION } from './copies';
import { rewriteListXml } from './listXml';
import { classify, isSyncCopy, parseTarget, targetBlobKey, type RequestTarget } from './requestTarget';
import { defaultErrorCode, sendStorageError, StorageMessages } from './storageErrors';

/** Blob (and container) metadata: at most 8 KB, names (without `x-ms-meta-`) and values together. */
const MAX_METADATA_BYTES = 8 * 1024;
const COPY_HEADERS = [
  'x-ms-copy-id',
  'x-ms-copy-status',
  'x-ms-copy-source',
  'x-ms-copy-progress',
  'x-ms-copy-completion-time',
  'x-ms-copy-status-description',
];

export interface FrontOptions extends ProxyOptions, CopyOptions, AuthenticationOptions {
  metrics: Metrics;
  faults: FaultPlan;
}

/**
 * The HTTPS face of blob storage: authenticates as Azure does for accounts with shared key access
 * disabled (authentication.ts), injects faults, models asynchronous copies (copyOperations.ts), and
 * streams everything else to Azurite (azuriteProxy.ts).
 */
export class BlobFront {
  private readonly proxy: AzuriteProxy;
  private readonly copies: CopyOperations;

  constructor(private readonly o: FrontOptions) {
    this.proxy = new AzuriteProxy(o);
    this.copies = new CopyOperations(o, this.proxy);
  }

  close(): void {
    this.proxy.close();
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
    const auth = authenticate(this.o, req, res, target, dataActionOf(op));
    if (!auth) return;
    if (metadataBytes(req.headers) > MAX_METADATA_BYTES) {
      return sendStorageError(req, res, 400, 'MetadataTooLarge', StorageMessages.MetadataTooLarge);
    }
    switch (op) {
      case 'StartCopy':
        return this.copies.startCopy(req, res, target, auth, faultPath);
      case 'AbortCopy':
        return this.copies.abortCopy(req, res, target, auth);
      case 'GetProperties':
      case 'Get':
        return this.read(req, res, target, auth);
      case 'List':
        return this.list(req, res, target, auth);
      case 'Delete':
        return this.remove(req, res, target, auth);
      case 'GetUserDelegationKey':
        if (auth.kind !== 'bearer') {
          return sendStorageError(req, res, 403, 'AuthorizationFailure', 'This request is not authorized to perform this operation.');
        }
        return this.o.delegation.handle(req, res, auth, (await readAll(req)).toString('utf8'));
      case 'Put':
        return isSyncCopy(req.headers) && req.headers['x-ms-copy-source'] !== undefined
          ? this.copies.syncCopy(req, res, target, auth)
          : this.write(req, res, target, auth);
      default:
        return this.passThrough(req, res, target, auth);
    }
  }

  private copySourcePath(req: http.IncomingMessage): string {
    const source = parseTarget(copySourceUrl(req)?.pathname ?? '');
    return source?.path ?? '';
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

  private async read(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const key = targetBlobKey(target);
    const record = key ? this.o.tracker.get(key) : undefined;
    if (record) await this.o.tracker.settle(record);
    const answer = await this.proxy.forward(req, target, auth);
    const state = record && isSuccess(answer.statusCode) ? this.o.tracker.state(record) : undefined;
    this.proxy.pipeAnswer(req, answer, res, (headers) => {
      if (state) setCopyHeaders(headers, state);
    });
  }

  private async list(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const prefix = target.container ? `${target.account}/${target.container}/` : undefined;
    if (prefix) await Promise.all(this.o.tracker.under(prefix).map((record) => this.o.tracker.settle(record)));
    const answer = await this.proxy.forward(req, target, auth);
    if (answer.statusCode !== 200) return this.proxy.pipeAnswer(req, answer, res);
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
    const headers = this.proxy.answerHeaders(answer);
    headers['content-length'] = String(payload.length);
    res.writeHead(200, headers);
    res.end(payload);
  }

  private async remove(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const answer = await this.proxy.forward(req, target, auth);
    if (isSuccess(answer.statusCode)) {
      const key = targetBlobKey(target);
      // Deleting the destination ends its copy, pending or not; copies reading it as their source fail.
      if (key) {
        this.o.tracker.forget(key);
        this.o.tracker.failReadersOf(key, SOURCE_GONE_DESCRIPTION);
      }
      else if (target.container && target.query.get('restype') === 'container') {
        this.o.tracker.forgetUnder(`${target.account}/${target.container}/`);
      }
    }
    this.proxy.pipeAnswer(req, answer, res);
  }

  private async write(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const key = targetBlobKey(target);
    const record = key ? this.o.tracker.get(key) : undefined;
    if (record && this.o.tracker.isPending(record)) {
      return sendStorageError(req, res, 409, 'PendingCopyOperation', StorageMessages.PendingCopyOperation);
    }
    if (record) await this.o.tracker.settle(record);
    const answer = await this.proxy.forward(req, target, auth);
    const comp = target.query.get('comp');
    // A new blob in its place ends the copy's story; page writes keep the copy properties, as in Azure.
    if (key && isSuccess(answer.statusCode) && (!comp || comp === 'blocklist')) {
      this.o.tracker.forget(key);
      this.o.tracker.failReadersOf(key, SOURCE_GONE_DESCRIPTION);
    }
    this.proxy.pipeAnswer(req, answer, res);
  }

  private async passThrough(req: http.IncomingMessage, res: http.ServerResponse, target: RequestTarget, auth: Auth): Promise<void> {
    const answer = await this.proxy.forward(req, target, auth);
    this.proxy.pipeAnswer(req, answer, res);
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

function readAll(stream: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function metadataBytes(headers: http.IncomingHttpHeaders): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-ms-meta-')) continue;
    bytes += Buffer.byteLength(name.slice('x-ms-meta-'.length)) + Buffer.byteLength([value ?? ''].flat().join(','));
  }
  return bytes;
}
