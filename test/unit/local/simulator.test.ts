import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  DeregisterTaskDefinitionCommand,
  DeleteTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutMetricAlarmCommand, DescribeAlarmsCommand, DeleteAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { createEnvironment, createFixture, describeService, eventNames, registerTaskDefinition, rejection, updateImage, type Fixture } from './sim-fixture.ts';
import { AWS_RATE_LIMITS, awsError, throttlingError } from '../../../infra/local/simulator/index.ts';

let f: Fixture;
afterEach(() => f?.sim.stop());

async function steady(name: string, maxMs = 20_000): Promise<boolean> {
  const service = () => f.sim.internals.ecs.services.get(name);
  return f.clock.advanceUntil(() => Boolean(service()?.steady), maxMs, 100);
}

async function tasksOf(name: string, desiredStatus: 'RUNNING' | 'STOPPED') {
  const list = await f.ecs.send(new ListTasksCommand({ cluster: f.sim.clusterArn, serviceName: name, desiredStatus }));
  if (list.taskArns.length === 0) return [];
  const described = await f.ecs.send(new DescribeTasksCommand({ cluster: f.sim.clusterArn, tasks: list.taskArns }));
  return described.tasks as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('service scheduler', () => {
  it('starts the desired tasks, registers them, waits for health checks and reports steady state', async () => {
    f = createFixture();
    const { targetGroupArn } = await createEnvironment(f, 'pr-1', 'nginx:1.27', { desiredCount: 2 });
    let service = await describeService(f, 'pr-1');
    expect(service.status).toBe('ACTIVE');
    expect(service.deployments[0].rolloutState).toBe('IN_PROGRESS');
    await f.clock.advance(500);
    service = await describeService(f, 'pr-1');
    expect(service.pendingCount).toBe(2);
    expect(service.runningCount).toBe(0);
    expect(await steady('pr-1', 3000)).toBe(true);
    service = await describeService(f, 'pr-1');
    expect(service.runningCount).toBe(2);
    expect(service.deployments).toHaveLength(1);
    expect(service.deployments[0].rolloutState).toBe('COMPLETED');
    const health = await f.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    expect(health.TargetHealthDescriptions.map((d: any) => d.TargetHealth.State)).toEqual(['healthy', 'healthy']); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(eventNames(f.events)).toEqual(['SERVICE_DEPLOYMENT_IN_PROGRESS', 'SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_STEADY_STATE']);
    const steadyEvent = f.events.find((e) => e.detail.eventName === 'SERVICE_STEADY_STATE')!;
    expect(steadyEvent).toMatchObject({ source: 'aws.ecs', 'detail-type': 'ECS Service Action', resources: [service.serviceArn] });
    expect(f.events.some((e) => e['detail-type'] === 'ECS Task State Change' && e.detail.lastStatus === 'RUNNING')).toBe(true);
  });

  it('replaces a stopped task and keeps the stopped one describable', async () => {
    f = createFixture();
    await createEnvironment(f, 'pr-2');
    expect(await steady('pr-2')).toBe(true);
    const [task] = await tasksOf('pr-2', 'RUNNING');
    await f.ecs.send(new StopTaskCommand({ cluster: f.sim.clusterArn, task: task!.taskArn, reason: 'testing' }));
    expect((await describeService(f, 'pr-2')).runningCount).toBe(0);
    expect(await steady('pr-2')).toBe(true);
    const running = await tasksOf('pr-2', 'RUNNING');
    expect(running).toHaveLength(1);
    expect(running[0]!.taskArn).not.toBe(task!.taskArn);
    const stopped = await tasksOf('pr-2', 'STOPPED');
    expect(stopped[0]).toMatchObject({ taskArn: task!.taskArn, lastStatus: 'STOPPED', stoppedReason: 'testing', stopCode: 'UserInitiated' });
  });

  it('scales a service down to zero and back', async () => {
    f = createFixture();
    await createEnvironment(f, 'pr-3', 'nginx:1', { desiredCount: 2 });
    expect(await steady('pr-3')).toBe(true);
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'pr-3', desiredCount: 0 }));
    expect(await steady('pr-3')).toBe(true);
    expect((await describeService(f, 'pr-3')).runningCount).toBe(0);
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'pr-3', desiredCount: 1 }));
    expect(await steady('pr-3')).toBe(true);
    expect((await describeService(f, 'pr-3')).runningCount).toBe(1);
    expect(eventNames(f.events).filter((n) => n === 'SERVICE_STEADY_STATE')).toHaveLength(3);
  });

  it('rolls a new image out and retires the old deployment', async () => {
    f = createFixture();
    const { taskDefinitionArn } = await createEnvironment(f, 'pr-4', 'nginx:1');
    expect(await steady('pr-4')).toBe(true);
    const next = await updateImage(f, 'pr-4', 'nginx:2');
    expect((await describeService(f, 'pr-4')).deployments).toHaveLength(2);
    expect(await steady('pr-4')).toBe(true);
    const service = await describeService(f, 'pr-4');
    expect(service.taskDefinition).toBe(next);
    expect(service.taskDefinition).not.toBe(taskDefinitionArn);
    expect(service.deployments).toHaveLength(1);
    expect((await tasksOf('pr-4', 'RUNNING')).map((t) => t.containers[0].image)).toEqual(['nginx:2']);
  });
});

