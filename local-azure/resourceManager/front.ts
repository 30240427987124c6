import type { IncomingMessage } from 'node:http';
import { ArmError, parseJsonBody, readBody, type Reply } from '../http';
import { ARM_AUDIENCES, type TokenIssuer } from '../identity/tokens';
import { computeRoutes, DISK_API_VERSIONS, VM_API_VERSIONS } from '../compute/routes';
import type { ArmContext, ArmRequest } from './context';
import { ALL_DTL_API_VERSIONS, devTestLabsRoutes } from '../devTestLabs/routes';
import { GALLERY_API_VERSIONS, galleryRoutes } from '../galleries/routes';
import { deploymentRoutes } from './deployments';
import { compileRoutes, matchRoute, type CompiledRoute, type RouteSpec } from './routes';
import { ArmThrottle } from './throttling';

/**
 * The Resource Manager front: authentication with bearer tokens of the local authority, throttling per
 * principal (throttling.ts), routing without regard to case, api-version checks per provider,
 * subscription checks, then the provider handlers.
 */

const COMPUTE_API_VERSIONS = [...new Set([...DISK_API_VERSIONS, ...VM_API_VERSIONS, ...GALLERY_API_VERSIONS])];

const operationRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.DevTestLab/locations/{location}/operations/{operationName}',
    operationId: 'Operation_Status',
    action: 'Microsoft.DevTestLab/locations/operations/read',
    apiVersions: ALL_DTL_API_VERSIONS,
    handler: (r) => r.context.operations.statusReply(resolveOperation(r, 'Microsoft.DevTestLab')),
  },
  {
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.DevTestLab/locations/{location}/operationResults/{operationName}',
    operationId: 'Operation_Status',
    action: 'Microsoft.DevTestLab/locations/operations/read',
    apiVersions: ALL_DTL_API_VERSIONS,
    handler: (r) => r.context.operations.resultReply(resolveOperation(r, 'Microsoft.DevTestLab')),
  },
  {
    method: 'GET',
    path: '/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationName}',
    operationId: 'Operation_Status',
    action: 'Microsoft.Compute/locations/operations/read',
    apiVersions: COMPUTE_API_VERSIONS,
    handler: (r) => {
      const op = resolveOperation(r, 'Microsoft.Compute');
      return r.url.searchParams.get('monitor') === 'true' ? r.context.operations.resultReply(op) : r.context.operations.statusReply(op);
    },
  },
];

function resolveOperation(request: ArmRequest, provider: 'Microsoft.DevTestLab' | 'Microsoft.Compute') {
  const op = request.context.operations.get(request.params.operationName);
  if (!op || op.spec.provider !== provider || op.spec.subscriptionId.toLowerCase() !== request.params.subscriptionId.toLowerCase()) {
    throw new ArmError(404, 'OperationNotFound', `The operation '${request.params.operationName}' could not be found.`);
  }
  return op;
}

export class ResourceManager {
  private readonly routes: CompiledRoute[] = compileRoutes([...devTestLabsRoutes, ...computeRoutes, ...galleryRoutes, ...deploymentRoutes, ...operationRoutes]);
  private readonly throttle: ArmThrottle;

  constructor(
    private readonly context: ArmContext,
    private readonly tokens: TokenIssuer,
  ) {
    this.throttle = new ArmThrottle(context.state.settings);
  }

  /** The swagger operation id of a request, for metrics and faults ('Unknown' when no route matches). */
  operationOf(method: string, pathname: string): string {
    const match = matchRoute(this.routes, method, pathname);
    return 'route' in match ? match.route.operationId : 'Unknown';
  }

  async handle(req: IncomingMessage, url: URL): Promise<Reply> {
    // What is left of the principal's bucket goes on every answer to an authenticated request, errors too.
    const rate: { headers?: Record<string, string> } = {};
    try {
      return withHeaders(await this.dispatch(req, url, rate), rate.headers);
    } catch (error) {
      if (error instanceof ArmError) return withHeaders(error.toReply(), rate.headers);
      throw error;
    }
  }

