/**
 * The scale workflow (statemachines/scale.asl.json) and the scaling steps of create and
 * teardown, run by the local Step Functions runner against DynamoDB Local and local mode's
 * simulated ECS/ELB/Application Auto Scaling, with faults injected.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BASE_DOMAIN, FAST, SimHarness, spec, transitionsBesidesWaits } from './support/sim-harness.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());
beforeEach(() => h.reset({ timeoutOverrides: { AwaitSteadyState: 2 }, simulator: FAST }));

const CI = 'arn:aws:iam::000000000000:user/ci';
const autoscaling = (minCount: number, maxCount: number, targetCpuPercent = 60) => ({ minCount, maxCount, targetCpuPercent });

/** What the API writes when it accepts a scale: the new desired spec, SCALING, the scale workflow. */
async function scale(name: string, overrides: Record<string, unknown>, specVersion: number, actor?: string) {
  const input = await h.seed(name, spec(overrides), { status: 'SCALING', specVersion, type: 'scale', workflow: 'scale' });
  h.calls = [];
  const record = await h.run('scale', actor ? { ...input, actor } : input);
  return { record, item: await h.item(name) };
}

async function ruleOf(name: string) {
  const rule = (await h.rules()).find((r) => JSON.stringify(r.Conditions).includes(`${name}.${BASE_DOMAIN}`));
  if (!rule) throw new Error(`no rule for ${name}`);
  return rule;
}

/** The target groups the rule sends requests to (weight > 0) and those it keeps at weight 0 (as DescribeRules answers). */
async function routing(name: string): Promise<{ serving: string[]; idle: string[] }> {
  const [action] = (await ruleOf(name)).Actions as { TargetGroupArn?: string; ForwardConfig?: { TargetGroups: { TargetGroupArn: string; Weight: number }[] } }[];
  const weighted = action!.ForwardConfig?.TargetGroups ?? [{ TargetGroupArn: action!.TargetGroupArn!, Weight: 1 }];
  return {
    serving: weighted.filter((t) => t.Weight > 0).map((t) => t.TargetGroupArn),
    idle: weighted.filter((t) => t.Weight === 0).map((t) => t.TargetGroupArn),
  };
}

const tgOf = async (name: string) => (await h.targetGroup(name)).TargetGroupArn as string;
const workflowCalls = (action: string) => h.callsOf(action).filter((c) => c.via === 'workflow');
/** what is left of an environment's own resources (task definitions are shared, content-addressed, and outlive it) */
function ownLeftovers() {
  const { activeTaskDefinitions: _shared, ...own } = h.leftovers();
  return own;
}
const desiredCount = (name: string) => h.service(name)!.desiredCount;
const alarm = (name: string, kind: string) => h.alarm(`fledge-test-${name}-${kind}`);
const scalableTargets = () => h.sim.resources().scalableTargets;
const scalableTarget = (name: string) => scalableTargets().find((t) => t.resourceId === `service/fledge/${name}`);
async function scalingPolicy(name: string) {
  const { ScalingPolicies } = await h.aws('applicationautoscaling', 'DescribeScalingPolicies', { ServiceNamespace: 'ecs', ResourceId: `service/fledge/${name}` });
  return ScalingPolicies[0];
}

