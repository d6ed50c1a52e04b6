/**
 * CleanupEnvironment (cleanup workflow, one Map item): acts on one environment the plan
 * named, through the same domain path as the API, as actor `system`:
 * - `expire`: read the record again (the index is eventually consistent, and a PATCH may have
 *   extended the ttl); if it is still expired, unpinned and live, DELETE it with If-Match on
 *   the version just read, so a concurrent change wins and the next run decides again;
 * - `retry-teardown`: a DELETING environment whose teardown failed is torn down again;
 * - `recover`: an operation whose status has not moved for FLEDGE_CLEANUP_STUCK_AFTER is
 *   checked against Step Functions; if its execution no longer runs, the operation is lost:
 *   a create/update is marked FAILED (TIMEOUT), a scale settles RUNNING (SLEEPING when it
 *   went to 0), a heal DEGRADED, each with the TIMEOUT error; a teardown is started again.
 * Every write is the domain's conditional write; the events say `system` did it and why.
 * Errors other than "it changed meanwhile" are thrown: the workflow retries transient ones,
 * then records the failure and goes on with the other environments.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { cleanupConfig } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import { SYSTEM_ACTOR, type CleanupItem, type CleanupItemResult } from '#domain/cleanup.ts';
import type { EnvironmentRecord } from '#domain/environment.ts';
import { deleteEnvironment, type TenantCaller } from '#commands/environment-commands.ts';
import { Conflict, EnvironmentNotFound, PreconditionFailed } from '#domain/errors.ts';
import { isPinned } from '#domain/pinning.ts';
import { getEnvironment } from '#adapters/environment-store.ts';
import { failOperation } from '#adapters/operation-store.ts';
import { sfnClient } from '#adapters/clients/sfn.ts';
import { executionArnFor } from '#adapters/workflow-starter.ts';
import { taskHandler } from '#lambda/task-handler.ts';

async function handle(item: CleanupItem): Promise<CleanupItemResult> {
  logger.appendKeys({ environment: item.name, executionName: item.executionName, action: item.action });
  // the cleanup acts as an operator: it tears down any repository's expired environments
  const caller: TenantCaller = { actor: SYSTEM_ACTOR, requestId: item.executionName, principal: { kind: 'operator', actor: SYSTEM_ACTOR } };
  const result = (outcome: CleanupItemResult['outcome'], detail?: string, operationId?: string): CleanupItemResult => {
    logger.info('cleanup step', { outcome, detail });
    return { name: item.name, action: item.action, outcome, ...(detail ? { detail } : {}), ...(operationId ? { operationId } : {}) };
  };
  const record = await getEnvironment(item.name);
  if (!record) return result('skipped', 'the environment no longer exists');

  /** DELETE through the domain, If-Match on the version this step judged. */
  const teardown = async (reason: string, outcome: 'teardown-started' | 'teardown-restarted', version = record.version) => {
    try {
      const done = await deleteEnvironment(item.name, caller, String(version), reason);
      if (done.outcome !== 'started') return result('skipped', `the environment is ${done.record.status}`);
      return result(outcome, reason, done.record.operation?.id);
    } catch (error) {
      if (error instanceof PreconditionFailed || error instanceof Conflict || error instanceof EnvironmentNotFound) {
        return result('skipped', 'the environment changed while the cleanup decided; the next run looks again');
      }
      throw error;
    }
  };

  switch (item.action) {
    case 'expire': {
      if (record.status === 'DELETED' || record.status === 'DELETING') return result('skipped', `the environment is ${record.status}`);
      if (isPinned(record.spec)) return result('skipped', 'the environment is pinned');
      if (record.expiresAt >= item.asOf) return result('skipped', `its ttl was extended to ${record.expiresAt}`);
      return teardown(`expired at ${record.expiresAt} (ttl ${record.spec.ttl}); removed by the scheduled cleanup`, 'teardown-started');
    }
    case 'retry-teardown': {
      if (record.status !== 'DELETING' || record.operation?.type !== 'teardown' || record.operation.status !== 'FAILED') {
        return result('skipped', `the environment is ${record.status} (operation ${record.operation?.status ?? 'none'})`);
      }
      return teardown('the previous teardown failed; retried by the scheduled cleanup', 'teardown-restarted');
    }
    case 'recover':
      return recover(item, record, result, teardown);
  }
}

