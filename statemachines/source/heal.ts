import { catchAll, type Json, sdkTask, type State, type StateMachine } from './asl.ts';
import { withCauseLoops } from './cause-loops.ts';
import { ALARM_COMMENTS, applyHealthCheck, awaitSteadyState, changeDnsRecord, convergeChoice, dnsChangeRefused, recheckDnsRecord, createRule, createService, createTargetGroup, healthCheckRollback, operationStep, putErrorRateAlarm, putTasksAlarm, putUnhealthyAlarm, recordFailure, registerTaskDefinition, rolledBack, setDeregistrationDelay, succeed, updateService } from './fragments.ts';
import { cloudwatchRetry, ecsClientRetry, ecsRetry, snsRetry } from './retry-policies.ts';

/** A repair failed: the pass ends, FinishHeal decides (another pass, or degrade). */
const repairFailed = catchAll('$.repairError', 'FinishHeal');
/** The heal itself failed: the environment is degraded. */
const degrade = catchAll('$.error', 'DegradeEnvironment');
const repaired = { Catch: [repairFailed], Next: 'NextRepair' };

/** NextRepair's rule: the repair at `next` is to do (`todo`) and not done yet (`done` absent). */
const repair = (todo: string, done: string, next: string): Json => ({
  And: [{ Variable: todo, BooleanEquals: true }, { Not: { Variable: done, IsPresent: true } }],
  Next: next,
});

/** The heal sets its alarms back to OK (see ResetTasksAlarm); a failure goes on to `next`. */
const resetAlarm = (alarm: string, next: string, comment: string): State =>
  sdkTask('cloudwatch:setAlarmState', {
    Comment: comment,
    Parameters: { 'AlarmName.$': `$.alarmReset.${alarm}`, StateValue: 'OK', 'StateReason.$': '$.alarmReset.reason' },
    ResultPath: null,
    Retry: [cloudwatchRetry],
    Catch: [catchAll('$.alarmResetError', next)],
    Next: next,
  });

const SERVICE_RESULT = { 'arn.$': '$.Service.ServiceArn', 'deploymentId.$': "$.Service.Deployments[?(@.Status == 'PRIMARY')].Id" };
const TASK_DEFINITION_COMMENT =
  "A revision of the content-addressed family of the image this pass runs (the spec's, or the one rolled back to), with create's parameters; skipped when InspectEnvironment found one ACTIVE.";

