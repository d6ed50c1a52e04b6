import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkflowRunner, sfnErrorName, type WorkflowRunner } from '../../infra/local/workflow-runner.ts';

/** A tiny "create" machine: an SDK step with a Retry and a Catch, then a task-token wait. */
const DEFINITION = {
  StartAt: 'CallEcs',
  States: {
    CallEcs: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:ecs:describeServices',
      Parameters: { Cluster: '${ClusterArn}', 'Services.$': '$.services' },
      ResultSelector: { 'count.$': 'States.ArrayLength($.Services)' },
      ResultPath: '$.described',
      // ECS's ThrottlingException is not in its model: Step Functions names it Ecs.EcsException
      Retry: [{ ErrorEquals: ['Ecs.EcsException'], MaxAttempts: 3, IntervalSeconds: 1 }],
      Catch: [{ ErrorEquals: ['Ecs.ServiceNotFoundException'], ResultPath: '$.error', Next: 'NotFound' }],
      Next: 'Wait',
    },
    Wait: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: '${WaitFunctionArn}', Payload: { 'token.$': '$$.Task.Token', 'execution.$': '$$.Execution.Id' } },
      TimeoutSeconds: 1,
      ResultPath: '$.answer',
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'TimedOut' }],
      Next: 'Invoke',
    },
    Invoke: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${WaitFunctionArn}', 'Payload.$': '$' },
      ResultSelector: { 'value.$': '$.Payload.value' },
      ResultPath: '$.invoked',
      End: true,
    },
    NotFound: { Type: 'Fail', Error: 'NotFound', Cause: 'no service' },
    TimedOut: { Type: 'Fail', Error: 'TimedOut', Cause: 'no answer' },
  },
};

function setup(callAws: (service: string, action: string, params: Record<string, unknown>) => Promise<unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'fledge-runner-'));
  writeFileSync(join(dir, 'create.asl.json'), JSON.stringify(DEFINITION));
  const tokens: string[] = [];
  const runner = createWorkflowRunner({
    definitionsDir: dir,
    substitutions: { ClusterArn: 'arn:aws:ecs:eu-west-1:000000000000:cluster/c', WaitFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:wait' },
    callAws,
    invokeLambda: async (_arn, payload) => {
      const token = (payload as { token?: string }).token;
      if (token) tokens.push(token);
      return { value: 42 };
    },
    retryIntervalMs: 0,
    region: 'eu-west-1',
  });
  return { runner, tokens };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
};

let current: WorkflowRunner | undefined;
afterEach(async () => current?.close());

