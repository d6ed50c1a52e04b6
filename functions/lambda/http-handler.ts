/**
 * One wrapper gives every route the same middleware stack (read top to bottom):
 *   trace, logger context and metrics (./powertools-stack.ts) -> request id -> body parsing (413/415/400)
 *   -> idempotency (claim, replay / 409 in progress / 422) -> the route's function -> domain errors as RFC 9457 problems.
 * A route file is then a few lines of intent.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { AwsThrottled, DomainError, isThrottlingError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed } from '#domain/errors.ts';
import { runIdempotently } from '#commands/idempotency.ts';
import { stableIdentity, type Principal } from '#domain/caller.ts';
import { principalOf } from './principal.ts';
import { logger } from '#runtime/powertools.ts';
import { emitMetric } from '#runtime/metric-emitter.ts';
import { PROBLEM_CONTENT_TYPE, problemBody } from './problem.ts';
import { withPowertools } from './powertools-stack.ts';

export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpRequest {
  event: APIGatewayProxyEventV2;
  requestId: string;
  /** the authenticated caller (IAM principal ARN or OIDC subject), `local` in local mode */
  actor: string;
  /** who the caller is and which repositories it acts for (functions/domain/caller.ts) */
  principal: Principal;
  /** parsed JSON body (undefined when the request has none) */
  body: unknown;
  pathName: string | undefined;
  query: Record<string, string | undefined>;
  /** the version an `If-Match: "<n>"` header asks for */
  ifMatch: string | undefined;
}

export interface HttpResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpHandlerOptions {
  /** PUT/POST/PATCH: a JSON body is required */
  requiresBody?: boolean;
  /** mutating routes honour Idempotency-Key */
  idempotent?: boolean;
}

type RouteFunction = (request: HttpRequest) => Promise<HttpResponse>;

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  return event.headers?.[name] ?? event.headers?.[name.toLowerCase()];
}

/** A caller's x-request-id is kept only when it is a short token of safe characters (it is logged and echoed). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** API Gateway's own request ids are base64 (`JKJaXmPLvHcESHA=`); anything else is replaced too. */
const GATEWAY_REQUEST_ID_PATTERN = /^[A-Za-z0-9+/=._:-]{1,128}$/;

function requestIdOf(event: APIGatewayProxyEventV2): string {
  const given = header(event, 'x-request-id');
  if (given !== undefined && REQUEST_ID_PATTERN.test(given)) return given;
  const gateway = event.requestContext?.requestId;
  if (typeof gateway === 'string' && GATEWAY_REQUEST_ID_PATTERN.test(gateway)) return gateway;
  return crypto.randomUUID();
}

/** JSON nested deeper than this (objects and arrays) is refused with 400 before it is parsed. */
export const MAX_JSON_DEPTH = 32;

/**
 * The deepest nesting of objects and arrays in a JSON text, found by one pass over the
 * characters (no recursion: a body of 64 KiB of `[` cannot exhaust the stack). Brackets inside
 * strings do not count; the text need not be valid JSON (JSON.parse judges that afterwards).
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** POST, PUT and PATCH change state: they need a JSON content type even with no body (a cross-site form cannot send one). */
const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function isJsonMediaType(contentType: string): boolean {
  return contentType === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(contentType);
}

function methodOf(event: APIGatewayProxyEventV2): string {
  return (event.requestContext?.http?.method ?? event.routeKey?.split(' ')[0] ?? '').toUpperCase();
}

function parseBody(event: APIGatewayProxyEventV2, required: boolean): unknown {
  const contentType = (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const hasBody = !(event.body === undefined || event.body === null || event.body === '');
  const method = methodOf(event);
  // A DELETE without a body needs no content type: a cross-site page cannot send DELETE without
  // a CORS preflight, which this API never answers (no CORS configuration), and `curl -X DELETE` sends none.
  if ((hasBody || STATE_CHANGING_METHODS.has(method)) && !isJsonMediaType(contentType)) {
    throw new UnsupportedMediaType(`${hasBody ? 'request bodies' : `${method} requests`} must be application/json; got "${contentType || 'no content type'}"`);
  }
  if (!hasBody) {
    if (required) throw new ValidationFailed('a JSON request body is required', [{ path: '', message: 'required' }]);
    return undefined;
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body!, 'base64') : Buffer.from(event.body!, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) throw new PayloadTooLarge(`request bodies are limited to ${MAX_BODY_BYTES} bytes; got ${raw.byteLength}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new ValidationFailed('the request body is not valid UTF-8', [{ path: '', message: 'JSON text must be UTF-8 (RFC 8259 §8.1)' }]);
  }
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new ValidationFailed(`the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`, [
      { path: '', message: `nested deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  }
  let wellFormed = true;
  let parsed: unknown;
  try {
    // a `\ud800` escape yields a lone surrogate, which is not Unicode text: DynamoDB, ECS and
    // the logs would each treat it their own way, so it is refused here (RFC 8259 section 8.2)
    parsed = JSON.parse(text, (key, value: unknown) => {
      if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) wellFormed = false;
      return value;
    });
  } catch (error) {
    throw new ValidationFailed('the request body is not valid JSON', [{ path: '', message: (error as Error).message }]);
  }
  if (!wellFormed) throw new ValidationFailed('the request body has a string that is not valid Unicode', [{ path: '', message: 'lone surrogate escape' }]);
  return parsed;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** `"3"` (strong) or `W/"3"` (weak): RFC 9110 section 8.8.3 entity-tag; etagc = %x21 / %x23-7E / obs-text. */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/**
 * `If-Match` (RFC 9110 section 13.1.1) with the strong comparison that section requires: a weak
 * tag (`W/"3"`) never matches, so a request naming only weak tags fails its precondition (412).
 * `*` matches any current environment. A value that is neither `*` nor a list of entity tags is a
 * 400 (RFC 9110 section 15.5.1): ignoring it would run the request unconditionally. The domain
 * compares one version, so a list may name one strong tag at most.
 */
function parseIfMatch(event: APIGatewayProxyEventV2): string | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const invalid = (message: string) =>
    new ValidationFailed('If-Match must be * or the entity tag of a version, e.g. If-Match: "3"', [{ path: 'header:If-Match', message }]);
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  if (trimmed.length > 1024) throw invalid('longer than 1024 characters');
  const members = trimmed.split(',').map((member) => member.trim()).filter((member) => member !== '');
  if (members.length === 0) throw invalid('empty');
  const strong: string[] = [];
  for (const member of members) {
    const tag = ENTITY_TAG.exec(member);
    if (!tag) throw invalid(`not an entity tag: ${JSON.stringify(member.slice(0, 40))}`);
    if (!tag[1]) strong.push(tag[2]!);
  }
  if (strong.length > 1) throw invalid('name one entity tag (the version you read)');
  // `"*"` is an entity tag, not the wildcard; like a list of weak tags it matches no version,
  // so it is passed on as sent and the domain answers 412
  if (strong[0] !== undefined && strong[0] !== '*') return strong[0];
  return members.join(', ');
}

