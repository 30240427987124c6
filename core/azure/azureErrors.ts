import { type ErrorCode, ErrorCodes, FactoryError, isAbortError, isFactoryError } from '../errors';
import { retryRecordOf } from './retryPolicy';

/**
 * Turns what the Azure SDK throws into FactoryErrors a pipeline user can act on: who was refused
 * what, where, and which role or setting fixes it. Messages never carry a SAS query.
 */
export interface DescribeAzureErrorOptions {
  /** The code for a 404 on what was asked for (LabNotFound when `what` is about a lab). */
  notFound?: ErrorCode;
  /** The lab, image or blob the request was about, as the user knows it. */
  subject?: string;
}

interface ErrorShape {
  name?: string;
  code?: string;
  statusCode?: number;
  message?: string;
  request?: { url?: string; method?: string };
  response?: { status?: number; bodyAsText?: string | null; headers?: { get(name: string): string | undefined } };
  details?: unknown;
  errorResponse?: { error?: string; errorDescription?: string; error_codes?: number[] };
}

export function describeAzureError(error: unknown, what: string, options: DescribeAzureErrorOptions = {}): FactoryError {
  if (isFactoryError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as ErrorShape;
  const subject = options.subject;
  const status = e.statusCode ?? e.response?.status;
  const { code, message } = azureCodeAndMessage(e);
  const detail = redactUrls(message ?? e.message ?? String(error));

  if (isAbortError(error)) {
    return new FactoryError(ErrorCodes.AzureRequestFailed, `${what} was cancelled.`, { subject, cause: error });
  }

  const failedOperation = failedOperationOf(e);
  if (failedOperation) {
    return new FactoryError(
      ErrorCodes.AzureRequestFailed,
      `${what} failed: Azure reports the operation Failed (${failedOperation.code}). ${redactUrls(failedOperation.message)}`,
      {
        fix: "Read Azure's message above: it names what went wrong. Run again once it is resolved; the next run picks up where this one stopped.",
        subject,
        cause: error,
      },
    );
  }

  if (e.name === 'AuthenticationError' || e.name === 'CredentialUnavailableError' || /AADSTS\d+/.test(detail)) {
    return new FactoryError(ErrorCodes.AuthenticationFailed, `${what} failed: signing in to Microsoft Entra ID failed. ${detail}`, {
      fix: 'Check the service connection: its secret or certificate may be wrong or expired, or its tenant may be wrong.',
      subject,
      cause: error,
    });
  }

  if (status === 401 || (code && /^(InvalidAuthenticationToken|ExpiredAuthenticationToken|AuthenticationFailed)/i.test(code) && status !== 403)) {
    const tenantMismatch = /tenant|issuer/i.test(`${code} ${detail}`);
    return new FactoryError(
      ErrorCodes.AuthenticationFailed,
      `${what} failed: Azure did not accept the service connection's token (${code ?? `HTTP ${status}`}). ${detail}`,
      {
        fix: tenantMismatch
          ? "The subscription belongs to a different tenant than the service connection: edit the connection's tenant id, or use a connection of the subscription's tenant."
          : "Check that the service connection's cloud (Resource Manager URL, authority and audience) matches the subscription's cloud, and that its credential is valid.",
        subject,
        cause: error,
      },
    );
  }

  if (status === 403 && code === 'AuthenticationFailed') {
    return new FactoryError(
      ErrorCodes.StorageAccessDenied,
      `${what} failed: the storage account did not accept the request's signature (an expired or revoked SAS, or a clock far off).`,
      { fix: "Run again: every run asks for fresh upload URIs and disk access. Check the agent's clock if it persists.", subject, cause: error },
    );
  }

  if (status === 403 && code && STORAGE_DENIED_CODES.has(code)) {
    return new FactoryError(ErrorCodes.StorageAccessDenied, `${what} failed: the storage account refused access (${code}).`, {
      fix: "Give the service connection's identity the role Storage Blob Data Contributor on the lab's storage account (or its resource group).",
      subject,
      cause: error,
    });
  }

  if (status === 403 || code === 'AuthorizationFailed' || code === 'LinkedAuthorizationFailed') {
    const denied = parseAuthorizationFailure(detail);
    const where = denied.scope ? ` on ${denied.scope}` : '';
    const action = denied.action ? ` to perform '${denied.action}'` : '';
    return new FactoryError(
      ErrorCodes.AuthorizationFailed,
      `${what} failed: the service connection's identity has no permission${action}${where}.`,
      {
        fix: `Give the service connection's identity the role ${roleFor(denied.action)}${
          denied.scope ? ` on ${denied.scope}` : ' on the lab'
        } (or on its resource group), then run again.`,
        subject,
        cause: error,
      },
    );
  }

  if (code === 'SubscriptionNotFound' || code === 'InvalidSubscriptionId') {
    return new FactoryError(ErrorCodes.SubscriptionNotFound, `${what} failed: the subscription was not found. ${detail}`, {
      fix: 'Check the subscription id, and that the service connection\'s identity has access to that subscription.',
      subject,
      cause: error,
    });
  }

  if (status === 404 && options.notFound) {
    return new FactoryError(options.notFound, `${what} failed: it was not found (${code ?? 'HTTP 404'}).`, {
      fix: 'Check the name, and that it still exists in the subscription the service connection reads.',
      subject,
      cause: error,
    });
  }

  const record = retryRecordOf(e.request as never);
  const attempts = record && record.attempts > 1 && record.lastStatus === status ? ` after ${record.attempts} attempts` : '';
  if (status === 429) {
    return new FactoryError(ErrorCodes.ThrottledTooLong, `${what} failed: Azure kept throttling the requests${attempts}.`, {
      fix:
        "Lower maxConcurrentJobs, or run when the subscription is less busy: Resource Manager's limits are per principal and subscription, " +
        'shared with every other pipeline using the same service connection. The next run picks up where this one stopped.',
      subject,
      cause: error,
    });
  }
  if (status !== undefined && status >= 500) {
    return new FactoryError(
      ErrorCodes.AzureRequestFailed,
      `${what} failed: Azure answered HTTP ${status}${code ? ` ${code}` : ''}${attempts}. ${detail}`,
      {
        fix: 'This is a failure on the Azure side; run again later (the next run picks up where this one stopped), and check Azure status if it persists.',
        subject,
        cause: error,
      },
    );
  }
  if (status !== undefined) {
    return new FactoryError(ErrorCodes.AzureRequestFailed, `${what} failed: Azure answered HTTP ${status}${code ? ` ${code}` : ''}. ${detail}`, {
      fix: 'Read the message from Azure above; it names what was refused.',
      subject,
      cause: error,
    });
  }
  const network = networkProblem(e);
  if (network) {
    return new FactoryError(ErrorCodes.AzureRequestFailed, `${what} failed: ${network.message}`, { fix: network.fix, subject, cause: error });
  }
  return new FactoryError(ErrorCodes.Internal, `${what} failed unexpectedly: ${detail}`, {
    fix: 'Run again with system.debug set to true and report the debug output with this message.',
    subject,
    cause: error,
  });
}

/**
 * Runs one Azure call and rethrows its failure as a FactoryError; a cancellation stays an AbortError
 * and a defect in our own code keeps its stack.
 */
export async function callAzure<T>(what: string, call: () => Promise<T>, options: DescribeAzureErrorOptions = {}): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toFactoryErrorOrRethrow(error, what, options);
  }
}

