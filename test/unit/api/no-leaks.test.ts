/**
 * Nothing internal reaches a caller (docs/security.md "What reaches callers"): failure paths
 * driven through the API handlers answer a typed code and plain words, never an ARN, an
 * account id, AWS's error text or a stack.
 */
import { describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as putHandler } from '../../../functions/api/put-environment.ts';
import { handler as getHandler } from '../../../functions/api/get-environment.ts';
import { handler as listHandler } from '../../../functions/api/list-environments.ts';
import { handler as eventsHandler } from '../../../functions/api/list-events.ts';
import { handler as scaleHandler } from '../../../functions/api/scale-environment.ts';
import { handler as healHandler } from '../../../functions/api/heal-environment.ts';
import { problemBody } from '../../../functions/lambda/problem.ts';
import { publicLogText, publicText, publicValue } from '../../../functions/domain/public-text.ts';
import { mockApiAws, TEST_ACCOUNT } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { item, record } from '../../support/records.ts';

const { dynamodb, sfn } = mockApiAws();
const ACCOUNT = TEST_ACCOUNT;
/** What Step Functions answers a StartExecution the API's role may not make. */
const accessDenied = () =>
  Object.assign(
    new Error(`User: arn:aws:sts::${ACCOUNT}:assumed-role/Fledge-ApiRole-1AB/fledge-put is not authorized to perform: states:StartExecution on resource: arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:Fledge-create because no identity-based policy allows the states:StartExecution action`),
    { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400, requestId: 'f7e8' } },
  );

/** No ARN, no account id (any 12-digit run), no AWS error wording, no stack frame. */
function expectNothingInternal(answer: unknown): void {
  const text = JSON.stringify(answer);
  expect(text).not.toMatch(/arn:/);
  expect(text).not.toMatch(/\d{12}/);
  expect(text).not.toMatch(/assumed-role|not authorized|AccessDeniedException|requestId|\bat .*\.(?:ts|js|mjs):\d+/);
}

/** Events carry the caller's own identity in `actor` (the IAM principal ARN, by the spec): the rest is checked. */
const withoutActors = (body: { items: { actor?: string }[] }) => body.items.map(({ actor: _actor, ...rest }) => rest);

describe('a failed StartExecution', () => {
  it('answers the PUT with a plain 500, and GET says INTERNAL in plain words: AWS\'s message goes to the log only', async () => {
    sfn.on(StartExecutionCommand).rejects(accessDenied());
    const put = await call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { image: 'ghcr.io/acme/web:1' } });
    expect(put.status).toBe(500);
    expectNothingInternal(put);

    // the FAILED record the create wrote, read back through GET and LIST
    const failed = dynamodb.commandCalls(TransactWriteCommand)[1]!.args[0].input.TransactItems![0]!.Put!.Item!;
    expect(failed.operation.error).toEqual({ code: 'INTERNAL', message: "the create workflow could not be started; the operators' logs have the details" });
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: failed });
    const get = await call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } });
    expect(get.status).toBe(200);
    expect(get.body.operation.error.code).toBe('INTERNAL');
    expectNothingInternal(get.body);
  });

  it('a throttled start of a scale or a heal is AWS_LIMIT, in plain words, and a 503 with Retry-After', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error(`Rate exceeded for arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:Fledge-scale`), { name: 'ThrottlingException' }));
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(record()) });
    const scale = await call(scaleHandler, { method: 'POST', path: '/v1/environments/pr-1/scale', pathParameters: { name: 'pr-1' }, body: { desiredCount: 2 } });
    expect(scale.status).toBe(503);
    expect(scale.headers['retry-after']).toBe('2');
    expect(scale.body).toMatchObject({ status: 503, code: 'AWS_LIMIT' });
    expectNothingInternal(scale);
    const reverted = dynamodb.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems![0]!.Put!.Item!;
    expect(reverted.operation.error.code).toBe('AWS_LIMIT');
    expectNothingInternal(reverted.operation.error);

    const heal = await call(healHandler, { method: 'POST', path: '/v1/environments/pr-1/heal', pathParameters: { name: 'pr-1' }, headers: { 'content-type': 'application/json' } });
    expect(heal.status).toBe(503);
    expect(heal.body).toMatchObject({ code: 'AWS_LIMIT' });
    expectNothingInternal(heal);
    const healFailed = dynamodb.commandCalls(TransactWriteCommand).at(-1)!.args[0].input.TransactItems![0]!.Put!.Item!;
    expect(healFailed.operation.error).toMatchObject({ code: 'AWS_LIMIT' });
    expectNothingInternal(healFailed.operation.error);
  });
});

