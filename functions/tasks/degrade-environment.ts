/**
 * DegradeEnvironment (heal), and DegradeEnvironmentFallback when it failed itself (`fallback`):
 * functions/commands/heal-steps.ts `degradeEnvironment`, `degradeEnvironmentFallback`.
 */
import type { HealState } from '#domain/heal-state.ts';
import type { TaskPayload } from '#domain/workflow-state.ts';
import { degradeEnvironment, degradeEnvironmentFallback } from '#commands/heal-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state, fallback }: TaskPayload): Promise<HealState> {
  return fallback ? degradeEnvironmentFallback(state as HealState) : degradeEnvironment(state as HealState);
}

export const handler = taskHandler(handle);
