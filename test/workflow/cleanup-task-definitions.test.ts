/**
 * The garbage collection of shared task definition revisions (`fledge-td-*`, docs/design.md
 * "Shared task definitions"): through the scheduled cleanup workflow (real ASL, task Lambdas,
 * DynamoDB Local, the simulated account at AWS's rate limits), then the collection itself on
 * the simulator's manual clock, where a 1,000-revision backlog and AWS's buckets can be played
 * out in seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeregisterTaskDefinitionCommand, ListTaskDefinitionsCommand, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { putEnvironment, deleteEnvironment, type TenantCaller } from '../../functions/commands/environment-commands.ts';
import { collectTaskDefinitions, MUTATION_INTERVAL_MS, type Pacing } from '../../functions/commands/task-definition-gc.ts';
import { useClients } from '../../functions/adapters/aws-clients.ts';
import { CallCounter } from '../../functions/adapters/tagged-resources.ts';
import { familyUse, familyUses, recordFamilyUse } from '../../functions/adapters/task-definition-use.ts';
import { clearRecordedMetrics, recordedMetrics } from '../../functions/runtime/metric-emitter.ts';
import { createSimulator, ManualClock, type Simulator } from '../../infra/local/simulator/index.ts';
import { CleanupWorld, spec } from './support/cleanup-world.ts';

const world = new CleanupWorld();
const ci: TenantCaller = { actor: 'arn:aws:iam::000000000000:user/ci', requestId: 'test', principal: { kind: 'operator', actor: 'arn:aws:iam::000000000000:user/ci' } };
const EXECUTION_ROLE = 'arn:aws:iam::000000000000:role/fledge-execution';

beforeAll(() =>
  world.start({
    FLEDGE_LOCAL_MODE: 'true',
    FLEDGE_LOCAL_CLOCK_OFFSET: '0',
    FLEDGE_CLEANUP_ORPHAN_GRACE: '0s',
    FLEDGE_CLEANUP_TASK_DEFINITION_GRACE: '1h',
    FLEDGE_QUOTA_GLOBAL: '100',
    FLEDGE_QUOTA_PER_REPOSITORY: '50',
  }), 120_000);
afterAll(() => world.stop());

type Sim = Pick<Simulator, 'client'>;

/** A revision of a shared family registered straight in the account, as a workflow of this (or another) installation would. */
async function register(sim: Sim, family: string, executionRoleArn = EXECUTION_ROLE): Promise<string> {
  const result = await sim.client('ecs').send(new RegisterTaskDefinitionCommand({
    family, requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', executionRoleArn,
    containerDefinitions: [{ name: 'app', image: 'ghcr.io/acme/old:1', essential: true }],
    tags: [{ key: 'fledge:managed-by', value: 'fledge' }, { key: 'fledge:task-definition-hash', value: family.slice('fledge-td-'.length) }],
  }));
  return result.taskDefinition.taskDefinitionArn as string;
}

const hash = (n: number) => n.toString(16).padStart(32, '0');

/** `<revision>:<status>` of each revision of `family` the simulated account holds (any status). */
function revisionsOf(sim: Simulator, family: string): string[] {
  return [...sim.internals.ecs.taskDefinitions.values()].filter((t) => t.family === family).map((t) => `${t.revision}:${t.status}`);
}

