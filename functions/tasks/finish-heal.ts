/** FinishHeal (heal): the end of one reconcile pass; functions/commands/heal-steps.ts `finishHealPass`. */
import type { HealState } from '#domain/heal-state.ts';
import type { TaskPayload } from '#domain/workflow-state.ts';
import { finishHealPass } from '#commands/heal-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle({ state }: TaskPayload): Promise<HealState> {
  return finishHealPass(state as HealState);
}

export const handler = taskHandler(handle);
