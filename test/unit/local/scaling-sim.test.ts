/**
 * The simulator's part of sleep and wake: the ALB counts the requests each target group gets
 * and CloudWatch answers GetMetricData from them (idle sleep), a weighted forward sends
 * nothing to a target group at weight 0 but keeps it in use (the waker swap), and a Lambda
 * target group answers through the waker.
 */
import { describe, expect, it } from 'vitest';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CreateTargetGroupCommand, ModifyRuleCommand, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { createEnvironment, createFixture, describeService } from './sim-fixture.ts';

async function requestsOf(f: ReturnType<typeof createFixture>, targetGroupArn: string, start: number, end: number, period = 60) {
  const result = await f.sim.client('cloudwatch').send(
    new GetMetricDataCommand({
      MetricDataQueries: [{
        Id: 'q0',
        MetricStat: {
          Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: [{ Name: 'TargetGroup', Value: targetGroupArn.slice(targetGroupArn.indexOf('targetgroup/')) }] },
          Period: period,
          Stat: 'Sum',
        },
      }],
      StartTime: new Date(start),
      EndTime: new Date(end),
    }),
  );
  return result.MetricDataResults[0] as { Values: number[]; Timestamps: Date[] };
}

describe('simulated ALB request counts and CloudWatch GetMetricData', () => {
  it('counts the requests routed to a target group, per period, and none outside the window', async () => {
    const f = createFixture();
    const { targetGroupArn } = await createEnvironment(f, 'counted');
    const t0 = f.clock.now();
    f.sim.servePage('counted.localhost:4000');
    f.sim.servePage('counted.localhost:4000');
    await f.clock.advance(70_000);
    f.sim.servePage('counted.localhost:4000');
    f.sim.servePage('other.localhost:4000'); // no rule: the default action, no target group

    const all = await requestsOf(f, targetGroupArn, t0, f.clock.now() + 1);
    expect(all.Values).toEqual([1, 2]); // newest period first
    expect(all.Timestamps.map((t) => t.getTime())).toEqual([t0 + 60_000, t0]);
    const lastMinute = await requestsOf(f, targetGroupArn, f.clock.now() - 5_000, f.clock.now() + 1);
    expect(lastMinute.Values).toEqual([1]);
    const quiet = await requestsOf(f, targetGroupArn, t0 + 10_000, t0 + 60_000);
    expect(quiet.Values).toEqual([]);
  });
});

describe('weighted forward (the waker swap)', () => {
  it('routes to the weight-1 Lambda target group, keeps the weight-0 one in use, and back', async () => {
    const f = createFixture();
    const { targetGroupArn, ruleArn } = await createEnvironment(f, 'swapped');
    const waker = await f.elbv2.send(new CreateTargetGroupCommand({ Name: 'FledgeWaker', TargetType: 'lambda' }));
    const wakerArn = waker.TargetGroups[0].TargetGroupArn as string;
    const fn = 'arn:aws:lambda:eu-west-1:000000000000:function:fledge-local-waker';
    await f.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: wakerArn, Targets: [{ Id: fn }] }));

    await f.elbv2.send(new ModifyRuleCommand({
      RuleArn: ruleArn,
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: wakerArn, Weight: 1 }, { TargetGroupArn: targetGroupArn, Weight: 0 }] } }],
    }));
    const asleep = f.sim.servePage('swapped.localhost:4000');
    expect(asleep).toMatchObject({ outcome: 'lambda', lambdaFunctionArn: fn });
    expect(f.sim.internals.elb.targetGroupAttached(targetGroupArn)).toBe(true);

    // tasks started while the rule still points at the waker are health-checked and become steady
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'swapped', desiredCount: 2 }));
    expect(await f.clock.advanceUntil(() => f.sim.resources().services[0]!.tasks.filter((t) => t.targetHealth === 'healthy').length === 2, 20_000, 100)).toBe(true);
    expect((await describeService(f, 'swapped')).runningCount).toBe(2);

    await f.elbv2.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] }));
    expect(f.sim.servePage('swapped.localhost:4000').outcome).toBe('task');
  });
});
