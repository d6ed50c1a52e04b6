/** DiscoverResources (teardown): functions/commands/teardown-steps.ts `discoverResources`. */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { discoverResources } from '#commands/teardown-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state }: TaskPayload): Promise<WorkflowState> {
  return discoverResources(state);
}

export const handler = taskHandler(handle);
