import { ArmError, ok, type Reply } from '../http';
import type { ArmRequest } from './context';

/** A list answer with at most pageSize items and a nextLink carrying the original query plus $skipToken. */
export function page<T>(request: ArmRequest, items: readonly T[], view: (item: T) => unknown): Reply {
  const size = request.context.state.settings.pageSize;
  const token = request.url.searchParams.get('$skipToken');
  const skip = token === null ? 0 : Number(token);
  if (!Number.isInteger(skip) || skip < 0) throw new ArmError(400, 'InvalidSkipToken', `The $skipToken '${token}' is not valid.`);
  const body: { value: unknown[]; nextLink?: string } = { value: items.slice(skip, skip + size).map(view) };
  if (skip + size < items.length) {
    const next = new URL(request.url.pathname + request.url.search, request.context.baseUrl());
    next.searchParams.delete('$skipToken');
    next.searchParams.set('$skipToken', String(skip + size));
    body.nextLink = next.toString();
  }
  return ok(body);
}
