/** PlanScale (scale): functions/commands/scale-steps.ts `planScale`. */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { planScale } from '#commands/scale-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state }: TaskPayload): Promise<WorkflowState> {
  return planScale(state);
}

export const handler = taskHandler(handle);
