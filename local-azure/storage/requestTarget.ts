import type { IncomingHttpHeaders } from 'node:http';

/** A path-style blob request: `/<account>/<container>/<blob>?<query>`. */
export interface RequestTarget {
  account: string;
  container?: string;
  blob?: string;
  /** The path exactly as received, still percent-encoded. */
  rawPath: string;
  /** The query exactly as received, without `?`. */
  rawQuery: string;
  query: URLSearchParams;
  /** Decoded `/<account>/<container>/<blob>`, what fault rules match against. */
  path: string;
}

export function parseTarget(pathAndQuery: string): RequestTarget | undefined {
  const queryAt = pathAndQuery.indexOf('?');
  const rawPath = queryAt < 0 ? pathAndQuery : pathAndQuery.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : pathAndQuery.slice(queryAt + 1);
  const segments = rawPath.split('/');
  try {
    const account = decodeURIComponent(segments[1] ?? '');
    if (!account) return undefined;
    const container = segments[2] ? decodeURIComponent(segments[2]) : undefined;
    const blobRaw = segments.slice(3).join('/');
    const blob = container && blobRaw ? decodeURIComponent(blobRaw) : undefined;
    const path = `/${account}${container ? `/${container}` : ''}${blob ? `/${blob}` : ''}`;
    return { account, container, blob, rawPath, rawQuery, query: new URLSearchParams(rawQuery), path };
  } catch {
    return undefined;
  }
}

/** Where a blob's copy state and grants are kept: `<account>/<container>/<blob>`. */
export function blobKey(account: string, container: string, blob: string): string {
  return `${account}/${container}/${blob}`;
}

export function targetBlobKey(target: RequestTarget): string | undefined {
  return target.container && target.blob ? blobKey(target.account, target.container, target.blob) : undefined;
}

/** Encodes a blob name for a URL path, keeping its `/` separators. */
export function encodeBlobPath(container: string, blob: string): string {
  return `${encodeURIComponent(container)}/${blob.split('/').map(encodeURIComponent).join('/')}`;
}

/** Operation names for metrics and fault rules (`Blob_<Operation>`). */
export type BlobOperation =
  | 'StartCopy'
  | 'GetProperties'
  | 'Delete'
  | 'AbortCopy'
  | 'List'
  | 'Get'
  | 'Put'
  | 'SetMetadata'
  | 'GetUserDelegationKey'
  | 'Other';

const WRITE_COMPS = new Set(['page', 'block', 'blocklist', 'appendblock']);

export function classify(method: string | undefined, target: RequestTarget, headers: IncomingHttpHeaders): BlobOperation {
  const comp = target.query.get('comp') ?? undefined;
  const onBlob = target.blob !== undefined;
  switch (method) {
    case 'PUT':
      if (comp === 'copy') return 'AbortCopy';
      if (comp === 'metadata') return onBlob ? 'SetMetadata' : 'Other';
      if (!comp && onBlob && headers['x-ms-copy-source'] !== undefined) {
        // Copy Blob From URL is synchronous: a write, not a copy to follow.
        return isSyncCopy(headers) ? 'Put' : 'StartCopy';
      }
      if (!comp || WRITE_COMPS.has(comp)) return 'Put';
      return 'Other';
    case 'HEAD':
      return onBlob && (!comp || comp === 'metadata') ? 'GetProperties' : 'Other';
    case 'GET':
      if (comp === 'list') return 'List';
      if (onBlob && comp === 'metadata') return 'GetProperties';
      if (onBlob && (!comp || comp === 'pagelist')) return 'Get';
      return 'Other';
    case 'POST':
      if (!target.container && target.query.get('restype') === 'service' && comp === 'userdelegationkey') return 'GetUserDelegationKey';
      return 'Other';
    case 'DELETE':
      return 'Delete';
    default:
      return 'Other';
  }
}

export function isSyncCopy(headers: IncomingHttpHeaders): boolean {
  return String(headers['x-ms-requires-sync'] ?? '').toLowerCase() === 'true';
}
