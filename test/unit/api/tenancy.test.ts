/**
 * Callers and tenancy at the handlers (docs/security.md "Callers and tenancy"): the event's
 * authorizer becomes a principal, another repository's environment is a 404 like an unknown
 * name, lists stay in the caller's repositories, and a refused request writes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as getHandler } from '../../../functions/api/get-environment.ts';
import { handler as listHandler } from '../../../functions/api/list-environments.ts';
import { handler as eventsHandler } from '../../../functions/api/list-events.ts';
import { handler as putHandler } from '../../../functions/api/put-environment.ts';
import { handler as postHandler } from '../../../functions/api/create-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { handler as deleteHandler } from '../../../functions/api/delete-environment.ts';
import { handler as scaleHandler } from '../../../functions/api/scale-environment.ts';
import { handler as healHandler } from '../../../functions/api/heal-environment.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import { mockApiAws } from '../../support/api-aws.ts';
import { call, type RequestOptions } from '../../support/api-events.ts';
import { item, record, spec } from '../../support/records.ts';
import { completedIdempotencyItem } from '../../support/idempotency-mock.ts';

const { dynamodb, sfn } = mockApiAws();

const jwt = (repository: string | undefined, sub = `repo:${repository}:ref:refs/heads/main`, owner = repository?.split('/')[0] ?? 'acme', ownerId = owner === 'acme' ? '1001' : '666', event = 'push') => ({
  jwt: {
    claims: { sub, ...(repository ? { repository } : {}), repository_owner: owner, repository_owner_id: ownerId, ref: 'refs/heads/main', actor: 'octocat', event_name: event, aud: 'fledge', exp: '1900000000' },
    scopes: null,
  },
});
const iam = (userArn: string) => ({ iam: { userArn } });
const WEB = jwt('acme/web');
const API = jwt('acme/api');

/** pr-1 belongs to acme/web */
const theirs = record({ spec: spec({ labels: { repository: 'acme/web' } }) });

const env = (name = 'pr-1') => ({ pathParameters: { name }, path: `/v1/environments/${name}` });
const routes: [string, typeof getHandler, RequestOptions][] = [
  ['GET', getHandler, { method: 'GET', ...env() }],
  ['PATCH', patchHandler, { method: 'PATCH', ...env(), body: { desiredCount: 2 } }],
  ['DELETE', deleteHandler, { method: 'DELETE', ...env(), headers: { 'if-match': '"4"' } }],
  ['scale', scaleHandler, { method: 'POST', ...env(), path: '/v1/environments/pr-1/scale', body: { desiredCount: 0 }, headers: { 'if-match': '"99"' } }],
  ['heal', healHandler, { method: 'POST', ...env(), path: '/v1/environments/pr-1/heal', body: {} }],
  ['events', eventsHandler, { method: 'GET', ...env(), path: '/v1/environments/pr-1/events' }],
];

beforeEach(() => {
  // the CI API's owner allow-list (context oidcRepositoryOwners): acme, by id
  process.env.FLEDGE_OIDC_OWNERS = '["1001"]';
  dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(theirs) });
});

afterEach(() => {
  delete process.env.FLEDGE_OPERATORS;
  delete process.env.FLEDGE_IAM_REPOSITORIES;
  delete process.env.FLEDGE_OIDC_OWNERS;
  delete process.env.FLEDGE_OIDC_REFUSED_EVENTS;
  delete process.env.FLEDGE_LOCAL_MODE;
  delete process.env.FLEDGE_LOCAL_AUTH;
  resetConfig();
});

const writes = () => dynamodb.commandCalls(TransactWriteCommand).length + dynamodb.commandCalls(PutCommand).length + sfn.commandCalls(StartExecutionCommand).length;

