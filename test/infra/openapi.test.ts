/**
 * The contract in the repository (functions/contract/openapi.ts): the OpenAPI document describes
 * exactly the routes the CDK stack serves on both of its HTTP APIs (IAM and the CI API) and the
 * routes local mode's front serves, no more and no fewer; `GET /v1/openapi.json` answers it;
 * docs/api.md is what `npm run build:api-docs` writes from it; and the answer validator of the
 * end-to-end suites refuses what the document does not describe.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/contract/openapi.ts';
import { routeKey, routes } from '../../functions/contract/routes.ts';
import { handler as getOpenApi } from '../../functions/api/get-openapi.ts';
import type { HttpFront } from '../../infra/local/http-front.ts';
import { API_DOCS_PATH, renderApiDocs } from '../../scripts/api-docs.ts';
import { apiEvent } from '../support/api-events.ts';
import { invoked } from '../support/lambda-context.ts';
import { startTestFront } from '../support/local-front.ts';
import { OpenApiValidator } from '../support/openapi-validator.ts';
import { synthFledge, type Synthesized } from './synth-fledge.ts';

const METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'] as const;
const document = openApiDocument();

/** `GET /v1/health`, ... for every operation of the document */
function documentedRouteKeys(): string[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((method) => (item as Record<string, unknown>)[method.toLowerCase()] !== undefined).map((method) => `${method} ${path}`),
  );
}

describe('the document', () => {
  it('is OpenAPI 3.1 with an operation (id, summary, answers) for every route of the route table, and no other', () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    expect(documentedRouteKeys().sort()).toEqual(routes.map(routeKey).sort());
    const ids = new Set<string>();
    for (const item of Object.values(document.paths ?? {})) {
      for (const method of METHODS) {
        const operation = (item as Record<string, { operationId?: string; summary?: string; responses?: object }>)[method.toLowerCase()];
        if (!operation) continue;
        expect(operation.summary).toBeTruthy();
        expect(ids.has(operation.operationId!), operation.operationId).toBe(false);
        ids.add(operation.operationId!);
        expect(Object.keys(operation.responses ?? {})).toEqual(expect.arrayContaining(['400', '401', '403', '500']));
      }
    }
  });

  it('names SigV4 (IAM) and the CI API\'s bearer JWT as its security schemes, either one for every operation', () => {
    expect(document.components?.securitySchemes).toMatchObject({
      sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', 'x-amazon-apigateway-authtype': 'awsSigv4' },
      githubOidc: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    expect(document.security).toEqual([{ sigv4: [] }, { githubOidc: [] }]);
  });

  it('says what answers carry: cost on a view and on a repository list, the logs of a failed operation, RFC 9457 problems with errors[]', () => {
    const schemas = document.components?.schemas as Record<string, { required?: string[]; properties?: Record<string, unknown> }>;
    expect(schemas.Environment!.required).toEqual(expect.arrayContaining(['name', 'status', 'version', 'operation']));
    expect(schemas.Environment!.properties).toHaveProperty('cost');
    expect(schemas.EnvironmentList!.properties).toHaveProperty('cost');
    expect(schemas.EnvironmentList!.required).not.toContain('cost');
    expect(schemas.OperationError!.required).toEqual(['code', 'message']);
    expect(schemas.OperationError!.properties).toHaveProperty('logs');
    expect(schemas.Cost!.required).toEqual(['perHour', 'toDate', 'currency']);
    expect(schemas.ValidationProblem!.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'errors']));
  });

  it('is what docs/api.md renders (run `npm run build:api-docs` after changing the schemas or the operations)', () => {
    expect(readFileSync(API_DOCS_PATH, 'utf8')).toBe(renderApiDocs(document));
  });
});

describe('GET /v1/openapi.json', () => {
  it('answers the document as JSON', async () => {
    const event = apiEvent({ method: 'GET', path: '/v1/openapi.json', routeKey: 'GET /v1/openapi.json' });
    const result = (await invoked(getOpenApi)(event)) as APIGatewayProxyStructuredResultV2;
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(result.body!)).toEqual(JSON.parse(JSON.stringify(document)));
  });
});

