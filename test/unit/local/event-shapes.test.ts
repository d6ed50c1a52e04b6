/**
 * The simulator's EventBridge events have exactly the keys of AWS's documented examples
 * (test/fixtures/aws-events/, one file per detail-type/eventName), and the heal rules of
 * functions/contract/heal-events.ts match those shapes: deployment events on `resources` (their detail
 * has no clusterArn), only for the Fledge cluster.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { HEAL_EVENT_RULES, matchesPattern, serviceArnPrefixOf } from '../../../functions/contract/heal-events.ts';
import { alarmName } from '../../../functions/domain/alarms.ts';
import { targetGroupName } from '../../../functions/domain/resource-names.ts';
import type { SimEvent } from '../../../infra/local/simulator/index.ts';
import { createEnvironment, createFixture, updateImage, type Fixture } from './sim-fixture.ts';

const fixture = (name: string): SimEvent => JSON.parse(readFileSync(new URL(`../../fixtures/aws-events/${name}.json`, import.meta.url), 'utf8')) as SimEvent;
const keys = (o: object) => Object.keys(o).sort();

let f: Fixture;
afterEach(() => f?.sim.stop());

function find(predicate: (e: SimEvent) => boolean): SimEvent {
  const event = f.events.find(predicate);
  if (!event) throw new Error('the simulator emitted no such event');
  return event;
}

const byName = (detailType: string, eventName: string) => (e: SimEvent) => e['detail-type'] === detailType && e.detail.eventName === eventName;
const taskIn = (lastStatus: string) => (e: SimEvent) => e['detail-type'] === 'ECS Task State Change' && e.detail.lastStatus === lastStatus && e.detail.startedAt !== undefined;

function expectSameShape(emitted: SimEvent, documented: SimEvent): void {
  expect(keys(emitted)).toEqual(keys(documented));
  expect(keys(emitted.detail)).toEqual(keys(documented.detail));
  expect(emitted['detail-type']).toBe(documented['detail-type']);
  expect(emitted.source).toBe(documented.source);
}

describe('ECS and CloudWatch events have the documented shapes', () => {
  it('deployment state changes: eventType, eventName, deploymentId, updatedAt, reason; no clusterArn, the service in resources', async () => {
    f = createFixture();
    const { serviceArn } = await createEnvironment(f, 'shapes', 'nginx:1');
    expect(await f.clock.advanceUntil(() => f.events.some(byName('ECS Deployment State Change', 'SERVICE_DEPLOYMENT_COMPLETED')), 20_000, 100)).toBe(true);
    await updateImage(f, 'shapes', 'nginx:fail-start');
    expect(await f.clock.advanceUntil(() => f.events.some(byName('ECS Deployment State Change', 'SERVICE_DEPLOYMENT_FAILED')), 30_000, 100)).toBe(true);
    for (const [file, eventName] of [
      ['ecs-deployment-in-progress', 'SERVICE_DEPLOYMENT_IN_PROGRESS'],
      ['ecs-deployment-completed', 'SERVICE_DEPLOYMENT_COMPLETED'],
      ['ecs-deployment-failed', 'SERVICE_DEPLOYMENT_FAILED'],
    ] as const) {
      const emitted = find(byName('ECS Deployment State Change', eventName));
      expectSameShape(emitted, fixture(file));
      expect(emitted.detail.clusterArn).toBeUndefined();
      expect(emitted.resources).toEqual([serviceArn]);
    }
  });

  it('service actions: eventType, eventName, clusterArn, createdAt (steady state, task start impaired)', async () => {
    f = createFixture();
    await createEnvironment(f, 'steady', 'nginx:1');
    await createEnvironment(f, 'impaired', 'nginx:fail-start', { priority: 2, circuitBreaker: false });
    expect(await f.clock.advanceUntil(() => f.events.some(byName('ECS Service Action', 'SERVICE_TASK_START_IMPAIRED')) && f.events.some(byName('ECS Service Action', 'SERVICE_STEADY_STATE')), 30_000, 100)).toBe(true);
    expectSameShape(find(byName('ECS Service Action', 'SERVICE_STEADY_STATE')), fixture('ecs-service-steady-state'));
    expectSameShape(find(byName('ECS Service Action', 'SERVICE_TASK_START_IMPAIRED')), fixture('ecs-service-task-start-impaired'));
    expect(find(byName('ECS Service Action', 'SERVICE_STEADY_STATE')).detail.clusterArn).toBe(f.sim.clusterArn);
  });

  it('task state changes: the Task object without health status, ISO timestamps, the stopped fields once stopped', async () => {
    f = createFixture();
    await createEnvironment(f, 'tasks', 'nginx:1');
    expect(await f.clock.advanceUntil(() => Boolean(f.sim.internals.ecs.services.get('tasks')?.steady), 20_000, 100)).toBe(true);
    f.sim.injectFault({ environment: 'tasks', fault: 'crash' });
    expect(await f.clock.advanceUntil(() => f.events.some(taskIn('STOPPED')), 5000, 100)).toBe(true);
    const running = find(taskIn('RUNNING'));
    const stopped = find(taskIn('STOPPED'));
    expectSameShape(running, fixture('ecs-task-running'));
    expectSameShape(stopped, fixture('ecs-task-stopped'));
    expect(running.detail.healthStatus).toBeUndefined();
    expect(stopped.detail).toMatchObject({ group: 'service:tasks', stopCode: 'EssentialContainerExited', desiredStatus: 'STOPPED', clusterArn: f.sim.clusterArn });
    expect(typeof stopped.detail.stoppedAt).toBe('string');
    expect(Number(stopped.detail.version)).toBeGreaterThan(Number(running.detail.version));
  });

  it('alarm state changes: alarmName, state, previousState, configuration', async () => {
    f = createFixture();
    await f.sim.client('cloudwatch').send(
      new PutMetricAlarmCommand({
        AlarmName: 'fledge-shapes-cpu',
        Namespace: 'AWS/ECS',
        MetricName: 'CPUUtilization',
        Dimensions: [{ Name: 'ServiceName', Value: 'nothing' }],
        Statistic: 'Average',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 90,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
      }),
    );
    expect(await f.clock.advanceUntil(() => f.events.some((e) => e['detail-type'] === 'CloudWatch Alarm State Change'), 5000, 100)).toBe(true);
    expectSameShape(find((e) => e['detail-type'] === 'CloudWatch Alarm State Change'), fixture('cloudwatch-alarm-state-change'));
  });
});

describe('the heal rules on the documented shapes', () => {
  const clusterArn = 'arn:aws:ecs:eu-west-1:111122223333:cluster/fledge';
  const target = { clusterArn, serviceArnPrefix: 'arn:aws:ecs:eu-west-1:111122223333:service/fledge/' };
  const rule = (id: string) => HEAL_EVENT_RULES.find((r) => r.id === id)!;
  const matches = (id: string, event: SimEvent) => matchesPattern(rule(id).pattern(target, 'test'), event as unknown as Record<string, unknown>);

  it('derive the service ARN prefix from a plain cluster ARN (local mode), or take it given (CDK tokens)', () => {
    expect(serviceArnPrefixOf(clusterArn)).toBe(target.serviceArnPrefix);
    expect(rule('EcsServiceFailures').pattern(clusterArn, 'test')).toEqual(rule('EcsServiceFailures').pattern(target, 'test'));
    expect(() => serviceArnPrefixOf('not-an-arn')).toThrow(/not an ECS cluster ARN/);
  });

  it('a failed deployment (no clusterArn in its detail) and impaired task starts of the cluster start a heal; success does not', () => {
    expect(matches('EcsServiceFailures', fixture('ecs-deployment-failed'))).toBe(true);
    expect(matches('EcsServiceFailures', fixture('ecs-service-task-start-impaired'))).toBe(true);
    for (const name of ['ecs-deployment-in-progress', 'ecs-deployment-completed', 'ecs-service-steady-state', 'ecs-task-stopped']) {
      expect(matches('EcsServiceFailures', fixture(name)), name).toBe(false);
    }
  });

  it('a stopped service task of the cluster starts a heal; a running one does not', () => {
    expect(matches('EcsTaskFailures', fixture('ecs-task-stopped'))).toBe(true);
    expect(matches('EcsTaskFailures', fixture('ecs-task-running'))).toBe(false);
  });

  it('events of another cluster do not match, not even one whose name starts alike', () => {
    for (const other of ['other', 'fledge-2']) {
      const failed = fixture('ecs-deployment-failed');
      failed.resources = [`arn:aws:ecs:eu-west-1:111122223333:service/${other}/pr-42`];
      expect(matches('EcsServiceFailures', failed), other).toBe(false);
      const impaired = fixture('ecs-service-task-start-impaired');
      impaired.resources = [`arn:aws:ecs:eu-west-1:111122223333:service/${other}/pr-42`];
      impaired.detail.clusterArn = `arn:aws:ecs:eu-west-1:111122223333:cluster/${other}`;
      expect(matches('EcsServiceFailures', impaired), other).toBe(false);
      const stopped = fixture('ecs-task-stopped');
      stopped.detail.clusterArn = `arn:aws:ecs:eu-west-1:111122223333:cluster/${other}`;
      expect(matches('EcsTaskFailures', stopped), other).toBe(false);
    }
  });

  it('match what the simulator emits for its own cluster', async () => {
    f = createFixture();
    await createEnvironment(f, 'heal-me', 'nginx:1');
    expect(await f.clock.advanceUntil(() => f.events.some(byName('ECS Deployment State Change', 'SERVICE_DEPLOYMENT_COMPLETED')), 20_000, 100)).toBe(true);
    await updateImage(f, 'heal-me', 'nginx:fail-start');
    expect(await f.clock.advanceUntil(() => f.events.some(byName('ECS Deployment State Change', 'SERVICE_DEPLOYMENT_FAILED')), 30_000, 100)).toBe(true);
    const healing = f.events.filter((e) => HEAL_EVENT_RULES.some((r) => matchesPattern(r.pattern(f.sim.clusterArn, 'test'), e as unknown as Record<string, unknown>)));
    expect(healing.some(byName('ECS Deployment State Change', 'SERVICE_DEPLOYMENT_FAILED'))).toBe(true);
    expect(healing.some((e) => e['detail-type'] === 'ECS Task State Change' && e.detail.stopCode === 'EssentialContainerExited')).toBe(true);
  });

  it("an alarm of this installation's environment (fledge-<installation>-<name>-<kind>, the target group <installation>-<name>-<hash>) entering ALARM starts a heal; another installation's, or the same alarm going OK, does not", () => {
    const alarm = fixture('cloudwatch-alarm-state-change');
    // the fixture's names are the ones create makes for environment pr-42 of installation "test"
    expect(alarm.detail.alarmName).toBe(alarmName('test', 'pr-42', 'unhealthy'));
    const dimensions = (alarm.detail.configuration as { metrics: { metricStat: { metric: { dimensions: { TargetGroup: string } } } }[] }).metrics[0]!.metricStat.metric.dimensions;
    expect(dimensions.TargetGroup).toMatch(new RegExp(`^targetgroup/${targetGroupName('test', 'pr-42')}/`));
    expect(matches('AlarmStateChanges', alarm)).toBe(true);
    expect(matchesPattern(rule('AlarmStateChanges').pattern(target, 'other'), alarm as unknown as Record<string, unknown>)).toBe(false);
    const ok = fixture('cloudwatch-alarm-state-change');
    (ok.detail.state as { value: string }).value = 'OK';
    expect(matches('AlarmStateChanges', ok)).toBe(false);
  });

  it('refuse pattern operators they do not implement, rather than mismatching silently', () => {
    expect(() => matchesPattern({ detail: { x: [{ 'anything-but': 'y' }] } }, { detail: { x: 'z' } })).toThrow(/unsupported operator/);
  });
});