describe('through the scheduled cleanup', () => {
  it('deregisters and deletes the revisions nothing has used for longer than the grace, and keeps what a service, a live environment, its rollback or a recent pick uses', async () => {
    const create = async (name: string, repository: string, image: string) => {
      expect((await putEnvironment(name, spec({ image, labels: { repository } }), ci)).outcome).toBe('created');
    };
    await create('td-live', 'acme/live', 'ghcr.io/acme/live:1');
    await create('td-upd', 'acme/upd', 'ghcr.io/acme/upd:1');
    await create('td-gone', 'acme/gone', 'ghcr.io/acme/gone:1');
    await world.settle('create');
    expect((await putEnvironment('td-upd', spec({ image: 'ghcr.io/acme/upd:2', labels: { repository: 'acme/upd' } }), ci)).outcome).toBe('started');
    await world.settle('update');
    expect((await world.item('td-upd'))?.status).toBe('RUNNING');
    await deleteEnvironment('td-gone', ci);
    await world.settle('teardown');
    expect((await world.item('td-gone'))?.status).toBe('DELETED');

    const familyOf = (image: string) => world.sim.resources().taskDefinitions.find((t) => t.image === image)!.family;
    // (ACTIVE revisions only: every one of these is still registered)
    const [live, upd1, upd2, gone] = ['ghcr.io/acme/live:1', 'ghcr.io/acme/upd:1', 'ghcr.io/acme/upd:2', 'ghcr.io/acme/gone:1'].map(familyOf);
    // an old revision whose family a create picked a moment ago, and one of another installation
    const picked = `fledge-td-${hash(1)}`;
    const foreign = `fledge-td-${hash(2)}`;
    await register(world.sim, picked);
    await register(world.sim, foreign, 'arn:aws:iam::000000000000:role/other-installation-execution');

    // the cleanup runs two hours later: the grace (1 h) has passed for everything registered so far
    process.env.FLEDGE_LOCAL_CLOCK_OFFSET = '2h';
    await recordFamilyUse(picked, new Date(Date.now() + 90 * 60_000));
    clearRecordedMetrics();
    const run = await world.cleanup();
    expect(run.execution.status, JSON.stringify(run.summary)).toBe('SUCCEEDED');
    expect(run.summary).toMatchObject({ taskDefinitionsDeregistered: 1, taskDefinitionsDeleted: 1, failed: 0, orphanEnvironments: 0 });
    const report = world.lastOrphanReport()!.taskDefinitions!;
    expect(report).toMatchObject({ deregistered: 1, deleted: 1, pending: 0, throttled: 0, more: false });
    expect(report.removed).toEqual([expect.stringContaining(`:task-definition/${gone}:1`)]);
    expect(recordedMetrics().filter((m) => m.name.startsWith('TaskDefinitions')).map((m) => [m.name, m.sum])).toEqual([
      ['TaskDefinitionsDeleted', 1], ['TaskDefinitionsDeregistered', 1], ['TaskDefinitionsPending', 0],
    ]);

    // gone's revision is deleted (DELETE_IN_PROGRESS until nothing references it); everything else stays ACTIVE
    expect(revisionsOf(world.sim, gone!).every((r) => r.endsWith('DELETE_IN_PROGRESS'))).toBe(true);
    for (const family of [live, upd2]) expect(revisionsOf(world.sim, family!), 'runs in a service').toEqual(['1:ACTIVE']);
    expect(revisionsOf(world.sim, upd1!), 'what a heal of td-upd would roll back to').toEqual(['1:ACTIVE']);
    expect(revisionsOf(world.sim, picked), 'picked by a plan step within the grace').toEqual(['1:ACTIVE']);
    expect(revisionsOf(world.sim, foreign), 'another installation').toEqual(['1:ACTIVE']);

    // the content comes back: a create registers a new revision of the family and runs it
    process.env.FLEDGE_LOCAL_CLOCK_OFFSET = '0';
    await create('td-again', 'acme/gone', 'ghcr.io/acme/gone:1');
    await world.settle('create');
    expect((await world.item('td-again'))?.status).toBe('RUNNING');
    expect(revisionsOf(world.sim, gone!)).toContain('2:ACTIVE');
  }, 180_000);

  it("a family's use record only moves forward: a late retry of an older plan step does not shorten the protection", async () => {
    const family = `fledge-td-${hash(3)}`;
    const later = new Date('2026-12-07T12:00:00.000Z');
    await recordFamilyUse(family, later);
    await recordFamilyUse(family, new Date('2026-12-07T11:00:00.000Z'));
    expect(await familyUse(family)).toBe(later.toISOString());
    expect(await familyUses([family, `fledge-td-${hash(4)}`])).toEqual(new Map([[family, later.toISOString()]]));
  });

  it('a collection that fails (AWS refuses the listing) is reported, the run ends failed and the orphans\' results stand', async () => {
    const ecs = world.sim.client('ecs');
    useClients({
      ecs: {
        send: async (command: { constructor: { name: string }; input: { familyPrefix?: string } }) => {
          if (command.constructor.name === 'ListTaskDefinitionsCommand' && !command.input.familyPrefix) {
            throw Object.assign(new Error('User is not authorized to perform: ecs:ListTaskDefinitions'), { name: 'AccessDeniedException' });
          }
          return ecs.send(command as never);
        },
      } as never,
    });
    try {
      const run = await world.cleanup();
      expect(run.execution.status).toBe('FAILED');
      expect(run.summary).toMatchObject({ failed: 1, failures: [{ name: '*', action: 'collect-task-definitions', detail: expect.stringMatching(/^AccessDeniedException: /) }] });
      expect(world.lastOrphanReport()).toMatchObject({ environments: [], taskDefinitions: { deregistered: 0, more: true } });
    } finally {
      useClients({ ecs });
    }
  }, 60_000);
});

