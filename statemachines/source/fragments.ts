/**
 * States and sequences more than one workflow has, as functions of what differs between them
 * (where they go next, where a failure goes, which path holds a value). A fragment takes the
 * state's own fields last (`fields`: Comment, Catch, Next, or a Retry that differs), so they
 * win over its defaults.
 */
import { TASK_DEFINITION_CONSTANTS } from '#domain/resource-plan.ts';
import {
  ERROR_RATE_MIN_REQUESTS,
  ERROR_RATE_PERCENT,
  errorRateAlarmRequest,
  tasksAlarmRequest,
  unhealthyAlarmRequest,
} from '#domain/alarms.ts';
import {
  $,
  catchAll,
  catchErrors,
  environmentTags,
  isTrue,
  type Json,
  lambdaTask,
  lambdaTaskWithToken,
  type Path,
  sdkTask,
  type State,
  type States,
  type TaskLambda,
  withPaths,
} from './asl.ts';
import {
  autoscalingAccessRetry,
  autoscalingRetry,
  cloudwatchRetry,
  ecsClientRetry,
  ecsRetry,
  ecsServerRetry,
  ecsThrottlingRetry,
  elbRetry,
  lambdaPatientRetry,
  lambdaRetry,
  lambdaRoute53ThrottlingRetry,
  lambdaSteadyStateThrottlingRetry,
  lambdaServiceRetry,
  lambdaThrottlingRetry,
  route53Retry,
  route53ServerRetry,
  steadyStateTimeoutRetry,
  targetGroupInUseRetry,
} from './retry-policies.ts';

type Fields = State & { Comment?: string };

export const succeed: State = { Type: 'Succeed' };

/** The end of the failure path when even the fallback could not record the outcome. */
export const operationNotRecorded: State = {
  Type: 'Fail',
  Error: 'OperationNotRecorded',
  Cause:
    'The operation failed and recording its end failed too, after retries for minutes: the environment record still says the operation runs. The failed-executions alarm fires; the scheduled cleanup settles the operation (it checks the execution, which no longer runs).',
};

// ---- task Lambdas that record the operation ----

/** What the recording Lambdas are sent: the workflow, the execution, the whole state. */
const operationPayload = (workflow: string, extra: State = {}): State => ({
  Payload: { workflow, ...extra, 'executionArn.$': '$$.Execution.Id', 'state.$': '$' },
});

/** A task Lambda that takes the state and answers the next one. */
export function operationStep(lambda: TaskLambda, workflow: string, fields: Fields): State {
  return lambdaTask(lambda, { Parameters: operationPayload(workflow), OutputPath: '$.Payload', Retry: [lambdaRetry], ...fields });
}

/** A step's error goes to FailOperation, which records it (at `$.error`). */
export const failOperation = catchAll('$.error', 'FailOperation');

const FALLBACK_COMMENT =
  'FailOperation itself failed (after its retries): the same Lambda records FAILED with the least it needs (no stopped tasks, no convergence), so the operation ends now instead of at the hourly stuck-operation sweep.';

/**
 * The failure path's last steps: `name` records the failure with `lambda`; if that fails after
 * its retries, `<lambda>Fallback` calls it again with `fallback: true` (the least it needs, longer
 * retries); if that fails too, OperationNotRecorded.
 */
export function recordFailure(
  name: string,
  lambda: TaskLambda,
  workflow: string,
  options: { comment?: string; next: string; fallbackComment: string; fallbackNext?: string },
): States {
  return {
    [name]: operationStep(lambda, workflow, {
      ...(options.comment === undefined ? {} : { Comment: options.comment }),
      Catch: [catchAll('$.terminalError', `${lambda}Fallback`)],
      Next: options.next,
    }),
    [`${lambda}Fallback`]: operationStep(lambda, workflow, {
      Comment: options.fallbackComment,
      Parameters: operationPayload(workflow, { fallback: true }),
      Retry: [lambdaPatientRetry],
      Catch: [catchAll('$.fallbackError', 'OperationNotRecorded')],
      Next: options.fallbackNext ?? options.next,
    }),
    OperationNotRecorded: operationNotRecorded,
  };
}

