/**
 * The API's answers and parameters as zod schemas: with the request schemas of the domain
 * (environment-spec.ts, scaling.ts) they are the one description the OpenAPI document is
 * generated from (./openapi.ts). Nothing here validates a request at run time except the
 * constants the handlers share (list limits, the Idempotency-Key pattern).
 */
import * as z from 'zod';
import { environmentName, environmentSpecSchema, MAX_LABEL_VALUE_LENGTH } from '#domain/environment-spec.ts';
import { ERROR_CODES } from '#domain/environment.ts';
import { STATUSES } from '#domain/lifecycle.ts';
import { DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT } from '#domain/log-query.ts';

/** `limit` of the environments and events lists (functions/api/list-parameters.ts parses it). */
export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
/** What an `Idempotency-Key` may be (functions/commands/idempotency.ts refuses anything else with a 400). */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,255}$/;

const isoTime = z.iso.datetime({ offset: true });

// ------------------------------------------------------------------ parameters

export const nameParameter = z.object({
  name: environmentName.meta({ description: 'the environment name: a DNS label (it is part of the URL)', example: 'pr-42' }),
});

const limit = (fallback: number, max: number) =>
  z.int().min(1).max(max).default(fallback).meta({ description: 'page size' });
const cursor = z.string().min(1).meta({ description: 'opaque: the `nextCursor` of the previous page' });

export const environmentListQuery = z.object({
  repository: z.string().min(1).max(MAX_LABEL_VALUE_LENGTH).optional().meta({ description: 'only environments whose `labels.repository` is this; a caller acting for several repositories must name one' }),
  branch: z.string().min(1).max(MAX_LABEL_VALUE_LENGTH).optional().meta({ description: 'only environments whose `labels.branch` is this' }),
  status: z.enum(STATUSES).optional().meta({ description: 'only environments in this status; deleted environments are listed only with `status=DELETED`' }),
  limit: limit(DEFAULT_LIMIT, MAX_LIMIT),
  cursor: cursor.optional(),
});

export const eventListQuery = z.object({ limit: limit(DEFAULT_LIMIT, MAX_LIMIT), cursor: cursor.optional() });

export const logQuery = z.object({
  since: isoTime.optional().meta({ description: 'the first time to return lines from (ISO 8601)' }),
  limit: limit(DEFAULT_LOG_LIMIT, MAX_LOG_LIMIT),
  cursor: cursor.optional(),
});

export const idempotencyKeyHeader = z.string().regex(IDEMPOTENCY_KEY_PATTERN).meta({
  description: 'makes a retry safe: the first answer is replayed for 24 hours to the same caller sending the same request; another request with the key is a 422',
  example: 'build-1234',
});
export const ifMatchHeader = z.string().meta({
  description: 'only if the environment is still at this version: its ETag (`"7"`) or `*`; a mismatch is a 412',
  example: '"7"',
});
export const requestIdHeader = z.string().meta({
  description: 'your id for the request, echoed as `x-request-id` if it is 1-128 letters, digits and `._:-` (otherwise a new one is made)',
});

// ------------------------------------------------------------------ answers

/** Estimated Fargate cost (USD, 4 decimals): by the hour at the current size, and since the environment was created. */
export const costSchema = z
  .strictObject({
    perHour: z.number().min(0).meta({ description: 'what the running tasks cost per hour now (0 while sleeping)' }),
    toDate: z.number().min(0).meta({ description: 'what its running task-time has cost so far (sleeping time is free)' }),
    currency: z.literal('USD'),
  })
  .meta({ id: 'Cost', description: 'estimated Fargate cost from the price table of the region (numbers rounded to 4 decimals)' });

export const operationErrorSchema = z
  .strictObject({
    code: z.enum(ERROR_CODES).meta({ description: 'what to act on' }),
    message: z.string().meta({ description: 'plain words: never an ARN, an account id or AWS\'s own error text' }),
    image: z.string().optional().meta({ description: 'the image whose deployment failed (a rolled-back update, scale or heal)' }),
    logs: z.string().optional().meta({
      description: 'where the logs of the failed operation are: `/v1/environments/<name>/logs?since=<operation.startedAt>`; always there when the environment is FAILED or DEGRADED',
      example: '/v1/environments/pr-42/logs?since=2026-01-01T10:00:00.000Z',
    }),
  })
  .meta({ id: 'OperationError' });

export const operationSchema = z
  .strictObject({
    id: z.string(),
    type: z.enum(['create', 'update', 'scale', 'heal', 'teardown']),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'STOPPED']),
    startedAt: isoTime,
    finishedAt: isoTime.nullable(),
    error: operationErrorSchema.nullable(),
  })
  .meta({ id: 'Operation', description: 'the last operation (create, update, scale, heal, teardown) and how it ended' });

/** The spec as answers show it: every default filled in (the ttl bound is the installation's, checked on requests only). */
const specAsStored = environmentSpecSchema({ maxTtlMs: Number.POSITIVE_INFINITY });

