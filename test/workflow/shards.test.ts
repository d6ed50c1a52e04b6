/**
 * The pool of load balancers in the workflows (docs/design.md "Shards"): a create is placed on
 * the open shard with room and works on that shard's listener; compensation and teardown give
 * the slot back; a full pool fails the create with QUOTA_EXCEEDED before any AWS call; a closed
 * shard's environments live on. The simulated ALB is the pool's open shard; a closed shard
 * beside it, whose listener no step may touch, shows that nothing reaches for the first one.
 */
import { afterEach, afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { shardUsage } from '../../functions/adapters/shard-slots.ts';
import { ENVIRONMENTS_PER_SHARD, shardFromListener, type Shard } from '../../functions/domain/shards.ts';
import { resetConfig } from '../../functions/runtime/config.ts';
import { FAST, SimHarness, isMutation, spec } from './support/sim-harness.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());

let run = 0;
let open: Shard;
let closed: Shard;

/** A pool of two: `closed` (s1xx, an ALB being replaced) and `open` (s2xx, the simulated ALB); ids new in every test, as the table is shared. */
function usePool(pool: Shard[]): void {
  process.env.FLEDGE_SHARDS = JSON.stringify(pool);
  resetConfig();
}

beforeEach(async () => {
  await h.reset({ timeoutOverrides: { AwaitSteadyState: 2 }, simulator: FAST });
  run++;
  closed = {
    ...shardFromListener('arn:aws:elasticloadbalancing:eu-west-1:000000000000:listener/app/fledge-old/1111111111111111/2222222222222222', 'arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/old-waker/3333333333333333'),
    id: `s${100 + run}`,
    closed: true,
  };
  open = { ...shardFromListener(h.sim.listenerArn, h.wakerTargetGroupArn), id: `s${200 + run}`, dnsName: 'fledge-sim.eu-west-1.elb.amazonaws.com', canonicalHostedZoneId: 'Z32O12XQLNTSW2' };
  usePool([closed, open]);
});
afterEach(() => {
  delete process.env.FLEDGE_SHARDS;
  resetConfig();
});

const used = async (shard: Shard) => (await shardUsage([shard])).get(shard.id);
/** no call names the closed shard's listener, load balancer or waker */
const closedUntouched = () => expect(JSON.stringify(h.calls)).not.toMatch(/fledge-old|old-waker/);

describe('the pool of load balancers in the workflows', () => {
  it("places a create on the open shard, records it, puts its rule on that shard's listener and its alarms on that load balancer; the teardown frees the slot", async () => {
    const name = `sh-create-${run}`;
    await h.created(name);
    const item = await h.item(name);
    expect(item).toMatchObject({ status: 'RUNNING', shard: open.id });
    expect(await used(open)).toBe(1);
    expect(h.callsOf('CreateRule')[0]!.params.ListenerArn).toBe(open.listenerArn);
    const unhealthy = h.callsOf('PutMetricAlarm').find((c) => String(c.params.AlarmName).endsWith('-unhealthy'))!;
    expect(unhealthy.params.Dimensions).toContainEqual({ Name: 'LoadBalancer', Value: open.loadBalancerDimension });
    expect((await h.events(name)).find((e) => e.type === 'provisioning')!.details).toMatchObject({ shard: open.id });
    closedUntouched();

    const teardown = await h.run('teardown', await h.seed(name, spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(teardown.status).toBe('SUCCEEDED');
    expect(h.callsOf('DeleteRule')).toHaveLength(1);
    const deleted = await h.item(name);
    expect(deleted!.status).toBe('DELETED');
    expect(deleted).not.toHaveProperty('shard');
    expect(await used(open)).toBe(0);
    closedUntouched();
  });

  it("a failed create's compensation gives the slot back with the listener priority; a retry is placed again", async () => {
    const name = `sh-undo-${run}`;
    h.failOn('CreateService', 'InvalidParameterException', 'boom');
    const failed = await h.run('create', await h.seed(name, spec()));
    expect(failed.status).toBe('FAILED');
    const item = await h.item(name);
    expect(item!.status).toBe('FAILED');
    expect(item).not.toHaveProperty('shard');
    expect(item).not.toHaveProperty('listenerPriority');
    expect(await used(open)).toBe(0);

    const retried = await h.run('create', await h.seed(name, spec(), { status: 'UPDATING', specVersion: 1 }));
    expect(retried.status).toBe('SUCCEEDED');
    expect(await h.item(name)).toMatchObject({ status: 'RUNNING', shard: open.id });
    expect(await used(open)).toBe(1);
  });

  it('a full pool fails the create with QUOTA_EXCEEDED before any AWS call changes anything', async () => {
    await dynamodbClient().send(new PutCommand({
      TableName: process.env.TABLE_NAME, Item: { pk: `SHARD#${open.id}`, sk: 'SHARD', kind: 'SHARD', shard: open.id, used: ENVIRONMENTS_PER_SHARD },
    }));
    const name = `sh-full-${run}`;
    const record = await h.run('create', await h.seed(name, spec()));
    expect(record.status).toBe('FAILED');
    const item = await h.item(name);
    expect(item!.status).toBe('FAILED');
    expect(item!.operation.error).toEqual({
      code: 'QUOTA_EXCEEDED',
      message: "the installation's 2 load balancers are full (99 environments each; 1 closed to new environments): delete an environment or grow the pool (maxEnvironments)",
    });
    expect(h.calls.filter(isMutation)).toEqual([]);
    expect(item).not.toHaveProperty('listenerPriority');
    expect(await used(open)).toBe(ENVIRONMENTS_PER_SHARD);
  });

  it("a closed shard's environments live on: a sleep points its rule at that shard's waker, a heal looks on its listener, an update deploys", async () => {
    const name = `sh-closed-${run}`;
    await h.created(name);
    // the shard is closed to new environments after the create (an operator replacing it)
    usePool([closed, { ...open, closed: true }]);
    h.calls = [];
    const asleep = await h.run('scale', await h.seed(name, spec({ desiredCount: 0 }), { status: 'SCALING', specVersion: 2, type: 'scale', workflow: 'scale' }));
    expect(asleep.status).toBe('SUCCEEDED');
    const modify = h.callsOf('ModifyRule')[0]!.params as { Actions: { ForwardConfig: { TargetGroups: { TargetGroupArn: string; Weight: number }[] } }[] };
    expect(modify.Actions[0]!.ForwardConfig.TargetGroups[0]).toEqual({ TargetGroupArn: open.wakerTargetGroupArn, Weight: 1 });
    const awake = await h.run('scale', await h.seed(name, spec({ desiredCount: 1 }), { status: 'SCALING', specVersion: 3, type: 'scale', workflow: 'scale' }));
    expect(awake.status).toBe('SUCCEEDED');
    const updated = await h.run('update', await h.seed(name, spec({ image: 'ghcr.io/acme/web:2.0', desiredCount: 1 }), { status: 'UPDATING', specVersion: 4, workflow: 'update' }));
    expect(updated.status).toBe('SUCCEEDED');
    const healed = await h.run('heal', await h.seed(name, spec({ image: 'ghcr.io/acme/web:2.0', desiredCount: 1 }), { status: 'HEALING', specVersion: 4, type: 'heal', workflow: 'heal' }));
    expect(healed.status).toBe('SUCCEEDED');
    expect(h.callsOf('DescribeRules').length).toBeGreaterThan(0);
    expect(await h.item(name)).toMatchObject({ status: 'RUNNING', shard: open.id });
    expect(await used(open)).toBe(1);
    closedUntouched();
  });
});
