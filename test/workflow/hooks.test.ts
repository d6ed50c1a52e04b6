import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAST, SimHarness, spec } from './support/sim-harness.ts';

const h = new SimHarness();
beforeAll(() => h.start(), 90_000);
afterAll(() => h.stop());
beforeEach(() => h.reset({ timeoutOverrides: { AwaitSteadyState: 2 }, simulator: FAST }));

const image = (tag: string) => `ghcr.io/acme/web:${tag}`;
const withHooks = (hooks: Record<string, unknown>, overrides: Record<string, unknown> = {}) => spec({ hooks, ...overrides });

/** Hook tasks still running in the cluster (a hook that was not stopped would leak: it costs and holds an ENI). */
async function runningHookTasks(): Promise<string[]> {
  const { TaskArns } = await h.aws<{ TaskArns: string[] }>('ecs', 'ListTasks', { Cluster: h.sim.clusterArn, StartedBy: 'fledge-hook' });
  return TaskArns;
}

async function hookTask(taskArn: string) {
  const { Tasks } = await h.aws('ecs', 'DescribeTasks', { Cluster: h.sim.clusterArn, Tasks: [taskArn], Include: ['TAGS'] });
  return Tasks[0];
}

describe('hooks in the create workflow (afterCreate)', () => {
  it('a seed hook that succeeds runs once the service is steady, from its task definition; RUNNING, event hook with exit code 0, its task time counted', async () => {
    const record = await h.created('hook-seed', withHooks({ afterCreate: { command: ['sleep', '1'] } }));
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(record.statesEntered.indexOf('AwaitSteadyState'))).toEqual([
      'AwaitSteadyState', 'AfterCreateHook', 'RunAfterCreateHook', 'RecordHookRunAfterCreate', 'CompleteOperation', 'CheckDesiredSpec', 'EnvironmentReady',
    ]);
    const [run] = h.callsOf('RunTask');
    expect(run!.params).toEqual({
      Cluster: h.sim.clusterArn,
      TaskDefinition: h.callsOf('CreateService')[0]!.params.TaskDefinition,
      LaunchType: 'FARGATE',
      PlatformVersion: 'LATEST',
      NetworkConfiguration: h.callsOf('CreateService')[0]!.params.NetworkConfiguration,
      Overrides: { ContainerOverrides: [{ Name: 'app', Command: ['sleep', '1'] }] },
      Group: 'hook:hook-seed',
      StartedBy: 'fledge-hook',
      Tags: [{ Key: 'fledge:environment', Value: 'hook-seed' }, { Key: 'fledge:managed-by', Value: 'fledge' }, { Key: 'fledge:hook', Value: 'afterCreate' }],
    });
    const item = await h.item('hook-seed');
    // Fargate bills the task from its image pull to its stop, a minute at least (H17a's hookTaskSeconds)
    expect(item).toMatchObject({ status: 'RUNNING', operation: { status: 'SUCCEEDED' }, hookSeconds: 60, lastHookTask: expect.stringContaining(':task/') });
    const hookEvent = (await h.events('hook-seed')).find((e) => e.type === 'hook');
    expect(hookEvent).toMatchObject({ details: { hook: 'afterCreate', exitCode: 0, durationSeconds: 1, logStream: expect.stringMatching(/^fledge\/app\/[0-9a-f]{32}$/) } });
    expect(hookEvent!.message).toBe('the afterCreate hook exited with code 0 after 1 s');
    // the stream is the hook task's own, and its output is in it
    const taskId = (hookEvent!.details!.logStream as string).split('/')[2]!;
    const task = await hookTask((await h.aws('ecs', 'ListTasks', { Cluster: h.sim.clusterArn, StartedBy: 'fledge-hook', DesiredStatus: 'STOPPED' })).TaskArns[0]);
    expect(task.TaskArn).toContain(taskId);
    expect(task).toMatchObject({ Group: 'hook:hook-seed', StopCode: 'EssentialContainerExited', Containers: [{ Name: 'app', ExitCode: 0 }] });
    expect(task.Tags).toContainEqual({ Key: 'fledge:environment', Value: 'hook-seed' });
    expect(await runningHookTasks()).toEqual([]);
  });

  it('a seed hook that fails: FAILED with HOOK_FAILED in plain words, the create compensated, nothing leaked', async () => {
    const record = await h.run('create', await h.seed('hook-fail', withHooks({ afterCreate: { command: ['fail-seed', '--all'] } })));
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('CreateFailed');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RunAfterCreateHook', 'RecordHookRunAfterCreate', 'UndoCreatedResources', 'DeleteService', 'FailOperation']));
    const item = await h.item('hook-fail');
    expect(item).toMatchObject({ status: 'FAILED', operation: { status: 'FAILED', error: { code: 'HOOK_FAILED' } } });
    const message = item!.operation.error.message as string;
    expect(message).toMatch(/^the afterCreate hook exited with code 1 after 0 s; its logs: GET \/v1\/environments\/hook-fail\/logs\?since=\d{4}-\d\d-\d\dT/);
    expect(message).not.toMatch(/arn:|\d{12}/);
    expect((await h.events('hook-fail')).find((e) => e.type === 'hook')).toMatchObject({ details: { hook: 'afterCreate', exitCode: 1 } });
    await h.until(() => h.leftovers().services.length === 0);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
    expect(await runningHookTasks()).toEqual([]);
    expect(item!.listenerPriority).toBeUndefined();
  });

  it('a hook that runs past its state\'s timeout is stopped and the create fails with HOOK_FAILED saying it timed out', async () => {
    await h.reset({ timeoutOverrides: { AwaitSteadyState: 2, RunAfterCreateHook: 1 }, simulator: FAST });
    const record = await h.run('create', await h.seed('hook-slow', withHooks({ afterCreate: { command: ['sleep', '600'], timeoutSeconds: 10 } })));
    expect(record.status).toBe('FAILED');
    const item = await h.item('hook-slow');
    expect(item).toMatchObject({ status: 'FAILED', operation: { error: { code: 'HOOK_FAILED' } } });
    expect(item!.operation.error.message).toMatch(/^the afterCreate hook timed out: it did not finish within 310 s \(its timeoutSeconds 10 s plus 300 s to start\) and was stopped/);
    // AWS documents no stop of the task when the state times out: RecordHookRun finds it (ListTasks by startedBy alone) and stops it
    expect(h.callsOf('ListTasks').filter((c) => c.via === 'lambda' && c.params.startedBy === 'fledge-hook')[0]!.params).toEqual({ cluster: h.sim.clusterArn, startedBy: 'fledge-hook', maxResults: 100 });
    expect(h.callsOf('StopTask').map((c) => [c.via, c.params.reason])).toEqual([['lambda', 'the afterCreate hook timed out (Fledge)']]);
    expect(await runningHookTasks()).toEqual([]);
    // and its time until the stop is in the cost (a minute at least)
    expect(item).toMatchObject({ hookSeconds: expect.any(Number), lastHookTask: h.callsOf('StopTask')[0]!.params.task });
    await h.until(() => h.leftovers().services.length === 0);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
  });

  it('a timed-out hook\'s StopTask: throttled, the step retries it; refused (AccessDenied), the run is still recorded HOOK_FAILED and the create fails', async () => {
    await h.reset({ timeoutOverrides: { AwaitSteadyState: 2, RunAfterCreateHook: 1 }, simulator: FAST });
    // more throttles than the SDK's own 3 attempts: the Lambda fails with ThrottlingException and the step's Retry runs it again
    h.throttle('StopTask', 4);
    const throttled = await h.run('create', await h.seed('hook-slow2', withHooks({ afterCreate: { command: ['sleep', '600'], timeoutSeconds: 10 } })));
    expect(throttled.status).toBe('FAILED');
    expect(await h.item('hook-slow2')).toMatchObject({ operation: { error: { code: 'HOOK_FAILED' } } });
    expect(h.callsOf('StopTask').length).toBe(2);
    expect(await runningHookTasks()).toEqual([]);

    await h.reset({ timeoutOverrides: { AwaitSteadyState: 2, RunAfterCreateHook: 1 }, simulator: FAST });
    h.failOn('StopTask', 'AccessDeniedException', 'User is not authorized to perform: ecs:StopTask');
    const refused = await h.run('create', await h.seed('hook-slow3', withHooks({ afterCreate: { command: ['sleep', '600'], timeoutSeconds: 10 } })));
    expect(refused.status).toBe('FAILED');
    const item = await h.item('hook-slow3');
    expect(item).toMatchObject({ status: 'FAILED', operation: { error: { code: 'HOOK_FAILED' } } });
    expect(item!.operation.error.message).toMatch(/^the afterCreate hook timed out/);
    expect((await h.events('hook-slow3')).find((e) => e.type === 'hook')).toMatchObject({ details: { hook: 'afterCreate', timedOut: true } });
    // the task the refusal left running is the one an operator has to stop (the Lambda logs it)
    expect(await runningHookTasks()).toHaveLength(1);
  });

  it('a hook task with sidecars whose command exits 0 succeeds, though its sidecars exit 143 as ECS stops them', async () => {
    const record = await h.created('hook-side', withHooks({ afterCreate: { command: ['./seed.sh'] } }, { sidecars: [{ name: 'db', image: 'postgres:16', port: 5432 }] }));
    expect(record.status).toBe('SUCCEEDED');
    const { TaskArns } = await h.aws<{ TaskArns: string[] }>('ecs', 'ListTasks', { Cluster: h.sim.clusterArn, StartedBy: 'fledge-hook', DesiredStatus: 'STOPPED' });
    expect((await hookTask(TaskArns[0]!)).Containers.map((c: { Name: string; ExitCode: number }) => [c.Name, c.ExitCode])).toEqual([['app', 0], ['db', 143]]);
    expect(await h.item('hook-side')).toMatchObject({ status: 'RUNNING', operation: { status: 'SUCCEEDED' } });
    expect((await h.events('hook-side')).find((e) => e.type === 'hook')).toMatchObject({ details: { hook: 'afterCreate', exitCode: 0 } });
  });

  it('a hook whose sidecar crashes fails with HOOK_FAILED naming the sidecar', async () => {
    const record = await h.run('create', await h.seed('hook-sidebad', withHooks({ afterCreate: { command: ['sleep', '5'] } }, { sidecars: [{ name: 'mock', image: 'wiremock:fail-start', essential: false }] })));
    expect(record.status).toBe('FAILED');
    expect((await h.item('hook-sidebad'))!.operation.error).toMatchObject({ code: 'HOOK_FAILED', message: expect.stringMatching(/sidecar mock exited with code 1, which fails the run/) });
  });

  it('runs once per create: a spec accepted meanwhile converges without seeding again', async () => {
    const hooks = { afterCreate: { command: ['seed'] } };
    h.afterCall = async (call) => {
      if (call.action !== 'CreateService') return;
      h.afterCall = undefined;
      await h.acceptNewSpec('hook-once', withHooks(hooks, { image: image('2.0') }));
    };
    const record = await h.run('create', await h.seed('hook-once', withHooks(hooks)));
    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.filter((s) => s === 'AfterCreateHook')).toHaveLength(2);
    expect(record.statesEntered.filter((s) => s === 'RunAfterCreateHook')).toHaveLength(1);
    expect(h.callsOf('RunTask')).toHaveLength(1);
    expect(await h.item('hook-once')).toMatchObject({ status: 'RUNNING', appliedSpecVersion: 2, lastHealthyImage: image('2.0') });
  });

  it('a create with no hooks runs no task and passes the hook by one Choice', async () => {
    const record = await h.created('hook-none');
    expect(record.statesEntered).toContain('AfterCreateHook');
    expect(record.statesEntered).not.toContain('RunAfterCreateHook');
    expect(h.callsOf('RunTask')).toEqual([]);
  });
});

