/**
 * The scheduled cleanup (statemachines/cleanup.asl.json) end to end inside one process: the
 * real ASL on the local runner, the real task Lambdas, DynamoDB Local, local mode's simulated
 * AWS. Environments are created and deleted through the domain commands the API uses.
 *
 * Time: the cleanup judges expiry against its execution's start time; these tests move the
 * cleanup's clock ahead with local mode's FLEDGE_LOCAL_CLOCK_OFFSET instead of waiting for
 * a ttl to pass (the smallest ttl is 1m).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { putEnvironment, deleteEnvironment, type TenantCaller } from '../../functions/commands/environment-commands.ts';
import { QuotaExceeded } from '../../functions/domain/errors.ts';
import { PIN_LABEL } from '../../functions/domain/pinning.ts';
import { secretExecutionRoleArn } from '../../functions/domain/execution-roles.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import { CleanupWorld, spec } from './support/cleanup-world.ts';
import { invoked } from '../support/lambda-context.ts';
import { clearRecordedMetrics, recordedMetrics } from '../../functions/runtime/metric-emitter.ts';

const world = new CleanupWorld();
const ci: TenantCaller = { actor: 'arn:aws:iam::000000000000:user/ci', requestId: 'test', principal: { kind: 'operator', actor: 'arn:aws:iam::000000000000:user/ci' } };

beforeAll(() =>
  world.start({
    FLEDGE_LOCAL_MODE: 'true',
    FLEDGE_LOCAL_CLOCK_OFFSET: '0',
    FLEDGE_CLEANUP_ORPHAN_GRACE: '0s',
    FLEDGE_QUOTA_GLOBAL: '100',
    FLEDGE_QUOTA_PER_REPOSITORY: '50',
  }), 120_000);
afterAll(() => world.stop());
beforeEach(() => {
  world.awsHook = undefined;
  process.env.FLEDGE_LOCAL_CLOCK_OFFSET = '0';
  process.env.FLEDGE_CLEANUP_STUCK_AFTER = '1h';
});

/** the cleanup's clock runs `offset` ahead (e.g. "2m": every 1m ttl has passed) */
const clockAhead = (offset: string) => (process.env.FLEDGE_LOCAL_CLOCK_OFFSET = offset);

async function createAll(names: string[], overrides: (name: string) => Record<string, unknown>) {
  for (const name of names) {
    const result = await putEnvironment(name, spec(overrides(name)), ci);
    expect(result.outcome).toBe('created');
  }
  await world.settle('create');
  for (const name of names) expect((await world.item(name))?.status, name).toBe('RUNNING');
}

