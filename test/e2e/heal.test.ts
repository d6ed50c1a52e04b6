/**
 * Self-healing end to end in local mode (README "Self-healing"; faults: infra/local/README.md): `npm start` as a child,
 * driven over HTTP only. Each fault of `POST /_local/faults` is injected into a running
 * environment and the environment must come back by itself — through the simulated alarms
 * and ECS events, the heal trigger and the heal workflow — or, when it cannot, go DEGRADED
 * with a notification, until it is fixed and healed by hand.
 *
 * The time from each fault to RUNNING again is measured and printed at the end (no test
 * asserts on it).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { reached, useLocalServer } from './local-api.ts';

// a 1 s backoff (local default 5 s) keeps the DEGRADED path short: 1 s, 2 s, 4 s between attempts
// the cleanup every 5 s also heals what a lost alarm event did not start (hostile mode loses events)
const local = useLocalServer({ FLEDGE_HEAL_BACKOFF: '1s', FLEDGE_HEAL_MAX_PER_HOUR: '3', FLEDGE_CLEANUP_INTERVAL: '5s' });
const api = (method: string, path: string, body?: unknown) => local.api(method, path, { body });
const timings: { fault: string; detectedMs?: number; endMs: number; end: string; note: string }[] = [];

afterAll(() => {
  if (timings.length) {
    const rows = timings.map(
      (t) => `  ${t.fault.padEnd(34)} ${t.detectedMs === undefined ? ''.padEnd(22) : `HEALING after ${String(t.detectedMs).padStart(5)} ms,`} ${t.end} after ${String(t.endMs).padStart(6)} ms  ${t.note}`,
    );
    process.stdout.write(`\nheal in local mode: time from the fault to RUNNING\n${rows.join('\n')}\n`);
  }
});

/** polls every 50 ms until `ok` holds, and fails the test with the last value otherwise */
const eventually = <T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000) => reached(read, ok, timeoutMs, 50);

const environment = async (name: string) => (await api('GET', `/v1/environments/${name}`)).body;
const untilStatus = (name: string, ...statuses: string[]) => eventually(() => environment(name), (env) => statuses.includes(env?.status), 90_000);
const events = async (name: string) => (await api('GET', `/v1/environments/${name}/events?limit=100`)).body.items as { type: string; message: string; actor: string; details?: any }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
const resources = async () => (await api('GET', '/_local/resources')).body;

async function fault(environmentName: string, name: string, extra: Record<string, unknown> = {}): Promise<number> {
  const answer = await api('POST', '/_local/faults', { environment: environmentName, fault: name, ...extra });
  expect(answer.status, answer.text).toBe(200);
  return Date.now();
}

async function running(name: string, body: Record<string, unknown>): Promise<void> {
  const created = await api('PUT', `/v1/environments/${name}`, { port: 80, labels: { repository: 'org/heal' }, ...body });
  expect([200, 201, 202]).toContain(created.status);
  expect((await untilStatus(name, 'RUNNING', 'FAILED')).status).toBe('RUNNING');
}

const { page } = local;

/** HEALING, then RUNNING again: the times since `since` */
async function healed(name: string, since: number): Promise<{ detectedMs: number; runningMs: number; trigger: string }> {
  const healing = await eventually(() => environment(name), (env) => env?.status === 'HEALING' || (env?.operation?.type === 'heal'), 60_000);
  const detectedMs = Date.now() - since;
  expect(healing.operation.type).toBe('heal');
  const done = await untilStatus(name, 'RUNNING', 'DEGRADED');
  const runningMs = Date.now() - since;
  expect(done.status).toBe('RUNNING');
  const triggered = (await events(name)).find((e) => e.type === 'heal-triggered');
  return { detectedMs, runningMs, trigger: triggered?.details?.trigger?.signal ?? 'none' };
}