type Result = (outcome: CleanupItemResult['outcome'], detail?: string, operationId?: string) => CleanupItemResult;
type Teardown = (reason: string, outcome: 'teardown-started' | 'teardown-restarted', version?: number) => Promise<CleanupItemResult>;

/** The status of the operation's execution, or `MISSING` when Step Functions does not know it. */
async function executionStatus(record: EnvironmentRecord): Promise<string> {
  const { workflow, executionName } = record.operation ?? {};
  if (!workflow || !executionName) return 'MISSING';
  try {
    const described = await sfnClient().send(new DescribeExecutionCommand({ executionArn: executionArnFor(workflow, executionName) }));
    return String(described.status ?? 'UNKNOWN');
  } catch (error) {
    if ((error as Error).name === 'ExecutionDoesNotExist') return 'MISSING';
    throw error;
  }
}

/**
 * Where an environment whose operation was lost settles (README "Using the API" transitions): a create or
 * update FAILED (a PUT retries it); a teardown stays DELETING and is re-driven; a scale
 * RUNNING, or SLEEPING when it was going to 0 (the next scale or heal reconciles what
 * exists); a heal DEGRADED, so it is seen, and a manual heal or an update starts afresh.
 * Undefined for statuses that have no operation to lose.
 */
function settledStatusOfLost(record: EnvironmentRecord): 'FAILED' | 'DELETING' | 'RUNNING' | 'SLEEPING' | 'DEGRADED' | undefined {
  switch (record.status) {
    case 'CREATING':
    case 'UPDATING':
      return 'FAILED';
    case 'DELETING':
      return 'DELETING';
    case 'SCALING':
      return record.spec.desiredCount === 0 ? 'SLEEPING' : 'RUNNING';
    case 'HEALING':
      return 'DEGRADED';
    default:
      return undefined;
  }
}

async function recover(item: CleanupItem, record: EnvironmentRecord, result: Result, teardown: Teardown): Promise<CleanupItemResult> {
  const operation = record.operation;
  const settled = settledStatusOfLost(record);
  if (!settled || !operation || operation.status !== 'RUNNING') {
    return result('skipped', `the environment is ${record.status} (operation ${operation?.status ?? 'none'})`);
  }
  const stuckBefore = new Date(Date.parse(item.asOf) - cleanupConfig().stuckAfterMs).toISOString();
  if (record.updatedAt >= stuckBefore) return result('skipped', 'the environment moved meanwhile');
  const status = await executionStatus(record);
  if (status === 'RUNNING') return result('skipped', `its ${operation.type} execution is still running`);

  const now = new Date().toISOString();
  const message = `the ${operation.type} operation ${operation.id} has not moved since ${record.updatedAt} and its workflow execution is ${status === 'MISSING' ? 'unknown to Step Functions' : status}: the operation is lost`;
  const recorded = await failOperation({
    name: record.name,
    operationId: operation.id,
    status: settled,
    error: { code: 'TIMEOUT', message },
    now,
    events: [{ at: now, type: 'operation-lost', message, operationId: operation.id, actor: SYSTEM_ACTOR, details: { executionStatus: status } }],
  });
  if (!recorded) return result('skipped', 'the operation finished or changed meanwhile');
  if (settled !== 'DELETING') return result('operation-failed', `${message}; the environment is now ${settled}`, operation.id);
  // failOperation bumped the version by one: the teardown is started on exactly that version
  return teardown('the previous teardown was lost; re-driven by the scheduled cleanup', 'teardown-restarted', record.version + 1);
}

export const handler = taskHandler(handle);