describe('scale workflow', () => {
  it('scales a running environment up: only the desired count changes, no new deployment, RUNNING with the new count', async () => {
    await h.created('sc-up');
    const { record, item } = await scale('sc-up', { desiredCount: 3 }, 2);

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual([
      'PlanScale', 'CheckNewVersion', 'ApplyHealthCheck', 'PutTasksAlarmBeforeScaling', 'BeforeService', 'CheckDeployment', 'ScaleService',
      'AwaitSteadyState', 'AfterUpdateHook', 'AfterSteady', 'RemoveAutoscaling', 'PutTasksAlarm', 'CompleteScale', 'CheckDesiredSpec', 'Scaled',
    ]);
    // two Choices (CheckNewVersion, AfterUpdateHook) keep a scale that deploys a new version from skipping its hooks
    expect(transitionsBesidesWaits(record)).toBeLessThanOrEqual(17);
    // the tasks alarm stays at the old count while the new tasks start, then follows the new one
    expect(workflowCalls('PutMetricAlarm').map((c) => c.params.Threshold)).toEqual([1, 3]);
    expect(await alarm('sc-up', 'tasks')).toMatchObject({ Threshold: 3, TreatMissingData: 'breaching' });
    expect(workflowCalls('UpdateService').map((c) => c.params)).toEqual([{ Cluster: h.sim.clusterArn, Service: 'sc-up', DesiredCount: 3 }]);
    expect(workflowCalls('RegisterTaskDefinition')).toHaveLength(0);
    expect(workflowCalls('ModifyRule')).toHaveLength(0);
    expect(item).toMatchObject({ status: 'RUNNING', runningCount: 3, appliedSpecVersion: 2, operation: { type: 'scale', status: 'SUCCEEDED' } });
    expect(item!.waitToken).toBeUndefined();
    const [last] = await h.events('sc-up');
    expect(last).toMatchObject({ type: 'scaled', actor: CI, details: { from: 1, to: 3, runningCount: 3 } });
  });

  it('scales down to fewer tasks', async () => {
    await h.created('sc-down', spec({ desiredCount: 3 }));
    const { record, item } = await scale('sc-down', { desiredCount: 1 }, 2);
    expect(record.status).toBe('SUCCEEDED');
    expect(desiredCount('sc-down')).toBe(1);
    // the tasks alarm goes down to 1 before the service stops tasks: a scale-down is no failure
    const order = h.calls.filter((c) => c.via === 'workflow').map((c) => c.action);
    expect(order.indexOf('PutMetricAlarm')).toBeLessThan(order.indexOf('UpdateService'));
    expect(workflowCalls('PutMetricAlarm').map((c) => c.params.Threshold)).toEqual([1, 1]);
    expect(await alarm('sc-down', 'tasks')).toMatchObject({ Threshold: 1 });
    expect(item).toMatchObject({ status: 'RUNNING', runningCount: 1 });
    expect((await h.events('sc-down'))[0]).toMatchObject({ type: 'scaled', details: { from: 3, to: 1 } });
  });

  it('to 0 it sleeps behind the waker, and back it wakes: the rule swaps both ways, in the order that never meets an empty target group', async () => {
    await h.created('sc-sleep', spec({ desiredCount: 2 }));
    const own = await tgOf('sc-sleep');
    expect(await routing('sc-sleep')).toEqual({ serving: [own], idle: [] });

    const asleep = await scale('sc-sleep', { desiredCount: 0 }, 2, 'schedule');
    expect(asleep.record.status).toBe('SUCCEEDED');
    expect(asleep.record.statesEntered).toEqual([
      'PlanScale', 'CheckNewVersion', 'ApplyHealthCheck', 'PutTasksAlarmBeforeScaling', 'BeforeService', 'PointRuleAtWaker', 'SuspendAutoscaling',
      'CheckDeployment', 'ScaleService', 'AwaitSteadyState', 'AfterUpdateHook', 'AfterSteady', 'CompleteScale', 'CheckDesiredSpec', 'Scaled',
    ]);
    // asleep the tasks alarm never fires: threshold 0, and no data (no tasks) is not a breach
    expect(await alarm('sc-sleep', 'tasks')).toMatchObject({ Threshold: 0, TreatMissingData: 'notBreaching' });
    // the rule moved before the service scaled in; the own target group stays in use at weight 0
    const order = h.calls.filter((c) => c.via === 'workflow').map((c) => c.action);
    expect(order.indexOf('ModifyRule')).toBeLessThan(order.indexOf('UpdateService'));
    expect(await routing('sc-sleep')).toEqual({ serving: [h.wakerTargetGroupArn], idle: [own] });
    expect(desiredCount('sc-sleep')).toBe(0);
    expect(asleep.item).toMatchObject({ status: 'SLEEPING', gsiStatusPk: 'STATUS#SLEEPING', runningCount: 0 });
    expect((await h.events('sc-sleep'))[0]).toMatchObject({ type: 'slept', actor: 'schedule', details: { from: 2, to: 0, rule: 'waker' } });

    h.calls = [];
    const awake = await scale('sc-sleep', { desiredCount: 2 }, 3, 'request');
    expect(awake.record.status).toBe('SUCCEEDED');
    expect(awake.record.statesEntered).toEqual([
      'PlanScale', 'CheckNewVersion', 'ApplyHealthCheck', 'PutTasksAlarmBeforeScaling', 'BeforeService', 'CheckDeployment', 'ScaleService',
      'AwaitSteadyState', 'AfterUpdateHook', 'AfterSteady', 'PointRuleAtService', 'ApplyAutoscaling', 'RemoveAutoscaling', 'PutTasksAlarm',
      'CompleteScale', 'CheckDesiredSpec', 'Scaled',
    ]);
    // awake, the tasks alarm wants the woken count again
    expect(await alarm('sc-sleep', 'tasks')).toMatchObject({ Threshold: 2, TreatMissingData: 'breaching' });
    // the rule comes back only once the tasks are steady
    const wakeOrder = h.calls.filter((c) => c.via === 'workflow').map((c) => c.action);
    expect(wakeOrder.indexOf('UpdateService')).toBeLessThan(wakeOrder.indexOf('ModifyRule'));
    expect(await routing('sc-sleep')).toEqual({ serving: [own], idle: [] });
    expect(awake.item).toMatchObject({ status: 'RUNNING', runningCount: 2 });
    const [woken] = await h.events('sc-sleep');
    expect(woken).toMatchObject({ type: 'woken', actor: 'request', details: { from: 0, to: 2, rule: 'service' } });
    expect(woken!.details!.tookMs).toEqual(expect.any(Number));
  });

  it('turns autoscaling on (scalable target + CPU target tracking) and off again (target and policy removed)', async () => {
    await h.created('sc-auto', spec({ desiredCount: 2 }));
    const on = await scale('sc-auto', { desiredCount: 2, autoscaling: autoscaling(2, 6, 45) }, 2);
    expect(on.record.status).toBe('SUCCEEDED');
    expect(on.record.statesEntered).toContain('PutScalingPolicy');
    expect(workflowCalls('RegisterScalableTarget')[0]!.params).toEqual({
      ServiceNamespace: 'ecs', ResourceId: 'service/fledge/sc-auto', ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 2, MaxCapacity: 6, Tags: { 'fledge:environment': 'sc-auto', 'fledge:managed-by': 'fledge' },
    });
    expect(workflowCalls('PutScalingPolicy')[0]!.params).toMatchObject({
      PolicyName: 'fledge-cpu', ResourceId: 'service/fledge/sc-auto', PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 45, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } },
    });
    expect(scalableTargets().map((t) => ({ resourceId: t.resourceId, policies: t.policies }))).toEqual([{ resourceId: 'service/fledge/sc-auto', policies: ['fledge-cpu'] }]);
    expect((await h.events('sc-auto'))[0]!.message).toContain('autoscaling 2-6 tasks at 45% CPU');

    const off = await scale('sc-auto', { desiredCount: 2 }, 3);
    expect(off.record.status).toBe('SUCCEEDED');
    expect(off.record.statesEntered).toContain('RemoveAutoscaling');
    expect(scalableTargets()).toEqual([]);
    expect(await scalingPolicy('sc-auto')).toBeUndefined();
    expect(off.item).toMatchObject({ status: 'RUNNING', runningCount: 2 });
  });

  it('an autoscaled environment drops its scalable target while it sleeps and gets it back when it wakes', async () => {
    await h.created('sc-auto-sleep', spec({ desiredCount: 2, autoscaling: autoscaling(1, 4) }));
    expect(scalableTarget('sc-auto-sleep')).toBeDefined();
    await scale('sc-auto-sleep', { desiredCount: 0, autoscaling: autoscaling(1, 4) }, 2);
    expect(scalableTargets()).toEqual([]);
    expect(desiredCount('sc-auto-sleep')).toBe(0);
    const awake = await scale('sc-auto-sleep', { desiredCount: 2, autoscaling: autoscaling(1, 4) }, 3);
    expect(awake.item).toMatchObject({ status: 'RUNNING', runningCount: 2 });
    expect(scalableTarget('sc-auto-sleep')).toMatchObject({ minCapacity: 1, maxCapacity: 4 });
    // autoscaling moves the count: the tasks alarm follows its floor, not the count it woke to
    expect(await alarm('sc-auto-sleep', 'tasks')).toMatchObject({ Threshold: 1 });
  });

  it('gets through 10 throttled calls in a row at the ECS, ELB and Application Auto Scaling steps', async () => {
    await h.created('sc-throttled');
    h.throttle('UpdateService', 10);
    h.throttle('ModifyRule', 10);
    h.throttle('DeregisterScalableTarget', 10);
    const asleep = await scale('sc-throttled', { desiredCount: 0 }, 2);
    expect(asleep.record.status).toBe('SUCCEEDED');
    expect(workflowCalls('UpdateService')).toHaveLength(11);
    expect(workflowCalls('ModifyRule')).toHaveLength(11);
    expect(workflowCalls('DeregisterScalableTarget')).toHaveLength(11);
    expect(asleep.item!.status).toBe('SLEEPING');
  });

  it('a sleep whose rule swap fails leaves the environment RUNNING as it was, the operation FAILED with the reason', async () => {
    await h.created('sc-rule-fails', spec({ desiredCount: 2 }));
    // a declared error: ELBv2's undeclared AccessDenied would arrive as the catch-all and be retried (elbRetry)
    h.failOn('ModifyRule', 'OperationNotPermitted', 'not authorized to perform elasticloadbalancing:ModifyRule on arn:aws:elasticloadbalancing:eu-west-1:000000000000:listener-rule/x');
    const { record, item } = await scale('sc-rule-fails', { desiredCount: 0 }, 2);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('ScaleFailed');
    expect(workflowCalls('UpdateService')).toHaveLength(0);
    expect(desiredCount('sc-rule-fails')).toBe(2);
    expect((await routing('sc-rule-fails')).serving).toEqual([await tgOf('sc-rule-fails')]);
    expect(item).toMatchObject({ status: 'RUNNING', operation: { type: 'scale', status: 'FAILED', error: { code: 'INTERNAL' } } });
    // the error's name, never AWS's text (docs/security.md "What reaches callers")
    expect(item!.operation.error.message).toContain('OperationNotPermittedException');
    expect(item!.operation.error.message).not.toMatch(/not authorized|arn:/);
    expect((await h.events('sc-rule-fails'))[0]).toMatchObject({ type: 'failed' });
  });

  it('a wake whose rule swap keeps being throttled ends RUNNING with AWS_LIMIT, the service up (the waker moves the rule back later)', async () => {
    await h.created('sc-wake-limit');
    await scale('sc-wake-limit', { desiredCount: 0 }, 2);
    h.throttle('ModifyRule', 20);
    const { record, item } = await scale('sc-wake-limit', { desiredCount: 1 }, 3);
    expect(record.status).toBe('FAILED');
    expect(desiredCount('sc-wake-limit')).toBe(1);
    expect(item).toMatchObject({ status: 'RUNNING', operation: { status: 'FAILED', error: { code: 'AWS_LIMIT' } } });
    expect((await routing('sc-wake-limit')).serving).toEqual([h.wakerTargetGroupArn]);
  });

  it('a wake whose tasks cannot start fails at once on the ECS start-impaired event (no circuit breaker watches a scale), with the reason', async () => {
    await h.created('sc-impaired');
    await scale('sc-impaired', { desiredCount: 0 }, 2);
    // the image's tasks now exit at start (a crashloop): the woken tasks fail, ECS reports SERVICE_TASK_START_IMPAIRED
    h.sim.injectFault({ environment: 'sc-impaired', fault: 'crashloop' });
    const { record, item } = await scale('sc-impaired', { desiredCount: 2 }, 3, 'request');
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['AwaitSteadyState', 'CompleteScaleAfterFailure']));
    expect(record.statesEntered).not.toContain('PointRuleAtService');
    expect(item).toMatchObject({ status: 'RUNNING', operation: { type: 'scale', status: 'FAILED', error: { code: 'TASK_EXITED' } } });
    expect((await h.events('sc-impaired'))[0]).toMatchObject({ type: 'failed', actor: 'request' });
  });

  it('a scalable target that cannot be registered fails the operation; the environment runs on at its new count', async () => {
    await h.created('sc-aas-fails');
    h.failOn('RegisterScalableTarget', 'ValidationException', 'Unable to assume IAM role');
    const { record, item } = await scale('sc-aas-fails', { desiredCount: 2, autoscaling: autoscaling(2, 3) }, 2);
    expect(record.status).toBe('FAILED');
    expect(item).toMatchObject({ status: 'RUNNING', runningCount: 2, operation: { status: 'FAILED', error: { code: 'INTERNAL' } } });
    expect(item!.operation.error.message).toContain('ValidationException');
    expect(item!.operation.error.message).not.toContain('Unable to assume IAM role');
  });

  it('a service deleted out of band fails the scale before anything changes (a heal re-creates it)', async () => {
    await h.created('sc-no-service');
    h.sim.injectFault({ environment: 'sc-no-service', fault: 'delete-service' });
    expect(await h.until(() => h.service('sc-no-service') === undefined)).toBe(true);
    const { record, item } = await scale('sc-no-service', { desiredCount: 2 }, 2);
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).toEqual(['PlanScale', 'CompleteScaleAfterFailure', 'CheckDesiredSpecAfterFailure', 'ScaleFailed']);
    expect(item!.operation.error.message).toContain('does not exist');
  });

  it('a spec that moves while the scale runs is deployed by the same workflow (latest wins)', async () => {
    await h.created('sc-converge');
    const before = h.service('sc-converge')!.taskDefinition;
    h.afterCall = async (call) => {
      if (call.action !== 'UpdateService') return;
      h.afterCall = undefined;
      await h.acceptNewSpec('sc-converge', spec({ image: 'ghcr.io/acme/web:2.0', desiredCount: 3 }));
    };
    const { record, item } = await scale('sc-converge', { desiredCount: 2 }, 2);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.filter((s) => s === 'PlanScale')).toHaveLength(2);
    expect(record.statesEntered).toContain('RegisterTaskDefinition');
    const deployed = workflowCalls('UpdateService').at(-1)!.params;
    expect(deployed).toMatchObject({ TaskDefinition: expect.stringContaining(':task-definition/fledge-td-'), DesiredCount: 3 });
    expect(deployed.TaskDefinition).not.toBe(before); // the new spec's own (content-addressed) family
    expect(item).toMatchObject({ status: 'RUNNING', appliedSpecVersion: 3, runningCount: 3, lastHealthyImage: 'ghcr.io/acme/web:2.0' });
    expect((await h.events('sc-converge')).map((e) => e.type)).toEqual(expect.arrayContaining(['converging', 'updated']));
  });

  it('a new spec for a sleeping environment wakes it and deploys it in one go (a PUT/PATCH on SLEEPING)', async () => {
    await h.created('sc-put-wakes', spec({ desiredCount: 2 }));
    await scale('sc-put-wakes', { desiredCount: 0 }, 2);
    const input = await h.seed('sc-put-wakes', spec({ image: 'ghcr.io/acme/web:2.0', desiredCount: 2 }), { status: 'UPDATING', specVersion: 3, type: 'update', workflow: 'scale' });
    const record = await h.run('scale', input);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RegisterTaskDefinition', 'DeployService', 'PointRuleAtService']));
    expect((await routing('sc-put-wakes')).serving).toEqual([await tgOf('sc-put-wakes')]);
    const item = await h.item('sc-put-wakes');
    expect(item).toMatchObject({ status: 'RUNNING', runningCount: 2, lastHealthyImage: 'ghcr.io/acme/web:2.0', operation: { type: 'update', status: 'SUCCEEDED' } });
  });

  it('a new spec whose (shared) task definition another environment registered already is deployed without registering it again', async () => {
    await h.created('sc-shared-a', spec({ image: 'ghcr.io/acme/web:2.0' }));
    await h.created('sc-shared-b');
    const { record } = await scale('sc-shared-b', { image: 'ghcr.io/acme/web:2.0', desiredCount: 2 }, 2);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toContain('DeployService');
    expect(record.statesEntered).not.toContain('RegisterTaskDefinition');
    expect(h.service('sc-shared-b')!.taskDefinition).toBe(h.service('sc-shared-a')!.taskDefinition);
  });

  it('a new image that fails while waking is rolled back; the environment runs the previous one, the operation FAILED', async () => {
    await h.created('sc-rollback');
    const { record, item } = await scale('sc-rollback', { image: 'ghcr.io/acme/web:fail-health', desiredCount: 1 }, 2);
    expect(record.status).toBe('SUCCEEDED');
    expect(item).toMatchObject({ status: 'RUNNING', lastHealthyImage: 'ghcr.io/acme/web:1.0', operation: { status: 'FAILED', error: { code: 'HEALTH_CHECK_FAILED' } } });
    expect((await h.events('sc-rollback'))[0]).toMatchObject({ type: 'rolled-back', details: { failedImage: 'ghcr.io/acme/web:fail-health' } });
    // the desired spec says the image that runs again (a new, applied spec version), the failed one is in operation.error
    expect(item).toMatchObject({ spec: { image: 'ghcr.io/acme/web:1.0' }, specVersion: 3, appliedSpecVersion: 3, operation: { error: { image: 'ghcr.io/acme/web:fail-health' } } });
    expect(record.statesEntered).not.toContain('RestoreHealthCheck');
  });

  it('a new image and health check deployed on the way that roll back put the previous health check back, on the target group and in the spec', async () => {
    await h.created('sc-hc-rollback');
    const healthCheck = { path: '/ready', intervalSeconds: 20, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };
    const { record, item } = await scale('sc-hc-rollback', { image: 'ghcr.io/acme/web:fail-health', desiredCount: 1, healthCheck }, 2);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['ApplyHealthCheck', 'DeployService', 'HealthCheckChanged', 'RestoreHealthCheck', 'CompleteScale']));
    expect(h.callsOf('ModifyTargetGroup').map((c) => c.params.HealthCheckPath)).toEqual(['/ready', '/']);
    const tg = await h.targetGroup('sc-hc-rollback');
    expect(tg).toMatchObject({ HealthCheckPath: '/', HealthCheckIntervalSeconds: 10 });
    expect(item).toMatchObject({
      status: 'RUNNING', specVersion: 3, appliedSpecVersion: 3,
      spec: { image: 'ghcr.io/acme/web:1.0', healthCheck: { path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } },
    });
    expect((await h.events('sc-hc-rollback'))[0]).toMatchObject({
      type: 'rolled-back', details: { failedHealthCheck: healthCheck, restoredHealthCheck: { path: '/', intervalSeconds: 10 } },
    });
  });

  it('a failing CompleteScaleAfterFailure does not leave the operation running: the fallback records the environment as it is, at once', async () => {
    await h.created('sc-terminal', spec({ desiredCount: 2 }));
    // a declared error: ELBv2's undeclared AccessDenied would arrive as the catch-all and be retried (elbRetry)
    h.failOn('ModifyRule', 'OperationNotPermitted', 'not authorized to perform elasticloadbalancing:ModifyRule on arn:aws:elasticloadbalancing:eu-west-1:000000000000:listener-rule/x');
    h.lambdaFault = (arn, payload) => (arn.endsWith(':fledge-complete-scale') && !payload.fallback ? new Error('CompleteScale broke') : undefined);
    const { record, item } = await scale('sc-terminal', { desiredCount: 0 }, 2);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('ScaleFailed');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['CompleteScaleAfterFailure', 'CompleteScaleFallback', 'ScaleFailed']));
    expect(item).toMatchObject({ status: 'RUNNING', gsiStatusPk: 'STATUS#RUNNING', operation: { type: 'scale', status: 'FAILED', error: { code: 'INTERNAL' } } });
    expect(item!.operation.error.message).toContain('OperationNotPermittedException');
  });
});