describe('another repository\'s environment', () => {
  it.each(routes)('%s: 404 exactly like an unknown name, If-Match never consulted, nothing written', async (_route, handler, options) => {
    const unknown = await call(handler, { ...options, ...env('nope'), path: options.path.replace('pr-1', 'nope'), authorizer: API });
    const hidden = await call(handler, { ...options, authorizer: API });
    expect(hidden.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(hidden.body).toEqual({ ...unknown.body, detail: 'no environment named "pr-1"' });
    expect(hidden.headers).not.toHaveProperty('etag');
    expect(writes()).toBe(0);
  });

  it.each(routes)('%s: reachable by its own repository', async (_route, handler, options) => {
    const answer = await call(handler, { ...options, headers: {}, authorizer: WEB });
    expect([200, 202]).toContain(answer.status);
  });

  it('PUT and POST of its name: 409 "name is taken", no detail, nothing written', async () => {
    for (const answer of [
      await call(putHandler, { method: 'PUT', ...env(), body: { image: 'nginx:1.27' }, headers: { 'if-match': '"4"' }, authorizer: API }),
      await call(postHandler, { method: 'POST', path: '/v1/environments', body: { name: 'pr-1', image: 'nginx:1.27' }, authorizer: API }),
    ]) {
      expect(answer.status).toBe(409);
      expect(answer.body.detail).toBe('the name "pr-1" is taken; environment names are global (they are DNS names), choose another');
      expect(JSON.stringify(answer.body)).not.toMatch(/acme\/web|RUNNING|"4"/);
    }
    expect(writes()).toBe(0);
  });

  it('a DELETED record of another repository frees the name: PUT creates it under the caller\'s repository', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item({ ...theirs, status: 'DELETED' }) });
    // If-Match cannot probe the deleted record's version
    expect((await call(putHandler, { method: 'PUT', ...env(), body: { image: 'nginx:1.27' }, headers: { 'if-match': '"4"' }, authorizer: API })).status).toBe(412);
    const created = await call(putHandler, { method: 'PUT', ...env(), body: { image: 'nginx:1.27' }, authorizer: API });
    expect(created.status).toBe(201);
    expect(created.body.labels).toEqual({ repository: 'acme/api' });
  });
});

