/**
 * Renders the request inputs of the workflow's AWS steps from an environment spec. Pure.
 *
 * The workflows call ECS and Elastic Load Balancing through Step Functions' AWS SDK
 * integrations, whose parameters are PascalCase whatever the service's own casing
 * (ECS `containerDefinitions` is `ContainerDefinitions` there), so everything rendered here
 * is in that shape. The ASL names each top-level parameter itself and takes the nested,
 * spec-dependent values (container definitions, network configuration...) from this plan.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { executionRoleArnFor } from './execution-roles.ts';
import { renderAlarmPlan, type AlarmPlan } from './alarms.ts';
import type { EnvironmentSpec } from './environment-spec.ts';
import { targetGroupName } from './resource-names.ts';
import { renderHooks, type HookName, type HookPlan } from './hooks.ts';

/** The one container of every environment's task definition (docs/design.md). */
export const CONTAINER_NAME = 'app';

/**
 * Task definitions are content-addressed and shared (docs/design.md "Shared task
 * definitions"): the family is `fledge-td-<hash of the rendered definition>`, so every
 * environment whose definition renders identically uses the same family, and a create finds
 * it already registered instead of spending a RegisterTaskDefinition call (AWS: a bucket of
 * 20, refilled at 1 a second, account-wide). The hash is 32 hex digits, so a family never
 * collides with the per-environment `fledge-<name>` families of earlier versions (names are
 * at most 32 characters).
 */
export const TASK_DEFINITION_FAMILY_PREFIX = 'fledge-td-';

/** The tag that carries the content hash on every task definition revision Fledge registers. */
export const TASK_DEFINITION_HASH_TAG = 'fledge:task-definition-hash';

/**
 * The awslogs stream prefix of every environment: fixed, because anything environment-specific
 * in the definition would make it unshareable. A stream is `fledge/app/<task id>`; the task id
 * leads to the environment through ECS (the task's `group` is `service:<name>`, and its tags,
 * propagated from the service, carry `fledge:environment`).
 */
export const LOG_STREAM_PREFIX = 'fledge';

/**
 * The parameters of RegisterTaskDefinition that are the same for every environment: every
 * RegisterTaskDefinition state takes them from here (statemachines/source/fragments.ts), and
 * they are part of the content hash, so changing them yields new families.
 * test/unit/domain/resource-plan.test.ts checks the ASL against them.
 */
export const TASK_DEFINITION_CONSTANTS = {
  NetworkMode: 'awsvpc',
  RequiresCompatibilities: ['FARGATE'],
  RuntimePlatform: { OperatingSystemFamily: 'LINUX', CpuArchitecture: 'X86_64' },
} as const;

/** Bump when the rendering changes in a way the fields themselves do not show. */
const TASK_DEFINITION_SCHEMA = 1;

/**
 * Deregistration delay of a preview's target group. The ALB default (300 s) lets in-flight
 * requests drain for five minutes before a replaced task stops; previews carry no
 * long-lived connections worth protecting, and those 300 s would be added to every deploy,
 * rollback and teardown. 5 s keeps a rollout snappy while still finishing quick requests.
 */
export const DEREGISTRATION_DELAY_SECONDS = 5;

export interface PlanSettings {
  clusterArn: string;
  subnetIds: string[];
  securityGroupIds: string[];
  assignPublicIp: 'ENABLED' | 'DISABLED';
  /** the shared execution role (reads no secret); a spec with secrets gets its repository's role (functions/domain/execution-roles.ts) */
  executionRoleArn: string;
  taskRoleArn: string;
  logGroup: string;
  region: string;
  baseDomain: string;
  /** the shared listener (its load balancer is a dimension of the environment's alarms) */
  listenerArn?: string;
  /** scopes the target group and alarm names (functions/domain/resource-names.ts) */
  installationId: string;
}

export interface KeyValue {
  Key: string;
  Value: string;
}

export interface ContainerDefinition {
  Name: string;
  Image: string;
  Essential: boolean;
  PortMappings: { ContainerPort: number; Protocol: 'tcp'; Name: string }[];
  Environment: { Name: string; Value: string }[];
  Secrets: { Name: string; ValueFrom: string }[];
  LogConfiguration: { LogDriver: 'awslogs'; Options: Record<string, string> };
  StopTimeout: number;
}

