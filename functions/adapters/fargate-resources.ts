/**
 * Reads of an environment's ECS and ELB resources, for the task Lambdas and the ECS event
 * handler: the service's state, its stopped tasks (why a deployment failed), and every
 * resource Fledge made for an environment (what a teardown removes). Writes are the
 * workflows' own AWS SDK integration steps, not here.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type Service,
} from '@aws-sdk/client-ecs';
import { DescribeRulesCommand, DescribeTagsCommand, DescribeTargetGroupsCommand, type Rule, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ALARM_KINDS, alarmName, legacyAlarmName } from '#domain/alarms.ts';
import { CONTAINER_NAME, targetGroupHealthCheck, type TargetGroupHealthCheck } from '#domain/resource-plan.ts';
import { legacyTargetGroupName, targetGroupName } from '#domain/resource-names.ts';
import type { ServiceView } from '#domain/steady-state.ts';
import type { StoppedTask } from '#domain/task-failure.ts';
import { cloudwatchClient } from './clients/cloudwatch.ts';
import { ecsClient } from './clients/ecs.ts';
import { elbv2Client } from './clients/elbv2.ts';

export interface ServiceState extends ServiceView {
  serviceArn: string;
}

export function serviceState(service: Service): ServiceState {
  const deployments = service.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY') ?? deployments[0];
  const desiredCount = service.desiredCount ?? 0;
  const runningCount = service.runningCount ?? 0;
  const rolloutDone = primary?.rolloutState === undefined || primary.rolloutState === 'COMPLETED';
  return {
    serviceArn: service.serviceArn ?? '',
    status: service.status ?? 'UNKNOWN',
    desiredCount,
    runningCount,
    taskDefinitionArn: primary?.taskDefinition ?? service.taskDefinition,
    steady: deployments.length <= 1 && rolloutDone && runningCount === desiredCount && (primary?.runningCount ?? runningCount) === desiredCount,
    deployments: deployments.map((d) => ({
      id: d.id,
      status: d.status,
      taskDefinitionArn: d.taskDefinition,
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
      createdAt: d.createdAt ? new Date(d.createdAt).toISOString() : undefined,
    })),
  };
}

/**
 * What DescribeServices says of the environment's service: its status (`MISSING` when it is not
 * listed) and, unless INACTIVE or missing, its state. A deleted service stays describable as
 * INACTIVE for a while (Amazon ECS API Reference, DescribeServices); MISSING may also be a read
 * that lags a CreateService.
 */
export async function serviceStatus(clusterArn: string, name: string): Promise<{ status: string; service?: ServiceState }> {
  const result = await ecsClient().send(new DescribeServicesCommand({ cluster: clusterArn, services: [name] }));
  const service = (result.services as Service[] | undefined)?.find((s) => s.serviceName === name || s.serviceArn?.endsWith(`/${name}`));
  if (!service) return { status: 'MISSING' };
  if (service.status === 'INACTIVE') return { status: 'INACTIVE' };
  return { status: service.status ?? 'UNKNOWN', service: serviceState(service) };
}

/** The environment's service, or undefined when it does not exist (or is INACTIVE). */
export async function describeService(clusterArn: string, name: string): Promise<ServiceState | undefined> {
  return (await serviceStatus(clusterArn, name)).service;
}

/** The image of the app container of a task definition revision (undefined when it cannot be read). */
export async function taskDefinitionImage(taskDefinitionArn: string | undefined): Promise<string | undefined> {
  if (!taskDefinitionArn) return undefined;
  const result = await ecsClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
  const containers = (result.taskDefinition?.containerDefinitions ?? []) as { name?: string; image?: string }[];
  return (containers.find((c) => c.name === CONTAINER_NAME) ?? containers[0])?.image;
}

/**
 * The latest ACTIVE revision of a (content-addressed, shared) task definition family whose
 * container runs `image`, or undefined when there is none. DescribeTaskDefinition with a bare
 * family answers its latest ACTIVE revision, and a ClientException when the family has none.
 * Describe* calls draw on a far larger bucket than RegisterTaskDefinition (20, then 1/s).
 */
export async function activeTaskDefinition(family: string, image: string): Promise<string | undefined> {
  try {
    const result = await ecsClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: family }));
    const td = result.taskDefinition as
      | { taskDefinitionArn?: string; family?: string; status?: string; containerDefinitions?: { name?: string; image?: string }[] }
      | undefined;
    if (!td?.taskDefinitionArn || td.family !== family || td.status !== 'ACTIVE') return undefined;
    // the family is the hash of the content; a revision someone registered by hand with other content is not reused
    const container = (td.containerDefinitions ?? []).find((c) => c.name === CONTAINER_NAME);
    return container?.image === image ? td.taskDefinitionArn : undefined;
  } catch (error) {
    if ((error as Error).name === 'ClientException') return undefined;
    throw error;
  }
}

