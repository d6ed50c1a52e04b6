/**
 * GET /v1/environments/{name}/logs (functions/api/list-logs.ts, functions/commands/environment-logs.ts,
 * functions/adapters/environment-logs.ts) with ECS and CloudWatch Logs mocked: lines only of the
 * environment's own tasks, oldest first, paging by cursor without loss or repetition, bad input a
 * 400 that reads nothing, another repository's environment a 404; and a failed operation's error
 * naming where its logs are.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilterLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import { handler as logsHandler } from '../../../functions/api/list-logs.ts';
import { handler as getHandler } from '../../../functions/api/get-environment.ts';
import { runtimeConfig } from '../../../functions/runtime/config.ts';
import { renderTaskDefinition, taskDefinitionFamily, taskDefinitionHash } from '../../../functions/domain/resource-plan.ts';
import { decodeLogCursor, encodeLogCursor, MAX_LOG_SKIP } from '../../../functions/domain/log-query.ts';
import { encodeCursor } from '../../../functions/domain/cursors.ts';
import { mockApiAws } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { record, spec } from '../../support/records.ts';
import { CLUSTER, LISTENER } from '../../support/task-fixtures.ts';

const { stored } = mockApiAws();
const ecs = mockClient(ECSClient);
const logs = mockClient(CloudWatchLogsClient);

const LOG_GROUP = '/fledge/environments';
const taskArn = (id: string) => `arn:aws:ecs:eu-west-1:000000000000:task/fledge/${id}`;
const WEB = { jwt: { claims: { sub: 'repo:acme/web:ref:refs/heads/main', repository: 'acme/web', repository_owner: 'acme', repository_owner_id: '1001', event_name: 'push', aud: 'fledge', exp: '1900000000' }, scopes: null } };
const API = { jwt: { claims: { ...WEB.jwt.claims, sub: 'repo:acme/api:ref:refs/heads/main', repository: 'acme/api' } , scopes: null } };

interface StoredEvent { logStreamName: string; timestamp: number; message: string }
let events: StoredEvent[] = [];
/** streams that exist without a line in them */
let extraStreams: string[] = [];

/** FilterLogEvents over `events` as CloudWatch answers it: the named streams, from startTime, sorted, `limit` at a time with a nextToken. */
function fakeFilter(input: FilterLogEventsCommandInput) {
  const existing = new Set([...events.map((e) => e.logStreamName), ...extraStreams]);
  if (input.logStreamNames?.some((name) => !existing.has(name))) {
    throw Object.assign(new Error('The specified log stream does not exist.'), { name: 'ResourceNotFoundException' });
  }
  const matching = events
    .filter((e) => (!input.logStreamNames || input.logStreamNames.includes(e.logStreamName)) && e.timestamp >= (input.startTime ?? 0))
    .sort((a, b) => a.timestamp - b.timestamp);
  const offset = input.nextToken ? Number(input.nextToken) : 0;
  const limit = input.limit ?? 10_000;
  const page = matching.slice(offset, offset + limit);
  return { events: page.map((e, i) => ({ ...e, eventId: String(offset + i) })), nextToken: offset + limit < matching.length ? String(offset + limit) : undefined };
}

const env = (name = 'pr-1', query: Record<string, string> = {}) => ({ method: 'GET', pathParameters: { name }, path: `/v1/environments/${name}/logs`, query });
const line = (task: string, timestamp: number, message: string): StoredEvent => ({ logStreamName: `fledge/app/${task}`, timestamp, message });
const T0 = Date.parse('2026-11-01T10:01:00.000Z');