export const heal: StateMachine = {
  Comment:
    'Heal a preview environment: compare what exists (service, target group, listener rule, alarms, desired count, task health) with the desired spec in DynamoDB and repair the difference, at most FLEDGE_HEAL_MAX_PER_HOUR attempts an hour with a doubling backoff; past that the environment goes DEGRADED and the operators are notified. A heal of a healthy environment changes nothing.',
  StartAt: 'InspectEnvironment',
  TimeoutSeconds: 7200,
  States: withCauseLoops({
    InspectEnvironment: operationStep('InspectEnvironment', 'heal', { Catch: [degrade], Next: 'AfterInspect' }),
    AfterInspect: {
      Type: 'Choice',
      Comment:
        'wait: within the backoff after the last heal, or a deleted service still draining; healthy: nothing to repair; degrade: no attempt left this hour.',
      Choices: [
        { Variable: '$.next', StringEquals: 'repair', Next: 'NextRepair' },
        { Variable: '$.next', StringEquals: 'healthy', Next: 'FinishHeal' },
        {
          Or: [
            { Variable: '$.next', StringEquals: 'wait' },
            { Variable: '$.next', StringEquals: 'drain' },
          ],
          Next: 'WaitBackoff',
        },
        { Variable: '$.next', StringEquals: 'degrade', Next: 'DegradeEnvironment' },
      ],
      Default: 'HealSuperseded',
    },
    WaitBackoff: {
      Type: 'Wait',
      Comment: 'The backoff between heal attempts (FLEDGE_HEAL_BACKOFF, doubled after each), or a short wait for a draining service.',
      SecondsPath: '$.heal.waitSeconds',
      Next: 'InspectEnvironment',
    },
    NextRepair: {
      Type: 'Choice',
      Comment: 'One repair after the other, in dependency order; each runs at most once per pass (its result marks it done).',
      Choices: [
        repair('$.todo.targetGroup', '$.targetGroup', 'CreateTargetGroup'),
        repair('$.todo.rule', '$.rule', 'CreateRule'),
        repair('$.todo.dnsRecord', '$.done.dnsRecord', 'RepairDnsRecord'),
        repair('$.todo.healthCheck', '$.done.healthCheck', 'ModifyTargetGroup'),
        repair('$.todo.taskDefinition', '$.taskDefinition', 'RegisterTaskDefinition'),
        repair('$.todo.createService', '$.service', 'CreateService'),
        repair('$.todo.updateService', '$.done.service', 'UpdateService'),
        repair('$.todo.alarms.tasks', '$.done.tasksAlarm', 'PutTasksAlarm'),
        repair('$.todo.alarms.unhealthy', '$.done.unhealthyAlarm', 'PutUnhealthyAlarm'),
        repair('$.todo.alarms.errors', '$.done.errorsAlarm', 'Put5xxAlarm'),
        repair('$.todo.waitSteady', '$.steadyState', 'AwaitSteadyState'),
      ],
      Default: 'FinishHeal',
    },
    CreateTargetGroup: createTargetGroup({
      Comment: "The environment's target group, as create makes it.",
      Catch: [repairFailed],
      Next: 'ModifyTargetGroupAttributes',
    }),
    ModifyTargetGroupAttributes: setDeregistrationDelay({ Comment: 'Deregistration delay 5 s, as create sets it.', ...repaired }),
    CreateRule: createRule({ Comment: 'Host-header <name>.<base domain> at the priority the environment holds.', ...repaired }),
    RepairDnsRecord: changeDnsRecord({ path: '$.todo.dnsChange' }, {
      Comment:
        "The environment's alias record (per-environment DNS) back as create makes it, naming its shard's ALB: CREATE when it is missing, UPSERT only over Fledge's own alias naming another of its ALBs. A record Fledge does not manage at the name is never a repair: InspectEnvironment finds it taken and FinishHeal says so (event dns-name-in-use). A refused CREATE (InvalidChangeBatch) goes to RecheckDnsRecord, as in create: the record a try whose answer was lost made, or another's.",
      ResultPath: '$.done.dnsRecord',
      Catch: [dnsChangeRefused, repairFailed],
      Next: 'NextRepair',
    }),
    ...recheckDnsRecord('heal', {
      comment:
        "Route 53 refused the CREATE: the name's records are read again. Fledge's alias naming the environment's ALB (an earlier try was applied, its answer lost): the repair is done ($.done.dnsRecord). A record Fledge does not manage (DnsNameInUse), or none at all or one naming another ALB (Route 53's error at $.repairError): the repair failed, and FinishHeal looks again after the backoff, when InspectEnvironment reads the name again.",
      choiceComment: 'The record is the repair\'s (RecheckDnsRecord set $.done.dnsRecord): on to the next repair; otherwise $.repairError says why.',
      made: '$.done.dnsRecord',
      next: 'NextRepair',
      otherwise: 'FinishHeal',
      onError: repairFailed,
    }),
    ModifyTargetGroup: applyHealthCheck('$.plan.targetGroup', {
      Comment:
        "The target group's health check back to the spec's (path, interval, timeout, thresholds): a PUT/PATCH of healthCheck that an update applied, or a change made out of band.",
      ResultSelector: { 'arn.$': '$.TargetGroups[0].TargetGroupArn' },
      ResultPath: '$.done.healthCheck',
      ...repaired,
    }),
    RegisterTaskDefinition: registerTaskDefinition({ Comment: TASK_DEFINITION_COMMENT, ...repaired }),
    CreateService: createService('$.todo.desiredCount', {
      Comment: 'The service again, as create makes it (circuit breaker with rollback, tags); the ClientToken is new for each heal pass.',
      ResultSelector: SERVICE_RESULT,
      Retry: [ecsRetry, ecsClientRetry],
      ...repaired,
    }),
    UpdateService: updateService(
      '$.todo.desiredCount',
      {
        Comment:
          "One call for what the pass found: the desired count back to the spec's, the task definition rolled back to, the target group attached, a new deployment for unhealthy tasks.",
        ResultSelector: SERVICE_RESULT,
        ResultPath: '$.done.service',
        ...repaired,
      },
      '$.todo.forceNewDeployment',
    ),
    PutTasksAlarm: putTasksAlarm('$.plan.alarms.tasks', { Comment: ALARM_COMMENTS.tasks, ResultPath: '$.done.tasksAlarm', ...repaired }),
    PutUnhealthyAlarm: putUnhealthyAlarm({ Comment: ALARM_COMMENTS.unhealthy, ResultPath: '$.done.unhealthyAlarm', ...repaired }),
    Put5xxAlarm: putErrorRateAlarm({ Comment: ALARM_COMMENTS.errors, ResultPath: '$.done.errorsAlarm', ...repaired }),
    AwaitSteadyState: awaitSteadyState(
      { phase: '$.todo.phase', desiredCount: '$.todo.desiredCount', payload: { 'pass.$': '$.heal.passes', 'repairs.$': '$' } },
      { Catch: [catchAll('$.verifyError', 'FinishHeal')], Next: 'FinishHeal' },
    ),
    FinishHeal: operationStep('FinishHeal', 'heal', { Catch: [degrade], Next: 'AfterPass' }),
    AfterPass: {
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.next', StringEquals: 'done' },
            { Variable: '$.alarmReset', IsPresent: true },
          ],
          Next: 'ResetTasksAlarm',
        },
        { Variable: '$.next', StringEquals: 'done', Next: 'EnvironmentHealed' },
        { Variable: '$.next', StringEquals: 'retry', Next: 'WaitBackoff' },
        { Variable: '$.next', StringEquals: 'converge', Next: 'RegisterConvergedTaskDefinition' },
      ],
      Default: 'HealSuperseded',
    },
    RegisterConvergedTaskDefinition: registerTaskDefinition({
      Comment: TASK_DEFINITION_COMMENT,
      Catch: [degrade],
      Next: 'ModifyConvergedTargetGroup',
    }),
    ModifyConvergedTargetGroup: applyHealthCheck('$.plan.targetGroup', {
      Comment:
        'A spec accepted during the heal may change the health check: the target group follows it before the service rolls to the new revision, as the update workflow does.',
      Catch: [degrade],
      Next: 'UpdateConvergedService',
    }),
    UpdateConvergedService: updateService('$.plan.service.DesiredCount', {
      Comment: 'A spec accepted during the heal (latest accepted spec wins): deployed as an update would.',
      Catch: [degrade],
      Next: 'AwaitSteadyStateAfterConverging',
    }),
    AwaitSteadyStateAfterConverging: awaitSteadyState(
      { desiredCount: '$.plan.service.DesiredCount', payload: { 'pass.$': '$.heal.passes' } },
      { Catch: [rolledBack, degrade], Next: 'CompleteOperation' },
    ),
    ...healthCheckRollback('ModifyConvergedTargetGroup', 'CompleteOperation', degrade),
    CompleteOperation: operationStep('CompleteOperation', 'update', { Catch: [degrade], Next: 'CheckDesiredSpec' }),
    CheckDesiredSpec: convergeChoice('RegisterConvergedTaskDefinition', 'EnvironmentHealed', {
      comment: 'The desired spec moved again: go round with the newest one.',
      more: [{ Variable: '$.alarmReset', IsPresent: true, Next: 'ResetTasksAlarm' }],
    }),
    ResetTasksAlarm: resetAlarm(
      'tasks',
      'ResetUnhealthyAlarm',
      'The heal changed something (or was asked for): its alarms go back to OK. An alarm that stays in ALARM never changes state again, so no new event would start a heal if the fault persists or comes back; CloudWatch re-evaluates it at its next period and, if the metric still breaches, it enters ALARM again (SetAlarmState: "the alarm will return to its actual state on its next evaluation"). Best effort: a failure here does not undo the heal.',
    ),
    ResetUnhealthyAlarm: resetAlarm('unhealthy', 'Reset5xxAlarm', 'As ResetTasksAlarm, for fledge-<name>-unhealthy.'),
    Reset5xxAlarm: resetAlarm('errors', 'EnvironmentHealed', 'As ResetTasksAlarm, for fledge-<name>-5xx.'),
    ...recordFailure('DegradeEnvironment', 'DegradeEnvironment', 'heal', {
      next: 'AfterDegrade',
      fallbackComment:
        'DegradeEnvironment itself failed (after its retries): the same Lambda records DEGRADED with the least it needs, so the heal ends now instead of at the hourly stuck-operation sweep; the notification follows.',
    }),
    AfterDegrade: {
      Type: 'Choice',
      Choices: [{ Variable: '$.next', StringEquals: 'notify', Next: 'PublishNotification' }],
      Default: 'HealSuperseded',
    },
    PublishNotification: sdkTask('sns:publish', {
      Comment: 'Tells the operators (SNS) that an environment could not be saved.',
      Parameters: { TopicArn: '${NotificationTopicArn}', 'Subject.$': '$.notification.Subject', 'Message.$': '$.notification.Message' },
      ResultSelector: { 'messageId.$': '$.MessageId' },
      ResultPath: '$.notification.published',
      Retry: [snsRetry],
      Catch: [catchAll('$.notificationError', 'NotificationNotPublished')],
      Next: 'EnvironmentDegraded',
    }),
    EnvironmentHealed: succeed,
    EnvironmentDegraded: succeed,
    HealSuperseded: { Type: 'Succeed', Comment: 'Another operation (a delete) replaced this heal: nothing more is done, nothing is recorded.' },
    NotificationNotPublished: {
      Type: 'Fail',
      Error: 'NotificationNotPublished',
      Cause:
        'The environment was recorded DEGRADED but the notification could not be published: the failed-executions alarm tells the operators instead.',
    },
  }),
};
