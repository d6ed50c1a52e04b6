/**
 * The simulated CloudWatch Logs (infra/local/simulator/logs.ts) and what the simulated tasks
 * write to it: awslogs stream names, FilterLogEvents' parameters, limits and paging, and the
 * lines of a healthy task, a request, and each `fail-*` image.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeleteServiceCommand, ListTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { createEnvironment, createFixture, rejection, type Fixture } from './sim-fixture.ts';

const GROUP = '/fledge/test/environments';

let f: Fixture;
afterEach(() => f?.sim.stop());

const logs = () => f.sim.client('logs');
const filter = (input: Record<string, unknown>) => logs().send(new FilterLogEventsCommand({ logGroupName: GROUP, ...input }));

async function taskIds(name: string, desiredStatus: 'RUNNING' | 'STOPPED'): Promise<string[]> {
  const listed = await f.ecs.send(new ListTasksCommand({ cluster: f.sim.clusterArn, serviceName: name, desiredStatus }));
  return (listed.taskArns as string[]).map((arn) => arn.slice(arn.lastIndexOf('/') + 1));
}

async function messages(input: Record<string, unknown> = {}): Promise<string[]> {
  const out = await filter(input);
  return (out.events as { message: string }[]).map((e) => e.message);
}

describe('tasks write to their awslogs stream', () => {
  it('a healthy task: its startup lines in <prefix>/<container>/<task id>, and a line per request the ALB routes to it', async () => {
    f = createFixture();
    await createEnvironment(f, 'pr-1', 'nginx:1.27', { logGroup: GROUP });
    expect(await f.clock.advanceUntil(() => Boolean(f.sim.internals.ecs.services.get('pr-1')?.steady), 5000, 100)).toBe(true);
    const [id] = await taskIds('pr-1', 'RUNNING');
    const out = await filter({ logStreamNames: [`fledge/app/${id}`] });
    expect(out.events.map((e: { logStreamName: string }) => e.logStreamName)).toEqual(out.events.map(() => `fledge/app/${id}`));
    expect(out.events.map((e: { message: string }) => e.message)).toEqual([
      `starting nginx:1.27 (simulated container app, task ${id})`,
      'loading configuration from the environment',
      'listening on 0.0.0.0:8080',
    ]);
    expect(out.nextToken).toBeUndefined();
    expect(f.sim.servePage('pr-1.localhost').outcome).toBe('task');
    expect((await messages()).at(-1)).toBe('"GET / HTTP/1.1" 200 host=pr-1.localhost');
  });

  it('fail-start: the container says why before it exits with code 1', async () => {
    f = createFixture();
    await createEnvironment(f, 'pr-2', 'ghcr.io/acme/web:fail-start', { logGroup: GROUP });
    await f.clock.advance(1500);
    const [id] = await taskIds('pr-2', 'STOPPED');
    expect(id).toBeDefined();
    const lines = await messages({ logStreamNames: [`fledge/app/${id}`] });
    expect(lines.slice(-2)).toEqual(['Error: cannot connect to the database at db:5432: connection refused', 'fatal: startup failed, exiting with code 1']);
    expect(lines).not.toContain('listening on 0.0.0.0:8080');
  });

  it('fail-pull: nothing at all, as on AWS (the container never ran; only the stopped reason says why)', async () => {
    f = createFixture();
    await createEnvironment(f, 'pr-3', 'ghcr.io/acme/web:fail-pull', { logGroup: GROUP });
    await f.clock.advance(1500);
    expect(await taskIds('pr-3', 'STOPPED')).not.toHaveLength(0);
    expect(await rejection(filter({}))).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('fail-oom and fail-health: their last words; a task the scheduler stops says it got SIGTERM', async () => {
    f = createFixture();
    await createEnvironment(f, 'pr-4', 'ghcr.io/acme/web:fail-oom', { logGroup: GROUP });
    await createEnvironment(f, 'pr-5', 'ghcr.io/acme/web:fail-health', { logGroup: GROUP, priority: 2 });
    await f.clock.advance(1200);
    const lines = await messages();
    expect(lines).toContain('allocating the cache');
    expect(lines).toContain('warning: a dependency is unavailable; the health check answers 503');

    await createEnvironment(f, 'pr-6', 'nginx:1.27', { logGroup: GROUP, priority: 3 });
    expect(await f.clock.advanceUntil(() => Boolean(f.sim.internals.ecs.services.get('pr-6')?.steady), 5000, 100)).toBe(true);
    const [id] = await taskIds('pr-6', 'RUNNING');
    await f.ecs.send(new UpdateServiceCommand({ cluster: f.sim.clusterArn, service: 'pr-6', desiredCount: 0 }));
    await f.clock.advance(1000);
    expect((await messages({ logStreamNames: [`fledge/app/${id}`] })).at(-1)).toBe('received SIGTERM, shutting down');
    await f.ecs.send(new DeleteServiceCommand({ cluster: f.sim.clusterArn, service: 'pr-6' }));
  });
});

describe('FilterLogEvents', () => {
  async function manyLines(count: number): Promise<string> {
    f = createFixture();
    await createEnvironment(f, 'pr-1', 'nginx:1.27', { logGroup: GROUP });
    expect(await f.clock.advanceUntil(() => Boolean(f.sim.internals.ecs.services.get('pr-1')?.steady), 5000, 100)).toBe(true);
    for (let i = 0; i < count; i++) {
      f.sim.servePage('pr-1.localhost');
      await f.clock.advance(i % 2);
    }
    return (await taskIds('pr-1', 'RUNNING'))[0]!;
  }

  it('pages with nextToken in timestamp order until every event was returned once', async () => {
    await manyLines(25);
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const out = await filter({ limit: 7, nextToken });
      expect(out.events.length).toBeLessThanOrEqual(7);
      seen.push(...out.events.map((e: { eventId: string }) => e.eventId));
      nextToken = out.nextToken;
      pages++;
    } while (nextToken);
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(28);
    const all = (await filter({})).events as { eventId: string; timestamp: number }[];
    expect(all.map((e) => e.eventId)).toEqual(seen);
    expect(all.map((e) => e.timestamp)).toEqual([...all.map((e) => e.timestamp)].sort((a, b) => a - b));
  });

  it('startTime and endTime bound the events (inclusive); a prefix or a list of streams narrows them', async () => {
    const id = await manyLines(4);
    const all = (await filter({})).events as { timestamp: number; message: string }[];
    const from = all[4]!.timestamp;
    expect(((await filter({ startTime: from })).events as { timestamp: number }[]).every((e) => e.timestamp >= from)).toBe(true);
    expect(((await filter({ endTime: from - 1 })).events as { timestamp: number }[]).every((e) => e.timestamp < from)).toBe(true);
    expect((await filter({ logStreamNamePrefix: 'fledge/app/' })).events).toHaveLength(all.length);
    expect((await filter({ logStreamNamePrefix: 'other/' })).events).toHaveLength(0);
    expect((await filter({ logStreamNames: [`fledge/app/${id}`] })).events).toHaveLength(all.length);
    expect(await rejection(filter({ logStreamNames: [`fledge/app/${id}`, 'fledge/app/0000'] }))).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
    expect((await filter({ filterPattern: 'GET' })).events).toHaveLength(4);
  });

  it('refuses what CloudWatch Logs refuses', async () => {
    await manyLines(1);
    const names = Array.from({ length: 101 }, (_, i) => `fledge/app/${i}`);
    expect(await rejection(filter({ logStreamNames: names }))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await rejection(filter({ logStreamNames: ['a'], logStreamNamePrefix: 'a' }))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await rejection(filter({ limit: 0 }))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await rejection(filter({ limit: 10_001 }))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await rejection(filter({ nextToken: 'forged' }))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await rejection(logs().send(new FilterLogEventsCommand({ logGroupName: '/nope' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await rejection(logs().send(new FilterLogEventsCommand({ logGroupName: GROUP, logGroupIdentifier: GROUP })))).toMatchObject({ name: 'InvalidParameterException' });
    expect((await logs().send(new FilterLogEventsCommand({ logGroupIdentifier: `arn:aws:logs:eu-west-1:000000000000:log-group:${GROUP}:*` }))).events.length).toBeGreaterThan(0);
  });
});
