import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAwsError } from './support/fake-aws.ts';
import { BASE_DOMAIN, Harness, spec } from './support/harness.ts';

const h = new Harness();
beforeAll(() => h.start());
afterAll(() => h.stop());
beforeEach(() => h.reset());

// task definitions are shared between environments (docs/design.md "Shared task definitions"): a teardown keeps them
const empty = { services: [], targetGroups: [], rules: [] };

describe('teardown workflow', () => {
  it('removes every resource but the shared task definition, frees the priority, ends DELETED with a receipt; a second teardown finds nothing and succeeds', async () => {
    await h.created('td-twice');
    const before = await h.item('td-twice');
    const counters = await h.counters();
    const { fake } = h.world;
    const serviceArn = fake.services.get('td-twice')!.ServiceArn as string;
    const tgArn = [...fake.targetGroups.keys()][0]!;
    const ruleArn = [...fake.rules.keys()][0]!;
    const tdArn = [...fake.taskDefinitions.keys()][0]!;

    const first = await h.run('teardown', await h.seedEnvironment('td-twice', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(first.status).toBe('SUCCEEDED');
    expect(first.stateTransitions).toBeLessThanOrEqual(20);
    expect(first.statesEntered).toEqual([
      'DiscoverResources', 'DeleteAlarms', 'RemoveScalableTarget', 'DeleteService', 'DeleteListenerRules', 'DeleteRule', 'DeleteTargetGroups', 'DeleteTargetGroup',
      'FinishTeardown',
    ]);
    expect(fake.leftovers()).toEqual({ ...empty, activeTaskDefinitions: [tdArn] });
    expect(fake.calls.filter((c) => /TaskDefinition/.test(c.action) && c.action !== 'RegisterTaskDefinition' && c.action !== 'DescribeTaskDefinition')).toEqual([]);
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

    const second = await h.run('teardown', await h.seedEnvironment('td-twice', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(second.status).toBe('SUCCEEDED');
    expect((await h.item('td-twice'))!.status).toBe('DELETED');
    const again = (await h.events('td-twice'))[0]!;
    expect(again).toMatchObject({ type: 'deleted', details: { removed: [] } });
    expect(again.details!.kept).toBeUndefined();
  });

  it('keeps the task definition another environment with the same definition still runs', async () => {
    await h.created('td-one');
    await h.created('td-two');
    const { fake } = h.world;
    expect(fake.taskDefinitions.size).toBe(1);
    const [tdArn] = fake.taskDefinitions.keys();
    const record = await h.run('teardown', await h.seedEnvironment('td-one', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(fake.taskDefinitions.get(tdArn!)!.Status).toBe('ACTIVE');
    expect(fake.services.get('td-two')).toMatchObject({ Status: 'ACTIVE', TaskDefinition: tdArn });
    expect(fake.services.get('td-one')!.Status).toBe('INACTIVE');
  });

  it('tears down a half-built environment (a target group, no rule, no service) and leaves task definitions to the cleanup', async () => {
    const { fake } = h.world;
    const td = fake.doRegisterTaskDefinition({ Family: 'fledge-td-0123456789abcdef0123456789abcdef', ContainerDefinitions: [] }).TaskDefinition;
    const tg = fake.doCreateTargetGroup({ Name: 'td-half', Tags: [{ Key: 'fledge:environment', Value: 'td-half' }] }).TargetGroups[0];
    const record = await h.run('teardown', await h.seedEnvironment('td-half', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(fake.targetGroups.has(tg!.TargetGroupArn)).toBe(false);
    expect(fake.taskDefinitions.get(td.TaskDefinitionArn)!.Status).toBe('ACTIVE');
    const receipt = (await h.events('td-half'))[0]!;
    expect(receipt.details).toEqual({ removed: [{ type: 'target-group', arn: tg!.TargetGroupArn }] });
    expect((await h.item('td-half'))!.status).toBe('DELETED');
  });

  it('tears down an environment of an earlier version: its target group named exactly after it, found through its rule, and its legacy alarms', async () => {
    const { fake } = h.world;
    const tags = [{ Key: 'fledge:environment', Value: 'td-old' }];
    const tg = fake.doCreateTargetGroup({ Name: 'td-old', Tags: tags }).TargetGroups[0]!;
    const rule = fake.doCreateRule({
      Priority: 77, Tags: tags,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`td-old.${BASE_DOMAIN}`] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
    }).Rules[0]!;
    for (const kind of ['tasks', 'unhealthy']) {
      const dimensions = kind === 'tasks' ? [{ Name: 'ClusterName', Value: 'fledge' }, { Name: 'ServiceName', Value: 'td-old' }] : [{ Name: 'LoadBalancer', Value: 'app/fledge/abc' }];
      fake.doPutMetricAlarm({ AlarmName: `fledge-td-old-${kind}`, Dimensions: dimensions, Tags: tags });
    }
    // another installation's alarm for an environment of the same name stays
    fake.doPutMetricAlarm({ AlarmName: 'fledge-other-td-old-tasks', Dimensions: [{ Name: 'ClusterName', Value: 'other' }], Tags: tags });

    const record = await h.run('teardown', await h.seedEnvironment('td-old', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(fake.targetGroups.has(tg.TargetGroupArn)).toBe(false);
    expect(fake.rules.has(rule.RuleArn)).toBe(false);
    expect([...fake.alarms.keys()]).toEqual(['fledge-other-td-old-tasks']);
    const removed = (await h.events('td-old'))[0]!.details!.removed as { type: string; arn: string }[];
    expect(removed.map((r) => r.type).sort()).toEqual(['cloudwatch-alarm', 'cloudwatch-alarm', 'listener-rule', 'target-group']);
  });

  it('leaves alone a target group of that name that Fledge did not tag', async () => {
    const { fake } = h.world;
    fake.doCreateTargetGroup({ Name: 'td-foreign', Tags: [{ Key: 'team', Value: 'other' }] });
    const record = await h.run('teardown', await h.seedEnvironment('td-foreign', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(fake.targetGroups.size).toBe(1);
  });

  it('retries a target group still in use, and throttling, until it is gone', async () => {
    await h.created('td-inuse');
    const { fake } = h.world;
    fake.failOn('DeleteTargetGroup', () => new FakeAwsError('ResourceInUseException', 'Target group is currently in use'), 3);
    fake.throttle('DeleteService', 10);
    const record = await h.run('teardown', await h.seedEnvironment('td-inuse', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(fake.leftovers()).toMatchObject(empty);
    expect(fake.callsOf('DeleteTargetGroup')).toHaveLength(4);
  });

  it('a teardown that cannot finish stays DELETING with the error, so a repeated DELETE can retry it', async () => {
    await h.created('td-stuck');
    h.world.fake.failOn('DeleteRule', () => new FakeAwsError('OperationNotPermittedException', 'not permitted'));
    const record = await h.run('teardown', await h.seedEnvironment('td-stuck', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('TeardownFailed');
    expect(await h.item('td-stuck')).toMatchObject({ status: 'DELETING', operation: { status: 'FAILED', error: { code: 'INTERNAL' } } });
    const retry = await h.run('teardown', await h.seedEnvironment('td-stuck', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(retry.status).toBe('SUCCEEDED');
    expect(h.world.fake.leftovers()).toMatchObject(empty);
  });
});
