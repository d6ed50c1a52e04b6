import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { targetGroupName } from '../../../functions/domain/resource-names.ts';
import type { WorkflowState } from '../../../functions/domain/workflow-state.ts';
import { handler as awaitSteadyStateHandler } from '../../../functions/tasks/await-steady-state.ts';
import { handler as completeOperationHandler } from '../../../functions/tasks/complete-operation.ts';
import { handler as discoverResourcesHandler } from '../../../functions/tasks/discover-resources.ts';
import { handler as failOperationHandler } from '../../../functions/tasks/fail-operation.ts';
import { handler as finishTeardownHandler } from '../../../functions/tasks/finish-teardown.ts';
import { handler as planResourcesHandler } from '../../../functions/tasks/plan-resources.ts';
import { invoked } from '../../support/lambda-context.ts';
import { CLUSTER, FAMILY, item, LISTENER, SERVICE, spec, TD1, TD2, useTaskEnvironment } from '../../support/task-fixtures.ts';
const awaitSteadyState = invoked(awaitSteadyStateHandler);
const completeOperation = invoked(completeOperationHandler);
const discoverResources = invoked(discoverResourcesHandler);
const failOperation = invoked(failOperationHandler);
const finishTeardown = invoked(finishTeardownHandler);
const planResources = invoked(planResourcesHandler);

const ddb = mockClient(DynamoDBDocumentClient);
const ecs = mockClient(ECSClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const sfn = mockClient(SFNClient);
const cloudwatch = mockClient(CloudWatchClient);

const TG = `arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/${targetGroupName('test', 'pr-1')}/123`;
/** a target group an earlier version named exactly after the environment */
const LEGACY_TG = 'arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/pr-1/456';
const WAKER_TG = 'arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/Fledge-Waker/789';
const OUR_LB = 'arn:aws:elasticloadbalancing:eu-west-1:000000000000:loadbalancer/app/fledge/abc';
/** the slot counter of the pool's first load balancer (functions/adapters/shard-slots.ts) */
const SHARD_S1 = { pk: 'SHARD#s1', sk: 'SHARD' };
const tgNotFound = () => Object.assign(new Error('One or more target groups not found'), { name: 'TargetGroupNotFoundException' });

const state = (overrides: Partial<WorkflowState> = {}): WorkflowState => ({
  name: 'pr-1', operationId: 'op-1', specVersion: 2, spec: spec('ghcr.io/acme/web:2.0'), actor: 'ci', ...overrides,
});

useTaskEnvironment();
beforeEach(() => {
  ddb.reset();
  ecs.reset();
  elb.reset();
  sfn.reset();
  cloudwatch.reset();
  ddb.on(BatchWriteCommand).resolves({});
  ddb.on(GetCommand).resolves({});
  // no service of that name (DescribeServices answers MISSING rather than throwing)
  ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: SERVICE, reason: 'MISSING' }] });
});

const notRegistered = () => Object.assign(new Error('Unable to describe task definition.'), { name: 'ClientException' });

