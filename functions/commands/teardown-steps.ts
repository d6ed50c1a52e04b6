/**
 * The steps of the teardown workflow (statemachines/teardown.asl.json) that need logic:
 *
 * - DiscoverResources finds everything Fledge made for the environment by name and tag — not
 *   by what the record remembers — so a half-built or already half-deleted environment is torn
 *   down completely, and a second teardown finds nothing left to do.
 * - FinishTeardown: every resource found is gone, the ECS service included. DeleteService only
 *   starts a deletion: the service stays DRAINING until its tasks have stopped, and its name
 *   cannot be used again meanwhile (CreateService: "Unable to Start a service that is still
 *   Draining"; Amazon ECS API reference, DeleteService). So while DescribeServices still shows
 *   the service (ACTIVE or DRAINING), this step throws ServiceStillDraining, which the state's
 *   Retry waits out (bounded; past it the teardown fails and stays DELETING for a retry), and a
 *   PUT of the same name after DELETED can create it at once.
 *
 *   Then: DELETED, read-only, purged by DynamoDB TTL after FLEDGE_DELETED_RETENTION (default
 *   30d); the listener priority is free again; the last event is a receipt naming every
 *   resource found and removed, by ARN, and the shared task definitions the service ran, which
 *   a teardown keeps (other environments may run them; the cleanup deregisters a family once no
 *   service uses it: docs/design.md).
 */
import { logger } from '#runtime/powertools.ts';
import { clusterName, runtimeConfig } from '#runtime/config.ts';
import { environmentEvent } from '#domain/events.ts';
import { ServiceStillDraining } from '#domain/steady-state.ts';
import type { WorkflowState } from '#domain/workflow-state.ts';
import { countedIn } from '#adapters/environment-store.ts';
import { schedulePurge } from '#adapters/event-log.ts';
import { describeService, discoverResources as discover, serviceStatus, type DiscoveredResources } from '#adapters/fargate-resources.ts';
import { renderPlan } from '#domain/resource-plan.ts';
import { getEnvironmentItem, markDeleted } from '#adapters/operation-store.ts';
import { environmentDns } from './environment-dns.ts';
import { slotHeld } from '#adapters/shard-slots.ts';
import { stillCurrent } from './operation-end.ts';
import { recordScope, type ShardScope } from './shard-scope.ts';
import { recordSucceeded } from './workflow-outcome.ts';

// ---- DiscoverResources -----------------------------------------------------------------------

export async function discoverResources(state: WorkflowState): Promise<WorkflowState> {
  const config = runtimeConfig();
  // the environment's load balancer, closed or not: its rule is on that listener (`$.shard`)
  const scope = recordScope((await getEnvironmentItem(state.name)) ?? {}, config);
  const resources = await discover(scope, state.name, `${state.name}.${config.baseDomain}`);
  logger.info('discovered resources', {
    service: resources.serviceArn,
    targetGroups: resources.targetGroupArns.length,
    rules: resources.ruleArns.length,
    sharedTaskDefinitions: resources.sharedTaskDefinitionArns.length,
    alarms: resources.alarmArns.length,
  });
  // the alias record goes with the environment (DeleteDnsRecord), only with per-environment DNS
  return { ...state, shard: scope.shard, resources, ...environmentDns({ ...state, shard: scope.shard }, config), ...(await beforeDeleteHook(state, resources, scope)) };
}

/**
 * What the beforeDelete hook needs while the service still exists: the task definition it runs and
 * the plan (network configuration, hooks). Nothing when the spec has no such hook or no service runs.
 */
async function beforeDeleteHook(state: WorkflowState, resources: DiscoveredResources, scope: ShardScope): Promise<Partial<WorkflowState>> {
  if (!state.spec.hooks?.beforeDelete || !resources.serviceArn) return {};
  const config = runtimeConfig();
  const service = await describeService(config.clusterArn, state.name);
  if (service?.status !== 'ACTIVE' || !service.taskDefinitionArn) return {};
  return { plan: renderPlan(state.name, state.spec, scope, state.operationId, state.specVersion), taskDefinition: { arn: service.taskDefinitionArn } };
}

// ---- FinishTeardown --------------------------------------------------------------------------

export interface ReceiptEntry {
  type: 'ecs-service' | 'listener-rule' | 'target-group' | 'task-definition' | 'scalable-target' | 'cloudwatch-alarm';
  arn: string;
}