beforeEach(() => {
  Object.assign(process.env, {
    FLEDGE_INSTALLATION_ID: 'test', FLEDGE_CLUSTER_ARN: CLUSTER, FLEDGE_LISTENER_ARN: LISTENER, FLEDGE_SUBNET_IDS: 'subnet-a',
    FLEDGE_SECURITY_GROUP_IDS: 'sg-1', FLEDGE_EXECUTION_ROLE_ARN: 'arn:aws:iam::000000000000:role/exec',
    FLEDGE_TASK_ROLE_ARN: 'arn:aws:iam::000000000000:role/task', FLEDGE_LOG_GROUP: LOG_GROUP, FLEDGE_BASE_DOMAIN: 'preview.example.com',
    FLEDGE_OIDC_OWNERS: '["1001"]',
  });
  ecs.reset();
  logs.reset();
  events = [];
  extraStreams = [];
  stored(record());
  ecs.on(ListTasksCommand).resolves({ taskArns: [] });
  ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'RUNNING' }).resolves({ taskArns: [taskArn('aaa')] });
  ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'STOPPED' }).resolves({ taskArns: [taskArn('bbb')] });
  // every task listed started its container (so it has a stream) unless a test says otherwise
  ecs.on(DescribeTasksCommand).callsFake(({ tasks }: { tasks: string[] }) => ({
    tasks: tasks.map((arn) => ({ taskArn: arn, group: 'service:pr-1', startedAt: new Date(T0), containers: [{ name: 'app', runtimeId: 'r' }] })),
  }));
  logs.on(FilterLogEventsCommand).callsFake(fakeFilter);
});

const filterCalls = () => logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
const awsCalls = () => ecs.calls().length + logs.calls().length;

describe('scoped to the environment\'s tasks', () => {
  it('reads the streams of its running and stopped tasks only, oldest first, as {at, message, task, container}', async () => {
    events = [line('bbb', T0 + 2, 'second'), line('aaa', T0 + 1, 'first'), line('zzz', T0, 'another environment\'s line')];
    const answer = await call(logsHandler, env());
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      items: [
        { at: new Date(T0 + 1).toISOString(), message: 'first', task: 'aaa', container: 'app' },
        { at: new Date(T0 + 2).toISOString(), message: 'second', task: 'bbb', container: 'app' },
      ],
    });
    expect(filterCalls()).toEqual([expect.objectContaining({ logGroupName: LOG_GROUP, logStreamNames: ['fledge/app/aaa', 'fledge/app/bbb'], startTime: 0 })]);
  });

  it('once the service is gone (a failed create), finds its stopped tasks by family and keeps those of its group', async () => {
    ecs.on(ListTasksCommand, { serviceName: 'pr-1' }).rejects(Object.assign(new Error('Service not found.'), { name: 'ServiceNotFoundException' }));
    const r = record();
    const family = taskDefinitionFamily(taskDefinitionHash(renderTaskDefinition(r.spec, runtimeConfig()), r.spec.labels.repository));
    ecs.on(ListTasksCommand, { family, desiredStatus: 'STOPPED' }).resolves({ taskArns: [taskArn('ccc'), taskArn('ddd')] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: taskArn('ccc'), group: 'service:pr-1', startedAt: new Date(T0) },
        { taskArn: taskArn('ddd'), group: 'service:pr-2', startedAt: new Date(T0) }, // the same family, another environment
      ],
    });
    events = [line('ccc', T0, 'Error: cannot connect to the database'), line('ddd', T0, 'not ours')];
    const answer = await call(logsHandler, env());
    expect(answer.body.items.map((i: { message: string }) => i.message)).toEqual(['Error: cannot connect to the database']);
    expect(filterCalls()[0]!.logStreamNames).toEqual(['fledge/app/ccc']);
  });

  it('asks for at most 100 streams at a time and merges the answers by time', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `t${String(i).padStart(3, '0')}`);
    ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'STOPPED' }).resolves({ taskArns: ids.map(taskArn) });
    extraStreams = ids.map((id) => `fledge/app/${id}`).concat('fledge/app/bbb');
    events = [line('t149', T0 + 1, 'from the second group'), line('t000', T0 + 2, 'from the first group'), line('aaa', T0, 'running task')];
    const answer = await call(logsHandler, env());
    expect(filterCalls().map((c) => c.logStreamNames!.length)).toEqual([100, 51]);
    expect(answer.body.items.map((i: { message: string }) => i.message)).toEqual(['running task', 'from the second group', 'from the first group']);
  });

  it('leaves out tasks whose container never started (an image that could not be pulled has no stream)', async () => {
    ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'STOPPED' }).resolves({ taskArns: [taskArn('bbb'), taskArn('pull')] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: taskArn('aaa'), startedAt: new Date(T0) },
        { taskArn: taskArn('bbb'), containers: [{ name: 'app', exitCode: 1 }] },
        { taskArn: taskArn('pull'), stopCode: 'TaskFailedToStart', containers: [{ name: 'app' }] },
      ],
    });
    events = [line('aaa', T0, 'running'), line('bbb', T0 + 1, 'exited')];
    const answer = await call(logsHandler, env());
    expect(answer.body.items.map((i: { message: string }) => i.message)).toEqual(['running', 'exited']);
    expect(filterCalls()[0]!.logStreamNames).toEqual(['fledge/app/aaa', 'fledge/app/bbb']);
  });

  it('a stream not made yet (a container that has only just started) does not hide the others', async () => {
    ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'RUNNING' }).resolves({ taskArns: [taskArn('aaa'), taskArn('new')] });
    events = [line('aaa', T0, 'from aaa'), line('bbb', T0 + 1, 'from bbb')];
    const answer = await call(logsHandler, env());
    expect(answer.status).toBe(200);
    expect(answer.body.items.map((i: { message: string }) => i.message)).toEqual(['from aaa', 'from bbb']);
    expect(filterCalls().at(-1)!.logStreamNames).toEqual(['fledge/app/aaa', 'fledge/app/bbb']);
  });

  it('no task: no lines and no CloudWatch call; no log group yet: no lines', async () => {
    ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'RUNNING' }).resolves({ taskArns: [] });
    ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'STOPPED' }).resolves({ taskArns: [] });
    expect((await call(logsHandler, env())).body).toEqual({ items: [] });
    expect(filterCalls()).toHaveLength(0);
    ecs.on(ListTasksCommand, { serviceName: 'pr-1', desiredStatus: 'RUNNING' }).resolves({ taskArns: [taskArn('aaa')] });
    logs.on(FilterLogEventsCommand).rejects(Object.assign(new Error('The specified log group does not exist.'), { name: 'ResourceNotFoundException' }));
    expect((await call(logsHandler, env())).body).toEqual({ items: [] });
  });

  it('cuts ARNs and account ids out of the lines, keeps the rest of a multi-line message', async () => {
    events = [line('aaa', T0, 'AccessDenied on arn:aws:s3:::bucket/key by 123456789012\n    at handler (index.js:1)')];
    const [item] = (await call(logsHandler, env())).body.items;
    expect(item.message).toBe('AccessDenied on bucket/key by <account>\n    at handler (index.js:1)');
  });
});

