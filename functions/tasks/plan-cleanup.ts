/**
 * PlanCleanup (cleanup workflow): what this run does. Expired environments come from the
 * sparse expiry index (only the expired items are read), unsettled ones (a failed teardown,
 * or a transitional status that has not moved for FLEDGE_CLEANUP_STUCK_AFTER) from the status
 * index. At most FLEDGE_CLEANUP_MAX_PER_RUN of each; the next run picks up the rest.
 *
 * The cleanup's "now" is the execution's start time (plus FLEDGE_LOCAL_CLOCK_OFFSET in local
 * mode only), so every step of a run judges expiry against the same instant.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { cleanupConfig } from '#runtime/config.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import type { CleanupItem, CleanupPlan } from '#domain/cleanup.ts';
import { findExpired, findUnsettled } from '#adapters/cleanup-store.ts';
import { taskHandler } from '#lambda/task-handler.ts';

export interface PlanCleanupPayload {
  executionStartTime: string;
  executionName: string;
}

async function handle(payload: PlanCleanupPayload): Promise<CleanupPlan> {
  const config = cleanupConfig();
  const started = Date.parse(payload.executionStartTime);
  if (Number.isNaN(started)) throw new Error(`executionStartTime is not a time: ${payload.executionStartTime}`);
  const asOf = new Date(started + config.clockOffsetMs).toISOString();
  const stuckBefore = new Date(started + config.clockOffsetMs - config.stuckAfterMs).toISOString();

  const expired = await findExpired(asOf, config.maxPerRun);
  const unsettled = await findUnsettled(stuckBefore, config.maxPerRun);
  const item = (name: string, action: CleanupItem['action']): CleanupItem => ({ name, action, asOf, executionName: payload.executionName });
  const items = expired.items.map((e) => item(e.name, 'expire'));
  const planned = new Set(items.map((i) => i.name));
  for (const env of unsettled.items) {
    if (planned.has(env.name)) continue; // an expired environment is torn down, whatever runs
    const failedTeardown = env.status === 'DELETING' && env.operation?.type === 'teardown' && env.operation.status === 'FAILED';
    items.push(item(env.name, failedTeardown ? 'retry-teardown' : 'recover'));
    planned.add(env.name);
  }

  const count = (action: CleanupItem['action']) => items.filter((i) => i.action === action).length;
  metrics.addMetric('CleanupExpiredFound', MetricUnit.Count, count('expire'));
  metrics.addMetric('CleanupUnsettledFound', MetricUnit.Count, count('retry-teardown') + count('recover'));
  metrics.addMetric('CleanupItemsRead', MetricUnit.Count, expired.cost.itemsRead + unsettled.cost.itemsRead);
  logger.info('cleanup planned', {
    asOf, expired: count('expire'), retryTeardown: count('retry-teardown'), recover: count('recover'),
    more: expired.more, itemsRead: { expiry: expired.cost.itemsRead, unsettled: unsettled.cost.itemsRead },
  });
  return { asOf, executionName: payload.executionName, items, more: expired.more, reads: { expiry: expired.cost, unsettled: unsettled.cost } };
}

export const handler = taskHandler(handle);
