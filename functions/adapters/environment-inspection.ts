/**
 * What an environment consists of right now, for the heal's reconcile (README "Self-healing"): its
 * ECS service (and the image it runs), target group, listener rule, target health, alarms,
 * and the tasks of its current task definition that stopped with an error. Read-only: the
 * heal workflow's own AWS SDK steps make the repairs.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { DescribeRulesCommand, DescribeTargetHealthCommand, type Rule, type TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { ALARM_KINDS, alarmDefinitions, alarmFingerprint, type AlarmKind, type AlarmPlan } from '#domain/alarms.ts';
import type { Findings, HealthCheckFinding, ServiceFinding } from '#domain/healing.ts';
import { taskFailure } from '#domain/heal-signals.ts';
import { CONTAINER_NAME } from '#domain/resource-plan.ts';
import { cloudwatchClient } from './clients/cloudwatch.ts';
import { ecsClient } from './clients/ecs.ts';
import { elbv2Client } from './clients/elbv2.ts';
import { targetGroupOf } from './fargate-resources.ts';

export interface InspectOptions {
  /** names the target group (functions/domain/resource-names.ts) */
  installationId: string;
  clusterArn: string;
  listenerArn: string;
  name: string;
  /** `<name>.<baseDomain>`: the host the listener rule matches */
  host: string;
  alarms: AlarmPlan;
  /** stopped tasks older than this do not count as failures */
  failureWindowMs: number;
  now?: number;
}

export interface Inspection {
  findings: Findings;
  /** the rule's ARN, when it exists */
  ruleArn?: string;
}

async function service(clusterArn: string, name: string): Promise<Service | undefined> {
  const result = await ecsClient().send(new DescribeServicesCommand({ cluster: clusterArn, services: [name] }));
  return (result.services as Service[] | undefined)?.find((s) => s.serviceName === name || s.serviceArn?.endsWith(`/${name}`));
}

async function imageOf(taskDefinitionArn: string | undefined): Promise<string | undefined> {
  if (!taskDefinitionArn) return undefined;
  const result = await ecsClient().send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
  const containers = (result.taskDefinition?.containerDefinitions ?? []) as { name?: string; image?: string }[];
  return (containers.find((c) => c.name === CONTAINER_NAME) ?? containers[0])?.image;
}

function serviceFinding(s: Service, image: string | undefined): ServiceFinding {
  const deployments = s.deployments ?? [];
  const primary = deployments.find((d) => d.status === 'PRIMARY') ?? deployments[0];
  return {
    arn: s.serviceArn ?? '',
    status: s.status ?? 'UNKNOWN',
    desiredCount: s.desiredCount ?? 0,
    runningCount: s.runningCount ?? 0,
    pendingCount: s.pendingCount ?? 0,
    taskDefinitionArn: primary?.taskDefinition ?? s.taskDefinition ?? '',
    ...(image ? { image } : {}),
    deployments: deployments.length,
    ...(primary?.rolloutState ? { rolloutState: primary.rolloutState } : {}),
    targetGroupArns: (s.loadBalancers ?? []).map((lb) => lb.targetGroupArn).filter((arn): arn is string => Boolean(arn)),
  };
}

/** The target group named after the environment (DescribeTargetGroups answers its health check too), or undefined. */
function healthCheckOf(tg: TargetGroup): HealthCheckFinding {
  return {
    path: tg.HealthCheckPath ?? '/',
    intervalSeconds: tg.HealthCheckIntervalSeconds ?? 0,
    timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? 0,
    healthyThreshold: tg.HealthyThresholdCount ?? 0,
    unhealthyThreshold: tg.UnhealthyThresholdCount ?? 0,
  };
}

function matchesHost(rule: Rule, host: string): boolean {
  return (rule.Conditions ?? []).some(
    (c) => (c.Field === 'host-header' && (c.Values ?? []).includes(host)) || (c.HostHeaderConfig?.Values ?? []).includes(host),
  );
}

function forwardTargets(rule: Rule): string[] {
  return (rule.Actions ?? []).flatMap((action) => [
    ...(action.TargetGroupArn ? [action.TargetGroupArn] : []),
    ...(action.ForwardConfig?.TargetGroups ?? []).map((tg) => tg.TargetGroupArn).filter((arn): arn is string => Boolean(arn)),
  ]);
}