describe('since, limit and cursor', () => {
  it('`since` is where the read starts; a repository caller never reads before its environment was created', async () => {
    await call(logsHandler, env('pr-1', { since: '2026-11-01T10:03:00Z' }));
    expect(filterCalls()[0]!.startTime).toBe(Date.parse('2026-11-01T10:03:00Z'));
    logs.resetHistory();
    await call(logsHandler, { ...env('pr-1', { since: '2020-01-01T00:00:00Z' }), authorizer: WEB });
    expect(filterCalls()[0]!.startTime).toBe(Date.parse(record().createdAt));
  });

  it('pages with the cursor through every line exactly once, lines of one millisecond split across pages included', async () => {
    events = [
      line('aaa', T0, 'a0'), line('bbb', T0, 'b0'), line('aaa', T0, 'a1'), line('aaa', T0 + 5, 'a2'),
      line('bbb', T0 + 5, 'b1'), line('bbb', T0 + 5, 'b2'), line('aaa', T0 + 5, 'a3'), line('aaa', T0 + 9, 'a4'),
    ];
    const everything = (await call(logsHandler, env())).body.items.map((i: { message: string }) => i.message);
    expect(everything).toHaveLength(8);
    for (const limit of ['1', '2', '3']) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const answer = await call(logsHandler, env('pr-1', { limit, ...(cursor ? { cursor } : {}) }));
        expect(answer.status).toBe(200);
        expect(answer.body.items.length).toBeLessThanOrEqual(Number(limit));
        seen.push(...answer.body.items.map((i: { message: string }) => i.message));
        cursor = answer.body.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      expect(seen, `limit ${limit}`).toEqual(everything);
    }
  });

  it('AWS\'s empty and partly full pages that carry a nextToken ("A returned page might only be partially full, or even empty") lose and repeat nothing', async () => {
    events = [line('aaa', T0, 'a0'), line('bbb', T0 + 1, 'b0'), line('aaa', T0 + 2, 'a1'), line('bbb', T0 + 3, 'b1'), line('aaa', T0 + 4, 'a2')];
    // a first call answers nothing but a token; every later one at most one event
    logs.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) =>
      input.nextToken === undefined ? { events: [], nextToken: '0' } : fakeFilter({ ...input, limit: 1 }),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await call(logsHandler, env('pr-1', { limit: '3', ...(cursor ? { cursor } : {}) }));
      expect(answer.status).toBe(200);
      seen.push(...answer.body.items.map((i: { message: string }) => i.message));
      cursor = answer.body.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toEqual(['a0', 'b0', 'a1', 'b1', 'a2']);
  });

  it('limit defaults to 100 and is 1-1000', async () => {
    events = Array.from({ length: 150 }, (_, i) => line('aaa', T0 + i, `line ${i}`));
    const first = await call(logsHandler, env());
    expect(first.body.items).toHaveLength(100);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await call(logsHandler, env('pr-1', { cursor: first.body.nextCursor, limit: '1000' }));
    expect(rest.body.items.map((i: { message: string }) => i.message)).toEqual(events.slice(100).map((e) => e.message));
    expect(rest.body).not.toHaveProperty('nextCursor');
  });

  it('a cursor skips at most MAX_LOG_SKIP lines: a read fetches at most skip + limit + 1 lines per 100 streams, whatever it says', async () => {
    events = Array.from({ length: 30_000 }, (_, i) => line(i % 2 ? 'aaa' : 'bbb', T0, `burst ${i}`));
    const deepest = encodeLogCursor('pr-1', { from: T0, skip: MAX_LOG_SKIP });
    const answer = await call(logsHandler, env('pr-1', { cursor: deepest, limit: '1000' }));
    expect(answer.status).toBe(200);
    expect(answer.body.items).toHaveLength(1000);
    expect(answer.body.items[0].message).toBe(`burst ${MAX_LOG_SKIP}`);
    // one call of 10,000 events and one of the rest: never the 1,001,001 a cursor could ask for before
    expect(filterCalls().map((c) => c.limit)).toEqual([10_000, MAX_LOG_SKIP + 1000 + 1 - 10_000]);
    // the walk goes on at the next millisecond rather than asking for more
    expect(decodeLogCursor(answer.body.nextCursor, 'pr-1')).toEqual({ from: T0 + 1, skip: 0 });
    logs.resetHistory();
    ecs.resetHistory();
    const beyond = await call(logsHandler, env('pr-1', { cursor: encodeCursor('logs:pr-1', { t: String(T0), n: '1000000' }) }));
    expect(beyond.status).toBe(400);
    expect(beyond.body.errors).toEqual([{ path: 'cursor', message: 'not a cursor returned by this list' }]);
    expect(awsCalls()).toBe(0);
  });

  const later = new Date(Date.now() + 3_600_000).toISOString();
  const otherCursor = encodeLogCursor('pr-2', { from: T0, skip: 1 });
  const forged = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');
  const good = JSON.parse(Buffer.from(encodeLogCursor('pr-1', { from: T0, skip: 1 }), 'base64url').toString()) as Record<string, unknown>;
  it.each([
    ['since not a time', { since: 'yesterday' }, 'since'],
    ['since without a zone', { since: '2026-11-01T10:00:00' }, 'since'],
    ['since in the future', { since: later }, 'since'],
    ['limit 0', { limit: '0' }, 'limit'],
    ['limit 1001', { limit: '1001' }, 'limit'],
    ['limit not a number', { limit: 'ten' }, 'limit'],
    ['cursor of another environment', { cursor: otherCursor }, 'cursor'],
    ['cursor not base64url JSON', { cursor: 'not a cursor!' }, 'cursor'],
    ['cursor with another key', { cursor: forged({ ...good, x: 1 }) }, 'cursor'],
    ['cursor with a negative time', { cursor: forged({ ...good, k: { t: '-1', n: '1' } }) }, 'cursor'],
    ['cursor with a fractional count', { cursor: forged({ ...good, k: { t: String(T0), n: '0.5' } }) }, 'cursor'],
    ['cursor skipping more than a walk can', { cursor: forged({ ...good, k: { t: String(T0), n: String(MAX_LOG_SKIP + 1) } }) }, 'cursor'],
    ['cursor of the former shape (a hash anyone computes, a skip of 1,000,000)', { cursor: forged({ q: good.q, t: T0, n: 1_000_000 }) }, 'cursor'],
    ['cursor of 5000 characters', { cursor: 'A'.repeat(5000) }, 'cursor'],
    ['an unknown parameter', { follow: 'true' }, 'follow'],
  ])('%s: 400 naming it, nothing read', async (_what, query, path) => {
    const answer = await call(logsHandler, env('pr-1', query as Record<string, string>));
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(awsCalls()).toBe(0);
  });
});