describe('expiry', () => {
  it('tears down the expired environments and only those; a failing teardown does not stop the others and the next run retries it', async () => {
    const expired = ['exp-0', 'exp-1', 'exp-2', 'exp-3', 'exp-4', 'exp-5'];
    const pinned = ['pin-0', 'pin-1'];
    const fresh = ['fresh-0', 'fresh-1', 'fresh-2', 'fresh-3'];
    await createAll([...expired, ...pinned, ...fresh], (name) => ({
      ttl: name.startsWith('fresh') ? '72h' : '1m',
      labels: { repository: 'acme/expiry', ...(name.startsWith('pin') ? { [PIN_LABEL]: 'true' } : {}) },
    }));
    const counted = (await world.counters())['repo#acme/expiry'];
    expect(counted).toBe(12);

    // exp-2's listener rule cannot be deleted (for now): its teardown fails
    const stuckRule = world.sim.resources().listenerRules.find((r) => r.environment === 'exp-2')!.arn;
    let ruleLocked = true;
    world.awsHook = (_service, action, params) => {
      if (ruleLocked && action === 'DeleteRule' && params.RuleArn === stuckRule) {
        throw Object.assign(new Error('the rule is locked by a test'), { name: 'OperationNotPermittedException' });
      }
    };

    clockAhead('2m');
    const first = await world.cleanup();
    expect(first.execution.status).toBe('SUCCEEDED');
    expect(first.summary).toMatchObject({ planned: 6, teardownsStarted: 6, failed: 0, skipped: 0 });
    await world.settle('teardown');

    for (const name of expired.filter((n) => n !== 'exp-2')) {
      expect((await world.item(name))?.status, name).toBe('DELETED');
      expect(world.leftovers(name), name).toEqual([]);
    }
    expect(await world.item('exp-2')).toMatchObject({ status: 'DELETING', operation: { type: 'teardown', status: 'FAILED' } });
    for (const name of [...pinned, ...fresh]) expect((await world.item(name))?.status, name).toBe('RUNNING');
    expect((await world.counters())['repo#acme/expiry']).toBe(counted! - 5);
    const requested = (await world.events('exp-0')).find((e) => e.type === 'delete-requested')!;
    expect(requested.actor).toBe('system');
    expect(requested.message).toMatch(/^teardown requested: expired at \S+ \(ttl 1m\); removed by the scheduled cleanup$/);

    // the cause is gone: the next run starts exp-2's teardown again, and it goes through
    ruleLocked = false;
    const second = await world.cleanup();
    expect(second.summary).toMatchObject({ planned: 1, teardownsRestarted: 1, failed: 0 });
    await world.settle('teardown');
    expect((await world.item('exp-2'))?.status).toBe('DELETED');
    expect(world.leftovers('exp-2')).toEqual([]);
    expect((await world.events('exp-2')).find((e) => e.type === 'delete-requested')?.message).toMatch(/^teardown retried after a failed one/);
    expect((await world.counters())['repo#acme/expiry']).toBe(counted! - 6);

    // nothing left to do: an idle run is a handful of transitions
    const third = await world.cleanup();
    expect(third.summary).toMatchObject({ planned: 0, failed: 0 });
    expect(third.transitions).toBeLessThanOrEqual(7);
    for (const name of [...pinned, ...fresh]) expect((await world.item(name))?.status, name).toBe('RUNNING');
  }, 120_000);

  it('collects a step that fails, ends the run failed, tears the others down, and the next run handles the failed one', async () => {
    const names = ['bad-0', 'ok-0', 'ok-1', 'ok-2'];
    await createAll(names, () => ({ ttl: '1m', labels: { repository: 'acme/broken' } }));
    // Step Functions refuses to start bad-0's teardown (the cleanup's DELETE of bad-0 fails)
    const sfn = world.runner.sfnClient;
    const { useClients } = await import('../../functions/adapters/aws-clients.ts');
    let refuse = true;
    useClients({
      sfn: {
        send: async (command: { constructor: { name: string }; input: { name?: string } }) => {
          if (refuse && command.constructor.name === 'StartExecutionCommand' && command.input.name?.startsWith('bad-0--')) {
            throw Object.assign(new Error('Rate exceeded'), { name: 'ExecutionLimitExceeded' });
          }
          return sfn.send(command);
        },
      },
    });

    clockAhead('2m');
    const first = await world.cleanup();
    expect(first.execution.status).toBe('FAILED');
    expect(first.execution.error).toBe('CleanupIncomplete');
    expect(first.summary).toMatchObject({ planned: 4, teardownsStarted: 3, failed: 1 });
    expect(first.summary.failures).toEqual([expect.objectContaining({ name: 'bad-0', action: 'expire', outcome: 'failed' })]);
    await world.settle('teardown');
    for (const name of ['ok-0', 'ok-1', 'ok-2']) expect((await world.item(name))?.status, name).toBe('DELETED');
    expect(await world.item('bad-0')).toMatchObject({ status: 'DELETING', operation: { type: 'teardown', status: 'FAILED' } });

    refuse = false;
    const second = await world.cleanup();
    expect(second.execution.status).toBe('SUCCEEDED');
    expect(second.summary).toMatchObject({ teardownsRestarted: 1, failed: 0 });
    await world.settle('teardown');
    expect((await world.item('bad-0'))?.status).toBe('DELETED');
    expect(world.leftovers('bad-0')).toEqual([]);
    useClients({ sfn });
  }, 120_000);

  it('spares an environment whose ttl a PATCH extended after the plan was made', async () => {
    await createAll(['ext-0'], () => ({ ttl: '1m', labels: { repository: 'acme/extend' } }));
    clockAhead('2m');
    // the PATCH lands while the run is deciding: between the plan and the per-environment step
    world.awsHook = undefined;
    const plan = invoked((await import('../../functions/tasks/plan-cleanup.ts')).handler);
    const step = invoked((await import('../../functions/tasks/cleanup-environment.ts')).handler);
    const planned = await plan({ executionStartTime: new Date().toISOString(), executionName: 'manual' });
    const item = planned.items.find((i) => i.name === 'ext-0')!;
    expect(item.action).toBe('expire');
    await putEnvironment('ext-0', spec({ ttl: '72h', labels: { repository: 'acme/extend' } }), ci);
    expect(await step(item)).toMatchObject({ outcome: 'skipped', detail: expect.stringMatching(/ttl was extended/) });
    await world.settle('update');
    expect((await world.item('ext-0'))?.status).toBe('RUNNING');
  }, 60_000);
});