export const environmentViewSchema = z
  .strictObject({
    name: environmentName,
    ...specAsStored.shape,
    status: z.enum(STATUSES),
    url: z.string().nullable().meta({ description: 'where the environment answers, once it has a listener rule' }),
    runningCount: z.int().min(0),
    createdAt: isoTime,
    updatedAt: isoTime,
    expiresAt: isoTime.meta({ description: 'when the cleanup deletes it (ttl after the last create or update)' }),
    version: z.int().min(1).meta({ description: 'moves on every change; the ETag' }),
    operation: operationSchema.nullable(),
    lastHealthyImage: z.string().nullable(),
    cost: costSchema.optional().meta({ description: 'always there unless the region of the installation has no price in the table and the operator set none (`fargatePrices`)' }),
  })
  .meta({
    id: 'Environment',
    description: 'an environment: its spec (defaults filled in) and its read-only state',
    // a FAILED or DEGRADED environment's failed operation always says where its logs are
    // (JSON Schema if/then: zod has no conditional requirement across fields)
    override: ({ jsonSchema }) => {
      jsonSchema.if = {
        properties: { status: { enum: ['FAILED', 'DEGRADED'] }, operation: { type: 'object', properties: { status: { const: 'FAILED' } }, required: ['status'] } },
        required: ['status', 'operation'],
      };
      jsonSchema.then = { properties: { operation: { properties: { error: { type: 'object', properties: { logs: { type: 'string' } }, required: ['logs'] } }, required: ['error'] } } };
    },
  });

export const environmentListSchema = z
  .strictObject({
    items: z.array(environmentViewSchema),
    nextCursor: z.string().nullable().meta({ description: 'the cursor of the next page; null on the last' }),
    cost: costSchema.optional().meta({ description: 'with `repository` only: the total over all that repository\'s live environments, not just this page' }),
  })
  .meta({ id: 'EnvironmentList' });

export const eventSchema = z
  .strictObject({
    at: isoTime,
    type: z.string(),
    message: z.string(),
    operationId: z.string().optional(),
    actor: z.string().meta({ description: 'who caused it: an IAM principal, an OIDC subject, or `fledge` for the system' }),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'Event' });

export const eventListSchema = z
  .strictObject({
    items: z.array(eventSchema).meta({ description: 'newest first' }),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'EventList' });

export const logLineSchema = z
  .strictObject({
    at: isoTime,
    message: z.string(),
    task: z.string().meta({ description: 'the id of the ECS task that wrote it' }),
    container: z.string(),
  })
  .meta({ id: 'LogLine' });

export const logListSchema = z
  .strictObject({
    items: z.array(logLineSchema).meta({ description: 'oldest first' }),
    nextCursor: z.string().optional(),
  })
  .meta({ id: 'LogList' });

export const healthSchema = z
  .strictObject({
    status: z.literal('ok'),
    version: z.string(),
    mode: z.enum(['aws', 'local']),
  })
  .meta({ id: 'Health' });

export const openApiDocumentSchema = z
  .looseObject({ openapi: z.string().regex(/^3\.1\.\d+$/), info: z.looseObject({}), paths: z.looseObject({}) })
  .meta({ id: 'OpenApiDocument', description: 'this document' });

export const fieldErrorSchema = z
  .strictObject({
    path: z.string().meta({ description: 'the field, dotted (`healthCheck.path`), a query parameter, or `header:<name>`; empty for the whole body' }),
    message: z.string(),
  })
  .meta({ id: 'FieldError' });

/** RFC 9457 problem details; the extensions are those some problems carry. */
export const problemSchema = z
  .strictObject({
    type: z.url(),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    errors: z.array(fieldErrorSchema).optional().meta({ description: '400: every invalid field' }),
    code: z.enum(['IDEMPOTENCY_KEY_IN_PROGRESS', 'QUOTA_EXCEEDED', 'AWS_LIMIT']).optional().meta({ description: '409 `IDEMPOTENCY_KEY_IN_PROGRESS`, 429 `QUOTA_EXCEEDED`, 503 `AWS_LIMIT` (AWS throttled the calls the request needs)' }),
    limit: z.enum(['global', 'repository']).optional().meta({ description: '429: the quota that was reached' }),
    max: z.int().optional().meta({ description: '429: the quota' }),
    current: z.int().optional().meta({ description: '429: how many live environments it counts' }),
    repository: z.string().optional().meta({ description: '429 on a repository quota: the repository' }),
    currentVersion: z.int().optional().meta({ description: '412: the version the environment is at' }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

/** A 400 always names the invalid fields. */
export const validationProblemSchema = problemSchema
  .safeExtend({ status: z.literal(400), errors: z.array(fieldErrorSchema) })
  .meta({ id: 'ValidationProblem', description: 'RFC 9457 problem details of an invalid request: `errors` names every invalid field' });

/** API Gateway's own answers (401 from an authorizer, 403 for a bad signature, 429 from throttling). */
export const gatewayMessageSchema = z
  .strictObject({ message: z.string() })
  .meta({ id: 'GatewayMessage', description: 'an answer of API Gateway itself, e.g. `{"message":"Unauthorized"}`' });
