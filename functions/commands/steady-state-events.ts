/**
 * An ECS service event about environment `name` -> the workflow step waiting for steady state
 * (functions/events/ecs-service-events.ts parses the events). Its item holds the task token
 * that AwaitSteadyState stored. Events are at-least-once and may arrive late or twice: a
 * success is confirmed against the service itself, and a token Step Functions no longer knows
 * (TaskTimedOut / InvalidToken) means the step is already done.
 */
import { logger } from '#runtime/powertools.ts';
import { runtimeConfig } from '#runtime/config.ts';
import { judgeService, type SteadyVerdict, type WaitExpectation } from '#domain/steady-state.ts';
import { describeService, type ServiceState } from '#adapters/fargate-resources.ts';
import { getEnvironmentItem } from '#adapters/operation-store.ts';
import { answerWait } from '#adapters/task-tokens.ts';

export interface EcsServiceEventDetail {
  eventType?: string;
  eventName?: string;
  clusterArn?: string;
  deploymentId?: string;
  reason?: string;
  updatedAt?: string;
  createdAt?: string;
}

export type Outcome = 'ignored' | 'no-waiter' | 'succeeded' | 'failed' | 'already-done' | 'not-steady';

/** A lagging read gets this many more looks, this far apart, before the poll is left to finish the wait. */
const CONFIRM_ATTEMPTS = 3;
const CONFIRM_DELAY_MS = 1_000;

export async function answerWaitingStep(name: string, eventName: string, detail: EcsServiceEventDetail, time: string | undefined): Promise<Outcome> {
  const log = logger.createChild({ persistentKeys: { environment: name, eventName } });
  if (!WAIT_EVENTS.has(eventName)) return 'ignored';
  for (let attempt = 1; ; attempt++) {
    const item = await getEnvironmentItem(name);
    const token = item?.waitToken;
    if (!item || !token) {
      log.debug('no workflow step is waiting for this environment');
      return 'no-waiter';
    }
    const phase = item.waitPhase ?? 'update';
    if (eventName === 'SERVICE_TASK_START_IMPAIRED' && phase === 'update') {
      // on an update the circuit breaker decides (and rolls back): keep waiting for it
      return 'ignored';
    }
    const service = await describeService(runtimeConfig().clusterArn, name);
    const expected = {
      phase,
      taskDefinitionArn: item.waitTaskDefinitionArn,
      desiredCount: item.waitDesiredCount,
      deploymentId: item.waitDeploymentId,
      startedAt: item.waitStartedAt ?? new Date(0).toISOString(),
    };
    const verdict = verdictFor(eventName, detail, time, service, expected);
    if (verdict.kind === 'waiting') {
      if (attempt < CONFIRM_ATTEMPTS) {
        await new Promise((resolve) => setTimeout(resolve, CONFIRM_DELAY_MS * attempt));
        continue;
      }
      // the waiting step polls the service itself: a read that lags past these looks costs one poll interval
      log.info('event does not (yet) mean our deployment is done', { reason: verdict.reason });
      return 'not-steady';
    }
    const sent = await answerWait(name, token, verdict, service);
    log.info('waiting step answered', { sent, verdict: verdict.kind });
    if (!sent) return 'already-done';
    return verdict.kind === 'steady' ? 'succeeded' : 'failed';
  }
}

const WAIT_EVENTS = new Set(['SERVICE_STEADY_STATE', 'SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED', 'SERVICE_TASK_START_IMPAIRED']);

/**
 * What an event means for the waiting step, always checked against the service itself
 * (functions/domain/steady-state.ts): a late or duplicated event of an earlier deployment
 * must not answer this one. Two events say more than a read can:
 * - SERVICE_DEPLOYMENT_FAILED of a deployment the read does not show (a lagging read) is
 *   trusted; of a deployment the read shows running another task definition, ignored;
 * - SERVICE_TASK_START_IMPAIRED on a create or a scale (no circuit breaker will roll back to
 *   a working deployment) fails the wait at once rather than at the backstop.
 */
function verdictFor(
  eventName: string,
  detail: EcsServiceEventDetail,
  time: string | undefined,
  service: ServiceState | undefined,
  expected: WaitExpectation,
): SteadyVerdict {
  // a service the read does not show yet is the waiting step's own poll to judge, not an event's
  const judged: SteadyVerdict = service ? judgeService(service, expected, Date.now()) : { kind: 'waiting', reason: 'the service is not visible yet' };
  if (judged.kind !== 'waiting') return judged;
  // A failure from before this wait began belongs to an earlier deployment (a late or redelivered
  // event: EventBridge delivers at least once, and retries for up to the rule's maximum event age)
  const happened = Date.parse(detail.updatedAt ?? detail.createdAt ?? time ?? '');
  if (happened < Date.parse(expected.startedAt)) return { kind: 'waiting', reason: `a ${eventName} from before this wait began` };
  if (eventName === 'SERVICE_DEPLOYMENT_FAILED') {
    const failed = service?.deployments.find((d) => d.id === detail.deploymentId);
    if (failed && expected.taskDefinitionArn && failed.taskDefinitionArn !== expected.taskDefinitionArn) {
      return { kind: 'waiting', reason: 'the failed deployment is an earlier one' };
    }
    const reason = detail.reason ?? 'the ECS deployment circuit breaker stopped the deployment';
    // with a previous deployment the circuit breaker rolls back to it; a first deployment has none
    return expected.phase === 'create'
      ? { kind: 'failed', error: 'DeploymentFailed', cause: reason }
      : { kind: 'failed', error: 'DeploymentRolledBack', cause: reason };
  }
  if (eventName === 'SERVICE_TASK_START_IMPAIRED') {
    return { kind: 'failed', error: 'TaskStartImpaired', cause: detail.reason ?? 'ECS is unable to consistently start tasks successfully' };
  }
  return judged;
}
