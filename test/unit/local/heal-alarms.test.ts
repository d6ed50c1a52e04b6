/**
 * The per-environment alarms as local mode evaluates them (infra/local/simulator): created
 * exactly as the workflows create them (functions/domain/alarms.ts), they go to ALARM on the
 * faults of `/_local/faults` that should start a heal, and announce it as EventBridge does.
 * Also the simulated SNS that records the DEGRADED notifications, and metric math.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { alarmDefinitions, loadBalancerDimension, renderAlarmPlan, type AlarmKind } from '../../../functions/domain/alarms.ts';
import { evaluateMetricMath } from '../../../infra/local/simulator/metric-math.ts';
import { createEnvironment, createFixture, type Fixture } from './sim-fixture.ts';

let f: Fixture | undefined;
afterEach(() => {
  f?.sim.stop();
  f = undefined;
});

async function withAlarms(name: string, desiredCount = 1): Promise<Fixture> {
  f = createFixture();
  const { targetGroupArn } = await createEnvironment(f, name, 'nginx:1.27', { desiredCount });
  const plan = renderAlarmPlan(name, { desiredCount }, { installationId: 'local', clusterArn: f.sim.clusterArn, loadBalancerDimension: loadBalancerDimension(f.sim.listenerArn) });
  for (const input of Object.values(alarmDefinitions(name, plan, targetGroupArn))) {
    await f.sim.client('cloudwatch').send(new PutMetricAlarmCommand(input as never));
  }
  expect(await f.clock.advanceUntil(() => Object.values(states(name)).every((state) => state === 'OK'), 20_000, 100)).toBe(true);
  return f;
}

function states(name: string): Record<AlarmKind, string> {
  const alarms = f!.sim.resources().alarms.filter((a) => a.environment === name);
  return Object.fromEntries(alarms.map((a) => [a.name.slice(`fledge-local-${name}-`.length), a.state])) as Record<AlarmKind, string>;
}

const alarmEvents = (name: string) =>
  f!.events.filter((e) => e.source === 'aws.cloudwatch' && String(e.detail.alarmName).startsWith(`fledge-local-${name}-`))
    .map((e) => `${e.detail.alarmName}:${(e.detail.state as { value: string }).value}`);

describe('per-environment alarms in local mode', () => {
  it('are tagged with their environment and start OK on a healthy environment (the 5xx rate too, without traffic)', async () => {
    await withAlarms('al-fine');
    expect(states('al-fine')).toEqual({ tasks: 'OK', unhealthy: 'OK', '5xx': 'OK' });
    expect(f!.sim.resources().alarms.every((a) => a.tags['fledge:environment'] === 'al-fine')).toBe(true);
  });

  it('unhealthy tasks: the unhealthy alarm goes to ALARM, with a CloudWatch Alarm State Change event', async () => {
    await withAlarms('al-sick');
    f!.sim.injectFault({ environment: 'al-sick', fault: 'unhealthy' });
    expect(await f!.clock.advanceUntil(() => states('al-sick').unhealthy === 'ALARM', 20_000, 100)).toBe(true);
    expect(alarmEvents('al-sick')).toContain('fledge-local-al-sick-unhealthy:ALARM');
    const event = f!.events.find((e) => e.detail.alarmName === 'fledge-local-al-sick-unhealthy' && (e.detail.state as { value: string }).value === 'ALARM')!;
    expect(event).toMatchObject({ 'detail-type': 'CloudWatch Alarm State Change', source: 'aws.cloudwatch', resources: [expect.stringMatching(/:alarm:fledge-local-al-sick-unhealthy$/)] });
  });

  it('a service deleted out of band: the tasks alarm goes to ALARM (its metrics stop)', async () => {
    await withAlarms('al-gone');
    f!.sim.injectFault({ environment: 'al-gone', fault: 'delete-service' });
    expect(await f!.clock.advanceUntil(() => states('al-gone').tasks === 'ALARM', 20_000, 100)).toBe(true);
  });

  it('a desired count changed out of band: the tasks alarm goes to ALARM', async () => {
    await withAlarms('al-drift', 2);
    f!.sim.injectFault({ environment: 'al-drift', fault: 'drift-scale', count: 1 });
    expect(await f!.clock.advanceUntil(() => states('al-drift').tasks === 'ALARM', 20_000, 100)).toBe(true);
    expect(states('al-drift').unhealthy).toBe('OK');
  });

  it('deleting alarms deletes the names that exist and reports the others', async () => {
    await withAlarms('al-del');
    await expect(f!.sim.call('cloudwatch', 'DeleteAlarms', { AlarmNames: ['fledge-local-al-del-tasks', 'fledge-al-del-nope'] })).rejects.toMatchObject({
      sfnErrorName: 'CloudWatch.ResourceNotFoundException',
    });
    expect(Object.keys(states('al-del')).sort()).toEqual(['5xx', 'unhealthy']);
  });
});

describe('simulated SNS', () => {
  it('records what is published to a topic of the account, and refuses other topics', async () => {
    f = createFixture();
    const topic = `arn:aws:sns:${f.sim.config.region}:${f.sim.config.accountId}:fledge-notifications`;
    const result = (await f.sim.call('sns', 'publish', { TopicArn: topic, Subject: 'Fledge: environment x is DEGRADED', Message: '{"environment":"x"}' })) as { MessageId: string };
    expect(result.MessageId).toEqual(expect.any(String));
    expect(f.sim.resources().notifications).toEqual([
      { topicArn: topic, messageId: result.MessageId, subject: 'Fledge: environment x is DEGRADED', message: '{"environment":"x"}', at: expect.any(String) },
    ]);
    await expect(f.sim.call('sns', 'publish', { TopicArn: 'arn:aws:sns:us-east-1:999999999999:other', Message: 'x' })).rejects.toMatchObject({ sfnErrorName: 'Sns.NotFoundException' });
    await expect(f.sim.call('sns', 'publish', { TopicArn: topic })).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
});

describe('metric math', () => {
  it('evaluates the 5xx rate: IF, comparisons and arithmetic; a missing datapoint gives none', () => {
    const rate = 'IF(requests >= 10, 100 * errors / requests, 0)';
    expect(evaluateMetricMath(rate, { requests: 40, errors: 10 })).toBe(25);
    expect(evaluateMetricMath(rate, { requests: 5, errors: 5 })).toBe(0);
    expect(evaluateMetricMath(rate, { requests: 40, errors: undefined })).toBeUndefined();
    expect(evaluateMetricMath(rate, { requests: undefined, errors: 3 })).toBeUndefined();
    expect(evaluateMetricMath('FILL(m1, 0) - m2', { m1: undefined, m2: 2 })).toBe(-2);
    expect(evaluateMetricMath('MAX([m1, m2, 3]) + ABS(-1)', { m1: 7, m2: undefined })).toBe(8);
    expect(evaluateMetricMath('m1 / m2', { m1: 1, m2: 0 })).toBeUndefined();
    expect(evaluateMetricMath('(m1 + 2) * 3 != 9', { m1: 1 })).toBe(0);
  });

  it('refuses what it cannot evaluate', () => {
    expect(() => evaluateMetricMath('ANOMALY_DETECTION_BAND(m1)', { m1: 1 })).toThrow(/not simulated/);
    expect(() => evaluateMetricMath('m1 +', { m1: 1 })).toThrow();
    expect(() => evaluateMetricMath('m3', { m1: 1 })).toThrow(/unknown id m3/);
  });
});
