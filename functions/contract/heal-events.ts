/**
 * The EventBridge event patterns that start heals (README "Self-healing"), shared by the CDK stack
 * (infra/aws/healing.ts: one rule per pattern, all targeting functions/events/heal-trigger.ts)
 * and local mode's event bus (infra/local/main.ts), so both deliver the same events. The
 * handler parses and filters again (functions/domain/heal-signals.ts): the patterns keep the
 * bulk of ECS events from invoking it at all.
 */
import { alarmNamePrefix } from '#domain/alarms.ts';

export type EventPattern = Record<string, unknown>;

/**
 * The Fledge cluster, as the patterns need it. On AWS (CDK) both are tokens, which can't be
 * string-manipulated: `serviceArnPrefix` (`arn:<partition>:ecs:<region>:<account>:service/<clusterName>/`)
 * is built from its parts there (infra/aws/healing.ts). Given a plain cluster ARN string
 * (local mode, tests), the prefix is derived from it.
 */
export interface ClusterTarget {
  clusterArn: string;
  serviceArnPrefix: string;
}

export interface HealEventRule {
  /** construct id / local rule name */
  id: string;
  description: string;
  /** `installationId` scopes the alarm rule to this installation's alarms (functions/domain/resource-names.ts) */
  pattern: (cluster: ClusterTarget | string, installationId: string) => EventPattern;
}

/** `arn:aws:ecs:eu-west-1:111122223333:cluster/fledge` -> `arn:aws:ecs:eu-west-1:111122223333:service/fledge/` */
export function serviceArnPrefixOf(clusterArn: string): string {
  const match = /^(arn:[^:]+:ecs:[^:]+:[^:]+:)cluster\/(.+)$/.exec(clusterArn);
  if (!match) throw new Error(`not an ECS cluster ARN: "${clusterArn}"`);
  return `${match[1]}service/${match[2]}/`;
}

const clusterTarget = (cluster: ClusterTarget | string): ClusterTarget =>
  typeof cluster === 'string' ? { clusterArn: cluster, serviceArnPrefix: serviceArnPrefixOf(cluster) } : cluster;

export const HEAL_EVENT_RULES: readonly HealEventRule[] = [
  {
    id: 'AlarmStateChanges',
    description: 'Fledge: per-environment alarms of this installation (fledge-<installation>-<name>-<kind>) entering ALARM start a heal',
    // only this installation's alarms: another installation in the account has its own prefix
    pattern: (_clusterArn, installationId) => ({
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { alarmName: [{ prefix: alarmNamePrefix(installationId) }], state: { value: ['ALARM'] } },
    }),
  },
  {
    // "ECS Deployment State Change" details carry no clusterArn: the service ARN is in
    // `resources` (Amazon ECS Developer Guide, "Amazon ECS service deployment state change
    // events"); "ECS Service Action" events carry it there too ("Amazon ECS service action
    // events"). So both are matched on `resources` with a prefix, which EventBridge applies to
    // each element of an array (Amazon EventBridge User Guide, "Event patterns": "Prefix
    // matching"; "If the value in the event is an array, then the event pattern matches if the
    // intersection of the event pattern array and the event array is non-empty").
    id: 'EcsServiceFailures',
    description: 'Fledge: ECS cannot start tasks, or a deployment failed, in the Fledge cluster',
    pattern: (cluster) => ({
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action', 'ECS Deployment State Change'],
      resources: [{ prefix: clusterTarget(cluster).serviceArnPrefix }],
      detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'SERVICE_DEPLOYMENT_FAILED'] },
    }),
  },
  {
    // task state change details carry clusterArn (Amazon ECS Developer Guide, "Amazon ECS task state change events")
    id: 'EcsTaskFailures',
    description: 'Fledge: a service task of the Fledge cluster stopped (failed to start, exited, failed health checks)',
    pattern: (cluster) => ({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [clusterTarget(cluster).clusterArn],
        lastStatus: ['STOPPED'],
        group: [{ prefix: 'service:' }],
        stopCode: ['TaskFailedToStart', 'EssentialContainerExited', 'ServiceSchedulerInitiated'],
      },
    }),
  },
];

/**
 * Whether `event` matches `pattern`, for the subset of EventBridge's pattern language used
 * above: a list of allowed values (or `{prefix}`) per field, nested objects for nested fields;
 * an array in the event matches when any of its elements does (Amazon EventBridge User Guide,
 * "Event patterns"). Other operators are refused rather than silently mismatched.
 */
export function matchesPattern(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      if (actual === undefined) return false;
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((value) =>
        expected.some((allowed) => {
          if (typeof allowed !== 'object' || allowed === null) return value === allowed;
          const operators = Object.keys(allowed);
          if (operators.length !== 1 || operators[0] !== 'prefix') throw new Error(`matchesPattern: unsupported operator ${JSON.stringify(allowed)}`);
          return typeof value === 'string' && value.startsWith(String((allowed as { prefix: string }).prefix));
        }),
      );
    }
    if (expected && typeof expected === 'object') {
      return actual !== null && typeof actual === 'object' && matchesPattern(expected as EventPattern, actual as Record<string, unknown>);
    }
    return actual === expected;
  });
}