describe('PlanResources', () => {
  // a create's slot on the pool's one load balancer (test/workflow/shard-slots.test.ts runs the claim against DynamoDB Local)
  beforeEach(() => {
    ddb.on(BatchGetCommand).resolves({ Responses: { fledge: [{ pk: 'SHARD#s1', sk: 'SHARD', shard: 's1', used: 4 }] } });
    ddb.on(TransactWriteCommand).resolves({});
  });

  it('takes the first free listener priority with a conditional put and records it on the environment', async () => {
    ecs.on(DescribeTaskDefinitionCommand).rejects(notRegistered());
    ddb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item({ listenerPriority: undefined }) });
    ddb.on(PutCommand).rejectsOnce(Object.assign(new Error('taken'), { name: 'ConditionalCheckFailedException' })).resolves({});
    ddb.on(UpdateCommand).resolves({});

    const out = await planResources({ workflow: 'create', state: state() });

    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts[0]).toMatchObject({ ConditionExpression: 'attribute_not_exists(pk) OR #name = :name', Item: { name: 'pr-1', kind: 'PRIORITY' } });
    const first = puts[0]!.Item!.priority as number;
    expect(puts[1]!.Item!.priority).toBe(first + 1);
    expect(out.listenerPriority).toBe(first + 1);
    // placed on the one shard (FLEDGE_SHARDS unset: s1 from FLEDGE_LISTENER_ARN), in the state for CreateRule
    expect(out.shard).toMatchObject({ id: 's1', listenerArn: LISTENER });
    expect(ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Update).toMatchObject({
      Key: { pk: 'SHARD#s1', sk: 'SHARD' }, ConditionExpression: 'attribute_not_exists(#used) OR #used < :max', ExpressionAttributeValues: expect.objectContaining({ ':max': 99 }),
    });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      UpdateExpression: 'SET listenerPriority = :p', ConditionExpression: '#op.#id = :op', ExpressionAttributeValues: { ':p': first + 1, ':op': 'op-1' },
    });
    expect(out.plan!.taskDefinition.ContainerDefinitions[0]!.Image).toBe('ghcr.io/acme/web:2.0');
    expect(out.phase).toBe('create');
    // no revision of the content-addressed family yet: the create registers one
    expect(out.plan!.taskDefinition.Family).toBe(`fledge-td-${out.plan!.taskDefinitionHash}`);
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0]!.args[0].input).toEqual({ taskDefinition: out.plan!.taskDefinition.Family });
    expect(out.taskDefinition).toBeUndefined();
  });

  /** PlanResources of a create whose slot claim DynamoDB cancels for `reasons` (the shard counter's, the environment's). */
  const planWithClaimCancelled = (...reasons: string[]) => {
    ecs.on(DescribeTaskDefinitionCommand).rejects(notRegistered());
    ddb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item({ listenerPriority: undefined }) });
    ddb.on(PutCommand).resolves({});
    ddb.on(UpdateCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(new TransactionCanceledException({
      message: 'cancelled', $metadata: {}, CancellationReasons: reasons.map((Code) => ({ Code })),
    }));
    return planResources({ workflow: 'create', state: state() });
  };

  it('a slot claim DynamoDB cancelled for throttling fails as ThrottlingException, the name the step\'s throttling Retry catches', async () => {
    await expect(planWithClaimCancelled('ThrottlingError', 'None')).rejects.toMatchObject({ name: 'ThrottlingException', cause: { name: 'TransactionCanceledException' } });
    // not retried in the Lambda as a conflict would be: the step's Retry waits for the bucket
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('a slot claim cancelled for a condition and a throttled item is still decided by its condition, not thrown as throttling', async () => {
    // the environment's condition failed: the claim reads the environment again and finds no slot of its own
    await expect(planWithClaimCancelled('ThrottlingError', 'ConditionalCheckFailed')).rejects.toThrow(/op-1 of "pr-1" is no longer current/);
  });

  it('uses the ACTIVE revision of the family when another environment registered the same definition', async () => {
    ddb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item() });
    ddb.on(GetCommand, { Key: { pk: 'PRIORITY#1234', sk: 'PRIORITY' } }).resolves({ Item: { name: 'pr-1' } });
    ddb.on(PutCommand).resolves({});
    ecs.on(DescribeTaskDefinitionCommand).callsFake(({ taskDefinition }: { taskDefinition: string }) => ({
      taskDefinition: {
        taskDefinitionArn: `arn:aws:ecs:eu-west-1:000000000000:task-definition/${taskDefinition}:3`, family: taskDefinition, status: 'ACTIVE',
        containerDefinitions: [{ name: 'app', image: 'ghcr.io/acme/web:2.0' }],
      },
    }));
    const out = await planResources({ workflow: 'create', state: state({ taskDefinition: { arn: 'stale' } }) });
    expect(out.taskDefinition).toEqual({ arn: `arn:aws:ecs:eu-west-1:000000000000:task-definition/${out.plan!.taskDefinition.Family}:3` });
    // the pick is recorded before the lookup: the cleanup keeps the family through its grace
    const use = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input).find((i) => String(i.Key?.pk).startsWith('TDUSE#'));
    expect(use).toMatchObject({ Key: { pk: `TDUSE#${out.plan!.taskDefinition.Family}`, sk: 'TDUSE' }, ConditionExpression: 'attribute_not_exists(lastUsedAt) OR lastUsedAt < :at' });
    expect(use!.ExpressionAttributeValues![':family']).toBe(out.plan!.taskDefinition.Family);
  });

  it('registers anew when the lookup is throttled, or the revision found runs another image', async () => {
    ddb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item() });
    ddb.on(GetCommand, { Key: { pk: 'PRIORITY#1234', sk: 'PRIORITY' } }).resolves({ Item: { name: 'pr-1' } });
    ddb.on(PutCommand).resolves({});
    ecs.on(DescribeTaskDefinitionCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({
      taskDefinition: { taskDefinitionArn: TD1, family: FAMILY, status: 'ACTIVE', containerDefinitions: [{ name: 'app', image: 'somebody/else:1' }] },
    });
    expect((await planResources({ workflow: 'create', state: state() })).taskDefinition).toBeUndefined();
    expect((await planResources({ workflow: 'create', state: state() })).taskDefinition).toBeUndefined();
    // any other error of the lookup fails the step (its Retry and Catch decide)
    ecs.on(DescribeTaskDefinitionCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    await expect(planResources({ workflow: 'create', state: state() })).rejects.toThrow('no');
  });

  it('reuses the priority the environment already holds', async () => {
    ecs.on(DescribeTaskDefinitionCommand).rejects(notRegistered());
    ddb.on(GetCommand, { Key: { pk: 'ENV#pr-1', sk: 'ENV' } }).resolves({ Item: item() });
    ddb.on(GetCommand, { Key: { pk: 'PRIORITY#1234', sk: 'PRIORITY' } }).resolves({ Item: { name: 'pr-1' } });
    ddb.on(PutCommand).resolves({});
    const out = await planResources({ workflow: 'create', state: state() });
    expect(out.listenerPriority).toBe(1234);
    // no priority written: the one update is the record of the family's use
    expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key?.pk)).toEqual([`TDUSE#${out.plan!.taskDefinition.Family}`]);
  });

  it('for an update, finds the target group (named for this installation) and takes no priority', async () => {
    elb.on(DescribeTargetGroupsCommand, { Names: [targetGroupName('test', 'pr-1')] }).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    const out = await planResources({ workflow: 'update', state: state() });
    expect(out.targetGroup).toEqual({ arn: TG });
    expect(out.phase).toBe('update');
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(0);
  });
});

