/** PlanResources (create, update): functions/commands/deploy-steps.ts `planResources`. */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { planResources } from '#commands/deploy-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ workflow, state }: TaskPayload): Promise<WorkflowState> {
  return planResources(workflow, state);
}

export const handler = taskHandler(handle);
