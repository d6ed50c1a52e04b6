import { describe, expect, it } from 'vitest';
import {
  alarmDefinitions, alarmFingerprint, alarmName, alarmNamePrefix, loadBalancerDimension, minimumRunningTasks, parseAlarmName, renderAlarmPlan,
} from '../../../functions/domain/alarms.ts';
import {
  attemptsInWindow, backoffAfter, decideTriggeredHeal, healthyImagesAfterHeal, planRepairs, remainingBackoff,
  type Findings, type HealPolicy,
} from '../../../functions/domain/healing.ts';
import type { EnvironmentRecord } from '../../../functions/domain/environment.ts';

const policy: HealPolicy = { maxPerHour: 3, backoffSeconds: 30, windowMs: 3_600_000 };
const NOW = Date.parse('2026-11-24T12:00:00.000Z');
const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/pr-1/abc';

function healthy(overrides: Partial<Findings> = {}): Findings {
  return {
    service: {
      arn: 'arn:aws:ecs:eu-west-1:1:service/c/pr-1', status: 'ACTIVE', desiredCount: 2, runningCount: 2, pendingCount: 0,
      taskDefinitionArn: 'arn:aws:ecs:eu-west-1:1:task-definition/fledge-td-x:1', image: 'web:2', deployments: 1,
      rolloutState: 'COMPLETED', targetGroupArns: [TG],
    },
    serviceDraining: false,
    targetGroupArn: TG,
    rule: { arn: 'arn:rule', targetGroupArns: [TG] },
    targets: { healthy: 2, unhealthy: 0, other: 0 },
    alarms: { tasks: 'ok', unhealthy: 'ok', '5xx': 'ok' },
    failures: { count: 0, keepsFailing: false },
    ...overrides,
  };
}
const desired = { spec: { image: 'web:2', desiredCount: 2 }, lastHealthyImage: 'web:2', healthyImages: ['web:2', 'web:1'] };

describe('the bound on heals', () => {
  it('waits 30 s, 60 s, 120 s after the first, second and third attempt', () => {
    expect([1, 2, 3].map((n) => backoffAfter(n, policy))).toEqual([30, 60, 120]);
    expect(backoffAfter(1, { backoffSeconds: 5 })).toBe(5);
    expect(backoffAfter(1, { backoffSeconds: 0.2 })).toBe(1); // Wait states count whole seconds
  });

  it('counts only the attempts of the last hour, oldest first', () => {
    expect(attemptsInWindow([ago(10), ago(4000), ago(100)], NOW, policy.windowMs)).toEqual([ago(100), ago(10)]);
    expect(attemptsInWindow(undefined, NOW, policy.windowMs)).toEqual([]);
  });

  it('says how much of the backoff after the last attempt is left', () => {
    expect(remainingBackoff([], NOW, policy)).toBe(0);
    expect(remainingBackoff([ago(10)], NOW, policy)).toBe(20);
    expect(remainingBackoff([ago(200), ago(50)], NOW, policy)).toBe(10);
    expect(remainingBackoff([ago(200), ago(70)], NOW, policy)).toBe(0);
  });
});