describe('GET /v1/environments/{name}/events', () => {
  const input = () => dynamodb.commandCalls(QueryCommand)[0]!.args[0].input;

  it('a repository caller reads the history since its environment was created; an operator reads it all', async () => {
    expect((await call(eventsHandler, { method: 'GET', ...env(), path: '/v1/environments/pr-1/events', authorizer: WEB })).status).toBe(200);
    expect(input()).toMatchObject({ KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to', ExpressionAttributeValues: { ':from': `EVT#${theirs.createdAt}`, ':to': 'EVT$' } });
    dynamodb.resetHistory();
    expect((await call(eventsHandler, { method: 'GET', ...env(), path: '/v1/environments/pr-1/events' })).status).toBe(200);
    expect(input()).toMatchObject({ KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)' });
  });

  it('a cursor from before that (an earlier environment of the name) is a 400, not a DynamoDB error', async () => {
    const { encodeCursor } = await import('../../../functions/domain/cursors.ts');
    const cursor = encodeCursor('events:pr-1', { pk: 'ENV#pr-1', sk: 'EVT#2020-01-01T00:00:00.000Z#0000' });
    const answer = await call(eventsHandler, { method: 'GET', ...env(), path: '/v1/environments/pr-1/events', query: { cursor }, authorizer: WEB });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'cursor', message: 'not a cursor returned by this list' }]);
    expect(dynamodb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('creating', () => {
  it('only under the caller\'s repository: another one is a 400 naming labels.repository', async () => {
    const answer = await call(putHandler, { method: 'PUT', ...env('pr-2'), body: { image: 'nginx:1.27', labels: { repository: 'acme/web' } }, authorizer: API });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ path: 'labels.repository', message: 'must be a repository this caller acts for (acme/api)' }]);
    expect(writes()).toBe(0);
  });

  it('a caller of several repositories must name one (POST too); an operator may leave it out', async () => {
    process.env.FLEDGE_IAM_REPOSITORIES = JSON.stringify({ 'arn:aws:iam::123456789012:role/ci': ['acme/api', 'acme/web'] });
    const ci = iam('arn:aws:sts::123456789012:assumed-role/ci/run-1');
    const unnamed = await call(postHandler, { method: 'POST', path: '/v1/environments', body: { name: 'pr-2', image: 'nginx:1.27' }, authorizer: ci });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.errors[0].path).toBe('labels.repository');
    const named = await call(postHandler, { method: 'POST', path: '/v1/environments', body: { name: 'pr-2', image: 'nginx:1.27', labels: { repository: 'acme/web' } }, authorizer: ci });
    expect(named.status, JSON.stringify(named.body)).toBe(201);
    // the event's actor is the caller's ARN
    const events = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!.map((t) => t.Put?.Item).filter((i) => i?.kind === 'EVENT');
    expect(events).toEqual([expect.objectContaining({ actor: 'arn:aws:sts::123456789012:assumed-role/ci/run-1', type: 'create-requested' })]);
    process.env.FLEDGE_OPERATORS = 'arn:aws:iam::123456789012:role/admin';
    resetConfig();
    const operator = await call(putHandler, { method: 'PUT', ...env('pr-3'), body: { image: 'nginx:1.27' }, authorizer: iam('arn:aws:sts::123456789012:assumed-role/admin/me') });
    expect(operator.status).toBe(201);
    expect(operator.body.labels).toEqual({});
  });
});

describe('GET /v1/environments', () => {
  const query = () => dynamodb.commandCalls(QueryCommand).map((c) => c.args[0].input);

  it('a repository caller lists its repository through the byRepository index', async () => {
    expect((await call(listHandler, { method: 'GET', path: '/v1/environments', query: { status: 'RUNNING' }, authorizer: WEB })).status).toBe(200);
    expect(query()[0]).toMatchObject({ IndexName: 'byRepository', ExpressionAttributeValues: { ':pk': 'REPO#acme/web', ':status': 'RUNNING' } });
  });

  it('another repository in ?repository= lists nothing, without reading', async () => {
    const answer = await call(listHandler, { method: 'GET', path: '/v1/environments', query: { repository: 'acme/web' }, authorizer: API });
    expect(answer).toMatchObject({ status: 200, body: { items: [], nextCursor: null } });
    expect(query()).toEqual([]);
  });

  it('a caller of several repositories names one (400 otherwise); operators list everything', async () => {
    process.env.FLEDGE_IAM_REPOSITORIES = JSON.stringify({ 'arn:aws:iam::123456789012:role/ci': ['acme/api', 'acme/web'] });
    const ci = iam('arn:aws:iam::123456789012:role/ci');
    const ambiguous = await call(listHandler, { method: 'GET', path: '/v1/environments', authorizer: ci });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.errors[0].path).toBe('repository');
    expect((await call(listHandler, { method: 'GET', path: '/v1/environments', query: { repository: 'acme/api' }, authorizer: ci })).status).toBe(200);
    expect(query()[0]).toMatchObject({ IndexName: 'byRepository', ExpressionAttributeValues: { ':pk': 'REPO#acme/api' } });
    process.env.FLEDGE_OPERATORS = 'arn:aws:iam::123456789012:role/admin';
    resetConfig();
    await call(listHandler, { method: 'GET', path: '/v1/environments', authorizer: iam('arn:aws:sts::123456789012:assumed-role/admin/me') });
    // (the query between is the repository's cost total: README "Cost")
    expect(query().at(-1)).toMatchObject({ IndexName: 'all' });
  });
});

