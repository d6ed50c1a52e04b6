/**
 * The per-environment CloudWatch alarms (README "Self-healing"), pure.
 *
 * Three alarms per environment, named `fledge-<installation>-<name>-<kind>` (the installation
 * id keeps two installations in one account apart: functions/domain/resource-names.ts) and
 * tagged `fledge:environment=<name>`; their state changes (EventBridge "CloudWatch Alarm State
 * Change") start a heal (functions/events/heal-trigger.ts):
 *  - `tasks`: fewer tasks running than the spec wants (Container Insights RunningTaskCount
 *    below the desired count, or below autoscaling's minCount) for 3 periods in a row. Missing
 *    data is breaching: a service deleted out of band publishes nothing.
 *  - `unhealthy`: any unhealthy target in the environment's target group (UnHealthyHostCount).
 *    One period is enough: a target is only unhealthy after failing UnhealthyThresholdCount
 *    consecutive checks, which is already a sustained failure.
 *  - `5xx`: the share of 5xx answers from the application, as metric math
 *    `IF(requests >= 10, 100 * errors / requests, 0)` over HTTPCode_Target_5XX_Count and
 *    RequestCount, at least 10 % for 3 periods; fewer than 10 requests a minute never alarm.
 *
 * The PutMetricAlarm requests are written once, below, over a value type: the workflows'
 * PutMetricAlarm states (statemachines/source/fragments.ts) fill them with JSONPath references
 * to `ResourcePlan.alarms` (names, thresholds, dimensions known at run time), and
 * `alarmDefinitions` with the values themselves, for the heal's comparison of what exists with
 * what should.
 */
import type { EnvironmentSpec } from './environment-spec.ts';

