/**
 * What a cleanup run costs as the number of environments grows, measured on DynamoDB Local,
 * the simulated AWS and the real ASL: items DynamoDB reads to plan the run, state
 * transitions of the cleanup execution (and of the teardowns it starts), AWS calls of the
 * orphan reconciliation. These are counts, not timings; the figures are printed.
 *
 * Records are written the way the store writes them (`indexAttributes`), with live, expired,
 * pinned and deleted environments mixed, so the sparse expiry index holds what it would.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExpired } from '../../functions/adapters/cleanup-store.ts';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { indexAttributes } from '../../functions/adapters/environment-store.ts';
import type { EnvironmentRecord } from '../../functions/domain/environment.ts';
import { PIN_LABEL } from '../../functions/domain/pinning.ts';
import type { Status } from '../../functions/domain/lifecycle.ts';
import { CleanupWorld, spec } from './support/cleanup-world.ts';

const world = new CleanupWorld();
// no AWS rate limits: the setup registers 80 environments' resources at once (counts do not depend on them)
beforeAll(() => world.start({ FLEDGE_CLEANUP_ORPHAN_GRACE: '0s' }, { rateLimits: false }), 120_000);
afterAll(() => world.stop());

const HOUR = 3_600_000;

function recordItem(name: string, opts: { expiresInMs: number; status?: Status; pinned?: boolean; repository?: string }) {
  const now = Date.now();
  const s = spec({ labels: { repository: opts.repository ?? 'acme/cost', ...(opts.pinned ? { [PIN_LABEL]: 'true' } : {}) } });
  const record: EnvironmentRecord = {
    name,
    spec: s,
    specVersion: 1,
    appliedSpecVersion: 1,
    status: opts.status ?? 'RUNNING',
    version: 3,
    runningCount: 1,
    createdAt: new Date(now - 2 * HOUR).toISOString(),
    updatedAt: new Date(now - 2 * HOUR).toISOString(),
    expiresAt: new Date(now + opts.expiresInMs).toISOString(),
    operation: { id: 'op-1-seed', type: 'create', status: 'SUCCEEDED', startedAt: new Date(now - 2 * HOUR).toISOString(), workflow: 'create', executionName: `${name}--op-1-seed` },
  };
  return { pk: `ENV#${name}`, sk: 'ENV', kind: 'ENVIRONMENT', ...record, ...indexAttributes(record) };
}

async function seed(items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let request: Record<string, unknown> | undefined = { [world.db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
    while (request && Object.keys(request).length > 0) {
      const result = await dynamodbClient().send(new BatchWriteCommand({ RequestItems: request as never }));
      request = result.UnprocessedItems as Record<string, unknown> | undefined;
    }
  }
}

describe('the expiry query', () => {
  it('reads only the expired environments, however many live, pinned or deleted ones the table holds', async () => {
    const items = [
      ...Array.from({ length: 400 }, (_, i) => recordItem(`q-live-${i}`, { expiresInMs: (i + 1) * 60_000, repository: 'acme/query' })),
      ...Array.from({ length: 12 }, (_, i) => recordItem(`q-expired-${i}`, { expiresInMs: -(i + 1) * 60_000, repository: 'acme/query' })),
      ...Array.from({ length: 30 }, (_, i) => recordItem(`q-pinned-${i}`, { expiresInMs: -HOUR, pinned: true, repository: 'acme/query' })),
      ...Array.from({ length: 30 }, (_, i) => recordItem(`q-deleted-${i}`, { expiresInMs: -HOUR, status: 'DELETED', repository: 'acme/query' })),
      ...Array.from({ length: 10 }, (_, i) => recordItem(`q-deleting-${i}`, { expiresInMs: -HOUR, status: 'DELETING', repository: 'acme/query' })),
    ];
    await seed(items);
    const asOf = new Date().toISOString();

    const all = await findExpired(asOf, 100);
    expect(all.items.map((i) => i.name).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `q-expired-${i}`).sort());
    // oldest first
    expect(all.items.map((i) => i.expiresAt)).toEqual([...all.items.map((i) => i.expiresAt)].sort());
    // what DynamoDB read (ScannedCount): the 12 expired items, in one request, out of 482 records
    expect(all.cost).toEqual({ itemsRead: 12, requests: 1 });
    expect(all.more).toBe(false);

    // a run takes at most FLEDGE_CLEANUP_MAX_PER_RUN; one item more says the next run has work
    const page = await findExpired(asOf, 5);
    expect(page.items).toHaveLength(5);
    expect(page.more).toBe(true);
    expect(page.cost.itemsRead).toBe(6);

    // tidy up: the cost measurement below starts from a table without these
    await seed(items.filter((i) => i.status !== 'DELETED').map((i) => ({ ...i, status: 'DELETED', gsiStatusPk: 'STATUS#DELETED', gsiExpiryPk: undefined })));
    expect((await findExpired(asOf, 100)).cost.itemsRead).toBe(0);
  }, 120_000);
});

describe('cost of a run as environments grow', () => {
  it('reads only what it acts on, and its transitions grow with the expired environments, not with all of them', async () => {
    const rows: string[] = [];
    let seeded = 0;
    let resourceBacked = 0;
    for (const size of [10, 100, 500]) {
      // grow the table to `size` live environments, 10 % of them expired, plus as many deleted ones
      const expired = size / 10;
      const fresh = size - expired - seeded;
      await seed([
        ...Array.from({ length: fresh }, (_, i) => recordItem(`c${size}-live-${i}`, { expiresInMs: 72 * HOUR })),
        ...Array.from({ length: expired }, (_, i) => recordItem(`c${size}-exp-${i}`, { expiresInMs: -HOUR })),
        ...Array.from({ length: size }, (_, i) => recordItem(`c${size}-gone-${i}`, { expiresInMs: -HOUR, status: 'DELETED' })),
      ]);
      seeded += fresh;
      // tagged resources for up to 80 live environments (the simulated ALB takes at most 100 rules)
      const withResources = Math.min(fresh, 80 - resourceBacked);
      for (let i = 0; i < withResources; i++) await tagged(`c${size}-live-${i}`, 10_000 + resourceBacked + i);
      resourceBacked += withResources;

      const busy = await world.cleanup();
      expect(busy.execution.status).toBe('SUCCEEDED');
      expect(busy.summary).toMatchObject({ planned: expired, teardownsStarted: expired, failed: 0, itemsRead: expired });
      // per expired environment: its step and the pause; the rest is fixed (7: plan, map, orphans, missed alarms, report, choice, end)
      expect(busy.transitions).toBe(7 + 2 * expired);
      const teardowns = await world.settle('teardown');
      const mine = teardowns.filter((t) => t.name.startsWith(`c${size}-exp-`));
      expect(mine).toHaveLength(expired);
      expect(mine.every((t) => t.status === 'SUCCEEDED')).toBe(true);
      const teardownTransitions = mine.reduce((sum, t) => sum + t.stateTransitions, 0);
      const busyOrphans = world.lastOrphanReport()!;

      const idle = await world.cleanup();
      expect(idle.summary).toMatchObject({ planned: 0, itemsRead: 0, orphanEnvironments: 0 });
      expect(idle.transitions).toBe(7);
      rows.push(
        `| ${size} live + ${size} deleted | ${expired} | ${busy.summary.itemsRead} | ${busy.transitions} | ${teardownTransitions} (${(teardownTransitions / expired).toFixed(1)} each) | ` +
          `${busyOrphans.awsCalls} calls, ${busyOrphans.recordsRead} records | ${idle.summary.itemsRead} | ${idle.transitions} | ` +
          `${world.lastOrphanReport()!.awsCalls} calls, ${world.lastOrphanReport()!.recordsRead} records (${resourceBacked} environments with resources) |`,
      );
    }
    console.info(
      [
        '',
        'cleanup cost per run (DynamoDB Local + simulated AWS, real ASL):',
        '| environments | expired | items read (plan) | cleanup transitions | teardown transitions (nothing to remove) | orphan step | idle run: items read (plan) | idle run: transitions | idle run: orphan step |',
        '|---|---|---|---|---|---|---|---|---|',
        ...rows,
        '',
      ].join('\n'),
    );
  }, 300_000);
});

const tags = (name: string) => [{ Key: 'fledge:environment', Value: name }, { Key: 'fledge:managed-by', Value: 'fledge' }];

/** A live environment's resources, as the create workflow makes them (desired count 0: no tasks to run). */
async function tagged(name: string, priority: number): Promise<void> {
  const td = (await world.sim.call('ecs', 'RegisterTaskDefinition', {
    Family: `fledge-${name}`, NetworkMode: 'awsvpc', RequiresCompatibilities: ['FARGATE'], Cpu: '256', Memory: '512',
    ExecutionRoleArn: process.env.FLEDGE_EXECUTION_ROLE_ARN,
    ContainerDefinitions: [{ Name: 'app', Image: 'nginx:1.27', Essential: true, PortMappings: [{ ContainerPort: 80 }] }], Tags: tags(name),
  })) as { TaskDefinition: { TaskDefinitionArn: string } };
  const tg = (await world.sim.call('elasticloadbalancingv2', 'CreateTargetGroup', {
    Name: name, Protocol: 'HTTP', Port: 80, VpcId: world.sim.config.vpcId, TargetType: 'ip', Tags: tags(name),
  })) as { TargetGroups: { TargetGroupArn: string }[] };
  const targetGroupArn = tg.TargetGroups[0]!.TargetGroupArn;
  await world.sim.call('elasticloadbalancingv2', 'CreateRule', {
    ListenerArn: world.sim.listenerArn, Priority: priority,
    Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`${name}.preview.example.com`] } }],
    Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }], Tags: tags(name),
  });
  await world.sim.call('ecs', 'CreateService', {
    Cluster: world.sim.clusterArn, ServiceName: name, TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: 0,
    LaunchType: 'FARGATE', NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-a'], SecurityGroups: ['sg-1'] } },
    LoadBalancers: [{ TargetGroupArn: targetGroupArn, ContainerName: 'app', ContainerPort: 80 }], Tags: tags(name),
  });
}