describe('the CDK stack serves exactly the documented routes', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    // with OIDC audiences the stack has both HTTP APIs: IAM, and the CI API (JWT)
    synthesized = synthFledge({ oidcAudiences: ['fledge'], oidcRepositoryOwners: ['acme'] });
  });
  afterAll(() => synthesized?.dispose());

  it('on the IAM API and on the CI API', () => {
    const resources = synthesized.template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const apis = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api').map(([id]) => id);
    expect(apis).toHaveLength(2);
    const routeKeysByApi = new Map<string, string[]>(apis.map((id) => [id, []]));
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::ApiGatewayV2::Route') continue;
      routeKeysByApi.get(resource.Properties.ApiId.Ref)!.push(resource.Properties.RouteKey);
    }
    for (const [api, keys] of routeKeysByApi) expect(keys.sort(), api).toEqual(documentedRouteKeys().sort());
  });
});

describe('local mode\'s front serves exactly the documented routes', () => {
  let front: HttpFront;
  const reached: string[] = [];
  beforeAll(async () => {
    const started = await startTestFront({
      handle: async (event: APIGatewayProxyEventV2) => {
        reached.push(event.routeKey);
        return { statusCode: 204, body: '' };
      },
      readEnvironment: async () => undefined,
    });
    front = started.front;
    return started.stop;
  });

  /** local mode's non-API paths: the dashboard (dashboard/serve.ts) */
  const DASHBOARD_PATHS = ['/', '/assets/app.js', '/assets/app.css'];
  /** every method on every documented path (a name filled in), and on paths next to them */
  const probes = [
    ...Object.keys(document.paths ?? {}).map((path) => path.replace('{name}', 'pr-42')),
    '/v1', '/v1/', '/v1/environments/pr-42/other', '/v1/environments/pr-42/events/x', '/v1/openapi', '/v1/openapi.yaml', '/v2/health', '/openapi.json',
    ...DASHBOARD_PATHS,
  ];

  it('routes every documented operation to a handler, and nothing else', async () => {
    const routed: string[] = [];
    for (const path of probes) {
      for (const method of METHODS) {
        reached.length = 0;
        const response = await fetch(`${front.url}${path}`, { method, headers: { 'content-type': 'application/json' } });
        await response.text();
        if (reached.length > 0) routed.push(reached[0]!);
        // the dashboard's files are not API routes: served (GET) or refused (405), never a handler
        else if (DASHBOARD_PATHS.includes(path) && method === 'GET') expect(response.status, `${method} ${path}`).toBe(200);
        else expect([404, 405], `${method} ${path}`).toContain(response.status);
      }
    }
    expect(routed.sort()).toEqual(documentedRouteKeys().sort());
  });
});

