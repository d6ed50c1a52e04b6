/**
 * The simulator's pool of Application Load Balancers (issue 14): N shards, each with its own
 * listener, rules, DNS name and tags, and AWS's limits per load balancer and per Region
 * ("Quotas for your Application Load Balancers", Elastic Load Balancing User Guide).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  AddTagsCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createSimulator, simulatorOptionsFromEnv, type SimulatedDns } from '../../../infra/local/simulator/index.ts';
import { createFixture, createEnvironment, type Fixture } from './sim-fixture.ts';

let f: Fixture | undefined;
afterEach(() => {
  f?.sim.stop();
  f = undefined;
});

const pool = (shards: number) => (f = createFixture({ shards }));
const rejection = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a rejection'); }, (error: unknown) => error);
const targetGroup = async (fx: Fixture, name: string) =>
  (await fx.elbv2.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: fx.sim.config.vpcId, TargetType: 'ip' }))).TargetGroups[0].TargetGroupArn as string;
const rule = (listenerArn: string, priority: number, targetGroupArn: string, host = `r${priority}.localhost`) =>
  new CreateRuleCommand({ ListenerArn: listenerArn, Priority: priority, Conditions: [{ Field: 'host-header', Values: [host] }], Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] });

describe('a pool of load balancers', () => {
  it('one shard by default: fledge-local-s1, which is the simulator\'s loadBalancerArn and listenerArn', async () => {
    const fx = pool(1);
    expect(fx.sim.shards).toHaveLength(1);
    expect(fx.sim.shards[0]).toMatchObject({ id: 's1', name: 'fledge-local-s1', loadBalancerArn: fx.sim.loadBalancerArn, listenerArn: fx.sim.listenerArn });
  });

  it('N shards: each its own ALB, listener, DNS name and LoadBalancer dimension, described per ALB', async () => {
    const fx = pool(3);
    const shards = fx.sim.shards;
    expect(shards.map((s) => s.id)).toEqual(['s1', 's2', 's3']);
    expect(shards.map((s) => s.name)).toEqual(['fledge-local-s1', 'fledge-local-s2', 'fledge-local-s3']);
    for (const key of ['loadBalancerArn', 'listenerArn', 'dnsName', 'loadBalancerDimension'] as const) expect(new Set(shards.map((s) => s[key])).size).toBe(3);
    for (const shard of shards) {
      expect(shard.loadBalancerArn).toBe(`arn:aws:elasticloadbalancing:eu-west-1:000000000000:loadbalancer/${shard.loadBalancerDimension}`);
      expect(shard.listenerArn.startsWith(shard.loadBalancerArn.replace(':loadbalancer/', ':listener/') + '/')).toBe(true);
      expect(shard.dnsName).toMatch(new RegExp(`^${shard.name}-\\d{10}\\.eu-west-1\\.elb\\.amazonaws\\.com$`));
      // one hosted zone id per Region for every ALB there
      expect(shard.canonicalHostedZoneId).toBe('Z32O12XQLNTSW2');
    }

    const all = await fx.elbv2.send(new DescribeLoadBalancersCommand({}));
    expect(all.LoadBalancers.map((lb: { LoadBalancerName: string }) => lb.LoadBalancerName)).toEqual(['fledge-local-s1', 'fledge-local-s2', 'fledge-local-s3']);
    const second = await fx.elbv2.send(new DescribeLoadBalancersCommand({ Names: ['fledge-local-s2'] }));
    expect(second.LoadBalancers).toEqual([expect.objectContaining({ LoadBalancerArn: shards[1]!.loadBalancerArn, DNSName: shards[1]!.dnsName, CanonicalHostedZoneId: 'Z32O12XQLNTSW2', Type: 'application' })]);
    await expect(fx.elbv2.send(new DescribeLoadBalancersCommand({ Names: ['fledge-local-s4'] }))).rejects.toMatchObject({ name: 'LoadBalancerNotFoundException', Code: 'LoadBalancerNotFound' });
    await expect(fx.elbv2.send(new DescribeLoadBalancersCommand({ Names: ['fledge-local-s1'], LoadBalancerArns: [shards[0]!.loadBalancerArn] }))).rejects.toMatchObject({ Code: 'ValidationError' });

    const listeners = await fx.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: shards[2]!.loadBalancerArn }));
    expect(listeners.Listeners).toEqual([expect.objectContaining({ ListenerArn: shards[2]!.listenerArn, LoadBalancerArn: shards[2]!.loadBalancerArn })]);
    const byArn = await fx.elbv2.send(new DescribeListenersCommand({ ListenerArns: [shards[0]!.listenerArn, shards[1]!.listenerArn] }));
    expect(byArn.Listeners.map((l: { LoadBalancerArn: string }) => l.LoadBalancerArn)).toEqual([shards[0]!.loadBalancerArn, shards[1]!.loadBalancerArn]);
    await expect(fx.elbv2.send(new DescribeListenersCommand({}))).rejects.toMatchObject({ Code: 'ValidationError' });
    await expect(fx.elbv2.send(new DescribeListenersCommand({ ListenerArns: [`${shards[0]!.listenerArn}0`] }))).rejects.toMatchObject({ name: 'ListenerNotFoundException' });
  });

  it('rules belong to their listener: priorities are per listener, DescribeRules lists one listener\'s', async () => {
    const fx = pool(2);
    const [s1, s2] = fx.sim.shards;
    const a = await targetGroup(fx, 'a');
    const b = await targetGroup(fx, 'b');
    await fx.elbv2.send(rule(s1!.listenerArn, 1, a));
    await fx.elbv2.send(rule(s2!.listenerArn, 1, b));
    await expect(fx.elbv2.send(rule(s2!.listenerArn, 1, b, 'other.localhost'))).rejects.toMatchObject({ name: 'PriorityInUseException' });
    const rules = await fx.elbv2.send(new DescribeRulesCommand({ ListenerArn: s2!.listenerArn }));
    expect(rules.Rules.map((r: { Priority: string }) => r.Priority)).toEqual(['1', 'default']);
    expect(JSON.stringify(rules.Rules)).toContain(b);
    expect(JSON.stringify(rules.Rules)).not.toContain(a);
  });

  it('100 rules and 100 unique target groups per load balancer: s1 full does not stop s2 (TooManyRules on s1 only)', async () => {
    const fx = pool(2);
    const [s1, s2] = fx.sim.shards;
    for (let i = 1; i <= 100; i++) await fx.elbv2.send(rule(s1!.listenerArn, i, await targetGroup(fx, `s1-${i}`)));
    const spare = await targetGroup(fx, 'spare');
    await expect(fx.elbv2.send(rule(s1!.listenerArn, 101, spare))).rejects.toMatchObject({ name: 'TooManyRulesException', Code: 'TooManyRules' });
    await fx.elbv2.send(rule(s2!.listenerArn, 101, spare));
    const resources = fx.sim.resources();
    expect(resources.shards.map(({ id, rules, targetGroups }) => ({ id, rules, targetGroups }))).toEqual([
      { id: 's1', rules: 100, targetGroups: 100 },
      { id: 's2', rules: 1, targetGroups: 1 },
    ]);
    expect(resources.listenerRules.filter((r) => r.shard === 's2')).toHaveLength(1);
    expect(resources.targetGroups.find((tg) => tg.arn === spare)?.shard).toBe('s2');
  });

  it('a target group serves one load balancer: using it on another is TargetGroupAssociationLimit (CreateRule and ModifyRule) until its rule is gone', async () => {
    const fx = pool(2);
    const [s1, s2] = fx.sim.shards;
    const shared = await targetGroup(fx, 'shared');
    const own = await targetGroup(fx, 'own');
    await fx.elbv2.send(rule(s1!.listenerArn, 1, shared));
    const error = await rejection(fx.elbv2.send(rule(s2!.listenerArn, 1, shared)));
    expect(error).toMatchObject({ name: 'TargetGroupAssociationLimitException', Code: 'TargetGroupAssociationLimit', sfnErrorName: 'ElasticLoadBalancingV2.TargetGroupAssociationLimitException' });
    const onS2 = (await fx.elbv2.send(rule(s2!.listenerArn, 1, own))).Rules[0].RuleArn as string;
    await expect(fx.elbv2.send(new ModifyRuleCommand({ RuleArn: onS2, Actions: [{ Type: 'forward', TargetGroupArn: shared }] }))).rejects.toMatchObject({ Code: 'TargetGroupAssociationLimit' });
    // a second rule on the same load balancer may use it
    await fx.elbv2.send(rule(s1!.listenerArn, 2, shared, 'again.localhost'));

    const described = await fx.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [shared] }));
    expect(described.TargetGroups[0].LoadBalancerArns).toEqual([s1!.loadBalancerArn]);
    const ofS2 = await fx.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: s2!.loadBalancerArn }));
    expect(ofS2.TargetGroups.map((tg: { TargetGroupArn: string }) => tg.TargetGroupArn)).toEqual([own]);

    // detached from s1, it may move to s2
    for (const r of (await fx.elbv2.send(new DescribeRulesCommand({ ListenerArn: s1!.listenerArn }))).Rules as { RuleArn: string; IsDefault: boolean }[]) {
      if (!r.IsDefault) await fx.elbv2.send(new DeleteRuleCommand({ RuleArn: r.RuleArn }));
    }
    await fx.elbv2.send(new ModifyRuleCommand({ RuleArn: onS2, Actions: [{ Type: 'forward', TargetGroupArn: shared }] }));
    expect((await fx.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [shared] }))).TargetGroups[0].LoadBalancerArns).toEqual([s2!.loadBalancerArn]);
  });

  it('tags per load balancer and listener; an unknown load balancer ARN is LoadBalancerNotFound', async () => {
    const fx = pool(2);
    const [s1, s2] = fx.sim.shards;
    await fx.elbv2.send(new AddTagsCommand({ ResourceArns: [s2!.loadBalancerArn, s2!.listenerArn], Tags: [{ Key: 'fledge:shard', Value: 's2' }] }));
    const tags = await fx.elbv2.send(new DescribeTagsCommand({ ResourceArns: [s1!.loadBalancerArn, s2!.loadBalancerArn, s2!.listenerArn] }));
    expect(tags.TagDescriptions.map((d: { Tags: unknown[] }) => d.Tags)).toEqual([[], [{ Key: 'fledge:shard', Value: 's2' }], [{ Key: 'fledge:shard', Value: 's2' }]]);
    expect(fx.sim.resources().shards[1]!.tags).toEqual({ 'fledge:shard': 's2' });
    const unknown = s1!.loadBalancerArn.replace(/[0-9a-f]{16}$/, '0000000000000000');
    await expect(fx.elbv2.send(new DescribeTagsCommand({ ResourceArns: [unknown] }))).rejects.toMatchObject({ name: 'LoadBalancerNotFoundException' });
  });

  it('50 Application Load Balancers per Region: a 51st is TooManyLoadBalancers; a taken name is DuplicateLoadBalancerName', () => {
    expect(() => createSimulator({ rateLimits: false, shards: 51 })).toThrow(/from 1 to 50/);
    expect(() => createSimulator({ rateLimits: false, shards: 0 })).toThrow(/from 1 to 50/);
    const fifty = createSimulator({ rateLimits: false, shards: 50 });
    try {
      expect(fifty.shards).toHaveLength(50);
      expect(() => fifty.internals.elb.createLoadBalancer('one-more')).toThrow(expect.objectContaining({ name: 'TooManyLoadBalancersException', Code: 'TooManyLoadBalancers' }));
    } finally {
      fifty.stop();
    }
    const fx = pool(1);
    expect(() => fx.sim.internals.elb.createLoadBalancer('fledge-local-s1')).toThrow(expect.objectContaining({ name: 'DuplicateLoadBalancerNameException' }));
  });

  it('FLEDGE_SIM_SHARDS sets the pool size; anything but 1..50 is refused at startup', () => {
    expect(simulatorOptionsFromEnv({ FLEDGE_SIM_SHARDS: '3' }).shards).toBe(3);
    expect(simulatorOptionsFromEnv({}).shards).toBeUndefined();
    for (const bad of ['0', '51', '1.5', 'three']) expect(() => simulatorOptionsFromEnv({ FLEDGE_SIM_SHARDS: bad })).toThrow(/FLEDGE_SIM_SHARDS/);
  });
});

describe('host routing through the simulated zone', () => {
  const zone = (records: Record<string, string>): SimulatedDns => ({ hostedZoneId: 'Z0LOCAL', resolveHost: (host) => records[host] });

  it('a record names the ALB whose rules answer; no record goes to shard s1 (the wildcard); an alias to no ALB answers nothing', async () => {
    const fx = pool(2);
    const [s1, s2] = fx.sim.shards;
    // the same host on both ALBs: which one answers shows which ALB the name reached
    const onS1 = await targetGroup(fx, 'on-s1');
    const onS2 = await targetGroup(fx, 'on-s2');
    await fx.elbv2.send(rule(s1!.listenerArn, 1, onS1, 'pr-1.localhost'));
    await fx.elbv2.send(rule(s2!.listenerArn, 1, onS2, 'pr-1.localhost'));
    expect(fx.sim.servePage('pr-1.localhost:4000')).toMatchObject({ shard: 's1', targetGroup: { arn: onS1 } });
    fx.sim.useDns(zone({ 'pr-1.localhost:4000': `${s2!.dnsName}.`, 'gone.localhost:4000': 'elsewhere-1.eu-west-1.elb.amazonaws.com' }));
    expect(fx.sim.dns?.hostedZoneId).toBe('Z0LOCAL');
    expect(fx.sim.servePage('PR-1.localhost:4000')).toMatchObject({ shard: 's2', targetGroup: { arn: onS2 } });
    expect(fx.sim.servePage('pr-2.localhost:4000')).toMatchObject({ shard: 's1', outcome: 'fixed-response' });
    expect(fx.sim.servePage('gone.localhost:4000')).toEqual({ host: 'gone.localhost:4000', outcome: 'no-load-balancer', aliasTarget: 'elsewhere-1.eu-west-1.elb.amazonaws.com' });
  });

  it('an environment on shard s2 answers at its name: its task is health-checked by s2 and served', async () => {
    const fx = pool(2);
    const s2 = fx.sim.shards[1]!;
    await createEnvironment(fx, 'pr-9', 'nginx:1.27', { listenerArn: s2.listenerArn });
    fx.sim.useDns(zone({ 'pr-9.localhost': s2.dnsName }));
    await fx.clock.advance(3000);
    const page = fx.sim.servePage('pr-9.localhost');
    expect(page).toMatchObject({ shard: 's2', outcome: 'task', environment: 'pr-9', targetGroup: { healthy: 1, total: 1 } });
  });
});
