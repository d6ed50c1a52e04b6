import { catchAll, type StateMachine } from './asl.ts';
import { withCauseLoops } from './cause-loops.ts';
import { afterUpdateRollback, hookStates } from './hooks.ts';
import { applyHealthCheck, completeRollout, failOperation, failRollout, operationStep, putTasksAlarm, registerTaskDefinition, succeed, updateService } from './fragments.ts';

export const update: StateMachine = {
  Comment:
    'Update a preview environment: a new task definition revision, then the service rolls to it and the workflow waits for steady state. A circuit-breaker rollback ends RUNNING on the previous image (a rolled-back event, the operation FAILED with the reason); other failures record FAILED.',
  StartAt: 'PlanResources',
  TimeoutSeconds: 7200,
  States: withCauseLoops({
    PlanResources: operationStep('PlanResources', 'update', { Catch: [failOperation], Next: 'RegisterTaskDefinition' }),
    RegisterTaskDefinition: registerTaskDefinition({
      Comment:
        'A revision of the spec\'s content-addressed family fledge-td-<hash> (Fargate, awsvpc, the one container "app" rendered by PlanResources), shared with every environment whose definition renders the same: no fledge:environment tag. Throttling is retried for minutes: the bucket (20, then 1/s) is account-wide (docs/design.md "Retries sized to the bucket").',
      Catch: [failOperation],
      Next: 'BeforeUpdateHook',
    }),
    ...hookStates('beforeUpdate', 'update', {
      comment: 'The beforeUpdate hook (a migration) with the NEW task definition, before anything of the serving version changes (the health check, the service). A failure fails the update; the previous version keeps serving untouched.',
      next: 'ModifyTargetGroup',
      onFailure: { next: 'FailOperation', resultPath: '$.error' },
    }),
    ModifyTargetGroup: applyHealthCheck('$.plan.targetGroup', {
      Comment:
        "The spec's health check on the environment's target group (path, interval, timeout, thresholds), before the new tasks register: ECS and its circuit breaker judge them by it. Without this step a healthCheck change would be accepted and never applied.",
      Catch: [failOperation],
      Next: 'UpdateService',
    }),
    UpdateService: updateService('$.plan.service.DesiredCount', {
      Comment: 'Rolls the service to the new revision; the circuit breaker set at CreateService rolls it back if the new tasks fail.',
      Catch: [failOperation],
      Next: 'PutTasksAlarm',
    }),
    PutTasksAlarm: putTasksAlarm('$.plan.alarms.tasks', {
      Comment: 'The tasks alarm follows the desired count of the new spec (as create put it: fledge-<name>-tasks).',
      Catch: [failOperation],
      Next: 'AwaitSteadyState',
    }),
    ...completeRollout('update', failOperation, { changedBy: 'ModifyTargetGroup', converge: 'RegisterTaskDefinition', done: 'EnvironmentUpdated', whenSteady: 'AfterUpdateHook' }),
    ...hookStates('afterUpdate', 'update', {
      comment: 'The afterUpdate hook, once the new version is steady. A failure rolls the service back to the version that served before (as the circuit breaker would), then CompleteOperation records the rollback. After that rollback the service is steady again: the hook is not run again.',
      next: 'CompleteOperation',
      onFailure: { next: 'RollBackAfterHook', resultPath: '$.rollback' },
      skipWhen: [{ rule: { Variable: '$.rollback', IsPresent: true }, next: 'HealthCheckChanged' }],
    }),
    ...afterUpdateRollback({ desiredCount: '$.plan.service.DesiredCount', onError: catchAll('$.error', 'FailOperation'), withoutPrevious: { next: 'FailOperation', errorPath: '$.error' } }),
    EnvironmentUpdated: succeed,
    ...failRollout('update', {
      converge: 'RegisterTaskDefinition',
      failed: 'UpdateFailed',
      cause: 'The environment could not be updated; its events and operation.error say why.',
    }),
  }),
};