describe('PlanResources of an environment made by an earlier version', () => {
  beforeEach(() => elb.on(DescribeTargetGroupsCommand, { Names: [targetGroupName('test', 'pr-1')] }).rejects(tgNotFound()));

  it('finds its target group by the environment\'s own name when it is attached to this installation\'s load balancer', async () => {
    elb.on(DescribeTargetGroupsCommand, { Names: ['pr-1'] }).resolves({ TargetGroups: [{ TargetGroupArn: LEGACY_TG, LoadBalancerArns: [OUR_LB] }] });
    elb.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: LEGACY_TG, Tags: [{ Key: 'fledge:environment', Value: 'pr-1' }] }] });
    const out = await planResources({ workflow: 'update', state: state() });
    expect(out.targetGroup).toEqual({ arn: LEGACY_TG });
  });

  it('not when the target group of that name is tagged for another environment (a name chosen to take over its traffic)', async () => {
    elb.on(DescribeTargetGroupsCommand, { Names: ['pr-1'] }).resolves({ TargetGroups: [{ TargetGroupArn: LEGACY_TG, LoadBalancerArns: [OUR_LB] }] });
    elb.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: LEGACY_TG, Tags: [{ Key: 'fledge:environment', Value: 'victim' }] }] });
    await expect(planResources({ workflow: 'update', state: state() })).rejects.toMatchObject({ name: 'TargetGroupNotFound' });
  });

  it('not when that name belongs to a target group of another load balancer (another installation)', async () => {
    elb.on(DescribeTargetGroupsCommand, { Names: ['pr-1'] }).resolves({
      TargetGroups: [{ TargetGroupArn: LEGACY_TG, LoadBalancerArns: ['arn:aws:elasticloadbalancing:eu-west-1:000000000000:loadbalancer/app/other/xyz'] }],
    });
    await expect(planResources({ workflow: 'update', state: state() })).rejects.toMatchObject({ name: 'TargetGroupNotFound' });
  });
});

