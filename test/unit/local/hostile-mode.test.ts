/**
 * Hostile mode (FLEDGE_SIM_HOSTILE=1, the `hostile` fault): EventBridge events dropped,
 * duplicated, delayed and reordered; SERVICE_STEADY_STATE again and again; reads that lag
 * the mutations; all from a seeded PRNG so a run can be replayed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CreateServiceCommand, DescribeServicesCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvalidFaultRequest, parseFaultRequest, simulatorOptionsFromEnv, type SimEvent, type SimLogger, type SimulatorOptions } from '../../../infra/local/simulator/index.ts';
import { createEnvironment, createFixture, describeService, type Fixture } from './sim-fixture.ts';

let f: Fixture;
afterEach(() => f?.sim.stop());

/** A fixture that counts what the simulator emitted (before hostile mode had its way). */
function hostileFixture(options: SimulatorOptions = {}): Fixture & { emitted: () => number } {
  let emitted = 0;
  const logger: SimLogger = {
    debug: (message) => {
      if (message === 'simulator: event') emitted += 1;
    },
    info() {},
    warn() {},
    error() {},
  };
  const fixture = createFixture({ hostile: true, seed: 20250314, logger, ...options, hostileRates: { throttleRate: 0, ...options.hostileRates } });
  return { ...fixture, emitted: () => emitted };
}

const signature = (events: SimEvent[]) => events.map((e) => `${e['detail-type']}:${String(e.detail.eventName ?? e.detail.lastStatus ?? '')}`);
const steadyStates = (events: SimEvent[]) => events.filter((e) => e.detail.eventName === 'SERVICE_STEADY_STATE').length;

describe('hostile mode: EventBridge at its worst', () => {
  it('drops about 15 % of the events and delivers about 15 % twice (same id)', async () => {
    const h = hostileFixture();
    f = h;
    await createEnvironment(f, 'lossy', 'nginx:1', { desiredCount: 30 });
    await f.clock.advance(20_000);
    const emitted = h.emitted();
    const ids = f.events.map((e) => e.id);
    const distinct = new Set(ids).size;
    expect(emitted).toBeGreaterThan(80);
    const dropped = (emitted - distinct) / emitted;
    const duplicated = (ids.length - distinct) / distinct;
    expect(dropped).toBeGreaterThan(0.05);
    expect(dropped).toBeLessThan(0.3);
    expect(duplicated).toBeGreaterThan(0.05);
    expect(duplicated).toBeLessThan(0.3);
  });

  it('delivers late and out of order', async () => {
    f = hostileFixture({ hostileRates: { eventDropRate: 0, eventDuplicateRate: 0 } });
    await createEnvironment(f, 'late', 'nginx:1', { desiredCount: 10 });
    await f.clock.advance(1);
    const early = f.events.length;
    await f.clock.advance(20_000);
    expect(early).toBeLessThan(f.events.length);
    const times = f.events.map((e) => Date.parse(e.time));
    expect(times.some((t, i) => i > 0 && t < times[i - 1]!)).toBe(true);
    // a task's own state changes too: a later version may arrive before an earlier one
    const versions = new Map<string, number[]>();
    for (const e of f.events.filter((e) => e['detail-type'] === 'ECS Task State Change')) {
      versions.set(String(e.detail.taskArn), [...(versions.get(String(e.detail.taskArn)) ?? []), Number(e.detail.version)]);
    }
    expect([...versions.values()].some((v) => v.some((x, i) => i > 0 && x < v[i - 1]!))).toBe(true);
  });

  it('replays the same way with the same seed', async () => {
    const run = async (seed: number) => {
      const fixture = hostileFixture({ seed });
      await createEnvironment(fixture, 'replay', 'nginx:1', { desiredCount: 5 });
      await fixture.clock.advance(10_000);
      fixture.sim.stop();
      return signature(fixture.events);
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
  });

  it('re-sends SERVICE_STEADY_STATE periodically while the service stays steady (once without hostile mode)', async () => {
    f = hostileFixture({ hostileRates: { eventDropRate: 0, eventDuplicateRate: 0, eventMaxDelayMs: 0 } });
    expect(f.sim.hostile.rates.steadyStateEveryMs).toBe(2000);
    await createEnvironment(f, 'steady');
    await f.clock.advance(3000);
    const first = steadyStates(f.events);
    expect(first).toBeGreaterThanOrEqual(1);
    await f.clock.advance(10_000);
    expect(steadyStates(f.events)).toBeGreaterThanOrEqual(first + 4);
    f.sim.stop();

    f = createFixture();
    await createEnvironment(f, 'steady');
    await f.clock.advance(13_000);
    expect(steadyStates(f.events)).toBe(1);
    // switched on at run time: the steady service starts reporting periodically
    f.sim.setHostile(true);
    await f.clock.advance(10_000);
    expect(steadyStates(f.events)).toBeGreaterThan(1);
  });
});

describe('hostile mode: reads lag the mutations', () => {
  it('DescribeServices just after CreateService answers MISSING (a failure, not an error), ListTasks ServiceNotFoundException; a second later both see it', async () => {
    f = hostileFixture({ hostileRates: { staleReadMs: 1000 } });
    await createEnvironment(f, 'fresh');
    const described = await f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: ['fresh'] }));
    expect(described.services).toEqual([]);
    expect(described.failures).toEqual([{ arn: `arn:aws:ecs:eu-west-1:000000000000:service/${f.sim.config.clusterName}/fresh`, reason: 'MISSING' }]);
    await expect(f.ecs.send(new ListTasksCommand({ cluster: f.sim.clusterArn, serviceName: 'fresh' }))).rejects.toMatchObject({ name: 'ServiceNotFoundException' });
    await f.clock.advance(1100);
    expect((await describeService(f, 'fresh')).status).toBe('ACTIVE');
    expect((await f.ecs.send(new ListTasksCommand({ cluster: f.sim.clusterArn, serviceName: 'fresh' }))).taskArns).toHaveLength(1);
  });

  it('a read inside the window may still see the older state, never one older than the window', async () => {
    f = hostileFixture({ hostileRates: { staleReadMs: 1000 } });
    await createEnvironment(f, 'window');
    await f.clock.advance(500);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const out = await f.ecs.send(new DescribeServicesCommand({ cluster: f.sim.clusterArn, services: ['window'] }));
      seen.add(out.services.length === 0 ? 'missing' : 'active');
    }
    expect([...seen].sort()).toEqual(['active', 'missing']);
    // an UpdateService: reads may still answer the desired count before it
    await f.clock.advance(2000);
    await f.sim.call('ecs', 'updateService', { Cluster: f.sim.clusterArn, Service: 'window', DesiredCount: 3 });
    const counts = new Set<number>();
    for (let i = 0; i < 40; i++) counts.add((await describeService(f, 'window')).desiredCount);
    expect([...counts]).toEqual([1]);
    await f.clock.advance(1001);
    expect((await describeService(f, 'window')).desiredCount).toBe(3);
  });

  it('DescribeTargetHealth lags too: a target just registered may not be listed yet', async () => {
    f = hostileFixture({ hostileRates: { staleReadMs: 1000 } });
    const { targetGroupArn } = await createEnvironment(f, 'targets');
    const health = async () => (await f.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))).TargetHealthDescriptions.length;
    await f.clock.advance(900);
    expect(await health()).toBe(0); // the task is not running yet
    await f.clock.advance(150); // now it is, and registered
    expect(f.sim.resources().targetGroups[0]!.targets).toHaveLength(1);
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) seen.add(await health());
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('reads are current without hostile mode', async () => {
    f = createFixture();
    await createEnvironment(f, 'now');
    expect((await describeService(f, 'now')).status).toBe('ACTIVE');
  });
});

