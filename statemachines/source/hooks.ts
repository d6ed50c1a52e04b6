/**
 * The states that run one hook (docs/design.md "Hooks"): a Choice that skips them when the spec
 * has no such hook, the one-off Fargate task (`arn:aws:states:::ecs:runTask.sync`) and
 * RecordHookRun, which records the run and fails it (HookFailed) when the command exited
 * non-zero or ran past its timeout.
 *
 * `ecs:runTask.sync` ("Run Amazon ECS or Fargate tasks with Step Functions",
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html): Step Functions starts
 * the task and waits until it is STOPPED; its output is the stopped task's description
 * (PascalCase); a container that exits non-zero (a sidecar's too) fails the state with
 * `States.TaskFailed`, the task's description as the Cause (JSON); a RunTask answer with
 * `Failures` fails it with `AmazonECS.Unknown`. The state times out after TimeoutSecondsPath (the
 * hook's timeoutSeconds + 300 s to provision and pull); AWS documents no stop of the task then,
 * so RecordHookRun stops it (functions/adapters/hook-tasks.ts). The role keeps ecs:StopTask
 * ("IAM policies for Amazon ECS/AWS Fargate",
 * https://docs.aws.amazon.com/step-functions/latest/dg/ecs-iam.html) for a stopped execution.
 *
 * Only a RunTask that ECS refused is retried (nothing ran); a task that ran and failed is not: a
 * hook's command is not assumed idempotent (a seed run twice seeds twice). Every outcome goes to
 * RecordHookRun.
 */
import { catchAll, environmentTags, lambdaTask, optimizedTask, type Json, type State, type States } from './asl.ts';
import { updateService } from './fragments.ts';
import { lambdaRetry, runTaskInvalidParameterRetry, runTaskRetry } from './retry-policies.ts';
import type { HookName } from '#domain/hooks.ts';

const pascalHook = (hook: HookName) => `${hook.charAt(0).toUpperCase()}${hook.slice(1)}`;

/** The state names of a hook: the Choice is `<Hook>Hook` (e.g. AfterCreateHook), the one the workflow enters. */
export const hookEntry = (hook: HookName) => `${pascalHook(hook)}Hook`;

export interface HookOptions {
  /** where the workflow goes on after the hook succeeded (or was skipped) */
  next: string;
  /** where RecordHookRun's HookFailed (and any error of the hook's states) goes, and the path it is caught at */
  onFailure: { next: string; resultPath: string };
  /** the task definition the hook runs (a path to its ARN) */
  taskDefinition?: string;
  /** more Choice rules that skip the hook (evaluated first) */
  skipWhen?: { rule: State; next: string }[];
  /** the hook runs only once per execution (afterCreate: not again after a convergence pass) */
  once?: boolean;
  comment: string;
}

/** The states of `hook`: Choice -> RunTask (.sync) -> RecordHookRun. */
export function hookStates(hook: HookName, workflow: string, options: HookOptions): States {
  const name = pascalHook(hook);
  const plan = `$.plan.hooks.${hook}`;
  const run = `Run${name}Hook`;
  const record = `RecordHookRun${name}`;
  const present: State = options.once
    ? { And: [{ Variable: plan, IsPresent: true }, { Not: { Variable: `$.hooksRun.${hook}`, IsPresent: true } }] }
    : { Variable: plan, IsPresent: true };
  const taskDefinition = options.taskDefinition ?? '$.taskDefinition.arn';
  return {
    [hookEntry(hook)]: {
      Type: 'Choice',
      Comment: `${options.comment} Skipped when the spec has no ${hook} hook.`,
      Choices: [...(options.skipWhen ?? []).map(({ rule, next }) => ({ ...rule, Next: next }) as Json), { ...present, Next: run }],
      Default: options.next,
    },
    [run]: optimizedTask('ecs:runTask.sync', {
      Comment: `The ${hook} hook: a one-off Fargate task of the environment's task definition (same image, variables, secrets, network), the app container's command replaced by the hook's. Waits until the task stops; times out after the hook's timeoutSeconds + 300 s (RecordHookRun then stops the task).`,
      Parameters: {
        Cluster: '${ClusterArn}',
        'TaskDefinition.$': taskDefinition,
        LaunchType: 'FARGATE',
        PlatformVersion: 'LATEST',
        'NetworkConfiguration.$': '$.plan.service.NetworkConfiguration',
        Overrides: { ContainerOverrides: [{ Name: 'app', 'Command.$': `${plan}.command` }] },
        'Group.$': "States.Format('hook:{}', $.name)",
        StartedBy: 'fledge-hook',
        Tags: [...environmentTags, { Key: 'fledge:hook', Value: hook }],
      },
      TimeoutSecondsPath: `${plan}.stateTimeoutSeconds`,
      ResultSelector: { 'task.$': '$' },
      ResultPath: '$.hookRun',
      Retry: [runTaskRetry, runTaskInvalidParameterRetry],
      Catch: [catchAll('$.hookRun', record)],
      Next: record,
    }),
    [record]: lambdaTask('RecordHookRun', {
      Comment: `Records the event hook (exit code, duration, log stream) and the run's task-seconds; a non-zero exit or a run past timeoutSeconds is HookFailed (HOOK_FAILED).`,
      Parameters: { Payload: { workflow, hook, 'executionArn.$': '$$.Execution.Id', 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Catch: [catchAll(options.onFailure.resultPath, options.onFailure.next)],
      Next: options.next,
    }),
  };
}


/**
 * A failed afterUpdate hook (its Catch put the error at `$.rollback`): the service goes back to the
 * revision it ran before the deployment (`$.previousTaskDefinition`, kept by the pass's plan), at
 * `desiredCount`; AwaitSteadyState waits for it and the workflow records it as a circuit-breaker
 * rollback (its AfterUpdateHook Choice skips the hook when `$.rollback` is present). Without a
 * previous revision, `withoutPrevious` says where the error goes.
 */
export function afterUpdateRollback(options: { desiredCount: string; onError: State; withoutPrevious: { next: string; errorPath: string } }): States {
  return {
    RollBackAfterHook: {
      Type: 'Choice',
      Comment: 'The afterUpdate hook failed: deploy the task definition the service ran before this deployment (the plan kept it), unless there was none to go back to.',
      Choices: [{ Variable: '$.previousTaskDefinition.arn', IsPresent: true, Next: 'PreviousTaskDefinition' }],
      Default: 'HookFailedWithoutRollback',
    },
    HookFailedWithoutRollback: {
      Type: 'Pass',
      Comment: 'Nothing to roll back to: the deployment fails with the hook\'s error.',
      InputPath: '$.rollback',
      ResultPath: options.withoutPrevious.errorPath,
      Next: options.withoutPrevious.next,
    },
    PreviousTaskDefinition: {
      Type: 'Pass',
      Comment: 'The revision to go back to becomes the one the service runs and the wait awaits.',
      InputPath: '$.previousTaskDefinition',
      ResultPath: '$.taskDefinition',
      Next: 'RollBackService',
    },
    RollBackService: updateService(options.desiredCount, {
      Comment: 'Back to the previous revision (a new deployment of it); AwaitSteadyState waits for it, then HealthCheckChanged puts the previous health check back and the recording step records the rollback (RUNNING on the previous image, the operation FAILED with HOOK_FAILED).',
      Catch: [options.onError],
      Next: 'AwaitSteadyState',
    }),
  };
}