/**
 * The end of a failed rollout of `workflow`: FailOperation records FAILED (its fallback the
 * least it needs); a spec accepted meanwhile goes round again at `converge`, else the
 * execution fails with the error `failed`.
 */
export function failRollout(workflow: string, { converge, failed, cause }: { converge: string; failed: string; cause: string }): States {
  return {
    ...recordFailure('FailOperation', 'FailOperation', workflow, {
      next: 'CheckDesiredSpecAfterFailure',
      fallbackComment: FALLBACK_COMMENT,
      fallbackNext: failed,
    }),
    CheckDesiredSpecAfterFailure: convergeChoice(converge, failed),
    [failed]: { Type: 'Fail', Error: failed, Cause: cause },
  };
}

/** The desired spec moved while the pass ran (`$.converge`, set by the recording Lambda): go round again at `next`. */
export function convergeChoice(next: string, otherwise: string, options: { comment?: string; more?: Json[] } = {}): State {
  return {
    Type: 'Choice',
    Comment: options.comment ?? 'The desired spec moved while this pass ran: go round again with the newest spec (latest accepted spec wins).',
    Choices: [{ ...isTrue('$.converge'), Next: next }, ...(options.more ?? [])],
    Default: otherwise,
  };
}

// ---- waiting for the service ----

/** AwaitSteadyState answered DeploymentRolledBack: the circuit breaker rolled the deployment back. */
export const rolledBack = catchErrors(['DeploymentRolledBack'], 'HealthCheckChanged', '$.rollback');

/**
 * Waits for the ECS service to be steady: TimeoutSeconds (30) is the poll interval and each
 * Retry on States.Timeout polls again, `polls` times at most.
 */
export function awaitSteadyState(options: { desiredCount: string; phase?: string; payload?: State; polls?: number }, fields: Fields): State {
  const polls = options.polls ?? 29;
  return lambdaTaskWithToken('AwaitSteadyState', {
    Comment: `Waits for the ECS service to be steady with this deployment: on the ECS event (AwaitSteadyState stores the task token, the ECS service event handler answers it) or on a poll (each entry reads the service and answers at once when it is steady, failed or rolled back). TimeoutSeconds is the poll interval, and the Retry on States.Timeout polls again, ${polls} times at most: about ${(polls + 1) * 30} s in all is the backstop (TIMEOUT).`,
    Parameters: {
      Payload: {
        'taskToken.$': '$$.Task.Token',
        'name.$': '$.name',
        'operationId.$': '$.operationId',
        'phase.$': options.phase ?? '$.phase',
        'taskDefinitionArn.$': '$.taskDefinition.arn',
        'executionArn.$': '$$.Execution.Id',
        'desiredCount.$': options.desiredCount,
        ...options.payload,
      },
    },
    TimeoutSeconds: 30,
    ResultPath: '$.steadyState',
    Retry: [steadyStateTimeoutRetry(polls), lambdaServiceRetry, lambdaSteadyStateThrottlingRetry],
    ...fields,
  });
}

/**
 * After a rollback: HealthCheckChanged puts back the health check `changedBy` changed
 * (RestoreHealthCheck), then `recorder` records the outcome.
 */
export function healthCheckRollback(changedBy: string, recorder: string, onError: State): States {
  return {
    HealthCheckChanged: {
      Type: 'Choice',
      Comment: `A rolled-back pass whose ${changedBy} changed the target group's health check ($.previousHealthCheck, set when the pass was planned) puts the previous one back first.`,
      Choices: [{ Variable: '$.previousHealthCheck', IsPresent: true, Next: 'RestoreHealthCheck' }],
      Default: recorder,
    },
    RestoreHealthCheck: applyHealthCheck('$.previousHealthCheck', {
      Comment: `The circuit breaker rolled the deployment back to the previous revision: the target group's health check goes back to what it was before ${changedBy} changed it (the previous image may not serve the new path), and ${recorder} records it as the spec's healthCheck (like the image).`,
      Catch: [onError],
      Next: recorder,
    }),
  };
}