function toResult(response: HttpResponse, requestId: string): APIGatewayProxyStructuredResultV2 {
  const hasBody = response.body !== undefined;
  return {
    statusCode: response.status,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...response.headers,
      'x-request-id': requestId,
    },
    body: hasBody ? JSON.stringify(response.body) : '',
  };
}

/**
 * The domain error an error is answered as: itself, or for AWS throttling a call of any route
 * (ECS ListTasks or CloudWatch Logs behind the logs route, DynamoDB behind every route) after the
 * SDK's retries, a 503 with `Retry-After` (AwsThrottled); AWS's text goes to the log only.
 */
function asDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  if (!isThrottlingError(error)) return undefined;
  const { name, message } = error as Error;
  logger.warn('AWS throttled a call of this request; answered 503', { error: { name, message } });
  return new AwsThrottled();
}

function problemResult(thrown: unknown, requestId: string): APIGatewayProxyStructuredResultV2 {
  const error = asDomainError(thrown) ?? thrown;
  if (error instanceof DomainError) {
    return {
      statusCode: error.status,
      headers: {
        'content-type': PROBLEM_CONTENT_TYPE,
        ...(error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) }),
        'x-request-id': requestId,
      },
      body: problemBody(error.status, error.title, error.message, error.extensions),
    };
  }
  logger.error('unhandled error', { error: error as Error });
  emitMetric('UnhandledErrors', 1);
  return {
    statusCode: 500,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId },
    body: problemBody(500, 'Internal error', `the request failed unexpectedly; quote request id ${requestId} when reporting it`),
  };
}

async function replayOrRun(request: HttpRequest, fn: RouteFunction, idempotent: boolean): Promise<HttpResponse> {
  const key = header(request.event, 'idempotency-key');
  if (!idempotent || !key) return fn(request);
  // the claim-before-mutation protocol and its answers (replay, 409 in progress, 422): ./idempotency.ts;
  // keys are the caller's across its sessions (an IAM role, not its session; an OIDC caller's
  // repository and sub together, never its sub alone: functions/domain/caller.ts oidcIdentity), so a
  // replay, which answers before the route's tenancy check, only ever returns the same caller's answer
  return runIdempotently(
    { scope: stableIdentity(request.principal), key, method: methodOf(request.event), path: request.event.rawPath, body: request.body },
    () => fn(request),
  );
}

/** Every answer counted by route and status class, and timed (functions/contract/metrics.ts). */
function answered(event: APIGatewayProxyEventV2, started: number, result: APIGatewayProxyStructuredResultV2): APIGatewayProxyResultV2 {
  const status = result.statusCode ?? 200;
  emitMetric('ApiRequests', 1, { statusClass: `${Math.floor(status / 100)}xx`, route: event.routeKey ?? 'unknown' });
  emitMetric('ApiLatency', performance.now() - started);
  return result;
}

export function httpHandler(fn: RouteFunction, options: HttpHandlerOptions = {}) {
  const core = async (event: APIGatewayProxyEventV2, _context: Context): Promise<APIGatewayProxyResultV2> => {
    const started = performance.now();
    const requestId = requestIdOf(event);
    logger.appendKeys({ requestId, environment: event.pathParameters?.name });
    try {
      // the caller behind the request (./principal.ts); a 403 for an authenticated caller granted nothing
      const principal = principalOf(event);
      const body = parseBody(event, options.requiresBody ?? false);
      const request: HttpRequest = {
        event,
        requestId,
        actor: principal.actor,
        principal,
        body,
        pathName: event.pathParameters?.name,
        query: event.queryStringParameters ?? {},
        ifMatch: parseIfMatch(event),
      };
      const response = await replayOrRun(request, fn, options.idempotent ?? false);
      return answered(event, started, toResult(response, requestId));
    } catch (error) {
      return answered(event, started, problemResult(error, requestId));
    }
  };
  return withPowertools(core);
}
