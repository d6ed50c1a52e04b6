/**
 * AwaitSteadyState (`lambda:invoke.waitForTaskToken`): stores the step's task token on the
 * environment, where functions/events/ecs-service-events.ts finds it when ECS reports the
 * deployment's outcome, and completes the step at once when the service is steady already
 * (the token is stored first, so an event arriving meanwhile is not lost either way).
 */
import { logger } from '#commons/powertools.ts';
import { runtimeConfig } from '#commons/runtime-config.ts';
import { describeService } from '#adapters/fargate-resources.ts';
import { clearWaitToken, storeWaitToken } from '#adapters/operation-store.ts';
import { sendTaskFailure, sendTaskSuccess } from '#adapters/task-tokens.ts';

export interface AwaitSteadyStatePayload {
  taskToken: string;
  name: string;
  operationId: string;
  /** create: nothing to roll back to; update: the circuit breaker rolls back to the previous deployment; scale: only the count changes */
  phase: 'create' | 'update' | 'scale';
  taskDefinitionArn?: string;
  executionArn?: string;
}

export async function handler(payload: AwaitSteadyStatePayload): Promise<{ waiting: boolean }> {
  const { taskToken, name, operationId, phase, taskDefinitionArn } = payload;
  logger.appendKeys({ environment: name, operationId, executionArn: payload.executionArn });
  const stored = await storeWaitToken(name, operationId, taskToken, phase, taskDefinitionArn);
  if (!stored) {
    await sendTaskFailure(taskToken, 'OperationSuperseded', `operation ${operationId} of "${name}" is no longer the current one`);
    return { waiting: false };
  }
  const service = await describeService(runtimeConfig().clusterArn, name);
  if (!service) {
    await sendTaskFailure(taskToken, 'ServiceNotFound', `the ECS service "${name}" does not exist`);
    await clearWaitToken(name, taskToken);
    return { waiting: false };
  }
  if (service.steady && (!taskDefinitionArn || service.taskDefinitionArn === taskDefinitionArn)) {
    logger.info('service already steady', { runningCount: service.runningCount });
    await sendTaskSuccess(taskToken, {
      runningCount: service.runningCount,
      desiredCount: service.desiredCount,
      taskDefinitionArn: service.taskDefinitionArn,
    });
    await clearWaitToken(name, taskToken);
    return { waiting: false };
  }
  logger.info('waiting for the service to become steady', { phase });
  return { waiting: true };
}
