/**
 * The EventBridge event patterns that start heals (SPEC §4 heal), shared by the CDK stack
 * (infra/aws/healing.ts: one rule per pattern, all targeting functions/events/heal-trigger.ts)
 * and local mode's event bus (infra/local/main.ts), so both deliver the same events. The
 * handler parses and filters again (functions/domain/heal-signals.ts): the patterns keep the
 * bulk of ECS events from invoking it at all.
 */
import { alarmNamePrefix } from '#domain/alarms.ts';

export type EventPattern = Record<string, unknown>;

export interface HealEventRule {
  /** construct id / local rule name */
  id: string;
  description: string;
  /** `installationId` scopes the alarm rule to this installation's alarms (functions/domain/resource-names.ts) */
  pattern: (clusterArn: string, installationId: string) => EventPattern;
}

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
    id: 'EcsServiceFailures',
    description: 'Fledge: ECS cannot start tasks, or a deployment failed, in the Fledge cluster',
    pattern: (clusterArn) => ({
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action', 'ECS Deployment State Change'],
      detail: { clusterArn: [clusterArn], eventName: ['SERVICE_TASK_START_IMPAIRED', 'SERVICE_DEPLOYMENT_FAILED'] },
    }),
  },
  {
    id: 'EcsTaskFailures',
    description: 'Fledge: a service task of the Fledge cluster stopped (failed to start, exited, failed health checks)',
    pattern: (clusterArn) => ({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [clusterArn],
        lastStatus: ['STOPPED'],
        group: [{ prefix: 'service:' }],
        stopCode: ['TaskFailedToStart', 'EssentialContainerExited', 'ServiceSchedulerInitiated'],
      },
    }),
  },
];

/**
 * Whether `event` matches `pattern`, for the subset of EventBridge's pattern language used
 * above: a list of allowed values (or `{prefix}`) per field, nested objects for nested fields.
 */
export function matchesPattern(pattern: EventPattern, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((value) =>
        expected.some((allowed) =>
          typeof allowed === 'object' && allowed !== null && 'prefix' in allowed
            ? typeof value === 'string' && value.startsWith(String((allowed as { prefix: string }).prefix))
            : value === allowed,
        ),
      );
    }
    if (expected && typeof expected === 'object') {
      return actual !== null && typeof actual === 'object' && matchesPattern(expected as EventPattern, actual as Record<string, unknown>);
    }
    return actual === expected;
  });
}