describe('hooks in the update workflow', () => {
  it('a migrate hook (beforeUpdate) that fails: the update fails with HOOK_FAILED and the previous version keeps serving, untouched', async () => {
    await h.created('hook-migrate');
    const serving = h.service('hook-migrate')!.taskDefinition;
    const before = h.calls.length;
    const input = await h.seed('hook-migrate', withHooks({ beforeUpdate: { command: ['fail-migrate'] } }, { image: image('2.0') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);

    expect(record.status).toBe('FAILED');
    expect(record.statesEntered.slice(0, 5)).toEqual(['PlanResources', 'RegisterTaskDefinition', 'BeforeUpdateHook', 'RunBeforeUpdateHook', 'RecordHookRunBeforeUpdate']);
    // the hook ran the NEW revision; nothing of the serving version changed
    expect(h.callsOf('RunTask')[0]!.params.TaskDefinition).toMatch(/fledge-td-[0-9a-f]{32}:1$/);
    expect(h.callsOf('RunTask')[0]!.params.TaskDefinition).not.toBe(serving);
    expect(h.mutations(before)).toEqual(['RegisterTaskDefinition', 'RunTask']);
    expect(h.service('hook-migrate')!.taskDefinition).toBe(serving);
    const item = await h.item('hook-migrate');
    expect(item).toMatchObject({ lastHealthyImage: image('1.0'), operation: { status: 'FAILED', error: { code: 'HOOK_FAILED' } } });
    expect(item!.operation.error.message).toMatch(/^the beforeUpdate hook exited with code 1 after 0 s/);
    expect(await h.steady('hook-migrate')).toBe(true);
  });

  it('an afterUpdate hook that fails rolls the service back to the previous version, as a circuit-breaker rollback ends', async () => {
    await h.created('hook-after');
    const serving = h.service('hook-after')!.taskDefinition;
    const input = await h.seed('hook-after', withHooks({ afterUpdate: { command: ['fail'] } }, { image: image('2.0') }), { status: 'UPDATING', specVersion: 2, workflow: 'update' });
    const record = await h.run('update', input);

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual([
      'PlanResources', 'RegisterTaskDefinition', 'BeforeUpdateHook', 'ModifyTargetGroup', 'UpdateService', 'PutTasksAlarm', 'AwaitSteadyState',
      'AfterUpdateHook', 'RunAfterUpdateHook', 'RecordHookRunAfterUpdate', 'RollBackAfterHook', 'PreviousTaskDefinition', 'RollBackService',
      'AwaitSteadyState', 'AfterUpdateHook', 'HealthCheckChanged', 'CompleteOperation', 'CheckDesiredSpec', 'EnvironmentUpdated',
    ]);
    expect(h.service('hook-after')!.taskDefinition).toBe(serving);
    expect(await h.steady('hook-after')).toBe(true);
    const item = await h.item('hook-after');
    expect(item).toMatchObject({
      status: 'RUNNING', lastHealthyImage: image('1.0'), spec: { image: image('1.0') },
      operation: { status: 'FAILED', error: { code: 'HOOK_FAILED', image: image('2.0') } },
    });
    const events = await h.events('hook-after');
    expect(events[0]).toMatchObject({ type: 'rolled-back', details: { failedImage: image('2.0'), restoredImage: image('1.0') } });
    expect(events.find((e) => e.type === 'hook')).toMatchObject({ details: { hook: 'afterUpdate', exitCode: 1 } });
  });
});

describe('hooks in the teardown workflow (beforeDelete)', () => {
  it('runs first while the service exists; its failure is recorded and the teardown completes', async () => {
    await h.created('hook-bye', withHooks({ beforeDelete: { command: ['fail-export'] } }));
    const serving = h.service('hook-bye')!.taskDefinition;
    const record = await h.run('teardown', await h.seed('hook-bye', withHooks({ beforeDelete: { command: ['fail-export'] } }), { status: 'DELETING', workflow: 'teardown' }));

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered.slice(0, 5)).toEqual(['DiscoverResources', 'BeforeDeleteHook', 'RunBeforeDeleteHook', 'RecordHookRunBeforeDelete', 'DeleteAlarms']);
    expect(h.callsOf('RunTask')[0]!.params.TaskDefinition).toBe(serving);
    expect(await h.item('hook-bye')).toMatchObject({ status: 'DELETED' });
    const events = await h.events('hook-bye');
    expect(events[0]).toMatchObject({ type: 'deleted' });
    const hookEvent = events.find((e) => e.type === 'hook');
    expect(hookEvent).toMatchObject({ details: { hook: 'beforeDelete', exitCode: 1 } });
    expect(hookEvent!.message).toMatch(/exited with code 1 .*\(the teardown goes on\)$/);
    expect(h.leftovers()).toMatchObject({ services: [], targetGroups: [], rules: [] });
  });

  it('a beforeDelete hook that times out is stopped, recorded, and the teardown completes', async () => {
    await h.reset({ timeoutOverrides: { AwaitSteadyState: 2, RunBeforeDeleteHook: 1 }, simulator: FAST });
    const hooks = { beforeDelete: { command: ['sleep', '600'], timeoutSeconds: 10 } };
    await h.created('hook-slowbye', withHooks(hooks));
    const record = await h.run('teardown', await h.seed('hook-slowbye', withHooks(hooks), { status: 'DELETING', workflow: 'teardown' }));
    expect(record.status).toBe('SUCCEEDED');
    expect(await h.item('hook-slowbye')).toMatchObject({ status: 'DELETED' });
    const hookEvent = (await h.events('hook-slowbye')).find((e) => e.type === 'hook');
    expect(hookEvent).toMatchObject({ details: { hook: 'beforeDelete', timedOut: true } });
    expect(hookEvent!.message).toMatch(/^the beforeDelete hook timed out: .*\(the teardown goes on\)$/);
    expect(h.callsOf('StopTask').map((c) => c.via)).toEqual(['lambda']);
    expect(await runningHookTasks()).toEqual([]);
  });
});

/** What the API writes when a spec change goes to the scale workflow (image with count/autoscaling, or on a SLEEPING environment). */
const viaScale = (name: string, s: ReturnType<typeof spec>, specVersion = 2) => h.seed(name, s, { status: 'UPDATING', specVersion, type: 'update', workflow: 'scale' });
const autoscaled = { minCount: 1, maxCount: 2, targetCpuPercent: 60 };

describe('hooks when a new version is deployed by the scale workflow', () => {
  it('image + autoscaling: a beforeUpdate hook that fails fails the scale before anything changes (HOOK_FAILED, previous version serving, no autoscaling)', async () => {
    const hooks = { beforeUpdate: { command: ['fail'] } };
    await h.created('hs-auto', withHooks(hooks));
    const serving = h.service('hs-auto')!.taskDefinition;
    const before = h.calls.length;
    const record = await h.run('scale', await viaScale('hs-auto', withHooks(hooks, { image: image('2.0'), autoscaling: autoscaled })));

    expect(record.statesEntered.slice(0, 6)).toEqual(['PlanScale', 'CheckNewVersion', 'RegisterTaskDefinition', 'BeforeUpdateHook', 'RunBeforeUpdateHook', 'RecordHookRunBeforeUpdate']);
    expect(h.callsOf('RunTask')[0]!.params.TaskDefinition).not.toBe(serving);
    expect(h.mutations(before)).toEqual(['RegisterTaskDefinition', 'RunTask']);
    expect(h.service('hs-auto')!.taskDefinition).toBe(serving);
    const item = await h.item('hs-auto');
    expect(item).toMatchObject({ status: 'RUNNING', lastHealthyImage: image('1.0'), operation: { status: 'FAILED', error: { code: 'HOOK_FAILED' } } });
    expect(item!.operation.error.message).toMatch(/^the beforeUpdate hook exited with code 1/);
    expect(h.callsOf('RegisterScalableTarget')).toEqual([]);
    expect(await runningHookTasks()).toEqual([]);
  });

  it('image + autoscaling with hooks that succeed: beforeUpdate on the new revision before the service moves, afterUpdate once steady, then autoscaling', async () => {
    const hooks = { beforeUpdate: { command: ['migrate'] }, afterUpdate: { command: ['warm'] } };
    await h.created('hs-ok', withHooks(hooks));
    const before = h.calls.length;
    const record = await h.run('scale', await viaScale('hs-ok', withHooks(hooks, { image: image('2.0'), autoscaling: autoscaled })));

    expect(record.status).toBe('SUCCEEDED');
    const order = h.mutations(before);
    expect(order.filter((a) => ['RunTask', 'UpdateService', 'RegisterScalableTarget'].includes(a))).toEqual(['RunTask', 'UpdateService', 'RunTask', 'RegisterScalableTarget']);
    const [beforeRun, afterRun] = h.callsOf('RunTask');
    expect(beforeRun!.params.Overrides).toEqual({ ContainerOverrides: [{ Name: 'app', Command: ['migrate'] }] });
    expect(afterRun!.params.Overrides).toEqual({ ContainerOverrides: [{ Name: 'app', Command: ['warm'] }] });
    expect(beforeRun!.params.TaskDefinition).toBe(h.service('hs-ok')!.taskDefinition);
    expect(await h.item('hs-ok')).toMatchObject({ status: 'RUNNING', lastHealthyImage: image('2.0'), operation: { status: 'SUCCEEDED' } });
    expect((await h.events('hs-ok')).filter((e) => e.type === 'hook').map((e) => e.details!.hook)).toEqual(['afterUpdate', 'beforeUpdate']);
  });

  it('image + desiredCount 0: the beforeUpdate hook runs before the environment sleeps; failing, it is still RUNNING at its count, the rule at the service', async () => {
    const hooks = { beforeUpdate: { command: ['fail'] } };
    await h.created('hs-sleep', withHooks(hooks));
    const serving = h.service('hs-sleep')!.taskDefinition;
    const record = await h.run('scale', await viaScale('hs-sleep', withHooks(hooks, { image: image('2.0'), desiredCount: 0 })));

    expect(record.statesEntered).toEqual(expect.arrayContaining(['RunBeforeUpdateHook', 'CompleteScaleAfterFailure']));
    expect(record.statesEntered).not.toContain('PointRuleAtWaker');
    expect(h.service('hs-sleep')).toMatchObject({ taskDefinition: serving, desiredCount: 1 });
    expect(await h.item('hs-sleep')).toMatchObject({ status: 'RUNNING', operation: { status: 'FAILED', error: { code: 'HOOK_FAILED' } } });
  });

  it('an image PATCH on a SLEEPING environment wakes it on the new image with beforeUpdate and afterUpdate run', async () => {
    const hooks = { beforeUpdate: { command: ['migrate'] }, afterUpdate: { command: ['warm'] } };
    await h.created('hs-wake', withHooks(hooks, { desiredCount: 0 }));
    expect(await h.item('hs-wake')).toMatchObject({ status: 'SLEEPING' });
    const record = await h.run('scale', await viaScale('hs-wake', withHooks(hooks, { image: image('2.0'), desiredCount: 1 })));

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RunBeforeUpdateHook', 'DeployService', 'RunAfterUpdateHook', 'PointRuleAtService']));
    expect(record.statesEntered.indexOf('RunBeforeUpdateHook')).toBeLessThan(record.statesEntered.indexOf('DeployService'));
    expect(record.statesEntered.indexOf('RunAfterUpdateHook')).toBeGreaterThan(record.statesEntered.indexOf('AwaitSteadyState'));
    expect(await h.item('hs-wake')).toMatchObject({ status: 'RUNNING', lastHealthyImage: image('2.0'), operation: { status: 'SUCCEEDED' } });
  });

  it('an afterUpdate hook that fails rolls the service back to the previous revision, as in the update: RUNNING on the previous image, HOOK_FAILED', async () => {
    const hooks = { afterUpdate: { command: ['fail'] } };
    await h.created('hs-back', withHooks(hooks));
    const serving = h.service('hs-back')!.taskDefinition;
    const record = await h.run('scale', await viaScale('hs-back', withHooks(hooks, { image: image('2.0'), desiredCount: 2 })));

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RunAfterUpdateHook', 'RollBackAfterHook', 'PreviousTaskDefinition', 'RollBackService', 'HealthCheckChanged', 'CompleteScale']));
    expect(record.statesEntered.filter((s) => s === 'RunAfterUpdateHook')).toHaveLength(1);
    expect(h.service('hs-back')!.taskDefinition).toBe(serving);
    expect(await h.item('hs-back')).toMatchObject({
      status: 'RUNNING', lastHealthyImage: image('1.0'), spec: { image: image('1.0') },
      operation: { status: 'FAILED', error: { code: 'HOOK_FAILED', image: image('2.0') } },
    });
    expect((await h.events('hs-back'))[0]).toMatchObject({ type: 'rolled-back', details: { failedImage: image('2.0'), restoredImage: image('1.0') } });
  });
});

describe("hooks in the create's convergence pass (a spec accepted while CREATING)", () => {
  /** The create of `name` with `first`; once its service exists, `next` is accepted (as a PUT during CREATING records it). */
  async function createThenConverge(name: string, first: ReturnType<typeof spec>, next: ReturnType<typeof spec>) {
    h.afterCall = async (call) => {
      if (call.action !== 'CreateService') return;
      h.afterCall = undefined;
      await h.acceptNewSpec(name, next);
    };
    return h.run('create', await h.seed(name, first));
  }

  it('runs beforeUpdate with the converged revision before UpdateService and afterUpdate once steady; afterCreate not again', async () => {
    const hooks = { afterCreate: { command: ['seed'] }, beforeUpdate: { command: ['migrate'] }, afterUpdate: { command: ['warm'] } };
    const record = await createThenConverge('hc-ok', withHooks(hooks), withHooks(hooks, { image: image('2.0') }));

    expect(record.status).toBe('SUCCEEDED');
    const tail = record.statesEntered.slice(record.statesEntered.indexOf('KeepServingTaskDefinition'));
    expect(tail).toEqual([
      'KeepServingTaskDefinition', 'RegisterConvergedTaskDefinition', 'BeforeUpdateHook', 'RunBeforeUpdateHook', 'RecordHookRunBeforeUpdate',
      'ModifyConvergedTargetGroup', 'UpdateService', 'AwaitSteadyState', 'AfterCreateHook', 'AfterUpdateHook', 'RunAfterUpdateHook', 'RecordHookRunAfterUpdate',
      'CompleteOperation', 'CheckDesiredSpec', 'EnvironmentReady',
    ]);
    expect(h.callsOf('RunTask').map((c) => (c.params.Overrides as { ContainerOverrides: { Command: string[] }[] }).ContainerOverrides[0]!.Command[0])).toEqual(['seed', 'migrate', 'warm']);
    expect(h.callsOf('RunTask')[1]!.params.TaskDefinition).toBe(h.service('hc-ok')!.taskDefinition);
    expect(await h.item('hc-ok')).toMatchObject({ status: 'RUNNING', appliedSpecVersion: 2, lastHealthyImage: image('2.0') });
  });

  it('a beforeUpdate hook that fails leaves the first version serving, untouched: RUNNING, the operation FAILED with HOOK_FAILED, nothing removed', async () => {
    const hooks = { beforeUpdate: { command: ['fail-migrate'] } };
    const record = await createThenConverge('hc-before', withHooks(hooks), withHooks(hooks, { image: image('2.0') }));
    const serving = h.callsOf('CreateService')[0]!.params.TaskDefinition;

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RunBeforeUpdateHook', 'RecordHookRunBeforeUpdate', 'HealthCheckChanged', 'CompleteOperation']));
    expect(record.statesEntered).not.toContain('UndoCreatedResources');
    expect(h.callsOf('UpdateService')).toEqual([]);
    expect(h.service('hc-before')!.taskDefinition).toBe(serving);
    expect(await h.steady('hc-before')).toBe(true);
    const item = await h.item('hc-before');
    expect(item).toMatchObject({ status: 'RUNNING', lastHealthyImage: image('1.0'), operation: { status: 'FAILED', error: { code: 'HOOK_FAILED', image: image('2.0') } } });
    expect(item!.operation.error.message).toMatch(/^the beforeUpdate hook exited with code 1/);
    expect(h.leftovers().services).toHaveLength(1);
  });

  it("an afterUpdate hook that fails rolls the service back to the create's revision (as an update's does)", async () => {
    const hooks = { afterUpdate: { command: ['fail'] } };
    const record = await createThenConverge('hc-after', withHooks(hooks), withHooks(hooks, { image: image('2.0') }));
    const serving = h.callsOf('CreateService')[0]!.params.TaskDefinition;

    expect(record.status).toBe('SUCCEEDED');
    expect(record.statesEntered).toEqual(expect.arrayContaining(['RunAfterUpdateHook', 'RollBackAfterHook', 'PreviousTaskDefinition', 'RollBackService', 'HealthCheckChanged', 'CompleteOperation']));
    expect(record.statesEntered).not.toContain('UndoCreatedResources');
    expect(h.service('hc-after')!.taskDefinition).toBe(serving);
    expect(await h.item('hc-after')).toMatchObject({
      status: 'RUNNING', lastHealthyImage: image('1.0'), operation: { status: 'FAILED', error: { code: 'HOOK_FAILED', image: image('2.0') } },
    });
  });
});