describe('AWS throttling behind any route', () => {
  const throttled = (name: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(`Rate exceeded for arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/fledge`), { name, $metadata: { httpStatusCode: 400, requestId: 'r-1' }, ...extra });
  const get = () => call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } });
  const list = () => call(listHandler, { method: 'GET', path: '/v1/environments' });
  const events = () => call(eventsHandler, { method: 'GET', path: '/v1/environments/pr-1/events', pathParameters: { name: 'pr-1' } });
  const put = (headers: Record<string, string> = {}) =>
    call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { image: 'ghcr.io/acme/web:1' }, headers });

  function expectThrottledAnswer(answer: Awaited<ReturnType<typeof get>>): void {
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('2');
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status: 503, title: 'Service unavailable', code: 'AWS_LIMIT' });
    expect(answer.body.detail).toMatch(/retry after 2 s/);
    expectNothingInternal(answer);
    expect(JSON.stringify(answer.body)).not.toMatch(/Rate exceeded|ProvisionedThroughput|Throttling/);
  }

  it.each([
    ['DynamoDB ProvisionedThroughputExceededException', throttled('ProvisionedThroughputExceededException')],
    ['DynamoDB ThrottlingException', throttled('ThrottlingException')],
    ['DynamoDB RequestLimitExceeded', throttled('RequestLimitExceeded')],
    ['an HTTP 429', throttled('SomethingNew', { $metadata: { httpStatusCode: 429 } })],
    ['the SDK\'s throttling trait', throttled('SomethingNew', { $retryable: { throttling: true } })],
  ])('%s on GET, LIST and events: a 503 AWS_LIMIT with Retry-After, never a 500', async (_what, error) => {
    dynamodb.on(GetCommand).rejects(error);
    dynamodb.on(QueryCommand).rejects(error);
    expectThrottledAnswer(await get());
    expectThrottledAnswer(await list());
    expectThrottledAnswer(await events());
  });

  it('a create whose transaction DynamoDB cancels for throttling, and an Idempotency-Key claim throttled: 503', async () => {
    dynamodb.on(TransactWriteCommand).rejects(throttled('TransactionCanceledException', { CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }] }));
    expectThrottledAnswer(await put());
    dynamodb.reset();
    dynamodb.on(GetCommand).resolves({});
    dynamodb.on(PutCommand).rejects(throttled('ProvisionedThroughputExceededException'));
    expectThrottledAnswer(await put({ 'idempotency-key': 'k-1' }));
  });

  it('any other AWS failure stays a plain 500 (a cancelled transaction for another reason, access denied)', async () => {
    dynamodb.on(TransactWriteCommand).rejects(throttled('TransactionCanceledException', { CancellationReasons: [{ Code: 'ValidationError' }] }));
    const cancelled = await put();
    expect(cancelled.status).toBe(500);
    expect(cancelled.headers).not.toHaveProperty('retry-after');
    dynamodb.on(GetCommand).rejects(accessDenied());
    const denied = await get();
    expect(denied.status).toBe(500);
    expectNothingInternal(denied);
  });
});

