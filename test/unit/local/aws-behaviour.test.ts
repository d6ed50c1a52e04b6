/**
 * The simulator as unkind as AWS: services drain before they are gone, every throttling
 * shape AWS uses, the ALB quotas where AWS enforces them, the health-check grace period.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CreateServiceCommand, DeleteServiceCommand, DescribeTasksCommand, ListServicesCommand, ListTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreateRuleCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand, ModifyRuleCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createSimulator, simulatorOptionsFromEnv, type SimLogger } from '../../../infra/local/simulator/index.ts';
import { createEnvironment, createFixture, describeService, eventNames, registerTaskDefinition, rejection, type Fixture } from './sim-fixture.ts';

let f: Fixture;
afterEach(() => f?.sim.stop());

const steady = (name: string, maxMs = 20_000) => f.clock.advanceUntil(() => Boolean(f.sim.internals.ecs.services.get(name)?.steady), maxMs, 100);

function serviceInput(f: Fixture, name: string, taskDefinition: string, targetGroupArn: string, extra: Record<string, unknown> = {}) {
  return {
    cluster: f.sim.clusterArn,
    serviceName: name,
    taskDefinition,
    desiredCount: 1,
    launchType: 'FARGATE' as const,
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' as const } },
    loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8080 }],
    ...extra,
  };
}

describe('draining', () => {
  it('a deleted service stays DRAINING for the drain time: re-creating the name fails all along, then works once INACTIVE', async () => {
    f = createFixture(); // taskStartMs 1000: drainMs defaults to 2000
    expect(f.sim.config.drainMs).toBe(2000);
    const { targetGroupArn, taskDefinitionArn } = await createEnvironment(f, 'again');
    expect(await steady('again')).toBe(true);
    await f.ecs.send(new DeleteServiceCommand({ cluster: f.sim.clusterArn, service: 'again', force: true }));
    const deletedAt = f.clock.now();
    for (const at of [0, 500, 1000, 1900]) {
      await f.clock.advance(deletedAt + at - f.clock.now());
      expect((await describeService(f, 'again')).status, `at +${at} ms`).toBe('DRAINING');
      const error = await rejection(f.ecs.send(new CreateServiceCommand(serviceInput(f, 'again', taskDefinitionArn, targetGroupArn))));
      expect(error, `at +${at} ms`).toMatchObject({ name: 'InvalidParameterException', message: 'Unable to Start a service that is still Draining.', sfnErrorName: 'Ecs.InvalidParameterException' });
      // "no longer visible ... in the ListServices API operation"
      expect((await f.ecs.send(new ListServicesCommand({ cluster: f.sim.clusterArn }))).serviceArns).toEqual([]);
    }
    await f.clock.advance(deletedAt + 2050 - f.clock.now());
    expect((await describeService(f, 'again')).status).toBe('INACTIVE');
    const created = await f.ecs.send(new CreateServiceCommand(serviceInput(f, 'again', taskDefinitionArn, targetGroupArn)));
    expect(created.service.status).toBe('ACTIVE');
    expect(await steady('again')).toBe(true);
  });

  it('FLEDGE_SIM_DRAIN_MS sets the drain time; tasks slower to stop than that keep the service DRAINING until they stopped', async () => {
    f = createFixture({ drainMs: 5000 });
    await createEnvironment(f, 'slow');
    expect(await steady('slow')).toBe(true);
    f.sim.injectFault({ environment: 'slow', fault: 'delete-service' });
    await f.clock.advance(4900);
    expect((await describeService(f, 'slow')).status).toBe('DRAINING');
    await f.clock.advance(200);
    expect((await describeService(f, 'slow')).status).toBe('INACTIVE');
    f.sim.stop();

    f = createFixture({ drainMs: 10, taskStopMs: 3000 });
    await createEnvironment(f, 'stubborn');
    expect(await steady('stubborn')).toBe(true);
    await f.ecs.send(new DeleteServiceCommand({ cluster: f.sim.clusterArn, service: 'stubborn', force: true }));
    await f.clock.advance(2900);
    expect((await describeService(f, 'stubborn')).status).toBe('DRAINING');
    await f.clock.advance(200);
    expect((await describeService(f, 'stubborn')).status).toBe('INACTIVE');
  });
});

describe('throttling shapes', () => {
  it('the throttle fault cycles through the shapes of each call, with the Step Functions error names (the catch-all for codes the model does not declare)', async () => {
    f = createFixture();
    const { targetGroupArn, taskDefinitionArn } = await createEnvironment(f, 'busy');
    const shapes = async (count: number, call: () => Promise<unknown>) => {
      f.sim.injectFault({ fault: 'throttle', count });
      const errors = [];
      for (let i = 0; i < count; i++) errors.push(await rejection(call()));
      return errors.map((e) => ({ name: e.name, code: e.Code, sfn: e.sfnErrorName, message: e.message }));
    };
    // through an SDK client: its standard retry mode retries the ThrottlingException, not the ClientException
    f.sim.injectFault({ fault: 'throttle', count: 2 });
    const thrown = await rejection(f.ecs.send(new CreateServiceCommand(serviceInput(f, 'other', taskDefinitionArn, targetGroupArn))));
    expect({ name: thrown.name, code: thrown.Code, sfn: thrown.sfnErrorName, message: thrown.message }).toEqual(
      { name: 'ClientException', code: 'ClientException', sfn: 'Ecs.ClientException', message: `Received throttling error when describing target group ${targetGroupArn}` },
    );
    // UpdateService of a service with a load balancer: ECS describes its target group too
    expect((await shapes(2, () => f.sim.call('ecs', 'updateService', { Cluster: f.sim.clusterArn, Service: 'busy', DesiredCount: 2 }))).map((e) => e.sfn)).toEqual([
      'Ecs.EcsException',
      'Ecs.ClientException',
    ]);
    // a registration of a family registered a moment ago (concurrently) can also meet the family's own limit,
    // a ClientException the SDK does not retry
    f.sim.injectFault({ fault: 'throttle', count: 2 });
    expect((await rejection(registerTaskDefinition(f, 'busy', 'nginx:2'))).message).toBe('Too many concurrent attempts to create a new revision of the specified family.');
    expect(await shapes(1, () => f.sim.call('elasticloadbalancingv2', 'describeTargetGroups', {}))).toEqual([
      { name: 'Throttling', code: 'Throttling', sfn: 'ElasticLoadBalancingV2.ElasticLoadBalancingV2Exception', message: 'Rate exceeded' },
    ]);
    expect(await shapes(1, () => f.sim.call('cloudwatch', 'describeAlarms', {}))).toEqual([
      { name: 'Throttling', code: 'Throttling', sfn: 'CloudWatch.CloudWatchException', message: 'Rate exceeded' },
    ]);
    const policy = () =>
      f.sim.call('applicationautoscaling', 'putScalingPolicy', {
        PolicyName: 'cpu',
        ServiceNamespace: 'ecs',
        ResourceId: `service/${f.sim.config.clusterName}/busy`,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 60, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } },
      });
    expect((await shapes(3, policy)).map((e) => e.sfn)).toEqual([
      'ApplicationAutoScaling.ApplicationAutoScalingException',
      'ApplicationAutoScaling.ConcurrentUpdateException',
      'ApplicationAutoScaling.FailedResourceAccessException',
    ]);
    expect(await shapes(1, () => f.sim.call('sns', 'publish', { TopicArn: 'arn:aws:sns:eu-west-1:000000000000:t', Message: 'x' }))).toEqual([
      { name: 'ThrottledException', code: 'Throttled', sfn: 'Sns.ThrottledException', message: 'Rate exceeded' },
    ]);
  });

  it('in hostile mode a throttled call gets any of its shapes, at random', async () => {
    f = createFixture({ hostile: true, seed: 1, hostileRates: { throttleRate: 1, eventDropRate: 0 } });
    const { targetGroupArn, taskDefinitionArn } = await (async () => {
      f.sim.setHostile(false);
      const env = await createEnvironment(f, 'noisy');
      f.sim.setHostile(true);
      return env;
    })();
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add((await rejection(f.ecs.send(new CreateServiceCommand(serviceInput(f, 'x', taskDefinitionArn, targetGroupArn))))).name);
    expect([...seen].sort()).toEqual(['ClientException', 'ThrottlingException']);
  });
});

describe('Application Load Balancer quotas', () => {
  const tg = (name: string) => new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: f.sim.config.vpcId, TargetType: 'ip' });
  const arnOf = async (name: string) => (await f.elbv2.send(tg(name))).TargetGroups[0].TargetGroupArn as string;
  const forward = (...arns: string[]) => [{ Type: 'forward' as const, ForwardConfig: { TargetGroups: arns.map((TargetGroupArn) => ({ TargetGroupArn, Weight: 1 })) } }];
  const rule = (priority: number, ...arns: string[]) =>
    new CreateRuleCommand({ ListenerArn: f.sim.listenerArn, Priority: priority, Conditions: [{ Field: 'host-header', Values: [`r${priority}.localhost`] }], Actions: forward(...arns) });

  it('100 unique target groups per load balancer, enforced at CreateRule and ModifyRule (TooManyUniqueTargetGroupsPerLoadBalancer); more target groups may exist', async () => {
    f = createFixture();
    const arns: string[] = [];
    for (let i = 0; i < 102; i++) arns.push(await arnOf(`tg-${i}`));
    const rules: string[] = [];
    for (let i = 0; i < 50; i++) rules.push((await f.elbv2.send(rule(i + 1, arns[2 * i]!, arns[2 * i + 1]!))).Rules[0].RuleArn);
    const onCreate = await rejection(f.elbv2.send(rule(51, arns[100]!)));
    expect(onCreate).toMatchObject({ name: 'TooManyUniqueTargetGroupsPerLoadBalancerException', Code: 'TooManyUniqueTargetGroupsPerLoadBalancer', sfnErrorName: 'ElasticLoadBalancingV2.TooManyUniqueTargetGroupsPerLoadBalancerException' });
    // a rule reusing target groups already in use is fine
    await f.elbv2.send(rule(51, arns[0]!));
    const onModify = await rejection(f.elbv2.send(new ModifyRuleCommand({ RuleArn: rules[0]!, Actions: forward(arns[0]!, arns[1]!, arns[101]!) })));
    expect(onModify).toMatchObject({ Code: 'TooManyUniqueTargetGroupsPerLoadBalancer' });
    // swapping one target group for another keeps the count at 100
    await f.elbv2.send(new ModifyRuleCommand({ RuleArn: rules[0]!, Actions: forward(arns[0]!, arns[101]!) }));
  });

  it('3000 target groups per region (TooManyTargetGroups at CreateTargetGroup)', async () => {
    f = createFixture();
    for (let i = 0; i < 3000; i++) f.sim.internals.elb.actions.CreateTargetGroup!({ Name: `tg-${i}`, Protocol: 'HTTP', Port: 80, VpcId: f.sim.config.vpcId, TargetType: 'ip' });
    await expect(f.elbv2.send(tg('tg-3000'))).rejects.toMatchObject({ name: 'TooManyTargetGroupsException', Code: 'TooManyTargetGroups' });
  });

  it('100 rules per load balancer besides the default rule (TooManyRules)', async () => {
    f = createFixture();
    const arn = await arnOf('shared');
    for (let i = 1; i <= 100; i++) await f.elbv2.send(rule(i, arn));
    await expect(f.elbv2.send(rule(101, arn))).rejects.toMatchObject({ name: 'TooManyRulesException', Code: 'TooManyRules' });
  });

  // "Targets per Application Load Balancer: 1,000, adjustable" ("Quotas for your Application Load
  // Balancers", Elastic Load Balancing User Guide); RegisterTargets' error TooManyTargets (Elastic
  // Load Balancing API Reference, RegisterTargets)
  it('1,000 targets per load balancer across its target groups (TooManyTargets at RegisterTargets; the whole call refused)', async () => {
    f = createFixture();
    expect(f.sim.config.maxTargetsPerLoadBalancer).toBe(1000);
    const [a, b, loose] = [await arnOf('a'), await arnOf('b'), await arnOf('loose')];
    await f.elbv2.send(rule(1, a));
    await f.elbv2.send(rule(2, b));
    const ips = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ Id: `10.0.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 1}`, Port: 80 }));
    await f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: a, Targets: ips(0, 600) }));
    await f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: b, Targets: ips(600, 399) }));
    // a batch that would cross the quota registers nothing
    const batch = await rejection(f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: b, Targets: ips(999, 2) })));
    expect(batch).toMatchObject({ name: 'TooManyTargetsException', Code: 'TooManyTargets', sfnErrorName: 'ElasticLoadBalancingV2.TooManyTargetsException' });
    expect(batch.message).toBe("You've reached the limit on the number of targets.");
    expect(f.sim.resources().shards[0]!.targets).toBe(999);
    await f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: b, Targets: ips(999, 1) }));
    await expect(f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: a, Targets: ips(1000, 1) }))).rejects.toMatchObject({ Code: 'TooManyTargets' });
    // registering a registered target again is no new target
    await f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: a, Targets: ips(0, 1) }));
    // a target group no rule uses belongs to no load balancer
    await f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: loose, Targets: ips(1000, 5) }));
    expect(f.sim.resources().shards[0]!.targets).toBe(1000);
  });

  it('a task ECS cannot register past the targets quota never serves: it is stopped as failed and the deployment fails', async () => {
    f = createFixture({ maxTargetsPerLoadBalancer: 2 });
    await createEnvironment(f, 'first', 'nginx:1.27', { desiredCount: 2, priority: 1 });
    expect(await f.clock.advanceUntil(() => Boolean(f.sim.internals.ecs.services.get('first')?.steady), 30_000, 100)).toBe(true);
    const { targetGroupArn } = await createEnvironment(f, 'second', 'nginx:1.27', { priority: 2 });
    expect(await f.clock.advanceUntil(() => eventNames(f.events).includes('SERVICE_DEPLOYMENT_FAILED'), 30_000, 100)).toBe(true);
    const second = await describeService(f, 'second');
    expect(second.deployments[0]).toMatchObject({ rolloutState: 'FAILED' });
    expect(second.events.map((e: { message: string }) => e.message)).toContainEqual(
      `(service second) failed to register targets in (target-group ${targetGroupArn}) with (error You've reached the limit on the number of targets.)`,
    );
    const stopped = f.events.filter((e) => e['detail-type'] === 'ECS Task State Change' && e.detail.group === 'service:second' && e.detail.lastStatus === 'STOPPED');
    expect(stopped).not.toEqual([]);
    for (const task of stopped) {
      expect(task.detail).toMatchObject({ stopCode: 'ServiceSchedulerInitiated' });
      expect(String(task.detail.stoppedReason)).toMatch(/^Task failed to register targets in \(target-group .*\): You've reached the limit on the number of targets\.$/);
    }
    expect((await f.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))).TargetHealthDescriptions).toEqual([]);
    // the first environment kept its targets
    expect(f.sim.resources().shards[0]!.targets).toBe(2);
  });

  it('FLEDGE_SIM_MAX_TARGETS sets the targets quota; above AWS\'s default it is reported at startup', () => {
    expect(simulatorOptionsFromEnv({ FLEDGE_SIM_MAX_TARGETS: '5000' }).maxTargetsPerLoadBalancer).toBe(5000);
    expect(simulatorOptionsFromEnv({}).maxTargetsPerLoadBalancer).toBeUndefined();
    const warnings: string[] = [];
    const logger: SimLogger = { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) };
    createSimulator({ logger, rateLimits: false, maxTargetsPerLoadBalancer: 5000 }).stop();
    expect(warnings.join('\n')).toMatch(/FLEDGE_SIM_MAX_TARGETS=5000 is above AWS's default quota of 1000 targets per Application Load Balancer/);
  });

  it('settings above AWS limits are allowed but reported at startup', () => {
    const warnings: string[] = [];
    const logger: SimLogger = { debug() {}, info() {}, error() {}, warn: (message) => warnings.push(message) };
    createSimulator({ logger, rateLimits: false }).stop();
    expect(warnings).toEqual([]);
    const sim = createSimulator({ logger, rateLimits: false, maxTargetGroups: 2000, maxRules: 2000 });
    sim.stop();
    expect(sim.config.maxTargetGroupsPerRegion).toBe(3000);
    expect(warnings.join('\n')).toMatch(/FLEDGE_SIM_MAX_TARGET_GROUPS=2000 is above AWS's limit of 100 target groups per Application Load Balancer, which cannot be raised/);
    expect(warnings.join('\n')).toMatch(/FLEDGE_SIM_MAX_RULES=2000 is above AWS's default quota of 100 rules/);
  });
});

describe('health-check grace period', () => {
  async function unhealthyService(name: string, priority: number, graceSeconds: number | undefined) {
    const taskDefinitionArn = await registerTaskDefinition(f, name, 'nginx:fail-health');
    const targetGroupArn = (
      await f.elbv2.send(
        new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: f.sim.config.vpcId, TargetType: 'ip', HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2 }),
      )
    ).TargetGroups[0].TargetGroupArn as string;
    await f.elbv2.send(
      new CreateRuleCommand({ ListenerArn: f.sim.listenerArn, Priority: priority, Conditions: [{ Field: 'host-header', Values: [`${name}.localhost`] }], Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] }),
    );
    await f.ecs.send(new CreateServiceCommand(serviceInput(f, name, taskDefinitionArn, targetGroupArn, graceSeconds === undefined ? {} : { healthCheckGracePeriodSeconds: graceSeconds })));
    return targetGroupArn;
  }
  const stoppedCount = async (name: string) => (await f.ecs.send(new ListTasksCommand({ cluster: f.sim.clusterArn, serviceName: name, desiredStatus: 'STOPPED' }))).taskArns.length;

  it('ECS ignores unhealthy targets for the grace period after the task started (scaled: grace_s / interval_s x health-check interval), then replaces them', async () => {
    f = createFixture(); // health checks every 200 ms for a target group's 10 s: 100 s of grace = 2000 ms
    const graceTg = await unhealthyService('graceful', 1, 100);
    await unhealthyService('graceless', 2, undefined);
    const service = f.sim.internals.ecs.services.get('graceful')!;
    expect(f.sim.internals.ecs.graceMs(service, graceTg)).toBe(2000);
    await f.clock.advance(1000); // both tasks RUNNING now
    await f.clock.advance(1000); // two failed checks: both targets unhealthy
    expect(await stoppedCount('graceless')).toBe(1);
    expect(await stoppedCount('graceful')).toBe(0);
    const health = await f.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: graceTg }));
    expect(health.TargetHealthDescriptions[0].TargetHealth.State).toBe('unhealthy');
    await f.clock.advance(800); // still inside the 2000 ms after start
    expect(await stoppedCount('graceful')).toBe(0);
    await f.clock.advance(400); // past it: replaced
    expect(await stoppedCount('graceful')).toBe(1);
    const [stopped] = (await f.ecs.send(new DescribeTasksCommand({ cluster: f.sim.clusterArn, tasks: (await f.ecs.send(new ListTasksCommand({ cluster: f.sim.clusterArn, serviceName: 'graceful', desiredStatus: 'STOPPED' }))).taskArns }))).tasks;
    expect(stopped.stoppedReason).toMatch(/^Task failed ELB health checks in \(target-group /);
  });

  it('a grace period set by UpdateService applies to the tasks from then on', async () => {
    f = createFixture();
    await createEnvironment(f, 'later');
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'later', healthCheckGracePeriodSeconds: 50 }));
    expect(f.sim.internals.ecs.graceMs(f.sim.internals.ecs.services.get('later')!, f.sim.internals.ecs.services.get('later')!.loadBalancers[0]!.targetGroupArn)).toBe(1000);
  });
});
