/**
 * The steps of the scheduled cleanup (statemachines/cleanup.asl.json):
 *
 * - PlanCleanup: what this run does. Expired environments come from the
 *   sparse expiry index (only the expired items are read), unsettled ones (a failed teardown,
 *   or a transitional status that has not moved for FLEDGE_CLEANUP_STUCK_AFTER) from the status
 *   index. At most FLEDGE_CLEANUP_MAX_PER_RUN of each; the next run picks up the rest.
 *
 *   The cleanup's "now" is the execution's start time (plus FLEDGE_LOCAL_CLOCK_OFFSET in local
 *   mode only), so every step of a run judges expiry against the same instant.
 * - CleanupEnvironment (one Map item): acts on one environment the plan
 *   named, through the same domain path as the API, as actor `system`:
 *   - `expire`: read the record again (the index is eventually consistent, and a PATCH may have
 *     extended the ttl); if it is still expired, unpinned and live, DELETE it with If-Match on
 *     the version just read, so a concurrent change wins and the next run decides again;
 *   - `retry-teardown`: a DELETING environment whose teardown failed is torn down again;
 *   - `recover`: an operation whose status has not moved for FLEDGE_CLEANUP_STUCK_AFTER is
 *     checked against Step Functions; if its execution no longer runs, the operation is lost:
 *     a create/update is marked FAILED (TIMEOUT), a scale settles RUNNING (SLEEPING when it
 *     went to 0), a heal DEGRADED, each with the TIMEOUT error; a teardown is started again.
 *   Every write is the domain's conditional write; the events say `system` did it and why.
 *   Errors other than "it changed meanwhile" are thrown: the workflow retries transient ones,
 *   then records the failure and goes on with the other environments.
 * - ReconcileOrphans: removes what Fledge created but no longer tracks, then collects the shared
 *   task definitions nothing uses any more (./task-definition-gc.ts).
 *
 *   1. List this installation's resources tagged `fledge:environment` (ECS services, target
 *      groups, listener rules; alarms and task definitions are only looked at closely when
 *      their name or dimensions do not already point at a live environment).
 *   2. Read the records of every environment named (consistent reads). An environment is an
 *      orphan owner when it has no record, a DELETED one, or one past its DynamoDB TTL.
 *      DELETING environments are left to their teardown.
 *   3. Per orphaned environment (at most FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN per run): read the
 *      record again right before acting (a PUT may have re-created it), skip resources younger
 *      than FLEDGE_CLEANUP_ORPHAN_GRACE or newer than the deletion, then remove rules, the
 *      service, alarms, target groups and task definitions, in that order; "not found" is
 *      done, anything else is left for the next run and reported.
 *   An untagged resource is never touched. Each orphaned environment gets an `orphans-removed`
 *   event in its history (purged with it); metrics count environments and resources.
 *   4. With per-environment DNS (more than one shard and a hosted zone): the zone's alias records
 *      `<name>.<baseDomain>` that name one of this installation's ALBs and whose environment is
 *      gone are deleted, 100 to a ChangeResourceRecordSets with backoff when throttled (Route 53's
 *      request and change-throughput buckets), after a last consistent read of their records.
 * - ReportCleanup (last step): one summary of the run for the logs, the
 *   metrics and the execution's output. A step that failed (collected by the Map's Catch) is
 *   counted here; the workflow then ends failed, so the failed-executions alarm says so, and
 *   the next run tries that environment again.
 */
