/**
 * What Fledge tagged in the account, for the cleanup's orphan reconciliation: ECS services of
 * the cluster, target groups, rules of the shared listener, alarms and task definitions whose
 * `fledge:environment` tag names an environment. Only resources that carry the tag are ever
 * returned (and so ever removed), and only those of this installation: services of its
 * cluster, rules of its listener, target groups of its VPC not attached to another load
 * balancer and named for this installation (or, made by earlier versions, exactly after the
 * environment: functions/domain/resource-names.ts), alarms whose dimensions point at its
 * cluster or load balancer, task definitions run with its task execution role.
 *
 * Removal calls treat "not found" as done, so a removal repeated by the next run is harmless.
 */
import {
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListServicesCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  type Service,
  type Tag as EcsTag,
} from '@aws-sdk/client-ecs';
import {
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type Rule,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteAlarmsCommand, DescribeAlarmsCommand, ListTagsForResourceCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { parseAlarmName } from '#domain/alarms.ts';
import { legacyTargetGroupName, targetGroupName } from '#domain/resource-names.ts';
import { isInstallationExecutionRole } from '#domain/execution-roles.ts';
import type { Shard } from '#domain/shards.ts';
import { cloudwatchClient } from './clients/cloudwatch.ts';
import { ecsClient } from './clients/ecs.ts';
import { elbv2Client } from './clients/elbv2.ts';

export const ENVIRONMENT_TAG = 'fledge:environment';
/** task definition families and alarm names Fledge uses */
export const FLEDGE_PREFIX = 'fledge-';

export type ResourceType = 'ecs-service' | 'listener-rule' | 'target-group' | 'alarm' | 'task-definition';

export interface TaggedResource {
  type: ResourceType;
  arn: string;
  /** service, target group or alarm name (what the delete call takes) */
  name?: string;
  /** the `fledge:environment` tag */
  environment: string;
  /** when it was made, where AWS says (services, task definitions, alarms) */
  createdAt?: string;
  /** task definitions: ACTIVE ones are deregistered before they can be deleted */
  status?: string;
}

/** Where this installation's resources live. */
export interface InstallationScope {
  /** names target groups and alarms (functions/domain/resource-names.ts) */
  installationId: string;
  clusterArn: string;
  /** the pool of load balancers (functions/domain/shards.ts): every shard's listener, load balancer and metric dimension */
  shards: readonly Pick<Shard, 'listenerArn' | 'loadBalancerArn' | 'loadBalancerDimension'>[];
  vpcId?: string;
  /** the shared task execution role; the repositories' roles of the installation count too (functions/domain/execution-roles.ts) */
  executionRoleArn: string;
}


const clusterNameOf = (clusterArn: string) => clusterArn.slice(clusterArn.lastIndexOf('/') + 1);

/** Family of a task definition ARN (`...:task-definition/<family>:<revision>`). */
function familyOf(taskDefinitionArn: string): string {
  const tail = taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf('/') + 1);
  const colon = tail.lastIndexOf(':');
  return colon < 0 ? tail : tail.slice(0, colon);
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : undefined);

export function tagValue(tags: { Key?: string; Value?: string; key?: string; value?: string }[] | undefined): string | undefined {
  const tag = (tags ?? []).find((t) => (t.Key ?? t.key) === ENVIRONMENT_TAG);
  const value = tag?.Value ?? tag?.value;
  return value ? value : undefined;
}

/** Counts AWS calls, the cost of a reconciliation. */
export class CallCounter {
  calls = 0;
  count<T>(promise: Promise<T>): Promise<T> {
    this.calls += 1;
    return promise;
  }
}