/** How many pages of a shared family's stopped tasks are searched for an environment's own. */
export const FAMILY_PAGES = 5;

/** The ARNs of the cluster's tasks (STOPPED unless said; RUNNING by startedBy) of a service, a family or a startedBy, at most `pages` pages of 100. */
export async function listTaskArns(
  clusterArn: string,
  filter: { serviceName: string } | { family: string } | { startedBy: string },
  pages: number,
  desiredStatus: 'RUNNING' | 'STOPPED' = 'STOPPED',
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < pages; page++) {
    const listed = await ecsClient().send(
      // startedBy "must be the only filter" (Amazon ECS API Reference, ListTasks): RUNNING, the default, then
      new ListTasksCommand({ cluster: clusterArn, ...filter, ...('startedBy' in filter ? {} : { desiredStatus }), maxResults: 100, nextToken }),
    );
    arns.push(...((listed.taskArns as string[] | undefined) ?? []));
    nextToken = listed.nextToken;
    if (!nextToken) break;
  }
  return arns;
}

/** Whether ECS answered that the service does not exist (any more): its tasks are then found by family. */
export const serviceIsGone = (error: unknown): boolean =>
  (error as Error).name === 'ServiceNotFoundException' || (error as Error).name === 'ServiceNotActiveException';

/** A task as DescribeTasks describes it, in the parts Fledge reads. */
export type DescribedTask = Omit<StoppedTask, 'containers'> & {
  group?: string;
  startedAt?: string | Date;
  containers?: { name?: string; exitCode?: number; reason?: string; runtimeId?: string }[];
};

/** DescribeTasks of `arns`, 100 at a time (its limit). */
export async function describeTasks(clusterArn: string, arns: readonly string[]): Promise<DescribedTask[]> {
  const described: DescribedTask[] = [];
  for (const batch of chunks([...arns], 100)) {
    const result = await ecsClient().send(new DescribeTasksCommand({ cluster: clusterArn, tasks: batch }));
    described.push(...((result.tasks as DescribedTask[] | undefined) ?? []));
  }
  return described;
}

/**
 * Stopped tasks of the environment's service (optionally of one revision), newest first.
 * Task definition families are shared between environments, so the tasks are found through
 * the service (ListTasks by service name); once compensation has deleted the service, through
 * the family of `taskDefinitionArn`, keeping only tasks whose group is `service:<name>`.
 */
export async function stoppedTasks(clusterArn: string, name: string, taskDefinitionArn?: string): Promise<StoppedTask[]> {
  let arns: string[] = [];
  try {
    arns = await listTaskArns(clusterArn, { serviceName: name }, 1);
  } catch (error) {
    if (!serviceIsGone(error)) throw error;
  }
  const byFamily = arns.length === 0 && taskDefinitionArn !== undefined;
  if (byFamily) arns = await listTaskArns(clusterArn, { family: familyOf(taskDefinitionArn) }, FAMILY_PAGES);
  if (arns.length === 0) return [];
  const described = await describeTasks(clusterArn, arns);
  const tasks = described.filter(
    (task) => (!byFamily || task.group === `service:${name}`) && (!taskDefinitionArn || task.taskDefinitionArn === taskDefinitionArn),
  );
  return tasks.map((task) => ({
    taskArn: task.taskArn,
    taskDefinitionArn: task.taskDefinitionArn,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    stoppedAt: task.stoppedAt,
    containers: (task.containers ?? []).map((c) => ({ name: c.name, exitCode: c.exitCode, reason: c.reason })),
  }));
}

export interface DiscoveredResources {
  /** the ECS service, when one exists that is not yet INACTIVE */
  serviceArn: string | null;
  serviceStatus: string | null;
  targetGroupArns: string[];
  ruleArns: string[];
  /**
   * The task definition revisions the service ran: shared with other environments, so a
   * teardown keeps them (docs/design.md "Shared task definitions") and its receipt says so.
   */
  sharedTaskDefinitionArns: string[];
  /** the environment's alarms that exist (`fledge-<installation>-<name>-<kind>`, and legacy `fledge-<name>-<kind>` ones of this installation) */
  alarmArns: string[];
  /**
   * What the teardown's DeleteAlarms receives: the three names of this installation (whether
   * they exist or not: CloudWatch deletes those that do) and the legacy names found.
   */
  alarmNames: string[];
}

/** Where this installation's per-environment resources are (a RuntimeConfig fits). */
export interface NameScope {
  installationId: string;
  clusterArn: string;
  listenerArn: string;
}