describe('AwaitSteadyState', () => {
  it('stores the task token on the environment, then waits while the deployment runs', async () => {
    ddb.on(UpdateCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'pr-1', serviceArn: SERVICE, status: 'ACTIVE', desiredCount: 1, runningCount: 0, deployments: [{ status: 'PRIMARY', taskDefinition: TD2, rolloutState: 'IN_PROGRESS' }] }],
    });
    const out = await awaitSteadyState({ taskToken: 'tok', name: 'pr-1', operationId: 'op-1', phase: 'update', taskDefinitionArn: TD2 });
    expect(out).toEqual({ waiting: true, outcome: 'waiting' });
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      UpdateExpression: 'SET waitToken = :token, waitPhase = :phase, waitKey = :key, waitStartedAt = :startedAt, waitTaskDefinitionArn = :td REMOVE waitDesiredCount, waitDeploymentId',
      ConditionExpression: '#op.#id = :op AND #op.#status = :running',
      ExpressionAttributeValues: { ':token': 'tok', ':phase': 'update', ':td': TD2, ':op': 'op-1', ':running': 'RUNNING', ':key': `op-1|update|${TD2}||` },
    });
    expect(ecs.commandCalls(DescribeServicesCommand)[0]!.args[0].input).toEqual({ cluster: CLUSTER, services: ['pr-1'] });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('answers at once when the service is already steady on the awaited revision', async () => {
    ddb.on(UpdateCommand).resolves({});
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'pr-1', serviceArn: SERVICE, status: 'ACTIVE', desiredCount: 1, runningCount: 1, deployments: [{ status: 'PRIMARY', taskDefinition: TD2, rolloutState: 'COMPLETED', runningCount: 1 }] }],
    });
    sfn.on(SendTaskSuccessCommand).resolves({});
    expect(await awaitSteadyState({ taskToken: 'tok', name: 'pr-1', operationId: 'op-1', phase: 'update', taskDefinitionArn: TD2 })).toEqual({ waiting: false, outcome: 'steady' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: 'tok', output: JSON.stringify({ runningCount: 1, desiredCount: 1, taskDefinitionArn: TD2 }),
    });
    expect(ddb.commandCalls(UpdateCommand)[1]!.args[0].input).toMatchObject({ UpdateExpression: 'REMOVE waitToken', ConditionExpression: 'waitToken = :token' });
  });

  it('polls: a rollback the event never reported ends the wait as DeploymentRolledBack', async () => {
    ddb.on(UpdateCommand).resolves({});
    ddb.on(GetCommand).resolves({ Item: item({ waitKey: `op-1|update|${TD2}||`, waitStartedAt: '2026-01-01T00:00:00.000Z' }) });
    ecs.on(DescribeServicesCommand).resolves({
      services: [{
        serviceName: 'pr-1', serviceArn: SERVICE, status: 'ACTIVE', desiredCount: 1, runningCount: 1, taskDefinition: TD1,
        deployments: [{ status: 'PRIMARY', taskDefinition: TD1, rolloutState: 'COMPLETED', runningCount: 1, createdAt: new Date('2026-01-01T00:02:00Z') }],
      }],
    });
    sfn.on(SendTaskFailureCommand).resolves({});
    expect(await awaitSteadyState({ taskToken: 'tok', name: 'pr-1', operationId: 'op-1', phase: 'update', taskDefinitionArn: TD2 })).toEqual({ waiting: false, outcome: 'failed' });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toMatchObject({ taskToken: 'tok', error: 'DeploymentRolledBack' });
    // the same wait polling again keeps when it began
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':startedAt': '2026-01-01T00:00:00.000Z' });
  });

  it('polls: a service DescribeServices does not show yet (just created) is waited for, not failed', async () => {
    ddb.on(UpdateCommand).resolves({});
    expect(await awaitSteadyState({ taskToken: 'tok', name: 'pr-1', operationId: 'op-1', phase: 'create', taskDefinitionArn: TD2 })).toEqual({ waiting: true, outcome: 'waiting' });
    expect(sfn.calls()).toHaveLength(0);
  });

  it('fails the step when the operation was superseded', async () => {
    ddb.on(UpdateCommand).rejects(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }));
    sfn.on(SendTaskFailureCommand).resolves({});
    await awaitSteadyState({ taskToken: 'tok', name: 'pr-1', operationId: 'op-1', phase: 'create' });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toMatchObject({ taskToken: 'tok', error: 'OperationSuperseded' });
  });
});

describe('CompleteOperation', () => {
  it('records RUNNING with the url, the healthy image first in the history, conditioned on the operation and spec version', async () => {
    ddb.on(GetCommand).resolves({ Item: item() });
    ddb.on(TransactWriteCommand).resolves({});
    const out = await completeOperation({ workflow: 'update', state: state({ steadyState: { runningCount: 1 } }) });
    expect(out).toMatchObject({ converge: false, outcome: 'succeeded' });
    const [update, ...events] = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    const u = update!.Update!;
    expect(u.ConditionExpression).toBe('#op.#opid = :op AND #op.#opstatus = :running AND #specVersion = :sv');
    expect(u.ExpressionAttributeValues).toMatchObject({ ':op': 'op-1', ':running': 'RUNNING', ':sv': 2 });
    const values = Object.values(u.ExpressionAttributeValues!);
    expect(values).toContain('RUNNING');
    expect(values).toContain('STATUS#RUNNING');
    expect(values).toContain('https://pr-1.preview.example.com');
    expect(values).toContainEqual(['ghcr.io/acme/web:2.0', 'ghcr.io/acme/web:1.0']);
    expect(u.UpdateExpression).toMatch(/^SET #version = #version \+ :one, /);
    expect(u.UpdateExpression).toMatch(/REMOVE #r\d+(, #r\d+){6}$/);
    expect(events.map((e) => e.Put!.Item!.type)).toEqual(['updated']);
  });

  it('hands back the newest desired spec when it moved, recording the skipped versions', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ specVersion: 5, spec: spec('ghcr.io/acme/web:5.0') }) });
    ddb.on(TransactWriteCommand).resolves({});
    const out = await completeOperation({ workflow: 'create', state: state({ steadyState: { runningCount: 1 } }) });
    expect(out).toMatchObject({ converge: true, specVersion: 5, phase: 'update', spec: { image: 'ghcr.io/acme/web:5.0' } });
    expect(out.plan!.taskDefinition.ContainerDefinitions[0]!.Image).toBe('ghcr.io/acme/web:5.0');
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[0]!.Update!.ConditionExpression).toBe('#op.#opid = :op AND #op.#opstatus = :running');
    expect(items.slice(1).map((e) => [e.Put!.Item!.type, e.Put!.Item!.details])).toEqual([
      ['steady', { specVersion: 2 }],
      ['spec-skipped', { specVersion: 3 }],
      ['spec-skipped', { specVersion: 4 }],
      ['converging', { from: 2, to: 5 }],
    ]);
  });

  it('does nothing for an operation that is no longer current', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ operation: { id: 'op-9', status: 'RUNNING' } }) });
    expect(await completeOperation({ workflow: 'update', state: state() })).toMatchObject({ outcome: 'superseded', converge: false });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});

