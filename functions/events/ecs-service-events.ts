/**
 * ECS service events (EventBridge) -> the workflow step waiting for steady state.
 *
 * Rule pattern: source `aws.ecs`, detail-type "ECS Service Action" (SERVICE_STEADY_STATE,
 * SERVICE_TASK_START_IMPAIRED) and "ECS Deployment State Change"
 * (SERVICE_DEPLOYMENT_COMPLETED, SERVICE_DEPLOYMENT_FAILED). The service ARN in `resources`
 * names the environment (service name = environment name); its item holds the task token
 * that AwaitSteadyState stored. Events are at-least-once and may arrive late or twice:
 * a success is confirmed against the service itself, and a token Step Functions no longer
 * knows (TaskTimedOut / InvalidToken) means the step is already done.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { logger } from '#commons/powertools.ts';
import { runtimeConfig } from '#commons/runtime-config.ts';
import { describeService } from '#adapters/fargate-resources.ts';
import { clearWaitToken, getEnvironmentItem } from '#adapters/operation-store.ts';
import { sendTaskFailure, sendTaskSuccess } from '#adapters/task-tokens.ts';

export interface EcsServiceEventDetail {
  eventType?: string;
  eventName?: string;
  clusterArn?: string;
  deploymentId?: string;
  reason?: string;
  updatedAt?: string;
  createdAt?: string;
}

export type EcsServiceEvent = EventBridgeEvent<string, EcsServiceEventDetail>;

export type Outcome = 'ignored' | 'no-waiter' | 'succeeded' | 'failed' | 'already-done' | 'not-steady';

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>` (or the old `service/<name>`). */
export function serviceNameOf(arn: string): string | undefined {
  const match = /:service\/(?:[^/]+\/)?([^/]+)$/.exec(arn);
  return match?.[1];
}

export async function handler(event: EcsServiceEvent): Promise<{ outcomes: Outcome[] }> {
  const eventName = event.detail?.eventName ?? '';
  const services = (event.resources ?? []).filter((arn) => arn.includes(':service/'));
  const outcomes: Outcome[] = [];
  for (const arn of services) {
    const name = serviceNameOf(arn);
    outcomes.push(name ? await handleServiceEvent(name, eventName, event.detail ?? {}) : 'ignored');
  }
  return { outcomes };
}

async function handleServiceEvent(name: string, eventName: string, detail: EcsServiceEventDetail): Promise<Outcome> {
  const log = logger.createChild({ persistentKeys: { environment: name, eventName } });
  if (!['SERVICE_STEADY_STATE', 'SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED', 'SERVICE_TASK_START_IMPAIRED'].includes(eventName)) {
    return 'ignored';
  }
  const item = await getEnvironmentItem(name);
  const token = item?.waitToken;
  if (!item || !token) {
    log.debug('no workflow step is waiting for this environment');
    return 'no-waiter';
  }
  const phase = item.waitPhase ?? 'update';
  let sent: boolean;
  if (eventName === 'SERVICE_STEADY_STATE' || eventName === 'SERVICE_DEPLOYMENT_COMPLETED') {
    // confirm: a late event of an earlier deployment must not complete the wait for this one
    const service = await describeService(runtimeConfig().clusterArn, name);
    const ours = !item.waitTaskDefinitionArn || service?.taskDefinitionArn === item.waitTaskDefinitionArn;
    if (!service || !ours || !(service.steady || eventName === 'SERVICE_DEPLOYMENT_COMPLETED')) {
      log.info('event does not (yet) mean our deployment is steady', { steady: service?.steady, ours });
      return 'not-steady';
    }
    sent = await sendTaskSuccess(token, {
      runningCount: service.runningCount,
      desiredCount: service.desiredCount,
      taskDefinitionArn: service.taskDefinitionArn,
    });
  } else if (eventName === 'SERVICE_DEPLOYMENT_FAILED') {
    // With a previous deployment the circuit breaker rolls back to it; a first deployment has none.
    const error = phase === 'create' ? 'DeploymentFailed' : 'DeploymentRolledBack';
    sent = await sendTaskFailure(token, error, detail.reason ?? 'the ECS deployment circuit breaker stopped the deployment');
  } else {
    // SERVICE_TASK_START_IMPAIRED: on a create nothing works yet, so fail fast; on an
    // update the circuit breaker decides (and rolls back), so keep waiting for it; a scale
    // (more tasks of a deployment that completed) has no circuit breaker watching: fail fast.
    if (phase === 'update') return 'ignored';
    sent = await sendTaskFailure(token, 'TaskStartImpaired', detail.reason ?? 'ECS is unable to consistently start tasks successfully');
  }
  await clearWaitToken(name, token);
  log.info('waiting step answered', { sent });
  if (!sent) return 'already-done';
  return eventName === 'SERVICE_STEADY_STATE' || eventName === 'SERVICE_DEPLOYMENT_COMPLETED' ? 'succeeded' : 'failed';
}
