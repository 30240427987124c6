import * as http from 'node:http';
import { pipeline } from 'node:stream';
import type { Auth } from './authentication';
import type { RequestTarget } from './requestTarget';
import { sendStorageError, StorageMessages } from './storageErrors';

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer'];
const SERVER_HEADER = 'Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0';

type Headers = Record<string, string | string[] | undefined>;

export interface ProxyOptions {
  azuriteOrigin: string;
  /** Filled in once the front listens: `https://<host>:<port>`. */
  frontOrigin: () => string;
  /** An account SAS per account: how requests authorized by bearer token reach Azurite. */
  accountSas: ReadonlyMap<string, string>;
}

/**
 * The blob front's way to Azurite: requests go on with their bodies streamed and the front's URLs
 * rewritten to Azurite's, answers come back the other way; blobs are never held in memory.
 */
export class AzuriteProxy {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

  constructor(private readonly o: ProxyOptions) {}

  close(): void {
    this.agent.destroy();
  }

  /** Sends the request on to Azurite, body streamed, authorized by its SAS or by the account SAS. */
  forward(
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

  request(method: string, url: string, headers: Headers, body?: http.IncomingMessage): Promise<http.IncomingMessage> {
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

  answerHeaders(answer: http.IncomingMessage): Record<string, string | string[]> {
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
  pipeAnswer(
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

export function appendQuery(query: string, extra: string): string {
  return query ? `${query}&${extra}` : extra;
}

export function isSuccess(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}