/** Every service of the cluster (ACTIVE and DRAINING), described with its tags and deployments: ListServices/100, DescribeServices/10. */
export async function clusterServices(scope: Pick<InstallationScope, 'clusterArn'>, counter = new CallCounter()): Promise<Service[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await counter.count(ecsClient().send(new ListServicesCommand({ cluster: scope.clusterArn, nextToken, maxResults: 100 })));
    arns.push(...((page.serviceArns as string[] | undefined) ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const described: Service[] = [];
  for (const batch of chunks(arns, 10)) {
    const result = await counter.count(ecsClient().send(new DescribeServicesCommand({ cluster: scope.clusterArn, services: batch, include: ['TAGS'] })));
    described.push(...((result.services as Service[] | undefined) ?? []));
  }
  return described;
}

/** ACTIVE services of the cluster tagged for an environment. */
export function fledgeServices(services: readonly Service[]): TaggedResource[] {
  const found: TaggedResource[] = [];
  for (const service of services) {
    const environment = tagValue(service.tags as EcsTag[] | undefined);
    // DRAINING services are being deleted already; INACTIVE ones are gone
    if (!environment || service.status !== 'ACTIVE' || !service.serviceArn) continue;
    found.push({ type: 'ecs-service', arn: service.serviceArn, name: service.serviceName, environment, createdAt: iso(service.createdAt) });
  }
  return found;
}

/** Every task definition revision a service of the cluster runs or deploys (its own and each deployment's). */
export function serviceTaskDefinitions(services: readonly Service[]): Set<string> {
  const arns = new Set<string>();
  for (const service of services) {
    if (service.status === 'INACTIVE') continue;
    if (service.taskDefinition) arns.add(service.taskDefinition);
    for (const deployment of service.deployments ?? []) if (deployment.taskDefinition) arns.add(deployment.taskDefinition);
  }
  return arns;
}

/** Target groups of the VPC, attached to no load balancer or only to the pool's, tagged for an environment. */
export async function fledgeTargetGroups(scope: InstallationScope, counter = new CallCounter()): Promise<TaggedResource[]> {
  const ours = new Set(scope.shards.map((shard) => shard.loadBalancerArn));
  const groups: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const page = await counter.count(elbv2Client().send(new DescribeTargetGroupsCommand({ Marker: marker, PageSize: 400 })));
    groups.push(...((page.TargetGroups as TargetGroup[] | undefined) ?? []));
    marker = page.NextMarker;
  } while (marker);
  const candidates = groups.filter(
    (tg) =>
      tg.TargetGroupArn &&
      (!scope.vpcId || !tg.VpcId || tg.VpcId === scope.vpcId) &&
      (tg.LoadBalancerArns ?? []).every((lb) => ours.has(lb)),
  );
  const tagged = await taggedElb(candidates.map((tg) => ({ arn: tg.TargetGroupArn!, name: tg.TargetGroupName })), 'target-group', counter);
  // another installation sharing the VPC names its target groups with its own id
  return tagged.filter((tg) => tg.name === targetGroupName(scope.installationId, tg.environment) || tg.name === legacyTargetGroupName(tg.environment));
}

/** Rules of the pool's listeners (not their default rules) tagged for an environment. */
export async function fledgeRules(scope: InstallationScope, counter = new CallCounter()): Promise<TaggedResource[]> {
  const rules: Rule[] = [];
  for (const { listenerArn } of scope.shards) {
    let marker: string | undefined;
    do {
      const page = await counter.count(elbv2Client().send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 })));
      rules.push(...((page.Rules as Rule[] | undefined) ?? []));
      marker = page.NextMarker;
    } while (marker);
  }
  return taggedElb(rules.filter((r) => !r.IsDefault && r.RuleArn).map((r) => ({ arn: r.RuleArn! })), 'listener-rule', counter);
}

async function taggedElb(items: { arn: string; name?: string }[], type: ResourceType, counter: CallCounter): Promise<TaggedResource[]> {
  const found: TaggedResource[] = [];
  for (const batch of chunks(items, 20)) {
    const result = await counter.count(elbv2Client().send(new DescribeTagsCommand({ ResourceArns: batch.map((i) => i.arn) })));
    const byArn = new Map(((result.TagDescriptions ?? []) as { ResourceArn?: string; Tags?: { Key?: string; Value?: string }[] }[]).map((d) => [d.ResourceArn, d.Tags]));
    for (const item of batch) {
      const environment = tagValue(byArn.get(item.arn));
      if (environment) found.push({ type, arn: item.arn, ...(item.name ? { name: item.name } : {}), environment });
    }
  }
  return found;
}

export interface FledgeAlarm {
  name: string;
  arn: string;
  /** the environment its dimensions point at (ServiceName, or the target group's name); a hint, not proof */
  hint?: string;
}