describe('who may call at all', () => {
  it('an unmapped IAM principal is 403 once a policy is configured (before: an operator)', async () => {
    const stranger = iam('arn:aws:sts::123456789012:assumed-role/deployer/x');
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: stranger })).status).toBe(200);
    process.env.FLEDGE_OPERATORS = 'arn:aws:iam::123456789012:role/admin';
    resetConfig();
    const refused = await call(getHandler, { method: 'GET', ...env(), authorizer: stranger });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ title: 'Forbidden' });
    expect(JSON.stringify(refused.body)).not.toContain('acme/web');
  });

  it('a token without a repository claim is 403, a PUT with it writes nothing', async () => {
    const answer = await call(putHandler, { method: 'PUT', ...env('pr-9'), body: { image: 'nginx:1.27' }, authorizer: jwt(undefined, 'repo:acme/web:pull_request') });
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain('no repository claim');
    expect(writes()).toBe(0);
  });

  it('a token of another GitHub owner is 403 on every route, even naming our repository or an operator subject, and writes nothing', async () => {
    // a workflow anywhere on github.com can ask for a token with our audience (core.getIDToken('fledge'))
    const mallory = jwt('mallory/web');
    const forged = jwt('acme/web', 'repo:acme/web:ref:refs/heads/main', 'mallory', '666');
    process.env.FLEDGE_OPERATORS = 'repo:*';
    resetConfig();
    dynamodb.resetHistory();
    for (const authorizer of [mallory, forged]) {
      for (const [route, handler, options] of routes) {
        const answer = await call(handler, { ...options, authorizer });
        expect(answer.status, route).toBe(403);
        expect(answer.body, route).toMatchObject({ title: 'Forbidden', detail: expect.stringContaining('repositories of mallory may not use this installation') });
        expect(JSON.stringify(answer.body), route).not.toContain('1001');
      }
      const put = await call(putHandler, { method: 'PUT', ...env('pr-9'), body: { image: 'nginx:1.27' }, authorizer });
      expect(put.status).toBe(403);
      expect((await call(listHandler, { method: 'GET', path: '/v1/environments', authorizer })).status).toBe(403);
    }
    expect(writes()).toBe(0);
    // refused before anything is read
    expect(dynamodb.calls()).toHaveLength(0);
    // the same owner by id after a rename is still let in
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: jwt('acme/web', undefined, 'acme-renamed', '1001') })).status).toBe(200);
  });

  it('a pull_request_target or workflow_run token of our own repository is 403 on every route, operators\' too, and writes nothing', async () => {
    // a fork's pull request runs acme/web's pull_request_target job: its token is acme/web's
    const target = jwt('acme/web', 'repo:acme/web:pull_request', 'acme', '1001', 'pull_request_target');
    const run = jwt('acme/web', undefined, 'acme', '1001', 'workflow_run');
    const operator = jwt('acme/platform', 'repo:acme/platform:ref:refs/heads/main', 'acme', '1001', 'pull_request_target');
    process.env.FLEDGE_OPERATORS = 'repo:acme/platform:ref:refs/heads/main';
    resetConfig();
    dynamodb.resetHistory();
    for (const [authorizer, event] of [[target, 'pull_request_target'], [run, 'workflow_run'], [operator, 'pull_request_target']] as const) {
      const attempts: [string, typeof getHandler, RequestOptions][] = [
        ...routes,
        ['PUT', putHandler, { method: 'PUT', ...env('pr-9'), body: { image: 'ghcr.io/fork/evil:1', labels: { repository: 'acme/web' } } }],
        ['POST', postHandler, { method: 'POST', path: '/v1/environments', body: { name: 'pr-9', image: 'ghcr.io/fork/evil:1' }, headers: { 'idempotency-key': 'fork-1' } }],
        ['LIST', listHandler, { method: 'GET', path: '/v1/environments' }],
      ];
      for (const [route, handler, options] of attempts) {
        const answer = await call(handler, { ...options, authorizer });
        expect(answer.status, `${event} ${route}`).toBe(403);
        expect(answer.body, route).toMatchObject({ title: 'Forbidden', detail: expect.stringContaining(`tokens of "${event}" jobs may not use this installation`) });
      }
    }
    expect(writes()).toBe(0);
    expect(dynamodb.calls()).toHaveLength(0);
    // the same repository's push token is let in
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: WEB })).status).toBe(200);
  });

  it('FLEDGE_OIDC_REFUSED_EVENTS: a custom list refuses its events only; none lets every event in', async () => {
    process.env.FLEDGE_OIDC_REFUSED_EVENTS = 'issue_comment';
    resetConfig();
    const comment = await call(getHandler, { method: 'GET', ...env(), authorizer: jwt('acme/web', undefined, 'acme', '1001', 'issue_comment') });
    expect(comment.status).toBe(403);
    expect(comment.body.detail).toContain('"issue_comment"');
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: jwt('acme/web', undefined, 'acme', '1001', 'pull_request_target') })).status).toBe(200);
    process.env.FLEDGE_OIDC_REFUSED_EVENTS = 'none';
    resetConfig();
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: jwt('acme/web', undefined, 'acme', '1001', 'issue_comment') })).status).toBe(200);
  });

  it('no owner allow-list: no token at all on AWS (fail closed); any owner in local mode, where the issuer is ours', async () => {
    delete process.env.FLEDGE_OIDC_OWNERS;
    resetConfig();
    const refused = await call(getHandler, { method: 'GET', ...env(), authorizer: WEB });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('accepts no OIDC tokens');
    process.env.FLEDGE_LOCAL_MODE = 'true';
    process.env.FLEDGE_LOCAL_AUTH = 'oidc';
    resetConfig();
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: jwt('acme/web', undefined, 'someone', '4242') })).status).toBe(200);
  });

  it('no authenticated caller: 403 on AWS, the operator "local" in local mode without --auth, 403 with it', async () => {
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: {} })).status).toBe(403);
    process.env.FLEDGE_LOCAL_MODE = 'true';
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: {} })).status).toBe(200);
    process.env.FLEDGE_LOCAL_AUTH = 'oidc';
    expect((await call(getHandler, { method: 'GET', ...env(), authorizer: {} })).status).toBe(403);
  });
});

