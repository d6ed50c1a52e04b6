/**
 * Scaling end to end in local mode (`npm start` as a child process, over HTTP only): manual
 * scale, sleep at 0, wake on a request to the environment's page (the waker behind the
 * simulated ALB), and idle sleep with a short idle setting. Environments of the scale tests
 * carry `fledge.dev/no-sleep: "true"`, so idle sleep (3 s here) leaves them alone — which is
 * itself part of what is shown.
 *
 * Wake latency is measured (request to the sleeping page -> RUNNING, and -> the page served
 * by a task) and written to the test output; nothing asserts on durations.
 */
import { targetGroupName } from '../../functions/domain/resource-names.ts';
import { describe, expect, it } from 'vitest';
import { eventually, useLocalServer } from './local-api.ts';

const local = useLocalServer({ FLEDGE_IDLE_SLEEP_AFTER: '3s', FLEDGE_IDLE_CHECK_INTERVAL: '500ms' });
const { page, waitFor } = local;
const api = (method: string, path: string, body?: unknown) => local.api(method, path, { body });

interface SimService {
  name: string;
  desiredCount: number;
  tasks: { lastStatus: string; desiredStatus: string }[];
}

async function serviceOf(name: string): Promise<SimService | undefined> {
  const resources = await api('GET', '/_local/resources');
  return (resources.body.services as SimService[]).find((s) => s.name === name);
}

async function ruleTargets(name: string): Promise<string[]> {
  const resources = (await api('GET', '/_local/resources')).body;
  const rule = (resources.listenerRules as { environment?: string; targetGroupArns: string[] }[]).find((r) => r.environment === name)!;
  const names = new Map((resources.targetGroups as { arn: string; name: string }[]).map((tg) => [tg.arn, tg.name]));
  return rule.targetGroupArns.map((arn) => names.get(arn) ?? arn);
}

const awake = { 'fledge.dev/no-sleep': 'true' };
const events = async (name: string) => (await api('GET', `/v1/environments/${name}/events?limit=100`)).body.items as { type: string; actor: string; message: string; details?: Record<string, unknown> }[];