/**
 * The end of a rollout of `workflow`: AwaitSteadyState (a rollback restores the health check
 * `changedBy` changed), then `whenSteady` (a hook, which goes on to CompleteOperation), CompleteOperation records the outcome, CheckDesiredSpec goes round
 * again at `converge` when the spec moved meanwhile, else ends at `done`.
 */
export function completeRollout(
  workflow: string,
  onError: State,
  { changedBy, converge, done, whenSteady = 'CompleteOperation' }: { changedBy: string; converge: string; done: string; whenSteady?: string },
): States {
  return {
    AwaitSteadyState: awaitSteadyState({ desiredCount: '$.plan.service.DesiredCount' }, { Catch: [rolledBack, onError], Next: whenSteady }),
    ...healthCheckRollback(changedBy, 'CompleteOperation', onError),
    CompleteOperation: operationStep('CompleteOperation', workflow, { Catch: [onError], Next: 'CheckDesiredSpec' }),
    CheckDesiredSpec: convergeChoice(converge, done),
  };
}

// ---- ECS ----

/**
 * A revision of the content-addressed family PlanResources rendered (shared: no environment
 * tag); its constant parameters are the ones functions/domain/resource-plan.ts hashes.
 */
export function registerTaskDefinition(fields: Fields): State {
  return sdkTask('ecs:registerTaskDefinition', {
    Parameters: {
      'Family.$': '$.plan.taskDefinition.Family',
      'Cpu.$': '$.plan.taskDefinition.Cpu',
      'Memory.$': '$.plan.taskDefinition.Memory',
      NetworkMode: TASK_DEFINITION_CONSTANTS.NetworkMode,
      RequiresCompatibilities: [...TASK_DEFINITION_CONSTANTS.RequiresCompatibilities],
      RuntimePlatform: { ...TASK_DEFINITION_CONSTANTS.RuntimePlatform },
      'ExecutionRoleArn.$': '$.plan.taskDefinition.ExecutionRoleArn',
      'TaskRoleArn.$': '$.plan.taskDefinition.TaskRoleArn',
      'ContainerDefinitions.$': '$.plan.taskDefinition.ContainerDefinitions',
      Tags: [
        { Key: 'fledge:managed-by', Value: 'fledge' },
        { Key: 'fledge:task-definition-hash', 'Value.$': '$.plan.taskDefinitionHash' },
      ],
    },
    ResultSelector: { 'arn.$': '$.TaskDefinition.TaskDefinitionArn' },
    ResultPath: '$.taskDefinition',
    Retry: [ecsThrottlingRetry, ecsClientRetry, ecsServerRetry],
    ...fields,
  });
}

const loadBalancers: Json = [{ 'TargetGroupArn.$': '$.targetGroup.arn', ContainerName: 'app', 'ContainerPort.$': '$.plan.service.ContainerPort' }];

/** The environment's service (circuit breaker with rollback, tags), at the count `desiredCount` points at. */
export function createService(desiredCount: string, fields: Fields): State {
  return sdkTask('ecs:createService', {
    Parameters: {
      Cluster: '${ClusterArn}',
      'ServiceName.$': '$.name',
      'TaskDefinition.$': '$.taskDefinition.arn',
      'DesiredCount.$': desiredCount,
      LaunchType: 'FARGATE',
      PlatformVersion: 'LATEST',
      SchedulingStrategy: 'REPLICA',
      'NetworkConfiguration.$': '$.plan.service.NetworkConfiguration',
      LoadBalancers: loadBalancers,
      'HealthCheckGracePeriodSeconds.$': '$.plan.service.HealthCheckGracePeriodSeconds',
      DeploymentConfiguration: {
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MaximumPercent: 200,
        MinimumHealthyPercent: 100,
      },
      DeploymentController: { Type: 'ECS' },
      PropagateTags: 'SERVICE',
      EnableECSManagedTags: true,
      Tags: environmentTags,
      'ClientToken.$': '$.plan.service.ClientToken',
    },
    ResultSelector: { 'arn.$': '$.Service.ServiceArn' },
    ResultPath: '$.service',
    ...fields,
  });
}

