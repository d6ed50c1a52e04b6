/** ReconcileOrphans (cleanup): removes what Fledge created but no longer tracks; functions/commands/cleanup-steps.ts `reconcileOrphans`. */
import type { OrphanReport } from '#domain/cleanup.ts';
import { reconcileOrphans, type ReconcileOrphansPayload } from '#commands/cleanup-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(payload: ReconcileOrphansPayload): Promise<OrphanReport> {
  return reconcileOrphans(payload);
}

export const handler = taskHandler(handle);