export const ALARM_KINDS = ['tasks', 'unhealthy', '5xx'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const ALARM_PERIOD_SECONDS = 60;
/** the share of 5xx answers (percent) that counts as failing */
export const ERROR_RATE_PERCENT = 10;
/** fewer requests than this in a period never count as a 5xx rate */
export const ERROR_RATE_MIN_REQUESTS = 10;
export const ERROR_RATE_EXPRESSION = `IF(requests >= ${ERROR_RATE_MIN_REQUESTS}, 100 * errors / requests, 0)`;

/**
 * What every alarm name of an installation starts with (`fledge-<installation>-`): the heal
 * rule (functions/contract/heal-events.ts) matches this prefix only. Installation ids have no hyphen, so no
 * installation's prefix is a prefix of another's.
 */
export const alarmNamePrefix = (installationId: string) => `fledge-${installationId}-`;

/** `fledge-<installation>-<name>-<kind>`: at most 7 + 8 + 1 + 32 + 10 characters (CloudWatch allows 255). */
export const alarmName = (installationId: string, name: string, kind: AlarmKind) => `${alarmNamePrefix(installationId)}${name}-${kind}`;

/** The alarm names of earlier versions, `fledge-<name>-<kind>` (found and deleted by the teardown). */
export const legacyAlarmName = (name: string, kind: AlarmKind) => `fledge-${name}-${kind}`;

const KIND_SUFFIX = new RegExp(`^(.+)-(${ALARM_KINDS.join('|')})$`);

/**
 * `fledge-<installation>-pr-42-tasks` -> `{environment: 'pr-42', kind: 'tasks'}` for this
 * installation; another installation's alarm, a legacy name or anything else -> undefined.
 */
export function parseAlarmName(alarm: string, installationId: string): { environment: string; kind: AlarmKind } | undefined {
  const prefix = alarmNamePrefix(installationId);
  if (!alarm.startsWith(prefix)) return undefined;
  const match = KIND_SUFFIX.exec(alarm.slice(prefix.length));
  if (!match) return undefined;
  return { environment: match[1]!, kind: match[2] as AlarmKind };
}

/** The fewest tasks the environment should run: the desired count, or autoscaling's floor. */
export function minimumRunningTasks(spec: { desiredCount: number; autoscaling?: EnvironmentSpec['autoscaling'] }): number {
  if (spec.desiredCount === 0) return 0;
  return spec.autoscaling ? spec.autoscaling.minCount : spec.desiredCount;
}

/** `arn:...:cluster/<name>` -> `<name>` */
const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

/** The ALB's CloudWatch dimension (`app/<name>/<id>`) from its listener's ARN (`...:listener/app/<name>/<id>/<listener>`). */
export function loadBalancerDimension(listenerArn: string): string {
  const path = listenerArn.slice(listenerArn.indexOf(':listener/') + ':listener/'.length);
  return path.split('/').slice(0, 3).join('/');
}

/** A target group's CloudWatch dimension (`targetgroup/<name>/<id>`): what follows the last `:` of its ARN. */
export function targetGroupDimension(targetGroupArn: string): string {
  return targetGroupArn.slice(targetGroupArn.lastIndexOf(':') + 1);
}

export interface AlarmSettings {
  clusterArn: string;
  /** the `LoadBalancer` dimension of the environment's shard (functions/domain/shards.ts): the ALB its target group is on */
  loadBalancerDimension: string;
  installationId: string;
}

export interface AlarmPlan {
  names: string[];
  tasks: {
    AlarmName: string;
    AlarmDescription: string;
    Threshold: number;
    ClusterName: string;
    /** `breaching` (a deleted service publishes nothing); `notBreaching` at threshold 0: a sleeping environment never alarms */
    TreatMissingData: 'breaching' | 'notBreaching';
  };
  unhealthy: { AlarmName: string; AlarmDescription: string; LoadBalancer: string };
  errors: { AlarmName: string; AlarmDescription: string; LoadBalancer: string };
}

export function renderAlarmPlan(
  name: string,
  spec: { desiredCount: number; autoscaling?: EnvironmentSpec['autoscaling'] },
  settings: AlarmSettings,
): AlarmPlan {
  const loadBalancer = settings.loadBalancerDimension;
  const minimum = minimumRunningTasks(spec);
  return {
    names: ALARM_KINDS.map((kind) => alarmName(settings.installationId, name, kind)),
    tasks: {
      AlarmName: alarmName(settings.installationId, name, 'tasks'),
      AlarmDescription:
        minimum === 0
          ? `Fledge environment ${name}: asleep (0 tasks wanted): never alarms until it wakes`
          : `Fledge environment ${name}: fewer than ${minimum} task(s) running for 3 minutes (starts a heal)`,
      Threshold: minimum,
      ClusterName: lastSegment(settings.clusterArn),
      TreatMissingData: minimum === 0 ? 'notBreaching' : 'breaching',
    },
    unhealthy: {
      AlarmName: alarmName(settings.installationId, name, 'unhealthy'),
      AlarmDescription: `Fledge environment ${name}: a target of its target group failed its health checks (starts a heal)`,
      LoadBalancer: loadBalancer,
    },
    errors: {
      AlarmName: alarmName(settings.installationId, name, '5xx'),
      AlarmDescription: `Fledge environment ${name}: at least ${ERROR_RATE_PERCENT} % of requests answered 5xx for 3 minutes (starts a heal)`,
      LoadBalancer: loadBalancer,
    },
  };
}

/**
 * The tasks alarm while a scale moves the service from `fromCount` tasks to what `spec` wants:
 * never above either count, so tasks that a scale-down stops (or a scale-up has not started
 * yet) do not look like a failure and start a heal. The scale workflow puts this one before
 * it changes the service, and the spec's own (`renderAlarmPlan`) once the service is steady.
 */
export function transitionalTasksAlarm(
  name: string,
  spec: { desiredCount: number; autoscaling?: EnvironmentSpec['autoscaling'] },
  fromCount: number,
  settings: AlarmSettings,
): AlarmPlan['tasks'] {
  const threshold = Math.max(0, Math.min(minimumRunningTasks(spec), fromCount));
  return renderAlarmPlan(name, { desiredCount: threshold }, settings).tasks;
}

const tags = <V>(name: V) => [
  { Key: 'fledge:environment', Value: name },
  { Key: 'fledge:managed-by', Value: 'fledge' },
];

export type PutMetricAlarmInput = Record<string, unknown> & { AlarmName: string };

/** What a tasks alarm request takes besides the fixed metric: `V` is a value, or a reference to one. */
export interface TasksAlarmValues<V> {
  AlarmName: V;
  AlarmDescription: V;
  Threshold: V;
  ClusterName: V;
  TreatMissingData: V;
}
export interface TargetGroupAlarmValues<V> {
  AlarmName: V;
  AlarmDescription: V;
  LoadBalancer: V;
}

/** PutMetricAlarm (Step Functions' PascalCase) of the `tasks` alarm of the service `service`. */
export function tasksAlarmRequest<V>(service: V, tasks: TasksAlarmValues<V>) {
  return {
    AlarmName: tasks.AlarmName,
    AlarmDescription: tasks.AlarmDescription,
    Namespace: 'ECS/ContainerInsights',
    MetricName: 'RunningTaskCount',
    Dimensions: [
      { Name: 'ClusterName', Value: tasks.ClusterName },
      { Name: 'ServiceName', Value: service },
    ],
    Statistic: 'Maximum',
    Period: ALARM_PERIOD_SECONDS,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    Threshold: tasks.Threshold,
    ComparisonOperator: 'LessThanThreshold',
    TreatMissingData: tasks.TreatMissingData,
    Tags: tags(service),
  };
}

const albDimensions = <V>(targetGroup: V, loadBalancer: V) => [
  { Name: 'TargetGroup', Value: targetGroup },
  { Name: 'LoadBalancer', Value: loadBalancer },
];

/** The `unhealthy` alarm; `targetGroup` is the target group's dimension (`targetgroup/<name>/<id>`). */
export function unhealthyAlarmRequest<V>(service: V, targetGroup: V, unhealthy: TargetGroupAlarmValues<V>) {
  return {
    AlarmName: unhealthy.AlarmName,
    AlarmDescription: unhealthy.AlarmDescription,
    Namespace: 'AWS/ApplicationELB',
    MetricName: 'UnHealthyHostCount',
    Dimensions: albDimensions(targetGroup, unhealthy.LoadBalancer),
    Statistic: 'Maximum',
    Period: ALARM_PERIOD_SECONDS,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    Tags: tags(service),
  };
}

/** The `5xx` alarm: the share of 5xx answers as metric math over two ALB metrics. */
export function errorRateAlarmRequest<V>(service: V, targetGroup: V, errors: TargetGroupAlarmValues<V>) {
  const metric = (id: string, metricName: string) => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/ApplicationELB', MetricName: metricName, Dimensions: albDimensions(targetGroup, errors.LoadBalancer) },
      Period: ALARM_PERIOD_SECONDS,
      Stat: 'Sum',
    },
    ReturnData: false,
  });
  return {
    AlarmName: errors.AlarmName,
    AlarmDescription: errors.AlarmDescription,
    Metrics: [
      metric('errors', 'HTTPCode_Target_5XX_Count'),
      metric('requests', 'RequestCount'),
      { Id: 'rate', Expression: ERROR_RATE_EXPRESSION, Label: '5xx answers (%)', ReturnData: true },
    ],
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    Threshold: ERROR_RATE_PERCENT,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    Tags: tags(service),
  };
}

