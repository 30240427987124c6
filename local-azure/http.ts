import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a handler answers; the server writes it. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON-serialized unless a string; omitted for undefined. */
  body?: unknown;
}

/**
 * An answer in Azure Resource Manager's error shape: `{"error":{"code","message"}}`, with the `target`
 * some providers name at the top (Compute: the property it refuses) and `details`.
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: { code: string; message: string; target?: string }[],
    readonly target?: string,
  ) {
    super(message);
    this.name = 'ArmError';
  }

  toReply(): Reply {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    if (this.details) error.details = this.details;
    return { status: this.status, headers: this.headers, body: { error } };
  }
}

/** A 200 answer with `body`. */
export function ok(body: unknown): Reply {
  return { status: 200, body };
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ArmError(413, 'RequestEntityTooLarge', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON body of an ARM request, or an InvalidRequestContent error as ARM gives for malformed JSON. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ArmError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(error as Error).message}'.`);
  }
}

export function writeReply(res: ServerResponse, reply: Reply, requestId = randomUUID()): void {
  const headers: Record<string, string> = {
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': requestId,
    'cache-control': 'no-cache',
    ...reply.headers,
  };
  let payload: Buffer | undefined;
  if (reply.body !== undefined) {
    payload = Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    if (!Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(payload);
}
