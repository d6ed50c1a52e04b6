/**
 * CompleteScale (scale): the end of a pass, and CompleteScaleFallback when recording a failure
 * failed itself (`fallback`): functions/commands/scale-steps.ts `completeScale`, `completeScaleFallback`.
 */
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { completeScale, completeScaleFallback } from '#commands/scale-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state, fallback }: TaskPayload): Promise<WorkflowState> {
  return fallback ? completeScaleFallback(state) : completeScale(state);
}

export const handler = taskHandler(handle);
