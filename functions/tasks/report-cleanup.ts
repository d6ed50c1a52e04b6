/** ReportCleanup (cleanup, last step): the run's summary; functions/commands/cleanup-steps.ts `reportCleanup`. */
import type { CleanupSummary } from '#domain/cleanup.ts';
import { reportCleanup, type ReportCleanupPayload } from '#commands/cleanup-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(payload: ReportCleanupPayload): Promise<CleanupSummary> {
  return reportCleanup(payload);
}

export const handler = taskHandler(handle);