describe('FailOperation', () => {
  it('classifies from the stopped tasks of the new revision, gives back a create\'s priority and records FAILED', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ status: 'CREATING', operation: { id: 'op-1', type: 'create', status: 'RUNNING' } }) });
    ddb.on(TransactWriteCommand).resolves({});
    ecs.on(ListTasksCommand).resolves({ taskArns: ['t1', 't2'] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 't1', taskDefinitionArn: TD2, stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: manifest unknown' },
        { taskArn: 't2', taskDefinitionArn: TD1, stoppedReason: 'Essential container in task exited', containers: [{ exitCode: 1 }] },
      ],
    });
    ddb.on(GetCommand, { Key: SHARD_S1 }).resolves({ Item: { ...SHARD_S1, shard: 's1', used: 5 } });
    const out = await failOperation({
      workflow: 'create',
      state: state({ taskDefinition: { arn: TD2 }, targetGroup: { arn: TG }, error: { Error: 'DeploymentFailed', Cause: 'circuit breaker' } }),
    });
    expect(out).toMatchObject({ outcome: 'failed', converge: false, failure: { code: 'IMAGE_PULL_FAILED' } });
    // the tasks of the environment's own service (families are shared)
    expect(ecs.commandCalls(ListTasksCommand)[0]!.args[0].input).toEqual({ cluster: CLUSTER, serviceName: 'pr-1', desiredStatus: 'STOPPED', maxResults: 100 });
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items[1]!.Delete).toMatchObject({ Key: { pk: 'PRIORITY#1234', sk: 'PRIORITY' }, ConditionExpression: 'attribute_not_exists(pk) OR #name = :name' });
    // and the slot on its load balancer (a record placed before the pool: s1)
    expect(items[2]!.Update).toMatchObject({ Key: SHARD_S1, UpdateExpression: 'SET #used = #used - :one', ConditionExpression: '#used > :zero' });
    // compensation removed the target group and kept the shared task definition
    expect(items[3]!.Put!.Item).toMatchObject({ type: 'failed', details: { error: { code: 'IMAGE_PULL_FAILED' }, removed: [TG], leftOver: [], kept: [TD2] } });
    expect(Object.values(items[0]!.Update!.ExpressionAttributeValues!)).toContain('STATUS#FAILED');
  });

  it('finds the stopped tasks of a deleted service through the shared family, keeping only its own', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ status: 'CREATING', operation: { id: 'op-1', type: 'create', status: 'RUNNING' } }) });
    ddb.on(TransactWriteCommand).resolves({});
    ecs.on(ListTasksCommand, { serviceName: 'pr-1' }).rejects(Object.assign(new Error('Service not found.'), { name: 'ServiceNotFoundException' }));
    ecs.on(ListTasksCommand, { family: FAMILY }).resolves({ taskArns: ['mine', 'theirs'] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 'theirs', group: 'service:pr-2', taskDefinitionArn: TD2, stopCode: 'TaskFailedToStart', stoppedReason: 'CannotPullContainerError: manifest unknown' },
        { taskArn: 'mine', group: 'service:pr-1', taskDefinitionArn: TD2, stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited', containers: [{ exitCode: 1 }] },
      ],
    });
    const out = await failOperation({ workflow: 'create', state: state({ taskDefinition: { arn: TD2 }, error: { Error: 'DeploymentFailed', Cause: 'circuit breaker' } }) });
    expect(out).toMatchObject({ outcome: 'failed', failure: { code: 'TASK_EXITED' } });
    expect(ecs.commandCalls(ListTasksCommand)[1]!.args[0].input).toEqual({ cluster: CLUSTER, family: FAMILY, desiredStatus: 'STOPPED', maxResults: 100 });
  });

  it('a failed teardown stays DELETING', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ status: 'DELETING', operation: { id: 'op-1', type: 'teardown', status: 'RUNNING' } }) });
    ddb.on(TransactWriteCommand).resolves({});
    await failOperation({ workflow: 'teardown', state: state({ error: { Error: 'ElasticLoadBalancingV2.OperationNotPermittedException', Cause: 'no' } }) });
    expect(ecs.calls()).toHaveLength(0);
    const update = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems![0]!.Update!;
    expect(Object.values(update.ExpressionAttributeValues!)).toContain('STATUS#DELETING');
  });
});