/** UpdateService to the planned revision at `desiredCount`; `forceNewDeployment` a value or a path. */
export function updateService(desiredCount: string, fields: Fields, forceNewDeployment: boolean | string = false): State {
  return sdkTask('ecs:updateService', {
    Parameters: withPaths({
      Cluster: '${ClusterArn}',
      Service: $('$.name'),
      TaskDefinition: $('$.taskDefinition.arn'),
      DesiredCount: $(desiredCount),
      HealthCheckGracePeriodSeconds: $('$.plan.service.HealthCheckGracePeriodSeconds'),
      LoadBalancers: loadBalancers,
      ForceNewDeployment: typeof forceNewDeployment === 'string' ? $(forceNewDeployment) : forceNewDeployment,
    }),
    ResultPath: null,
    Retry: [ecsRetry, ecsClientRetry],
    ...fields,
  });
}

/** Force: running tasks are stopped with the service. */
export function deleteService(fields: Fields): State {
  return sdkTask('ecs:deleteService', {
    Parameters: { Cluster: '${ClusterArn}', 'Service.$': '$.name', Force: true },
    ResultPath: null,
    Retry: [ecsRetry],
    ...fields,
  });
}

/** The service gone already counts as deleted. */
export const serviceGone = (next: string) => catchErrors(['Ecs.ServiceNotFoundException', 'Ecs.ServiceNotActiveException'], next);

// ---- Application Auto Scaling ----

/** `service/<cluster name>/<environment>`, the scalable target's ResourceId. */
export const SCALABLE_TARGET_ID = "States.Format('service/{}/{}', States.ArrayGetItem(States.StringSplit('${ClusterArn}', '/'), 1), $.name)";

/** Deregistering the scalable target deletes its policies and their alarms too. */
export function deregisterScalableTarget(resourceId: string, fields: Fields): State {
  return sdkTask('applicationautoscaling:deregisterScalableTarget', {
    Parameters: { ServiceNamespace: 'ecs', 'ResourceId.$': resourceId, ScalableDimension: 'ecs:service:DesiredCount' },
    ResultPath: null,
    Retry: [autoscalingRetry],
    ...fields,
  });
}

/** Not registered counts as done. */
export const notRegistered = (next: string) => catchErrors(['ApplicationAutoScaling.ObjectNotFoundException'], next);

// ---- the load balancer ----

/** The environment's target group, named and configured as PlanResources rendered it. */
export function createTargetGroup(fields: Fields): State {
  return sdkTask('elasticloadbalancingv2:createTargetGroup', {
    Comment:
      'Named <installation>-<name prefix>-<hash> by PlanResources (functions/domain/resource-names.ts): unique per installation and environment, within the 32-character limit.',
    Parameters: {
      'Name.$': '$.plan.targetGroup.Name',
      Protocol: 'HTTP',
      ProtocolVersion: 'HTTP1',
      'Port.$': '$.plan.targetGroup.Port',
      VpcId: '${VpcId}',
      TargetType: 'ip',
      HealthCheckEnabled: true,
      HealthCheckProtocol: 'HTTP',
      'HealthCheckPath.$': '$.plan.targetGroup.HealthCheckPath',
      'HealthCheckIntervalSeconds.$': '$.plan.targetGroup.HealthCheckIntervalSeconds',
      'HealthCheckTimeoutSeconds.$': '$.plan.targetGroup.HealthCheckTimeoutSeconds',
      'HealthyThresholdCount.$': '$.plan.targetGroup.HealthyThresholdCount',
      'UnhealthyThresholdCount.$': '$.plan.targetGroup.UnhealthyThresholdCount',
      Matcher: { HttpCode: '200-399' },
      Tags: environmentTags,
    },
    ResultSelector: { 'arn.$': '$.TargetGroups[0].TargetGroupArn' },
    ResultPath: '$.targetGroup',
    Retry: [elbRetry],
    ...fields,
  });
}

