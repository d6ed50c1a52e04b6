import { $, catchAll, catchErrors, sdkTask, type State, type StateMachine } from './asl.ts';
import { withCauseLoops } from './cause-loops.ts';
import { ALARM_COMMENTS, alarmsGone, applyHealthCheck, changeDnsRecord, dnsChangeRefused, dnsRecordGone, recheckDnsRecord, whenDns, completeRollout, createRule, createService, createTargetGroup, deleteAlarms, deleteRule, deleteService, deleteTargetGroup, deregisterScalableTarget, failRollout, notRegistered, operationStep, pointRuleAtWaker, putErrorRateAlarm, putScalingPolicy, putTasksAlarm, putUnhealthyAlarm, registerScalableTarget, registerTaskDefinition, ruleGone, SCALABLE_TARGET_ID, serviceGone, setDeregistrationDelay, succeed, targetGroupGone, updateService } from './fragments.ts';
import { afterUpdateRollback, hookStates } from './hooks.ts';
import { ECS_THROTTLING_ERRORS, ecsClientRetry, ecsCreateThrottlingRetry, ecsDescribeThrottlingRetry, ecsRegisterAgainRetry, ecsServerRetry, lambdaRetry, lambdaRoute53ThrottlingRetry, lambdaThrottlingRetry, serviceStillDrainingRetry } from './retry-policies.ts';

/** Every forward step's failure: undo what was created. */
const undo = catchAll('$.error', 'UndoCreatedResources');

/** An undo step goes on to `next` whatever happens: `gone` (not found) is done, another error is kept at `errorPath` for FailOperation. */
const undoneThen = (next: string, gone: (next: string) => State, errorPath: string) => ({ Catch: [gone(next), catchAll(errorPath, next)], Next: next });