describe('DiscoverResources and FinishTeardown', () => {
  it('finds the service, the tagged target group, its rules and alarms, and the shared task definitions it ran (to keep)', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ serviceName: 'pr-1', serviceArn: SERVICE, status: 'ACTIVE', taskDefinition: TD2, deployments: [{ taskDefinition: TD2 }, { taskDefinition: TD1 }] }],
    });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'fledge-test-pr-1-tasks', AlarmArn: 'alarm-1' }] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elb.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: TG, Tags: [{ Key: 'fledge:environment', Value: 'pr-1' }] }] });
    elb.on(DescribeRulesCommand).resolves({
      Rules: [
        { RuleArn: 'rule-1', Actions: [{ Type: 'forward', TargetGroupArn: TG }] },
        { RuleArn: 'rule-2', Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['pr-1.preview.example.com'] } }], Actions: [] },
        { RuleArn: 'rule-other', Actions: [{ Type: 'forward', TargetGroupArn: 'other' }] },
        { RuleArn: 'default', IsDefault: true, Actions: [{ Type: 'forward', TargetGroupArn: TG }] },
      ],
    });
    const out = await discoverResources({ workflow: 'teardown', state: state() });
    expect(out.resources).toEqual({
      serviceArn: SERVICE, serviceStatus: 'ACTIVE', targetGroupArns: [TG], ruleArns: ['rule-1', 'rule-2'],
      sharedTaskDefinitionArns: [TD2, TD1], alarmArns: ['alarm-1'],
      alarmNames: ['fledge-test-pr-1-tasks', 'fledge-test-pr-1-unhealthy', 'fledge-test-pr-1-5xx'],
    });
    expect(elb.commandCalls(DescribeTargetGroupsCommand)[0]!.args[0].input).toEqual({ Names: [targetGroupName('test', 'pr-1')] });
    // a teardown lists no task definition family: families are shared
    expect(ecs.calls().map((c) => c.args[0].constructor.name)).toEqual(['DescribeServicesCommand']);
    expect(elb.commandCalls(DescribeRulesCommand)[0]!.args[0].input).toMatchObject({ ListenerArn: LISTENER });
  });

  it('tears down an environment of an earlier version: its target group through the rule of its host, its legacy alarms when they are ours', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [] });
    // not found by this installation's name, nor by the legacy name (say, eventually consistent): the rule finds it
    elb.on(DescribeTargetGroupsCommand).rejects(tgNotFound());
    elb.on(DescribeRulesCommand).resolves({
      Rules: [
        // asleep: the rule forwards to the waker (weight 1) and to the environment's target group (weight 0)
        {
          RuleArn: 'rule-1',
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['pr-1.preview.example.com'] } }],
          Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: WAKER_TG, Weight: 1 }, { TargetGroupArn: LEGACY_TG, Weight: 0 }] } }],
        },
        { RuleArn: 'rule-other', Actions: [{ Type: 'forward', TargetGroupArn: 'other' }] },
      ],
    });
    elb.on(DescribeTagsCommand).resolves({
      TagDescriptions: [
        { ResourceArn: WAKER_TG, Tags: [{ Key: 'fledge:component', Value: 'control-plane' }] },
        { ResourceArn: LEGACY_TG, Tags: [{ Key: 'fledge:environment', Value: 'pr-1' }] },
      ],
    });
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: 'fledge-pr-1-tasks', AlarmArn: 'legacy-tasks', Dimensions: [{ Name: 'ClusterName', Value: 'fledge' }, { Name: 'ServiceName', Value: 'pr-1' }] },
        { AlarmName: 'fledge-pr-1-5xx', AlarmArn: 'legacy-5xx', Metrics: [{ Id: 'errors', MetricStat: { Metric: { Dimensions: [{ Name: 'LoadBalancer', Value: 'app/fledge/abc' }] }, Period: 60, Stat: 'Sum' } }] },
        // another (earlier-version) installation's alarm of the same name: its load balancer is not ours
        { AlarmName: 'fledge-pr-1-unhealthy', AlarmArn: 'theirs', Dimensions: [{ Name: 'LoadBalancer', Value: 'app/other/xyz' }] },
      ],
    });
    const out = await discoverResources({ workflow: 'teardown', state: state() });
    expect(out.resources).toMatchObject({
      targetGroupArns: [LEGACY_TG], ruleArns: ['rule-1'], alarmArns: ['legacy-tasks', 'legacy-5xx'],
      alarmNames: ['fledge-test-pr-1-tasks', 'fledge-test-pr-1-unhealthy', 'fledge-test-pr-1-5xx', 'fledge-pr-1-tasks', 'fledge-pr-1-5xx'],
    });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input.AlarmNames).toEqual([
      'fledge-test-pr-1-tasks', 'fledge-test-pr-1-unhealthy', 'fledge-test-pr-1-5xx', 'fledge-pr-1-tasks', 'fledge-pr-1-unhealthy', 'fledge-pr-1-5xx',
    ]);
  });

  it('marks the environment DELETED with a purge date, frees the priority, uncounts it and leaves a receipt that names the shared task definition it kept', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ status: 'DELETING', operation: { id: 'op-1', type: 'teardown', status: 'RUNNING' } }) });
    ddb.on(GetCommand, { Key: { pk: 'COUNTER#live', sk: 'COUNTER' } }).resolves({ Item: { pk: 'COUNTER#live', sk: 'COUNTER', total: 3, 'repo#acme/web': 2 } });
    ddb.on(TransactWriteCommand).resolves({});
    const history = [{ pk: 'ENV#pr-1', sk: 'EVT#2026-11-01T10:00:00.000Z#0000', type: 'create-requested' }];
    ddb.on(QueryCommand).resolves({ Items: history });
    const resources = { serviceArn: SERVICE, serviceStatus: 'ACTIVE', targetGroupArns: [TG], ruleArns: ['rule-1'], sharedTaskDefinitionArns: [TD2], alarmArns: [] };
    // the service it deleted reads INACTIVE: gone
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'pr-1', serviceArn: SERVICE, status: 'INACTIVE', deployments: [] }] });
    ddb.on(GetCommand, { Key: SHARD_S1 }).resolves({ Item: { ...SHARD_S1, shard: 's1', used: 5 } });
    const before = Date.now();
    await finishTeardown({ workflow: 'teardown', state: state({ resources }) });
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    const values = items[0]!.Update!.ExpressionAttributeValues!;
    expect(Object.values(values)).toContain('STATUS#DELETED');
    const purgeAt = Object.values(values).find((v) => typeof v === 'number' && v > 1e9) as number;
    expect(purgeAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 30 * 86_400 - 1);
    // released: what it was counted in (a record written before quotaCounters: its repository), each only while above 0
    expect(items[1]!.Update).toMatchObject({
      Key: { pk: 'COUNTER#live', sk: 'COUNTER' },
      UpdateExpression: 'SET #c0 = #c0 - :one, #c1 = #c1 - :one',
      ConditionExpression: '#c0 > :zero AND #c1 > :zero',
      ExpressionAttributeNames: { '#c0': 'total', '#c1': 'repo#acme/web' },
    });
    expect(items[2]!.Delete).toMatchObject({ Key: { pk: 'PRIORITY#1234', sk: 'PRIORITY' } });
    expect(items[3]!.Update).toMatchObject({ Key: SHARD_S1, UpdateExpression: 'SET #used = #used - :one' });
    expect(items[4]!.Put!.Item).toMatchObject({
      type: 'deleted', purgeAt,
      details: {
        removed: [{ type: 'ecs-service', arn: SERVICE }, { type: 'listener-rule', arn: 'rule-1' }, { type: 'target-group', arn: TG }],
        kept: [{ type: 'task-definition', arn: TD2, reason: expect.stringMatching(/shared/) }],
      },
    });
    expect(items[4]!.Put!.Item!.message).toMatch(new RegExp(`removed 3 resources: .*; kept the shared task definition ${TD2}`));
    // the history written before is purged with the record
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({ FilterExpression: 'attribute_not_exists(purgeAt)' });
    const stamped = ddb.commandCalls(BatchWriteCommand).flatMap((c) => Object.values(c.args[0].input.RequestItems!).flat());
    expect(stamped).toEqual([{ PutRequest: { Item: { ...history[0], purgeAt } } }]);
  });
});