describe('switching hostile mode', () => {
  it('the hostile fault switches it at run time; its body is {"fault":"hostile","enabled":bool}', () => {
    f = createFixture();
    expect(f.sim.hostile.enabled).toBe(false);
    const on = f.sim.injectFault(parseFaultRequest({ fault: 'hostile', enabled: true }));
    expect(on).toMatchObject({ fault: 'hostile', hostile: true, message: expect.stringContaining(`seed ${f.sim.config.seed}`) });
    expect(f.sim.resources().faults.hostile).toBe(true);
    expect(f.sim.injectFault(parseFaultRequest({ fault: 'hostile', enabled: false })).hostile).toBe(false);
    for (const bad of [{ fault: 'hostile' }, { fault: 'hostile', enabled: 'yes' }, { fault: 'hostile', enabled: true, environment: 'x' }, { fault: 'crash', environment: 'x', enabled: true }]) {
      expect(() => parseFaultRequest(bad), JSON.stringify(bad)).toThrow(InvalidFaultRequest);
    }
  });

  it('FLEDGE_SIM_HOSTILE, FLEDGE_SIM_SEED and FLEDGE_SIM_DRAIN_MS configure it from the environment', () => {
    expect(simulatorOptionsFromEnv({ FLEDGE_SIM_HOSTILE: '1', FLEDGE_SIM_SEED: '42', FLEDGE_SIM_DRAIN_MS: '5000' })).toMatchObject({ hostile: true, seed: 42, drainMs: 5000 });
    expect(simulatorOptionsFromEnv({})).toMatchObject({ hostile: undefined, seed: undefined });
    expect(simulatorOptionsFromEnv({ FLEDGE_SIM_HOSTILE: '0' }).hostile).toBe(false);
    expect(() => simulatorOptionsFromEnv({ FLEDGE_SIM_HOSTILE: 'maybe' })).toThrow(/FLEDGE_SIM_HOSTILE/);
    expect(() => simulatorOptionsFromEnv({ FLEDGE_SIM_SEED: '1.5' })).toThrow(/FLEDGE_SIM_SEED/);
  });

  it('rates scale with the simulator timings and can be overridden', () => {
    f = createFixture({ taskStartMs: 300, hostileRates: { eventDropRate: 0.5 } });
    expect(f.sim.hostile.rates).toMatchObject({ eventDropRate: 0.5, eventDuplicateRate: 0.15, eventMaxDelayMs: 300, staleReadMs: 200, steadyStateEveryMs: 600 });
    f.sim.stop();
    f = createFixture({ taskStartMs: 1500 });
    expect(f.sim.hostile.rates).toMatchObject({ eventMaxDelayMs: 1500, staleReadMs: 1000 });
  });

  it('CreateService of a fresh name works in hostile mode even though reads lag', async () => {
    f = hostileFixture();
    const { taskDefinitionArn, targetGroupArn } = await createEnvironment(f, 'first');
    const out = await f.ecs.send(
      new CreateServiceCommand({
        cluster: f.sim.clusterArn,
        serviceName: 'second',
        taskDefinition: taskDefinitionArn,
        desiredCount: 1,
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
        loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8080 }],
      }),
    );
    expect(out.service.status).toBe('ACTIVE');
  });
});