describe('the answer validator of the end-to-end suites', () => {
  const validator = new OpenApiValidator(document);
  const headers = (entries: Record<string, string>) => new Headers(entries);
  const health = { status: 'ok', version: '0.1.0', mode: 'local' };

  it('accepts a described answer and skips what is not an API operation', () => {
    const answer = { method: 'GET', path: '/v1/health', status: 200, contentType: 'application/json', text: JSON.stringify(health), headers: headers({ 'x-request-id': 'r1' }) };
    expect(validator.check(answer)).toEqual({ kind: 'valid', operation: 'GET /v1/health' });
    expect(validator.check({ ...answer, path: '/_local/resources' })).toEqual({ kind: 'not-an-operation' });
    expect(validator.check({ ...answer, method: 'POST', status: 405, contentType: 'application/problem+json', text: '{}' })).toEqual({ kind: 'not-an-operation' });
  });

  it('refuses an undescribed status, content type, body or missing header, saying which', () => {
    const answer = { method: 'GET', path: '/v1/health', status: 200, contentType: 'application/json', text: JSON.stringify(health), headers: headers({ 'x-request-id': 'r1' }) };
    const problems = (overrides: Partial<typeof answer>) => {
      const verdict = validator.check({ ...answer, ...overrides });
      return verdict.kind === 'invalid' ? verdict.problems.join('\n') : verdict.kind;
    };
    expect(problems({ status: 404 })).toMatch(/status 404 is not described/);
    expect(problems({ contentType: 'text/html' })).toMatch(/content type "text\/html" is not described/);
    expect(problems({ text: JSON.stringify({ ...health, extra: 1 }) })).toMatch(/additional properties/);
    expect(problems({ text: JSON.stringify({ ...health, mode: 'cloud' }) })).toMatch(/body\/mode must be equal to one of the allowed values/);
    expect(problems({ headers: headers({}) })).toMatch(/header x-request-id is missing/);
    expect(problems({ method: 'GET', path: '/v1/environments/pr-42/nothing', status: 200 })).toMatch(/no operation of the document takes/);
  });

  it('refuses an environment view whose cost is malformed (cost is left out only where the region has no price)', () => {
    const view = {
      name: 'pr-42', image: 'nginx:1.27', port: 80, cpu: 256, memory: 512, desiredCount: 1, environment: {}, secrets: {},
      healthCheck: { path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 }, ttl: '72h', labels: {},
      status: 'RUNNING', url: 'http://pr-42.localhost:4000', runningCount: 1, createdAt: '2026-01-01T10:00:00.000Z', updatedAt: '2026-01-01T10:00:00.000Z',
      expiresAt: '2026-01-04T10:00:00.000Z', version: 3, operation: null, lastHealthyImage: 'nginx:1.27', cost: { perHour: 0.0123, toDate: 0.5, currency: 'USD' },
    };
    const answer = { method: 'GET', path: '/v1/environments/pr-42', status: 200, contentType: 'application/json', text: JSON.stringify(view), headers: headers({ 'x-request-id': 'r1', etag: '"3"' }) };
    expect(validator.check(answer)).toEqual({ kind: 'valid', operation: 'GET /v1/environments/{name}' });
    const { cost: _cost, ...withoutCost } = view;
    expect(validator.check({ ...answer, text: JSON.stringify(withoutCost) })).toEqual({ kind: 'valid', operation: 'GET /v1/environments/{name}' });
    expect(validator.check({ ...answer, text: JSON.stringify({ ...view, cost: { perHour: -1, toDate: 0.5, currency: 'USD' } }) })).toMatchObject({ kind: 'invalid' });
    expect(validator.check({ ...answer, text: JSON.stringify({ ...view, cost: { perHour: 0.1, toDate: 0.5 } }) })).toMatchObject({ kind: 'invalid' });
  });

  it('refuses a FAILED or DEGRADED environment whose failed operation does not say where its logs are', () => {
    const failed = (status: string, error: Record<string, string>) => ({
      name: 'pr-42', image: 'nginx:1.27', port: 80, cpu: 256, memory: 512, desiredCount: 1, environment: {}, secrets: {},
      healthCheck: { path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 }, ttl: '72h', labels: {},
      status, url: null, runningCount: 0, createdAt: '2026-01-01T10:00:00.000Z', updatedAt: '2026-01-01T10:00:00.000Z', expiresAt: '2026-01-04T10:00:00.000Z',
      version: 3, lastHealthyImage: null, cost: { perHour: 0, toDate: 0.01, currency: 'USD' },
      operation: { id: 'op-1', type: 'create', status: 'FAILED', startedAt: '2026-01-01T10:00:00.000Z', finishedAt: '2026-01-01T10:01:00.000Z', error },
    });
    const check = (body: unknown) =>
      validator.check({ method: 'GET', path: '/v1/environments/pr-42', status: 200, contentType: 'application/json', text: JSON.stringify(body), headers: headers({ 'x-request-id': 'r1', etag: '"3"' }) }).kind;
    const logs = '/v1/environments/pr-42/logs?since=2026-01-01T10:00:00.000Z';
    expect(check(failed('FAILED', { code: 'TASK_EXITED', message: 'the container exited', logs }))).toBe('valid');
    expect(check(failed('FAILED', { code: 'TASK_EXITED', message: 'the container exited' }))).toBe('invalid');
    expect(check(failed('DEGRADED', { code: 'HEALTH_CHECK_FAILED', message: 'unhealthy' }))).toBe('invalid');
    // a rolled-back update leaves the environment RUNNING: the contract does not promise logs there
    expect(check(failed('RUNNING', { code: 'TASK_EXITED', message: 'rolled back', image: 'nginx:bad' }))).toBe('valid');
  });
});