describe('whether a signal starts a heal', () => {
  const record = (status: EnvironmentRecord['status'], extra: Partial<EnvironmentRecord> = {}) => ({
    status, operation: { id: 'op-1', type: 'heal' as const, status: 'SUCCEEDED' as const, startedAt: ago(600) }, ...extra,
  });

  it('starts one for a RUNNING environment', () => {
    expect(decideTriggeredHeal(record('RUNNING'), NOW, policy)).toEqual({ start: true });
  });

  it('not for an ECS failure the last operation already handled (an update that rolled back on it), but for a later one and for alarms', () => {
    const updated = record('RUNNING', { operation: { id: 'op-2', type: 'update', status: 'FAILED', startedAt: ago(120), finishedAt: ago(60) } });
    expect(decideTriggeredHeal(updated, NOW, policy, { source: 'ecs', at: ago(61) })).toMatchObject({ start: false, reason: expect.stringMatching(/predates the end of the last update/) });
    expect(decideTriggeredHeal(updated, NOW, policy, { source: 'ecs', at: ago(30) })).toEqual({ start: true });
    expect(decideTriggeredHeal(updated, NOW, policy, { source: 'alarm', at: ago(61) })).toEqual({ start: true });
  });

  it.each(['CREATING', 'UPDATING', 'SCALING', 'HEALING', 'SLEEPING', 'FAILED'] as const)('not for a %s one', (status) => {
    expect(decideTriggeredHeal(record(status), NOW, policy)).toEqual({ start: false, reason: `the environment is ${status}` });
  });

  it('never for one being deleted or deleted, nor for an unknown name', () => {
    expect(decideTriggeredHeal(record('DELETING'), NOW, policy).start).toBe(false);
    expect(decideTriggeredHeal(record('DELETED'), NOW, policy).start).toBe(false);
    expect(decideTriggeredHeal(undefined, NOW, policy)).toEqual({ start: false, reason: 'no such environment' });
  });

  it('not for a DEGRADED one: it waits for an update, a manual heal or a scale', () => {
    expect(decideTriggeredHeal(record('DEGRADED'), NOW, policy)).toMatchObject({ start: false, reason: expect.stringContaining('DEGRADED') });
  });

  it('not for an ECS failure within the backoff after the last heal, but after it', () => {
    expect(decideTriggeredHeal(record('RUNNING', { healAttempts: [ago(10)] }), NOW, policy, { source: 'ecs' })).toEqual({
      start: false, reason: 'within the backoff after the last heal (20 s left)',
    });
    expect(decideTriggeredHeal(record('RUNNING', { healAttempts: [ago(31)] }), NOW, policy, { source: 'ecs' })).toEqual({ start: true });
  });

  it('for an alarm within the backoff too: it fires only once, so the heal starts and waits the backoff out itself', () => {
    expect(decideTriggeredHeal(record('RUNNING', { healAttempts: [ago(10)] }), NOW, policy, { source: 'alarm' })).toEqual({ start: true });
  });

  it('forgets earlier heals once an update or a scale ran since', () => {
    const updated = { ...record('RUNNING', { healAttempts: [ago(5)] }), operation: { id: 'op-2', type: 'update' as const, status: 'SUCCEEDED' as const, startedAt: ago(3) } };
    expect(decideTriggeredHeal(updated, NOW, policy)).toEqual({ start: true });
  });
});

