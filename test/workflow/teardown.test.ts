import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BASE_DOMAIN, FAST, SimHarness, spec, transitionsBesidesWaits } from './support/sim-harness.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());
beforeEach(() => h.reset({ simulator: FAST }));

/** A task definition, target group or alarm made outside Fledge's workflows (an earlier version's, a half-built one). */
const make = (service: string, action: string, input: Record<string, unknown>) => h.aws(service, action, input);
const targetGroupInput = (Name: string, Tags: { Key: string; Value: string }[]) => ({ Name, Protocol: 'HTTP', Port: 8080, VpcId: h.sim.config.vpcId, TargetType: 'ip', Tags });
const alarmInput = (AlarmName: string, Dimensions: { Name: string; Value: string }[], Tags: { Key: string; Value: string }[]) => ({
  AlarmName, Dimensions, Tags, Namespace: 'AWS/ECS', MetricName: 'RunningTaskCount', Statistic: 'Minimum', Period: 60, EvaluationPeriods: 1, Threshold: 1,
  ComparisonOperator: 'LessThanThreshold',
});
const taskDefinitionArns = () => h.sim.resources().taskDefinitions.map((t) => t.arn);

// task definitions are shared between environments (docs/design.md "Shared task definitions"): a teardown keeps them
const empty = { services: [], targetGroups: [], rules: [] };

