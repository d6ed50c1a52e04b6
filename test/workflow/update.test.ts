import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST, SimHarness, spec } from './support/sim-harness.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());
beforeEach(() => h.reset({ timeoutOverrides: { AwaitSteadyState: 2 }, simulator: FAST }));

const image = (tag: string) => `ghcr.io/acme/web:${tag}`;

describe('update workflow', () => {
  it('rolls the service forward to a new task definition revision and ends RUNNING on the new image', async () => {
    await h.created('upd-happy');
    const input = await h.seed('upd-happy', spec({ image: image('2.0'), desiredCount: 2 }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual([
      'PlanResources', 'RegisterTaskDefinition', 'BeforeUpdateHook', 'ModifyTargetGroup', 'UpdateService', 'PutTasksAlarm', 'AwaitSteadyState', 'AfterUpdateHook', 'CompleteOperation',
      'CheckDesiredSpec', 'EnvironmentUpdated',
    ]);
    const update = h.callsOf('UpdateService')[0]!.params;
    // a new image is new content: a revision of another (content-addressed, shared) family, tagged by hash, not by environment
    const [created, updated] = h.callsOf('RegisterTaskDefinition').map((c) => c.params as { Family: string; Tags: unknown });
    expect(updated!.Family).toMatch(/^fledge-td-[0-9a-f]{32}$/);
    expect(updated!.Family).not.toBe(created!.Family);
    expect(updated!.Tags).toEqual([{ Key: 'fledge:managed-by', Value: 'fledge' }, { Key: 'fledge:task-definition-hash', Value: updated!.Family.slice('fledge-td-'.length) }]);
    expect(update).toMatchObject({ Service: 'upd-happy', TaskDefinition: expect.stringMatching(new RegExp(`${updated!.Family}:1$`)), DesiredCount: 2, ForceNewDeployment: false });
    expect(h.callsOf('CreateTargetGroup')).toHaveLength(1);
    const item = await h.item('upd-happy');
    expect(item).toMatchObject({
      status: 'RUNNING', appliedSpecVersion: 2, runningCount: 2, lastHealthyImage: image('2.0'),
      healthyImages: [image('2.0'), image('1.0')], operation: { status: 'SUCCEEDED', type: 'update' },
    });
    expect((await h.events('upd-happy'))[0]).toMatchObject({ type: 'updated' });
  });

  it('a deployment the circuit breaker rolls back ends RUNNING on the previous image, the operation FAILED with the reason', async () => {
    await h.created('upd-rollback');
    const input = await h.seed('upd-rollback', spec({ image: image('fail-health') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).not.toContain('FailOperation');
    const item = await h.item('upd-rollback');
    expect(item).toMatchObject({
      status: 'RUNNING', lastHealthyImage: image('1.0'), healthyImages: [image('1.0')],
      operation: { status: 'FAILED', error: { code: 'HEALTH_CHECK_FAILED' } },
    });
    // the record says what runs and what the environment converges to: the previous image, in a new (applied) spec version;
    // the failed image is named in operation.error and the event, so no heal reconciles toward it
    expect(item).toMatchObject({ spec: { image: image('1.0') }, specVersion: 3, appliedSpecVersion: 3, operation: { error: { image: image('fail-health') } } });
    const events = await h.events('upd-rollback');
    expect(events[0]).toMatchObject({ type: 'rolled-back', details: { failedImage: image('fail-health'), restoredImage: image('1.0') } });
    expect(events[0]!.message).toContain(image('1.0'));
    // the circuit breaker rolled the service back to the revision it was created with
    expect(h.service('upd-rollback')!.taskDefinition).toBe(h.callsOf('CreateService')[0]!.params.TaskDefinition);
    // only the image failed: the health check did not change, so there is none to put back
    expect(record.statesEntered).toContain('HealthCheckChanged');
    expect(record.statesEntered).not.toContain('RestoreHealthCheck');
    expect(h.callsOf('ModifyTargetGroup')).toHaveLength(1);
    expect(item!.spec).toMatchObject({ healthCheck: { path: '/', intervalSeconds: 10 } });
    expect(events[0]!.details).not.toHaveProperty('restoredHealthCheck');
  });

  it('a rolled-back deployment that also changed the health check puts the previous one back on the target group and in the spec', async () => {
    await h.created('upd-hc-rollback');
    const tgOf = () => h.targetGroup('upd-hc-rollback');
    const tg = await tgOf();
    const before = { HealthCheckPath: tg.HealthCheckPath, HealthCheckIntervalSeconds: tg.HealthCheckIntervalSeconds };
    expect(before).toEqual({ HealthCheckPath: '/', HealthCheckIntervalSeconds: 10 });
    const healthCheck = { path: '/healthz', intervalSeconds: 15, timeoutSeconds: 6, healthyThreshold: 3, unhealthyThreshold: 4 };
    const input = await h.seed('upd-hc-rollback', spec({ image: image('fail-health'), healthCheck }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);

    expect(record.status).toBe('SUCCEEDED');
    const entered = record.statesEntered;
    expect(entered.slice(entered.indexOf('AwaitSteadyState'))).toEqual([
      'AwaitSteadyState', 'HealthCheckChanged', 'RestoreHealthCheck', 'CompleteOperation', 'CheckDesiredSpec', 'EnvironmentUpdated',
    ]);
    // forward to the new health check before UpdateService, back to the old one after the rollback, before the record is written
    const modifies = h.callsOf('ModifyTargetGroup').map((c) => c.params);
    expect(modifies).toHaveLength(2);
    expect(modifies[0]).toMatchObject({ HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 15 });
    expect(modifies[1]).toMatchObject({
      TargetGroupArn: tg.TargetGroupArn, HealthCheckPath: '/', HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 2, UnhealthyThresholdCount: 3,
    });
    expect(await tgOf()).toMatchObject({ HealthCheckPath: '/', HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 2, UnhealthyThresholdCount: 3 });

    const item = await h.item('upd-hc-rollback');
    expect(item).toMatchObject({
      status: 'RUNNING', specVersion: 3, appliedSpecVersion: 3,
      spec: { image: image('1.0'), healthCheck: { path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } },
      operation: { status: 'FAILED', error: { image: image('fail-health') } },
    });
    const [event] = await h.events('upd-hc-rollback');
    expect(event).toMatchObject({
      type: 'rolled-back',
      details: { failedHealthCheck: healthCheck, restoredHealthCheck: { path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } },
    });
    expect(event!.message).toContain('health check was set back to path / every 10 s');
    expect(event!.message).toContain('from path /healthz every 15 s');
  });

  it('applies a changed health check to the target group before the new tasks register', async () => {
    await h.created('upd-hc');
    const healthCheck = { path: '/healthz', intervalSeconds: 15, timeoutSeconds: 6, healthyThreshold: 3, unhealthyThreshold: 4 };
    const input = await h.seed('upd-hc', spec({ healthCheck }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);
    expect(record.status).toBe('SUCCEEDED');
    expect(await h.targetGroup('upd-hc')).toMatchObject({
      HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: 15, HealthCheckTimeoutSeconds: 6, HealthyThresholdCount: 3, UnhealthyThresholdCount: 4,
    });
    const order = h.calls.filter((c) => c.via === 'workflow').map((c) => c.action);
    expect(order.lastIndexOf('ModifyTargetGroup')).toBeLessThan(order.lastIndexOf('UpdateService'));
  });

  it('keeps an autoscaled count through a deploy (moved into the new min..max), and sends the spec\'s count without autoscaling', async () => {
    const autoscaling = { minCount: 1, maxCount: 6, targetCpuPercent: 60 };
    await h.created('upd-auto', spec({ autoscaling }));
    // autoscaling scaled it out (a desired count set behind Fledge's back, as Application Auto Scaling sets it)
    h.sim.injectFault({ environment: 'upd-auto', fault: 'drift-scale', count: 5 });
    let input = await h.seed('upd-auto', spec({ image: image('2.0'), autoscaling }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    expect((await h.run('update', input)).status).toBe('SUCCEEDED');
    expect(h.callsOf('UpdateService').at(-1)!.params).toMatchObject({ DesiredCount: 5 });
    expect(h.service('upd-auto')!.desiredCount).toBe(5);
    // a narrower range moves the count into it
    input = await h.seed('upd-auto', spec({ image: image('3.0'), autoscaling: { ...autoscaling, maxCount: 4 } }), { status: 'UPDATING', specVersion: 3, workflow: 'update' });
    expect((await h.run('update', input)).status).toBe('SUCCEEDED');
    expect(h.callsOf('UpdateService').at(-1)!.params).toMatchObject({ DesiredCount: 4 });
    // autoscaling off: the spec's count
    input = await h.seed('upd-auto', spec({ image: image('4.0'), desiredCount: 2 }), { status: 'UPDATING', specVersion: 4, workflow: 'update' });
    expect((await h.run('update', input)).status).toBe('SUCCEEDED');
    expect(h.callsOf('UpdateService').at(-1)!.params).toMatchObject({ DesiredCount: 2 });
  });

  it('a failing FailOperation does not leave the operation running: the fallback records FAILED at once', async () => {
    await h.created('upd-terminal');
    h.failOn('UpdateService', 'ServiceNotActiveException', 'Service was not ACTIVE.');
    h.lambdaFault = (arn, payload) => (arn.endsWith(':fledge-fail-operation') && !payload.fallback ? new Error('FailOperation broke') : undefined);
    const input = await h.seed('upd-terminal', spec({ image: image('2.0') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('UpdateFailed');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['FailOperation', 'FailOperationFallback', 'UpdateFailed']));
    const item = await h.item('upd-terminal');
    expect(item).toMatchObject({ status: 'FAILED', operation: { status: 'FAILED', error: { code: 'INTERNAL' } } });
    expect(item!.operation.error.message).toContain('ServiceNotActiveException');
    expect((await h.events('upd-terminal'))[0]).toMatchObject({ type: 'failed', details: { fallback: true } });
  });

  it('when even the fallback cannot record, the execution fails at once as OperationNotRecorded (not left running)', async () => {
    await h.created('upd-terminal2');
    h.failOn('UpdateService', 'ServiceNotActiveException', 'Service was not ACTIVE.');
    h.lambdaFault = (arn) => (arn.endsWith(':fledge-fail-operation') ? new Error('DynamoDB is down') : undefined);
    const input = await h.seed('upd-terminal2', spec({ image: image('2.0') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('OperationNotRecorded');
  });

  it('other failures record FAILED with the reason', async () => {
    await h.created('upd-fail');
    h.failOn('UpdateService', 'ServiceNotActiveException', 'Service was not ACTIVE.');
    const input = await h.seed('upd-fail', spec({ image: image('2.0') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('UpdateFailed');
    const item = await h.item('upd-fail');
    expect(item).toMatchObject({ status: 'FAILED', operation: { status: 'FAILED', error: { code: 'INTERNAL' } } });
    expect(item!.operation.error.message).toContain('ServiceNotActiveException');
    expect(item!.listenerPriority).toBeDefined();
  });

  it('converges when the desired spec moves during the update', async () => {
    await h.created('upd-converge');
    h.afterCall = async (call) => {
      if (call.action !== 'UpdateService') return;
      h.afterCall = undefined;
      await h.acceptNewSpec('upd-converge', spec({ image: image('3.0') }));
    };
    const input = await h.seed('upd-converge', spec({ image: image('2.0') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.filter((s) => s === 'RegisterTaskDefinition')).toHaveLength(2);
    const item = await h.item('upd-converge');
    expect(item).toMatchObject({ status: 'RUNNING', appliedSpecVersion: 3, lastHealthyImage: image('3.0') });
    expect(item!.healthyImages).toEqual([image('3.0'), image('2.0'), image('1.0')]);
  });

  it('converges to a newer spec after a rolled-back pass', async () => {
    await h.created('upd-fix');
    h.afterCall = async (call) => {
      if (call.action !== 'UpdateService') return;
      h.afterCall = undefined;
      await h.acceptNewSpec('upd-fix', spec({ image: image('2.1') }));
    };
    const input = await h.seed('upd-fix', spec({ image: image('fail-start') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);
    expect(record.status).toBe('SUCCEEDED');
    const item = await h.item('upd-fix');
    expect(item).toMatchObject({ status: 'RUNNING', appliedSpecVersion: 3, lastHealthyImage: image('2.1'), operation: { status: 'SUCCEEDED' } });
    expect((await h.events('upd-fix')).map((e) => e.type)).toContain('rolled-back');
  });

  it('keeps at most 5 healthy images, newest first', async () => {
    await h.created('upd-history');
    for (let v = 2; v <= 7; v++) {
      const input = await h.seed('upd-history', spec({ image: image(`${v}.0`) }), { status: 'UPDATING', specVersion: v, workflow: 'update' });
      expect((await h.run('update', input)).status).toBe('SUCCEEDED');
    }
    expect((await h.item('upd-history'))!.healthyImages).toEqual(['7.0', '6.0', '5.0', '4.0', '3.0'].map(image));
  });
});