describe('AWS throttling', () => {
  const rateExceeded = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

  it.each([
    ['ECS ListTasks', () => ecs.on(ListTasksCommand).rejects(rateExceeded())],
    ['ECS DescribeTasks', () => ecs.on(DescribeTasksCommand).rejects(rateExceeded())],
    ['CloudWatch Logs FilterLogEvents', () => logs.on(FilterLogEventsCommand).rejects(rateExceeded())],
  ])('%s throttled past the SDK\'s retries: a 503 AWS_LIMIT with Retry-After, in plain words, never a 500', async (_what, throttle) => {
    events = [line('aaa', T0, 'a line')];
    throttle();
    const answer = await call(logsHandler, env());
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('2');
    expect(answer.body).toMatchObject({ status: 503, code: 'AWS_LIMIT' });
    expect(JSON.stringify(answer.body)).not.toMatch(/Rate exceeded|ThrottlingException|arn:/);
  });

  it('once AWS answers again, the same request reads the lines', async () => {
    events = [line('aaa', T0, 'a line')];
    logs.on(FilterLogEventsCommand).rejectsOnce(rateExceeded()).callsFake(fakeFilter);
    expect((await call(logsHandler, env())).status).toBe(503);
    expect((await call(logsHandler, env())).body.items.map((i: { message: string }) => i.message)).toEqual(['a line']);
  });
});