export interface ResourcePlan {
  /** the host the listener rule matches (`<name>.<baseDomain>`) */
  hostHeaders: string[];
  /** RegisterTaskDefinition's input (with TASK_DEFINITION_CONSTANTS): nothing environment-specific */
  taskDefinition: {
    Family: string;
    Cpu: string;
    Memory: string;
    ExecutionRoleArn: string;
    TaskRoleArn: string;
    ContainerDefinitions: ContainerDefinition[];
  };
  targetGroup: {
    /** `<installation>-<name prefix>-<hash>` (functions/domain/resource-names.ts): CreateTargetGroup's Name */
    Name: string;
    Port: number;
    HealthCheckPath: string;
    HealthCheckIntervalSeconds: number;
    HealthCheckTimeoutSeconds: number;
    HealthyThresholdCount: number;
    UnhealthyThresholdCount: number;
  };
  service: {
    DesiredCount: number;
    ContainerPort: number;
    NetworkConfiguration: {
      AwsvpcConfiguration: { Subnets: string[]; SecurityGroups: string[]; AssignPublicIp: 'ENABLED' | 'DISABLED' };
    };
    /** time a new task may fail ALB health checks before ECS replaces it */
    HealthCheckGracePeriodSeconds: number;
    /** idempotency token of CreateService (same operation and spec version = same token) */
    ClientToken: string;
  };
  /** content hash of the task definition (its family is `fledge-td-<hash>`; also a tag) */
  taskDefinitionHash: string;
  /** the image this plan deploys (for events and the healthy-image history) */
  image: string;
  /** names, thresholds and dimensions of the per-environment alarms (functions/domain/alarms.ts) */
  alarms: AlarmPlan;
  /** the spec's hooks, as the workflows run them (functions/domain/hooks.ts); absent when it has none */
  hooks?: Partial<Record<HookName, HookPlan>>;
}

export function renderEnvironment(variables: Record<string, string>): { Name: string; Value: string }[] {
  return Object.entries(variables)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Name, Value]) => ({ Name, Value }));
}

export function renderSecrets(secrets: Record<string, string>): { Name: string; ValueFrom: string }[] {
  return Object.entries(secrets)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Name, ValueFrom]) => ({ Name, ValueFrom }));
}


/**
 * 32 hex digits of SHA-256 over everything RegisterTaskDefinition receives, and the repository
 * it is shared within. Environments of one repository with the same definition share a family;
 * two repositories never do: RegisterTaskDefinition numbers revisions of a family, so a shared
 * family's revision would tell repository A whether repository B already runs exactly this
 * image, these variables and these secret ARNs (one guess per update; docs/security.md).
 */
export function taskDefinitionHash(taskDefinition: Omit<ResourcePlan['taskDefinition'], 'Family'>, repository: string | undefined): string {
  const { Cpu, Memory, ExecutionRoleArn, TaskRoleArn, ContainerDefinitions } = taskDefinition;
  const content = { schema: TASK_DEFINITION_SCHEMA, ...TASK_DEFINITION_CONSTANTS, Cpu, Memory, ExecutionRoleArn, TaskRoleArn, ContainerDefinitions, sharedWithin: repository ?? null };
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 32);
}

export const taskDefinitionFamily = (hash: string) => `${TASK_DEFINITION_FAMILY_PREFIX}${hash}`;

/** Deterministic, at most 36 ASCII characters (the ECS ClientToken limit). */
export function clientToken(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

export function renderPlan(
  name: string,
  spec: EnvironmentSpec,
  settings: PlanSettings,
  operationId: string,
  specVersion: number,
): ResourcePlan {
  const hc = spec.healthCheck;
  const definition = renderTaskDefinition(spec, settings);
  const hash = taskDefinitionHash(definition, spec.labels.repository);
  const hooks = renderHooks(spec.hooks);
  return {
    hostHeaders: [`${name}.${settings.baseDomain}`],
    image: spec.image,
    alarms: renderAlarmPlan(name, spec, settings),
    ...(hooks ? { hooks } : {}),
    taskDefinition: { Family: taskDefinitionFamily(hash), ...definition },
    taskDefinitionHash: hash,
    targetGroup: {
      Name: targetGroupName(settings.installationId, name),
      Port: spec.port,
      HealthCheckPath: hc.path,
      HealthCheckIntervalSeconds: hc.intervalSeconds,
      HealthCheckTimeoutSeconds: hc.timeoutSeconds,
      HealthyThresholdCount: hc.healthyThreshold,
      UnhealthyThresholdCount: hc.unhealthyThreshold,
    },
    service: {
      DesiredCount: spec.desiredCount,
      ContainerPort: spec.port,
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          Subnets: settings.subnetIds,
          SecurityGroups: settings.securityGroupIds,
          AssignPublicIp: settings.assignPublicIp,
        },
      },
      // enough for the first healthy checks of a quickly starting app, short enough that
      // a task that never answers is replaced (and trips the circuit breaker) soon
      HealthCheckGracePeriodSeconds: Math.max(30, hc.intervalSeconds * hc.healthyThreshold * 2),
      ClientToken: clientToken(name, operationId, specVersion),
    },
  };
}