export function setDeregistrationDelay(fields: Fields): State {
  return sdkTask('elasticloadbalancingv2:modifyTargetGroupAttributes', {
    Comment:
      'Deregistration delay 5 s instead of the ALB default 300 s: previews hold no long-lived connections worth draining, and the default would add five minutes to every deploy, rollback and teardown.',
    Parameters: {
      'TargetGroupArn.$': '$.targetGroup.arn',
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
    },
    ResultPath: null,
    Retry: [elbRetry],
    ...fields,
  });
}

export function createRule(fields: Fields): State {
  return sdkTask('elasticloadbalancingv2:createRule', {
    Comment: "Host-header <name>.<base domain> on the listener of the environment's load balancer ($.shard: PlanResources placed it), at the priority PlanResources allocated.",
    Parameters: {
      'ListenerArn.$': '$.shard.listenerArn',
      'Priority.$': '$.listenerPriority',
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { 'Values.$': '$.plan.hostHeaders' } }],
      Actions: [{ Type: 'forward', 'TargetGroupArn.$': '$.targetGroup.arn' }],
      Tags: environmentTags,
    },
    ResultSelector: { 'arn.$': '$.Rules[0].RuleArn' },
    ResultPath: '$.rule',
    Retry: [elbRetry],
    ...fields,
  });
}

/** The target group's health check (path, interval, timeout, thresholds) from the object at `from`. */
export function applyHealthCheck(from: string, fields: Fields): State {
  return sdkTask('elasticloadbalancingv2:modifyTargetGroup', {
    Parameters: {
      'TargetGroupArn.$': '$.targetGroup.arn',
      'HealthCheckPath.$': `${from}.HealthCheckPath`,
      'HealthCheckIntervalSeconds.$': `${from}.HealthCheckIntervalSeconds`,
      'HealthCheckTimeoutSeconds.$': `${from}.HealthCheckTimeoutSeconds`,
      'HealthyThresholdCount.$': `${from}.HealthyThresholdCount`,
      'UnhealthyThresholdCount.$': `${from}.UnhealthyThresholdCount`,
    },
    ResultPath: null,
    Retry: [elbRetry],
    ...fields,
  });
}

// ---- alarms: the requests of functions/domain/alarms.ts, their run-time values as paths ----

const TARGET_GROUP_DIMENSION = "States.ArrayGetItem(States.StringSplit($.targetGroup.arn, ':'), 5)";
const alarmValues = <K extends string>(from: string, keys: K[]) =>
  Object.fromEntries(keys.map((key) => [key, $(`${from}.${key}`)])) as Record<K, ReturnType<typeof $>>;

function putMetricAlarm(request: unknown, fields: Fields): State {
  return sdkTask('cloudwatch:putMetricAlarm', { Parameters: withPaths(request), ResultPath: null, Retry: [cloudwatchRetry], ...fields });
}

/** The tasks alarm whose name, description, threshold, cluster and missing-data rule are at `from`. */
export function putTasksAlarm(from: string, fields: Fields): State {
  const values = alarmValues(from, ['AlarmName', 'AlarmDescription', 'Threshold', 'ClusterName', 'TreatMissingData']);
  return putMetricAlarm(tasksAlarmRequest($('$.name'), values), fields);
}

export function putUnhealthyAlarm(fields: Fields): State {
  const values = alarmValues('$.plan.alarms.unhealthy', ['AlarmName', 'AlarmDescription', 'LoadBalancer']);
  return putMetricAlarm(unhealthyAlarmRequest($('$.name'), $(TARGET_GROUP_DIMENSION), values), fields);
}

export function putErrorRateAlarm(fields: Fields): State {
  const values = alarmValues('$.plan.alarms.errors', ['AlarmName', 'AlarmDescription', 'LoadBalancer']);
  return putMetricAlarm(errorRateAlarmRequest($('$.name'), $(TARGET_GROUP_DIMENSION), values), fields);
}

/** The alarm comments create and heal share. */
export const ALARM_COMMENTS = {
  tasks:
    'fledge-<name>-tasks: fewer tasks running than the spec wants (Container Insights) for 3 minutes; a deleted service publishes nothing, which breaches.',
  unhealthy: "fledge-<name>-unhealthy: a target of the environment's target group failed its health checks.",
  errors: `fledge-<name>-5xx: at least ${ERROR_RATE_PERCENT} % of the requests answered 5xx by the application for 3 minutes (${ERROR_RATE_MIN_REQUESTS} requests a minute at least).`,
};