describe('failing images and the deployment circuit breaker', () => {
  it.each([
    ['fail-pull', { stopCode: 'TaskFailedToStart', stoppedReason: expect.stringMatching(/^CannotPullContainerError: /) }, { reason: expect.stringMatching(/^CannotPullContainerError/) }],
    ['fail-start', { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }, { exitCode: 1 }],
    ['fail-oom', { stopCode: 'EssentialContainerExited', stoppedReason: 'Essential container in task exited' }, { exitCode: 137, reason: 'OutOfMemoryError: Container killed due to memory usage' }],
    ['fail-health', { stopCode: 'ServiceSchedulerInitiated', stoppedReason: expect.stringMatching(/^Task failed ELB health checks in \(target-group arn:aws:elasticloadbalancing:/) }, {}],
  ])('%s: fails like ECS reports it and, with nothing to roll back to, fails the deployment', async (tag, task, container) => {
    f = createFixture();
    await createEnvironment(f, `img-${tag}`, `registry.example.com/app:${tag}-1`);
    const failed = await f.clock.advanceUntil(() => eventNames(f.events).includes('SERVICE_DEPLOYMENT_FAILED'), 30_000, 100);
    expect(failed).toBe(true);
    const service = await describeService(f, `img-${tag}`);
    expect(service.deployments[0]).toMatchObject({ rolloutState: 'FAILED', failedTasks: 3 });
    expect(service.deployments[0].rolloutStateReason).toMatch(/circuit breaker/);
    const stopped = await tasksOf(`img-${tag}`, 'STOPPED');
    expect(stopped.length).toBeGreaterThanOrEqual(3);
    expect(stopped[0]).toMatchObject(task);
    expect(stopped[0]!.containers[0]).toMatchObject(container);
    // nothing more is launched once the breaker tripped without a rollback target
    const before = f.sim.internals.ecs.tasks.size;
    await f.clock.advance(10_000);
    expect(f.sim.internals.ecs.tasks.size).toBe(before);
  });

  it('rolls an update back to the last completed deployment', async () => {
    f = createFixture();
    const { taskDefinitionArn } = await createEnvironment(f, 'pr-5', 'nginx:1');
    expect(await steady('pr-5')).toBe(true);
    f.events.length = 0;
    await updateImage(f, 'pr-5', 'nginx:fail-start');
    const rolledBack = await f.clock.advanceUntil(
      () => eventNames(f.events).includes('SERVICE_DEPLOYMENT_FAILED') && Boolean(f.sim.internals.ecs.services.get('pr-5')?.steady),
      30_000,
      100,
    );
    expect(rolledBack).toBe(true);
    const service = await describeService(f, 'pr-5');
    expect(service.taskDefinition).toBe(taskDefinitionArn);
    expect(service.deployments).toHaveLength(1);
    expect(service.deployments[0].rolloutState).toBe('COMPLETED');
    expect(eventNames(f.events)).toEqual([
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_FAILED',
      'SERVICE_DEPLOYMENT_IN_PROGRESS',
      'SERVICE_DEPLOYMENT_COMPLETED',
      'SERVICE_STEADY_STATE',
    ]);
    const rollbackEvent = f.events.filter((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS')[1]!;
    expect(rollbackEvent.detail.reason).toMatch(/^ECS deployment circuit breaker: rolling back to deploymentId ecs-svc\/\d+\.$/);
    expect((await tasksOf('pr-5', 'RUNNING')).map((t) => t.containers[0].image)).toEqual(['nginx:1']);
  });
});

describe('rate limits', () => {
  it('allows the burst, throttles, then refills at the published rate', async () => {
    f = createFixture({ rateLimits: AWS_RATE_LIMITS });
    const register = () =>
      f.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'burst',
          containerDefinitions: [{ name: 'app', image: 'nginx' }],
        }),
      );
    for (let i = 0; i < 20; i++) await register();
    const error = await rejection(register());
    expect(error.name).toBe('ThrottlingException');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata.httpStatusCode).toBe(400);
    await f.clock.advance(1000);
    await register();
    await expect(register()).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('meters DescribeServices at 100 then 20 per second, and ELB says Throttling', async () => {
    f = createFixture({ rateLimits: { ...AWS_RATE_LIMITS, 'elasticloadbalancingv2:*': { burst: 1, perSecond: 1 } } });
    const describe = () => f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: ['x'] }));
    for (let i = 0; i < 100; i++) await describe();
    await expect(describe()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await f.clock.advance(500);
    for (let i = 0; i < 10; i++) await describe();
    await expect(describe()).rejects.toMatchObject({ name: 'ThrottlingException' });
    await f.elbv2.send(new DescribeTargetGroupsCommand({}));
    await expect(f.elbv2.send(new DescribeTargetGroupsCommand({}))).rejects.toMatchObject({ name: 'Throttling', Code: 'Throttling' });
  });
});