describe('what a heal repairs', () => {
  it('nothing in a healthy environment', () => {
    const plan = planRepairs(healthy(), desired);
    expect(plan).toMatchObject({ mutates: false, actions: [] });
    expect(plan.todo).toMatchObject({ createService: false, updateService: false, targetGroup: false, rule: false, waitSteady: false });
  });

  it('a missing service: recreated with the last healthy image at the spec\'s count', () => {
    const plan = planRepairs(healthy({ service: null, targets: { healthy: 0, unhealthy: 0, other: 0 } }), { ...desired, lastHealthyImage: 'web:1' });
    expect(plan).toMatchObject({ mutates: true, image: 'web:1', todo: { taskDefinition: true, createService: true, desiredCount: 2, phase: 'create', waitSteady: true } });
    expect(plan.actions.map((a) => a.repair)).toEqual(['recreate-service']);
  });

  it('a service still draining: wait, change nothing', () => {
    const plan = planRepairs(healthy({ service: null, serviceDraining: true }), desired);
    expect(plan).toMatchObject({ mutates: false, todo: { waitForDrain: true, createService: false } });
  });

  it('a drifted desired count: restored, without a new deployment', () => {
    const found = healthy();
    found.service!.desiredCount = 0;
    found.service!.runningCount = 0;
    found.targets.healthy = 0;
    const plan = planRepairs(found, desired);
    expect(plan.todo).toMatchObject({ updateService: true, desiredCount: 2, forceNewDeployment: false, phase: 'scale' });
    expect(plan.actions).toEqual([{ repair: 'restore-desired-count', found: 'the desired count is 0, the spec wants 2', action: 'set it back to 2' }]);
  });

  it('with autoscaling, any count within min..max is fine and one outside is moved into it', () => {
    const spec = { image: 'web:2', desiredCount: 2, autoscaling: { minCount: 1, maxCount: 4, targetCpuPercent: 50 } };
    const scaled = healthy();
    scaled.service!.desiredCount = 3;
    scaled.service!.runningCount = 3;
    scaled.targets.healthy = 3;
    expect(planRepairs(scaled, { ...desired, spec }).mutates).toBe(false);
    scaled.service!.desiredCount = 7;
    expect(planRepairs(scaled, { ...desired, spec }).todo).toMatchObject({ updateService: true, desiredCount: 4 });
  });

  it('unhealthy tasks: a new deployment', () => {
    const plan = planRepairs(healthy({ targets: { healthy: 0, unhealthy: 2, other: 0 } }), desired);
    expect(plan.todo).toMatchObject({ updateService: true, forceNewDeployment: true, taskDefinition: false, phase: 'update' });
    expect(plan.actions.map((a) => a.repair)).toEqual(['force-new-deployment']);
  });

  it('an image whose tasks keep failing: rolled back to the newest healthy image that differs', () => {
    const plan = planRepairs(healthy({ targets: { healthy: 0, unhealthy: 0, other: 0 }, failures: { count: 3, keepsFailing: true, latestReason: 'exit code 1' } }), desired);
    expect(plan).toMatchObject({ image: 'web:1', rollbackFrom: 'web:2', todo: { taskDefinition: true, updateService: true, forceNewDeployment: false } });
    expect(plan.actions.map((a) => a.repair)).toEqual(['roll-back']);
  });

  it('a service running another image than the spec (deployed behind Fledge\'s back): the spec\'s image deployed again', () => {
    const found = healthy();
    found.service!.image = 'web:evil';
    const plan = planRepairs(found, desired);
    expect(plan).toMatchObject({ mutates: true, image: 'web:2', todo: { taskDefinition: true, updateService: true, forceNewDeployment: false } });
    expect(plan.rollbackFrom).toBeUndefined();
    expect(plan.actions).toEqual([{ repair: 'redeploy-spec-image', found: 'the service runs web:evil, the spec says web:2', action: 'deploy web:2 again' }]);
  });

  it('failures that stopped (a crash ECS replaced) or an image never healthy before: no rollback', () => {
    const once = planRepairs(healthy({ targets: { healthy: 1, unhealthy: 0, other: 0 }, failures: { count: 2, keepsFailing: false } }), desired);
    expect(once.actions.map((a) => a.repair)).toEqual(['force-new-deployment']);
    const nothingElse = planRepairs(healthy({ failures: { count: 3, keepsFailing: true } }), { ...desired, healthyImages: ['web:2'] });
    expect(nothingElse.rollbackFrom).toBeUndefined();
  });

  it('a missing listener rule: recreated, and target health is not judged without it', () => {
    const plan = planRepairs(healthy({ rule: null, targets: { healthy: 0, unhealthy: 0, other: 2 } }), desired);
    expect(plan.actions.map((a) => a.repair)).toEqual(['recreate-listener-rule']);
    expect(plan.todo).toMatchObject({ rule: true, updateService: false });
  });

  it('a missing target group: recreated with its rule, attached to the service, the target group alarms put again', () => {
    const plan = planRepairs(healthy({ targetGroupArn: null, rule: null, targets: { healthy: 0, unhealthy: 0, other: 0 } }), desired);
    expect(plan.actions.map((a) => a.repair)).toEqual([
      'recreate-target-group', 'recreate-listener-rule', 'attach-target-group', 'update-alarm', 'update-alarm',
    ]);
    expect(plan.todo).toMatchObject({ targetGroup: true, rule: true, updateService: true, forceNewDeployment: true, alarms: { tasks: false, unhealthy: true, errors: true } });
  });

  it('missing or drifted alarms: put again', () => {
    const plan = planRepairs(healthy({ alarms: { tasks: 'missing', unhealthy: 'ok', '5xx': 'drifted' } }), desired);
    expect(plan.actions.map((a) => a.repair)).toEqual(['recreate-alarm', 'update-alarm']);
    expect(plan.todo).toMatchObject({ alarms: { tasks: true, unhealthy: false, errors: true }, waitSteady: false });
  });

  it('after a rollback the restored image leads the history and the failing one is forgotten', () => {
    expect(healthyImagesAfterHeal(['web:2', 'web:1', 'web:0'], 'web:1', 'web:2')).toEqual(['web:1', 'web:0']);
    expect(healthyImagesAfterHeal(['web:2', 'web:1'], 'web:2')).toEqual(['web:2', 'web:1']);
  });
});