/** `...:listener/app/<lb>/<id>/<listener>` -> `...:loadbalancer/app/<lb>/<id>` */
function loadBalancerArnOfListener(listenerArn: string): string {
  const match = /^(.*):listener\/(app\/[^/]+\/[^/]+)\/[^/]+$/.exec(listenerArn);
  return match ? `${match[1]}:loadbalancer/${match[2]}` : '';
}

type AlarmDimensions = { Dimensions?: { Name?: string; Value?: string }[]; Metrics?: { MetricStat?: { Metric?: { Dimensions?: { Name?: string; Value?: string }[] } } }[] };

/** Whether an alarm's dimensions point at this installation's cluster or load balancer. */
function alarmPointsAt(alarm: AlarmDimensions, scope: NameScope): boolean {
  const cluster = scope.clusterArn.slice(scope.clusterArn.lastIndexOf('/') + 1);
  const loadBalancer = /:listener\/(app\/[^/]+\/[^/]+)\//.exec(scope.listenerArn)?.[1];
  const dimensions = [...(alarm.Dimensions ?? []), ...(alarm.Metrics ?? []).flatMap((m) => m.MetricStat?.Metric?.Dimensions ?? [])];
  return dimensions.some((d) => (d.Name === 'ClusterName' && d.Value === cluster) || (d.Name === 'LoadBalancer' && loadBalancer !== undefined && d.Value === loadBalancer));
}

/**
 * The environment's alarms that exist: this installation's names, and the legacy names of
 * earlier versions when their dimensions point at this installation's cluster or load
 * balancer (a legacy name may belong to another installation in the account).
 */
async function environmentAlarms(name: string, scope: NameScope): Promise<{ arns: string[]; names: string[] }> {
  const current = ALARM_KINDS.map((kind) => alarmName(scope.installationId, name, kind));
  const legacy = ALARM_KINDS.map((kind) => legacyAlarmName(name, kind));
  const result = await cloudwatchClient().send(new DescribeAlarmsCommand({ AlarmNames: [...current, ...legacy], AlarmTypes: ['MetricAlarm'] }));
  const found = ((result.MetricAlarms ?? []) as ({ AlarmArn?: string; AlarmName?: string } & AlarmDimensions)[]).filter(
    (alarm) => alarm.AlarmArn && alarm.AlarmName && (current.includes(alarm.AlarmName) || alarmPointsAt(alarm, scope)),
  );
  const legacyFound = found.map((alarm) => alarm.AlarmName!).filter((alarmName) => legacy.includes(alarmName));
  return { arns: found.map((alarm) => alarm.AlarmArn!), names: [...current, ...legacyFound] };
}

/** Family of a task definition ARN (`...:task-definition/<family>:<revision>`). */
export function familyOf(taskDefinitionArn: string): string {
  const tail = taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf('/') + 1);
  const colon = tail.lastIndexOf(':');
  return colon < 0 ? tail : tail.slice(0, colon);
}

type NamedTargetGroup = TargetGroup;

async function targetGroupNamed(name: string): Promise<NamedTargetGroup | undefined> {
  try {
    const result = await elbv2Client().send(new DescribeTargetGroupsCommand({ Names: [name] }));
    return (result.TargetGroups as NamedTargetGroup[] | undefined)?.[0];
  } catch (error) {
    if ((error as Error).name === 'TargetGroupNotFoundException') return undefined;
    throw error;
  }
}

/**
 * The environment's target group, if it exists: the one named for this installation
 * (`targetGroupName`), else one an earlier version named exactly after the environment, when
 * it is attached to no load balancer but this installation's (a legacy name may belong to
 * another installation in the account) and tagged `fledge:environment=<name>` (an environment
 * may be named exactly like another environment's target group).
 */
export async function targetGroupOf(name: string, scope: Pick<NameScope, 'installationId' | 'listenerArn'>): Promise<NamedTargetGroup | undefined> {
  const current = await targetGroupNamed(targetGroupName(scope.installationId, name));
  if (current?.TargetGroupArn) return current;
  const legacy = await targetGroupNamed(legacyTargetGroupName(name));
  const ours = loadBalancerArnOfListener(scope.listenerArn);
  if (!legacy?.TargetGroupArn || !(legacy.LoadBalancerArns ?? []).every((lb) => lb === ours)) return undefined;
  // the name alone proves nothing: an environment may be named like another one's target group
  if ((await taggedFor([legacy.TargetGroupArn], name)).length === 0) return undefined;
  return legacy;
}

/** The ARN of the environment's target group (`targetGroupOf`), if it exists. */
export async function targetGroupArnOf(name: string, scope: Pick<NameScope, 'installationId' | 'listenerArn'>): Promise<string | undefined> {
  return (await targetGroupOf(name, scope))?.TargetGroupArn;
}

/** The health check the environment's target group has now (ModifyTargetGroup's shape), or undefined when there is none. */
export async function currentHealthCheck(name: string, scope: Pick<NameScope, 'installationId' | 'listenerArn'>): Promise<TargetGroupHealthCheck | undefined> {
  return targetGroupHealthCheck(await targetGroupOf(name, scope));
}

