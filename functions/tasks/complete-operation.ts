/**
 * CompleteOperation (create, update): the deployment is steady or rolled back; converge to a
 * newer spec or end the operation (functions/commands/deploy-steps.ts `completeOperation`).
 */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { completeOperation } from '#commands/deploy-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ workflow, state }: TaskPayload): Promise<WorkflowState> {
  return completeOperation(workflow, state);
}

export const handler = taskHandler(handle);