/** Alarms named `fledge-*` whose dimensions point at this installation's cluster or one of its load balancers. */
export async function fledgeAlarms(scope: InstallationScope, counter = new CallCounter()): Promise<FledgeAlarm[]> {
  const cluster = clusterNameOf(scope.clusterArn);
  const loadBalancers = new Set(scope.shards.map((shard) => shard.loadBalancerDimension).filter(Boolean));
  const alarms: MetricAlarm[] = [];
  let nextToken: string | undefined;
  do {
    const page = await counter.count(
      cloudwatchClient().send(new DescribeAlarmsCommand({ AlarmNamePrefix: FLEDGE_PREFIX, AlarmTypes: ['MetricAlarm'], MaxRecords: 100, NextToken: nextToken })),
    );
    alarms.push(...((page.MetricAlarms as MetricAlarm[] | undefined) ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  const found: FledgeAlarm[] = [];
  for (const alarm of alarms) {
    if (!alarm.AlarmName || !alarm.AlarmArn) continue;
    const dimensions = new Map((alarm.Dimensions ?? []).map((d) => [d.Name, d.Value ?? '']));
    const ours = dimensions.get('ClusterName') === cluster || loadBalancers.has(dimensions.get('LoadBalancer') ?? '');
    if (!ours) continue;
    // this installation's alarm names carry the environment; legacy ones point at the service or (legacy) target group
    const targetGroup = /^targetgroup\/([^/]+)\//.exec(dimensions.get('TargetGroup') ?? '')?.[1];
    const hint = parseAlarmName(alarm.AlarmName, scope.installationId)?.environment || dimensions.get('ServiceName') || targetGroup;
    found.push({ name: alarm.AlarmName, arn: alarm.AlarmArn, ...(hint ? { hint } : {}) });
  }
  return found;
}

/** The alarm's `fledge:environment` tag (one call per alarm: only asked for alarms that may be orphans). */
export async function alarmEnvironment(arn: string, counter = new CallCounter()): Promise<string | undefined> {
  try {
    const result = await counter.count(cloudwatchClient().send(new ListTagsForResourceCommand({ ResourceARN: arn })));
    return tagValue(result.Tags as { Key?: string; Value?: string }[] | undefined);
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException' || (error as Error).name === 'ResourceNotFound') return undefined;
    throw error;
  }
}

/** Families named `fledge-*` (ListTaskDefinitionFamilies takes a real prefix; ListTaskDefinitions only a full family name). */
export async function fledgeTaskDefinitionFamilies(counter = new CallCounter()): Promise<string[]> {
  const families: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await counter.count(
      ecsClient().send(new ListTaskDefinitionFamiliesCommand({ familyPrefix: FLEDGE_PREFIX, status: 'ALL', nextToken, maxResults: 100 })),
    );
    families.push(...((page.families as string[] | undefined) ?? []).filter((f) => f.startsWith(FLEDGE_PREFIX)));
    nextToken = page.nextToken;
  } while (nextToken);
  return [...new Set(families)];
}

/** ACTIVE and INACTIVE revisions of one family. */
export async function familyRevisions(family: string, counter = new CallCounter()): Promise<string[]> {
  const arns: string[] = [];
  for (const status of ['ACTIVE', 'INACTIVE'] as const) {
    let nextToken: string | undefined;
    do {
      const page = await counter.count(ecsClient().send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken, maxResults: 100 })));
      arns.push(...((page.taskDefinitionArns as string[] | undefined) ?? []).filter((arn) => familyOf(arn) === family));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return arns;
}

/** A revision, if this installation registered it for an environment (tag and task execution role). */
export async function ownedTaskDefinition(arn: string, scope: InstallationScope, counter = new CallCounter()): Promise<TaggedResource | undefined> {
  try {
    const result = await counter.count(ecsClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] })));
    const environment = tagValue(result.tags as EcsTag[] | undefined);
    const td = result.taskDefinition;
    if (!environment || !td || !isInstallationExecutionRole(td.executionRoleArn, scope.executionRoleArn, scope.installationId)) return undefined;
    if (td.status !== 'ACTIVE' && td.status !== 'INACTIVE') return undefined;
    return { type: 'task-definition', arn, environment, status: td.status, createdAt: iso(td.registeredAt) };
  } catch (error) {
    if ((error as Error).name === 'ClientException') return undefined; // deleted meanwhile
    throw error;
  }
}

// ---- removal ----------------------------------------------------------------------------

const GONE = new Set([
  'ServiceNotFoundException', 'ServiceNotActiveException', 'RuleNotFoundException', 'RuleNotFound',
  'TargetGroupNotFoundException', 'TargetGroupNotFound', 'ResourceNotFound', 'ResourceNotFoundException',
]);

export type RemovalOutcome = 'removed' | 'already-gone';

async function removal(call: () => Promise<unknown>): Promise<RemovalOutcome> {
  try {
    await call();
    return 'removed';
  } catch (error) {
    if (GONE.has((error as Error).name)) return 'already-gone';
    throw error;
  }
}

export const deleteService = (clusterArn: string, arn: string) =>
  removal(() => ecsClient().send(new DeleteServiceCommand({ cluster: clusterArn, service: arn, force: true })));

export const deleteRule = (arn: string) => removal(() => elbv2Client().send(new DeleteRuleCommand({ RuleArn: arn })));

export const deleteTargetGroup = (arn: string) => removal(() => elbv2Client().send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })));

export const deleteAlarms = (names: string[]) => removal(() => cloudwatchClient().send(new DeleteAlarmsCommand({ AlarmNames: names })));

/** Deregisters an ACTIVE revision (an INACTIVE one is fine), then deletes it. */
export async function deleteTaskDefinition(resource: TaggedResource): Promise<RemovalOutcome> {
  if (resource.status === 'ACTIVE') {
    try {
      await ecsClient().send(new DeregisterTaskDefinitionCommand({ taskDefinition: resource.arn }));
    } catch (error) {
      if ((error as Error).name !== 'ClientException') throw error; // already INACTIVE
    }
  }
  const result = await ecsClient().send(new DeleteTaskDefinitionsCommand({ taskDefinitions: [resource.arn] }));
  const failure = (result.failures as { arn?: string; reason?: string }[] | undefined)?.[0];
  if (failure) {
    if (/does not exist/i.test(failure.reason ?? '')) return 'already-gone';
    throw Object.assign(new Error(`could not delete ${resource.arn}: ${failure.reason}`), { name: 'TaskDefinitionDeleteFailed' });
  }
  return 'removed';
}