/** What a teardown found but did not remove, and why. */
export interface KeptEntry {
  type: 'task-definition';
  arn: string;
  reason: string;
}

export const SHARED_TASK_DEFINITION_REASON =
  'shared by every environment with the same rendered task definition; the cleanup deregisters it once no service uses it';

export function receipt(resources: DiscoveredResources | undefined): { removed: ReceiptEntry[]; kept: KeptEntry[] } {
  const removed: ReceiptEntry[] = [];
  if (!resources) return { removed, kept: [] };
  if (resources.serviceArn) removed.push({ type: 'ecs-service', arn: resources.serviceArn });
  for (const arn of resources.ruleArns) removed.push({ type: 'listener-rule', arn });
  for (const arn of resources.targetGroupArns) removed.push({ type: 'target-group', arn });
  for (const arn of resources.alarmArns ?? []) removed.push({ type: 'cloudwatch-alarm', arn });
  const kept = (resources.sharedTaskDefinitionArns ?? []).map((arn) => ({ type: 'task-definition' as const, arn, reason: SHARED_TASK_DEFINITION_REASON }));
  return { removed, kept };
}

function receiptMessage(removed: ReceiptEntry[], kept: KeptEntry[]): string {
  const removedText =
    removed.length === 0
      ? 'environment deleted; no resources were left to remove'
      : `environment deleted; removed ${removed.length} resource${removed.length === 1 ? '' : 's'}: ${removed.map((r) => r.arn).join(', ')}`;
  if (kept.length === 0) return removedText;
  return `${removedText}; kept the shared task definition${kept.length === 1 ? '' : 's'} ${kept.map((k) => k.arn).join(', ')} (${SHARED_TASK_DEFINITION_REASON})`;
}

export async function finishTeardown(state: WorkflowState): Promise<WorkflowState> {
  const config = runtimeConfig();
  const item = await getEnvironmentItem(state.name);
  if (item?.status === 'DELETED' && item.operation?.id === state.operationId && item.purgeAt !== undefined) {
    // a retried step whose first attempt recorded DELETED: make sure the history is purged with the record
    await schedulePurge(state.name, item.updatedAt, item.purgeAt);
    return { ...state, outcome: 'succeeded' };
  }
  const current = stillCurrent(item, state);
  if (!current) return { ...state, outcome: 'superseded' };
  const { status, service } = await serviceStatus(config.clusterArn, state.name);
  const discovered = (state.resources as DiscoveredResources | undefined)?.serviceArn;
  if (status === 'MISSING' && discovered) {
    // DescribeServices is eventually consistent: a service the teardown found (and deleted) that
    // reads MISSING rather than INACTIVE may be a lagging read of a service created moments ago
    logger.info('the deleted service reads MISSING, not INACTIVE: asking again');
    throw new ServiceStillDraining(`the ECS service "${state.name}" is not reported INACTIVE yet`);
  }
  if (service) {
    logger.info('the service is still draining', { status: service.status, runningCount: service.runningCount });
    throw new ServiceStillDraining(`the ECS service "${state.name}" is still ${service.status} (${service.runningCount} tasks running)`);
  }
  const now = new Date();
  const { removed, kept } = receipt(state.resources as DiscoveredResources | undefined);
  // the Application Auto Scaling target (RemoveScalableTarget: present only when one was registered)
  if (state.removedScalableTarget) removed.unshift({ type: 'scalable-target', arn: `service/${clusterName(config.clusterArn)}/${state.name}` });
  const purgeAt = Math.floor((now.getTime() + config.deletedRetentionMs) / 1000);
  const done = await markDeleted({
    name: state.name,
    operationId: state.operationId,
    counted: countedIn(current),
    listenerPriority: current.listenerPriority,
    shard: slotHeld(current),
    now: now.toISOString(),
    purgeAt,
    events: [
      environmentEvent({
        at: now.toISOString(),
        state,
        type: 'deleted',
        message: receiptMessage(removed, kept),
        details: { removed, ...(kept.length ? { kept } : {}) },
      }),
    ],
  });
  // the history goes with the record: DynamoDB TTL purges both at purgeAt
  const stamped = done ? await schedulePurge(state.name, now.toISOString(), purgeAt) : 0;
  logger.info('environment deleted', { removed: removed.length, historyPurgeScheduled: stamped });
  if (done) recordSucceeded('teardown');
  return { ...state, outcome: done ? 'succeeded' : 'superseded' };
}