async function hostRule(listenerArn: string, host: string): Promise<Rule | undefined> {
  let marker: string | undefined;
  do {
    const page = await elbv2Client().send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
    const found = ((page.Rules as Rule[] | undefined) ?? []).find((rule) => !rule.IsDefault && matchesHost(rule, host));
    if (found) return found;
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

async function targetHealth(targetGroupArn: string | undefined): Promise<Findings['targets']> {
  const counts = { healthy: 0, unhealthy: 0, other: 0 };
  if (!targetGroupArn) return counts;
  const result = await elbv2Client().send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  for (const description of (result.TargetHealthDescriptions ?? []) as { TargetHealth?: { State?: string } }[]) {
    const state = description.TargetHealth?.State;
    if (state === 'healthy') counts.healthy++;
    else if (state === 'unhealthy') counts.unhealthy++;
    else counts.other++;
  }
  return counts;
}

async function alarmStates(name: string, plan: AlarmPlan, targetGroupArn: string | undefined): Promise<Pick<Findings, 'alarms' | 'alarmsInAlarm'>> {
  const result = await cloudwatchClient().send(new DescribeAlarmsCommand({ AlarmNames: plan.names, AlarmTypes: ['MetricAlarm'] }));
  const existing = new Map(((result.MetricAlarms ?? []) as MetricAlarm[]).map((alarm) => [alarm.AlarmName, alarm]));
  const wanted = alarmDefinitions(name, plan, targetGroupArn ?? '');
  const states = {} as Findings['alarms'];
  const inAlarm: AlarmKind[] = [];
  for (const kind of ALARM_KINDS as readonly AlarmKind[]) {
    const alarm = existing.get(wanted[kind].AlarmName);
    if (!alarm) states[kind] = 'missing';
    else states[kind] = alarmFingerprint(alarm as Record<string, unknown>) === alarmFingerprint(wanted[kind]) ? 'ok' : 'drifted';
    if (alarm?.StateValue === 'ALARM') inAlarm.push(kind);
  }
  return { alarms: states, alarmsInAlarm: inAlarm };
}

/** Tasks of `taskDefinitionArn` that stopped with an error within the window, and whether replacements failed too. */
async function failures(clusterArn: string, name: string, taskDefinitionArn: string | undefined, since: number): Promise<Findings['failures']> {
  if (!taskDefinitionArn) return { count: 0, keepsFailing: false };
  const listed = await ecsClient().send(
    // by service: task definition families are shared between environments (docs/design.md "Shared task definitions")
    new ListTasksCommand({ cluster: clusterArn, serviceName: name, desiredStatus: 'STOPPED', maxResults: 100 }),
  );
  const arns = (listed.taskArns as string[] | undefined) ?? [];
  if (arns.length === 0) return { count: 0, keepsFailing: false };
  const described = await ecsClient().send(new DescribeTasksCommand({ cluster: clusterArn, tasks: arns.slice(0, 100) }));
  const failed = ((described.tasks as Task[] | undefined) ?? [])
    .filter((task) => task.taskDefinitionArn === taskDefinitionArn && task.stoppedAt && new Date(task.stoppedAt).getTime() >= since)
    .map((task) => ({ task, reason: taskFailure({ ...(task as Record<string, unknown>), lastStatus: 'STOPPED' }) }))
    .filter((entry): entry is { task: Task; reason: string } => Boolean(entry.reason))
    .sort((a, b) => new Date(a.task.stoppedAt!).getTime() - new Date(b.task.stoppedAt!).getTime());
  if (failed.length === 0) return { count: 0, keepsFailing: false };
  // "keeps failing": a task started after an earlier one had failed, and failed as well
  const firstStop = new Date(failed[0]!.task.stoppedAt!).getTime();
  const keepsFailing = failed.some(({ task }) => {
    const started = task.startedAt ?? task.createdAt;
    return started !== undefined && new Date(started).getTime() > firstStop;
  });
  return { count: failed.length, keepsFailing, latestReason: failed.at(-1)!.reason };
}

export async function inspectEnvironment(options: InspectOptions): Promise<Inspection> {
  const { clusterArn, listenerArn, name, host } = options;
  const now = options.now ?? Date.now();
  const [found, tg, rule] = await Promise.all([
    service(clusterArn, name),
    targetGroupOf(name, options),
    hostRule(listenerArn, host),
  ]);
  const targetGroupArn = tg?.TargetGroupArn;
  const active = found?.status === 'ACTIVE' ? found : undefined;
  const taskDefinitionArn = active ? serviceFinding(active, undefined).taskDefinitionArn : undefined;
  const [image, targets, alarms, failed] = await Promise.all([
    imageOf(taskDefinitionArn),
    targetHealth(targetGroupArn),
    alarmStates(name, options.alarms, targetGroupArn),
    failures(clusterArn, name, taskDefinitionArn, now - options.failureWindowMs),
  ]);
  return {
    findings: {
      service: active ? serviceFinding(active, image) : null,
      serviceDraining: found?.status === 'DRAINING',
      targetGroupArn: targetGroupArn ?? null,
      targetGroupHealthCheck: tg && targetGroupArn ? healthCheckOf(tg) : null,
      rule: rule?.RuleArn ? { arn: rule.RuleArn, targetGroupArns: forwardTargets(rule) } : null,
      targets,
      ...alarms,
      failures: failed,
    },
    ...(rule?.RuleArn ? { ruleArn: rule.RuleArn } : {}),
  };
}
