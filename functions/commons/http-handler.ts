/**
 * One wrapper gives every route the same middleware stack (read top to bottom):
 *   Powertools logger context -> metrics flush -> request id -> body parsing (413/415/400)
 *   -> idempotency (claim, replay / 409 in progress / 422) -> the route's function -> domain errors as RFC 9457 problems.
 * A route file is then a few lines of intent.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DomainError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed } from '#domain/errors.ts';
import { runIdempotently } from './idempotency.ts';
import type { Principal } from '#domain/caller.ts';
import { principalOf } from './access-config.ts';
import { logger, metrics } from './powertools.ts';
import { PROBLEM_CONTENT_TYPE, problemBody } from './problem.ts';

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

/** The caller behind the request (functions/commons/access-config.ts); a 403 for an authenticated caller granted nothing. */
function callerOf(event: APIGatewayProxyEventV2): Principal {
  return principalOf(event);
}

function requestIdOf(event: APIGatewayProxyEventV2): string {
  const given = header(event, 'x-request-id');
  if (given && /^[A-Za-z0-9._:-]{1,128}$/.test(given)) return given;
  return event.requestContext?.requestId ?? crypto.randomUUID();
}

function parseBody(event: APIGatewayProxyEventV2, required: boolean): unknown {
  if (event.body === undefined || event.body === null || event.body === '') {
    if (required) throw new ValidationFailed('a JSON request body is required', [{ path: '', message: 'required' }]);
    return undefined;
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) throw new PayloadTooLarge(`request bodies are limited to ${MAX_BODY_BYTES} bytes; got ${raw.byteLength}`);
  const contentType = (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json' && !/^application\/[a-z0-9.+-]*\+json$/.test(contentType)) {
    throw new UnsupportedMediaType(`request bodies must be application/json; got "${contentType || 'no content type'}"`);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new ValidationFailed('the request body is not valid JSON', [{ path: '', message: (error as Error).message }]);
  }
}

function parseIfMatch(event: APIGatewayProxyEventV2): string | undefined {
  const value = header(event, 'if-match');
  if (value === undefined) return undefined;
  const match = /^(?:W\/)?"?([^"]*)"?$/.exec(value.trim());
  return match?.[1] ?? value;
}

function toResult(response: HttpResponse, requestId: string): APIGatewayProxyResultV2 {
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

function problemResult(error: unknown, requestId: string): APIGatewayProxyResultV2 {
  if (error instanceof DomainError) {
    metrics.addMetric(`Http${Math.floor(error.status / 100)}xx`, MetricUnit.Count, 1);
    return {
      statusCode: error.status,
      headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId },
      body: problemBody(error.status, error.title, error.message, error.extensions),
    };
  }
  logger.error('unhandled error', { error: error as Error });
  metrics.addMetric('UnhandledErrors', MetricUnit.Count, 1);
  return {
    statusCode: 500,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'x-request-id': requestId },
    body: problemBody(500, 'Internal error', `the request failed unexpectedly; quote request id ${requestId} when reporting it`),
  };
}

async function replayOrRun(request: HttpRequest, fn: RouteFunction, idempotent: boolean): Promise<HttpResponse> {
  const key = header(request.event, 'idempotency-key');
  if (!idempotent || !key) return fn(request);
  // the claim-before-mutation protocol and its answers (replay, 409 in progress, 422): ./idempotency.ts
  return runIdempotently(
    { scope: request.actor, key, method: request.event.requestContext?.http?.method ?? '', path: request.event.rawPath, body: request.body },
    () => fn(request),
  );
}

export function httpHandler(fn: RouteFunction, options: HttpHandlerOptions = {}) {
  const core = async (event: APIGatewayProxyEventV2, _context: Context): Promise<APIGatewayProxyResultV2> => {
    const requestId = requestIdOf(event);
    logger.appendKeys({ requestId, environment: event.pathParameters?.name });
    try {
      const principal = callerOf(event);
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
      metrics.addMetric(`Http${Math.floor(response.status / 100)}xx`, MetricUnit.Count, 1);
      return toResult(response, requestId);
    } catch (error) {
      return problemResult(error, requestId);
    } finally {
      logger.removeKeys(['requestId', 'environment']);
    }
  };
  return middy(core)
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(logMetrics(metrics));
}