describe('faults', () => {
  it('throttle: the next N calls from anywhere are throttled', async () => {
    f = createFixture();
    f.sim.injectFault({ fault: 'throttle', count: 5 });
    // an SDK client tries 3 times (standard retry mode) before it gives up
    await expect(f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: ['x'] }))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(f.sim.call('elasticloadbalancingv2', 'describeTargetGroups', {})).rejects.toMatchObject({ name: 'Throttling' });
    await expect(f.sim.call('cloudwatch', 'DescribeAlarms', {})).rejects.toMatchObject({ name: 'Throttling' });
    await expect(f.sim.call('cloudwatch', 'DescribeAlarms', {})).resolves.toMatchObject({ MetricAlarms: [] });
    // two throttles in a row: the SDK client's third attempt gets through
    f.sim.injectFault({ fault: 'throttle', count: 2 });
    const described = await f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: ['x'] }));
    expect(described.$metadata).toMatchObject({ attempts: 3 });
  });

  it('failNext: the next N calls of one action answer the given error, at both doors; other actions and the N+1th pass', async () => {
    f = createFixture();
    f.sim.internals.faults.failNext('DescribeTargetGroups', (service) => awsError(service, 'TargetGroupNotFound', 'gone'), 2);
    await expect(f.sim.call('elasticloadbalancingv2', 'DescribeTargetGroups', {})).rejects.toMatchObject({
      name: 'TargetGroupNotFoundException', Code: 'TargetGroupNotFound', sfnErrorName: 'ElasticLoadBalancingV2.TargetGroupNotFoundException',
    });
    await expect(f.sim.call('cloudwatch', 'DescribeAlarms', {})).resolves.toMatchObject({ MetricAlarms: [] });
    await expect(f.elbv2.send(new DescribeTargetGroupsCommand({}))).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
    await expect(f.elbv2.send(new DescribeTargetGroupsCommand({}))).resolves.toMatchObject({ TargetGroups: [] });
    // a throttle at one action: the SDK client's own retries each take one
    f.sim.internals.faults.failNext('DescribeServices', (service) => throttlingError(service), 2);
    const described = await f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: ['x'] }));
    expect(described.$metadata).toMatchObject({ attempts: 3 });
    // clear ends pending ones
    f.sim.internals.faults.failNext('DescribeAlarms', (service) => throttlingError(service), 5);
    f.sim.injectFault({ fault: 'clear' });
    await expect(f.sim.call('cloudwatch', 'DescribeAlarms', {})).resolves.toMatchObject({ MetricAlarms: [] });
  });

  it('failNext with answerLost: the call is applied, then answers the error (a lost answer); a retry meets what it made', async () => {
    f = createFixture();
    f.sim.internals.faults.failNext('CreateTargetGroup', (service) => awsError(service, 'InternalFailure', 'An internal error occurred.', 500), 1, true);
    const params = { Name: 'lost-answer', Protocol: 'HTTP', Port: 80, VpcId: f.sim.config.vpcId, TargetType: 'ip' };
    await expect(f.sim.call('elasticloadbalancingv2', 'CreateTargetGroup', params)).rejects.toMatchObject({ Code: 'InternalFailure' });
    expect(f.sim.resources().targetGroups.map((tg) => tg.name)).toEqual(['lost-answer']);
    // the fault is spent: the next call is answered
    await expect(f.sim.call('elasticloadbalancingv2', 'CreateTargetGroup', params)).resolves.toMatchObject({ TargetGroups: [{ TargetGroupName: 'lost-answer' }] });
  });

  it('crash: running tasks exit once and are replaced', async () => {
    f = createFixture();
    await createEnvironment(f, 'crash-me', 'nginx:1', { desiredCount: 2 });
    expect(await steady('crash-me')).toBe(true);
    const result = f.sim.injectFault({ environment: 'crash-me', fault: 'crash' });
    expect(result.message).toMatch(/2 running task/);
    expect(await steady('crash-me')).toBe(true);
    expect((await describeService(f, 'crash-me')).runningCount).toBe(2);
    const stopped = await tasksOf('crash-me', 'STOPPED');
    expect(stopped.map((t) => t.containers[0].exitCode)).toEqual([1, 1]);
  });

  it('crashloop: tasks of the current image keep failing, even after a redeploy; another image works; clear ends it', async () => {
    f = createFixture();
    await createEnvironment(f, 'loop', 'nginx:1');
    expect(await steady('loop')).toBe(true);
    f.events.length = 0;
    f.sim.injectFault({ environment: 'loop', fault: 'crashloop' });
    expect(await f.clock.advanceUntil(() => eventNames(f.events).includes('SERVICE_TASK_START_IMPAIRED'), 30_000, 100)).toBe(true);
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'loop', forceNewDeployment: true }));
    await f.clock.advance(10_000);
    expect(f.sim.internals.ecs.services.get('loop')!.steady).toBe(false);
    expect((await tasksOf('loop', 'STOPPED')).length).toBeGreaterThanOrEqual(3);
    await updateImage(f, 'loop', 'nginx:2');
    expect(await steady('loop', 30_000)).toBe(true);
    await updateImage(f, 'loop', 'nginx:1');
    await f.clock.advance(8000);
    expect((await describeService(f, 'loop')).taskDefinition).toMatch(/:2$/); // rolled back to nginx:2
    f.sim.injectFault({ environment: 'loop', fault: 'clear' });
    await updateImage(f, 'loop', 'nginx:1');
    expect(await steady('loop', 30_000)).toBe(true);
    expect((await tasksOf('loop', 'RUNNING')).map((t) => t.containers[0].image)).toEqual(['nginx:1']);
  });

  it('unhealthy: targets fail health checks, tasks are replaced, the alarm fires; clear heals', async () => {
    f = createFixture();
    const { targetGroupArn } = await createEnvironment(f, 'sick');
    expect(await steady('sick')).toBe(true);
    const tgDimension = targetGroupArn.split(':').at(-1)!;
    await f.sim.client('cloudwatch').send(
      new PutMetricAlarmCommand({
        AlarmName: 'fledge-sick-unhealthy',
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HealthyHostCount',
        Dimensions: [{ Name: 'TargetGroup', Value: tgDimension }],
        Statistic: 'Minimum',
        Period: 60,
        EvaluationPeriods: 2,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        Tags: [{ Key: 'fledge:environment', Value: 'sick' }],
      }),
    );
    await f.clock.advance(1500);
    expect(f.sim.resources().alarms[0]).toMatchObject({ state: 'OK', environment: 'sick' });
    f.sim.injectFault({ environment: 'sick', fault: 'unhealthy' });
    expect(await f.clock.advanceUntil(() => f.events.some((e) => e.source === 'aws.cloudwatch' && (e.detail.state as { value: string }).value === 'ALARM'), 20_000, 100)).toBe(true);
    const stopped = await tasksOf('sick', 'STOPPED');
    expect(stopped[0]!.stoppedReason).toMatch(/^Task failed ELB health checks in \(target-group /);
    const alarms = await f.sim.client('cloudwatch').send(new DescribeAlarmsCommand({ AlarmNames: ['fledge-sick-unhealthy'] }));
    expect(alarms.MetricAlarms[0].StateValue).toBe('ALARM');
    f.sim.injectFault({ environment: 'sick', fault: 'clear' });
    expect(await steady('sick', 60_000)).toBe(true);
    expect(await f.clock.advanceUntil(() => f.sim.resources().alarms[0]!.state === 'OK', 10_000, 100)).toBe(true);
  });

  it('delete-service and drift-scale change the service out of band', async () => {
    f = createFixture();
    await createEnvironment(f, 'drift', 'nginx:1', { desiredCount: 2 });
    expect(await steady('drift')).toBe(true);
    f.sim.injectFault({ environment: 'drift', fault: 'drift-scale' });
    expect((await describeService(f, 'drift')).desiredCount).toBe(0);
    f.sim.injectFault({ environment: 'drift', fault: 'drift-scale', count: 3 });
    expect(await steady('drift')).toBe(true);
    expect((await describeService(f, 'drift')).runningCount).toBe(3);
    f.sim.injectFault({ environment: 'drift', fault: 'delete-service' });
    await f.clock.advance(2000);
    const described = await describeService(f, 'drift');
    expect(described.status).toBe('INACTIVE');
    expect(f.sim.resources().services).toEqual([]);
    expect(() => f.sim.injectFault({ environment: 'drift', fault: 'crash' })).toThrow(/has no simulated ECS service/);
  });
});

