/**
 * Reads of an environment's ECS and ELB resources, for the task Lambdas and the ECS event
 * handler: the service's state, its stopped tasks (why a deployment failed), and every
 * resource Fledge made for an environment (what a teardown removes). Writes are the
 * workflows' own AWS SDK integration steps, not here.
 */
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTaskDefinitionsCommand,
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
import { taskFamily } from '#domain/resource-plan.ts';
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

/** Stopped tasks of the environment's family (optionally of one revision), newest first. */
export async function stoppedTasks(clusterArn: string, name: string, taskDefinitionArn?: string): Promise<StoppedTask[]> {
  // By family rather than service name: compensation may already have deleted the service.
  const listed = await ecsClient().send(
    new ListTasksCommand({ cluster: clusterArn, family: taskFamily(name), desiredStatus: 'STOPPED', maxResults: 100 }),
  );
  const arns = (listed.taskArns as string[] | undefined) ?? [];
  if (arns.length === 0) return [];
  const described = await ecsClient().send(new DescribeTasksCommand({ cluster: clusterArn, tasks: arns.slice(0, 100) }));
  const tasks = ((described.tasks as StoppedTask[] | undefined) ?? []).filter(
    (task) => !taskDefinitionArn || task.taskDefinitionArn === taskDefinitionArn,
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
  /** ACTIVE revisions of `fledge-<name>` (to deregister) */
  activeTaskDefinitionArns: string[];
  /** every ACTIVE and INACTIVE revision, in batches of 10 (DeleteTaskDefinitions' limit) */
  taskDefinitionBatches: string[][];
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

async function taskDefinitions(name: string, status: 'ACTIVE' | 'INACTIVE'): Promise<string[]> {
  const family = taskFamily(name);
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecsClient().send(
      new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken, maxResults: 100 }),
    );
    // familyPrefix is a prefix: fledge-pr-4 would also list fledge-pr-42
    arns.push(...((page.taskDefinitionArns as string[] | undefined) ?? []).filter((arn) => familyOf(arn) === family));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
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
  const [serviceResult, targetGroupArn, active, inactive, alarmArns] = await Promise.all([
    ecsClient().send(new DescribeServicesCommand({ cluster: clusterArn, services: [name] })),
    fledgeTargetGroup(name),
    taskDefinitions(name, 'ACTIVE'),
    taskDefinitions(name, 'INACTIVE'),
    environmentAlarms(name),
  ]);
  const service = (serviceResult.services as Service[] | undefined)?.find((s) => s.status && s.status !== 'INACTIVE');
  const ruleArns = await listenerRules(listenerArn, targetGroupArn, host);
  return {
    serviceArn: service?.serviceArn ?? null,
    serviceStatus: service?.status ?? null,
    targetGroupArns: targetGroupArn ? [targetGroupArn] : [],
    ruleArns,
    activeTaskDefinitionArns: active,
    taskDefinitionBatches: chunks([...active, ...inactive], 10),
    alarmArns,
  };
}