describe('lost operations', () => {
  it('fails a create whose execution is gone, re-drives a lost teardown, and leaves a slow but running one alone', async () => {
    await createAll(['lost-td'], () => ({ labels: { repository: 'acme/lost' } }));
    // hold the first AWS call of these environments' workflows
    const held = new Map<string, () => void>();
    const gates = new Map<string, Promise<void>>();
    const gate = (name: string) => {
      if (!gates.has(name)) gates.set(name, new Promise<void>((resolve) => held.set(name, resolve)));
      return gates.get(name)!;
    };
    const reached = async (names: string[]) => {
      for (let i = 0; i < 200 && !names.every((n) => held.has(n)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect([...held.keys()].sort()).toEqual([...names].sort());
    };
    world.awsHook = async (_service, action, params) => {
      // target groups are named <installation>-<name>-<hash> (functions/domain/resource-names.ts); the tag names the environment
      const environment = (params.Tags as { Key: string; Value: string }[] | undefined)?.find((t) => t.Key === 'fledge:environment')?.Value;
      if (action === 'CreateTargetGroup' && (environment === 'lost-create' || environment === 'slow-create')) await gate(environment);
      if (action === 'DeleteService' && params.Service === 'lost-td') await gate('lost-td');
    };
    try {
    await putEnvironment('lost-create', spec({ labels: { repository: 'acme/lost' } }), ci);
    await putEnvironment('slow-create', spec({ labels: { repository: 'acme/lost' } }), ci);
    await deleteEnvironment('lost-td', ci);
    await reached(['lost-create', 'slow-create', 'lost-td']);
    // two executions are lost (stopped in the console, timed out...), one is merely slow
    for (const name of ['lost-create', 'lost-td']) {
      const item = await world.item(name);
      const kind = item!.operation.workflow as 'create' | 'teardown';
      world.runner.stopExecution(`${world.runner.stateMachineArn(kind).replace(':stateMachine:', ':execution:')}:${item!.operation.executionName}`);
    }
    held.get('lost-td')?.();
    held.get('lost-create')?.();

    process.env.FLEDGE_CLEANUP_STUCK_AFTER = '1m';
    clockAhead('2m');
    const run = await world.cleanup();
    expect(run.execution.status).toBe('SUCCEEDED');
    expect(run.summary).toMatchObject({ operationsFailed: 1, teardownsRestarted: 1, failed: 0 });

    const lost = await world.item('lost-create');
    expect(lost).toMatchObject({ status: 'FAILED', operation: { status: 'FAILED', error: { code: 'TIMEOUT' } } });
    const lostEvent = (await world.events('lost-create'))[0]!;
    expect(lostEvent).toMatchObject({ type: 'operation-lost', actor: 'system' });
    expect(lostEvent.message).toMatch(/workflow execution is ABORTED: the operation is lost/);

    await world.settle('teardown');
    expect((await world.item('lost-td'))?.status).toBe('DELETED');
    expect(world.leftovers('lost-td')).toEqual([]);
    expect((await world.events('lost-td')).map((e) => e.type)).toEqual(expect.arrayContaining(['operation-lost', 'delete-requested', 'deleted']));

    expect((await world.item('slow-create'))?.status).toBe('CREATING');
    expect((await world.events('slow-create')).map((e) => e.type)).not.toContain('operation-lost');
    held.get('slow-create')?.();
    await world.settle('create');
    expect((await world.item('slow-create'))?.status).toBe('RUNNING');
    } finally {
      for (const release of held.values()) release(); // never leave a workflow hanging for the next test
    }
  }, 120_000);
});

describe('lost scale and heal operations', () => {
  /** an operation whose execution Step Functions does not know (lost), last touched long ago */
  async function lose(name: string, status: 'SCALING' | 'HEALING', type: 'scale' | 'heal', desiredCount?: number) {
    const operationId = `op-lost-${type}`;
    await dynamodbClient().send(new UpdateCommand({
      TableName: process.env.TABLE_NAME, Key: { pk: `ENV#${name}`, sk: 'ENV' },
      UpdateExpression: `SET #s = :s, gsiStatusPk = :gs, #op = :op, updatedAt = :old, version = version + :one${desiredCount === undefined ? '' : ', #spec.desiredCount = :count'}`,
      ExpressionAttributeNames: { '#s': 'status', '#op': 'operation', ...(desiredCount === undefined ? {} : { '#spec': 'spec' }) },
      ExpressionAttributeValues: {
        ':s': status, ':gs': `STATUS#${status}`, ':one': 1, ':old': new Date(Date.now() - 3_600_000).toISOString(),
        ':op': { id: operationId, type, status: 'RUNNING', startedAt: new Date(Date.now() - 3_600_000).toISOString(), workflow: type, executionName: `${name}--${operationId}` },
        ...(desiredCount === undefined ? {} : { ':count': desiredCount }),
      },
    }));
  }

  it('settles a lost heal DEGRADED and a lost scale where it was going, each with the reason', async () => {
    await createAll(['lost-heal', 'lost-wake', 'lost-sleep'], () => ({ labels: { repository: 'acme/lost-ops' } }));
    await lose('lost-heal', 'HEALING', 'heal');
    await lose('lost-wake', 'SCALING', 'scale', 2);
    await lose('lost-sleep', 'SCALING', 'scale', 0);

    process.env.FLEDGE_CLEANUP_STUCK_AFTER = '1m';
    clockAhead('2m');
    const run = await world.cleanup();
    expect(run.execution.status, JSON.stringify(run.summary)).toBe('SUCCEEDED');
    expect(run.summary).toMatchObject({ operationsFailed: 3, failed: 0 });

    const settled = { 'lost-heal': 'DEGRADED', 'lost-wake': 'RUNNING', 'lost-sleep': 'SLEEPING' } as const;
    for (const [name, status] of Object.entries(settled)) {
      expect(await world.item(name)).toMatchObject({ status, operation: { status: 'FAILED', error: { code: 'TIMEOUT' } } });
      const [lost] = await world.events(name);
      expect(lost).toMatchObject({ type: 'operation-lost', actor: 'system' });
      expect(lost!.message).toMatch(/unknown to Step Functions: the operation is lost/);
    }
  }, 120_000);
});

describe('orphans', () => {
  const tags = (name: string) => [{ Key: 'fledge:environment', Value: name }, { Key: 'fledge:managed-by', Value: 'fledge' }];

  /** what the create workflow would build, made directly in the (simulated) account */
  async function resourcesFor(name: string, priority: number, tagged = true): Promise<void> {
    const t = tagged ? tags(name) : [{ Key: 'team', Value: 'someone-else' }];
    const td = (await world.sim.call('ecs', 'RegisterTaskDefinition', {
      Family: `fledge-${name}`,
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '256',
      Memory: '512',
      ExecutionRoleArn: process.env.FLEDGE_EXECUTION_ROLE_ARN,
      ContainerDefinitions: [{ Name: 'app', Image: 'nginx:1.27', Essential: true, PortMappings: [{ ContainerPort: 80 }] }],
      Tags: t,
    })) as { TaskDefinition: { TaskDefinitionArn: string } };
    const tg = (await world.sim.call('elasticloadbalancingv2', 'CreateTargetGroup', {
      Name: name, Protocol: 'HTTP', Port: 80, VpcId: world.sim.config.vpcId, TargetType: 'ip', Tags: t,
    })) as { TargetGroups: { TargetGroupArn: string }[] };
    const targetGroupArn = tg.TargetGroups[0]!.TargetGroupArn;
    await world.sim.call('elasticloadbalancingv2', 'CreateRule', {
      ListenerArn: world.sim.listenerArn,
      Priority: priority,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`${name}.preview.example.com`] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
      Tags: t,
    });
    await world.sim.call('ecs', 'CreateService', {
      Cluster: world.sim.clusterArn,
      ServiceName: name,
      TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-a'], SecurityGroups: ['sg-1'], AssignPublicIp: 'DISABLED' } },
      LoadBalancers: [{ TargetGroupArn: targetGroupArn, ContainerName: 'app', ContainerPort: 80 }],
      Tags: t,
    });
    await alarmFor(name, tagged);
  }

  async function alarmFor(name: string, tagged = true): Promise<void> {
    await world.sim.call('cloudwatch', 'PutMetricAlarm', {
      AlarmName: `fledge-${name}-running-tasks`,
      Namespace: 'ECS/ContainerInsights',
      MetricName: 'RunningTaskCount',
      Dimensions: [{ Name: 'ClusterName', Value: world.sim.config.clusterName }, { Name: 'ServiceName', Value: name }],
      Statistic: 'Minimum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      Tags: tagged ? tags(name) : [{ Key: 'team', Value: 'someone-else' }],
    });
  }

  it('removes resources tagged for unknown or deleted environments, and nothing untagged or live', async () => {
    await resourcesFor('orph-ghost', 4001);
    await resourcesFor('bystander', 4002, false);
    await createAll(['orph-gone', 'orph-live'], () => ({ labels: { repository: 'acme/orphans' } }));
    await alarmFor('orph-gone'); // a resource the teardown does not know about
    await alarmFor('orph-live');
    await deleteEnvironment('orph-gone', ci);
    await world.settle('teardown');
    expect((await world.item('orph-gone'))?.status).toBe('DELETED');
    expect(world.leftovers('orph-gone')).toHaveLength(1);
    const untouched = () => {
      const r = world.sim.resources();
      return {
        bystander: [
          ...r.services.filter((s) => s.name === 'bystander' && s.status === 'ACTIVE'),
          ...r.targetGroups.filter((t) => t.name === 'bystander'),
          ...r.listenerRules.filter((l) => l.tags.team === 'someone-else'),
          ...r.alarms.filter((a) => a.name === 'fledge-bystander-running-tasks'),
          ...r.taskDefinitions.filter((t) => t.family === 'fledge-bystander'),
        ].length,
        live: world.leftovers('orph-live').length,
      };
    };
    const before = untouched();
    expect(before.bystander).toBe(5);
    expect(world.leftovers('orph-ghost')).toHaveLength(5);

    const run = await world.cleanup();
    expect(run.execution.status).toBe('SUCCEEDED');
    const report = world.lastOrphanReport()!;
    expect(report.environments.map((e) => [e.environment, e.record, e.removed.length, e.pending.length])).toEqual([
      ['orph-ghost', 'unknown', 5, 0],
      ['orph-gone', 'DELETED', 1, 0],
    ]);
    expect(run.summary).toMatchObject({ orphanEnvironments: 2, orphanResourcesRemoved: 6, orphanResourcesPending: 0 });
    expect(world.leftovers('orph-ghost')).toEqual([]);
    expect(world.leftovers('orph-gone')).toEqual([]);
    expect(untouched()).toEqual(before);
    expect((await world.item('orph-live'))?.status).toBe('RUNNING');

    const ghostEvent = (await world.events('orph-ghost'))[0]!;
    expect(ghostEvent).toMatchObject({ type: 'orphans-removed', actor: 'system' });
    expect(ghostEvent.purgeAt).toBeGreaterThan(Date.now() / 1000);
    expect((await world.events('orph-gone'))[0]).toMatchObject({ type: 'orphans-removed', purgeAt: (await world.item('orph-gone'))!.purgeAt });

    // the next run finds nothing more to do
    await world.cleanup();
    expect(world.lastOrphanReport()).toMatchObject({ environments: [], removed: 0 });
  }, 120_000);

  it("reclaims a task definition run by a repository's execution role of this installation, never another installation's", async () => {
    const [, partition, account] = /^arn:([^:]+):iam::(\d{12}):/.exec(process.env.FLEDGE_EXECUTION_ROLE_ARN!)!;
    const register = (name: string, role: string) => world.sim.call('ecs', 'RegisterTaskDefinition', {
      Family: `fledge-${name}`, NetworkMode: 'awsvpc', RequiresCompatibilities: ['FARGATE'], Cpu: '256', Memory: '512',
      ExecutionRoleArn: role,
      ContainerDefinitions: [{ Name: 'app', Image: 'nginx:1.27', Essential: true, PortMappings: [{ ContainerPort: 80 }] }],
      Tags: tags(name),
    });
    await register('orph-ownrole', secretExecutionRoleArn(partition!, account!, process.env.FLEDGE_INSTALLATION_ID!, 'acme/web', 'eu-west-1'));
    await register('orph-otherrole', secretExecutionRoleArn(partition!, account!, 'other', 'acme/web', 'eu-west-1'));
    expect(world.leftovers('orph-ownrole')).toHaveLength(1);

    expect((await world.cleanup()).execution.status).toBe('SUCCEEDED');
    expect(world.leftovers('orph-ownrole')).toEqual([]);
    // same tag, but another installation's role: not this installation's to remove
    expect(world.leftovers('orph-otherrole')).toHaveLength(1);
  }, 120_000);
});

describe('quotas', () => {
  it('counts sleeping environments, not deleted ones: 429 names the limit and count, and a delete makes room', async () => {
    process.env.FLEDGE_QUOTA_PER_REPOSITORY = '3';
    const { resetConfig } = await import('../../functions/runtime/config.ts');
    resetConfig();
    try {
      await createAll(['q-0', 'q-1', 'q-2'], () => ({ labels: { repository: 'acme/quota' } }));
      // q-2 sleeps (desired count 0): still live, still counted
      await dynamodbClient().send(new UpdateCommand({
        TableName: process.env.TABLE_NAME, Key: { pk: 'ENV#q-2', sk: 'ENV' },
        UpdateExpression: 'SET #s = :s, gsiStatusPk = :gs', ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'SLEEPING', ':gs': 'STATUS#SLEEPING' },
      }));
      const refused = await putEnvironment('q-3', spec({ labels: { repository: 'acme/quota' } }), ci).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(QuotaExceeded);
      expect((refused as QuotaExceeded).status).toBe(429);
      expect((refused as QuotaExceeded).message).toBe('at most 3 live environments are allowed for repository "acme/quota"; 3 exist');
      expect((refused as QuotaExceeded).extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 'repository', max: 3, current: 3 });
      expect(await world.item('q-3')).toBeUndefined();

      // hold q-2's teardown at its first AWS call, so it is DELETING for certain
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      world.awsHook = () => released;
      await deleteEnvironment('q-2', ci);
      // DELETING still counts
      expect((await world.item('q-2'))?.status).toBe('DELETING');
      expect(await putEnvironment('q-3', spec({ labels: { repository: 'acme/quota' } }), ci).catch((e: unknown) => e)).toBeInstanceOf(QuotaExceeded);
      world.awsHook = undefined;
      release();
      await world.settle('teardown');
      expect((await world.item('q-2'))?.status).toBe('DELETED');
      expect((await putEnvironment('q-3', spec({ labels: { repository: 'acme/quota' } }), ci)).outcome).toBe('created');
      await world.settle('create');
    } finally {
      process.env.FLEDGE_QUOTA_PER_REPOSITORY = '50';
      resetConfig();
    }
  }, 60_000);
});