  private async dispatch(req: IncomingMessage, url: URL, rate: { headers?: Record<string, string> }): Promise<Reply> {
    const method = (req.method ?? 'GET').toUpperCase();
    const principal = this.authenticate(req);
    const decision = this.throttle.take(principal.objectId, subscriptionOfPath(url.pathname), method);
    rate.headers = decision.headers;
    if (decision.refusal) throw decision.refusal;

    const match = matchRoute(this.routes, method, url.pathname);
    if (!('route' in match)) {
      if (match.methodMismatch) throw new ArmError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
      this.checkSubscriptionOfPath(url.pathname);
      const namespace = /\/providers\/([^/]+)/i.exec(url.pathname)?.[1];
      throw namespace
        ? new ArmError(404, 'InvalidResourceType', `The resource type could not be found in the namespace '${namespace}' for api version '${url.searchParams.get('api-version') ?? ''}'.`)
        : new ArmError(404, 'NotFound', `No resource or operation is found at '${url.pathname}'.`);
    }
    const { route, params } = match;
    const apiVersion = checkApiVersion(url, route);
    if (params.subscriptionId !== undefined) this.checkSubscription(params.subscriptionId);
    const body = method === 'PUT' || method === 'PATCH' || method === 'POST' ? parseJsonBody(await readBody(req)) : undefined;
    const request: ArmRequest = {
      context: this.context,
      method,
      url,
      params,
      body,
      operationId: route.operationId,
      apiVersion,
      action: route.action,
      principal,
    };
    return route.handler(request);
  }

  private authenticate(req: IncomingMessage) {
    const header = req.headers.authorization;
    const challenge = (error: string, description: string) => ({
      'WWW-Authenticate': `Bearer authorization_uri="${this.context.baseUrl()}/${this.context.state.identity.tenantId}", error="${error}", error_description="${description}"`,
    });
    if (!header) {
      throw new ArmError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
        challenge('invalid_token', "The authentication failed because of missing 'Authorization' header."),
      );
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    if (!bearer) {
      throw new ArmError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        challenge('invalid_token', "The 'Authorization' header must be 'Bearer <token>'."),
      );
    }
    const audiences = [...ARM_AUDIENCES, `${this.context.baseUrl()}/`];
    const check = this.tokens.verifyAccessToken(bearer[1], audiences);
    if (!check.ok) throw new ArmError(401, check.code, check.message, challenge('invalid_token', check.message.replace(/"/g, "'")));
    const principal = this.context.state.identity.findPrincipalByObjectId(check.claims.oid);
    if (!principal) {
      throw new ArmError(401, 'InvalidAuthenticationToken', `The access token is for object id '${check.claims.oid}', which is not a principal of the tenant.`);
    }
    return principal;
  }

  private checkSubscription(subscriptionId: string): void {
    if (!this.context.state.resourceManager.findSubscription(subscriptionId)) {
      throw new ArmError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
    }
  }

  private checkSubscriptionOfPath(pathname: string): void {
    const sub = subscriptionOfPath(pathname);
    if (sub) this.checkSubscription(sub);
  }
}

function subscriptionOfPath(pathname: string): string | undefined {
  const sub = /^\/subscriptions\/([^/]+)/i.exec(pathname)?.[1];
  if (!sub) return undefined;
  try {
    return decodeURIComponent(sub);
  } catch {
    return sub;
  }
}

function withHeaders(reply: Reply, headers: Record<string, string> | undefined): Reply {
  return headers ? { ...reply, headers: { ...headers, ...reply.headers } } : reply;
}

function checkApiVersion(url: URL, route: CompiledRoute): string {
  const versions = url.searchParams.getAll('api-version');
  if (versions.length === 0 || versions[0] === '') {
    throw new ArmError(400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
  }
  const version = versions[0];
  if (versions.some((v) => v !== version)) {
    throw new ArmError(400, 'InvalidApiVersionParameter', `The api-version query parameter is given more than once with different values: ${versions.join(', ')}.`);
  }
  if (!route.apiVersions.includes(version)) {
    throw new ArmError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${version}' is invalid. The supported versions are '${route.apiVersions.join(',')}'.`,
    );
  }
  return version;
}