describe('AWS errors and limits', () => {
  it('answers ECS errors with AWS names, codes and metadata', async () => {
    f = createFixture();
    const missing = await rejection(f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'nope', desiredCount: 1 })));
    expect(missing).toMatchObject({ name: 'ServiceNotFoundException', message: 'Service not found.', $fault: 'client', sfnErrorName: 'Ecs.ServiceNotFoundException' });
    expect(missing.$metadata).toMatchObject({ httpStatusCode: 400 });
    await expect(f.ecs.send(new DescribeServicesCommand({ cluster: 'other', services: ['x'] }))).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
    const described = await f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: ['nope'] }));
    expect(described.failures[0]).toMatchObject({ reason: 'MISSING' });
    // required member missing, like the service model says
    await expect(f.ecs.send(new CreateServiceCommand({ cluster: f.sim.clusterArn } as never))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining("'serviceName' failed to satisfy constraint: Member must not be null"),
    });
    // a member that is not in the model
    await expect(f.ecs.send(new DescribeServicesCommand({ cluster: 'x', services: [], bogus: 1 } as never))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    // Fargate sizes
    await expect(
      f.ecs.send(new RegisterTaskDefinitionCommand({ family: 'x', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '4096', containerDefinitions: [{ name: 'a', image: 'b' }] })),
    ).rejects.toMatchObject({ name: 'ClientException', message: expect.stringContaining('No Fargate configuration exists') });
    // CreateService is idempotent by client token: the same token and parameters again answer the service; another token is refused
    const { taskDefinitionArn, targetGroupArn } = await createEnvironment(f, 'busy');
    const again = (clientToken: string) =>
      f.ecs.send(new CreateServiceCommand({
        cluster: f.sim.clusterArn, serviceName: 'tokened', taskDefinition: taskDefinitionArn, desiredCount: 1, clientToken,
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
        loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8080 }],
      }));
    const created = await again('token-1');
    await expect(again('token-1')).resolves.toMatchObject({ service: { serviceArn: created.service.serviceArn } });
    // the same parameters are the first request's: a retry still matches after the service was scaled
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'tokened', desiredCount: 2 }));
    await expect(again('token-1')).resolves.toMatchObject({ service: { serviceArn: created.service.serviceArn, desiredCount: 2 } });
    await expect(again('token-2')).rejects.toMatchObject({ name: 'InvalidParameterException', message: 'Creation of service was not idempotent.' });
    await expect(f.ecs.send(new DeleteServiceCommand({ cluster: f.sim.clusterArn, service: 'busy' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'The service cannot be stopped while it is scaled above 0.',
    });
  });

  it('validates target groups and rules like ELBv2', async () => {
    f = createFixture();
    const tg = (Name: string, Port = 8080) => new CreateTargetGroupCommand({ Name, Protocol: 'HTTP', Port, VpcId: f.sim.config.vpcId, TargetType: 'ip' });
    const long = await rejection(f.elbv2.send(tg('a'.repeat(33))));
    expect(long).toMatchObject({ name: 'ValidationError', Code: 'ValidationError' });
    expect(long.message).toBe(`Target group name '${'a'.repeat(33)}' cannot be longer than '32' characters`);
    await f.elbv2.send(tg('a'.repeat(32)));
    const first = await f.elbv2.send(tg('dup'));
    const again = await f.elbv2.send(tg('dup'));
    expect(again.TargetGroups[0].TargetGroupArn).toBe(first.TargetGroups[0].TargetGroupArn);
    await expect(f.elbv2.send(tg('dup', 9090))).rejects.toMatchObject({ name: 'DuplicateTargetGroupNameException', Code: 'DuplicateTargetGroupName' });
    const arn = first.TargetGroups[0].TargetGroupArn;
    const rule = (Priority: number, TargetGroupArn: string) =>
      new CreateRuleCommand({ ListenerArn: f.sim.listenerArn, Priority, Conditions: [{ Field: 'host-header', Values: ['dup.localhost'] }], Actions: [{ Type: 'forward', TargetGroupArn }] });
    const created = await f.elbv2.send(rule(7, arn));
    await expect(f.elbv2.send(rule(7, arn))).rejects.toMatchObject({ name: 'PriorityInUseException', Code: 'PriorityInUse', message: "Priority '7' is currently in use" });
    await expect(f.elbv2.send(rule(8, arn.replace(/[0-9a-f]{16}$/, '0000000000000000')))).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
    await expect(f.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }))).rejects.toMatchObject({ name: 'ResourceInUseException', Code: 'ResourceInUse' });
    await f.elbv2.send(new DeleteRuleCommand({ RuleArn: created.Rules[0].RuleArn }));
    await expect(f.elbv2.send(new DeleteRuleCommand({ RuleArn: created.Rules[0].RuleArn }))).rejects.toMatchObject({ name: 'RuleNotFoundException' });
    await f.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
    await expect(f.elbv2.send(new DescribeTargetGroupsCommand({ Names: ['dup'] }))).rejects.toMatchObject({ name: 'TargetGroupNotFoundException', message: 'One or more target groups not found' });
  });

  it('creates a 101st target group: the 100 per load balancer count where rules use them (aws-behaviour.test.ts)', async () => {
    f = createFixture();
    for (let i = 0; i < 100; i++) await f.elbv2.send(new CreateTargetGroupCommand({ Name: `tg-${i}`, Protocol: 'HTTP', Port: 80, VpcId: f.sim.config.vpcId, TargetType: 'ip' }));
    const created = await f.elbv2.send(new CreateTargetGroupCommand({ Name: 'tg-100', Protocol: 'HTTP', Port: 80, VpcId: f.sim.config.vpcId, TargetType: 'ip' }));
    expect(created.TargetGroups[0].LoadBalancerArns).toEqual([]);
  });

  it('speaks the Step Functions dialect through call(): PascalCase in and out', async () => {
    f = createFixture();
    await createEnvironment(f, 'sfn');
    const out = (await f.sim.call('ecs', 'describeServices', { Cluster: f.sim.clusterArn, Services: ['sfn'] })) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(out.Services[0]).toMatchObject({ ServiceName: 'sfn', Status: 'ACTIVE', DesiredCount: 1, Tags: [{ Key: 'fledge:environment', Value: 'sfn' }] });
    expect(typeof out.Services[0].CreatedAt).toBe('string');
    expect(out.$metadata).toBeUndefined();
    const td = (await f.sim.call('ecs', 'RegisterTaskDefinition', {
      Family: 'sfn-2',
      ContainerDefinitions: [{ Name: 'app', Image: 'nginx', DockerLabels: { 'com.example.Key': 'v' } }],
    })) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(td.TaskDefinition.ContainerDefinitions[0].DockerLabels).toEqual({ 'com.example.Key': 'v' });
    await expect(f.sim.call('ecs', 'updateService', { Cluster: f.sim.clusterArn, Service: 'gone' })).rejects.toMatchObject({ sfnErrorName: 'Ecs.ServiceNotFoundException' });
  });

  it('registers scalable targets (clamping the desired count) and refuses policies without one', async () => {
    f = createFixture();
    await createEnvironment(f, 'scale');
    const resourceId = `service/${f.sim.config.clusterName}/scale`;
    await expect(
      f.sim.call('applicationautoscaling', 'putScalingPolicy', {
        PolicyName: 'cpu',
        ServiceNamespace: 'ecs',
        ResourceId: resourceId,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 60, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } },
      }),
    ).rejects.toMatchObject({ name: 'ObjectNotFoundException' });
    await f.sim.call('applicationautoscaling', 'registerScalableTarget', {
      ServiceNamespace: 'ecs',
      ResourceId: resourceId,
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 2,
      MaxCapacity: 4,
      Tags: { 'fledge:environment': 'scale' },
    });
    expect((await describeService(f, 'scale')).desiredCount).toBe(2);
    await f.sim.call('applicationautoscaling', 'putScalingPolicy', {
      PolicyName: 'cpu',
      ServiceNamespace: 'ecs',
      ResourceId: resourceId,
      ScalableDimension: 'ecs:service:DesiredCount',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 60, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } },
    });
    expect(f.sim.resources().scalableTargets[0]).toMatchObject({ environment: 'scale', minCapacity: 2, maxCapacity: 4, policies: ['cpu'] });
  });
});

