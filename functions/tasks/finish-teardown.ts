/** FinishTeardown (teardown): DELETED with a receipt, once the service is gone; functions/commands/teardown-steps.ts `finishTeardown`. */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { finishTeardown } from '#commands/teardown-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state }: TaskPayload): Promise<WorkflowState> {
  return finishTeardown(state);
}

export const handler = taskHandler(handle);
