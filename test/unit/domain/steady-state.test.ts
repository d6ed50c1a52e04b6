import { describe, expect, it } from 'vitest';
import { judgeService, MISSING_SERVICE_GRACE_MS, type DeploymentView, type ServiceView } from '../../../functions/domain/steady-state.ts';

const TD1 = 'arn:aws:ecs:eu-west-1:000000000000:task-definition/fledge-td-a:1';
const TD2 = 'arn:aws:ecs:eu-west-1:000000000000:task-definition/fledge-td-b:1';
const STARTED = '2026-12-07T10:00:00.000Z';
const NOW = Date.parse(STARTED) + 5_000;

const deployment = (d: Partial<DeploymentView>): DeploymentView => ({
  id: 'ecs-svc/1', status: 'PRIMARY', taskDefinitionArn: TD2, rolloutState: 'IN_PROGRESS', createdAt: '2026-12-07T09:59:58.000Z', ...d,
});
const service = (s: Partial<ServiceView>): ServiceView => ({
  status: 'ACTIVE', desiredCount: 1, runningCount: 1, taskDefinitionArn: TD2, steady: false, deployments: [deployment({})], ...s,
});
const update = { phase: 'update' as const, taskDefinitionArn: TD2, startedAt: STARTED };

describe('judging a wait for steady state', () => {
  it('is steady only when the service shows our deployment completed at the expected count', () => {
    const done = service({ steady: true, deployments: [deployment({ rolloutState: 'COMPLETED' })] });
    expect(judgeService(done, update, NOW)).toEqual({ kind: 'steady' });
    expect(judgeService(done, { ...update, desiredCount: 3 }, NOW)).toMatchObject({ kind: 'waiting', reason: expect.stringMatching(/desired count 3/) });
    expect(judgeService(service({}), update, NOW)).toMatchObject({ kind: 'waiting' });
  });

  it('keeps waiting on a read that still shows the previous deployment steady (eventual consistency)', () => {
    const lagging = service({ steady: true, taskDefinitionArn: TD1, deployments: [deployment({ taskDefinitionArn: TD1, rolloutState: 'COMPLETED', createdAt: '2026-12-06T10:00:00.000Z' })] });
    expect(judgeService(lagging, update, NOW)).toMatchObject({ kind: 'waiting', reason: expect.stringMatching(/does not show this deployment/) });
  });

  it('waits for a service DescribeServices does not show yet, then calls it missing after the grace', () => {
    expect(judgeService(undefined, update, NOW)).toMatchObject({ kind: 'waiting' });
    expect(judgeService(undefined, update, Date.parse(STARTED) + MISSING_SERVICE_GRACE_MS + 1)).toMatchObject({ kind: 'failed', error: 'ServiceNotFound' });
  });

  it('after a forced new deployment (same definition, same count), only a read that shows that deployment counts', () => {
    const old = service({ steady: true, deployments: [deployment({ id: 'ecs-svc/old', rolloutState: 'COMPLETED' })] });
    expect(judgeService(old, { ...update, deploymentId: 'ecs-svc/new' }, NOW)).toMatchObject({ kind: 'waiting', reason: expect.stringMatching(/new deployment/) });
    const fresh = service({ steady: true, deployments: [deployment({ id: 'ecs-svc/new', rolloutState: 'COMPLETED' })] });
    expect(judgeService(fresh, { ...update, deploymentId: 'ecs-svc/new' }, NOW)).toEqual({ kind: 'steady' });
  });

  it('fails at once when the service is being deleted', () => {
    expect(judgeService(service({ status: 'DRAINING' }), update, NOW)).toMatchObject({ kind: 'failed', error: 'ServiceNotFound' });
  });

  it('sees a circuit-breaker rollback: our deployment FAILED behind a new PRIMARY of the previous definition', () => {
    const rollingBack = service({
      taskDefinitionArn: TD1,
      deployments: [
        deployment({ id: 'ecs-svc/2', taskDefinitionArn: TD1, createdAt: '2026-12-07T10:00:03.000Z', rolloutStateReason: 'ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/0.' }),
        deployment({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' }),
      ],
    });
    expect(judgeService(rollingBack, update, NOW)).toEqual({ kind: 'failed', error: 'DeploymentRolledBack', cause: 'ECS deployment circuit breaker: tasks failed to start.' });
  });

  it('sees a finished rollback too: only a PRIMARY of another definition, created after the wait began', () => {
    const rolledBack = service({ steady: true, taskDefinitionArn: TD1, deployments: [deployment({ taskDefinitionArn: TD1, rolloutState: 'COMPLETED', createdAt: '2026-12-07T10:00:04.000Z' })] });
    expect(judgeService(rolledBack, update, NOW)).toMatchObject({ kind: 'failed', error: 'DeploymentRolledBack' });
  });

  it('calls a failed first deployment DeploymentFailed: a create has nothing to roll back to', () => {
    const failed = service({ runningCount: 0, deployments: [deployment({ rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' })] });
    expect(judgeService(failed, { ...update, phase: 'create' }, NOW)).toEqual({ kind: 'failed', error: 'DeploymentFailed', cause: 'tasks failed to start' });
    expect(judgeService(failed, { phase: 'scale', startedAt: STARTED }, NOW)).toMatchObject({ kind: 'failed', error: 'DeploymentFailed' });
  });
});