describe('FinishTeardown releasing the quota counters', () => {
  const counterKey = { pk: 'COUNTER#live', sk: 'COUNTER' };
  const deleting = (extra: Record<string, unknown> = {}) =>
    ({ Item: item({ status: 'DELETING', operation: { id: 'op-1', type: 'teardown', status: 'RUNNING' }, ...extra }) });
  const counterChanged = () => new TransactionCanceledException({
    message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });
  const releases = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems![1]!);
  beforeEach(() => {
    ecs.on(DescribeServicesCommand).resolves({ services: [] });
    ddb.on(QueryCommand).resolves({ Items: [] });
  });

  it('releases the counters the record was counted in at create, skipping one that is already 0 (never negative)', async () => {
    ddb.on(GetCommand).resolves(deleting({ spec: { ...spec(), labels: { repository: 'acme/now' } }, quotaCounters: ['total', 'repo#acme/then'] }));
    ddb.on(GetCommand, { Key: counterKey }).resolves({ Item: { ...counterKey, total: 4, 'repo#acme/then': 0, 'repo#acme/now': 3 } });
    ddb.on(TransactWriteCommand).resolves({});
    expect((await finishTeardown({ workflow: 'teardown', state: state() })).outcome).toBe('succeeded');
    expect(releases()).toEqual([{
      Update: expect.objectContaining({
        Key: counterKey,
        UpdateExpression: 'SET #c0 = #c0 - :one',
        ConditionExpression: '#c0 > :zero AND (attribute_not_exists(#c1) OR #c1 <= :zero)',
        ExpressionAttributeNames: { '#c0': 'total', '#c1': 'repo#acme/then' },
      }),
    }]);
  });

  it('only checks the counters when none is above 0 (a record from before counting): DELETED is still recorded', async () => {
    ddb.on(GetCommand).resolves(deleting());
    ddb.on(GetCommand, { Key: counterKey }).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    expect((await finishTeardown({ workflow: 'teardown', state: state() })).outcome).toBe('succeeded');
    expect(releases()).toEqual([{ ConditionCheck: expect.objectContaining({ Key: counterKey }) }]);
    expect(releases()[0]).not.toHaveProperty('Update');
  });

  it('reads the counters again when one changed across zero meanwhile, and gives up after a few reads with an error the step retries', async () => {
    ddb.on(GetCommand).resolves(deleting());
    ddb.on(GetCommand, { Key: counterKey }).resolvesOnce({ Item: { ...counterKey, total: 0 } }).resolves({ Item: { ...counterKey, total: 2, 'repo#acme/web': 1 } });
    ddb.on(TransactWriteCommand).rejectsOnce(counterChanged()).resolves({});
    expect((await finishTeardown({ workflow: 'teardown', state: state() })).outcome).toBe('succeeded');
    expect(releases().map((r) => Object.keys(r)[0])).toEqual(['ConditionCheck', 'Update']);

    ddb.reset();
    ddb.on(GetCommand).resolves(deleting());
    ddb.on(TransactWriteCommand).rejects(counterChanged());
    await expect(finishTeardown({ workflow: 'teardown', state: state() })).rejects.toMatchObject({ name: 'TransactionConflictException' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(5);
  });

  it('a release DynamoDB cancelled for a throttled item fails as ThrottlingException (the step\'s Retry names it), not retried as a conflict', async () => {
    ddb.on(GetCommand).resolves(deleting());
    ddb.on(GetCommand, { Key: counterKey }).resolves({ Item: { ...counterKey, total: 2 } });
    ddb.on(TransactWriteCommand).rejects(new TransactionCanceledException({
      message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'ProvisionedThroughputExceeded' }, { Code: 'None' }],
    }));
    await expect(finishTeardown({ workflow: 'teardown', state: state() })).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('releases nothing when the teardown is no longer running (a duplicate or retried step lost the race)', async () => {
    // the step's read and the one before the write (the task-time it folds; the counters' and the
    // shard's reads between count as calls too) find the teardown running; it ended before the write
    ddb.on(GetCommand).resolvesOnce(deleting()).resolvesOnce(deleting()).resolvesOnce(deleting()).resolvesOnce(deleting()).resolves({ Item: item({ status: 'DELETED', operation: { id: 'op-1', type: 'teardown', status: 'SUCCEEDED' } }) });
    ddb.on(GetCommand, { Key: counterKey }).resolves({ Item: { ...counterKey, total: 2 } });
    ddb.on(GetCommand, { Key: SHARD_S1 }).resolves({ Item: { ...SHARD_S1, shard: 's1', used: 2 } });
    ddb.on(TransactWriteCommand).rejects(new TransactionCanceledException({
      message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }, { Code: 'None' }],
    }));
    expect((await finishTeardown({ workflow: 'teardown', state: state() })).outcome).toBe('superseded');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });
});

