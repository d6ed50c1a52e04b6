/**
 * What the API tests of a repository's own resources (test/unit/api/secrets.test.ts,
 * images.test.ts) share: a PUT of `pr-1`, a GitHub token's authorizer context, and the check
 * that a refusal is a 400 naming the one field, tells no account id, and wrote and started nothing.
 */
import { expect } from 'vitest';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { handler as putHandler } from '../../functions/api/put-environment.ts';
import type { mockApiAws } from './api-aws.ts';
import { call, type RequestOptions } from './api-events.ts';

/** PUT /v1/environments/pr-1 of `ghcr.io/acme/web:1` with `body` over it. */
export const putPr1 = (body: Record<string, unknown>, authorizer?: RequestOptions['authorizer']) =>
  call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { image: 'ghcr.io/acme/web:1', ...body }, ...(authorizer ? { authorizer } : {}) });

/** API Gateway's JWT authorizer context for a GitHub Actions token of `repository` (owner acme), on a push to main. */
export function githubTokenOf(repository: string) {
  const claims = { sub: `repo:${repository}:ref:refs/heads/main`, repository, repository_owner: repository.split('/')[0]!, ref: 'refs/heads/main', event_name: 'push', aud: 'fledge' };
  return { jwt: { claims, scopes: null } };
}

/** A 400 problem naming exactly `field`, its message matching `message`, no account id in it, nothing written or started. */
export function expectRefusedUntouched(aws: ReturnType<typeof mockApiAws>, response: Awaited<ReturnType<typeof putPr1>>, field: string, message: RegExp) {
  expect(response.status).toBe(400);
  expect(response.headers['content-type']).toBe('application/problem+json');
  expect(response.body.errors).toEqual([{ path: field, message: expect.stringMatching(message) }]);
  expect(JSON.stringify(response.body)).not.toMatch(/\d{12}/);
  expect(aws.dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  expect(aws.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
}
