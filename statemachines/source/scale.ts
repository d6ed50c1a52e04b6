import { $, catchAll, isTrue, sdkTask, type StateMachine } from './asl.ts';
import { withCauseLoops } from './cause-loops.ts';
import { applyHealthCheck, awaitSteadyState, convergeChoice, deregisterScalableTarget, healthCheckRollback, notRegistered, operationStep, pointRuleAtWaker, putScalingPolicy, putTasksAlarm, recordFailure, registerScalableTarget, registerTaskDefinition, rolledBack, succeed, updateService } from './fragments.ts';
import { afterUpdateRollback, hookStates } from './hooks.ts';
import { ecsClientRetry, ecsRetry, elbRetry } from './retry-policies.ts';

const fail = catchAll('$.error', 'CompleteScaleAfterFailure');

export const scale: StateMachine = {
  Comment:
    'Scale a preview environment: its desired count and autoscaling. To 0 it sleeps: the listener rule moves to the waker first, the autoscaling target goes, the service scales to 0. Waking scales the service up, waits until it is steady, then moves the rule back and restores autoscaling. A spec that also needs a new task definition (a PUT that woke it, a spec that moved meanwhile) is deployed on the way. A failure records the environment as it is, never FAILED.',
  StartAt: 'PlanScale',
  TimeoutSeconds: 3600,
  States: withCauseLoops({
    PlanScale: operationStep('PlanScale', 'scale', {
      Comment:
        'Reads the service, its target group and listener rule; renders $.scaling (count, autoscaling, rule swap, whether the spec needs a new revision) and $.plan.',
      Catch: [fail],
      Next: 'CheckNewVersion',
    }),
    CheckNewVersion: {
      Type: 'Choice',
      Comment:
        'The spec runs another (content-addressed) task definition family than the service: a PUT/PATCH that changed the image (or anything in the definition) together with the count or autoscaling, or of a sleeping environment, or a spec that moved while the scale ran. Its revision is registered (unless the family has one already) before anything of the serving version changes, and the beforeUpdate hook runs with it, as in the update workflow.',
      Choices: [
        { And: [isTrue('$.scaling.deploy'), isTrue('$.scaling.register')], Next: 'RegisterTaskDefinition' },
        { ...isTrue('$.scaling.deploy'), Next: 'BeforeUpdateHook' },
      ],
      Default: 'ApplyHealthCheck',
    },
    RegisterTaskDefinition: registerTaskDefinition({
      Comment:
        'A revision of the spec\'s content-addressed family fledge-td-<hash> (Fargate, awsvpc, the containers rendered by PlanScale), shared with every environment whose definition renders the same: no fledge:environment tag. Throttling is retried for minutes: the bucket (20, then 1/s) is account-wide (docs/design.md "Retries sized to the bucket").',
      Catch: [fail],
      Next: 'BeforeUpdateHook',
    }),
    ...hookStates('beforeUpdate', 'scale', {
      comment: 'A new version is deployed by this scale: the beforeUpdate hook (a migration) runs with the NEW task definition before anything changes (health check, listener rule, autoscaling, service). A failure fails the scale and the environment stays as it was (RUNNING or SLEEPING on the previous version).',
      next: 'ApplyHealthCheck',
      onFailure: { next: 'CompleteScaleAfterFailure', resultPath: '$.error' },
    }),
    ApplyHealthCheck: applyHealthCheck('$.plan.targetGroup', {
      Comment:
        "The spec's health check on the target group (a PUT/PATCH of healthCheck that reached a sleeping environment, or a spec that moved meanwhile, runs this workflow): applied before any task starts.",
      Catch: [fail],
      Next: 'PutTasksAlarmBeforeScaling',
    }),
    PutTasksAlarmBeforeScaling: putTasksAlarm('$.scaling.tasksAlarm', {
      Comment:
        'The tasks alarm (fledge-<name>-tasks) at the lower of the counts before and after this pass (functions/domain/alarms.ts transitionalTasksAlarm), before the service changes: tasks a scale-down stops, or a scale-up has not started yet, start no heal. Asleep it is 0 and never alarms.',
      Catch: [fail],
      Next: 'BeforeService',
    }),
    BeforeService: {
      Type: 'Choice',
      Comment:
        'Going to sleep: the listener rule moves to the waker first (no request meets an empty target group) and the autoscaling target goes (it would scale the service back up to its minimum).',
      Choices: [
        { And: [isTrue('$.scaling.sleeping'), { Variable: '$.scaling.ruleArn', IsPresent: true }], Next: 'PointRuleAtWaker' },
        { ...isTrue('$.scaling.sleeping'), Next: 'SuspendAutoscaling' },
      ],
      Default: 'CheckDeployment',
    },
    PointRuleAtWaker: pointRuleAtWaker('$.scaling.ruleArn', {
      Comment:
        "While the environment sleeps its URL is answered by the waker Lambda (a shared Lambda target group): the request starts a wake and gets a page that refreshes until the environment is back. The environment's own target group stays in the rule at weight 0: no traffic, but still in use by the listener, so the ALB health-checks the tasks a wake starts and ECS sees them healthy.",
      Catch: [fail],
      Next: 'SuspendAutoscaling',
    }),
    SuspendAutoscaling: deregisterScalableTarget('$.scaling.resourceId', {
      Comment: 'Deregistering the scalable target also deletes its policies and their alarms; "not registered" counts as done.',
      Catch: [notRegistered('CheckDeployment'), fail],
      Next: 'CheckDeployment',
    }),
    CheckDeployment: {
      Type: 'Choice',
      Comment: 'A new revision (registered and hooked above) is deployed; otherwise only the count changes.',
      Choices: [{ ...isTrue('$.scaling.deploy'), Next: 'DeployService' }],
      Default: 'ScaleService',
    },
    DeployService: updateService('$.scaling.desiredCount', {
      Comment: 'The new revision at the desired count; the circuit breaker set at CreateService rolls it back if its tasks fail.',
      Catch: [fail],
      Next: 'AwaitSteadyState',
    }),
    ScaleService: sdkTask('ecs:updateService', {
      Comment: 'Only the desired count: no new deployment, the running tasks stay.',
      Parameters: { Cluster: '${ClusterArn}', 'Service.$': '$.name', 'DesiredCount.$': '$.scaling.desiredCount' },
      ResultPath: null,
      Retry: [ecsRetry, ecsClientRetry],
      Catch: [fail],
      Next: 'AwaitSteadyState',
    }),
    AwaitSteadyState: awaitSteadyState({ desiredCount: '$.scaling.desiredCount', polls: 19 }, { Catch: [rolledBack, fail], Next: 'AfterUpdateHook' }),
    ...hookStates('afterUpdate', 'scale', {
      comment: 'A new version was deployed by this scale and is steady (at 0 tasks too: the hook is its own task): the afterUpdate hook. A failure rolls the service back to the revision it ran before, as in the update workflow; after that rollback the hook is skipped and CompleteScale records it.',
      next: 'AfterSteady',
      onFailure: { next: 'RollBackAfterHook', resultPath: '$.rollback' },
      skipWhen: [
        { rule: { Variable: '$.rollback', IsPresent: true }, next: 'HealthCheckChanged' },
        { rule: { Not: isTrue('$.scaling.deploy') }, next: 'AfterSteady' },
      ],
    }),
    ...afterUpdateRollback({ desiredCount: '$.scaling.desiredCount', onError: fail, withoutPrevious: { next: 'CompleteScaleAfterFailure', errorPath: '$.error' } }),
    ...healthCheckRollback('ApplyHealthCheck', 'CompleteScale', fail),
    AfterSteady: {
      Type: 'Choice',
      Comment:
        "Awake: the rule goes back to the service's target group only now that its tasks are steady (no request meets an empty target group), then autoscaling takes over.",
      Choices: [
        { ...isTrue('$.scaling.sleeping'), Next: 'CompleteScale' },
        {
          And: [
            { Variable: '$.scaling.ruleArn', IsPresent: true },
            { Variable: '$.scaling.ruleAtService', BooleanEquals: false },
          ],
          Next: 'PointRuleAtService',
        },
        { Variable: '$.scaling.autoscaling', IsPresent: true, Next: 'RegisterScalableTarget' },
      ],
      Default: 'RemoveAutoscaling',
    },
    PointRuleAtService: sdkTask('elasticloadbalancingv2:modifyRule', {
      Comment: "Back from the waker to the environment's own target group.",
      Parameters: { 'RuleArn.$': '$.scaling.ruleArn', Actions: [{ Type: 'forward', 'TargetGroupArn.$': '$.targetGroup.arn' }] },
      ResultPath: null,
      Retry: [elbRetry],
      Catch: [fail],
      Next: 'ApplyAutoscaling',
    }),
    ApplyAutoscaling: {
      Type: 'Choice',
      Choices: [{ Variable: '$.scaling.autoscaling', IsPresent: true, Next: 'RegisterScalableTarget' }],
      Default: 'RemoveAutoscaling',
    },
    RegisterScalableTarget: registerScalableTarget(
      '$.scaling.resourceId',
      { min: '$.scaling.autoscaling.MinCapacity', max: '$.scaling.autoscaling.MaxCapacity' },
      { Comment: "Registers or updates the service's scalable target (min..max). Idempotent.", Catch: [fail], Next: 'PutScalingPolicy' },
    ),
    PutScalingPolicy: putScalingPolicy(
      '$.scaling.resourceId',
      {
        PolicyName: $('$.scaling.autoscaling.PolicyName'),
        TargetValue: $('$.scaling.autoscaling.TargetValue'),
        ScaleInCooldown: $('$.scaling.autoscaling.ScaleInCooldown'),
        ScaleOutCooldown: $('$.scaling.autoscaling.ScaleOutCooldown'),
      },
      { Comment: "Target tracking on the service's average CPU (creates or replaces the policy of that name).", Catch: [fail], Next: 'PutTasksAlarm' },
    ),
    RemoveAutoscaling: deregisterScalableTarget('$.scaling.resourceId', {
      Comment: 'Autoscaling off: the scalable target (and its policies) go; "not registered" counts as done.',
      Catch: [notRegistered('PutTasksAlarm'), fail],
      Next: 'PutTasksAlarm',
    }),
    PutTasksAlarm: putTasksAlarm('$.plan.alarms.tasks', {
      Comment:
        'Steady at the new count: the tasks alarm follows the spec (its desired count; with autoscaling its minCount, since autoscaling moves the count), as create and update put it.',
      Catch: [fail],
      Next: 'CompleteScale',
    }),
    CompleteScale: operationStep('CompleteScale', 'scale', {
      Comment:
        'RUNNING (or SLEEPING at 0 tasks) with an event naming the actor; if the desired spec moved meanwhile, hands the workflow the newest spec instead.',
      Catch: [fail],
      Next: 'CheckDesiredSpec',
    }),
    CheckDesiredSpec: convergeChoice('PlanScale', 'Scaled'),
    Scaled: succeed,
    ...recordFailure('CompleteScaleAfterFailure', 'CompleteScale', 'scale', {
      comment:
        'The same task with $.error set: records the failure, and the environment as it really is (RUNNING, or SLEEPING at 0 tasks): a scale never leaves it FAILED.',
      next: 'CheckDesiredSpecAfterFailure',
      fallbackComment:
        'CompleteScaleAfterFailure itself failed (after its retries): the same Lambda records the environment as it is (RUNNING, or SLEEPING at 0) with the operation FAILED, with the least it needs, so the operation ends now instead of at the hourly stuck-operation sweep.',
      fallbackNext: 'ScaleFailed',
    }),
    CheckDesiredSpecAfterFailure: convergeChoice('PlanScale', 'ScaleFailed'),
    ScaleFailed: { Type: 'Fail', Error: 'ScaleFailed', Cause: 'The environment could not be scaled; its events and operation.error say why.' },
  }),
};
