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
import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { ALARM_KINDS, alarmName } from '#domain/alarms.ts';
import { CONTAINER_NAME } from '#domain/resource-plan.ts';
import type { StoppedTask } from '#domain/task-failure.ts';
import { cloudwatchClient } from './clients/cloudwatch.ts';
import { ecsClient } from './clients/ecs.ts';
import { elbv2Client } from './clients/elbv2.ts';

export interface ServiceState {
  serviceArn: string;
  status: string;
  desiredCount: number;
  runningCount: number;
  /** task definition of the PRIMARY deployment */
  taskDefinitionArn?: string;
  /** whether the service has a single deployment that completed (ECS "steady state") */
  steady: boolean;
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
  };
}

/** The environment's service, or undefined when it does not exist (or is INACTIVE). */
export async function describeService(clusterArn: string, name: string): Promise<ServiceState | undefined> {
  const result = await ecsClient().send(new DescribeServicesCommand({ cluster: clusterArn, services: [name] }));
  const service = (result.services as Service[] | undefined)?.find((s) => s.serviceName === name || s.serviceArn?.endsWith(`/${name}`));
  if (!service || service.status === 'INACTIVE') return undefined;
  return serviceState(service);
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
const FAMILY_PAGES = 5;

async function listStoppedTasks(clusterArn: string, filter: { serviceName: string } | { family: string }, pages: number): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < pages; page++) {
    const listed = await ecsClient().send(
      new ListTasksCommand({ cluster: clusterArn, ...filter, desiredStatus: 'STOPPED', maxResults: 100, nextToken }),
    );
    arns.push(...((listed.taskArns as string[] | undefined) ?? []));
    nextToken = listed.nextToken;
    if (!nextToken) break;
  }
  return arns;
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
    arns = await listStoppedTasks(clusterArn, { serviceName: name }, 1);
  } catch (error) {
    const gone = (error as Error).name === 'ServiceNotFoundException' || (error as Error).name === 'ServiceNotActiveException';
    if (!gone) throw error;
  }
  const byFamily = arns.length === 0 && taskDefinitionArn !== undefined;
  if (byFamily) arns = await listStoppedTasks(clusterArn, { family: familyOf(taskDefinitionArn) }, FAMILY_PAGES);
  if (arns.length === 0) return [];
  const described: (StoppedTask & { group?: string })[] = [];
  for (const batch of chunks(arns, 100)) {
    const result = await ecsClient().send(new DescribeTasksCommand({ cluster: clusterArn, tasks: batch }));
    described.push(...((result.tasks as (StoppedTask & { group?: string })[] | undefined) ?? []));
  }
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
  /** the environment's alarms that exist (`fledge-<name>-<kind>`) */
  alarmArns: string[];
}

/** The ARNs of the environment's alarms that exist. */
async function environmentAlarms(name: string): Promise<string[]> {
  const result = await cloudwatchClient().send(
    new DescribeAlarmsCommand({ AlarmNames: ALARM_KINDS.map((kind) => alarmName(name, kind)), AlarmTypes: ['MetricAlarm'] }),
  );
  return ((result.MetricAlarms ?? []) as { AlarmArn?: string }[]).map((alarm) => alarm.AlarmArn).filter((arn): arn is string => Boolean(arn));
}

/** Family of a task definition ARN (`...:task-definition/<family>:<revision>`). */
export function familyOf(taskDefinitionArn: string): string {
  const tail = taskDefinitionArn.slice(taskDefinitionArn.lastIndexOf('/') + 1);
  const colon = tail.lastIndexOf(':');
  return colon < 0 ? tail : tail.slice(0, colon);
}

/** The target group named after the environment, if it exists. */
export async function targetGroupArnOf(name: string): Promise<string | undefined> {
  try {
    const result = await elbv2Client().send(new DescribeTargetGroupsCommand({ Names: [name] }));
    return (result.TargetGroups as { TargetGroupArn?: string }[] | undefined)?.[0]?.TargetGroupArn;
  } catch (error) {
    if ((error as Error).name === 'TargetGroupNotFoundException') return undefined;
    throw error;
  }
}

async function fledgeTargetGroup(name: string): Promise<string | undefined> {
  const arn = await targetGroupArnOf(name);
  if (!arn) return undefined;
  // a target group of that name that Fledge did not tag for this environment is not ours to delete
  const tags = await elbv2Client().send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  const owned = (tags.TagDescriptions ?? []).some((d: { Tags?: { Key?: string; Value?: string }[] }) =>
    (d.Tags ?? []).some((t) => t.Key === 'fledge:environment' && t.Value === name),
  );
  return owned ? arn : undefined;
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

async function listenerRules(listenerArn: string, targetGroupArn: string | undefined, host: string): Promise<string[]> {
  const arns: string[] = [];
  let marker: string | undefined;
  do {
    const page = await elbv2Client().send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
    for (const rule of (page.Rules as Rule[] | undefined) ?? []) {
      if (rule.IsDefault || !rule.RuleArn) continue;
      if (forwardsTo(rule, targetGroupArn) || matchesHost(rule, host)) arns.push(rule.RuleArn);
    }
    marker = page.NextMarker;
  } while (marker);
  return arns;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Everything Fledge made for `name`, found by name and tag (not by what the record remembers). */
export async function discoverResources(
  clusterArn: string,
  listenerArn: string,
  name: string,
  host: string,
): Promise<DiscoveredResources> {
  const [serviceResult, targetGroupArn, alarmArns] = await Promise.all([
    ecsClient().send(new DescribeServicesCommand({ cluster: clusterArn, services: [name] })),
    fledgeTargetGroup(name),
    environmentAlarms(name),
  ]);
  const service = (serviceResult.services as Service[] | undefined)?.find((s) => s.status && s.status !== 'INACTIVE');
  const ruleArns = await listenerRules(listenerArn, targetGroupArn, host);
  const revisions = [service?.taskDefinition, ...(service?.deployments ?? []).map((d) => d.taskDefinition)];
  return {
    serviceArn: service?.serviceArn ?? null,
    serviceStatus: service?.status ?? null,
    targetGroupArns: targetGroupArn ? [targetGroupArn] : [],
    ruleArns,
    sharedTaskDefinitionArns: [...new Set(revisions.filter((arn): arn is string => Boolean(arn)))],
    alarmArns,
  };
}
