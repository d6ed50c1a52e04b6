/**
 * Local stand-in for API Gateway (HTTP API, payload format 2.0) and the shared ALB:
 * a node:http server on 127.0.0.1 that
 *  - routes `/v1/...` requests through the one route table (functions/contract/routes.ts) to the same
 *    handler modules the Lambdas run, fed API Gateway v2 events;
 *  - routes requests whose Host is `<name>.localhost[:port]` like the ALB listener rule
 *    would, to a small page about the environment (from the simulator and the table);
 *  - serves the dashboard (`GET /`, `/assets/app.js`, `/assets/app.css`: dashboard/serve.ts);
 *  - serves the local-only `POST /_local/faults` and `GET /_local/resources` (infra/local/README.md), and
 *    `POST /_local/aws` (a call to the simulated AWS account, as the AWS CLI would make one).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { routeKey, routes as defaultRoutes, type RouteDefinition } from '../../functions/contract/routes.ts';
import { METRICS_NAMESPACE } from '../../functions/contract/metrics.ts';
import { recordedMetrics } from '../../functions/runtime/metric-emitter.ts';
import { hasOperationInFlight, type Status } from '../../functions/domain/lifecycle.ts';
import { FaultTargetNotFound, InvalidFaultRequest, parseFaultRequest, type Simulator, withSdkRetries } from './simulator/index.ts';
import { loadHandlerModule } from './handler-modules.ts';
import type { LocalLogger } from './dynamodb-local.ts';
import { InvalidTokenRequest, parseTokenRequest, type LocalIssuer } from './local-issuer.ts';
import { dashboardAsset, isDashboardPath, isLoopbackHost } from '../../dashboard/serve.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** API Gateway's own payload limit (the handlers enforce the 64 KiB of README "Using the API" themselves). */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const INTEGRATION_TIMEOUT_MS = 30_000;

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

export interface HttpFrontOptions {
  port: number;
  simulator: Simulator;
  logger: LocalLogger;
  routes?: readonly RouteDefinition[];
  /** load `functions/api/<handler>.ts` (default: a dynamic import, cached) */
  loadHandler?: (handler: string) => Promise<ApiHandler>;
  /** the environment item from the table, for the environment page and fault checks */
  readEnvironment?: (name: string) => Promise<Record<string, unknown> | undefined>;
  /** workflow executions for `GET /_local/executions` (name, kind, status, transitions) */
  listExecutions?: () => unknown[];
  /** local EventBridge's deliveries for `GET /_local/deliveries` (rule, event, the handler's answer: infra/local/event-deliveries.ts) */
  listDeliveries?: () => unknown[];
  /** ALB -> Lambda target groups (e.g. a waker while an environment sleeps) */
  invokeLambda?: (functionArn: string, event: unknown) => Promise<unknown>;
  /** the waker Lambda: it answers a SLEEPING environment's page even while its rule still forwards to its own target group */
  wakerFunctionArn?: string;
  /** each shard's claimed slots (the placement's counters in the table), shown as `shards[].used` by `GET /_local/resources` */
  shardSlots?: () => Promise<Record<string, number>>;
  region?: string;
  accountId?: string;
  /**
   * `--auth oidc`: the local issuer. Every `/v1` request then needs one of its tokens, checked
   * as API Gateway's JWT authorizer does (infra/local/local-issuer.ts); `/_local/*` stays open.
   */
  issuer?: LocalIssuer;
}