export const create: StateMachine = {
  Comment:
    'Create a preview environment: task definition, target group + listener rule on a load balancer of the pool (PlanResources places the environment on a shard with room), ECS service with a rolling-back circuit breaker, then wait for steady state. A failure deletes what was created (mirroring the forward states) and records FAILED with the reason.',
  StartAt: 'PlanResources',
  TimeoutSeconds: 7200,
  States: withCauseLoops({
    PlanResources: operationStep('PlanResources', 'create', {
      Comment: "ServiceStillDraining (a service of this name is still being deleted) is retried for about 10 minutes. With per-environment DNS it reads the records of the environment's name first: one Fledge does not manage there fails the create with DNS_NAME_IN_USE (DnsNameInUse, not retried) before anything is made; Route 53 throttling that read (Throttling) gets Route 53's budget.",
      // throttled lookups in a burst of creates get the larger throttling budget before lambdaRetry's
      Retry: [serviceStillDrainingRetry, lambdaRoute53ThrottlingRetry, lambdaThrottlingRetry, lambdaRetry],
      Catch: [undo],
      Next: 'TaskDefinitionRegistered',
    }),
    TaskDefinitionRegistered: {
      Type: 'Choice',
      Comment:
        'Task definitions are content-addressed and shared (docs/design.md "Shared task definitions"): when PlanResources found an ACTIVE revision of the family, the create uses it and spends no RegisterTaskDefinition call (a bucket of 20, refilled at 1 a second, account-wide).',
      Choices: [{ Variable: '$.taskDefinition', IsPresent: true, Next: 'CreateTargetGroup' }],
      Default: 'RegisterTaskDefinition',
    },
    RegisterTaskDefinition: registerTaskDefinition({
      Comment:
        'A revision of the content-addressed family fledge-td-<hash> (Fargate, awsvpc, the one container "app" rendered by PlanResources), shared with every environment whose definition renders the same: so it carries no fledge:environment tag. One try: a throttle goes to FindTaskDefinition (the same content may have been registered meanwhile) instead of waiting for a token.',
      Retry: [ecsServerRetry],
      Catch: [catchErrors([...ECS_THROTTLING_ERRORS, 'Ecs.ClientException'], 'FindTaskDefinition'), undo],
      Next: 'CreateTargetGroup',
    }),
    FindTaskDefinition: sdkTask('ecs:describeTaskDefinition', {
      Comment:
        'RegisterTaskDefinition was throttled: the bucket (20, then 1/s) is busy, most often with creates of the same content (a burst of environments of one image). Their registration has landed by now more often than not, so look for it before waiting for a token: the latest ACTIVE revision of the family (Describe* has a far larger bucket). None yet (ClientException): register after all, with backoff.',
      Parameters: { 'TaskDefinition.$': '$.plan.taskDefinition.Family' },
      ResultSelector: { 'arn.$': '$.TaskDefinition.TaskDefinitionArn' },
      ResultPath: '$.taskDefinition',
      Retry: [ecsDescribeThrottlingRetry, ecsServerRetry],
      // none yet (ClientException), or its own bucket still throttling it after its tries: register
      // (each hands back to the other until a revision is found or registered; TimeoutSeconds bounds it)
      Catch: [catchErrors(['Ecs.ClientException', ...ECS_THROTTLING_ERRORS], 'RegisterTaskDefinitionAfterThrottling'), undo],
      Next: 'CreateTargetGroup',
    }),
    RegisterTaskDefinitionAfterThrottling: registerTaskDefinition({
      Comment:
        'RegisterTaskDefinition was throttled and FindTaskDefinition found no revision (another content, or the first registration has not landed): register, a few tries; still throttled, FindTaskDefinition looks again, since in a burst of creates of one content a single registration is all of them need (the bucket: 20, then 1/s, account-wide; docs/design.md "Retries sized to the bucket"). The loop ends when a revision is found or registered; the execution\'s TimeoutSeconds bounds it.',
      Retry: [ecsRegisterAgainRetry, ecsClientRetry, ecsServerRetry],
      Catch: [catchErrors(ECS_THROTTLING_ERRORS, 'FindTaskDefinition'), undo],
      Next: 'CreateTargetGroup',
    }),
    CreateTargetGroup: createTargetGroup({ Catch: [undo], Next: 'ModifyTargetGroupAttributes' }),
    ModifyTargetGroupAttributes: setDeregistrationDelay({ Catch: [undo], Next: 'CreateRule' }),
    CreateRule: createRule({ Catch: [undo], Next: 'DnsRecordWanted' }),
    DnsRecordWanted: whenDns(
      'CreateDnsRecord',
      'CreateService',
      'With more than one load balancer (shard) the wildcard record names only one: PlanResources put $.dns, and the environment gets its own alias record (docs/design.md "DNS per environment").',
    ),
    CreateDnsRecord: changeDnsRecord({ path: '$.dnsChange' }, {
      Comment:
        "<name>.<base domain> as an alias A record of its shard's ALB (EvaluateTargetHealth false). PlanResources looked at the name first (a record Fledge does not manage there failed the create with DNS_NAME_IN_USE before anything was made): CREATE on a free name, UPSERT only over Fledge's own alias (a retried create, or an earlier environment of that name whose teardown was interrupted). Throttling (Route 53's account and per-action buckets, 50 then 10 a second, and its change-throughput bucket), PriorRequestNotComplete and Route 53's undeclared errors (a 5xx, AccessDenied: the catch-all with the throttles) are retried, sized to them; the caller's declared errors (InvalidInput, NoSuchHostedZone) are not. InvalidChangeBatch (a CREATE refused: a record of the name exists, or another reason, such as a wrong alias target) goes to RecheckDnsRecord: it may be this create's own record, made by a try whose answer was lost.",
      Catch: [dnsChangeRefused, undo],
      Next: 'CreateService',
    }),
    ...recheckDnsRecord('create', {
      comment:
        "Route 53 refused the CREATE (InvalidChangeBatch): the name's records are read again. Fledge's alias naming this shard's ALB: an earlier try was applied and its answer lost (the Retry sent the CREATE again), so the record is this create's: $.dnsRecord is set and the create goes on (the undo and the teardown delete it). A record Fledge does not manage (it appeared after PlanResources looked): DnsNameInUse, DNS_NAME_IN_USE, and the undo deletes nothing of the zone ($.dnsRecord absent). Anything else (no record, or Fledge's alias naming another ALB: refused for another reason, a wrong alias target say): $.error is Route 53's error, the undo runs and FailOperation logs it (the caller gets a typed code). Route 53 throttling the read (Throttling) gets Route 53's budget.",
      choiceComment: "The record is this create's (RecheckDnsRecord set $.dnsRecord): on to the service; otherwise $.error says why, and the undo runs.",
      made: '$.dnsRecord',
      next: 'CreateService',
      otherwise: 'UndoCreatedResources',
      onError: undo,
    }),
    CreateService: createService('$.plan.service.DesiredCount', {
      Comment:
        'Idempotent by ClientToken (same operation and spec version). The circuit breaker with rollback stops a failing deployment.',
      Retry: [ecsCreateThrottlingRetry, ecsServerRetry, ecsClientRetry],
      Catch: [undo],
      Next: 'PutTasksAlarm',
    }),
    PutTasksAlarm: putTasksAlarm('$.plan.alarms.tasks', { Comment: ALARM_COMMENTS.tasks, Catch: [undo], Next: 'PutUnhealthyAlarm' }),
    PutUnhealthyAlarm: putUnhealthyAlarm({ Comment: ALARM_COMMENTS.unhealthy, Catch: [undo], Next: 'Put5xxAlarm' }),
    Put5xxAlarm: putErrorRateAlarm({ Comment: ALARM_COMMENTS.errors, Catch: [undo], Next: 'ApplyInitialScaling' }),
    ApplyInitialScaling: {
      Type: 'Choice',
      Comment:
        'desiredCount 0: the environment starts asleep, its URL answered by the waker. With autoscaling: the scalable target and its CPU target-tracking policy (as the scale workflow registers them).',
      Choices: [
        {
          And: [
            { Variable: '$.spec.desiredCount', NumericEquals: 0 },
            { Variable: '$.rule', IsPresent: true },
          ],
          Next: 'PointRuleAtWaker',
        },
        { Variable: '$.spec.autoscaling', IsPresent: true, Next: 'RegisterScalableTarget' },
      ],
      Default: 'AwaitSteadyState',
    },
    PointRuleAtWaker: pointRuleAtWaker('$.rule.arn', {
      Comment:
        "Born asleep: the waker answers the URL (the environment's own target group stays in the rule at weight 0, so the ALB health-checks the tasks a wake starts).",
      Catch: [undo],
      Next: 'AwaitSteadyState',
    }),
    RegisterScalableTarget: registerScalableTarget(
      SCALABLE_TARGET_ID,
      { min: '$.spec.autoscaling.minCount', max: '$.spec.autoscaling.maxCount' },
      { Comment: "The service's scalable target, minCount..maxCount (resource id service/<cluster>/<name>).", Catch: [undo], Next: 'PutScalingPolicy' },
    ),
    PutScalingPolicy: putScalingPolicy(
      SCALABLE_TARGET_ID,
      { PolicyName: 'fledge-cpu', TargetValue: $('$.spec.autoscaling.targetCpuPercent'), ScaleInCooldown: 300, ScaleOutCooldown: 60 },
      {
        Comment: "Target tracking on the service's average CPU, policy fledge-cpu (scale out after 60 s, in after 300 s).",
        Catch: [undo],
        Next: 'AwaitSteadyState',
      },
    ),
    ...completeRollout('create', undo, {
      changedBy: 'ModifyConvergedTargetGroup', converge: 'KeepServingTaskDefinition', done: 'EnvironmentReady', whenSteady: 'AfterCreateHook',
    }),
    ...hookStates('afterCreate', 'create', {
      comment: 'The afterCreate hook (a seed), once the service is steady, once per create (not again on a convergence pass: a convergence pass goes on to the afterUpdate hook). A failure undoes the create like any other step.',
      next: 'CompleteOperation',
      onFailure: { next: 'UndoCreatedResources', resultPath: '$.error' },
      once: true,
      skipWhen: [{ rule: { And: [{ Variable: '$.phase', IsPresent: true }, { Variable: '$.phase', StringEquals: 'update' }] }, next: 'AfterUpdateHook' }],
    }),
    KeepServingTaskDefinition: {
      Type: 'Pass',
      Comment:
        'A spec accepted during the create is deployed over the running service like an update: the revision serving now is what a failed afterUpdate hook rolls the service back to.',
      InputPath: '$.taskDefinition',
      ResultPath: '$.previousTaskDefinition',
      Next: 'RegisterConvergedTaskDefinition',
    },
    RegisterConvergedTaskDefinition: registerTaskDefinition({
      Comment:
        "The converged spec's revision of its content-addressed family fledge-td-<hash> (as RegisterTaskDefinition; no lookup first: converging is rare, and a second revision of the same content is harmless).",
      Catch: [undo],
      Next: 'BeforeUpdateHook',
    }),
    ...hookStates('beforeUpdate', 'create', {
      comment: 'A convergence pass deploys a new version over the running service, as an update does: the beforeUpdate hook (a migration) runs with the NEW task definition before the health check or the service change. A failure leaves the serving version untouched and is recorded like a rollback (RUNNING on the version serving, the operation FAILED with HOOK_FAILED): the create\'s compensation would remove an environment that serves.',
      next: 'ModifyConvergedTargetGroup',
      onFailure: { next: 'HealthCheckChanged', resultPath: '$.rollback' },
    }),
    ...hookStates('afterUpdate', 'create', {
      comment: 'A convergence pass is steady: the afterUpdate hook, as after an update. A failure rolls the service back to the revision that served before this pass (as the circuit breaker would), then CompleteOperation records the rollback; after it the hook is skipped.',
      next: 'CompleteOperation',
      onFailure: { next: 'RollBackAfterHook', resultPath: '$.rollback' },
      skipWhen: [{ rule: { Variable: '$.rollback', IsPresent: true }, next: 'HealthCheckChanged' }],
    }),
    ...afterUpdateRollback({ desiredCount: '$.plan.service.DesiredCount', onError: undo, withoutPrevious: { next: 'HealthCheckChanged', errorPath: '$.rollback' } }),
    ModifyConvergedTargetGroup: applyHealthCheck('$.plan.targetGroup', {
      Comment:
        "A spec accepted during the create may change the health check: the target group follows it before the service rolls to the new revision (CreateTargetGroup applied the first spec's).",
      Catch: [undo],
      Next: 'UpdateService',
    }),
    UpdateService: updateService('$.plan.service.DesiredCount', {
      Comment: 'Rolls the service to the new revision; the circuit breaker set at CreateService rolls it back if the new tasks fail.',
      Catch: [undo],
      Next: 'AwaitSteadyState',
    }),
    EnvironmentReady: succeed,
    UndoCreatedResources: {
      Type: 'Choice',
      Comment:
        'Compensation, newest resource first. Resources are created strictly in order, so the newest one present tells where to enter the chain; each step treats "not found" as done and records any other error for FailOperation instead of stopping. The task definition is kept: it is shared by every environment whose definition renders the same, and the cleanup deregisters families no service uses (docs/design.md "Shared task definitions").',
      Choices: [
        { Variable: '$.scalableTarget', IsPresent: true, Next: 'DeregisterScalableTarget' },
        { Variable: '$.service', IsPresent: true, Next: 'DeleteService' },
        { Variable: '$.dnsRecord', IsPresent: true, Next: 'DeleteDnsRecord' },
        { Variable: '$.rule', IsPresent: true, Next: 'DeleteRule' },
        { Variable: '$.targetGroup', IsPresent: true, Next: 'DeleteTargetGroup' },
      ],
      Default: 'FailOperation',
    },
    DeregisterScalableTarget: deregisterScalableTarget(SCALABLE_TARGET_ID, {
      Comment: 'Mirrors RegisterScalableTarget (its policy goes with it). Not registered = done.',
      ...undoneThen('DeleteService', notRegistered, '$.scalableTargetUndoError'),
    }),
    DeleteService: deleteService({
      Comment: 'Mirrors CreateService. Force: no need to scale to 0 first.',
      ...undoneThen('DeleteAlarms', serviceGone, '$.serviceUndoError'),
    }),
    DeleteAlarms: deleteAlarms('$.plan.alarms.names', {
      Comment:
        'Mirrors PutTasksAlarm, PutUnhealthyAlarm and Put5xxAlarm (the alarms are created right after the service). Alarms that do not exist are skipped by CloudWatch (ResourceNotFound = done).',
      ...undoneThen('DnsRecordMade', alarmsGone, '$.alarmsUndoError'),
    }),
    DnsRecordMade: {
      Type: 'Choice',
      Comment: 'The alias record is Fledge\'s only when CreateDnsRecord succeeded (per-environment DNS): a record Route 53 refused to create, and RecheckDnsRecord did not find to be this create\'s own, is never deleted.',
      Choices: [{ Variable: '$.dnsRecord', IsPresent: true, Next: 'DeleteDnsRecord' }],
      Default: 'DeleteRule',
    },
    DeleteDnsRecord: changeDnsRecord('DELETE', {
      Comment: 'Mirrors CreateDnsRecord, with the same values (Route 53 deletes a record only when they match: never one of other values). Not there, or not these values = done.',
      ...undoneThen('DeleteRule', dnsRecordGone, '$.dnsRecordUndoError'),
    }),
    DeleteRule: deleteRule('$.rule.arn', {
      Comment: 'Mirrors CreateRule.',
      ...undoneThen('DeleteTargetGroup', ruleGone, '$.ruleUndoError'),
    }),
    DeleteTargetGroup: deleteTargetGroup('$.targetGroup.arn', {
      Comment:
        'Mirrors CreateTargetGroup (and its attributes). ResourceInUse is retried: detaching the rule and the service takes a moment.',
      ...undoneThen('FailOperation', targetGroupGone, '$.targetGroupUndoError'),
    }),
    ...failRollout('create', {
      converge: 'PlanResources',
      failed: 'CreateFailed',
      cause: 'The environment could not be created; its events and operation.error say why.',
    }),
  }),
};
