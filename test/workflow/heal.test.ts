/**
 * The heal workflow (statemachines/heal.asl.json) against local mode's simulated AWS: each
 * repair, the heal of a healthy environment (no AWS mutation), the backoff and the DEGRADED
 * path with its notification, convergence to a spec accepted meanwhile, and a heal that a
 * delete superseded.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alarmDefinitions, alarmName } from '../../functions/domain/alarms.ts';
import { renderPlan } from '../../functions/domain/resource-plan.ts';
import { runtimeConfig } from '../../functions/runtime/config.ts';
import { isMutation, SimHarness, spec, TOPIC_ARN } from './support/sim-harness.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());
beforeEach(() => h.reset({ timeoutOverrides: { AwaitSteadyState: 1, AwaitSteadyStateAfterConverging: 1 } }));

const image = (tag: string) => `ghcr.io/acme/web:${tag}`;
const types = async (name: string) => (await h.events(name)).map((e) => e.type);
/** a heal that changed something ends by setting the environment's three alarms back to OK (they re-evaluate) */
const RESET_ALARMS = ['SetAlarmState', 'SetAlarmState', 'SetAlarmState'];

describe('heal workflow', () => {
  it('changes nothing in a healthy environment and ends RUNNING with a heal-checked event', async () => {
    await h.created('heal-fine');
    const before = h.calls.length;
    const record = await h.heal('heal-fine');

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(['InspectEnvironment', 'AfterInspect', 'FinishHeal', 'AfterPass', 'EnvironmentHealed']);
    expect(h.calls.slice(before).filter(isMutation)).toEqual([]);
    expect(h.calls.slice(before).length).toBeGreaterThan(0); // it did look
    const item = await h.item('heal-fine');
    expect(item).toMatchObject({ status: 'RUNNING', runningCount: 1, operation: { type: 'heal', status: 'SUCCEEDED' }, healAttempts: [] });
    const [checked] = await h.events('heal-fine');
    expect(checked).toMatchObject({ type: 'heal-checked' });
    expect(checked!.details!.found).toMatchObject({ service: { desiredCount: 1, runningCount: 1 }, targets: { healthy: 1 }, alarms: { tasks: 'ok', unhealthy: 'ok', '5xx': 'ok' } });
  });

  it('recreates a service deleted out of band and the environment answers again', async () => {
    await h.created('heal-gone');
    h.sim.injectFault({ environment: 'heal-gone', fault: 'delete-service' });
    expect(await h.until(() => h.service('heal-gone') === undefined)).toBe(true);
    expect(h.sim.servePage('heal-gone.preview.example.com').outcome).not.toBe('task');

    const before = h.calls.length;
    const record = await h.heal('heal-gone');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.mutations(before)).toEqual([...['CreateService'], ...RESET_ALARMS]);
    const create = h.calls.slice(before).find((c) => c.action === 'CreateService')!.params;
    expect(create).toMatchObject({ ServiceName: 'heal-gone', DesiredCount: 1, DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true } } });
    expect(h.service('heal-gone')).toMatchObject({ status: 'ACTIVE', runningCount: 1, image: image('1.0') });
    expect(h.sim.servePage('heal-gone.preview.example.com').outcome).toBe('task');
    expect(await h.item('heal-gone')).toMatchObject({ status: 'RUNNING', healAttempts: [expect.any(String)] });
    const repair = (await h.events('heal-gone')).find((e) => e.type === 'heal-repair')!;
    expect(repair.details).toMatchObject({ repair: 'recreate-service', found: 'the ECS service is missing', done: true, serviceArn: expect.stringContaining(':service/') });
    expect(await types('heal-gone')).toEqual(expect.arrayContaining(['heal-attempt', 'heal-repair', 'healed']));
  });

  it('recreates a deleted service even when ECS still says its name is draining at CreateService: the heal waits it out', async () => {
    await h.created('heal-drain');
    h.sim.injectFault({ environment: 'heal-drain', fault: 'delete-service' });
    expect(await h.until(() => h.service('heal-drain') === undefined)).toBe(true);
    h.failOn('CreateService', 'InvalidParameterException', 'Unable to Start a service that is still Draining.', 1);
    const before = h.calls.length;
    const record = await h.heal('heal-drain');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.calls.slice(before).filter((c) => c.action === 'CreateService')).toHaveLength(2);
    expect(record.statesEntered).toContain('CreateServiceDrainingWait');
    expect(h.service('heal-drain')).toMatchObject({ status: 'ACTIVE', runningCount: 1 });
    expect(await h.item('heal-drain')).toMatchObject({ status: 'RUNNING' });
  });

  it('restores a desired count changed out of band', async () => {
    await h.created('heal-drift', spec({ desiredCount: 2 }));
    h.sim.injectFault({ environment: 'heal-drift', fault: 'drift-scale', count: 0 });
    const before = h.calls.length;
    const record = await h.heal('heal-drift');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.mutations(before)).toEqual([...['UpdateService'], ...RESET_ALARMS]);
    expect(h.calls.slice(before).find((c) => c.action === 'UpdateService')!.params).toMatchObject({ DesiredCount: 2, ForceNewDeployment: false });
    expect(h.service('heal-drift')).toMatchObject({ desiredCount: 2, runningCount: 2 });
    expect(await h.item('heal-drift')).toMatchObject({ status: 'RUNNING', runningCount: 2 });
    const repair = (await h.events('heal-drift')).find((e) => e.type === 'heal-repair')!;
    expect(repair.details).toMatchObject({ repair: 'restore-desired-count', found: 'the desired count is 0, the spec wants 2', done: true });
  });

  it('starts a new deployment when tasks fail their health checks', async () => {
    await h.created('heal-sick');
    h.sim.injectFault({ environment: 'heal-sick', fault: 'unhealthy' });
    expect(await h.until(() => h.service('heal-sick')!.tasks.every((t) => t.targetHealth !== 'healthy'))).toBe(true);
    // the cause goes away once the heal has acted: the fresh tasks pass
    h.afterCall = (call) => {
      if (call.action === 'UpdateService') h.sim.injectFault({ environment: 'heal-sick', fault: 'clear' });
    };
    const before = h.calls.length;
    const record = await h.heal('heal-sick');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.mutations(before)).toEqual([...['UpdateService'], ...RESET_ALARMS]);
    expect(h.calls.slice(before).find((c) => c.action === 'UpdateService')!.params).toMatchObject({ ForceNewDeployment: true, DesiredCount: 1 });
    expect(await h.item('heal-sick')).toMatchObject({ status: 'RUNNING', operation: { status: 'SUCCEEDED' } });
    const repair = (await h.events('heal-sick')).find((e) => e.type === 'heal-repair')!;
    expect(repair.details).toMatchObject({ repair: 'force-new-deployment', done: true });
  });

  it('rolls back to the newest healthy image when the current one keeps failing', async () => {
    await h.created('heal-loop', spec(), spec({ image: image('2.0') }));
    expect((await h.item('heal-loop'))!.healthyImages).toEqual([image('2.0'), image('1.0')]);
    h.sim.injectFault({ environment: 'heal-loop', fault: 'crashloop' });
    // the replacements of 2.0 fail at start too
    expect(await h.until(() => h.sim.resources().services[0] !== undefined && stoppedWithError('heal-loop') >= 2)).toBe(true);

    const before = h.calls.length;
    const record = await h.heal('heal-loop');
    expect(record.status).toBe('SUCCEEDED');
    // 1.0's content-addressed task definition is still ACTIVE: no new registration
    expect(h.mutations(before)).toEqual([...['UpdateService'], ...RESET_ALARMS]);
    const item = await h.item('heal-loop');
    // the desired spec says the healthy image again (a new, applied spec version): no later heal reconciles toward 2.0
    expect(item).toMatchObject({ status: 'RUNNING', lastHealthyImage: image('1.0'), healthyImages: [image('1.0')], spec: { image: image('1.0') }, specVersion: 3, appliedSpecVersion: 3 });
    expect(h.service('heal-loop')).toMatchObject({ image: image('1.0'), runningCount: 1 });
    const events = await h.events('heal-loop');
    expect(events[0]).toMatchObject({ type: 'rolled-back', details: { from: image('2.0'), to: image('1.0') } });
    expect(events.find((e) => e.type === 'heal-repair')!.details).toMatchObject({ repair: 'roll-back', image: image('1.0'), done: true });
  });

  it('recreates a missing listener rule and missing alarms', async () => {
    await h.created('heal-rule');
    const rule = h.sim.resources().listenerRules.find((r) => r.environment === 'heal-rule')!;
    await h.sim.call('elasticloadbalancingv2', 'DeleteRule', { RuleArn: rule.arn });
    await h.sim.call('cloudwatch', 'DeleteAlarms', { AlarmNames: [alarmName(runtimeConfig().installationId, 'heal-rule', 'tasks'), alarmName(runtimeConfig().installationId, 'heal-rule', '5xx')] });
    expect(h.sim.servePage('heal-rule.preview.example.com').outcome).toBe('fixed-response');

    const before = h.calls.length;
    const record = await h.heal('heal-rule');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.mutations(before)).toEqual([...['CreateRule', 'PutMetricAlarm', 'PutMetricAlarm'], ...RESET_ALARMS]);
    const created = h.sim.resources().listenerRules.find((r) => r.environment === 'heal-rule')!;
    expect(created).toMatchObject({ priority: rule.priority, hosts: ['heal-rule.preview.example.com'], targetGroupArns: rule.targetGroupArns });
    // the target group was unused without its rule: the ALB checks its targets again before it routes to them
    expect(await h.until(() => h.sim.servePage('heal-rule.preview.example.com').outcome === 'task')).toBe(true);
    expect(h.sim.resources().alarms.filter((a) => a.environment === 'heal-rule').map((a) => a.name).sort()).toEqual(
      ['fledge-test-heal-rule-5xx', 'fledge-test-heal-rule-tasks', 'fledge-test-heal-rule-unhealthy'],
    );
    const repairs = (await h.events('heal-rule')).filter((e) => e.type === 'heal-repair').map((e) => e.details!.repair);
    expect(repairs.sort()).toEqual(['recreate-alarm', 'recreate-alarm', 'recreate-listener-rule']);
  });

  it('recreates a missing target group, its rule, and points the service and the alarms at it', async () => {
    await h.created('heal-tg');
    const old = h.sim.resources().targetGroups.find((t) => t.environment === 'heal-tg')!;
    const rule = h.sim.resources().listenerRules.find((r) => r.environment === 'heal-tg')!;
    await h.sim.call('elasticloadbalancingv2', 'DeleteRule', { RuleArn: rule.arn });
    await h.sim.call('elasticloadbalancingv2', 'DeleteTargetGroup', { TargetGroupArn: old.arn });

    const before = h.calls.length;
    const record = await h.heal('heal-tg');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.mutations(before)).toEqual([
      'CreateTargetGroup', 'ModifyTargetGroupAttributes', 'CreateRule', 'UpdateService', 'PutMetricAlarm', 'PutMetricAlarm', ...RESET_ALARMS,
    ]);
    const tg = h.sim.resources().targetGroups.find((t) => t.environment === 'heal-tg')!;
    expect(tg.arn).not.toBe(old.arn);
    expect(h.calls.slice(before).find((c) => c.action === 'UpdateService')!.params).toMatchObject({
      ForceNewDeployment: true, LoadBalancers: [{ TargetGroupArn: tg.arn, ContainerName: 'app', ContainerPort: 8080 }],
    });
    expect(h.sim.servePage('heal-tg.preview.example.com').outcome).toBe('task');
    const item = await h.item('heal-tg');
    const expected = alarmDefinitions('heal-tg', renderPlan('heal-tg', item!.spec, { ...runtimeConfig(), loadBalancerDimension: runtimeConfig().shards[0]!.loadBalancerDimension }, 'x', 1).alarms, tg.arn);
    const put = h.calls.slice(before).filter((c) => c.action === 'PutMetricAlarm').map((c) => c.params);
    expect(put).toEqual([expected.unhealthy, expected['5xx']]);
  });

  it('retries with a growing backoff, then goes DEGRADED and publishes a notification', async () => {
    await h.created('heal-hopeless');
    h.sim.injectFault({ environment: 'heal-hopeless', fault: 'unhealthy' });
    expect(await h.until(() => h.service('heal-hopeless')!.tasks.every((t) => t.targetHealth !== 'healthy'))).toBe(true);
    const record = await h.heal('heal-hopeless');

    expect(record.status).toBe('SUCCEEDED');
    const waits = record.statesEntered.filter((s) => s === 'WaitBackoff').length;
    expect(waits).toBe(3); // after each of the 3 attempts: 1 s, 2 s, 4 s (FLEDGE_HEAL_BACKOFF=1s)
    expect(record.statesEntered.slice(-3)).toEqual(['AfterDegrade', 'PublishNotification', 'EnvironmentDegraded']);
    const item = await h.item('heal-hopeless');
    expect(item).toMatchObject({ status: 'DEGRADED', gsiStatusPk: 'STATUS#DEGRADED', operation: { type: 'heal', status: 'FAILED', error: { code: 'HEALTH_CHECK_FAILED' } } });
    expect(item!.healAttempts).toHaveLength(3);
    const failed = (await h.events('heal-hopeless')).filter((e) => e.type === 'heal-attempt-failed').map((e) => e.details!.waitSeconds);
    expect(failed.reverse()).toEqual([1, 2, 4]);
    expect((await h.events('heal-hopeless'))[0]).toMatchObject({ type: 'degraded' });
    const [notification] = h.sim.resources().notifications;
    expect(notification).toMatchObject({ topicArn: TOPIC_ARN, subject: 'Fledge: environment heal-hopeless is DEGRADED' });
    expect(JSON.parse(notification!.message)).toMatchObject({ environment: 'heal-hopeless', status: 'DEGRADED', attempts: 3, error: { code: 'HEALTH_CHECK_FAILED' } });
  }, 60_000);

  it('goes DEGRADED without touching AWS when the hour already holds the maximum of heals', async () => {
    await h.created('heal-bound');
    h.sim.injectFault({ environment: 'heal-bound', fault: 'drift-scale', count: 0 });
    const recent = [50, 40, 30].map((minutes) => new Date(Date.now() - minutes * 60_000).toISOString());
    const before = h.calls.length;
    const record = await h.heal('heal-bound', { attempts: recent });
    expect(record.status).toBe('SUCCEEDED');
    expect(h.mutations(before)).toEqual(['Publish']);
    expect(await h.item('heal-bound')).toMatchObject({ status: 'DEGRADED', healAttempts: recent });
  });

  it('a failing DegradeEnvironment still ends the heal: the fallback records DEGRADED and the notification goes out', async () => {
    await h.created('heal-bound-fb');
    h.sim.injectFault({ environment: 'heal-bound-fb', fault: 'drift-scale', count: 0 });
    h.lambdaFault = (arn, payload) => (arn.endsWith(':fledge-degrade-environment') && !payload.fallback ? new Error('DegradeEnvironment broke') : undefined);
    const recent = [50, 40, 30].map((minutes) => new Date(Date.now() - minutes * 60_000).toISOString());
    const record = await h.heal('heal-bound-fb', { attempts: recent });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['DegradeEnvironment', 'DegradeEnvironmentFallback', 'PublishNotification', 'EnvironmentDegraded']));
    expect(await h.item('heal-bound-fb')).toMatchObject({ status: 'DEGRADED', operation: { status: 'FAILED', error: { code: 'INTERNAL' } } });
    expect(h.sim.resources().notifications.some((n) => n.subject === 'Fledge: environment heal-bound-fb is DEGRADED')).toBe(true);
  });

  it('a notification that cannot be published fails the execution at once (the environment is DEGRADED already)', async () => {
    await h.created('heal-bound-sns');
    h.sim.injectFault({ environment: 'heal-bound-sns', fault: 'drift-scale', count: 0 });
    h.beforeCall = (call) => (call.action === 'Publish' ? Object.assign(new Error('topic gone'), { name: 'NotFoundException' }) : undefined);
    const recent = [50, 40, 30].map((minutes) => new Date(Date.now() - minutes * 60_000).toISOString());
    const record = await h.heal('heal-bound-sns', { attempts: recent });
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('NotificationNotPublished');
    expect(await h.item('heal-bound-sns')).toMatchObject({ status: 'DEGRADED', operation: { status: 'FAILED' } });
  });

  it('puts a target-group health check changed out of band back to the spec\'s', async () => {
    await h.created('heal-hc', spec({ healthCheck: { path: '/healthz' } }));
    const tg = h.sim.resources().targetGroups.find((t) => t.environment === 'heal-hc')!;
    await h.sim.call('elasticloadbalancingv2', 'ModifyTargetGroup', { TargetGroupArn: tg.arn, HealthCheckPath: '/', HealthyThresholdCount: 7 });
    const before = h.calls.length;
    const record = await h.heal('heal-hc');
    expect(record.status).toBe('SUCCEEDED');
    expect(h.mutations(before)).toEqual(['ModifyTargetGroup', ...RESET_ALARMS]);
    expect(h.sim.resources().targetGroups.find((t) => t.environment === 'heal-hc')!.healthCheck).toMatchObject({ path: '/healthz', healthyThreshold: 2 });
    const repair = (await h.events('heal-hc')).find((e) => e.type === 'heal-repair')!;
    expect(repair.details).toMatchObject({ repair: 'update-health-check', done: true });
    expect(repair.details!.found).toContain('path: / -> /healthz');
  });

  it('waits out the backoff after a heal a moment ago before it acts', async () => {
    await h.created('heal-wait');
    h.sim.injectFault({ environment: 'heal-wait', fault: 'drift-scale', count: 0 });
    const record = await h.heal('heal-wait', { attempts: [new Date(Date.now() - 200).toISOString()] });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(0, 4)).toEqual(['InspectEnvironment', 'AfterInspect', 'WaitBackoff', 'InspectEnvironment']);
    expect(await h.item('heal-wait')).toMatchObject({ status: 'RUNNING', healAttempts: [expect.any(String), expect.any(String)] });
  });

  it('never touches an environment whose heal a delete superseded', async () => {
    await h.created('heal-deleted');
    h.sim.injectFault({ environment: 'heal-deleted', fault: 'delete-service' });
    expect(await h.until(() => h.service('heal-deleted') === undefined)).toBe(true);
    const item = await h.item('heal-deleted');
    const input = await h.seed('heal-deleted', item!.spec, { status: 'HEALING', workflow: 'heal', type: 'heal' });
    // a DELETE replaced the operation before the heal looked
    await h.seed('heal-deleted', item!.spec, { status: 'DELETING', workflow: 'teardown' });
    const before = h.calls.length;
    const record = await h.run('heal', { ...input, trigger: { source: 'alarm' } });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.at(-1)).toBe('HealSuperseded');
    expect(h.calls.slice(before)).toEqual([]);
    expect(h.service('heal-deleted')).toBeUndefined();
    expect(await h.item('heal-deleted')).toMatchObject({ status: 'DELETING' });
  });

  it('deploys a spec accepted during the heal before it ends', async () => {
    await h.created('heal-put');
    h.sim.injectFault({ environment: 'heal-put', fault: 'drift-scale', count: 0 });
    h.afterCall = async (call) => {
      if (call.action === 'UpdateService') {
        h.afterCall = undefined;
        await h.acceptNewSpec('heal-put', spec({ image: image('3.0') }));
      }
    };
    const record = await h.heal('heal-put');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RegisterConvergedTaskDefinition', 'UpdateConvergedService', 'CompleteOperation']));
    expect(await h.item('heal-put')).toMatchObject({ status: 'RUNNING', appliedSpecVersion: 2, lastHealthyImage: image('3.0') });
    expect(h.service('heal-put')).toMatchObject({ image: image('3.0'), runningCount: 1 });
    expect(await types('heal-put')).toEqual(expect.arrayContaining(['converging', 'updated']));
  });
});