describe('scaling in create and teardown', () => {
  it('create registers the scalable target and policy when the spec has autoscaling', async () => {
    const record = await h.created('cr-auto', spec({ desiredCount: 2, autoscaling: autoscaling(2, 5, 70) }));
    expect(record.statesEntered).toEqual(expect.arrayContaining(['ApplyInitialScaling', 'RegisterScalableTarget', 'PutScalingPolicy']));
    expect(scalableTarget('cr-auto')).toMatchObject({ minCapacity: 2, maxCapacity: 5, policies: ['fledge-cpu'] });
    expect(await scalingPolicy('cr-auto')).toMatchObject({
      PolicyName: 'fledge-cpu',
      TargetTrackingScalingPolicyConfiguration: { TargetValue: 70 },
    });
    expect(await h.item('cr-auto')).toMatchObject({ status: 'RUNNING', runningCount: 2 });
  });

  it('create at 0 tasks starts asleep behind the waker', async () => {
    const record = await h.created('cr-asleep', spec({ desiredCount: 0, autoscaling: autoscaling(1, 3) }));
    expect(record.statesEntered).toContain('PointRuleAtWaker');
    expect(record.statesEntered).not.toContain('RegisterScalableTarget');
    expect(await routing('cr-asleep')).toEqual({ serving: [h.wakerTargetGroupArn], idle: [await tgOf('cr-asleep')] });
    expect(await h.item('cr-asleep')).toMatchObject({ status: 'SLEEPING', runningCount: 0 });
  });

  it('a create that fails after the scalable target was registered removes it with everything else', async () => {
    const input = await h.seed('cr-auto-fails', spec({ image: 'ghcr.io/acme/web:fail-pull', autoscaling: autoscaling(1, 2) }));
    const record = await h.run('create', input);
    expect(record.status).toBe('FAILED');
    expect(record.statesEntered).toContain('DeregisterScalableTarget');
    expect(scalableTargets()).toEqual([]);
    expect(ownLeftovers()).toEqual({ services: [], targetGroups: [], rules: [] });
    expect((await h.item('cr-auto-fails'))!.operation.error.code).toBe('IMAGE_PULL_FAILED');
  });

  it('teardown removes the scalable target first and names it in the receipt', async () => {
    await h.created('td-auto', spec({ desiredCount: 2, autoscaling: autoscaling(2, 4) }));
    const record = await h.run('teardown', await h.seed('td-auto', spec(), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    const order = h.calls.filter((c) => c.via === 'workflow').map((c) => c.action);
    expect(order.indexOf('DeregisterScalableTarget')).toBeLessThan(order.indexOf('DeleteService'));
    expect(scalableTargets()).toEqual([]);
    const [receipt] = await h.events('td-auto');
    expect(receipt).toMatchObject({ type: 'deleted' });
    expect(receipt!.details!.removed).toEqual(expect.arrayContaining([{ type: 'scalable-target', arn: 'service/fledge/td-auto' }]));
  });

  it('teardown of a sleeping environment removes its rule (found by host, though it forwards to the waker) and leaves the waker alone', async () => {
    await h.created('td-asleep');
    await scale('td-asleep', { desiredCount: 0 }, 2);
    const record = await h.run('teardown', await h.seed('td-asleep', spec({ desiredCount: 0 }), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(ownLeftovers()).toEqual({ services: [], targetGroups: [], rules: [] });
    expect(h.callsOf('DeleteTargetGroup').map((c) => c.params.TargetGroupArn)).not.toContain(h.wakerTargetGroupArn);
  });
});
