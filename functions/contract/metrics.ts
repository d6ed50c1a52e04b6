/**
 * Every metric Fledge publishes itself (namespace `Fledge`, Powertools Metrics' EMF), one entry
 * each: the code emits them only through functions/runtime/metric-emitter.ts `emitMetric`,
 * typed by this table, and infra/aws/observability.ts draws and alarms on them by these names,
 * so a widget cannot name a metric nobody publishes (test/infra/observability.test.ts).
 * Local mode shows what was emitted at `GET /_local/metrics` (infra/local/README.md).
 *
 * `dimensions`: the dimension set the dashboard and alarms read (with Powertools' `service`).
 * `detail`: a second, separate dimension set for drilling down (e.g. by route); a metric with
 * `detail` has at least one of `dimensions`, else its plain rollup would not be published.
 * Dimension values are bounded: route keys, workflow kinds, error codes, status classes, and
 * repositories (each one a custom metric while it has live environments).
 */
export type MetricUnitName = 'Count' | 'Milliseconds' | 'Percent';

export interface MetricDefinition {
  unit: MetricUnitName;
  dimensions: readonly string[];
  detail?: readonly string[];
  /** the file that emits it */
  emittedBy: string;
  description: string;
}

export const METRICS_NAMESPACE = 'Fledge';
/** Powertools' default dimension on every metric: POWERTOOLS_SERVICE_NAME (infra/aws/fledge-stack.ts). */
export const METRICS_SERVICE = 'fledge';

/** A count without dimensions, the most common kind. */
const count = (emittedBy: string, description: string) => ({ unit: 'Count', dimensions: [], emittedBy, description }) as const;

const CLEANUP = 'functions/commands/cleanup-steps.ts';
const API = 'functions/lambda/http-handler.ts';
const OUTCOME = 'functions/commands/workflow-outcome.ts';

export const METRICS = {
  // ---- the API
  ApiRequests: {
    unit: 'Count', dimensions: ['statusClass'], detail: ['route'], emittedBy: API,
    description: 'API answers by status class (2xx, 4xx, 5xx); by route in the detail set',
  },
  ApiLatency: {
    unit: 'Milliseconds', dimensions: [], emittedBy: API,
    description: 'time the API Lambda spent on a request, from parsing to the answer',
  },
  UnhandledErrors: count(API, 'requests that ended in an unexpected error (a 500)'),
  OperationsAccepted: {
    unit: 'Count', dimensions: ['operation'], emittedBy: 'functions/api/responses.ts',
    description: 'operations the API accepted (create, update, scale, heal, teardown...)',
  },
  // ---- the workflows
  WorkflowStarted: {
    unit: 'Count', dimensions: ['workflow'], emittedBy: 'functions/commands/launch.ts',
    description: 'workflow executions started (heals included: workflow=heal)',
  },
  WorkflowSucceeded: {
    unit: 'Count', dimensions: ['workflow'], emittedBy: OUTCOME,
    description: 'workflow operations that ended as asked',
  },
  UserFailures: {
    unit: 'Count', dimensions: ['workflow'], detail: ['code'], emittedBy: OUTCOME,
    description: "operations that failed for the user's image, app or spec (functions/domain/failure-side.ts): never paged",
  },
  ControlPlaneFailures: {
    unit: 'Count', dimensions: ['workflow'], detail: ['code'], emittedBy: OUTCOME,
    description: 'operations that failed for Fledge or AWS (INTERNAL, AWS_LIMIT): the operator acts',
  },
  Degraded: count(OUTCOME, 'environments the heal gave up on (DEGRADED)'),
  WakesByRequest: count('functions/events/waker.ts', 'sleeping environments woken by a request to their URL'),
  IdleSlept: count('functions/events/idle-sleep.ts', 'idle environments put to sleep'),
  // ---- live environments and quotas (a gauge each cleanup run)
  LiveEnvironments: count(CLEANUP, 'live environments (counted against the global quota)'),
  RepositoryLiveEnvironments: {
    unit: 'Count', dimensions: ['repository'], emittedBy: CLEANUP,
    description: "one repository's live environments (counted against the per-repository quota)",
  },
  QuotaGlobal: count(CLEANUP, 'the global quota of live environments (FLEDGE_QUOTA_GLOBAL)'),
  QuotaPerRepository: count(CLEANUP, 'the per-repository quota of live environments (FLEDGE_QUOTA_PER_REPOSITORY)'),
  QuotaUsedPercent: {
    unit: 'Percent', dimensions: [], emittedBy: CLEANUP,
    description: 'the fullest quota: the highest of live/global and any repository live/per-repository, in percent',
  },
  // ---- the scheduled cleanup
  CleanupExpiredFound: count(CLEANUP, 'expired environments a run found'),
  CleanupUnsettledFound: count(CLEANUP, 'stuck or failed teardowns a run found'),
  CleanupItemsRead: count(CLEANUP, 'table items a run read'),
  OrphanEnvironments: count(CLEANUP, 'environments with tagged resources but no record'),
  OrphanResourcesRemoved: count(CLEANUP, 'orphaned resources removed'),
  OrphanResourcesPending: count(CLEANUP, 'orphaned resources left for the next run'),
  TaskDefinitionsDeregistered: count(CLEANUP, 'unused shared task definition revisions deregistered'),
  TaskDefinitionsDeleted: count(CLEANUP, 'unused shared task definition revisions deleted'),
  TaskDefinitionsPending: count(CLEANUP, 'unused shared task definition revisions left for the next run (a call failed or stayed throttled)'),
  CleanupTeardownsStarted: count(CLEANUP, 'teardowns a run started'),
  CleanupTeardownsRestarted: count(CLEANUP, 'failed teardowns a run started again'),
  CleanupOperationsFailed: count(CLEANUP, 'stuck operations a run marked FAILED'),
  CleanupFailures: count(CLEANUP, 'environments a run could not handle'),
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

type DimensionKeys<N extends MetricName> =
  | (typeof METRICS)[N]['dimensions'][number]
  | ((typeof METRICS)[N] extends { detail: readonly (infer D)[] } ? D : never);

/** The dimension values a metric needs: exactly its `dimensions` and `detail` names. */
export type MetricDimensions<N extends MetricName> = { readonly [K in DimensionKeys<N> & string]: string };