describe('heals started by signals (alarms and ECS events through functions/events/heal-trigger.ts)', () => {
  beforeEach(() => h.reset({ healTrigger: true, timeoutOverrides: { AwaitSteadyState: 1 } }));

  it('the tasks alarm of a service deleted out of band starts a heal that recreates it', async () => {
    await h.created('sig-gone');
    h.sim.injectFault({ environment: 'sig-gone', fault: 'delete-service' });
    expect(await h.until(async () => (await h.item('sig-gone'))!.status === 'HEALING')).toBe(true);
    const record = await h.healExecution('sig-gone');
    expect(record.status).toBe('SUCCEEDED');
    const item = await h.item('sig-gone');
    expect(item).toMatchObject({ status: 'RUNNING', operation: { type: 'heal', status: 'SUCCEEDED' } });
    const triggered = (await h.events('sig-gone')).find((e) => e.type === 'heal-triggered')!;
    expect(triggered).toMatchObject({ actor: 'system', details: { trigger: { source: 'alarm', signal: 'fledge-test-sig-gone-tasks' }, from: 'RUNNING' } });
    expect(h.service('sig-gone')).toMatchObject({ status: 'ACTIVE', runningCount: 1 });
  });

  it('tasks that keep failing start one heal however many events say so', async () => {
    await h.created('sig-loop', spec(), spec({ image: image('2.0') }));
    h.sim.injectFault({ environment: 'sig-loop', fault: 'crashloop' });
    expect(await h.until(async () => (await h.item('sig-loop'))!.status === 'HEALING')).toBe(true);
    const record = await h.healExecution('sig-loop');
    expect(record.status).toBe('SUCCEEDED');
    expect(await h.item('sig-loop')).toMatchObject({ status: 'RUNNING', lastHealthyImage: image('1.0') });
    const started = h.triggerResults.filter((r) => (r as { outcome: string }).outcome === 'started');
    expect(started).toHaveLength(1);
    expect(h.triggerResults.length).toBeGreaterThan(1);
    expect((await h.events('sig-loop')).filter((e) => e.type === 'heal-triggered')).toHaveLength(1);
  });
});

function stoppedWithError(name: string): number {
  const service = h.sim.internals.ecs.services.get(name);
  if (!service) return 0;
  return [...h.sim.internals.ecs.tasks.values()].filter((t) => t.serviceArn === service.arn && t.stopCode === 'EssentialContainerExited' && t.lastStatus === 'STOPPED').length;
}
