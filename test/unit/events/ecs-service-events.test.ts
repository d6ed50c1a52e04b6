/**
 * The ECS service event handler (functions/events/ecs-service-events.ts): AWS's documented
 * events complete, fail or leave alone the workflow step waiting for steady state.
 */
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as ecsServiceEventsHandler } from '../../../functions/events/ecs-service-events.ts';
import { invoked } from '../../support/lambda-context.ts';
import { item, SERVICE, TD1, TD2, useTaskEnvironment } from '../../support/task-fixtures.ts';
const ecsServiceEvents = invoked(ecsServiceEventsHandler);

const ddb = mockClient(DynamoDBDocumentClient);
const ecs = mockClient(ECSClient);
const sfn = mockClient(SFNClient);

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'aws-events');

useTaskEnvironment();
beforeEach(() => {
  ddb.reset();
  ecs.reset();
  sfn.reset();
  ddb.on(GetCommand).resolves({});
  // no service of that name (DescribeServices answers MISSING rather than throwing)
  ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: SERVICE, reason: 'MISSING' }] });
});

describe('ECS service events', () => {
  // AWS's documented examples (test/fixtures/aws-events), pointed at this environment
  const fixture = (file: string) => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const FILES: Record<string, string> = {
    SERVICE_DEPLOYMENT_COMPLETED: 'ecs-deployment-completed.json',
    SERVICE_DEPLOYMENT_FAILED: 'ecs-deployment-failed.json',
    SERVICE_STEADY_STATE: 'ecs-service-steady-state.json',
    SERVICE_TASK_START_IMPAIRED: 'ecs-service-task-start-impaired.json',
  };
  const event = (eventName: string, _detailType?: string, at = '2026-01-01T00:00:10.000Z') => {
    const e = fixture(FILES[eventName]!);
    e.resources = [SERVICE];
    e.time = at.replace(/\.\d+Z$/, 'Z');
    for (const key of ['updatedAt', 'createdAt']) if (key in e.detail) e.detail[key] = at;
    if ('reason' in e.detail) e.detail.reason = 'tasks failed to start';
    return e as Parameters<typeof ecsServiceEvents>[0];
  };

  it('the documented deployment event carries no clusterArn: the service ARN in resources names the environment', () => {
    const e = fixture('ecs-deployment-failed.json');
    expect(e.detail.clusterArn).toBeUndefined();
    expect(e.resources[0]).toMatch(/:service\/[^/]+\/[^/]+$/);
  });

  it('ignores a failure from before the wait began (a late or redelivered event of an earlier deployment)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    ddb.on(GetCommand).resolves({ Item: item({ waitToken: 'tok', waitPhase: 'update', waitTaskDefinitionArn: TD2, waitStartedAt: '2026-01-01T00:05:00.000Z' }) });
    const outcome = ecsServiceEvents(event('SERVICE_DEPLOYMENT_FAILED', undefined, '2026-01-01T00:01:00.000Z'));
    await vi.runAllTimersAsync();
    expect(await outcome).toEqual({ outcomes: ['not-steady'] });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('completes the waiting step when our deployment completed, and clears the token', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ waitToken: 'tok', waitPhase: 'update', waitTaskDefinitionArn: TD2 }) });
    ddb.on(UpdateCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'pr-1', serviceArn: SERVICE, status: 'ACTIVE', desiredCount: 1, runningCount: 1, deployments: [{ status: 'PRIMARY', taskDefinition: TD2, rolloutState: 'COMPLETED', runningCount: 1 }] }],
    });
    sfn.on(SendTaskSuccessCommand).resolves({});
    expect(await ecsServiceEvents(event('SERVICE_DEPLOYMENT_COMPLETED'))).toEqual({ outcomes: ['succeeded'] });
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input.Key).toEqual({ pk: 'ENV#pr-1', sk: 'ENV' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.taskToken).toBe('tok');
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({ ConditionExpression: 'waitToken = :token', ExpressionAttributeValues: { ':token': 'tok' } });
  });

  it('ignores a steady state of an earlier revision', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ waitToken: 'tok', waitPhase: 'update', waitTaskDefinitionArn: TD2 }) });
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'pr-1', serviceArn: SERVICE, status: 'ACTIVE', desiredCount: 1, runningCount: 1, deployments: [{ status: 'PRIMARY', taskDefinition: TD1, rolloutState: 'COMPLETED', runningCount: 1 }] }],
    });
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const outcome = ecsServiceEvents(event('SERVICE_STEADY_STATE', 'ECS Service Action'));
    await vi.runAllTimersAsync();
    expect(await outcome).toEqual({ outcomes: ['not-steady'] });
    // a lagging read gets three looks before the waiting step's own poll is left to finish
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(3);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('reports a failed update deployment as DeploymentRolledBack and a failed create as DeploymentFailed', async () => {
    ddb.on(UpdateCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    ddb.on(GetCommand).resolvesOnce({ Item: item({ waitToken: 'tok', waitPhase: 'update' }) }).resolvesOnce({ Item: item({ waitToken: 'tok2', waitPhase: 'create' }) });
    await ecsServiceEvents(event('SERVICE_DEPLOYMENT_FAILED'));
    await ecsServiceEvents(event('SERVICE_DEPLOYMENT_FAILED'));
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tok', error: 'DeploymentRolledBack', cause: 'tasks failed to start' },
      { taskToken: 'tok2', error: 'DeploymentFailed', cause: 'tasks failed to start' },
    ]);
  });

  it('a duplicate event is harmless: a closed token is already done, no token means nobody waits', async () => {
    ddb.on(UpdateCommand).resolves({});
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    ddb.on(GetCommand).resolvesOnce({ Item: item({ waitToken: 'tok', waitPhase: 'update' }) }).resolvesOnce({ Item: item() });
    expect(await ecsServiceEvents(event('SERVICE_DEPLOYMENT_FAILED'))).toEqual({ outcomes: ['already-done'] });
    expect(await ecsServiceEvents(event('SERVICE_DEPLOYMENT_FAILED'))).toEqual({ outcomes: ['no-waiter'] });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('fails a create fast when ECS cannot start its tasks, but lets the circuit breaker decide for an update', async () => {
    ddb.on(UpdateCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    ddb.on(GetCommand).resolvesOnce({ Item: item({ waitToken: 'tok', waitPhase: 'create' }) }).resolvesOnce({ Item: item({ waitToken: 'tok', waitPhase: 'update' }) });
    expect(await ecsServiceEvents(event('SERVICE_TASK_START_IMPAIRED', 'ECS Service Action'))).toEqual({ outcomes: ['failed'] });
    expect(await ecsServiceEvents(event('SERVICE_TASK_START_IMPAIRED', 'ECS Service Action'))).toEqual({ outcomes: ['ignored'] });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(1);
  });
});
