/**
 * AwaitSteadyState (`lambda:invoke.waitForTaskToken`; create, update, scale, heal): waits until
 * the ECS service is steady with this operation's deployment (functions/commands/deploy-steps.ts
 * `awaitSteadyState`).
 */
import { awaitSteadyState, type AwaitOutcome, type SteadyStateWait } from '#commands/deploy-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

/** What the state sends: the wait, with the heal's deployment where its state carries it. */
export interface AwaitSteadyStatePayload extends Omit<SteadyStateWait, 'deploymentId'> {
  /**
   * the heal's state (its AwaitSteadyState passes it whole): the deployment its CreateService or
   * UpdateService started, which is the one to wait for (a forced deployment keeps the task
   * definition and the count, so a lagging read of the one it replaces would look steady too)
   */
  repairs?: { service?: { deploymentId?: string | string[] }; done?: { service?: { deploymentId?: string | string[] } } };
  executionArn?: string;
}

async function handle(payload: AwaitSteadyStatePayload): Promise<{ waiting: boolean; outcome: AwaitOutcome }> {
  const { taskToken, name, operationId, phase, taskDefinitionArn, desiredCount, pass } = payload;
  // the PRIMARY deployment's id, as a JSONPath filter gives it: a list of one
  const started = payload.repairs?.done?.service?.deploymentId ?? payload.repairs?.service?.deploymentId;
  const deploymentId = Array.isArray(started) ? started[0] : started;
  return awaitSteadyState({ taskToken, name, operationId, phase, taskDefinitionArn, desiredCount, deploymentId, pass });
}

export const handler = taskHandler(handle);