describe('PATCH of labels.repository by a repository caller (its one repository is filled in at create)', () => {
  const patch = (body: unknown) => call(patchHandler, { method: 'PATCH', ...env(), body, authorizer: WEB });

  it('removing it is a 400 naming labels.repository that changes nothing, not a 200 that fills it in again', async () => {
    dynamodb.resetHistory();
    const removed = await patch({ labels: { repository: null } });
    expect(removed.status).toBe(400);
    expect(removed.body.errors).toEqual([{ path: 'labels.repository', message: 'is fixed at create ("acme/web") and cannot be removed' }]);
    expect(writes()).toBe(0);
    const moved = await patch({ labels: { repository: 'acme/api' } });
    expect(moved.status).toBe(400);
    expect(moved.body.errors.map((e: { path: string }) => e.path)).toEqual(['labels.repository']);
    expect(writes()).toBe(0);
    // a DELETING environment's spec cannot change at all: 409 first, as for any PATCH
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item({ ...theirs, status: 'DELETING' }) });
    expect((await patch({ labels: { repository: null } })).status).toBe(409);
    expect(writes()).toBe(0);
  });

  it('`labels: null` removes the other labels and keeps the repository; naming its own repository is no change', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(record({ spec: spec({ labels: { repository: 'acme/web', branch: 'main' } }) })) });
    const cleared = await patch({ labels: null });
    expect(cleared.status).toBe(202);
    expect(cleared.body.labels).toEqual({ repository: 'acme/web' });
    const same = await patch({ labels: { repository: 'acme/web' } });
    expect(same.status).toBe(200);
  });
});

describe('Idempotency-Keys of OIDC callers (docs/security.md "Idempotency keys")', () => {
  // an organisation's subject template without the repository (include_claim_keys ["repository_owner", "context"])
  const SUB = 'repository_owner:acme:context:ref:refs/heads/main';
  const A = jwt('acme/web', SUB);
  const B = jwt('acme/api', SUB);
  const putPr9 = (authorizer: Record<string, unknown>) =>
    call(putHandler, { method: 'PUT', ...env('pr-9'), body: { image: 'ghcr.io/acme/web:1' }, headers: { 'idempotency-key': 'build-1' }, authorizer });
  const claims = () => dynamodb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!).filter((i) => String(i.pk).startsWith('IDEM#'));

  it('two repositories whose tokens carry the same sub never share a key: B gets neither A\'s stored answer nor a 422', async () => {
    const first = await putPr9(A);
    expect(first.status).toBe(201);
    const [claimA] = claims();
    const storedA = completedIdempotencyItem(dynamodb, String(claimA!.pk));
    expect(storedA.answer).toMatchObject({ status: 201 });
    // A's retry (same repository, same sub) is the replay
    const retry = await putPr9(A);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);

    // B sends the same method, path, body and key: its own request runs (pr-9 is A's now: the name is taken)
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-9', sk: 'ENV' } }).resolves({ Item: item(record({ name: 'pr-9', spec: spec({ labels: { repository: 'acme/web' } }) })) });
    const b = await putPr9(B);
    expect(b.status).toBe(409);
    expect(b.headers).not.toHaveProperty('idempotent-replayed');
    expect(JSON.stringify(b.body)).not.toContain('ghcr.io/acme/web:1');
    const claimB = claims().at(-1)!;
    expect(claimB.pk).not.toBe(claimA!.pk);
    // and with another body B is not refused with A's key (422): the keys are apart
    const other = await call(putHandler, { method: 'PUT', ...env('pr-10'), body: { image: 'ghcr.io/acme/api:1' }, headers: { 'idempotency-key': 'build-1' }, authorizer: B });
    expect(other.status).toBe(201);
  });
});