export interface HttpFront {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

// ------------------------------------------------------------------ routing

export type RouteMatch =
  | { kind: 'route'; route: RouteDefinition; pathParameters: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

function compile(path: string): RegExp {
  const pattern = path
    .split('/')
    .map((segment) => (/^\{[A-Za-z0-9_]+\}$/.test(segment) ? `(?<${segment.slice(1, -1)}>[^/]+)` : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${pattern}$`);
}

export function matchRoute(routeTable: readonly RouteDefinition[], method: string, path: string): RouteMatch {
  const allowed: string[] = [];
  for (const route of routeTable) {
    const match = compile(route.path).exec(path);
    if (!match) continue;
    if (route.method === method) {
      const params: Record<string, string> = {};
      for (const [key, value] of Object.entries(match.groups ?? {})) params[key] = safeDecode(value);
      return { kind: 'route', route, pathParameters: params };
    }
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// ------------------------------------------------------------------ API Gateway v2 events

/**
 * The request target as a URL. `new URL(target, base)` reads `//x/y` as a host `x` (and throws
 * on a host it cannot parse), so an origin-form target is appended to the base instead; an
 * absolute-form one (`http://host/path`) is parsed as it is. Undefined for a target no URL parser takes.
 */
export function requestUrl(target: string): URL | undefined {
  try {
    return target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
  } catch {
    return undefined;
  }
}

export interface RawRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  sourceIp: string;
  httpVersion?: string;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|problem\+json|merge-patch\+json)|application\/[^;]*\+(json|xml))/i;

function isUtf8(body: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** Text goes to the handler as a string; anything else (also a "text" body that is not UTF-8) base64-encoded, so no byte is replaced unseen. */
function isText(contentType: string | undefined, body: Buffer): boolean {
  if (contentType && !TEXT_TYPES.test(contentType.trim())) return false;
  return isUtf8(body);
}

/** The API Gateway HTTP API (payload format 2.0) event for one request. */
export function toApiGatewayEvent(
  request: RawRequest,
  route: RouteDefinition,
  pathParameters: Record<string, string>,
  requestId: string,
  now = new Date(),
  accountId = '000000000000',
): APIGatewayProxyEventV2 {
  const url = requestUrl(request.url) ?? new URL('http://localhost/');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (key === 'cookie') {
      cookies = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(';')).map((c) => c.trim()).filter(Boolean);
      continue;
    }
    headers[key] = Array.isArray(value) ? value.join(',') : value;
  }
  // own keys only: `?__proto__=1` or `?toString=1` must reach the handler as the parameters they are
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of url.searchParams) query[key] = Object.hasOwn(query, key) ? `${query[key]},${value}` : value;
  const hasBody = request.body.length > 0;
  const text = hasBody && isText(headers['content-type'], request.body);
  const host = headers.host ?? 'localhost';
  return {
    version: '2.0',
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.startsWith('?') ? url.search.slice(1) : '',
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId,
      apiId: 'fledgelocal',
      domainName: host.replace(/:\d+$/, ''),
      domainPrefix: host.split('.')[0]!.replace(/:\d+$/, ''),
      http: {
        method: request.method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion ?? '1.1'}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: routeKey(route),
      stage: '$default',
      time: formatRequestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(hasBody ? { body: text ? request.body.toString('utf8') : request.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
}

/** `12/Mar/2020:19:03:58 +0000`, as API Gateway writes requestContext.time. */
function formatRequestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Map a handler's result back to HTTP, the way API Gateway interprets payload format 2.0. */
export function fromApiGatewayResult(result: APIGatewayProxyResultV2): HttpAnswer {
  if (typeof result === 'string' || result === null || typeof result !== 'object' || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body ?? '') };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies && result.cookies.length > 0) headers['set-cookie'] = result.cookies;
  const raw = result.body ?? '';
  const body = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  return { statusCode: result.statusCode ?? 200, headers, body };
}

export function fakeLambdaContext(functionName: string, region = 'eu-west-1', accountId = '000000000000', timeoutMs = INTEGRATION_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${awsRequestId.replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

// ------------------------------------------------------------------ helpers

function problem(status: number, title: string, detail: string, requestId: string, extra: Record<string, unknown> = {}): HttpAnswer {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
    body: Buffer.from(JSON.stringify({ type: 'about:blank', title, status, detail, ...extra })),
  };
}

/** API Gateway's answer when its JWT authorizer refuses a request (infra/local/local-issuer.ts). */
function unauthorized(requestId: string, description: string | undefined): HttpAnswer {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': requestId };
  if (description !== undefined) headers['www-authenticate'] = `Bearer scope="" error="invalid_token" error_description="${description.replace(/"/g, "'")}"`;
  return { statusCode: 401, headers, body: Buffer.from(JSON.stringify({ message: 'Unauthorized' })) };
}

function json(status: number, value: unknown, requestId: string): HttpAnswer {
  return { statusCode: status, headers: { 'content-type': 'application/json', 'x-request-id': requestId }, body: Buffer.from(JSON.stringify(value)) };
}

const escapeHtml = (text: unknown) =>
  String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function html(status: number, title: string, rows: [string, unknown][], refreshSeconds?: number): HttpAnswer {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<style>body{font-family:system-ui,sans-serif;margin:3rem;color:#222}table{border-collapse:collapse}td{padding:.3rem 1rem;border-bottom:1px solid #ddd}td:first-child{color:#666}</style></head>
<body><h1>${escapeHtml(title)}</h1><table>
${rows.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td data-field="${escapeHtml(k)}">${escapeHtml(v)}</td></tr>`).join('\n')}
</table><p><small>Fledge local mode (simulated Fargate behind a simulated ALB)</small></p></body></html>
`;
  return { statusCode: status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: Buffer.from(body) };
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolveBody(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** `pr-42.localhost:4000` -> `pr-42` (the ALB-routed hosts); undefined for the API's own host. */
export function environmentHost(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const match = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.localhost(?::\d+)?$/i.exec(host.trim());
  return match ? match[1]!.toLowerCase() : undefined;
}

// ------------------------------------------------------------------ Host allow-list

/**
 * Local mode answers only requests addressed to a loopback name (docs/security.md "Local
 * mode"): `localhost`, `*.localhost` (the environment pages), `127.0.0.1` and `[::1]`, with or
 * without a port (isLoopbackHost, shared with `fledge dashboard`). A page on another site that
 * gets the browser to send requests here through DNS rebinding carries its own host name
 * (`evil.example:4000`): refused before any route runs, so it can drive neither /v1,
 * /_local/aws, /_local/faults, the dashboard nor an environment's page.
 */
export { isLoopbackHost };

/**
 * 421 Misdirected Request (RFC 9110 §15.5.20: this server will not answer for that host) with
 * a problem body; undefined for an allowed host.
 */
export function refuseForeignHost(req: RawRequest, requestId: string): HttpAnswer | undefined {
  const host = typeof req.headers.host === 'string' ? req.headers.host : undefined;
  if (isLoopbackHost(host)) return undefined;
  return problem(421, 'Misdirected Request', 'local mode answers only requests to localhost, *.localhost, 127.0.0.1 or [::1]; use one of those names', requestId);
}

// ------------------------------------------------------------------ server

export async function startHttpFront(options: HttpFrontOptions): Promise<HttpFront> {
  const routeTable = options.routes ?? defaultRoutes;
  const log = options.logger;
  const region = options.region ?? process.env.AWS_REGION ?? 'eu-west-1';
  const accountId = options.accountId ?? '000000000000';
  const loadHandler =
    options.loadHandler ?? ((name: string) => loadHandlerModule<ApiHandler>(join(REPO_ROOT, 'functions', 'api', `${name}.ts`)));

  async function environmentPage(name: string, host: string, req: RawRequest): Promise<HttpAnswer> {
    const page = options.simulator.servePage(host);
    let item: Record<string, unknown> | undefined;
    try {
      item = await options.readEnvironment?.(name);
    } catch (error) {
      log.warn('environment page: could not read the table', { environment: name, error: String(error) });
    }
    const status = typeof item?.status === 'string' ? item.status : undefined;
    const spec = (item?.spec ?? {}) as { image?: string; desiredCount?: number };
    // a sleeping environment is woken by its page, as its waker rule does on AWS
    const lambdaArn = page.outcome === 'lambda' ? page.lambdaFunctionArn : status === 'SLEEPING' && page.outcome !== 'task' ? options.wakerFunctionArn : undefined;
    if (lambdaArn && options.invokeLambda) {
      const event = {
        requestContext: { elb: { targetGroupArn: page.targetGroup?.arn } },
        httpMethod: req.method,
        path: requestUrl(req.url)?.pathname ?? '/',
        queryStringParameters: Object.fromEntries(requestUrl(req.url)?.searchParams ?? []),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
        body: req.body.toString('utf8'),
        isBase64Encoded: false,
      };
      const result = (await options.invokeLambda(lambdaArn, event)) as { statusCode?: number; headers?: Record<string, string>; body?: string };
      return { statusCode: result?.statusCode ?? 200, headers: { ...(result?.headers ?? {}) }, body: Buffer.from(result?.body ?? '') };
    }
    if (page.outcome === 'no-load-balancer') {
      // the zone's alias names no load balancer of the pool: on AWS the name resolves to nothing that answers
      return html(502, `${name} resolves to no load balancer`, [
        ['host', host],
        ['alias target', page.aliasTarget ?? ''],
      ]);
    }
    if (page.outcome === 'fixed-response' && (!item || status === 'DELETED')) {
      return html(404, `No environment "${name}" here`, [
        ['host', host],
        ['hint', 'create it with PUT /v1/environments/' + name],
      ]);
    }
    if (page.outcome === 'task' && page.task) {
      return html(200, name, [
        ['environment', name],
        ['image', page.task.image],
        ['status', status ?? page.service?.status ?? 'unknown'],
        ['tasks', `${page.service?.runningCount ?? 0} running of ${page.service?.desiredCount ?? 0} desired`],
        ['served by task', page.task.id],
        ['task ip', page.task.ip],
        ['started', page.task.startedAt ?? ''],
        // the task's other containers: name, image and state, `exited 1` for one that stopped
        ...(page.task.sidecars ?? []).map((s): [string, string] => [
          `sidecar ${s.name}`,
          `${s.image}, ${s.lastStatus === 'STOPPED' ? `exited ${s.exitCode ?? ''}`.trim() : s.lastStatus.toLowerCase()}${s.essential ? '' : ' (not essential)'}`,
        ]),
      ]);
    }
    // the ALB has a rule (or the table a record) but no task answers: 503, as the ALB would
    // refresh while it may start answering: an operation other than a delete is under way, or a request may wake it
    const refresh = status && ((hasOperationInFlight(status as Status) && status !== 'DELETING') || status === 'SLEEPING') ? 5 : undefined;
    return html(503, `${name} is not answering${status === 'SLEEPING' ? ' (sleeping)' : ''}`, [
      ['environment', name],
      ['image', page.service?.image ?? spec.image ?? ''],
      ['status', status ?? page.service?.status ?? 'unknown'],
      ['tasks', `${page.service?.runningCount ?? 0} running of ${page.service?.desiredCount ?? spec.desiredCount ?? 0} desired`],
      ['healthy targets', page.targetGroup ? `${page.targetGroup.healthy} of ${page.targetGroup.total}` : 'none'],
    ], refresh);
  }

  /** `GET /_local/jwks.json`, the issuer's discovery document and `POST /_local/token` (only with --auth oidc). */
  async function issuerRoute(req: RawRequest, path: string, requestId: string, issuer: LocalIssuer): Promise<HttpAnswer | undefined> {
    const discoveryPath = `${new URL(issuer.issuer).pathname}/.well-known/openid-configuration`;
    if (path === '/_local/jwks.json' && req.method === 'GET') return json(200, issuer.jwks(), requestId);
    if (path === discoveryPath && req.method === 'GET') return json(200, issuer.discovery(), requestId);
    if (path !== '/_local/token') return undefined;
    if (req.method !== 'POST') return { ...problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}`, requestId), headers: { 'content-type': 'application/problem+json', allow: 'POST', 'x-request-id': requestId } };
    if (!/^application\/(.+\+)?json/i.test(String(req.headers['content-type'] ?? ''))) return problem(415, 'Unsupported Media Type', 'send the token request as application/json', requestId);
    try {
      const request = parseTokenRequest(JSON.parse(req.body.toString('utf8') || 'null'));
      const { token, claims } = await issuer.issue(request);
      return json(200, { token, claims }, requestId);
    } catch (error) {
      if (error instanceof InvalidTokenRequest) return problem(400, 'Bad Request', `${error.path || 'body'}: ${error.message}`, requestId, { errors: [{ path: error.path, message: error.message }] });
      if (error instanceof SyntaxError) return problem(400, 'Bad Request', 'the body is not valid JSON', requestId, { errors: [{ path: '', message: 'invalid JSON' }] });
      throw error;
    }
  }

  async function localRoute(req: RawRequest, path: string, requestId: string): Promise<HttpAnswer> {
    if (options.issuer) {
      const answer = await issuerRoute(req, path, requestId, options.issuer);
      if (answer) return answer;
    } else if (path === '/_local/token' || path === '/_local/jwks.json') {
      return problem(404, 'Not Found', 'local mode runs without --auth oidc: the API is open and hands out no tokens', requestId);
    }
    if (path === '/_local/resources') {
      if (req.method !== 'GET') return { ...problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}`, requestId), headers: { 'content-type': 'application/problem+json', allow: 'GET', 'x-request-id': requestId } };
      const resources = options.simulator.resources();
      if (options.shardSlots) {
        const used = await options.shardSlots();
        for (const shard of resources.shards) shard.used = used[shard.id] ?? 0;
      }
      return json(200, resources, requestId);
    }
    if (path === '/_local/metrics') {
      if (req.method !== 'GET') return { ...problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}`, requestId), headers: { 'content-type': 'application/problem+json', allow: 'GET', 'x-request-id': requestId } };
      // what the handlers (in this process) emitted, by the names CloudWatch gets on AWS (functions/contract/metrics.ts)
      return json(200, { namespace: METRICS_NAMESPACE, items: recordedMetrics() }, requestId);
    }
    if (path === '/_local/executions' && req.method === 'GET') {
      return json(200, { items: options.listExecutions?.() ?? [] }, requestId);
    }
    if (path === '/_local/deliveries') {
      if (req.method !== 'GET') return { ...problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}`, requestId), headers: { 'content-type': 'application/problem+json', allow: 'GET', 'x-request-id': requestId } };
      return json(200, { items: options.listDeliveries?.() ?? [] }, requestId);
    }
    if (path === '/_local/aws') {
      // the simulated account, as the AWS CLI would reach a real one: demos and tests create
      // resources Fledge does not track (e.g. an orphaned, Fledge-tagged service)
      if (req.method !== 'POST') return { ...problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}`, requestId), headers: { 'content-type': 'application/problem+json', allow: 'POST', 'x-request-id': requestId } };
      if (!/^application\/(.+\+)?json/i.test(String(req.headers['content-type'] ?? ''))) return problem(415, 'Unsupported Media Type', 'send the call as application/json', requestId);
      let call: { service?: unknown; action?: unknown; params?: unknown };
      try {
        call = JSON.parse(req.body.toString('utf8')) as typeof call;
      } catch {
        return problem(400, 'Bad Request', 'the body is not valid JSON', requestId, { errors: [{ path: '', message: 'invalid JSON' }] });
      }
      if (typeof call?.service !== 'string' || typeof call.action !== 'string') {
        return problem(400, 'Bad Request', 'send {"service": "ecs", "action": "CreateService", "params": {...}} (Step Functions style: PascalCase)', requestId, { errors: [{ path: 'service', message: 'service and action are required strings' }] });
      }
      try {
        // retried on throttling as the AWS CLI's standard retry mode would
        const { result } = await withSdkRetries(() => options.simulator.call(call.service as string, call.action as string, call.params ?? {}));
        return json(200, result ?? {}, requestId);
      } catch (error) {
        const e = error as Error & { Code?: string };
        return problem(400, 'Bad Request', `${e.name}: ${e.message}`, requestId, { code: e.Code ?? e.name });
      }
    }
    if (path === '/_local/faults') {
      if (req.method !== 'POST') return { ...problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}`, requestId), headers: { 'content-type': 'application/problem+json', allow: 'POST', 'x-request-id': requestId } };
      const contentType = String(req.headers['content-type'] ?? '');
      if (!/^application\/(.+\+)?json/i.test(contentType)) return problem(415, 'Unsupported Media Type', 'send the fault as application/json', requestId);
      let body: unknown;
      try {
        body = JSON.parse(req.body.toString('utf8'));
      } catch {
        return problem(400, 'Bad Request', 'the body is not valid JSON', requestId, { errors: [{ path: '', message: 'invalid JSON' }] });
      }
      try {
        const fault = parseFaultRequest(body);
        if (fault.fault === 'clear' && fault.environment) {
          const known = options.simulator.resources().services.some((s) => s.environment === fault.environment) || (await options.readEnvironment?.(fault.environment));
          if (!known) return problem(404, 'Not Found', `environment ${fault.environment} does not exist`, requestId);
        }
        const result = options.simulator.injectFault(fault);
        return json(200, result, requestId);
      } catch (error) {
        if (error instanceof InvalidFaultRequest) return problem(400, 'Bad Request', error.message, requestId, { errors: [{ path: '', message: error.message }] });
        if (error instanceof FaultTargetNotFound) return problem(404, 'Not Found', error.message, requestId);
        throw error;
      }
    }
    return problem(404, 'Not Found', `no local route ${path}`, requestId);
  }

  async function route(req: RawRequest, requestId: string): Promise<HttpAnswer> {
    const refused = refuseForeignHost(req, requestId);
    if (refused) return refused;
    const host = typeof req.headers.host === 'string' ? req.headers.host : undefined;
    const envName = environmentHost(host);
    if (envName) return environmentPage(envName, host!, req);
    const target = requestUrl(req.url);
    if (!target) return problem(400, 'Bad Request', 'the request target is not a valid URL path', requestId);
    const path = target.pathname;
    if (path.startsWith('/_local/')) return localRoute(req, path, requestId);
    // the dashboard (dashboard/serve.ts): its page and assets, same origin as the API it calls
    if (isDashboardPath(path)) return dashboardAsset(req.method, path);
    const match = matchRoute(routeTable, req.method, path);
    if (match.kind === 'not-found') return problem(404, 'Not Found', `no route for ${req.method} ${path}`, requestId);
    if (match.kind === 'method-not-allowed') {
      const answer = problem(405, 'Method Not Allowed', `${req.method} is not allowed on ${path}; allowed: ${match.allowed.join(', ')}`, requestId);
      answer.headers.allow = match.allowed.join(', ');
      return answer;
    }
    const event = toApiGatewayEvent(req, match.route, match.pathParameters, requestId, new Date(), accountId);
    if (options.issuer) {
      const authorization = req.headers.authorization;
      const verdict = await options.issuer.verify(Array.isArray(authorization) ? authorization[0] : authorization);
      if (!verdict.ok) return unauthorized(requestId, verdict.description);
      // what API Gateway's JWT authorizer gives the integration: the claims, as strings
      (event.requestContext as { authorizer?: unknown }).authorizer = { jwt: { claims: verdict.claims, scopes: null } };
    }
    const handler = await loadHandler(match.route.handler);
    const context = fakeLambdaContext(`fledge-${match.route.handler}`, region, accountId);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout('timeout'), INTEGRATION_TIMEOUT_MS);
    });
    try {
      const result = await Promise.race([handler(event, context), timeout]);
      if (result === 'timeout') return problem(503, 'Service Unavailable', `the ${match.route.handler} function did not answer within 30 s`, requestId);
      return fromApiGatewayResult(result);
    } finally {
      clearTimeout(timer);
    }
  }

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const requestId = randomBytes(10).toString('base64').replace(/=+$/, '') + '=';
    let answer: HttpAnswer;
    try {
      const body = await readBody(req);
      if (body === 'too-large') {
        answer = problem(413, 'Content Too Large', 'the request body exceeds 10 MiB', requestId);
      } else {
        const raw: RawRequest = {
          method: (req.method ?? 'GET').toUpperCase(),
          url: req.url ?? '/',
          headers: req.headers,
          body,
          sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
          httpVersion: req.httpVersion,
        };
        answer = await route(raw, requestId);
      }
    } catch (error) {
      log.error('request failed', { method: req.method, url: req.url, requestId, error: error instanceof Error ? error.stack : String(error) });
      answer = problem(500, 'Internal Server Error', 'the handler failed; see the local-mode log', requestId);
    }
    answer.headers['apigw-requestid'] = requestId;
    if (!res.headersSent) {
      res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.end(req.method === 'HEAD' ? undefined : answer.body);
    }
    log.info('request', {
      method: req.method,
      path: req.url,
      host: req.headers.host,
      status: answer.statusCode,
      durationMs: Date.now() - started,
      requestId,
    });
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