describe('the collection on the simulator\'s clock', () => {
  const GRACE_MS = 86_400_000;
  const BUDGET_MS = 240_000;
  let clock: ManualClock;
  let sim: Simulator;
  const pacing = (): Pacing => ({ now: () => clock.now(), sleep: (ms) => clock.advance(ms) });
  const run = () => collectTaskDefinitions({
    scope: { executionRoleArn: EXECUTION_ROLE, installationId: 'test' }, running: new Set(), asOf: new Date(clock.now() + 2 * GRACE_MS).toISOString(),
    graceMs: GRACE_MS, deadline: clock.now() + BUDGET_MS, counter: new CallCounter(), pacing: pacing(),
  });

  beforeAll(() => {
    clock = new ManualClock();
    sim = createSimulator({ clock, region: 'eu-west-1', accountId: '000000000000' }); // AWS's rate limits
    useClients({ ecs: sim.client('ecs') });
  });
  afterAll(() => {
    sim.stop();
    useClients({ ecs: world.sim.client('ecs') });
  });

  it('backs off a throttled DeregisterTaskDefinition and goes on once the bucket refills', async () => {
    const families = [hash(100), hash(101), hash(102)].map((h) => `fledge-td-${h}`);
    for (const family of families) {
      await register(sim, family);
      await clock.advance(1_000);
    }
    // someone else empties the account's DeregisterTaskDefinition bucket (20 tokens) right before the run
    const theirs: string[] = [];
    for (let i = 0; i < 20; i++) {
      theirs.push(await register(sim, `someone-else-${i}`));
      await clock.advance(1_000);
    }
    for (const arn of theirs) await sim.client('ecs').send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));

    const report = await run();
    expect(report).toMatchObject({ deregistered: 3, deleted: 3, pending: 0, more: false });
    expect(report.throttled).toBeGreaterThanOrEqual(1);
    for (const family of families) expect(revisionsOf(sim, family).every((r) => r.endsWith('DELETE_IN_PROGRESS'))).toBe(true);
  }, 60_000);

  it('reports a revision AWS refuses to deregister as pending and goes on with the others; the next run removes it', async () => {
    const families = [hash(200), hash(201), hash(202)].map((h) => `fledge-td-${h}`);
    const arns: string[] = [];
    for (const family of families) {
      arns.push(await register(sim, family));
      await clock.advance(1_000);
    }
    const ecs = sim.client('ecs');
    let refuse = true;
    useClients({
      ecs: {
        send: async (command: { constructor: { name: string }; input: { taskDefinition?: string } }) => {
          if (refuse && command.constructor.name === 'DeregisterTaskDefinitionCommand' && command.input.taskDefinition === arns[1]) {
            throw Object.assign(new Error('User is not authorized to perform: ecs:DeregisterTaskDefinition'), { name: 'AccessDeniedException' });
          }
          return ecs.send(command as never);
        },
      } as never,
    });
    const first = await run();
    expect(first).toMatchObject({ deregistered: 2, deleted: 2, pending: 1, more: false });
    expect(revisionsOf(sim, families[1]!)).toEqual(['1:ACTIVE']);
    refuse = false;
    const second = await run();
    expect(second).toMatchObject({ deregistered: 1, deleted: 1, pending: 0 });
    useClients({ ecs });
  }, 60_000);

  it('stops deregistering a family the moment a plan step picks it again (read right before each call)', async () => {
    const family = `fledge-td-${hash(300)}`;
    const arns: string[] = [];
    for (let i = 0; i < 3; i++) {
      arns.push(await register(sim, family));
      await clock.advance(1_000);
    }
    const ecs = sim.client('ecs');
    useClients({
      ecs: {
        send: async (command: { constructor: { name: string }; input: { taskDefinition?: string } }) => {
          const result = await ecs.send(command as never);
          // a create picks the family while the cleanup works on it
          if (command.constructor.name === 'DeregisterTaskDefinitionCommand' && command.input.taskDefinition === arns[0]) await recordFamilyUse(family);
          return result;
        },
      } as never,
    });
    try {
      const report = await run();
      expect(report).toMatchObject({ deregistered: 1, deleted: 1, pending: 0, more: false });
      expect(revisionsOf(sim, family)).toEqual(['1:DELETE_IN_PROGRESS', '2:ACTIVE', '3:ACTIVE']);
    } finally {
      useClients({ ecs });
    }
  }, 60_000);

  it('works a 1,000-revision backlog off over several runs, each within its time budget and under AWS\'s rates', async () => {
    const backlog = 1_000;
    for (let i = 0; i < backlog; i++) {
      await register(sim, `fledge-td-${hash(1_000 + i)}`);
      await clock.advance(1_000); // RegisterTaskDefinition: 1 a second after its burst
    }
    const runs: { deregistered: number; deleted: number; throttled: number; seconds: number; more: boolean }[] = [];
    for (let n = 0; n < 10; n++) {
      const started = clock.now();
      const report = await run();
      runs.push({ deregistered: report.deregistered, deleted: report.deleted, throttled: report.throttled, seconds: (clock.now() - started) / 1000, more: report.more });
      if (!report.more) break;
      await clock.advance(15 * 60_000); // the next scheduled run
    }
    console.log('task definition backlog runs', JSON.stringify(runs));
    expect(runs.reduce((sum, r) => sum + r.deregistered, 0)).toBe(backlog);
    expect(runs.reduce((sum, r) => sum + r.deleted, 0)).toBe(backlog);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.at(-1)!.more).toBe(false);
    for (const r of runs) {
      // the budget bounds when a run starts a call; the last delete batch follows at most one interval later
      expect(r.seconds).toBeLessThanOrEqual(BUDGET_MS / 1000 + MUTATION_INTERVAL_MS / 1000);
      expect(r.throttled, 'paced under the buckets: never throttled').toBe(0);
      expect(r.deregistered).toBeLessThanOrEqual(BUDGET_MS / MUTATION_INTERVAL_MS + 1);
    }
    await clock.advance(60_000);
    const ofBacklog = (arns: string[]) => arns.filter((a) => /fledge-td-0+([0-9a-f]+):/.test(a) && parseInt(/fledge-td-0+([0-9a-f]+):/.exec(a)![1]!, 16) >= 1_000);
    for (const status of ['ACTIVE', 'INACTIVE'] as const) {
      const left = await sim.client('ecs').send(new ListTaskDefinitionsCommand({ status }));
      expect(ofBacklog(left.taskDefinitionArns as string[]), status).toEqual([]);
    }
    expect([...sim.internals.ecs.taskDefinitions.values()].filter((t) => ofBacklog([t.arn]).length > 0)).toEqual([]);
  }, 300_000);
});
