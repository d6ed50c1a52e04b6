/**
 * Cost end to end in local mode (README "Cost"): a created environment's `toDate` grows while
 * its tasks run, stops while it sleeps, and grows at twice the rate after a wake to two tasks;
 * the repository's list totals it. Local mode has no clock to move, so the operator's price
 * override (FLEDGE_FARGATE_PRICES, also what this shows) is set absurdly high: one 4 vCPU task
 * costs $400 an hour, $0.11 a second, which 4 decimals show within a second.
 */
import { describe, expect, it } from 'vitest';
import { useLocalServer } from './local-api.ts';

const local = useLocalServer({ FLEDGE_FARGATE_PRICES: JSON.stringify({ vcpuHour: 100, gbHour: 0 }) });
const { waitFor } = local;
const api = (method: string, path: string, body?: unknown) => local.api(method, path, { body });

interface Cost { perHour: number; toDate: number; currency: string }
const costOf = async (name: string): Promise<Cost> => (await api('GET', `/v1/environments/${name}`)).body.cost as Cost;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cost in local mode', () => {
  it('grows while the tasks run, not while the environment sleeps, and at the rate of its count', async () => {
    const name = 'e2e-cost';
    const created = await api('PUT', `/v1/environments/${name}`, {
      image: 'nginx:1.27', port: 80, cpu: 4096, memory: 8192, labels: { repository: 'org/e2e-cost', 'fledge.dev/no-sleep': 'true' },
    });
    expect(created.status).toBe(201);
    expect(created.body.cost).toEqual({ perHour: 0, toDate: 0, currency: 'USD' });
    await waitFor(name, (env) => env.status === 'RUNNING' && env.runningCount === 1);

    // running: $400 an hour, $0.11 a second
    const perSecond = 400 / 3600;
    const first = await costOf(name);
    expect(first).toMatchObject({ perHour: 400, currency: 'USD' });
    await pause(1_200);
    const second = await costOf(name);
    expect(second.toDate - first.toDate).toBeGreaterThan(1.2 * perSecond);
    expect(second.toDate - first.toDate).toBeLessThan(3 * perSecond);

    // the repository's total is this environment's (its only one)
    const listed = await api('GET', '/v1/environments?repository=org/e2e-cost');
    expect(listed.body.cost).toMatchObject({ perHour: 400, currency: 'USD' });
    expect(listed.body.cost.toDate).toBeGreaterThanOrEqual(second.toDate);

    // asleep: nothing an hour, and what it cost stays put
    expect((await api('POST', `/v1/environments/${name}/scale`, { desiredCount: 0 })).status).toBe(202);
    await waitFor(name, (env) => env.status === 'SLEEPING');
    const asleep = await costOf(name);
    expect(asleep.perHour).toBe(0);
    expect(asleep.toDate).toBeGreaterThan(second.toDate);
    await pause(1_200);
    expect(await costOf(name)).toEqual(asleep);

    // awake with two tasks: twice the rate
    expect((await api('POST', `/v1/environments/${name}/scale`, { desiredCount: 2 })).status).toBe(202);
    await waitFor(name, (env) => env.status === 'RUNNING' && env.runningCount === 2);
    const awake = await costOf(name);
    expect(awake.perHour).toBe(800);
    await pause(1_200);
    const later = await costOf(name);
    expect(later.toDate - awake.toDate).toBeGreaterThan(2 * 1.2 * perSecond);

    // deleted: the record keeps what the environment cost, and costs nothing more
    expect((await local.api('DELETE', `/v1/environments/${name}`)).status).toBe(202);
    await waitFor(name, (env) => env.status === 'DELETED');
    const deleted = await costOf(name);
    expect(deleted.perHour).toBe(0);
    expect(deleted.toDate).toBeGreaterThan(later.toDate);
    await pause(500);
    expect(await costOf(name)).toEqual(deleted);
  });
});
