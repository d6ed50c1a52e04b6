/**
 * ReconcileOrphans (cleanup workflow): removes what Fledge created but no longer tracks.
 *
 * 1. List this installation's resources tagged `fledge:environment` (ECS services, target
 *    groups, listener rules; alarms and task definitions are only looked at closely when
 *    their name or dimensions do not already point at a live environment).
 * 2. Read the records of every environment named (consistent reads). An environment is an
 *    orphan owner when it has no record, a DELETED one, or one past its DynamoDB TTL.
 *    DELETING environments are left to their teardown.
 * 3. Per orphaned environment (at most FLEDGE_CLEANUP_MAX_ORPHANS_PER_RUN per run): read the
 *    record again right before acting (a PUT may have re-created it), skip resources younger
 *    than FLEDGE_CLEANUP_ORPHAN_GRACE or newer than the deletion, then remove rules, the
 *    service, alarms, target groups and task definitions, in that order; "not found" is
 *    done, anything else is left for the next run and reported.
 * An untagged resource is never touched. Each orphaned environment gets an `orphans-removed`
 * event in its history (purged with it); metrics count environments and resources.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { cleanupConfig, runtimeConfig } from '#runtime/config.ts';
import { logger, metrics } from '#runtime/powertools.ts';
import { SYSTEM_ACTOR, type OrphanEnvironmentReport, type OrphanReport } from '#domain/cleanup.ts';
import { publicErrorName } from '#domain/public-text.ts';
import { appendEvents } from '#adapters/event-log.ts';
import { recordStates, type RecordState } from '#adapters/cleanup-store.ts';
import {
  alarmEnvironment, CallCounter, deleteAlarms, deleteRule, deleteService, deleteTargetGroup, deleteTaskDefinition,
  familyRevisions, fledgeAlarms, fledgeRules, fledgeServices, fledgeTargetGroups, fledgeTaskDefinitionFamilies,
  FLEDGE_PREFIX, ownedTaskDefinition, type InstallationScope, type RemovalOutcome, type TaggedResource,
} from '#adapters/tagged-resources.ts';
import { taskHandler } from '#lambda/task-handler.ts';

export interface ReconcileOrphansPayload {
  asOf: string;
  executionName: string;
}

/** Shared, content-addressed task definition families (functions/domain/resource-plan.ts): not per environment. */
const SHARED_FAMILY_PREFIX = 'fledge-td-';

/** Stop starting new environments after this long; the next run goes on (Lambda timeout: 5 min). */
const TIME_BUDGET_MS = 150_000;
/** ECS accepts about 5 service mutations a second per account; stay under it. */
const ECS_MUTATION_INTERVAL_MS = 250;

const REMOVAL_ORDER: TaggedResource['type'][] = ['listener-rule', 'ecs-service', 'alarm', 'target-group', 'task-definition'];

function isLive(record: RecordState | undefined, nowSeconds: number): boolean {
  if (!record) return false;
  if (typeof record.purgeAt === 'number' && record.purgeAt <= nowSeconds) return false;
  return record.status !== 'DELETED';
}

async function handle(payload: ReconcileOrphansPayload): Promise<OrphanReport> {
  const started = Date.now();
  const runtime = runtimeConfig();
  const config = cleanupConfig();
  const scope: InstallationScope = {
    installationId: runtime.installationId,
    clusterArn: runtime.clusterArn,
    listenerArn: runtime.listenerArn,
    vpcId: runtime.vpcId,
    executionRoleArn: runtime.executionRoleArn,
  };
  const counter = new CallCounter();
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  // 1. what carries the tag (services, target groups, rules: tags come in batches)
  const [services, targetGroups, rules, alarms, families] = await Promise.all([
    fledgeServices(scope, counter),
    fledgeTargetGroups(scope, counter),
    fledgeRules(scope, counter),
    fledgeAlarms(scope, counter),
    fledgeTaskDefinitionFamilies(counter),
  ]);
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
      [{
        at,
        type: 'orphans-removed',
        message:
          `resources tagged for this ${entry.record === 'DELETED' ? 'deleted' : 'unknown'} environment were left behind; ` +
          `the scheduled cleanup removed ${entry.removed.length}${removedText ? `: ${removedText}` : ''}` +
          (entry.pending.length ? `; ${entry.pending.length} could not be removed yet (retried next run)` : ''),
        actor: SYSTEM_ACTOR,
        details: { removed: entry.removed, pending: entry.pending, execution: payload.executionName },
      }],
      purgeAt,
    );
    logger.warn('orphaned resources removed', { environment, record: entry.record, removed: entry.removed.length, pending: entry.pending.length });
  }

  report.awsCalls = counter.calls;
  report.recordsRead = recordsRead;
  metrics.addMetric('OrphanEnvironments', MetricUnit.Count, report.environments.length);
  metrics.addMetric('OrphanResourcesRemoved', MetricUnit.Count, report.removed);
  metrics.addMetric('OrphanResourcesPending', MetricUnit.Count, report.pending);
  logger.info('orphan reconciliation done', {
    environments: report.environments.length, removed: report.removed, pending: report.pending, awsCalls: report.awsCalls, recordsRead,
    tagged: { services: services.length, targetGroups: targetGroups.length, rules: rules.length, alarms: alarms.length, families: families.length },
  });
  return report;
}

export const handler = taskHandler(handle);
