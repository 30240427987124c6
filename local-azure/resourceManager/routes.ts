import type { Reply } from '../http';
import type { ArmRequest } from './context';

/**
 * A Resource Manager operation: method and path template as in the REST API specification (matched
 * without regard to case, as ARM does), the swagger operation id, the api-versions it accepts and,
 * for access checks, the RBAC action it needs.
 */
export interface RouteSpec {
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';
  path: string;
  operationId: string;
  apiVersions: readonly string[];
  action: string;
  handler: (request: ArmRequest) => Promise<Reply> | Reply;
}

export interface CompiledRoute extends RouteSpec {
  pattern: RegExp;
  names: string[];
}

export function compileRoutes(specs: readonly RouteSpec[]): CompiledRoute[] {
  return specs.map((spec) => {
    const names: string[] = [];
    const source = spec.path
      .split('/')
      .map((segment) => {
        const param = /^\{(\w+)\}$/.exec(segment);
        if (param) {
          names.push(param[1]);
          return '([^/]+)';
        }
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    return { ...spec, names, pattern: new RegExp(`^${source}/?$`, 'i') };
  });
}

export interface RouteMatch {
  route: CompiledRoute;
  params: Record<string, string>;
}

/** The route for method and path; `methodMismatch` when the path is known but not with that method. */
export function matchRoute(routes: readonly CompiledRoute[], method: string, pathname: string): RouteMatch | { methodMismatch: boolean } {
  let pathKnown = false;
  for (const route of routes) {
    const match = route.pattern.exec(pathname);
    if (!match) continue;
    pathKnown = true;
    if (route.method !== method.toUpperCase()) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      params[name] = safeDecode(match[i + 1]);
    });
    return { route, params };
  }
  return { methodMismatch: pathKnown };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