describe('teardown workflow', () => {
  it('removes every resource but the shared task definition, frees the priority, ends DELETED with a receipt; a second teardown finds nothing and succeeds', async () => {
    await h.created('td-twice');
    const before = await h.item('td-twice');
    const counters = await h.counters();
    const serviceArn = h.service('td-twice')!.arn;
    const tgArn = (await h.targetGroup('td-twice')).TargetGroupArn as string;
    const ruleArn = (await h.rules())[0]!.RuleArn as string;
    const [tdArn] = taskDefinitionArns();

    const first = await h.run('teardown', await h.seed('td-twice', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(first.status).toBe('SUCCEEDED');
    expect(transitionsBesidesWaits(first)).toBeLessThanOrEqual(20);
    expect(first.statesEntered).toEqual([
      'DiscoverResources', 'BeforeDeleteHook', 'DeleteAlarms', 'RemoveScalableTarget', 'DeleteService', 'DnsRecordToDelete', 'DeleteListenerRules', 'DeleteRule', 'DeleteTargetGroups', 'DeleteTargetGroup',
      'FinishTeardown',
    ]);
    expect(h.leftovers()).toEqual({ ...empty, activeTaskDefinitions: [tdArn] });
    expect(h.calls.filter((c) => /TaskDefinition/.test(c.action) && c.action !== 'RegisterTaskDefinition' && c.action !== 'DescribeTaskDefinition')).toEqual([]);
    const item = await h.item('td-twice');
    expect(item).toMatchObject({ status: 'DELETED', gsiStatusPk: 'STATUS#DELETED', runningCount: 0, operation: { status: 'SUCCEEDED' } });
    expect(item!.gsiExpiryPk).toBeUndefined();
    expect(item!.listenerPriority).toBeUndefined();
    const retention = item!.purgeAt - Date.now() / 1000;
    expect(retention).toBeGreaterThan(29 * 86_400);
    expect(retention).toBeLessThanOrEqual(30 * 86_400);
    expect(await h.priorityHolder(before!.listenerPriority)).toBeUndefined();
    expect((await h.counters()).total).toBe(counters.total! - 1);
    const receipt = (await h.events('td-twice'))[0]!;
    expect(receipt.type).toBe('deleted');
    const removed = receipt.details!.removed as { type: string; arn: string }[];
    expect(removed.filter((r) => r.type !== 'cloudwatch-alarm')).toEqual([
      { type: 'ecs-service', arn: serviceArn },
      { type: 'listener-rule', arn: ruleArn },
      { type: 'target-group', arn: tgArn },
    ]);
    expect(removed.map((r) => r.type)).not.toContain('task-definition');
    // honest about what it left: the shared task definition, and why
    expect(receipt.details!.kept).toEqual([{ type: 'task-definition', arn: tdArn, reason: expect.stringMatching(/shared.*cleanup deregisters it once no service uses it/) }]);
    expect(receipt.message).toContain(`kept the shared task definition ${tdArn}`);

    const second = await h.run('teardown', await h.seed('td-twice', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(second.status).toBe('SUCCEEDED');
    expect((await h.item('td-twice'))!.status).toBe('DELETED');
    const again = (await h.events('td-twice'))[0]!;
    expect(again).toMatchObject({ type: 'deleted', details: { removed: [] } });
    expect(again.details!.kept).toBeUndefined();
  });

  it('keeps the task definition another environment with the same definition still runs', async () => {
    await h.created('td-one');
    await h.created('td-two');
    expect(taskDefinitionArns()).toHaveLength(1);
    const [tdArn] = taskDefinitionArns();
    const record = await h.run('teardown', await h.seed('td-one', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(taskDefinitionArns()).toEqual([tdArn]);
    expect(h.service('td-two')).toMatchObject({ status: 'ACTIVE', taskDefinition: tdArn });
    // deleted: DRAINING until its tasks stopped, then INACTIVE
    const { Services } = await h.aws('ecs', 'DescribeServices', { Cluster: h.sim.clusterArn, Services: ['td-one'] });
    expect(['DRAINING', 'INACTIVE']).toContain(Services[0].Status);
  });

  it('tears down a half-built environment (a target group, no rule, no service) and leaves task definitions to the cleanup', async () => {
    const td = (await make('ecs', 'RegisterTaskDefinition', { Family: 'fledge-td-0123456789abcdef0123456789abcdef', ContainerDefinitions: [{ Name: 'app', Image: 'ghcr.io/acme/web:1.0' }] })).TaskDefinition;
    const tg = (await make('elasticloadbalancingv2', 'CreateTargetGroup', targetGroupInput('td-half', [{ Key: 'fledge:environment', Value: 'td-half' }]))).TargetGroups[0];
    const record = await h.run('teardown', await h.seed('td-half', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(h.leftovers().targetGroups).not.toContain(tg!.TargetGroupArn);
    expect(taskDefinitionArns()).toContain(td.TaskDefinitionArn);
    const receipt = (await h.events('td-half'))[0]!;
    expect(receipt.details).toEqual({ removed: [{ type: 'target-group', arn: tg!.TargetGroupArn }] });
    expect((await h.item('td-half'))!.status).toBe('DELETED');
  });

  it('tears down an environment of an earlier version: its target group named exactly after it, found through its rule, and its legacy alarms', async () => {
    const tags = [{ Key: 'fledge:environment', Value: 'td-old' }];
    const tg = (await make('elasticloadbalancingv2', 'CreateTargetGroup', targetGroupInput('td-old', tags))).TargetGroups[0]!;
    const rule = (await make('elasticloadbalancingv2', 'CreateRule', {
      ListenerArn: h.sim.listenerArn, Priority: 77, Tags: tags,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`td-old.${BASE_DOMAIN}`] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
    })).Rules[0]!;
    // CloudWatch's LoadBalancer dimension: the final part of the load balancer's ARN (app/<name>/<id>)
    const loadBalancerDimension = h.sim.loadBalancerArn.split(':loadbalancer/')[1]!;
    for (const kind of ['tasks', 'unhealthy']) {
      const dimensions = kind === 'tasks' ? [{ Name: 'ClusterName', Value: 'fledge' }, { Name: 'ServiceName', Value: 'td-old' }] : [{ Name: 'LoadBalancer', Value: loadBalancerDimension }];
      await make('cloudwatch', 'PutMetricAlarm', alarmInput(`fledge-td-old-${kind}`, dimensions, tags));
    }
    // another installation's alarm for an environment of the same name stays
    await make('cloudwatch', 'PutMetricAlarm', alarmInput('fledge-other-td-old-tasks', [{ Name: 'ClusterName', Value: 'other' }], tags));

    const record = await h.run('teardown', await h.seed('td-old', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(h.leftovers().targetGroups).not.toContain(tg.TargetGroupArn);
    expect(h.leftovers().rules).not.toContain(rule.RuleArn);
    expect(h.sim.resources().alarms.map((a) => a.name)).toEqual(['fledge-other-td-old-tasks']);
    const removed = (await h.events('td-old'))[0]!.details!.removed as { type: string; arn: string }[];
    expect(removed.map((r) => r.type).sort()).toEqual(['cloudwatch-alarm', 'cloudwatch-alarm', 'listener-rule', 'target-group']);
  });

  it('leaves alone a target group of that name that Fledge did not tag', async () => {
    await make('elasticloadbalancingv2', 'CreateTargetGroup', targetGroupInput('td-foreign', [{ Key: 'team', Value: 'other' }]));
    const record = await h.run('teardown', await h.seed('td-foreign', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(h.leftovers().targetGroups).toHaveLength(1);
  });

  it('retries a target group still in use, and throttling, until it is gone', async () => {
    await h.created('td-inuse');
    h.failOn('DeleteTargetGroup', 'ResourceInUse', 'Target group is currently in use', 3);
    h.throttle('DeleteService', 10);
    const record = await h.run('teardown', await h.seed('td-inuse', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(h.leftovers()).toMatchObject(empty);
    expect(h.callsOf('DeleteTargetGroup')).toHaveLength(4);
  });

  it('a teardown that cannot finish stays DELETING with the error, so a repeated DELETE can retry it', async () => {
    await h.created('td-stuck');
    h.failOn('DeleteRule', 'OperationNotPermitted', 'not permitted');
    const record = await h.run('teardown', await h.seed('td-stuck', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('TeardownFailed');
    expect(await h.item('td-stuck')).toMatchObject({ status: 'DELETING', operation: { status: 'FAILED', error: { code: 'INTERNAL' } } });
    const retry = await h.run('teardown', await h.seed('td-stuck', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(retry.status).toBe('SUCCEEDED');
    expect(h.leftovers()).toMatchObject(empty);
  });
});
