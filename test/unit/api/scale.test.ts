import { describe, expect, it } from 'vitest';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as scaleHandler } from '../../../functions/api/scale-environment.ts';
import { handler as patchHandler } from '../../../functions/api/patch-environment.ts';
import { handler as putHandler } from '../../../functions/api/put-environment.ts';
import { mockApiAws, stateMachineArn } from '../../support/api-aws.ts';
import { call } from '../../support/api-events.ts';
import { record, spec } from '../../support/records.ts';
import { completedIdempotencyItem } from '../../support/idempotency-mock.ts';

const { dynamodb, sfn, stored } = mockApiAws();
const SCALE_ARN = stateMachineArn('scale');
const UPDATE_ARN = stateMachineArn('update');
const CI = 'arn:aws:iam::123456789012:role/ci';

const scale = (body: unknown, headers: Record<string, string> = {}, name = 'pr-1') =>
  call(scaleHandler, { method: 'POST', path: `/v1/environments/${name}/scale`, routeKey: 'POST /v1/environments/{name}/scale', pathParameters: { name }, body, headers });

const transactItems = (i = 0) => dynamodb.commandCalls(TransactWriteCommand)[i]!.args[0].input.TransactItems!;
const written = () => transactItems()[0]!.Put!.Item! as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const eventWritten = () => transactItems()[1]!.Put!.Item! as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const started = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

describe('POST /v1/environments/{name}/scale', () => {
  it('scales a running environment: 202 SCALING, the new count in the desired spec (specVersion moves), the scale workflow started once', async () => {
    stored(record());
    const response = await scale({ desiredCount: 3 });

    expect(response.status).toBe(202);
    expect(response.headers.etag).toBe('"5"');
    expect(response.body).toMatchObject({ name: 'pr-1', status: 'SCALING', desiredCount: 3, version: 5, operation: { type: 'scale', status: 'RUNNING' } });
    expect(transactItems()[0]!.Put).toMatchObject({ ConditionExpression: '#version = :expected', ExpressionAttributeValues: { ':expected': 4 } });
    expect(written()).toMatchObject({ status: 'SCALING', gsiStatusPk: 'STATUS#SCALING', specVersion: 2, spec: { desiredCount: 3 }, operation: { type: 'scale', workflow: 'scale' } });
    // a scale does not extend the ttl (it counts from the last create/update)
    expect(written().expiresAt).toBe(record().expiresAt);
    expect(eventWritten()).toMatchObject({ type: 'scale-requested', actor: CI, details: { from: 1, to: 3 } });
    expect(started()).toHaveLength(1);
    expect(started()[0]!.stateMachineArn).toBe(SCALE_ARN);
    expect(started()[0]!.name).toBe(`pr-1--${response.body.operation.id}`);
    expect(JSON.parse(started()[0]!.input!)).toMatchObject({ name: 'pr-1', specVersion: 2, actor: CI, spec: { desiredCount: 3 } });
  });

  it('to 0 puts it to sleep and remembers the count it slept from', async () => {
    stored(record({ spec: spec({ desiredCount: 2 }) }));
    const response = await scale({ desiredCount: 0 });
    expect(response.status).toBe(202);
    expect(written()).toMatchObject({ status: 'SCALING', sleptFromCount: 2, spec: { desiredCount: 0 } });
    expect(eventWritten()).toMatchObject({ type: 'sleep-requested', message: 'sleep requested: 2 -> 0 tasks' });
  });

  it('a count above 0 wakes a sleeping environment and forgets the count it slept from', async () => {
    stored(record({ status: 'SLEEPING', runningCount: 0, spec: spec({ desiredCount: 0 }), sleptFromCount: 2 }));
    const response = await scale({ desiredCount: 4 });
    expect(response.status).toBe(202);
    expect(written()).toMatchObject({ status: 'SCALING', spec: { desiredCount: 4 } });
    expect(written().sleptFromCount).toBeUndefined();
    expect(eventWritten()).toMatchObject({ type: 'wake-requested' });
  });

  it('turns autoscaling on (the count moves into its range, targetCpuPercent defaults to 60) and off again with null', async () => {
    stored(record());
    const on = await scale({ autoscaling: { minCount: 2, maxCount: 5 } });
    expect(on.status).toBe(202);
    expect(on.body).toMatchObject({ desiredCount: 2, autoscaling: { minCount: 2, maxCount: 5, targetCpuPercent: 60 } });
    expect(eventWritten().message).toContain('autoscaling 2-5 tasks at 60% CPU');

    dynamodb.reset();
    dynamodb.on(TransactWriteCommand).resolves({});
    stored(record({ spec: spec({ desiredCount: 3, autoscaling: { minCount: 2, maxCount: 5, targetCpuPercent: 60 } }) }));
    const off = await scale({ autoscaling: null });
    expect(off.status).toBe(202);
    expect(off.body).toMatchObject({ desiredCount: 3 });
    expect(off.body.autoscaling).toBeUndefined();
    expect(written().spec.autoscaling).toBeUndefined();
    expect(eventWritten().message).toContain('autoscaling off');
  });

  it('the same count again still runs the workflow (202) but leaves specVersion where it was', async () => {
    stored(record());
    const response = await scale({ desiredCount: 1 });
    expect(response.status).toBe(202);
    expect(written().specVersion).toBe(1);
    expect(started()).toHaveLength(1);
  });

  it('is 409 while another operation is in flight (a scale is not "latest wins"), and changes nothing', async () => {
    stored(record({ status: 'UPDATING', operation: { id: 'op-9-x', type: 'update', status: 'RUNNING', startedAt: 'now', workflow: 'update', executionName: 'pr-1--op-9-x' } }));
    const response = await scale({ desiredCount: 2 });
    expect(response.status).toBe(409);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.body.detail).toContain('a update operation (op-9-x) is in flight');
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(started()).toHaveLength(0);
  });

  it.each(['FAILED', 'DEGRADED', 'DELETING'] as const)('is 409 from %s', async (status) => {
    stored(record({ status }));
    expect((await scale({ desiredCount: 2 })).status).toBe(409);
    expect(started()).toHaveLength(0);
  });

  it('is 409 when the environment was deleted, 404 when there is none', async () => {
    stored(record({ status: 'DELETED' }));
    expect((await scale({ desiredCount: 1 })).status).toBe(409);
    expect((await scale({ desiredCount: 1 }, {}, 'nobody')).status).toBe(404);
  });

  it('is 412 when If-Match names another version, and goes ahead with the current one', async () => {
    stored(record());
    const stale = await scale({ desiredCount: 2 }, { 'if-match': '"3"' });
    expect(stale.status).toBe(412);
    expect(stale.body.currentVersion).toBe(4);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect((await scale({ desiredCount: 2 }, { 'if-match': '"4"' })).status).toBe(202);
  });

  it('answers a lost race with If-Match as 409 (the version it named is gone)', async () => {
    stored(record());
    dynamodb.on(TransactWriteCommand).rejects(new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] }));
    expect((await scale({ desiredCount: 2 }, { 'if-match': '"4"' })).status).toBe(409);
    expect(started()).toHaveLength(0);
  });

  it.each([
    [{}, ''],
    [{ desiredCount: 11 }, 'desiredCount'],
    [{ desiredCount: -1 }, 'desiredCount'],
    [{ desiredCount: 1.5 }, 'desiredCount'],
    [{ desiredCount: 2, image: 'other' }, ''],
    [{ autoscaling: { minCount: 3, maxCount: 2 } }, 'autoscaling.minCount'],
    [{ autoscaling: { minCount: 1, maxCount: 11 } }, 'autoscaling.maxCount'],
    [{ autoscaling: { minCount: 1, maxCount: 2, targetCpuPercent: 95 } }, 'autoscaling.targetCpuPercent'],
  ])('is 400 with errors[] for %j', async (body, path) => {
    stored(record());
    const response = await scale(body);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('is 400 for a count outside the autoscaling range (0 to sleep is fine)', async () => {
    stored(record({ spec: spec({ desiredCount: 2, autoscaling: { minCount: 2, maxCount: 4, targetCpuPercent: 50 } }) }));
    const response = await scale({ desiredCount: 6 });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'desiredCount', message: expect.stringContaining('2..4') }]);
    expect((await scale({ desiredCount: 0 })).status).toBe(202);
  });

  it('replays the first answer for the same Idempotency-Key and body, without scaling again', async () => {
    stored(record());
    const first = await scale({ desiredCount: 2 }, { 'idempotency-key': 'scale-1' });
    completedIdempotencyItem(dynamodb, `IDEM#${CI}#scale-1`);
    const again = await scale({ desiredCount: 2 }, { 'idempotency-key': 'scale-1' });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(started()).toHaveLength(1);
    expect((await scale({ desiredCount: 3 }, { 'idempotency-key': 'scale-1' })).status).toBe(422);
  });

  it('puts a sleeping environment back where it was when Step Functions refuses the start', async () => {
    stored(record({ status: 'SLEEPING', runningCount: 0, spec: spec({ desiredCount: 0 }), sleptFromCount: 1 }));
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const response = await scale({ desiredCount: 1 });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('2');
    const reverted = transactItems(1)[0]!.Put!.Item!;
    expect(reverted).toMatchObject({ status: 'SLEEPING', spec: { desiredCount: 0 }, sleptFromCount: 1, operation: { type: 'scale', status: 'FAILED', error: { code: 'AWS_LIMIT' } } });
  });
});