describe('local workflow runner', () => {
  it('runs SDK steps and task tokens behind an SFN-compatible client, and counts transitions', async () => {
    const calls: unknown[] = [];
    let throttles = 2;
    const { runner, tokens } = setup(async (service, action, params) => {
      calls.push({ service, action, params });
      if (throttles-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return { Services: [{}] };
    });
    current = runner;
    const sfn = runner.sfnClient;
    const arn = runner.stateMachineArn('create');
    const input = JSON.stringify({ services: ['a'] });
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pr-1--op-1', input }));
    expect(executionArn).toBe('arn:aws:states:eu-west-1:000000000000:execution:fledge-create:pr-1--op-1');
    // same name and input while running: the same execution
    expect((await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pr-1--op-1', input }))).executionArn).toBe(executionArn);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pr-1--op-1', input: '{"services":[]}' }))).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });

    await until(() => tokens.length > 0);
    expect(runner.pendingTaskTokens()).toEqual([{ taskToken: tokens[0], executionArn, stateName: 'Wait' }]);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: tokens[0], output: JSON.stringify({ ok: true }) }));
    const record = await runner.waitForExecution(executionArn);
    expect(record.status).toBe('SUCCEEDED');
    expect(JSON.parse(record.output!)).toEqual({ services: ['a'], described: { count: 1 }, answer: { ok: true }, invoked: { value: 42 } });
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual({ service: 'ecs', action: 'DescribeServices', params: { Cluster: 'arn:aws:ecs:eu-west-1:000000000000:cluster/c', Services: ['a'] } });
    expect(record.stateTransitions).toBe(5); // 3 states + 2 retries
    expect(runner.transitions(executionArn)).toBe(5);

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'SUCCEEDED', name: 'pr-1--op-1', stateTransitions: 5 });
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    expect(listed.executions.map((e: { name: string }) => e.name)).toEqual(['pr-1--op-1']);
    // answering a closed task again is TaskTimedOut; a token never issued is InvalidToken
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: tokens[0], output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });
    await expect(sfn.send(new SendTaskFailureCommand({ taskToken: 'nope', error: 'X' }))).rejects.toMatchObject({ name: 'InvalidToken' });
    // a finished execution's name cannot be reused, as on AWS
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'pr-1--op-1', input }))).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });

  it('maps thrown AWS errors to Step Functions error names for Catch', async () => {
    const { runner } = setup(async () => {
      throw Object.assign(new Error('Service not found.'), { name: 'ServiceNotFoundException', $metadata: { httpStatusCode: 400 } });
    });
    current = runner;
    const started = await runner.startExecution('create', 'nf', { services: ['x'] });
    const record = await runner.waitForExecution(started.executionArn);
    expect(record).toMatchObject({ status: 'FAILED', error: 'NotFound', cause: 'no service' });
    expect(record.statesEntered).toEqual(['CallEcs', 'NotFound']);
  });

  it('honours TimeoutSeconds of a task-token wait as States.Timeout, and SendTaskFailure as the step error', async () => {
    const { runner, tokens } = setup(async () => ({ Services: [] }));
    current = runner;
    const timedOut = await runner.startExecution('create', 'slow', { services: [] });
    const record = await runner.waitForExecution(timedOut.executionArn);
    expect(record).toMatchObject({ status: 'FAILED', error: 'TimedOut' });
    await expect(runner.sfnClient.send(new SendTaskSuccessCommand({ taskToken: tokens[0], output: '{}' }))).rejects.toMatchObject({ name: 'TaskTimedOut' });

    const failing = await runner.startExecution('create', 'failing', { services: [] });
    await until(() => tokens.length > 1);
    await runner.sfnClient.send(new SendTaskFailureCommand({ taskToken: tokens[1], error: 'DeploymentFailed', cause: 'circuit breaker' }));
    expect(await runner.waitForExecution(failing.executionArn)).toMatchObject({ status: 'FAILED', error: 'DeploymentFailed', cause: 'circuit breaker' });
  });

  it('stops an execution and closes its tokens', async () => {
    const { runner, tokens } = setup(async () => ({ Services: [] }));
    current = runner;
    const started = await runner.startExecution('create', 'stop-me', { services: [] });
    await until(() => tokens.length > 0);
    await runner.sfnClient.send(new StopExecutionCommand({ executionArn: started.executionArn, error: 'Superseded', cause: 'DELETE' }));
    expect(await runner.waitForExecution(started.executionArn)).toMatchObject({ status: 'ABORTED', error: 'Superseded' });
    expect(runner.pendingTaskTokens()).toEqual([]);
    await expect(runner.sfnClient.send(new DescribeExecutionCommand({ executionArn: `${started.executionArn}-x` }))).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('names SDK errors the way Step Functions does: a declared exception by its name, an undeclared code by the catch-all', () => {
    const named = (service: string, name: string) => sfnErrorName(service, Object.assign(new Error(), { name }));
    expect(named('ecs', 'ServiceNotFoundException')).toBe('Ecs.ServiceNotFoundException');
    expect(named('ecs', 'ClientException')).toBe('Ecs.ClientException');
    // throttling codes the services' models do not declare
    expect(named('ecs', 'ThrottlingException')).toBe('Ecs.EcsException');
    expect(named('elasticloadbalancingv2', 'Throttling')).toBe('ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception');
    expect(named('cloudwatch', 'Throttling')).toBe('CloudWatch.CloudWatchException');
    expect(named('route53', 'Throttling')).toBe('Route53.Route53Exception');
    expect(named('applicationautoscaling', 'ThrottlingException')).toBe('ApplicationAutoScaling.ApplicationAutoScalingException');
    // declared ones, the Exception suffix added where the name has none
    expect(named('route53', 'PriorRequestNotComplete')).toBe('Route53.PriorRequestNotCompleteException');
    expect(named('elasticloadbalancingv2', 'TargetGroupNotFoundException')).toBe('ElasticLoadBalancingV2.TargetGroupNotFoundException');
    expect(named('sns', 'ThrottledException')).toBe('Sns.ThrottledException');
    expect(sfnErrorName('ecs', Object.assign(new Error(), { sfnErrorName: 'Ecs.AccessDeniedException' }))).toBe('Ecs.AccessDeniedException');
    expect(sfnErrorName('ecs', new Error('no name'))).toBe('Ecs.EcsException');
  });
});
