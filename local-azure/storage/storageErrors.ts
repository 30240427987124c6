import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The service version the front states in answers it makes itself. */
export const FRONT_API_VERSION = '2025-11-05';

/** Azure Storage's own wording for the errors the front answers itself. */
export const StorageMessages = {
  AuthenticationFailed:
    'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
  AuthorizationPermissionMismatch: 'This request is not authorized to perform this operation using this permission.',
  KeyBasedAuthenticationNotPermitted: 'Key based authentication is not permitted on this storage account.',
  NoAuthenticationInformation:
    'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
  InvalidAuthenticationInfo:
    'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.',
  ResourceNotFound: 'The specified resource does not exist.',
  CannotVerifyCopySourceNotFound: 'The specified resource does not exist.',
  CannotVerifyCopySourceForbidden: 'This request is not authorized to perform this operation using this permission.',
  PendingCopyOperation: 'There is currently a pending copy operation.',
  SourceConditionNotMet: 'The source condition specified using HTTP conditional header(s) is not met.',
  NoPendingCopyOperation: 'There is currently no pending copy operation.',
  CopyIdMismatch: 'The specified copy ID did not match the copy ID for the pending copy operation.',
  InvalidSourceBlobType: 'The source blob type is invalid.',
  RequestBodyTooLarge: 'The request body is too large and exceeds the maximum permissible limit.',
  MetadataTooLarge: 'The size of the specified metadata exceeds the maximum size permitted.',
  InvalidUri: 'The requested URI does not represent any resource on the server.',
  ServerBusy: 'The server is busy.',
  InternalError: 'Server encountered an internal error. Please try again after some time.',
  TooManyRequests: 'The request rate is too high. Please retry after some time.',
} as const;

/** The error code Azure Storage answers with for a status, when a fault names none. */
export function defaultErrorCode(status: number): string {
  if (status === 503) return 'ServerBusy';
  if (status === 429) return 'TooManyRequests';
  if (status === 500) return 'InternalError';
  if (status === 409) return 'Conflict';
  if (status === 404) return 'ResourceNotFound';
  return 'InternalError';
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

export interface StorageErrorOptions {
  headers?: Record<string, string>;
  /** Azure adds this element to authentication failures. */
  authenticationErrorDetail?: string;
}

/** Answers in Azure Storage's error shape: XML body, `x-ms-error-code`, request id, version. */
export function sendStorageError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  options: StorageErrorOptions = {},
): void {
  const requestId = randomUUID();
  const detail = options.authenticationErrorDetail
    ? `<AuthenticationErrorDetail>${escapeXml(options.authenticationErrorDetail)}</AuthenticationErrorDetail>`
    : '';
  const body =
    '\uFEFF<?xml version="1.0" encoding="utf-8"?>' +
    `<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}\n` +
    `RequestId:${requestId}\nTime:${new Date().toISOString()}</Message>${detail}</Error>`;
  const payload = Buffer.from(body, 'utf8');
  const headers: Record<string, string> = {
    'content-type': 'application/xml',
    'x-ms-error-code': code,
    'x-ms-request-id': requestId,
    'x-ms-version': FRONT_API_VERSION,
    date: new Date().toUTCString(),
    ...options.headers,
  };
  const clientRequestId = req.headers['x-ms-client-request-id'];
  if (typeof clientRequestId === 'string') headers['x-ms-client-request-id'] = clientRequestId;
  if (req.method === 'HEAD') {
    headers['content-length'] = '0';
    res.writeHead(status, headers);
    res.end();
  } else {
    headers['content-length'] = String(payload.length);
    res.writeHead(status, headers);
    res.end(payload);
  }
  // An unread request body (an upload refused before it was read) is drained, so the connection survives.
  req.resume();
}
