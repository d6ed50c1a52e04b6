import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { handler as rawHandler } from '../../../functions/events/heal-trigger.ts';
import { parseHealSignal, RecentEvents, serviceNameOf, taskFailure, type BusEvent } from '../../../functions/domain/heal-signals.ts';
import { resetClients } from '../../../functions/adapters/aws-clients.ts';
import { resetConfig } from '../../../functions/runtime/config.ts';
import type { EnvironmentRecord } from '../../../functions/domain/environment.ts';
import { item, record } from '../../support/records.ts';
import { invoked } from '../../support/lambda-context.ts';
const handler = invoked(rawHandler);

const dynamodb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/fledge';
const HEAL_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:fledge-heal';
let seq = 0;
const id = () => `event-${++seq}-${Math.random().toString(16).slice(2)}`;

function alarm(name: string, value = 'ALARM', eventId = id()): BusEvent {
  return {
    id: eventId, source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change',
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`],
    detail: { alarmName: name, state: { value, reason: 'Threshold Crossed: 3 datapoints were less than the threshold (1.0).' } },
  };
}

function serviceAction(name: string, eventName: string, detailType = 'ECS Service Action'): BusEvent {
  return {
    id: id(), source: 'aws.ecs', 'detail-type': detailType,
    resources: [`arn:aws:ecs:eu-west-1:123456789012:service/fledge/${name}`],
    detail: { eventType: 'WARN', eventName, clusterArn: CLUSTER },
  };
}

function taskStopped(group: string, detail: Record<string, unknown>, cluster = CLUSTER): BusEvent {
  return {
    id: id(), source: 'aws.ecs', 'detail-type': 'ECS Task State Change',
    resources: ['arn:aws:ecs:eu-west-1:123456789012:task/fledge/0123456789abcdef'],
    detail: { clusterArn: cluster, group, lastStatus: 'STOPPED', desiredStatus: 'STOPPED', ...detail },
  };
}

function stored(r: EnvironmentRecord) {
  dynamodb.on(GetCommand, { Key: { pk: `ENV#${r.name}`, sk: 'ENV' } }).resolves({ Item: item(r) });
}

const starts = () => sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

beforeEach(() => {
  dynamodb.reset();
  sfn.reset();
  resetClients();
  resetConfig();
  Object.assign(process.env, {
    TABLE_NAME: 'fledge', FLEDGE_INSTALLATION_ID: 'test', FLEDGE_CLUSTER_ARN: CLUSTER, FLEDGE_HEAL_STATE_MACHINE_ARN: HEAL_ARN, FLEDGE_HEAL_MAX_PER_HOUR: '3', FLEDGE_HEAL_BACKOFF: '30s',
  });
  dynamodb.on(GetCommand).resolves({});
  dynamodb.on(TransactWriteCommand).resolves({});
  sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${input.stateMachineArn}:${input.name}` }));
});

describe('reading heal signals from events', () => {
  it('takes an environment alarm entering ALARM, and nothing else from CloudWatch', () => {
    expect(parseHealSignal(alarm('fledge-test-pr-7-unhealthy'), undefined, 'test')).toMatchObject({ signal: { environment: 'pr-7', source: 'alarm', signal: 'fledge-test-pr-7-unhealthy', reason: expect.stringContaining('Threshold') } });
    expect(parseHealSignal(alarm('fledge-test-pr-7-unhealthy', 'OK'), undefined, 'test')).toEqual({ ignored: 'alarm fledge-test-pr-7-unhealthy went to OK' });
    expect(parseHealSignal(alarm('FledgeApi5xxAlarm'), undefined, 'test')).toMatchObject({ ignored: expect.stringContaining('not a Fledge environment alarm') });
    // another installation's alarm in the same account, and the names of earlier versions, are not ours
    expect(parseHealSignal(alarm('fledge-other-pr-7-unhealthy'), undefined, 'test')).toMatchObject({ ignored: expect.stringContaining('not a Fledge environment alarm of this installation') });
    expect(parseHealSignal(alarm('fledge-pr-7-unhealthy'), undefined, 'test')).toMatchObject({ ignored: expect.any(String) });
    expect(parseHealSignal(alarm('fledge-test-pr-7-unhealthy'))).toMatchObject({ ignored: expect.any(String) });
  });

  it('finds the service wherever ECS puts it: resources, detail.group, detail.serviceName', () => {
    expect(serviceNameOf(serviceAction('pr-1', 'SERVICE_TASK_START_IMPAIRED'))).toBe('pr-1');
    expect(serviceNameOf({ resources: ['arn:aws:ecs:eu-west-1:1:service/pr-2'] })).toBe('pr-2'); // the old ARN format
    expect(serviceNameOf(taskStopped('service:pr-3', {}))).toBe('pr-3');
    expect(serviceNameOf({ detail: { serviceName: 'pr-4' }, resources: ['arn:aws:ecs:eu-west-1:1:task/fledge/abc'] })).toBe('pr-4');
    expect(serviceNameOf({ detail: { group: 'family:fledge-td-abc' }, resources: [] })).toBeUndefined();
  });

  it('takes start impairment and failed deployments of the cluster', () => {
    expect(parseHealSignal(serviceAction('pr-1', 'SERVICE_TASK_START_IMPAIRED'), CLUSTER)).toMatchObject({ signal: { environment: 'pr-1', source: 'ecs', signal: 'SERVICE_TASK_START_IMPAIRED' } });
    expect(parseHealSignal(serviceAction('pr-1', 'SERVICE_DEPLOYMENT_FAILED', 'ECS Deployment State Change'), CLUSTER)).toMatchObject({ signal: { signal: 'SERVICE_DEPLOYMENT_FAILED' } });
    expect(parseHealSignal(serviceAction('pr-1', 'SERVICE_STEADY_STATE'), CLUSTER)).toMatchObject({ ignored: expect.any(String) });
    expect(parseHealSignal(serviceAction('pr-1', 'SERVICE_TASK_START_IMPAIRED'), 'arn:aws:ecs:eu-west-1:123456789012:cluster/other')).toMatchObject({ ignored: expect.stringContaining('another cluster') });
  });

  it('takes tasks that stopped with an error, not tasks stopped on purpose', () => {
    const exited = taskStopped('service:pr-1', { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ name: 'app', exitCode: 1 }] });
    expect(parseHealSignal(exited, CLUSTER)).toMatchObject({ signal: { environment: 'pr-1', signal: 'TASK_STOPPED', reason: 'Essential container in task exited (exit code 1)' } });
    const unhealthy = taskStopped('service:pr-1', { stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Task failed ELB health checks in (target-group arn:...)', containers: [{ exitCode: 137 }] });
    expect(parseHealSignal(unhealthy, CLUSTER)).toMatchObject({ signal: { reason: expect.stringContaining('health checks') } });
    const pull = taskStopped('service:pr-1', { stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: not found' });
    expect(parseHealSignal(pull, CLUSTER)).toMatchObject({ signal: { reason: 'CannotPullContainerError: not found' } });
    const scaledIn = taskStopped('service:pr-1', { stopCode: 'ServiceSchedulerInitiated', stoppedReason: 'Scaling activity initiated by (deployment ecs-svc/1)', containers: [{ exitCode: 137 }] });
    expect(parseHealSignal(scaledIn, CLUSTER)).toEqual({ ignored: 'a task state change that is not a failed stop' });
    expect(taskFailure({ lastStatus: 'STOPPED', stopCode: 'EssentialContainerExited', containers: [{ exitCode: 0 }] })).toBeUndefined();
    expect(taskFailure({ lastStatus: 'RUNNING', stopCode: 'TaskFailedToStart' })).toBeUndefined();
  });

  it('remembers event ids for a window', () => {
    const recent = new RecentEvents(1000);
    expect(recent.firstTime('a', 0)).toBe(true);
    expect(recent.firstTime('a', 500)).toBe(false);
    expect(recent.firstTime('b', 600)).toBe(true);
    expect(recent.firstTime('a', 1600)).toBe(true);
  });
});

describe('the heal trigger', () => {
  it('starts a heal: RUNNING -> HEALING with the signal in the event and the workflow input, by a deterministic name', async () => {
    stored(record({ name: 'trg-1' }));
    const result = await handler(alarm('fledge-test-trg-1-tasks'));
    expect(result).toEqual({ outcome: 'started', environment: 'trg-1' });

    const [write] = dynamodb.commandCalls(TransactWriteCommand);
    const [put, evt] = write!.args[0].input.TransactItems!;
    expect(put!.Put).toMatchObject({
      ConditionExpression: '#version = :expected', ExpressionAttributeValues: { ':expected': 4 },
      Item: { status: 'HEALING', gsiStatusPk: 'STATUS#HEALING', version: 5, healAttempts: [], operation: { type: 'heal', status: 'RUNNING', workflow: 'heal' } },
    });
    expect(evt!.Put!.Item).toMatchObject({ type: 'heal-triggered', actor: 'system', details: { trigger: { source: 'alarm', signal: 'fledge-test-trg-1-tasks' }, from: 'RUNNING' } });
    const [start] = starts();
    const operationId = (put!.Put!.Item as { operation: { id: string } }).operation.id;
    expect(start).toMatchObject({ stateMachineArn: HEAL_ARN, name: `trg-1--${operationId}` });
    expect(JSON.parse(start!.input!)).toMatchObject({ name: 'trg-1', operationId, specVersion: 1, actor: 'system', trigger: { source: 'alarm' } });
  });

  it("starts a heal from AWS's documented alarm event (test/fixtures/aws-events/cloudwatch-alarm-state-change.json, the installation-scoped names)", async () => {
    const event = JSON.parse(readFileSync(new URL('../../fixtures/aws-events/cloudwatch-alarm-state-change.json', import.meta.url), 'utf8')) as BusEvent;
    stored(record({ name: 'pr-42' }));
    expect(await handler(event)).toEqual({ outcome: 'started', environment: 'pr-42' });
    expect(starts()).toHaveLength(1);
    expect(JSON.parse(starts()[0]!.input!)).toMatchObject({ name: 'pr-42', trigger: { source: 'alarm', signal: 'fledge-test-pr-42-unhealthy' } });
  });

  it('starts one heal for an event delivered twice', async () => {
    stored(record({ name: 'trg-2' }));
    const event = alarm('fledge-test-trg-2-unhealthy');
    expect((await handler(event)).outcome).toBe('started');
    expect((await handler(event)).outcome).toBe('duplicate');
    expect(starts()).toHaveLength(1);
  });

  it('starts one heal for the same signal repeated within seconds (three tasks crashing at once)', async () => {
    stored(record({ name: 'trg-3' }));
    const crash = () => taskStopped('service:trg-3', { stopCode: 'EssentialContainerExited', containers: [{ exitCode: 1 }] });
    expect((await handler(crash())).outcome).toBe('started');
    expect((await handler(crash())).outcome).toBe('duplicate');
    expect(starts()).toHaveLength(1);
  });

  it.each([
    ['HEALING', 'the environment is HEALING'],
    ['UPDATING', 'the environment is UPDATING'],
    ['DELETING', 'the environment is DELETING'],
    ['DEGRADED', 'the environment is DEGRADED: alarms start no heal until an update, a manual heal or a scale'],
  ] as const)('does not start one for a %s environment', async (status, reason) => {
    const name = `trg-${status.toLowerCase()}`;
    stored(record({ name, status }));
    expect(await handler(alarm(`fledge-test-${name}-tasks`))).toEqual({ outcome: 'skipped', environment: name, reason });
    expect(starts()).toEqual([]);
    expect(dynamodb.commandCalls(TransactWriteCommand)).toEqual([]);
  });

  it('an ECS failure within the backoff after the last heal starts none; an alarm starts one that waits it out; the attempts are kept', async () => {
    const heal = { id: 'op-3-aaaa', type: 'heal' as const, status: 'SUCCEEDED' as const, startedAt: new Date(Date.now() - 60_000).toISOString() };
    stored(record({ name: 'trg-soon', operation: heal, healAttempts: [new Date(Date.now() - 10_000).toISOString()] }));
    expect(await handler(serviceAction('trg-soon', 'SERVICE_TASK_START_IMPAIRED'))).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^within the backoff after the last heal \(\d+ s left\)$/) });
    // an alarm fires once and stays in ALARM: dropping it would leave the environment broken for good
    expect((await handler(alarm('fledge-test-trg-soon-tasks'))).outcome).toBe('started');
    dynamodb.resetHistory();
    const earlier = new Date(Date.now() - 40_000).toISOString();
    stored(record({ name: 'trg-later', operation: heal, healAttempts: [earlier] }));
    expect((await handler(alarm('fledge-test-trg-later-tasks'))).outcome).toBe('started');
    const [put] = dynamodb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(put!.Put!.Item).toMatchObject({ healAttempts: [earlier] });
  });

  it('ignores signals of environments it does not know, and a lost race with another write', async () => {
    expect(await handler(alarm('fledge-test-nobody-tasks'))).toEqual({ outcome: 'skipped', environment: 'nobody', reason: 'no such environment' });
    stored(record({ name: 'trg-race' }));
    dynamodb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] }),
    );
    expect(await handler(alarm('fledge-test-trg-race-tasks'))).toEqual({ outcome: 'skipped', environment: 'trg-race', reason: 'another write changed the environment first' });
    expect(starts()).toEqual([]);
  });
});