/** The rule forwards to the waker of the environment's load balancer (weight 1) and keeps the environment's target group at weight 0. */
export function pointRuleAtWaker(ruleArn: string, fields: Fields): State {
  return sdkTask('elasticloadbalancingv2:modifyRule', {
    Parameters: {
      'RuleArn.$': ruleArn,
      Actions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: [
              { 'TargetGroupArn.$': '$.shard.wakerTargetGroupArn', Weight: 1 },
              { 'TargetGroupArn.$': '$.targetGroup.arn', Weight: 0 },
            ],
          },
        },
      ],
    },
    ResultPath: null,
    Retry: [elbRetry],
    ...fields,
  });
}

/** The service's scalable target; `minCapacity`/`maxCapacity` are paths. */
export function registerScalableTarget(resourceId: string, capacity: { min: string; max: string }, fields: Fields): State {
  return sdkTask('applicationautoscaling:registerScalableTarget', {
    Parameters: {
      ServiceNamespace: 'ecs',
      'ResourceId.$': resourceId,
      ScalableDimension: 'ecs:service:DesiredCount',
      'MinCapacity.$': capacity.min,
      'MaxCapacity.$': capacity.max,
      Tags: { 'fledge:environment.$': '$.name', 'fledge:managed-by': 'fledge' },
    },
    ResultSelector: { 'arn.$': '$.ScalableTargetARN' },
    ResultPath: '$.scalableTarget',
    Retry: [autoscalingRetry],
    ...fields,
  });
}

/** Target tracking on the service's average CPU; the values given are literal, or paths as `$(...)`. */
export function putScalingPolicy(
  resourceId: string,
  policy: { PolicyName: string | Path; TargetValue: Path; ScaleInCooldown: number | Path; ScaleOutCooldown: number | Path },
  fields: Fields,
): State {
  return sdkTask('applicationautoscaling:putScalingPolicy', {
    Parameters: withPaths({
      PolicyName: policy.PolicyName,
      ServiceNamespace: 'ecs',
      ResourceId: $(resourceId),
      ScalableDimension: 'ecs:service:DesiredCount',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: policy.TargetValue,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        ScaleInCooldown: policy.ScaleInCooldown,
        ScaleOutCooldown: policy.ScaleOutCooldown,
        DisableScaleIn: false,
      },
    }),
    ResultPath: null,
    Retry: [autoscalingRetry, autoscalingAccessRetry],
    ...fields,
  });
}

// ---- removing what an environment had ----

export function deleteAlarms(names: string, fields: Fields): State {
  return sdkTask('cloudwatch:deleteAlarms', { Parameters: { 'AlarmNames.$': names }, ResultPath: null, Retry: [cloudwatchRetry], ...fields });
}
/**
 * CloudWatch skips names that do not exist; should it answer ResourceNotFound, that is done too
 * (Step Functions always adds the Exception suffix: `CloudWatch.ResourceNotFound` never arrives).
 */
export const alarmsGone = (next: string) => catchErrors(['CloudWatch.ResourceNotFoundException'], next);

export function deleteRule(ruleArn: string, fields: Fields): State {
  return sdkTask('elasticloadbalancingv2:deleteRule', { Parameters: { 'RuleArn.$': ruleArn }, ResultPath: null, Retry: [elbRetry], ...fields });
}
export const ruleGone = (next: string) => catchErrors(['ElasticLoadBalancingV2.RuleNotFoundException'], next);

/** ResourceInUse is retried: detaching the rule and the service takes a moment. */
export function deleteTargetGroup(targetGroupArn: string, fields: Fields): State {
  return sdkTask('elasticloadbalancingv2:deleteTargetGroup', {
    Parameters: { 'TargetGroupArn.$': targetGroupArn },
    ResultPath: null,
    Retry: [elbRetry, targetGroupInUseRetry],
    ...fields,
  });
}
export const targetGroupGone = (next: string) => catchErrors(['ElasticLoadBalancingV2.TargetGroupNotFoundException'], next);

