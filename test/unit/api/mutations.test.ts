import { describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as putHandler } from '../../../functions/api/put-environment.ts';
import { handler as postHandler } from '../../../functions/api/create-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { handler as deleteHandler } from '../../../functions/api/delete-environment.ts';
import { mockApiAws, stateMachineArn } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { record, spec } from '../../support/records.ts';
import { completedIdempotencyItem, idempotencyKeyHeld } from '../../support/idempotency-mock.ts';

const { dynamodb, sfn, stored } = mockApiAws();
const CREATE_ARN = stateMachineArn('create');
const UPDATE_ARN = stateMachineArn('update');
const TEARDOWN_ARN = stateMachineArn('teardown');
const CI = 'arn:aws:iam::123456789012:role/ci';

const put = (body: unknown, headers: Record<string, string> = {}, name = 'pr-1') =>
  call(putHandler, { method: 'PUT', path: `/v1/environments/${name}`, pathParameters: { name }, body, headers });

const transactItems = (i = 0) => dynamodb.commandCalls(TransactWriteCommand)[i]!.args[0].input.TransactItems!;

describe('PUT /v1/environments/{name}', () => {
  it('creates a new environment: 201, CREATING, quota counted, create workflow started once by a deterministic name', async () => {
    const response = await put({ image: 'ghcr.io/acme/web:pr-1', labels: { repository: 'acme/web' } });

    expect(response.status).toBe(201);
    expect(response.headers).toMatchObject({ etag: '"1"', location: '/v1/environments/pr-1' });
    expect(response.headers['x-request-id']).toBeTruthy();
    expect(response.body).toMatchObject({ name: 'pr-1', image: 'ghcr.io/acme/web:pr-1', status: 'CREATING', version: 1, cpu: 256, memory: 512 });
    expect(response.body.operation).toMatchObject({ type: 'create', status: 'RUNNING' });

    const [envPut, counter, event] = transactItems();
    expect(envPut!.Put).toMatchObject({
      TableName: 'fledge',
      // a record past its purgeAt (DynamoDB TTL pending) counts as absent
      ConditionExpression: 'attribute_not_exists(pk) OR #purgeAt <= :now',
      Item: { pk: 'ENV#pr-1', sk: 'ENV', status: 'CREATING', gsiStatusPk: 'STATUS#CREATING', gsiRepoPk: 'REPO#acme/web', gsiExpiryPk: 'EXPIRY' },
    });
    expect(counter!.Update).toMatchObject({
      Key: { pk: 'COUNTER#live', sk: 'COUNTER' },
      ExpressionAttributeNames: { '#total': 'total', '#repo': 'repo#acme/web' },
      ExpressionAttributeValues: { ':maxGlobal': 99, ':maxRepo': 20 },
    });
    expect(event!.Put!.Item).toMatchObject({ pk: 'ENV#pr-1', type: 'create-requested', actor: CI });

    const starts = sfn.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const start = starts[0]!.args[0].input;
    expect(start.stateMachineArn).toBe(CREATE_ARN);
    expect(start.name).toBe(`pr-1--${response.body.operation.id}`);
    expect(JSON.parse(start.input!)).toMatchObject({ name: 'pr-1', operationId: response.body.operation.id, specVersion: 1, actor: CI, spec: { image: 'ghcr.io/acme/web:pr-1' } });
  });

  it('answers 200 and starts nothing when the spec equals the desired spec', async () => {
    stored(record());
    const response = await put({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/web', branch: 'main' } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'RUNNING', version: 4 });
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('rolls a running environment forward: 202 UPDATING and the update workflow', async () => {
    stored(record());
    const response = await put({ image: 'ghcr.io/acme/web:2.0', labels: { repository: 'acme/web', branch: 'main' } });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'UPDATING', image: 'ghcr.io/acme/web:2.0', version: 5 });
    expect(transactItems()[0]!.Put).toMatchObject({ ConditionExpression: '#version = :expected', ExpressionAttributeValues: { ':expected': 4 } });
    expect(transactItems()[0]!.Put!.Item).toMatchObject({ specVersion: 2, status: 'UPDATING' });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(UPDATE_ARN);
  });

  it('records a new spec during a create without starting a second workflow (latest wins)', async () => {
    stored(record({ status: 'CREATING', appliedSpecVersion: undefined, operation: { id: 'op-1-x', type: 'create', status: 'RUNNING', startedAt: 'now', workflow: 'create', executionName: 'pr-1--op-1-x' } }));
    const response = await put({ image: 'ghcr.io/acme/web:3.0', labels: { repository: 'acme/web' } });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'CREATING', image: 'ghcr.io/acme/web:3.0' });
    expect(transactItems()[0]!.Put!.Item).toMatchObject({ specVersion: 2, status: 'CREATING' });
    expect(transactItems()[1]!.Put!.Item).toMatchObject({ type: 'spec-recorded' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('retries a FAILED environment on the same spec (202); one that never ran is built again by the create workflow', async () => {
    stored(record({ status: 'FAILED', appliedSpecVersion: undefined }));
    const response = await put({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/web', branch: 'main' } });
    expect(response.status).toBe(202);
    expect(response.body.status).toBe('UPDATING');
    expect(transactItems()[1]!.Put!.Item).toMatchObject({ type: 'retry-requested' });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(CREATE_ARN);
  });

  it('is 409 while the environment is being deleted, and changes nothing', async () => {
    stored(record({ status: 'DELETING' }));
    const response = await put({ image: 'ghcr.io/acme/web:2.0' });
    expect(response.status).toBe(409);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.body).toMatchObject({ status: 409, title: 'Conflict' });
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('creates a DELETED name anew (201), replacing exactly the deleted version', async () => {
    stored(record({ status: 'DELETED', version: 9 }));
    const response = await put({ image: 'ghcr.io/acme/web:1.0' });
    expect(response.status).toBe(201);
    expect(response.body.version).toBe(10);
    expect(transactItems()[0]!.Put).toMatchObject({ ConditionExpression: '#status = :deleted AND #version = :expected', ExpressionAttributeValues: { ':expected': 9 } });
  });

  it('rejects an invalid spec with 400 and errors[], touching nothing', async () => {
    const response = await put({ image: 'Not An Image', cpu: 256, memory: 4096, port: 0 });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['image', 'memory', 'port']);
    expect(dynamodb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('rejects a bad name with 400', async () => {
    const response = await put({ image: 'web' }, {}, 'Bad_Name');
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('name');
  });

  it('rejects bodies over 64 KiB (413), non-JSON bodies (415), malformed JSON and a missing body (400)', async () => {
    const big = await put({ image: 'web', environment: { X: 'x'.repeat(70 * 1024) } });
    expect(big.status).toBe(413);
    const text = await call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, rawBody: 'image=web', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    const broken = await call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, rawBody: '{"image":' });
    expect(broken.status).toBe(400);
    const empty = await call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' } });
    expect(empty.status).toBe(400);
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it('is 412 when If-Match does not match the current version (or nothing exists)', async () => {
    stored(record({ version: 4 }));
    const stale = await put({ image: 'web:2', labels: { repository: 'acme/web' } }, { 'if-match': '"3"' });
    expect(stale.status).toBe(412);
    expect(stale.body.currentVersion).toBe(4);
    const fresh = await put({ image: 'web:2', labels: { repository: 'acme/web' } }, { 'if-match': '"4"' });
    expect(fresh.status).toBe(202);
    const missing = await put({ image: 'web:2', labels: { repository: 'acme/web' } }, { 'if-match': '"1"' }, 'pr-2');
    expect(missing.status).toBe(412);
  });

  const lostRace = () =>
    new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] });

  it('decides again on a fresh read when a workflow step wrote meanwhile (no If-Match: latest wins)', async () => {
    stored(record());
    dynamodb.on(TransactWriteCommand).rejectsOnce(lostRace()).resolves({});
    const response = await put({ image: 'web:2', labels: { repository: 'acme/web' } });
    expect(response.status).toBe(202);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('turns a lost race into a clear 409 when the caller named a version, or when races persist; never an overwrite', async () => {
    stored(record());
    dynamodb.on(TransactWriteCommand).rejects(lostRace());
    const named = await put({ image: 'web:2', labels: { repository: 'acme/web' } }, { 'if-match': '"4"' });
    expect(named.status).toBe(409);
    expect(named.body.detail).toMatch(/changed while this request ran/);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(1);
    const persistent = await put({ image: 'web:2', labels: { repository: 'acme/web' } });
    expect(persistent.status).toBe(409);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('retries a create that only collided with another transaction on the quota counter (TransactionConflict)', async () => {
    const collided = new TransactionCanceledException({
      message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }, { Code: 'None' }],
    });
    dynamodb.on(TransactWriteCommand).rejectsOnce(collided).resolves({});
    const response = await put({ image: 'web', labels: { repository: 'acme/web' } });
    expect(response.status).toBe(201);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('is 429 naming the limit and the current count when a quota is full', async () => {
    dynamodb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }),
    );
    dynamodb.on(GetCommand, { Key: { pk: 'COUNTER#live', sk: 'COUNTER' } }).resolves({ Item: { total: 37, 'repo#acme/web': 20 } });
    const response = await put({ image: 'web', labels: { repository: 'acme/web' } });
    expect(response.status).toBe(429);
    expect(response.body).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 'repository', max: 20, current: 20, repository: 'acme/web' });
    expect(response.body.detail).toBe('at most 20 live environments are allowed for repository "acme/web"; 20 exist');
  });

  it('marks the environment FAILED when Step Functions refuses to start, and answers 500', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    const response = await put({ image: 'web' });
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toBe('application/problem+json');
    const failed = transactItems(1)[0]!.Put!.Item!;
    expect(failed).toMatchObject({ status: 'FAILED', operation: { status: 'FAILED', error: { code: 'INTERNAL' } } });
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer for the same key and body, without doing anything again', async () => {
    const first = await put({ image: 'web' }, { 'idempotency-key': 'build-77' });
    expect(first.status).toBe(201);
    // the key was claimed before the mutation, then the answer stored (functions/commands/idempotency.ts)
    const storedAnswer = completedIdempotencyItem(dynamodb, `IDEM#${CI}#build-77`);
    expect(storedAnswer).toMatchObject({ pk: `IDEM#${CI}#build-77`, state: 'COMPLETED', answer: { status: 201 } });

    const again = await put({ image: 'web' }, { 'idempotency-key': 'build-77' });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('is 422 when the same key comes with another body', async () => {
    idempotencyKeyHeld(dynamodb, `IDEM#${CI}#build-77`, {
      state: 'COMPLETED',
      fingerprint: 'something-else',
      answer: { status: 201, body: {}, headers: {} },
      purgeAt: Math.floor(Date.now() / 1000) + 60,
    });
    const response = await put({ image: 'web:other' }, { 'idempotency-key': 'build-77' });
    expect(response.status).toBe(422);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('POST /v1/environments', () => {
  const post = (body: unknown) => call(postHandler, { method: 'POST', path: '/v1/environments', body });

  it('creates with the name from the body (201)', async () => {
    const response = await post({ name: 'pr-7', image: 'web' });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ name: 'pr-7', status: 'CREATING' });
  });

  it('is 409 when a live environment has that name', async () => {
    stored(record({ name: 'pr-7' }));
    const response = await post({ name: 'pr-7', image: 'web' });
    expect(response.status).toBe(409);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('is 400 without a valid name', async () => {
    expect((await post({ image: 'web' })).status).toBe(400);
    expect((await post([1, 2])).status).toBe(400);
  });
});

describe('PATCH /v1/environments/{name}', () => {
  const patch = (body: unknown, name = 'pr-1', headers: Record<string, string> = {}) =>
    call(patchHandler, { method: 'PATCH', path: `/v1/environments/${name}`, pathParameters: { name }, body, headers });

  it('merges the change into the desired spec and starts an update (202)', async () => {
    stored(record({ spec: spec({ environment: { A: '1', B: '2' } }) }));
    const response = await patch({ environment: { B: null, C: '3' }, ttl: '7d' });
    expect(response.status).toBe(202);
    expect(response.body.environment).toEqual({ A: '1', C: '3' });
    expect(response.body.ttl).toBe('7d');
    expect(response.body.image).toBe('ghcr.io/acme/web:1.0');
  });

  it('treats a patch that changes nothing like a PUT of the same spec (200)', async () => {
    stored(record());
    const response = await patch({ image: 'ghcr.io/acme/web:1.0' });
    expect(response.status).toBe(200);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('validates the merged spec and unknown fields (400), unknown names (404), deleting (409)', async () => {
    stored(record());
    expect((await patch({ memory: 4096 })).status).toBe(400);
    expect((await patch({ status: 'RUNNING' })).status).toBe(400);
    expect((await patch({ image: 'web' }, 'nope')).status).toBe(404);
    stored(record({ status: 'DELETING' }));
    expect((await patch({ image: 'web:3' })).status).toBe(409);
  });
});

describe('labels.repository is fixed at create', () => {
  const patch = (body: unknown, name = 'pr-1') =>
    call(patchHandler, { method: 'PATCH', path: `/v1/environments/${name}`, pathParameters: { name }, body });
  const refusedRelabel = (response: Awaited<ReturnType<typeof put>>) => {
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.body.errors).toEqual([{ path: 'labels.repository', message: expect.any(String) }]);
    expect(response.body.detail).toMatch(/labels\.repository of environment "pr-1" is fixed at create/);
    // a rejected request changes nothing and starts nothing
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(dynamodb.commandCalls(PutCommand)).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  };

  it('is 400 naming labels.repository when a PUT changes it or leaves it out, in any status but DELETING', async () => {
    for (const status of ['RUNNING', 'CREATING', 'FAILED', 'SLEEPING'] as const) {
      stored(record({ status }));
      const moved = await put({ image: 'ghcr.io/acme/web:2.0', labels: { repository: 'acme/other' } });
      refusedRelabel(moved);
      expect(moved.body.errors[0].message).toBe('is fixed at create ("acme/web") and cannot change');
      const dropped = await put({ image: 'ghcr.io/acme/web:2.0', labels: { branch: 'main' } });
      refusedRelabel(dropped);
      expect(dropped.body.errors[0].message).toBe('is fixed at create ("acme/web") and cannot be removed');
    }
  });

  it('is 400 when a PATCH changes or removes it, or adds one to an environment created without one', async () => {
    stored(record());
    refusedRelabel(await patch({ labels: { repository: 'acme/other' } }));
    refusedRelabel(await patch({ labels: { repository: null } }));
    stored(record({ spec: spec({ labels: { branch: 'main' } }) }));
    const added = await patch({ labels: { repository: 'acme/web' } });
    refusedRelabel(added);
    expect(added.body.errors[0].message).toBe('the environment was created without a repository; one cannot be added later');
    const addedByPut = await put({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/web', branch: 'main' } });
    refusedRelabel(addedByPut);
  });

  it('`labels: null` removes every label but the repository (docs/api.md EnvironmentPatch: map | null)', async () => {
    // naming another repository next to the removals is refused as ever
    stored(record({ spec: spec({ labels: { repository: 'acme/web', branch: 'main' } }) }));
    refusedRelabel(await patch({ labels: { repository: 'acme/other', branch: null } }));
    stored(record({ spec: spec({ labels: { repository: 'acme/web', branch: 'main', team: 'blue' } }) }));
    const cleared = await patch({ labels: null });
    expect(cleared.status).toBe(202);
    expect(cleared.body.labels).toEqual({ repository: 'acme/web' });
    // an environment created without a repository loses every label
    dynamodb.resetHistory();
    stored(record({ spec: spec({ labels: { branch: 'main' } }) }));
    const none = await patch({ labels: null });
    expect(none.status).toBe(202);
    expect(none.body.labels).toEqual({});
  });

  it('accepts a change of the other labels that keeps the repository', async () => {
    stored(record());
    const response = await patch({ labels: { branch: 'feature/x' } });
    expect(response.status).toBe(202);
    expect(response.body.labels).toEqual({ repository: 'acme/web', branch: 'feature/x' });
  });

  it('lets a PUT of a DELETED name create anew under any repository, counted under the new one', async () => {
    stored(record({ status: 'DELETED', version: 9, quotaCounters: ['total', 'repo#acme/web'] }));
    const response = await put({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/other' } });
    expect(response.status).toBe(201);
    const [envPut, counter] = transactItems();
    expect(envPut!.Put!.Item).toMatchObject({ quotaCounters: ['total', 'repo#acme/other'], gsiRepoPk: 'REPO#acme/other' });
    expect(counter!.Update!.ExpressionAttributeNames).toEqual({ '#total': 'total', '#repo': 'repo#acme/other' });
  });

  it('records at create the counters the environment was counted in, and keeps them when Step Functions refuses to start', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    const response = await put({ image: 'web', labels: { repository: 'acme/web' } });
    expect(response.status).toBe(500);
    const [created, failed] = dynamodb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems![0]!.Put!.Item!);
    expect(created).toMatchObject({ status: 'CREATING', quotaCounters: ['total', 'repo#acme/web'] });
    expect(failed).toMatchObject({ status: 'FAILED', quotaCounters: ['total', 'repo#acme/web'] });
    const unlabelled = await put({ image: 'web' }, {}, 'pr-2');
    expect(unlabelled.status).toBe(500);
    expect(dynamodb.commandCalls(TransactWriteCommand)[2]!.args[0].input.TransactItems![0]!.Put!.Item).toMatchObject({ quotaCounters: ['total'] });
  });
});

describe('DELETE /v1/environments/{name}', () => {
  const del = (name = 'pr-1', headers: Record<string, string> = {}) =>
    call(deleteHandler, { method: 'DELETE', path: `/v1/environments/${name}`, pathParameters: { name }, headers });

  it('tears a running environment down: 202 DELETING and the teardown workflow', async () => {
    stored(record());
    const response = await del();
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'DELETING', operation: { type: 'teardown', status: 'RUNNING' } });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(TEARDOWN_ARN);
    expect(sfn.commandCalls(StopExecutionCommand)).toHaveLength(0);
  });

  it('stops the running create first, then tears down', async () => {
    stored(record({ status: 'CREATING', operation: { id: 'op-1-x', type: 'create', status: 'RUNNING', startedAt: 'now', workflow: 'create', executionName: 'pr-1--op-1-x' } }));
    const response = await del();
    expect(response.status).toBe(202);
    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input.executionArn).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:fledge-create:pr-1--op-1-x',
    );
    const types = transactItems().slice(1).map((t) => t.Put!.Item!.type);
    expect(types).toEqual(['operation-superseded', 'delete-requested']);
  });

  it('leaves the environment DELETING, its teardown FAILED, when Step Functions refuses to start (a DELETE retries it)', async () => {
    stored(record());
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    const response = await del();
    expect(response.status).toBe(500);
    const [undone, evt] = transactItems(1).map((t) => t.Put!.Item!);
    expect(undone).toMatchObject({ status: 'DELETING', version: 6, operation: { type: 'teardown', status: 'FAILED', error: { code: 'INTERNAL' } } });
    expect(evt).toMatchObject({ type: 'operation-failed', message: 'could not start the teardown workflow', operationId: undone!.operation.id });
  });

  it('answers 202 again while DELETING without starting another teardown', async () => {
    stored(record({ status: 'DELETING' }));
    const response = await del();
    expect(response.status).toBe(202);
    expect(sfn.calls()).toHaveLength(0);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('is 404 for unknown names and 412 on a stale If-Match', async () => {
    expect((await del('nope')).status).toBe(404);
    stored(record({ version: 4 }));
    expect((await del('pr-1', { 'if-match': '"2"' })).status).toBe(412);
    expect(sfn.calls()).toHaveLength(0);
  });
});