describe('resources() and servePage()', () => {
  it('lists what an environment holds and nothing once it is torn down', async () => {
    f = createFixture();
    const { targetGroupArn, ruleArn, taskDefinitionArn } = await createEnvironment(f, 'gone');
    await f.sim.client('cloudwatch').send(
      new PutMetricAlarmCommand({
        AlarmName: 'fledge-gone',
        Namespace: 'AWS/ECS',
        MetricName: 'CPUUtilization',
        Dimensions: [{ Name: 'ServiceName', Value: 'gone' }],
        Statistic: 'Average',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 90,
        ComparisonOperator: 'GreaterThanThreshold',
        Tags: [{ Key: 'fledge:environment', Value: 'gone' }],
      }),
    );
    expect(await steady('gone')).toBe(true);
    const page = f.sim.servePage('gone.localhost:4000');
    expect(page).toMatchObject({ outcome: 'task', environment: 'gone', service: { name: 'gone', runningCount: 1, image: 'nginx:1.27' } });
    expect(f.sim.servePage('other.localhost').outcome).toBe('fixed-response');
    const before = f.sim.resources();
    expect(before.services[0]).toMatchObject({ name: 'gone', environment: 'gone', runningCount: 1 });
    expect(before.taskDefinitions[0]).toMatchObject({ environment: 'gone' });
    expect(before.targetGroups[0]).toMatchObject({ environment: 'gone' });
    expect(before.listenerRules[0]).toMatchObject({ environment: 'gone', hosts: ['gone.localhost'] });
    expect(before.alarms[0]).toMatchObject({ environment: 'gone' });

    await f.sim.client('cloudwatch').send(new DeleteAlarmsCommand({ AlarmNames: ['fledge-gone'] }));
    await f.ecs.send(new DeleteServiceCommand({ cluster: f.sim.clusterArn, service: 'gone', force: true }));
    await f.elbv2.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
    await f.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: targetGroupArn }));
    await f.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    await f.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [taskDefinitionArn] }));
    await f.clock.advance(3000);
    const after = f.sim.resources();
    expect(JSON.stringify({ ...after, faults: undefined })).not.toContain('gone');
    expect((await describeService(f, 'gone')).status).toBe('INACTIVE');
  });

  it('uses the task definition helper for images without a tag', async () => {
    f = createFixture();
    const arn = await registerTaskDefinition(f, 'plain', 'nginx');
    expect(arn).toMatch(/^arn:aws:ecs:eu-west-1:000000000000:task-definition\/fledge-plain:1$/);
  });
});
