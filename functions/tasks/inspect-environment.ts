/** InspectEnvironment (heal): one reconcile pass's look; functions/commands/heal-steps.ts `inspectEnvironment`. */
import type { HealState } from '#domain/heal-state.ts';
import type { TaskPayload } from '#domain/workflow-state.ts';
import { inspectEnvironment } from '#commands/heal-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state }: TaskPayload): Promise<HealState> {
  return inspectEnvironment(state as HealState);
}

export const handler = taskHandler(handle);
