/** PlanCleanup (cleanup): what this run does; functions/commands/cleanup-steps.ts `planCleanup`. */
import type { CleanupPlan } from '#domain/cleanup.ts';
import { planCleanup, type PlanCleanupPayload } from '#commands/cleanup-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(payload: PlanCleanupPayload): Promise<CleanupPlan> {
  return planCleanup(payload);
}

export const handler = taskHandler(handle);
