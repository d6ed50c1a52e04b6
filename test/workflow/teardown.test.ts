import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAwsError } from './support/fake-aws.ts';
import { Harness, spec } from './support/harness.ts';

const h = new Harness();
beforeAll(() => h.start());
afterAll(() => h.stop());
beforeEach(() => h.reset());

const empty = { services: [], targetGroups: [], rules: [], activeTaskDefinitions: [] };

describe('teardown workflow', () => {
  it('removes every resource, frees the priority, ends DELETED with a receipt; a second teardown finds nothing and succeeds', async () => {
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
      'DeregisterTaskDefinitions', 'DeregisterTaskDefinition', 'DeleteTaskDefinitions', 'DeleteTaskDefinitionBatch', 'FinishTeardown',
    ]);
    expect(fake.leftovers()).toEqual(empty);
    expect(fake.taskDefinitions.size).toBe(0);
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
    expect(receipt.details!.removed).toEqual([
      { type: 'ecs-service', arn: serviceArn },
      { type: 'listener-rule', arn: ruleArn },
      { type: 'target-group', arn: tgArn },
      { type: 'task-definition', arn: tdArn },
    ]);

    const second = await h.run('teardown', await h.seedEnvironment('td-twice', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(second.status).toBe('SUCCEEDED');
    expect((await h.item('td-twice'))!.status).toBe('DELETED');
    expect((await h.events('td-twice'))[0]).toMatchObject({ type: 'deleted', details: { removed: [] } });
  });

  it('tears down a half-built environment (a target group and a task definition, no rule, no service)', async () => {
    const { fake } = h.world;
    const td = fake.doRegisterTaskDefinition({ Family: 'fledge-td-half', ContainerDefinitions: [] }).TaskDefinition;
    fake.doRegisterTaskDefinition({ Family: 'fledge-td-half-other', ContainerDefinitions: [] });
    const tg = fake.doCreateTargetGroup({ Name: 'td-half', Tags: [{ Key: 'fledge:environment', Value: 'td-half' }] }).TargetGroups[0];
    const record = await h.run('teardown', await h.seedEnvironment('td-half', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(fake.targetGroups.has(tg!.TargetGroupArn)).toBe(false);
    expect(fake.taskDefinitions.has(td.TaskDefinitionArn)).toBe(false);
    // another environment's family that merely shares the prefix is left alone
    expect([...fake.taskDefinitions.values()].map((t) => t.Family)).toEqual(['fledge-td-half-other']);
    expect((await h.item('td-half'))!.status).toBe('DELETED');
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
    expect(fake.leftovers()).toEqual(empty);
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
    expect(h.world.fake.leftovers()).toEqual(empty);
  });
});