/** The PutMetricAlarm requests the workflows send for `name`, in ALARM_KINDS order. */
export function alarmDefinitions(name: string, plan: AlarmPlan, targetGroupArn: string): Record<AlarmKind, PutMetricAlarmInput> {
  const tg = targetGroupDimension(targetGroupArn);
  return {
    // its values mix strings and the numeric threshold
    tasks: tasksAlarmRequest<unknown>(name, plan.tasks) as PutMetricAlarmInput,
    unhealthy: unhealthyAlarmRequest(name, tg, plan.unhealthy),
    '5xx': errorRateAlarmRequest(name, tg, plan.errors),
  };
}

/** What of an alarm the heal compares (DescribeAlarms answers more, and answers Tags not at all). */
export function alarmFingerprint(alarm: Record<string, unknown>): string {
  const pick = (value: Record<string, unknown> | undefined) => value ?? {};
  const dims = (list: unknown) =>
    ((list as { Name?: string; Value?: string }[] | undefined) ?? [])
      .map((d) => `${d.Name}=${d.Value}`)
      .sort()
      .join(',');
  const metrics = ((alarm.Metrics as Record<string, unknown>[] | undefined) ?? []).map((m) => {
    const stat = pick(m.MetricStat as Record<string, unknown>);
    const metric = pick(stat.Metric as Record<string, unknown>);
    return [m.Id, m.Expression ?? '', metric.Namespace ?? '', metric.MetricName ?? '', dims(metric.Dimensions), stat.Period ?? '', stat.Stat ?? '', m.ReturnData ?? ''].join('|');
  });
  return JSON.stringify([
    alarm.Namespace ?? '',
    alarm.MetricName ?? '',
    dims(alarm.Dimensions),
    alarm.Statistic ?? '',
    alarm.Period ?? '',
    alarm.EvaluationPeriods,
    alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods,
    Number(alarm.Threshold),
    alarm.ComparisonOperator,
    alarm.TreatMissingData ?? 'missing',
    metrics,
  ]);
}