describe('self-healing in local mode', { timeout: 120_000 }, () => {
  it('unhealthy: the alarm fires, the environment goes HEALING and comes back RUNNING once the tasks can pass', async () => {
    await running('heal-sick', { image: 'nginx:1.27' });
    const since = await fault('heal-sick', 'unhealthy');
    // the unhealthy-target alarm reaches ALARM (CloudWatch Alarm State Change -> heal trigger)
    await eventually(resources, (r) => r.alarms.some((a: { name: string; state: string }) => a.name === 'fledge-local-heal-sick-unhealthy' && a.state === 'ALARM'), 30_000);
    const healing = await eventually(() => environment('heal-sick'), (env) => env.status === 'HEALING', 30_000);
    expect(healing.operation).toMatchObject({ type: 'heal', status: 'RUNNING' });
    const detectedMs = Date.now() - since;
    // a heal conflicts with another one
    expect((await api('POST', '/v1/environments/heal-sick/heal')).status).toBe(409);
    const cleared = await fault('heal-sick', 'clear');
    const done = await untilStatus('heal-sick', 'RUNNING', 'DEGRADED');
    expect(done).toMatchObject({ status: 'RUNNING', runningCount: 1, operation: { type: 'heal', status: 'SUCCEEDED' } });
    const history = await events('heal-sick');
    const triggered = history.find((e) => e.type === 'heal-triggered')!;
    expect(triggered.actor).toBe('system');
    expect(history.map((e) => e.type)).toEqual(expect.arrayContaining(['heal-attempt', 'heal-repair']));
    expect((await page('heal-sick')).status).toBe(200);
    timings.push({ fault: 'unhealthy (cleared while HEALING)', detectedMs, endMs: Date.now() - since, end: 'RUNNING', note: `trigger ${triggered.details.trigger.signal}; RUNNING ${Date.now() - cleared} ms after clear` });
  });

  it('delete-service: the service is recreated and the environment page answers again', async () => {
    await running('heal-gone', { image: 'nginx:1.27' });
    const since = await fault('heal-gone', 'delete-service');
    const { detectedMs, runningMs, trigger } = await healed('heal-gone', since);
    const served = await eventually(() => page('heal-gone'), (p) => p.status === 200, 30_000);
    expect(served.text).toContain('nginx:1.27');
    const r = await resources();
    expect(r.services.filter((s: { name: string }) => s.name === 'heal-gone')).toEqual([expect.objectContaining({ status: 'ACTIVE', runningCount: 1 })]);
    const repair = (await events('heal-gone')).find((e) => e.type === 'heal-repair')!;
    expect(repair.details).toMatchObject({ repair: 'recreate-service', done: true });
    timings.push({ fault: 'delete-service', detectedMs, endMs: runningMs, end: 'RUNNING', note: `trigger ${trigger}` });
  });

  it('drift-scale: the desired count is restored', async () => {
    await running('heal-drift', { image: 'nginx:1.27', desiredCount: 2 });
    const since = await fault('heal-drift', 'drift-scale', { count: 0 });
    const { detectedMs, runningMs, trigger } = await healed('heal-drift', since);
    const service = (await resources()).services.find((s: { name: string }) => s.name === 'heal-drift');
    expect(service).toMatchObject({ desiredCount: 2 });
    expect((await environment('heal-drift')).runningCount).toBe(2);
    const repair = (await events('heal-drift')).find((e) => e.type === 'heal-repair')!;
    expect(repair.details).toMatchObject({ repair: 'restore-desired-count', found: 'the desired count is 0, the spec wants 2', done: true });
    timings.push({ fault: 'drift-scale (2 -> 0)', detectedMs, endMs: runningMs, end: 'RUNNING', note: `trigger ${trigger}` });
  });

  it('crashloop after an update: rolled back to the last healthy image', async () => {
    await running('heal-loop', { image: 'nginx:1.27' });
    await running('heal-loop', { image: 'nginx:1.28' });
    expect((await environment('heal-loop')).lastHealthyImage).toBe('nginx:1.28');
    const since = await fault('heal-loop', 'crashloop');
    const { detectedMs, runningMs, trigger } = await healed('heal-loop', since);
    const env = await environment('heal-loop');
    // GET names the image that runs again (the desired spec follows the rollback), so no later heal tries 1.28
    expect(env).toMatchObject({ status: 'RUNNING', image: 'nginx:1.27', lastHealthyImage: 'nginx:1.27' });
    const service = (await resources()).services.find((s: { name: string }) => s.name === 'heal-loop');
    expect(service.image).toBe('nginx:1.27');
    expect((await page('heal-loop')).text).toContain('nginx:1.27');
    expect((await events('heal-loop')).find((e) => e.type === 'rolled-back')!.details).toMatchObject({ from: 'nginx:1.28', to: 'nginx:1.27' });
    timings.push({ fault: 'crashloop (after 1.27 -> 1.28)', detectedMs, endMs: runningMs, end: 'RUNNING', note: `trigger ${trigger}; rolled back to nginx:1.27` });
  });

  it('a fault that does not go away: DEGRADED after the configured attempts, with the notification recorded; clear + manual heal -> RUNNING', async () => {
    await running('heal-hopeless', { image: 'nginx:1.27' });
    const since = await fault('heal-hopeless', 'unhealthy');
    await eventually(() => environment('heal-hopeless'), (env) => env.operation?.type === 'heal', 30_000);
    const degraded = await untilStatus('heal-hopeless', 'DEGRADED', 'RUNNING');
    const degradedMs = Date.now() - since;
    expect(degraded).toMatchObject({ status: 'DEGRADED', operation: { type: 'heal', status: 'FAILED', error: { code: 'HEALTH_CHECK_FAILED' } } });
    const history = await events('heal-hopeless');
    expect(history.filter((e) => e.type === 'heal-attempt')).toHaveLength(3);
    expect(history[0]).toMatchObject({ type: 'degraded', details: { attempts: 3, maxPerHour: 3 } });
    // DEGRADED is written before the workflow publishes to SNS, and a throttled Publish is retried
    // with backoff (hostile mode throttles it too): the notification follows, it does not precede
    type Notification = { subject?: string; message: string };
    const degradedNotice = (all: Notification[]) => all.find((n) => n.subject === 'Fledge: environment heal-hopeless is DEGRADED');
    const notification = degradedNotice(await eventually(async () => (await resources()).notifications as Notification[], (all) => degradedNotice(all) !== undefined, 60_000))!;
    expect(JSON.parse(notification.message)).toMatchObject({ environment: 'heal-hopeless', status: 'DEGRADED', attempts: 3 });

    await fault('heal-hopeless', 'clear');
    const manual = await api('POST', '/v1/environments/heal-hopeless/heal');
    const startedAt = Date.now();
    expect(manual.status).toBe(202);
    expect(manual.body).toMatchObject({ status: 'HEALING', operation: { type: 'heal', status: 'RUNNING' } });
    const back = await untilStatus('heal-hopeless', 'RUNNING', 'DEGRADED');
    expect(back).toMatchObject({ status: 'RUNNING', operation: { type: 'heal', status: 'SUCCEEDED' } });
    expect((await events('heal-hopeless')).find((e) => e.type === 'heal-requested')).toMatchObject({ actor: 'local', details: { boundReset: true } });
    timings.push({ fault: 'unhealthy, never cleared', endMs: degradedMs, end: 'DEGRADED', note: '3 attempts, 1 s + 2 s + 4 s backoff' });
    timings.push({ fault: 'clear + POST /heal (from DEGRADED)', endMs: Date.now() - startedAt, end: 'RUNNING', note: 'from the POST' });
  }, 120_000);
});