describe('scaling in local mode', () => {
  it('a scale-down starts no heal: the tasks alarm follows the count (and a healthCheck PATCH reaches the target group)', async () => {
    const created = await api('PUT', '/v1/environments/e2e-down', { image: 'nginx:1.27', port: 80, desiredCount: 3, labels: { repository: 'org/e2e', ...awake } });
    expect(created.status).toBe(201);
    await waitFor('e2e-down', (env) => env.status === 'RUNNING' && env.runningCount === 3);
    expect((await api('POST', '/v1/environments/e2e-down/scale', { desiredCount: 1 })).status).toBe(202);
    await waitFor('e2e-down', (env) => env.status === 'RUNNING' && env.runningCount === 1);
    // 3 s = 6 alarm periods here: a tasks alarm still wanting 3 tasks would fire after 3 and start a heal
    await new Promise((r) => setTimeout(r, 3_000));
    const after = (await api('GET', '/v1/environments/e2e-down')).body;
    expect(after).toMatchObject({ status: 'RUNNING', runningCount: 1, operation: { type: 'scale', status: 'SUCCEEDED' } });
    expect((await events('e2e-down')).map((e) => e.type)).not.toContain('heal-triggered');
    const alarm = ((await api('GET', '/_local/resources')).body.alarms as { name: string; state: string }[]).find((a) => a.name === 'fledge-e2e-down-tasks');
    expect(alarm?.state).not.toBe('ALARM');

    // a PATCH of the health check changes the target group (it used to be accepted and dropped)
    const patched = await local.api('PATCH', '/v1/environments/e2e-down', {
      body: { healthCheck: { path: '/healthz', intervalSeconds: 6 } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(patched.status).toBe(202);
    await waitFor('e2e-down', (env) => env.status === 'RUNNING' && env.operation?.status === 'SUCCEEDED' && env.healthCheck?.path === '/healthz');
    const tg = ((await api('GET', '/_local/resources')).body.targetGroups as { name: string; healthCheck: Record<string, unknown> }[]).find((t) => (t as { environment?: string }).environment === 'e2e-down')!;
    expect(tg.healthCheck).toMatchObject({ path: '/healthz', intervalSeconds: 6 });
  });

  it('scales to 3 tasks, sleeps at 0 behind the waker, and a request to its page wakes it back to 3', async () => {
    const created = await api('PUT', '/v1/environments/e2e-scale', { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e', ...awake } });
    expect(created.status).toBe(201);
    await waitFor('e2e-scale', (env) => env.status === 'RUNNING');

    // scale to 3 -> 3 running tasks in /_local/resources
    const up = await api('POST', '/v1/environments/e2e-scale/scale', { desiredCount: 3 });
    expect(up.status).toBe(202);
    expect(up.body).toMatchObject({ status: 'SCALING', desiredCount: 3, operation: { type: 'scale' } });
    const three = await waitFor('e2e-scale', (env) => env.status === 'RUNNING' && env.runningCount === 3);
    expect(three.operation).toMatchObject({ type: 'scale', status: 'SUCCEEDED' });
    const service = await serviceOf('e2e-scale');
    expect(service!.desiredCount).toBe(3);
    expect(service!.tasks.filter((t) => t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING')).toHaveLength(3);
    expect((await page('e2e-scale')).status).toBe(200);

    // a scale conflicts with the one running; 0 -> SLEEPING, no tasks, the rule at the waker.
    // The sleep's first AWS calls are throttled (retried with backoff by its Retry blocks), so it
    // is surely still running when the second scale arrives, however fast or loaded the machine
    expect((await api('POST', '/_local/faults', { fault: 'throttle', count: 2 })).status).toBe(200);
    const down = await api('POST', '/v1/environments/e2e-scale/scale', { desiredCount: 0 });
    expect(down.status).toBe(202);
    const conflicting = await api('POST', '/v1/environments/e2e-scale/scale', { desiredCount: 1 });
    expect(conflicting.status).toBe(409);
    const asleep = await waitFor('e2e-scale', (env) => env.status === 'SLEEPING');
    expect(asleep).toMatchObject({ desiredCount: 0, runningCount: 0 });
    const drained = await eventually(() => serviceOf('e2e-scale'), (s) => s!.tasks.length === 0);
    expect(drained).toMatchObject({ desiredCount: 0, tasks: [] });
    expect(await ruleTargets('e2e-scale')).toEqual(['FledgeWaker', targetGroupName('local', 'e2e-scale')]); // the waker serves, the own target group stays at weight 0

    // a GET of the page wakes it: a page that refreshes itself, then RUNNING with its previous count
    const t0 = Date.now();
    const waking = await page('e2e-scale');
    expect(waking.status).toBe(503);
    expect(waking.text).toContain('Waking up e2e-scale');
    expect(waking.text).toContain('http-equiv="refresh"');
    expect(waking.headers['retry-after']).toBe('5');
    const again = await page('e2e-scale'); // a second request while it wakes starts nothing new
    expect(again.status).toBe(503);
    const woken = await waitFor('e2e-scale', (env) => env.status === 'RUNNING' && env.runningCount === 3);
    const runningAfterMs = Date.now() - t0;
    const served = await eventually(() => page('e2e-scale'), (p) => p.status === 200);
    const servedAfterMs = Date.now() - t0;
    expect(served.text).toContain('nginx:1.27');
    expect(woken).toMatchObject({ desiredCount: 3, operation: { type: 'scale', status: 'SUCCEEDED' } });
    expect(await ruleTargets('e2e-scale')).toEqual([targetGroupName('local', 'e2e-scale')]);

    const history = await events('e2e-scale');
    const wakes = history.filter((e) => e.type === 'wake-requested');
    expect(wakes).toHaveLength(1);
    expect(wakes[0]!.actor).toBe('request');
    const wokenEvent = history.find((e) => e.type === 'woken')!;
    expect(wokenEvent).toMatchObject({ actor: 'request', details: { from: 0, to: 3 } });
    expect(history.find((e) => e.type === 'slept')).toMatchObject({ actor: 'local', details: { from: 3, to: 0 } });
    expect(history.find((e) => e.type === 'scaled')).toMatchObject({ actor: 'local', details: { from: 1, to: 3 } });
    process.stdout.write(
      `\n[wake latency, local mode] request -> RUNNING: ${runningAfterMs} ms; request -> page served by a task: ${servedAfterMs} ms; ` +
        `workflow (wake requested -> woken): ${String(wokenEvent.details?.tookMs)} ms\n`,
    );
  });

  it('turns autoscaling on and off: the scalable target appears in /_local/resources and goes again', async () => {
    await api('PUT', '/v1/environments/e2e-auto', { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e', ...awake } });
    await waitFor('e2e-auto', (env) => env.status === 'RUNNING');
    expect((await api('POST', '/v1/environments/e2e-auto/scale', { autoscaling: { minCount: 2, maxCount: 4, targetCpuPercent: 50 } })).status).toBe(202);
    const scaled = await waitFor('e2e-auto', (env) => env.status === 'RUNNING' && env.operation?.type === 'scale' && env.operation.status !== 'RUNNING');
    expect(scaled).toMatchObject({ desiredCount: 2, runningCount: 2, autoscaling: { minCount: 2, maxCount: 4, targetCpuPercent: 50 } });
    const targets = (await api('GET', '/_local/resources')).body.scalableTargets as { environment?: string; minCapacity: number; maxCapacity: number; policies: string[] }[];
    expect(targets.find((t) => t.environment === 'e2e-auto')).toMatchObject({ minCapacity: 2, maxCapacity: 4, policies: ['fledge-cpu'] });

    expect((await api('POST', '/v1/environments/e2e-auto/scale', { autoscaling: null })).status).toBe(202);
    await waitFor('e2e-auto', (env) => env.status === 'RUNNING' && env.autoscaling === undefined && env.operation.status !== 'RUNNING');
    const after = (await api('GET', '/_local/resources')).body.scalableTargets as { environment?: string }[];
    expect(after.filter((t) => t.environment === 'e2e-auto')).toEqual([]);
  });

  it('puts an environment nobody requests to sleep (FLEDGE_IDLE_SLEEP_AFTER=3s), keeps a visited one and an opted-out one awake', async () => {
    for (const [name, labels] of [['e2e-idle', {}], ['e2e-visited', {}], ['e2e-optout', awake]] as const) {
      expect((await api('PUT', `/v1/environments/${name}`, { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e', ...labels } })).status).toBe(201);
    }
    for (const name of ['e2e-idle', 'e2e-visited', 'e2e-optout']) await waitFor(name, (env) => env.status === 'RUNNING');

    // visit one page twice a second until the idle one has been put to sleep
    let visiting = true;
    const visits = (async () => {
      while (visiting) {
        expect((await page('e2e-visited')).status).toBe(200);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const slept = await waitFor('e2e-idle', (env) => env.status === 'SLEEPING', 30_000);
    const visited = (await api('GET', '/v1/environments/e2e-visited')).body;
    const optedOut = (await api('GET', '/v1/environments/e2e-optout')).body;
    visiting = false;
    await visits;

    expect(slept).toMatchObject({ desiredCount: 0, runningCount: 0 });
    expect(visited.status).toBe('RUNNING');
    expect(optedOut.status).toBe('RUNNING');
    const sleep = (await events('e2e-idle')).find((e) => e.type === 'sleep-requested')!;
    expect(sleep).toMatchObject({ actor: 'schedule' });
    expect(sleep.message).toContain('no requests for 3s');
    expect((await events('e2e-idle')).find((e) => e.type === 'slept')).toMatchObject({ actor: 'schedule' });

    // and it wakes on its next request, back to 1 task
    expect((await page('e2e-idle')).status).toBe(503);
    const woken = await waitFor('e2e-idle', (env) => env.status === 'RUNNING' && env.runningCount === 1);
    expect(woken.desiredCount).toBe(1);
  });
});