/** The error `callAzure` throws for `error`: unchanged for aborts, FactoryErrors and programming errors. */
export function toFactoryErrorOrRethrow(error: unknown, what: string, options: DescribeAzureErrorOptions = {}): unknown {
  if (isAbortError(error) || isFactoryError(error)) return error;
  if (isAzureError(error)) return describeAzureError(error, what, options);
  return error;
}

/** True for errors that come from talking to Azure (HTTP, network, sign-in), as opposed to defects. */
export function isAzureError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as ErrorShape;
  return (
    e.name === 'RestError' ||
    e.name === 'AuthenticationError' ||
    e.name === 'CredentialUnavailableError' ||
    e.name === 'AggregateAuthenticationError' ||
    typeof e.statusCode === 'number' ||
    failedOperationOf(e) !== undefined ||
    networkProblem(e) !== undefined
  );
}

const STORAGE_DENIED_CODES = new Set([
  'AuthorizationPermissionMismatch',
  'AuthorizationFailure',
  'AuthorizationResourceTypeMismatch',
  'AuthorizationSourceIPMismatch',
  'AuthorizationProtocolMismatch',
  'AuthorizationServiceMismatch',
  'InsufficientAccountPermissions',
  'KeyBasedAuthenticationNotPermitted',
]);

/** The error code and message Azure put in the body, whichever SDK layer parsed it. */
function azureCodeAndMessage(e: ErrorShape): { code?: string; message?: string } {
  let code = typeof e.code === 'string' && !/^[A-Z_]+$/.test(e.code) ? e.code : undefined;
  let message = e.message;
  const body = e.response?.bodyAsText;
  if (body) {
    try {
      const parsed = JSON.parse(body) as { error?: { code?: string; message?: string }; code?: string; message?: string };
      const inner = parsed.error ?? parsed;
      if (typeof inner.code === 'string') code = inner.code;
      if (typeof inner.message === 'string') message = inner.message;
    } catch {
      // Storage answers in XML; the SDK already put its code on the error.
    }
  }
  if (!code && e.response?.headers?.get('x-ms-error-code')) code = e.response.headers.get('x-ms-error-code');
  return { code, message };
}