/** The task definition of a spec: nothing in it names the environment (docs/design.md "Shared task definitions"). */
export function renderTaskDefinition(spec: EnvironmentSpec, settings: PlanSettings): Omit<ResourcePlan['taskDefinition'], 'Family'> {
  return {
    Cpu: String(spec.cpu),
    Memory: String(spec.memory),
    // the repository's own role when the spec has secrets, the shared one otherwise (docs/security.md "Secrets")
    ExecutionRoleArn: executionRoleArnFor(spec, settings),
    TaskRoleArn: settings.taskRoleArn,
    ContainerDefinitions: [
      {
        Name: CONTAINER_NAME,
        Image: spec.image,
        Essential: true,
        PortMappings: [{ ContainerPort: spec.port, Protocol: 'tcp', Name: 'http' }],
        Environment: renderEnvironment(spec.environment),
        Secrets: renderSecrets(spec.secrets),
        LogConfiguration: {
          LogDriver: 'awslogs',
          Options: {
            'awslogs-group': settings.logGroup,
            'awslogs-region': settings.region,
            'awslogs-stream-prefix': LOG_STREAM_PREFIX,
          },
        },
        // previews need no long graceful shutdown; ECS' default is 30 s
        StopTimeout: 10,
      },
    ],
  };
}

/** A target group's health check in ModifyTargetGroup's parameter shape (the plan's `targetGroup`, or a DescribeTargetGroups answer). */
export type TargetGroupHealthCheck = Pick<
  ResourcePlan['targetGroup'],
  'HealthCheckPath' | 'HealthCheckIntervalSeconds' | 'HealthCheckTimeoutSeconds' | 'HealthyThresholdCount' | 'UnhealthyThresholdCount'
>;

const HEALTH_CHECK_KEYS = [
  'HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount',
] as const;

/** The health check of a target group (or of a plan's), or undefined when a setting is missing (nothing certain to restore). */
export function targetGroupHealthCheck(tg: { [K in keyof TargetGroupHealthCheck]?: TargetGroupHealthCheck[K] | undefined } | undefined): TargetGroupHealthCheck | undefined {
  if (!tg || HEALTH_CHECK_KEYS.some((key) => tg[key] === undefined)) return undefined;
  return {
    HealthCheckPath: tg.HealthCheckPath!,
    HealthCheckIntervalSeconds: tg.HealthCheckIntervalSeconds!,
    HealthCheckTimeoutSeconds: tg.HealthCheckTimeoutSeconds!,
    HealthyThresholdCount: tg.HealthyThresholdCount!,
    UnhealthyThresholdCount: tg.UnhealthyThresholdCount!,
  };
}

export function sameHealthCheck(a: TargetGroupHealthCheck, b: TargetGroupHealthCheck): boolean {
  return HEALTH_CHECK_KEYS.every((key) => a[key] === b[key]);
}

/**
 * `{ previousHealthCheck }` for the workflow state: the health check the target group has now,
 * when the plan's ModifyTargetGroup is about to change it. A deployment the circuit breaker
 * rolls back puts it back (RestoreHealthCheck) and the spec says it again. Empty when nothing
 * changes or what the target group has is not known.
 */
export function previousHealthCheckFor(current: TargetGroupHealthCheck | undefined, plan: ResourcePlan): { previousHealthCheck?: TargetGroupHealthCheck } {
  const planned = targetGroupHealthCheck(plan.targetGroup);
  if (!current || !planned || sameHealthCheck(current, planned)) return {};
  return { previousHealthCheck: targetGroupHealthCheck(current)! };
}

/** The spec's `healthCheck` for a target group's health check. */
export function specHealthCheck(hc: TargetGroupHealthCheck): EnvironmentSpec['healthCheck'] {
  return {
    path: hc.HealthCheckPath,
    intervalSeconds: hc.HealthCheckIntervalSeconds,
    timeoutSeconds: hc.HealthCheckTimeoutSeconds,
    healthyThreshold: hc.HealthyThresholdCount,
    unhealthyThreshold: hc.UnhealthyThresholdCount,
  };
}

/** `path /healthz every 10 s (timeout 5 s, 2 healthy / 3 unhealthy)`, for events. */
export function describeHealthCheck(hc: TargetGroupHealthCheck): string {
  return `path ${hc.HealthCheckPath} every ${hc.HealthCheckIntervalSeconds} s (timeout ${hc.HealthCheckTimeoutSeconds} s, ${hc.HealthyThresholdCount} healthy / ${hc.UnhealthyThresholdCount} unhealthy)`;
}

/** `; the target group's health check was set back to ... (from ...)` for a rolled-back event, when RestoreHealthCheck ran; else ''. */
export function healthCheckRestored(failed: TargetGroupHealthCheck | undefined, restored: TargetGroupHealthCheck | undefined): string {
  if (!restored) return '';
  return `; the target group's health check was set back to ${describeHealthCheck(restored)}${failed ? ` (from ${describeHealthCheck(failed)})` : ''}`;
}

/** The `rolled-back` event's details naming the failed and the restored health check, when they differ. */
export function healthCheckRollbackDetails(failed: TargetGroupHealthCheck | undefined, restored: TargetGroupHealthCheck | undefined): Record<string, unknown> {
  if (!restored || !failed || sameHealthCheck(failed, restored)) return {};
  return { failedHealthCheck: specHealthCheck(failed), restoredHealthCheck: specHealthCheck(restored) };
}