describe('records and events written before errors were worded', () => {
  const raw = `the workflow could not be started: User: arn:aws:sts::${ACCOUNT}:assumed-role/Fledge-ApiRole/x is not authorized to perform: states:StartExecution`;
  const legacy = record({
    status: 'FAILED',
    operation: { id: 'op-2-abcd1234', type: 'update', status: 'FAILED', startedAt: '2026-11-01T10:00:00.000Z', error: { code: 'INTERNAL', message: raw } },
  });

  it('GET and LIST show the stored message with its ARNs cut to their resource and the account masked', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(legacy) });
    dynamodb.on(QueryCommand).resolves({ Items: [item(legacy)] });
    const get = await call(getHandler, { method: 'GET', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } });
    expect(get.body.operation.error).toEqual({
      code: 'INTERNAL',
      message: 'the workflow could not be started: User: assumed-role/Fledge-ApiRole/x is not authorized to perform: states:StartExecution',
      logs: '/v1/environments/pr-1/logs?since=2026-11-01T10:00:00.000Z',
    });
    expect(JSON.stringify(get.body)).not.toMatch(/arn:|\d{12}/);
    const list = await call(listHandler, { method: 'GET', path: '/v1/environments' });
    expect(JSON.stringify(list.body)).not.toMatch(/arn:|\d{12}/);
  });

  it('events: messages and details (receipts, stopped reasons) keep the resource, lose the ARN', async () => {
    dynamodb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item(legacy) });
    dynamodb.on(QueryCommand).resolves({
      Items: [
        {
          at: '2026-11-01T10:06:00.000Z', type: 'deleted', actor: 'system', operationId: 'op-3',
          message: `removed arn:aws:ecs:eu-west-1:${ACCOUNT}:service/fledge/pr-1`,
          details: { removed: [{ type: 'ecs-service', arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/fledge/pr-1` }], kept: [`arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/fledge-td-abc:3`] },
        },
        {
          at: '2026-11-01T10:05:00.000Z', type: 'heal-triggered', actor: `arn:aws:iam::${ACCOUNT}:role/ci`,
          message: `heal triggered by ecs: Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:targetgroup/local-pr-1-1a2b/0123abcd)\n    at handler (/var/task/index.mjs:1:2)`,
        },
      ],
    });
    const events = await call(eventsHandler, { method: 'GET', path: '/v1/environments/pr-1/events', pathParameters: { name: 'pr-1' } });
    expect(events.status).toBe(200);
    const items = withoutActors(events.body);
    expectNothingInternal(items);
    expect(items[0]).toMatchObject({
      message: 'removed service/fledge/pr-1',
      details: { removed: [{ type: 'ecs-service', arn: 'service/fledge/pr-1' }], kept: ['task-definition/fledge-td-abc:3'] },
    });
    expect(items[1]).toHaveProperty('message', 'heal triggered by ecs: Task failed ELB health checks in (target-group targetgroup/local-pr-1-1a2b/0123abcd)');
  });
});

describe('problem+json', () => {
  it('never carries an ARN or account id in its detail or extensions', () => {
    const body = JSON.parse(problemBody(409, 'Conflict', `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/fledge/pr-1 is busy\nstack`, { errors: [{ path: 'x', message: `see ${ACCOUNT}` }] }));
    expect(body).toMatchObject({ status: 409, detail: 'service/fledge/pr-1 is busy', errors: [{ path: 'x', message: 'see <account>' }] });
  });
});

describe('publicText', () => {
  it.each([
    [`arn:aws:iam::${ACCOUNT}:role/x`, 'role/x'],
    [`(arn:aws-us-gov:s3:::bucket/key)`, '(bucket/key)'],
    [`arn:aws:iam::aws:policy/ReadOnlyAccess`, 'policy/ReadOnlyAccess'],
    [`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web:1`, '<account>.dkr.ecr.eu-west-1.amazonaws.com/web:1'],
    ['exit code 137 at 1733560000000 ms', 'exit code 137 at 1733560000000 ms'],
    ['task-definition/fledge-td-ab123456789012cd:3', 'task-definition/fledge-td-ab123456789012cd:3'],
    ['first line\n    at frame (/var/task/x.js:1:1)', 'first line'],
    // percent-encoded, as in a URL's query (once, twice, lowercase hex)
    [`arn%3Aaws%3Aiam%3A%3A${ACCOUNT}%3Arole%2Fx`, 'role%2Fx'],
    [`https://console.example/?role=arn%3Aaws%3Aiam%3A%3A${ACCOUNT}%3Arole%2Fx`, 'https://console.example/?role=role%2Fx'],
    [`arn%253Aaws%253Asts%253A%253A${ACCOUNT}%253Aassumed-role%252FR%252Fs`, 'assumed-role%252FR%252Fs'],
    [`arn%3aaws%3aiam%3a%3a${ACCOUNT}%3arole%2fx`, 'role%2fx'],
    [`account%3D${ACCOUNT}%26x`, 'account%3D<account>%26x'],
    // full-width (compatibility) characters: read in their NFKC form
    ['１２３４５６７８９０１２', '<account>'],
    ['registry １２３４５６７８９０１２.dkr.ecr', 'registry <account>.dkr.ecr'],
    ['ａｒｎ：ａｗｓ：ｉａｍ：：１２３４５６７８９０１２：ｒｏｌｅ／ｘ', 'role/x'],
    ['1234５６７８９０１２', '<account>'],
    // what hides no account id stays exactly as written
    ['café ﬁle １２３ 25%2525', 'café ﬁle １２３ 25%2525'],
    ['%3A1234567890123', '%3A1234567890123'],
  ])('%s -> %s', (input, output) => {
    expect(publicText(input)).toBe(output);
  });

  it('container log lines: the same masks, every line kept, the rest of the text as the application wrote it', () => {
    expect(publicLogText(`GET /cb?role=arn%3Aaws%3Aiam%3A%3A${ACCOUNT}%3Arole%2Fapp 200\n  user １２３４５６７８９０１２ — naïve ﬁle`)).toBe(
      'GET /cb?role=role%2Fapp 200\n  user <account> — naïve ﬁle',
    );
    // linear on long lines (a 16 KiB token, with and without non-ASCII text)
    const started = performance.now();
    publicLogText(`${'x'.repeat(16_000)}é${'25'.repeat(8_000)} ${'2'.repeat(16_000)}%3A`);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('keeps numbers, booleans and structure of a JSON value', () => {
    expect(publicValue({ n: 3, ok: true, list: [`arn:aws:sns:eu-west-1:${ACCOUNT}:topic`], none: null })).toEqual({ n: 3, ok: true, list: ['topic'], none: null });
  });
});
