/**
 * AwaitSteadyState (`lambda:invoke.waitForTaskToken`): the step that waits until the ECS
 * service is steady with this operation's deployment. It completes two ways, whichever comes
 * first, both judged by functions/domain/steady-state.ts:
 * - **the event**: it stores the step's task token on the environment, where
 *   functions/events/ecs-service-events.ts finds it when ECS reports the deployment's outcome;
 * - **the poll**: every entry reads the service itself and answers at once when the service
 *   is steady, failed or rolled back. The state's TimeoutSeconds is the poll interval and its
 *   Retry on `States.Timeout` enters it again (bounded by MaxAttempts: the whole wait's
 *   backstop), so a lost or late event costs one interval, not the workflow.
 * The token is stored before the service is read, so an event arriving meanwhile is not lost.
 */
import { logger } from '#runtime/powertools.ts';
import { runtimeConfig } from '#runtime/config.ts';
import { judgeService, type WaitPhase } from '#domain/steady-state.ts';
import { describeService } from '#adapters/fargate-resources.ts';
import { getEnvironmentItem, storeWaitToken } from '#adapters/operation-store.ts';
import { answerWait, sendTaskFailure } from '#adapters/task-tokens.ts';
import { taskHandler } from '#lambda/task-handler.ts';

export interface AwaitSteadyStatePayload {
  taskToken: string;
  name: string;
  operationId: string;
  /** create: nothing to roll back to; update: the circuit breaker rolls back to the previous deployment; scale: only the count changes */
  phase: WaitPhase;
  taskDefinitionArn?: string;
  /** the count the wait is for (a lagging read of the previous count is not success); ignored with autoscaling, which moves it */
  desiredCount?: number;
  /**
   * the heal's state (its WaitForSteadyState passes it whole): the deployment its CreateService or
   * UpdateService started, which is the one to wait for (a forced deployment keeps the task
   * definition and the count, so a lagging read of the one it replaces would look steady too)
   */
  repairs?: { service?: { deploymentId?: string | string[] }; done?: { service?: { deploymentId?: string | string[] } } };
  /** which pass of the workflow this is (heal): a new pass is a new wait */
  pass?: number;
  executionArn?: string;
}

export type AwaitOutcome = 'waiting' | 'steady' | 'failed' | 'superseded';

async function handle(payload: AwaitSteadyStatePayload): Promise<{ waiting: boolean; outcome: AwaitOutcome }> {
  const { taskToken, name, operationId, phase, taskDefinitionArn } = payload;
  // the PRIMARY deployment's id, as a JSONPath filter gives it: a list of one
  const started = payload.repairs?.done?.service?.deploymentId ?? payload.repairs?.service?.deploymentId;
  const deploymentId = Array.isArray(started) ? started[0] : started;
  const current = await getEnvironmentItem(name);
  // a deploy of an autoscaled environment keeps the count autoscaling chose, which may move
  // during the deployment (scale-out continues): only a scale (or a heal's restored count) waits for an exact one
  const desiredCount = current?.spec?.autoscaling && phase !== 'scale' ? undefined : payload.desiredCount;
  const { stored, startedAt } = await storeWaitToken(name, operationId, taskToken, phase, taskDefinitionArn, desiredCount, { deploymentId, pass: payload.pass, current });
  if (!stored) {
    await sendTaskFailure(taskToken, 'OperationSuperseded', `operation ${operationId} of "${name}" is no longer the current one`);
    return { waiting: false, outcome: 'superseded' };
  }
  const service = await describeService(runtimeConfig().clusterArn, name);
  const verdict = judgeService(service, { phase, taskDefinitionArn, desiredCount, startedAt, deploymentId }, Date.now());
  if (verdict.kind === 'waiting') {
    logger.info('waiting for the service to become steady', { phase, reason: verdict.reason, waitStartedAt: startedAt });
    return { waiting: true, outcome: 'waiting' };
  }
  logger.info(verdict.kind === 'steady' ? 'service steady' : 'the wait ends in a failure', {
    runningCount: service?.runningCount,
    ...(verdict.kind === 'failed' ? { error: verdict.error, cause: verdict.cause } : {}),
  });
  await answerWait(name, taskToken, verdict, service);
  return { waiting: false, outcome: verdict.kind };
}

export const handler = taskHandler(handle);