import { cleanupConfig } from '#runtime/config.ts';
import { logger } from '#runtime/powertools.ts';
import { emitMetric } from '#runtime/metric-emitter.ts';
import { runtimeConfig } from '#runtime/config.ts';
import {
  SYSTEM_ACTOR, type CleanupItem, type CleanupItemResult, type CleanupPlan, type CleanupSummary, type OrphanEnvironmentReport, type OrphanReport,
} from '#domain/cleanup.ts';
import type { EnvironmentRecord } from '#domain/environment.ts';
import { Conflict, EnvironmentNotFound, PreconditionFailed } from '#domain/errors.ts';
import { environmentEvent } from '#domain/events.ts';
import { isPinned } from '#domain/pinning.ts';
import { publicErrorName } from '#domain/public-text.ts';
import { findExpired, findUnsettled, recordStates, type RecordState } from '#adapters/cleanup-store.ts';
import { getEnvironment, liveCountsByRepository } from '#adapters/environment-store.ts';
import { quotaUsedPercent } from '#domain/quota-usage.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { failOperation } from '#adapters/operation-store.ts';
import {
  alarmEnvironment, CallCounter, clusterServices, deleteAlarms, deleteRule, deleteService, deleteTargetGroup, deleteTaskDefinition,
  familyRevisions, fledgeAlarms, fledgeRules, fledgeServices, fledgeTargetGroups, fledgeTaskDefinitionFamilies,
  FLEDGE_PREFIX, ownedTaskDefinition, serviceTaskDefinitions, type InstallationScope, type RemovalOutcome, type TaggedResource,
} from '#adapters/tagged-resources.ts';
import { executionStatus } from '#adapters/workflow-starter.ts';
import { deleteAliasRecords, listRecordsUnder } from '#adapters/dns-records.ts';
import { environmentOfRecord, type AliasRecord } from '#domain/dns-records.ts';
import { deleteEnvironment, type TenantCaller } from './environment-commands.ts';
import { collectTaskDefinitions, realTime, type Pacing } from './task-definition-gc.ts';

// ---- PlanCleanup ----------------------------------------------------------------------

export interface PlanCleanupPayload {
  executionStartTime: string;
  executionName: string;
}

export async function planCleanup(payload: PlanCleanupPayload): Promise<CleanupPlan> {
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
  emitMetric('CleanupExpiredFound', count('expire'));
  emitMetric('CleanupUnsettledFound', count('retry-teardown') + count('recover'));
  emitMetric('CleanupItemsRead', expired.cost.itemsRead + unsettled.cost.itemsRead);
  await reportLiveCounts(config);
  logger.info('cleanup planned', {
    asOf, expired: count('expire'), retryTeardown: count('retry-teardown'), recover: count('recover'),
    more: expired.more, itemsRead: { expiry: expired.cost.itemsRead, unsettled: unsettled.cost.itemsRead },
  });
  return { asOf, executionName: payload.executionName, items, more: expired.more, reads: { expiry: expired.cost, unsettled: unsettled.cost } };
}

/**
 * The live counters against the quotas, as gauges for the operator's dashboard and its
 * quota alarm: each run reads the one counter item (a consistent GetItem) and publishes them.
 */
async function reportLiveCounts(config: { quotaGlobal: number; quotaPerRepository: number }): Promise<void> {
  const counts = await liveCountsByRepository();
  emitMetric('LiveEnvironments', counts.total);
  for (const [repository, live] of Object.entries(counts.repositories)) {
    // a repository with nothing live any more is not reported: its metric simply stops
    if (live > 0) emitMetric('RepositoryLiveEnvironments', live, { repository });
  }
  emitMetric('QuotaGlobal', config.quotaGlobal);
  emitMetric('QuotaPerRepository', config.quotaPerRepository);
  emitMetric('QuotaUsedPercent', quotaUsedPercent(counts, { global: config.quotaGlobal, perRepository: config.quotaPerRepository }));
}

// ---- CleanupEnvironment ----------------------------------------------------------------------

