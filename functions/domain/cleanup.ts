/**
 * The scheduled cleanup's vocabulary (statemachines/cleanup.asl.json): what the plan asks
 * the per-environment step to do, what each step reports, and the run's summary.
 */

/** The actor of everything the schedule does (README "Using the API"). */
export const SYSTEM_ACTOR = 'system';

/**
 * - `expire`: the environment is past `expiresAt`: tear it down (the same path as a DELETE);
 * - `retry-teardown`: its teardown failed (it stays DELETING): start the teardown again;
 * - `recover`: its status has not moved for long: if the workflow execution is gone, fail
 *   the operation (CREATING/UPDATING) or re-drive the teardown (DELETING).
 */
export type CleanupAction = 'expire' | 'retry-teardown' | 'recover';

export interface CleanupItem {
  name: string;
  action: CleanupAction;
  /** the cleanup's "now" (execution start time) */
  asOf: string;
  executionName: string;
}

export type CleanupOutcome =
  | 'teardown-started' // expired: the teardown workflow runs
  | 'teardown-restarted' // a failed or lost teardown runs again
  | 'operation-failed' // a lost create/update was marked FAILED (TIMEOUT)
  | 'skipped' // nothing to do any more (changed meanwhile, pinned, ttl extended, execution alive)
  | 'failed'; // this step failed; the next run tries again

export interface CleanupItemResult {
  name: string;
  /** `reconcile-orphans` when the orphan step itself failed, `collect-task-definitions` when its collection of shared task definitions did */
  action: CleanupAction | 'reconcile-orphans' | 'collect-task-definitions';
  outcome: CleanupOutcome;
  detail?: string;
  operationId?: string;
}

export interface CleanupPlan {
  asOf: string;
  executionName: string;
  items: CleanupItem[];
  /** more expired environments than one run handles: the next run goes on */
  more: boolean;
  /** items DynamoDB read to plan the run, and requests made */
  reads: { expiry: { itemsRead: number; requests: number }; unsettled: { itemsRead: number; requests: number } };
}

export interface OrphanEnvironmentReport {
  environment: string;
  /** what the table says: no record at all, or a DELETED one */
  record: 'unknown' | 'DELETED';
  removed: { type: string; arn: string }[];
  /** left for the next run (e.g. a target group still in use) or failed */
  pending: { type: string; arn: string; error: string }[];
}

/** What one run did to the shared task definitions (functions/domain/task-definition-gc.ts). */
export interface TaskDefinitionCollection {
  /** ACTIVE revisions deregistered */
  deregistered: number;
  /** INACTIVE revisions deleted (DELETE_IN_PROGRESS until nothing references them) */
  deleted: number;
  /** revisions in use (a service, a live environment, a recent pick or registration) or not this installation's */
  kept: number;
  /** revisions whose call failed or stayed throttled: the next run tries again */
  pending: number;
  /** calls AWS throttled (each retried after a backoff) */
  throttled: number;
  /** candidates left when the run's time ran out */
  more: boolean;
  /** the deleted revisions (the first 50) */
  removed: string[];
  /** why the collection stopped short (`<error name>: <message>`): the run ends failed, the next run goes on */
  error?: string;
}

export interface OrphanReport {
  environments: OrphanEnvironmentReport[];
  removed: number;
  pending: number;
  /** AWS calls made to find them (list, describe, tags) */
  awsCalls: number;
  /** environment records read (the owners named by tags; eventually consistent, once more before acting) */
  recordsRead: number;
  /** more orphaned environments than one run handles */
  more: boolean;
  /** the shared task definitions collected after the orphans */
  taskDefinitions?: TaskDefinitionCollection;
}

export interface CleanupSummary {
  asOf: string;
  planned: number;
  teardownsStarted: number;
  teardownsRestarted: number;
  operationsFailed: number;
  skipped: number;
  failed: number;
  failures: CleanupItemResult[];
  orphanEnvironments: number;
  orphanResourcesRemoved: number;
  orphanResourcesPending: number;
  taskDefinitionsDeregistered: number;
  taskDefinitionsDeleted: number;
  itemsRead: number;
  more: boolean;
}