/** Of `arns`, those Fledge tagged for environment `name` (a target group not tagged so is not ours to delete). */
async function taggedFor(arns: string[], name: string): Promise<string[]> {
  if (arns.length === 0) return [];
  const owned = new Set<string>();
  const read = async (batch: string[]) => {
    const tags = await elbv2Client().send(new DescribeTagsCommand({ ResourceArns: batch }));
    for (const d of (tags.TagDescriptions ?? []) as { ResourceArn?: string; Tags?: { Key?: string; Value?: string }[] }[]) {
      if (d.ResourceArn && (d.Tags ?? []).some((t) => t.Key === 'fledge:environment' && t.Value === name)) owned.add(d.ResourceArn);
    }
  };
  for (const batch of chunks(arns, 20)) {
    try {
      await read(batch);
    } catch (error) {
      if ((error as Error).name !== 'TargetGroupNotFoundException' || batch.length === 1) {
        if ((error as Error).name === 'TargetGroupNotFoundException') continue; // deleted meanwhile: nothing to remove
        throw error;
      }
      // one of them was deleted meanwhile: ask for each alone
      for (const arn of batch) {
        try {
          await read([arn]);
        } catch (inner) {
          if ((inner as Error).name !== 'TargetGroupNotFoundException') throw inner;
        }
      }
    }
  }
  return arns.filter((arn) => owned.has(arn));
}

function forwardsTo(rule: Rule, targetGroupArn: string | undefined): boolean {
  if (!targetGroupArn) return false;
  return (rule.Actions ?? []).some(
    (action) =>
      action.TargetGroupArn === targetGroupArn ||
      (action.ForwardConfig?.TargetGroups ?? []).some((tg) => tg.TargetGroupArn === targetGroupArn),
  );
}

function matchesHost(rule: Rule, host: string): boolean {
  return (rule.Conditions ?? []).some(
    (c) =>
      (c.Field === 'host-header' && (c.Values ?? []).includes(host)) || (c.HostHeaderConfig?.Values ?? []).includes(host),
  );
}

async function listenerRules(listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    const page = await elbv2Client().send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
    rules.push(...((page.Rules as Rule[] | undefined) ?? []).filter((rule) => !rule.IsDefault && rule.RuleArn));
    marker = page.NextMarker;
  } while (marker);
  return rules;
}

/** Every target group a rule forwards to (plain forward, or weighted: the waker's and the environment's). */
function forwardTargetGroups(rule: Rule): string[] {
  return (rule.Actions ?? []).flatMap((action) => [
    ...(action.TargetGroupArn ? [action.TargetGroupArn] : []),
    ...(action.ForwardConfig?.TargetGroups ?? []).flatMap((tg) => (tg.TargetGroupArn ? [tg.TargetGroupArn] : [])),
  ]);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Everything Fledge made for `name`, found by name and tag (not by what the record remembers).
 * The target group is found by its name (this installation's, or the environment's own name
 * for environments of earlier versions) and through the listener rule of the environment's
 * host, and kept only when tagged `fledge:environment=<name>` (the waker's target group, which
 * a sleeping environment's rule also forwards to, carries no such tag).
 */
export async function discoverResources(scope: NameScope, name: string, host: string): Promise<DiscoveredResources> {
  const [serviceResult, namedArn, alarms, rules] = await Promise.all([
    ecsClient().send(new DescribeServicesCommand({ cluster: scope.clusterArn, services: [name] })),
    targetGroupArnOf(name, scope),
    environmentAlarms(name, scope),
    listenerRules(scope.listenerArn),
  ]);
  const service = (serviceResult.services as Service[] | undefined)?.find((s) => s.status && s.status !== 'INACTIVE');
  const hostRules = rules.filter((rule) => matchesHost(rule, host));
  const candidates = [...new Set([...(namedArn ? [namedArn] : []), ...hostRules.flatMap(forwardTargetGroups)])];
  const targetGroupArns = await taggedFor(candidates, name);
  const ruleArns = rules.filter((rule) => matchesHost(rule, host) || targetGroupArns.some((arn) => forwardsTo(rule, arn))).map((rule) => rule.RuleArn!);
  const revisions = [service?.taskDefinition, ...(service?.deployments ?? []).map((d) => d.taskDefinition)];
  return {
    serviceArn: service?.serviceArn ?? null,
    serviceStatus: service?.status ?? null,
    targetGroupArns,
    ruleArns,
    sharedTaskDefinitionArns: [...new Set(revisions.filter((arn): arn is string => Boolean(arn)))],
    alarmArns: alarms.arns,
    alarmNames: alarms.names,
  };
}
