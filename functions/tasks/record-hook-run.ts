/** RecordHookRun (create, update, teardown): functions/commands/hook-steps.ts `recordHookRun`. */
import type { HookName } from '#domain/hooks.ts';
import type { TaskPayload, WorkflowState } from '#domain/workflow-state.ts';
import { recordHookRun } from '#commands/hook-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state, hook }: TaskPayload & { hook: HookName }): Promise<WorkflowState> {
  return recordHookRun(hook, state);
}

export const handler = taskHandler(handle);
