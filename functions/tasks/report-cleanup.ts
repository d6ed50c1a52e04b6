/**
 * ReportCleanup (cleanup workflow, last step): one summary of the run for the logs, the
 * metrics and the execution's output. A step that failed (collected by the Map's Catch) is
 * counted here; the workflow then ends failed, so the failed-executions alarm says so, and
 * the next run tries that environment again.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger, metrics } from '#runtime/powertools.ts';
import type { CleanupItemResult, CleanupPlan, CleanupSummary, OrphanReport } from '#domain/cleanup.ts';
import { taskHandler } from '#lambda/task-handler.ts';

/** The workflow state at the end of a run. */
export interface ReportCleanupPayload {
  state: CleanupPlan & {
    results?: CleanupItemResult[];
    orphans?: { report: OrphanReport };
    /** set by the Catch of ReconcileOrphans */
    orphansError?: { Error?: string; Cause?: string };
  };
}

export function summarize({ state }: ReportCleanupPayload): CleanupSummary {
  const results = [...(state.results ?? [])];
  if (state.orphansError) {
    results.push({ name: '*', action: 'reconcile-orphans', outcome: 'failed', detail: `${state.orphansError.Error}: ${state.orphansError.Cause}` });
  }
  const orphans = state.orphans?.report;
  const count = (outcome: CleanupItemResult['outcome']) => results.filter((r) => r.outcome === outcome).length;
  const failures = results.filter((r) => r.outcome === 'failed');
  return {
    asOf: state.asOf,
    planned: state.results?.length ?? 0,
    teardownsStarted: count('teardown-started'),
    teardownsRestarted: count('teardown-restarted'),
    operationsFailed: count('operation-failed'),
    skipped: count('skipped'),
    failed: failures.length,
    failures,
    orphanEnvironments: orphans?.environments.length ?? 0,
    orphanResourcesRemoved: orphans?.removed ?? 0,
    orphanResourcesPending: orphans?.pending ?? 0,
    itemsRead: state.reads.expiry.itemsRead + state.reads.unsettled.itemsRead,
    more: state.more || Boolean(orphans?.more),
  };
}

async function handle(payload: ReportCleanupPayload): Promise<CleanupSummary> {
  const summary = summarize(payload);
  metrics.addMetric('CleanupTeardownsStarted', MetricUnit.Count, summary.teardownsStarted);
  metrics.addMetric('CleanupTeardownsRestarted', MetricUnit.Count, summary.teardownsRestarted);
  metrics.addMetric('CleanupOperationsFailed', MetricUnit.Count, summary.operationsFailed);
  metrics.addMetric('CleanupFailures', MetricUnit.Count, summary.failed);
  if (summary.failed > 0) {
    logger.error('cleanup run incomplete: some environments could not be handled; the next run tries again', {
      ...summary, failures: summary.failures.map((f) => ({ name: f.name, action: f.action, detail: f.detail })),
    });
  } else {
    logger.info('cleanup run done', { ...summary });
  }
  return summary;
}

export const handler = taskHandler(handle);
