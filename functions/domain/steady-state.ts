/**
 * When is a workflow's wait for an ECS service over? One judgement, used by the step that
 * waits (AwaitSteadyState, functions/commands/deploy-steps.ts, which also polls) and by the ECS event
 * handler (functions/events/ecs-service-events.ts), so an event and a poll can never disagree.
 *
 * What AWS guarantees, and therefore what this must survive:
 * - EventBridge delivers at least once, unordered, sometimes late, and events can be lost to
 *   the consumer (Lambda async retries exhausted): "Amazon EventBridge events" and "Retrying
 *   events" in the EventBridge user guide.
 * - `SERVICE_STEADY_STATE` is reported periodically, so it may arrive many times and long
 *   after the change it seems to confirm ("Amazon ECS service action events").
 * - DescribeServices is eventually consistent: right after CreateService it may answer MISSING,
 *   and right after UpdateService it may still show the previous deployment ("Amazon ECS API
 *   reference: eventual consistency").
 * - A circuit-breaker rollback starts a new PRIMARY deployment of the previous task definition,
 *   and the failed one ends with rolloutState FAILED ("Deployment circuit breaker").
 *
 * So a success needs the service itself to show *our* deployment steady at the expected count;
 * a service that is not visible yet is waited for (for a while); a deployment of our task
 * definition in FAILED, or a PRIMARY deployment of another definition created after the wait
 * began, is a failure or a rollback.
 */

export type WaitPhase = 'create' | 'update' | 'scale';

export interface DeploymentView {
  id?: string;
  status?: string;
  taskDefinitionArn?: string;
  rolloutState?: string;
  rolloutStateReason?: string;
  createdAt?: string;
}

export interface ServiceView {
  status: string;
  desiredCount: number;
  runningCount: number;
  /** task definition of the PRIMARY deployment */
  taskDefinitionArn?: string;
  /** a single deployment that completed, at its desired count */
  steady: boolean;
  deployments: DeploymentView[];
}

export interface WaitExpectation {
  phase: WaitPhase;
  /** the task definition the wait is for (absent: whatever the service runs) */
  taskDefinitionArn?: string;
  /** the desired count the wait is for (absent: whatever the service wants) */
  desiredCount?: number;
  /** when this wait began (ISO): deployments created later are not ours */
  startedAt: string;
  /** the deployment the wait is for, when known (a forced new deployment keeps the task definition and the count) */
  deploymentId?: string;
}

export type WaitError = 'DeploymentFailed' | 'DeploymentRolledBack' | 'ServiceNotFound' | 'TaskStartImpaired';

export type SteadyVerdict =
  | { kind: 'steady' }
  | { kind: 'waiting'; reason: string }
  | { kind: 'failed'; error: WaitError; cause: string };

/** How long a service may stay invisible to DescribeServices after the wait began. */
export const MISSING_SERVICE_GRACE_MS = 60_000;

const ROLLING_BACK = /rolling back/i;

export function judgeService(service: ServiceView | undefined, expected: WaitExpectation, nowMs: number): SteadyVerdict {
  if (!service) {
    const missingFor = nowMs - Date.parse(expected.startedAt);
    if (missingFor > MISSING_SERVICE_GRACE_MS) {
      return { kind: 'failed', error: 'ServiceNotFound', cause: 'the ECS service does not exist' };
    }
    return { kind: 'waiting', reason: 'the service is not visible yet (DescribeServices is eventually consistent)' };
  }
  if (service.status === 'DRAINING' || service.status === 'INACTIVE') {
    return { kind: 'failed', error: 'ServiceNotFound', cause: 'the ECS service was deleted while the workflow waited for it' };
  }
  const primary = service.deployments.find((d) => d.status === 'PRIMARY') ?? service.deployments[0];
  const wanted = expected.taskDefinitionArn;
  const { deploymentId } = expected;
  if (wanted || deploymentId) {
    // ours: the deployment the wait is for (by id when known: a forced deployment keeps the task definition)
    const isOurs = (d: DeploymentView) => (deploymentId ? d.id === deploymentId : d.taskDefinitionArn === wanted);
    const ours = service.deployments.find(isOurs);
    const rolledBack = primary !== undefined && !isOurs(primary) && createdSince(primary, expected.startedAt, ours);
    if (ours?.rolloutState === 'FAILED' || rolledBack) {
      const reason = ours?.rolloutStateReason ?? primary?.rolloutStateReason ?? 'the ECS deployment circuit breaker stopped the deployment';
      // a first deployment has nothing to return to; an update's circuit breaker rolls back
      if (expected.phase === 'create' || !rolledBack) return { kind: 'failed', error: 'DeploymentFailed', cause: reason };
      return { kind: 'failed', error: 'DeploymentRolledBack', cause: reason };
    }
    if (!primary || !isOurs(primary)) {
      return { kind: 'waiting', reason: deploymentId ? 'the service does not show the new deployment yet' : 'the service does not show this deployment yet' };
    }
  } else if (primary?.rolloutState === 'FAILED') {
    return { kind: 'failed', error: 'DeploymentFailed', cause: primary.rolloutStateReason ?? 'the ECS deployment failed' };
  }
  if (expected.desiredCount !== undefined && service.desiredCount !== expected.desiredCount) {
    return { kind: 'waiting', reason: `the service does not show the desired count ${expected.desiredCount} yet` };
  }
  if (!service.steady) return { kind: 'waiting', reason: 'the deployment is not steady yet' };
  return { kind: 'steady' };
}

/**
 * A PRIMARY deployment of another task definition is a rollback when it began after our
 * wait did (nothing else deploys while an operation runs), or says it is one, or when our
 * own deployment is still listed behind it.
 */
function createdSince(primary: DeploymentView, startedAt: string, ours: DeploymentView | undefined): boolean {
  if (ROLLING_BACK.test(primary.rolloutStateReason ?? '')) return true;
  if (ours && ours !== primary) return true;
  const created = primary.createdAt ? Date.parse(primary.createdAt) : Number.NaN;
  return Number.isFinite(created) && created >= Date.parse(startedAt);
}

/**
 * A deleted ECS service stays DRAINING until its tasks stop, and its name cannot be used
 * again meanwhile. Thrown by the steps that must wait for that (a teardown before DELETED, a
 * create of the same name); their state's Retry asks again, bounded.
 */
export class ServiceStillDraining extends Error {
  override name = 'ServiceStillDraining';
}