/**
 * A long-running operation that ended Failed: the SDK's poller reports it as a plain Error whose message
 * carries the operation's error code and message, with no status code (the status answer was a 200).
 */
function failedOperationOf(e: ErrorShape): { code: string; message: string } | undefined {
  const match = /^The long-running operation has failed\. ([^\s.]+)\. ([\s\S]*)$/.exec(e.message ?? '');
  if (!match || e.statusCode !== undefined) return undefined;
  return { code: match[1], message: match[2].trim() };
}

/** Action and scope from Resource Manager's AuthorizationFailed message. */
export function parseAuthorizationFailure(message: string): { action?: string; scope?: string } {
  const action = /action '([^']+)'/i.exec(message)?.[1];
  const scope = /scope '([^']+)'/i.exec(message)?.[1];
  return { action, scope };
}

/** The least built-in role that allows `action`, in words. */
export function roleFor(action: string | undefined): string {
  if (!action) return 'Contributor';
  const lower = action.toLowerCase();
  if (lower.endsWith('/read')) return 'Reader (Contributor where the task changes the lab)';
  if (lower.startsWith('microsoft.storage/') && lower.includes('/blobservices/')) return 'Storage Blob Data Contributor';
  return 'Contributor';
}

/** Removes query strings (SAS tokens) from every URL in `text`. */
export function redactUrls(text: string): string {
  return text.replace(/(https?:\/\/[^\s?'"<>]+)\?[^\s'"<>]*/gi, '$1');
}

/**
 * A request that got no answer, in words: a host that could not be found, a connection that failed, or a
 * TLS certificate the agent does not trust, with the certificate problem Node names. `endpoint` names
 * what was called (`the authority 127.0.0.1:443`); by default its host.
 */
export function networkProblem(
  e: Pick<ErrorShape, 'code' | 'message' | 'request'>,
  endpoint?: string,
): { message: string; fix: string } | undefined {
  const code = e.code ?? '';
  const host = hostOf(e.request?.url);
  const name = endpoint ?? (host ? `the host ${host}` : 'Azure');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return { message: `${name} could not be found (${code}).`, fix: "Check the service connection's URLs and the agent's DNS and proxy settings." };
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT' || code === 'EPIPE' || code === 'REQUEST_SEND_ERROR') {
    return {
      message: `${name} could not be reached (${code}), also after retries.`,
      fix: "Check the agent's network and proxy settings and the service connection's URLs, then run again.",
    };
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code) || /certificate/i.test(e.message ?? '')) {
    const problem = [code, e.message].filter(Boolean).join(': ');
    return {
      message: `the TLS certificate of ${name} is not trusted (${problem}).`,
      fix:
        'Trust the certificate authority that issued it on the agent (a TLS-inspecting proxy presents its own): install it in the ' +
        "machine's store, or point NODE_EXTRA_CA_CERTS at its PEM file.",
    };
  }
  return undefined;
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