describe('tenancy', () => {
  it('another repository\'s environment is a 404 like an unknown name, and nothing is read', async () => {
    const hidden = await call(logsHandler, { ...env(), authorizer: API });
    const unknown = await call(logsHandler, { ...env('nope'), authorizer: API });
    expect(hidden.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(hidden.body).toEqual({ ...unknown.body, detail: 'no environment named "pr-1"' });
    expect(awsCalls()).toBe(0);
    expect((await call(logsHandler, { ...env(), authorizer: WEB })).status).toBe(200);
  });
});

describe('a failed operation names its logs', () => {
  const failed = { code: 'TASK_EXITED' as const, message: 'the container exited with code 1' };
  const operation = { ...record().operation!, status: 'FAILED' as const, error: failed };

  it.each(['FAILED', 'DEGRADED'] as const)('%s: operation.error.logs is the logs route since the operation started', async (status) => {
    stored(record({ status, operation }));
    const answer = await call(getHandler, { method: 'GET', pathParameters: { name: 'pr-1' }, path: '/v1/environments/pr-1' });
    expect(answer.body.operation.error).toEqual({ ...failed, logs: `/v1/environments/pr-1/logs?since=${operation.startedAt}` });
  });

  it('not on an environment the failure left RUNNING (a failed scale), nor on a succeeded operation', async () => {
    stored(record({ status: 'RUNNING', operation }));
    expect((await call(getHandler, { method: 'GET', pathParameters: { name: 'pr-1' }, path: '/v1/environments/pr-1' })).body.operation.error).toEqual(failed);
    stored(record({ spec: spec() }));
    expect((await call(getHandler, { method: 'GET', pathParameters: { name: 'pr-1' }, path: '/v1/environments/pr-1' })).body.operation.error).toBeNull();
  });
});