/**
 * The environment's alias A record in the operator's hosted zone (`$.dns`, only with
 * per-environment DNS: docs/design.md "DNS per environment"), naming its shard's ALB. Fledge
 * writes only records it owns (docs/security.md "Names in a shared hosted zone"): the action comes
 * from the plan step's look at the zone (`{ path }`): CREATE on a free name (Route 53 refuses it,
 * InvalidChangeBatch, if a record of that name and type exists), UPSERT only over Fledge's own
 * alias record. DELETE names the same values, as Route 53 requires, so it never removes a record
 * of other values.
 */
export function changeDnsRecord(action: 'DELETE' | { path: string }, fields: Fields): State {
  const make = action !== 'DELETE';
  return sdkTask('route53:changeResourceRecordSets', {
    Parameters: {
      'HostedZoneId.$': '$.dns.hostedZoneId',
      ChangeBatch: {
        Comment: `Fledge: ${make ? 'the' : 'remove the'} alias record of a preview environment`,
        Changes: [{ ...(make ? { 'Action.$': action.path } : { Action: action }), ResourceRecordSet: { 'Name.$': '$.dns.recordName', Type: 'A', 'AliasTarget.$': '$.dns.aliasTarget' } }],
      },
    },
    ResultSelector: { 'changeId.$': '$.ChangeInfo.Id' },
    ResultPath: make ? '$.dnsRecord' : null,
    Retry: [route53Retry, route53ServerRetry],
    ...fields,
  });
}
/**
 * A DELETE of a record that is not there (or no longer names these values: not Fledge's, or
 * re-pointed by hand) is InvalidChangeBatch (Route 53 API Reference, ChangeResourceRecordSets:
 * "To delete a resource record set, you must specify all the same values that you specified when
 * you created it"): gone, as far as this environment goes, and the record is left as it is.
 * Step Functions names the SDK's InvalidChangeBatch `Route53.InvalidChangeBatchException`.
 */
export const dnsRecordGone = (next: string) => catchErrors(['Route53.InvalidChangeBatchException'], next);
/**
 * A CREATE (or UPSERT) of the alias record Route 53 refused (InvalidChangeBatch) goes to
 * RecheckDnsRecord, its error at `$.dnsChangeError`: the refusal may be of a try applied whose
 * answer was lost (docs/design.md "DNS per environment").
 */
export const dnsChangeRefused = catchErrors(['Route53.InvalidChangeBatchException'], 'RecheckDnsRecord', '$.dnsChangeError');

/**
 * RecheckDnsRecord (functions/commands/environment-dns.ts `recheckDnsRecord`) and the Choice after
 * it: the record is the workflow's when the Lambda set `made` (on to `next`); otherwise the failure
 * it recorded goes to `otherwise`. Route 53 throttling the read (Throttling) gets Route 53's budget.
 */
export function recheckDnsRecord(
  workflow: 'create' | 'heal',
  options: { comment: string; choiceComment: string; made: string; next: string; otherwise: string; onError: Json },
): States {
  return {
    RecheckDnsRecord: operationStep('RecheckDnsRecord', workflow, {
      Comment: options.comment,
      Retry: [lambdaRoute53ThrottlingRetry, lambdaThrottlingRetry, lambdaRetry],
      Catch: [options.onError],
      Next: 'DnsRecordRechecked',
    }),
    DnsRecordRechecked: {
      Type: 'Choice',
      Comment: options.choiceComment,
      Choices: [{ Variable: options.made, IsPresent: true, Next: options.next }],
      Default: options.otherwise,
    },
  };
}
/** A Choice: the DNS state at `next` when per-environment DNS is on (`$.dns`), else `otherwise`. */
export const whenDns = (next: string, otherwise: string, comment: string): State => ({
  Type: 'Choice',
  Comment: comment,
  Choices: [{ Variable: '$.dns', IsPresent: true, Next: next }],
  Default: otherwise,
});
