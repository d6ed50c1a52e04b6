/**
 * The cleanup in local mode, end to end over HTTP (`npm start -- --in-memory` as a child):
 * the schedule runs the real cleanup workflow every 2 s here (FLEDGE_CLEANUP_INTERVAL), and
 * the cleanup's clock runs 50 s ahead (FLEDGE_LOCAL_CLOCK_OFFSET, honoured in local mode
 * only), so a 1-minute ttl passes ~10 s after a create instead of a minute. Quotas are low
 * (2 per repository) so the 429 is reachable.
 */
import { describe, expect, it } from 'vitest';
import { awsCallRetried, reached, useLocalServer } from './local-api.ts';

const local = useLocalServer({
  FLEDGE_CLEANUP_INTERVAL: '2s',
  FLEDGE_LOCAL_CLOCK_OFFSET: '50s',
  FLEDGE_CLEANUP_ORPHAN_GRACE: '0s',
  FLEDGE_QUOTA_PER_REPOSITORY: '2',
});
const api = (method: string, path: string, body?: unknown) => local.api(method, path, { body });

/** Reads until `done` holds; fails with the last value seen. */
const until = <T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000) => reached(read, done, timeoutMs, 200, what);

const environment = (name: string) => api('GET', `/v1/environments/${name}`);
const statusOf = async (name: string) => (await environment(name)).body?.status as string | undefined;
const resources = async () => (await api('GET', '/_local/resources')).body as {
  services: { name: string; environment: string; status: string }[];
  taskDefinitions: { family: string; environment?: string }[];
};

describe('cleanup in local mode', () => {
  it('removes an environment whose 1-minute ttl passed at the next run, and leaves the others', async () => {
    expect((await api('PUT', '/v1/environments/e2e-short', { image: 'nginx:1', ttl: '1m', labels: { repository: 'acme/ttl' } })).status).toBe(201);
    expect((await api('PUT', '/v1/environments/e2e-long', { image: 'nginx:1', labels: { repository: 'acme/ttl' } })).status).toBe(201);
    await until('e2e-short RUNNING', () => statusOf('e2e-short'), (s) => s === 'RUNNING' || s === 'DELETING' || s === 'DELETED', 30_000);
    await until('e2e-long RUNNING', () => statusOf('e2e-long'), (s) => s === 'RUNNING', 30_000);

    const gone = await until('e2e-short DELETED', () => environment('e2e-short'), (a) => a.body?.status === 'DELETED', 60_000);
    expect(gone.body.expiresAt < new Date(Date.now() + 50_000).toISOString()).toBe(true);
    const events = (await api('GET', '/v1/environments/e2e-short/events')).body.items as { type: string; actor: string; message: string }[];
    const requested = events.find((e) => e.type === 'delete-requested')!;
    expect(requested.actor).toBe('system');
    expect(requested.message).toMatch(/expired at .* \(ttl 1m\); removed by the scheduled cleanup/);
    expect(events[0]!.type).toBe('deleted');
    await until('e2e-short resources gone', resources, (r) => !r.services.some((s) => s.environment === 'e2e-short'), 15_000);

    // the 72h environment went through the same runs untouched
    const long = await environment('e2e-long');
    expect(long.body.status).toBe('RUNNING');
    const longEvents = (await api('GET', '/v1/environments/e2e-long/events')).body.items as { actor: string }[];
    expect(longEvents.some((e) => e.actor === 'system')).toBe(false);
  }, 120_000);

  it('removes a service created in the account with a Fledge tag and no record, and never an untagged one', async () => {
    const call = (service: string, action: string, params: unknown) => awsCallRetried(local.api, service, action, params);
    const executionRole = 'arn:aws:iam::000000000000:role/fledge-local-task-execution';
    const serviceFor = async (name: string, tags: { Key: string; Value: string }[]) => {
      const td = await call('ecs', 'RegisterTaskDefinition', {
        Family: `fledge-${name}`, NetworkMode: 'awsvpc', RequiresCompatibilities: ['FARGATE'], Cpu: '256', Memory: '512',
        ExecutionRoleArn: executionRole, ContainerDefinitions: [{ Name: 'app', Image: 'nginx:1', Essential: true }], Tags: tags,
      });
      expect(td.status, td.text).toBe(200);
      const service = await call('ecs', 'CreateService', {
        Cluster: 'fledge-local', ServiceName: name, TaskDefinition: td.body.TaskDefinition.TaskDefinitionArn, DesiredCount: 1, LaunchType: 'FARGATE',
        NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-0fledgelocal0001'], SecurityGroups: ['sg-0fledgelocal000001'] } },
        Tags: tags,
      });
      expect(service.status, service.text).toBe(200);
    };
    await serviceFor('e2e-ghost', [{ Key: 'fledge:environment', Value: 'e2e-ghost' }, { Key: 'fledge:managed-by', Value: 'fledge' }]);
    await serviceFor('e2e-bystander', [{ Key: 'team', Value: 'someone-else' }]);
    expect((await environment('e2e-ghost')).status).toBe(404);

    const after = await until(
      'the orphaned service and its task definition removed',
      resources,
      (r) => !r.services.some((s) => s.name === 'e2e-ghost') && !r.taskDefinitions.some((t) => t.family === 'fledge-e2e-ghost'),
      30_000,
    );
    expect(after.services.filter((s) => s.name === 'e2e-bystander').map((s) => s.status)).toEqual(['ACTIVE']);
    expect(after.taskDefinitions.filter((t) => t.family === 'fledge-e2e-bystander')).toHaveLength(1);
    // it was a scheduled cleanup run that did it
    const log = await api('GET', '/_local/executions');
    expect((log.body.items as { kind: string; status: string }[]).some((e) => e.kind === 'cleanup' && e.status === 'SUCCEEDED')).toBe(true);
  }, 60_000);

  it('refuses a create past the per-repository quota with a 429 naming the limit and count, and accepts it again after a delete', async () => {
    const spec = { image: 'nginx:1', labels: { repository: 'acme/quota' } };
    expect((await api('PUT', '/v1/environments/e2e-q1', spec)).status).toBe(201);
    expect((await api('PUT', '/v1/environments/e2e-q2', spec)).status).toBe(201);
    const refused = await api('PUT', '/v1/environments/e2e-q3', spec);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, title: 'Quota exceeded', limit: 'repository', max: 2, current: 2, repository: 'acme/quota' });
    expect(refused.body.detail).toBe('at most 2 live environments are allowed for repository "acme/quota"; 2 exist');
    expect((await environment('e2e-q3')).status).toBe(404);

    expect((await api('DELETE', '/v1/environments/e2e-q1')).status).toBe(202);
    await until('e2e-q1 DELETED', () => statusOf('e2e-q1'), (s) => s === 'DELETED', 30_000);
    expect((await api('PUT', '/v1/environments/e2e-q3', spec)).status).toBe(201);
    await until('e2e-q3 RUNNING', () => statusOf('e2e-q3'), (s) => s === 'RUNNING', 30_000);
  }, 90_000);
});