describe('waiting out a draining service', () => {
  const draining = { services: [{ serviceName: 'pr-1', serviceArn: SERVICE, status: 'DRAINING', desiredCount: 0, runningCount: 1, deployments: [] }] };

  it('FinishTeardown does not record DELETED while the service still drains: the state retries', async () => {
    ecs.on(DescribeServicesCommand).resolves(draining);
    ddb.on(GetCommand).resolves({ Item: item({ status: 'DELETING', operation: { id: 'op-1', type: 'teardown', status: 'RUNNING' } }) });
    await expect(finishTeardown({ workflow: 'teardown', state: state() })).rejects.toMatchObject({ name: 'ServiceStillDraining' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('FinishTeardown asks again when the service it deleted reads MISSING rather than INACTIVE (a lagging read)', async () => {
    ddb.on(GetCommand).resolves({ Item: item({ status: 'DELETING', operation: { id: 'op-1', type: 'teardown', status: 'RUNNING' } }) });
    const resources = { serviceArn: SERVICE, serviceStatus: 'ACTIVE', targetGroupArns: [], ruleArns: [], sharedTaskDefinitionArns: [], alarmArns: [] };
    await expect(finishTeardown({ workflow: 'teardown', state: state({ resources }) })).rejects.toMatchObject({ name: 'ServiceStillDraining' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('a create of a name whose service still drains waits before allocating anything', async () => {
    ecs.on(DescribeServicesCommand).resolves(draining);
    await expect(planResources({ workflow: 'create', state: state() })).rejects.toMatchObject({ name: 'ServiceStillDraining' });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});