describe('per-environment alarms', () => {
  const settings = {
    installationId: 'fled1a2b',
    clusterArn: 'arn:aws:ecs:eu-west-1:1:cluster/fledge',
    listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/fledge-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
    loadBalancerDimension: 'app/fledge-alb/50dc6c495c0c9188',
  };

  it('are named fledge-<installation>-<name>-<kind>, and the name gives the environment back', () => {
    expect(['tasks', 'unhealthy', '5xx'].map((k) => alarmName('fled1a2b', 'pr-4-tasks', k as never))).toEqual([
      'fledge-fled1a2b-pr-4-tasks-tasks', 'fledge-fled1a2b-pr-4-tasks-unhealthy', 'fledge-fled1a2b-pr-4-tasks-5xx',
    ]);
    expect(parseAlarmName('fledge-fled1a2b-pr-4-tasks-tasks', 'fled1a2b')).toEqual({ environment: 'pr-4-tasks', kind: 'tasks' });
    expect(parseAlarmName('fledge-fled1a2b-pr-4-5xx', 'fled1a2b')).toEqual({ environment: 'pr-4', kind: '5xx' });
    expect(parseAlarmName('FledgeApi5xx', 'fled1a2b')).toBeUndefined();
    expect(parseAlarmName('fledge-fled1a2b-pr-4-cpu', 'fled1a2b')).toBeUndefined();
  });

  it('of another installation, or of earlier versions, parse to nothing', () => {
    expect(alarmName('fled1a2b', 'pr-4', 'tasks')).not.toBe(alarmName('stag9f0e', 'pr-4', 'tasks'));
    expect(parseAlarmName(alarmName('stag9f0e', 'pr-4', 'tasks'), 'fled1a2b')).toBeUndefined();
    expect(parseAlarmName('fledge-pr-4-tasks', 'fled1a2b')).toBeUndefined();
    // an installation id that is a prefix of another's: the hyphen after it keeps them apart
    expect(parseAlarmName(alarmName('fled1a2bc', 'pr-4', 'tasks'), 'fled1a2b')).toBeUndefined();
    expect(alarmNamePrefix('fled1a2b')).toBe('fledge-fled1a2b-');
  });

  it('watch the desired count, or autoscaling\'s floor; a sleeping environment never alarms', () => {
    expect(minimumRunningTasks({ desiredCount: 3 })).toBe(3);
    expect(minimumRunningTasks({ desiredCount: 3, autoscaling: { minCount: 2, maxCount: 5, targetCpuPercent: 50 } })).toBe(2);
    expect(minimumRunningTasks({ desiredCount: 0, autoscaling: { minCount: 2, maxCount: 5, targetCpuPercent: 50 } })).toBe(0);
  });

  it('name the load balancer and the target group as CloudWatch dimensions', () => {
    expect(loadBalancerDimension(settings.listenerArn)).toBe('app/fledge-alb/50dc6c495c0c9188');
    const plan = renderAlarmPlan('pr-1', { desiredCount: 2 }, settings);
    const defs = alarmDefinitions('pr-1', plan, TG);
    expect(defs.tasks).toMatchObject({
      AlarmName: 'fledge-fled1a2b-pr-1-tasks', Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount', Threshold: 2,
      ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching', EvaluationPeriods: 3, DatapointsToAlarm: 3,
      Dimensions: [{ Name: 'ClusterName', Value: 'fledge' }, { Name: 'ServiceName', Value: 'pr-1' }],
    });
    expect(defs.unhealthy.Dimensions).toEqual([{ Name: 'TargetGroup', Value: 'targetgroup/pr-1/abc' }, { Name: 'LoadBalancer', Value: 'app/fledge-alb/50dc6c495c0c9188' }]);
    expect(defs['5xx']).toMatchObject({ Threshold: 10, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    for (const def of Object.values(defs)) expect(def.Tags).toContainEqual({ Key: 'fledge:environment', Value: 'pr-1' });
  });

  it('compare as CloudWatch describes them: tags and order aside, a new threshold or target group is a difference', () => {
    const defs = alarmDefinitions('pr-1', renderAlarmPlan('pr-1', { desiredCount: 2 }, settings), TG);
    const { Tags: _tags, ...described } = defs.unhealthy;
    expect(alarmFingerprint({ ...described, Dimensions: [...(described.Dimensions as unknown[])].reverse(), StateValue: 'ALARM' })).toBe(alarmFingerprint(defs.unhealthy));
    const scaled = alarmDefinitions('pr-1', renderAlarmPlan('pr-1', { desiredCount: 3 }, settings), TG);
    expect(alarmFingerprint(scaled.tasks)).not.toBe(alarmFingerprint(defs.tasks));
    const moved = alarmDefinitions('pr-1', renderAlarmPlan('pr-1', { desiredCount: 2 }, settings), `${TG}2`);
    expect(alarmFingerprint(moved['5xx'])).not.toBe(alarmFingerprint(defs['5xx']));
  });
});
