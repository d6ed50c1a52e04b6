/** CleanupEnvironment (cleanup, one Map item): functions/commands/cleanup-steps.ts `cleanupEnvironment`. */
import type { CleanupItem, CleanupItemResult } from '#domain/cleanup.ts';
import { cleanupEnvironment } from '#commands/cleanup-steps.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(item: CleanupItem): Promise<CleanupItemResult> {
  return cleanupEnvironment(item);
}

export const handler = taskHandler(handle);