describe('live environments against the quotas, as metrics', () => {
  it('each run reports the live counters, each repository with live environments, the quotas and the fullest quota in percent', async () => {
    clearRecordedMetrics();
    await createAll(['gauge-0', 'gauge-1', 'gauge-2'], () => ({ ttl: '72h', labels: { repository: 'acme/gauge' } }));
    expect(recordedMetrics().find((m) => m.name === 'WorkflowStarted' && m.dimensions.workflow === 'create')?.sum).toBe(3);

    const run = await world.cleanup();
    expect(run.execution.status).toBe('SUCCEEDED');
    const counters = await world.counters();
    const last = (name: string, dimensions: Record<string, string> = {}) =>
      recordedMetrics().find((m) => m.name === name && JSON.stringify(m.dimensions) === JSON.stringify(dimensions))?.last;
    expect(last('RepositoryLiveEnvironments', { repository: 'acme/gauge' })).toBe(3);
    expect(last('LiveEnvironments')).toBe(counters.total);
    expect(last('QuotaGlobal')).toBe(100);
    expect(last('QuotaPerRepository')).toBe(50);
    const repositories = Object.entries(counters).filter(([key]) => key.startsWith('repo#')).map(([, n]) => Number(n) / 50);
    expect(last('QuotaUsedPercent')).toBe(Math.round(Math.max(Number(counters.total) / 100, ...repositories) * 1000) / 10);
  }, 120_000);
});