describe('spec changes and sleep', () => {
  it('a PATCH of a sleeping environment wakes it back to its previous count, through the scale workflow (status UPDATING)', async () => {
    stored(record({ status: 'SLEEPING', runningCount: 0, spec: spec({ desiredCount: 0 }), sleptFromCount: 3 }));
    const response = await call(patchHandler, { method: 'PATCH', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { image: 'ghcr.io/acme/web:2.0' } });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'UPDATING', desiredCount: 3, image: 'ghcr.io/acme/web:2.0', operation: { type: 'update' } });
    expect(written().sleptFromCount).toBeUndefined();
    expect(started()[0]!.stateMachineArn).toBe(SCALE_ARN);
  });

  it('a PUT with desiredCount 0 or new autoscaling bounds runs the scale workflow; an image change alone the update workflow', async () => {
    stored(record());
    const sleep = await call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { image: 'ghcr.io/acme/web:1.0', desiredCount: 0, labels: { repository: 'acme/web', branch: 'main' } } });
    expect(sleep.status).toBe(202);
    expect(started()[0]!.stateMachineArn).toBe(SCALE_ARN);
    expect(written().sleptFromCount).toBe(1);

    sfn.reset();
    sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn}:${input.name}` }));
    const image = await call(putHandler, { method: 'PUT', path: '/v1/environments/pr-1', pathParameters: { name: 'pr-1' }, body: { image: 'ghcr.io/acme/web:2.0', labels: { repository: 'acme/web', branch: 'main' } } });
    expect(image.status).toBe(202);
    expect(started()[0]!.stateMachineArn).toBe(UPDATE_ARN);
  });
});
