/**
 * FailOperation (every workflow, after compensation), and FailOperationFallback when it failed
 * itself (`fallback`): functions/commands/deploy-steps.ts `failOperation`, `failOperationFallback`.
 */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { failOperation, failOperationFallback } from '#commands/deploy-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ workflow, state, fallback }: TaskPayload): Promise<WorkflowState> {
  return fallback ? failOperationFallback(workflow, state) : failOperation(workflow, state);
}

export const handler = taskHandler(handle);