export async function cleanupEnvironment(item: CleanupItem): Promise<CleanupItemResult> {
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
async function statusOfExecution(record: EnvironmentRecord): Promise<string> {
  const { workflow, executionName } = record.operation ?? {};
  return workflow && executionName ? executionStatus(workflow, executionName) : 'MISSING';
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
  const status = await statusOfExecution(record);
  if (status === 'RUNNING') return result('skipped', `its ${operation.type} execution is still running`);

  const now = new Date().toISOString();
  const message = `the ${operation.type} operation ${operation.id} has not moved since ${record.updatedAt} and its workflow execution is ${status === 'MISSING' ? 'unknown to Step Functions' : status}: the operation is lost`;
  const recorded = await failOperation({
    name: record.name,
    operationId: operation.id,
    status: settled,
    error: { code: 'TIMEOUT', message },
    now,
    events: [environmentEvent({ at: now, type: 'operation-lost', message, operationId: operation.id, actor: SYSTEM_ACTOR, details: { executionStatus: status } })],
  });
  if (!recorded) return result('skipped', 'the operation finished or changed meanwhile');
  if (settled !== 'DELETING') return result('operation-failed', `${message}; the environment is now ${settled}`, operation.id);
  // failOperation bumped the version by one: the teardown is started on exactly that version
  return teardown('the previous teardown was lost; re-driven by the scheduled cleanup', 'teardown-restarted', record.version + 1);
}

// ---- ReconcileOrphans ----------------------------------------------------------------------

export interface ReconcileOrphansPayload {
  asOf: string;
  executionName: string;
}

/** Shared, content-addressed task definition families (functions/domain/resource-plan.ts): not per environment. */
const SHARED_FAMILY_PREFIX = 'fledge-td-';

/** Stop starting new environments after this long; the next run goes on (Lambda timeout: 5 min). */
const TIME_BUDGET_MS = 150_000;
/** The shared task definitions' collection stops starting calls this long after the step began (a minute before the Lambda timeout). */
const TASK_DEFINITION_BUDGET_MS = 240_000;
/** ECS accepts about 5 service mutations a second per account; stay under it. */
const ECS_MUTATION_INTERVAL_MS = 250;

const REMOVAL_ORDER: TaggedResource['type'][] = ['listener-rule', 'ecs-service', 'alarm', 'target-group', 'task-definition'];

function isLive(record: RecordState | undefined, nowSeconds: number): boolean {
  if (!record) return false;
  if (typeof record.purgeAt === 'number' && record.purgeAt <= nowSeconds) return false;
  return record.status !== 'DELETED';
}

export async function reconcileOrphans(payload: ReconcileOrphansPayload, pacing: Pacing = realTime): Promise<OrphanReport> {
  const started = Date.now();
  const pacingStarted = pacing.now();
  const runtime = runtimeConfig();
  const config = cleanupConfig();
  const scope: InstallationScope = {
    installationId: runtime.installationId,
    clusterArn: runtime.clusterArn,
    shards: runtime.shards,
    vpcId: process.env.FLEDGE_VPC_ID || undefined,
    executionRoleArn: runtime.executionRoleArn,
  };
  const counter = new CallCounter();
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  // 1. what carries the tag (services, target groups, rules: tags come in batches)
  const [described, targetGroups, rules, alarms, families] = await Promise.all([
    clusterServices(scope, counter),
    fledgeTargetGroups(scope, counter),
    fledgeRules(scope, counter),
    fledgeAlarms(scope, counter),
    fledgeTaskDefinitionFamilies(counter),
  ]);
  const services = fledgeServices(described);
  const byEnvironment = new Map<string, TaggedResource[]>();
  const add = (resource: TaggedResource) => byEnvironment.set(resource.environment, [...(byEnvironment.get(resource.environment) ?? []), resource]);
  [...services, ...targetGroups, ...rules].forEach(add);

  // 2. the records of every environment named by a tag, an alarm's dimensions or a family
  const records = new Map<string, RecordState>();
  const checked = new Set<string>();
  let recordsRead = 0;
  const load = async (names: Iterable<string>) => {
    const missing = [...new Set(names)].filter((n) => !records.has(n) && !checked.has(n));
    missing.forEach((n) => checked.add(n));
    recordsRead += missing.length;
    if (missing.length) for (const [name, state] of await recordStates(missing)) records.set(name, state);
  };
  const familyEnvironment = (family: string) => family.slice(FLEDGE_PREFIX.length);
  const perEnvironmentFamilies = families.filter((f) => !f.startsWith(SHARED_FAMILY_PREFIX));
  await load([...byEnvironment.keys(), ...alarms.flatMap((a) => (a.hint ? [a.hint] : [])), ...perEnvironmentFamilies.map(familyEnvironment)]);
  const live = (name: string) => isLive(records.get(name), nowSeconds());

  // alarms and task definitions: their tag is read only when they may be orphans
  for (const alarm of alarms) {
    if (alarm.hint && live(alarm.hint)) continue;
    const environment = await alarmEnvironment(alarm.arn, counter);
    if (!environment) continue;
    await load([environment]);
    // no creation time: CloudWatch only says when the configuration last changed
    if (!live(environment)) add({ type: 'alarm', arn: alarm.arn, name: alarm.name, environment });
  }
  for (const family of families) {
    // content-addressed task definitions (fledge-td-<hash>) are shared and carry no environment tag
    if (family.startsWith(SHARED_FAMILY_PREFIX) || live(familyEnvironment(family))) continue;
    for (const arn of await familyRevisions(family, counter)) {
      const owned = await ownedTaskDefinition(arn, scope, counter);
      if (!owned) continue;
      await load([owned.environment]);
      if (!live(owned.environment)) add(owned);
    }
  }

  // 3. remove, environment by environment
  const orphaned = [...byEnvironment.keys()].filter((name) => !live(name)).sort();
  const report: OrphanReport = { environments: [], removed: 0, pending: 0, awsCalls: 0, recordsRead: 0, more: false };
  let lastEcsMutation = 0;
  const paceEcs = async () => {
    const wait = lastEcsMutation + ECS_MUTATION_INTERVAL_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastEcsMutation = Date.now();
  };
  const graceEnd = new Date(Date.parse(payload.asOf) - config.orphanGraceMs).toISOString();

  for (const [index, environment] of orphaned.entries()) {
    if (index >= config.maxOrphanEnvironmentsPerRun || Date.now() - started > TIME_BUDGET_MS) {
      report.more = true;
      break;
    }
    // a PUT may have created the environment anew since the records were read
    const fresh = (await recordStates([environment], true)).get(environment);
    recordsRead += 1;
    if (isLive(fresh, nowSeconds())) continue;
    const entry: OrphanEnvironmentReport = { environment, record: fresh && fresh.status === 'DELETED' ? 'DELETED' : 'unknown', removed: [], pending: [] };
    const deletedAt = fresh?.status === 'DELETED' ? fresh.updatedAt : undefined;
    const resources = (byEnvironment.get(environment) ?? []).filter((r) => {
      if (r.createdAt && r.createdAt > graceEnd) return false; // too young to judge
      if (r.createdAt && deletedAt && r.createdAt > deletedAt) return false; // newer than the deletion
      return true;
    });
    const ordered = REMOVAL_ORDER.flatMap((type) => resources.filter((r) => r.type === type));
    const alarmsToDelete = ordered.filter((r) => r.type === 'alarm');
    const attempt = async (resources: TaggedResource[], remove: () => Promise<RemovalOutcome>) => {
      try {
        await remove();
        for (const r of resources) entry.removed.push({ type: r.type, arn: r.arn });
      } catch (error) {
        // the event (GET .../events) names the error only; AWS's message goes to the log
        const { name, message } = error as Error;
        logger.warn('an orphaned resource could not be removed', { environment, resources: resources.map((r) => r.arn), error: { name, message } });
        for (const r of resources) entry.pending.push({ type: r.type, arn: r.arn, error: publicErrorName(name) ?? 'Error' });
      }
    };
    let alarmsDone = false;
    for (const resource of ordered) {
      switch (resource.type) {
        case 'listener-rule':
          await attempt([resource], () => deleteRule(resource.arn));
          break;
        case 'ecs-service':
          await paceEcs();
          await attempt([resource], () => deleteService(scope.clusterArn, resource.arn));
          break;
        case 'alarm':
          // all of the environment's alarms in one call (up to 100 per call)
          if (alarmsDone) break;
          alarmsDone = true;
          for (let i = 0; i < alarmsToDelete.length; i += 100) {
            const batch = alarmsToDelete.slice(i, i + 100);
            await attempt(batch, () => deleteAlarms(batch.map((a) => a.name!)));
          }
          break;
        case 'target-group':
          await attempt([resource], () => deleteTargetGroup(resource.arn));
          break;
        case 'task-definition':
          await paceEcs();
          await attempt([resource], () => deleteTaskDefinition(resource));
          break;
      }
    }
    if (entry.removed.length === 0 && entry.pending.length === 0) continue;
    report.environments.push(entry);
    report.removed += entry.removed.length;
    report.pending += entry.pending.length;

    const at = new Date().toISOString();
    const purgeAt = fresh?.purgeAt ?? Math.floor((Date.now() + runtime.deletedRetentionMs) / 1000);
    const removedText = entry.removed.map((r) => r.arn).join(', ');
    await appendEvents(
      environment,
      [environmentEvent({
        at,
        type: 'orphans-removed',
        message:
          `resources tagged for this ${entry.record === 'DELETED' ? 'deleted' : 'unknown'} environment were left behind; ` +
          `the scheduled cleanup removed ${entry.removed.length}${removedText ? `: ${removedText}` : ''}` +
          (entry.pending.length ? `; ${entry.pending.length} could not be removed yet (retried next run)` : ''),
        actor: SYSTEM_ACTOR,
        details: { removed: entry.removed, pending: entry.pending, execution: payload.executionName },
      })],
      purgeAt,
    );
    logger.warn('orphaned resources removed', { environment, record: entry.record, removed: entry.removed.length, pending: entry.pending.length });
  }

  if (runtime.perEnvironmentDns && runtime.hostedZoneId) {
    recordsRead += await sweepAliasRecords({ hostedZoneId: runtime.hostedZoneId, baseDomain: runtime.baseDomain, shards: runtime.shards }, report, {
      counter, deletedRetentionMs: runtime.deletedRetentionMs, executionName: payload.executionName, nowSeconds,
    });
  }

  // last, the shared task definitions no live environment, service or recent plan uses (docs/design.md "Shared task definitions")
  // its failure does not lose what the orphans' removal did: it is reported, and the run ends failed
  report.taskDefinitions = await collectTaskDefinitions({
    scope, running: serviceTaskDefinitions(described), asOf: payload.asOf, graceMs: config.taskDefinitionGraceMs,
    deadline: pacingStarted + TASK_DEFINITION_BUDGET_MS, counter, pacing,
  }).catch((error: Error) => {
    logger.error('the collection of shared task definitions failed; the next run goes on', { error: { name: error.name, message: error.message } });
    return { deregistered: 0, deleted: 0, kept: 0, pending: 0, throttled: 0, more: true, removed: [], error: `${error.name}: ${error.message}` };
  });

  report.awsCalls = counter.calls;
  report.recordsRead = recordsRead;
  emitMetric('OrphanEnvironments', report.environments.length);
  emitMetric('OrphanResourcesRemoved', report.removed);
  emitMetric('OrphanResourcesPending', report.pending);
  emitMetric('TaskDefinitionsDeregistered', report.taskDefinitions.deregistered);
  emitMetric('TaskDefinitionsDeleted', report.taskDefinitions.deleted);
  emitMetric('TaskDefinitionsPending', report.taskDefinitions.pending);
  logger.info('orphan reconciliation done', {
    environments: report.environments.length, removed: report.removed, pending: report.pending, awsCalls: report.awsCalls, recordsRead,
    tagged: { services: services.length, targetGroups: targetGroups.length, rules: rules.length, alarms: alarms.length, families: families.length },
  });
  return report;
}

/**
 * Step 4 of ReconcileOrphans: alias records of environments that are gone. Records have no
 * creation time, so there is no grace period: a record exists only between a create's
 * CreateDnsRecord and its teardown, while the environment is live (or DELETING: left to its
 * teardown). Returns the environment records read.
 */
async function sweepAliasRecords(
  zone: { hostedZoneId: string; baseDomain: string; shards: RuntimeShards },
  report: OrphanReport,
  run: { counter: CallCounter; deletedRetentionMs: number; executionName: string; nowSeconds: () => number },
): Promise<number> {
  const byEnvironment = new Map<string, AliasRecord[]>();
  for (const record of await listRecordsUnder(zone.hostedZoneId, zone.baseDomain, run.counter)) {
    const environment = environmentOfRecord(record, zone.baseDomain, zone.shards);
    if (environment) byEnvironment.set(environment, [...(byEnvironment.get(environment) ?? []), record]);
  }
  if (byEnvironment.size === 0) return 0;
  // consistent reads right before deleting: a PUT may have created an environment since the listing
  const states = await recordStates([...byEnvironment.keys()], true);
  const orphans = [...byEnvironment.entries()].filter(([name]) => !isLive(states.get(name), run.nowSeconds())).sort(([a], [b]) => a.localeCompare(b));
  if (orphans.length === 0) return byEnvironment.size;
  const outcome = await deleteAliasRecords(zone.hostedZoneId, orphans.flatMap(([, records]) => records), run.counter);
  const deleted = new Set(outcome.deleted);
  let error: string | undefined;
  if (outcome.failure) {
    const { name, message } = outcome.failure;
    const records = orphans.reduce((sum, [, r]) => sum + r.length, 0);
    logger.warn('orphaned alias records could not all be removed', { records, deleted: deleted.size, error: { name, message } });
    error = publicErrorName(name) ?? 'Error';
  }
  for (const [environment, records] of orphans) {
    const fresh = states.get(environment);
    const entry: OrphanEnvironmentReport = { environment, record: fresh?.status === 'DELETED' ? 'DELETED' : 'unknown', removed: [], pending: [] };
    for (const record of records) {
      const name = record.Name.toLowerCase();
      if (deleted.has(name.endsWith('.') ? name : `${name}.`)) entry.removed.push({ type: 'dns-record', arn: record.Name });
      else entry.pending.push({ type: 'dns-record', arn: record.Name, error: error ?? 'Error' });
    }
    report.environments.push(entry);
    report.removed += entry.removed.length;
    report.pending += entry.pending.length;
    const purgeAt = fresh?.purgeAt ?? Math.floor((Date.now() + run.deletedRetentionMs) / 1000);
    await appendEvents(
      environment,
      [environmentEvent({
        at: new Date().toISOString(),
        type: 'orphans-removed',
        message:
          `the DNS record of this ${entry.record === 'DELETED' ? 'deleted' : 'unknown'} environment was left behind; ` +
          (entry.removed.length ? `the scheduled cleanup removed ${entry.removed.map((r) => r.arn).join(', ')}` : 'it could not be removed yet (retried next run)'),
        actor: SYSTEM_ACTOR,
        details: { removed: entry.removed, pending: entry.pending, execution: run.executionName },
      })],
      purgeAt,
    );
  }
  logger.warn('orphaned alias records swept', { environments: orphans.length, removed: deleted.size });
  return byEnvironment.size;
}

type RuntimeShards = ReturnType<typeof runtimeConfig>['shards'];

// ---- ReportCleanup ----------------------------------------------------------------------

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
  if (orphans?.taskDefinitions?.error) {
    results.push({ name: '*', action: 'collect-task-definitions', outcome: 'failed', detail: orphans.taskDefinitions.error });
  }
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
    taskDefinitionsDeregistered: orphans?.taskDefinitions?.deregistered ?? 0,
    taskDefinitionsDeleted: orphans?.taskDefinitions?.deleted ?? 0,
    itemsRead: state.reads.expiry.itemsRead + state.reads.unsettled.itemsRead,
    more: state.more || Boolean(orphans?.more) || Boolean(orphans?.taskDefinitions?.more),
  };
}

export async function reportCleanup(payload: ReportCleanupPayload): Promise<CleanupSummary> {
  const summary = summarize(payload);
  emitMetric('CleanupTeardownsStarted', summary.teardownsStarted);
  emitMetric('CleanupTeardownsRestarted', summary.teardownsRestarted);
  emitMetric('CleanupOperationsFailed', summary.operationsFailed);
  emitMetric('CleanupFailures', summary.failed);
  if (summary.failed > 0) {
    logger.error('cleanup run incomplete: some environments could not be handled; the next run tries again', {
      ...summary, failures: summary.failures.map((f) => ({ name: f.name, action: f.action, detail: f.detail })),
    });
  } else {
    logger.info('cleanup run done', { ...summary });
  }
  return summary;
}
