import { catchAll, lambdaTask, type State, type StateMachine, type TaskLambda } from './asl.ts';
import { succeed } from './fragments.ts';
import { lambdaRetry } from './retry-policies.ts';

/** A sweep of the run: its report goes to `$.<into>`, its failure to `$.<into>Error`, and the run goes on at `next` either way. */
function sweep(lambda: TaskLambda, options: { Comment: string; payload: State; into: string; next: string }): State {
  return lambdaTask(lambda, {
    Comment: options.Comment,
    Parameters: { Payload: options.payload },
    ResultSelector: { 'report.$': '$.Payload' },
    ResultPath: `$.${options.into}`,
    Retry: [lambdaRetry],
    Catch: [catchAll(`$.${options.into}Error`, options.next)],
    Next: options.next,
  });
}

export const cleanup: StateMachine = {
  Comment:
    'Scheduled cleanup (EventBridge Scheduler, locally every FLEDGE_CLEANUP_INTERVAL): tears down environments past expiresAt (read from the sparse expiry index, never a scan), retries failed teardowns, fails or re-drives operations whose execution was lost, and removes resources tagged by Fledge whose environment is deleted or unknown. Environments are handled through the same domain path as a DELETE, at most 4 at a time with a pause after each, so teardowns start at most 4 per second (ECS accepts about 5 service mutations a second). One environment failing does not stop the others: its failure is collected, the run ends failed (alarmed), and the next run tries again.',
  StartAt: 'PlanCleanup',
  TimeoutSeconds: 1800,
  States: {
    PlanCleanup: lambdaTask('PlanCleanup', {
      Comment: "Expired environments (key condition expiresAt < the execution's start time, paginated) and unsettled ones (a failed teardown, a status that has not moved for an hour).",
      Parameters: {
        Payload: { 'executionStartTime.$': '$$.Execution.StartTime', 'executionName.$': '$$.Execution.Name' },
      },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Next: 'CleanupEnvironments',
    }),
    CleanupEnvironments: {
      Type: 'Map',
      Comment: 'Bounded concurrency: ECS rate-limits service mutations per account.',
      ItemsPath: '$.items',
      MaxConcurrency: 4,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'CleanupEnvironment',
        States: {
          CleanupEnvironment: lambdaTask('CleanupEnvironment', {
            Comment: 'The same domain path as DELETE /v1/environments/{name}, actor system, If-Match on the version it judged.',
            Parameters: { 'Payload.$': '$' },
            OutputPath: '$.Payload',
            Retry: [lambdaRetry],
            Catch: [catchAll('$.error', 'RecordFailure')],
            Next: 'PaceTeardowns',
          }),
          PaceTeardowns: {
            Type: 'Wait',
            Comment: 'At most MaxConcurrency teardowns start per second.',
            Seconds: 1,
            End: true,
          },
          RecordFailure: {
            Type: 'Pass',
            Comment: 'Collected, not fatal: the other environments go on, the next run retries this one.',
            Parameters: { 'name.$': '$.name', 'action.$': '$.action', outcome: 'failed', 'detail.$': '$.error.Cause' },
            End: true,
          },
        },
      },
      ResultPath: '$.results',
      Next: 'ReconcileOrphans',
    },
    ReconcileOrphans: sweep('ReconcileOrphans', {
      Comment:
        'Resources tagged fledge:environment whose environment is DELETED or unknown are removed; untagged resources are never touched.',
      payload: { 'asOf.$': '$.asOf', 'executionName.$': '$.executionName' },
      into: 'orphans',
      next: 'HealMissedAlarms',
    }),
    HealMissedAlarms: sweep('HealMissedAlarms', {
      Comment:
        'An alarm fires once: one still in ALARM whose event started no heal (lost, or it came while the environment was busy) starts one now.',
      payload: { 'executionName.$': '$.executionName' },
      into: 'missedAlarms',
      next: 'ReportCleanup',
    }),
    ReportCleanup: lambdaTask('ReportCleanup', {
      Comment: 'One summary: logs, metrics, the execution output.',
      Parameters: { Payload: { 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Next: 'AllHandled',
    }),
    AllHandled: {
      Type: 'Choice',
      Choices: [{ Variable: '$.failed', NumericGreaterThan: 0, Next: 'CleanupIncomplete' }],
      Default: 'CleanupDone',
    },
    CleanupIncomplete: {
      Type: 'Fail',
      Error: 'CleanupIncomplete',
      Cause: 'Some environments could not be handled (see the ReportCleanup output and the events of each environment); the next run tries them again.',
    },
    CleanupDone: succeed,
  },
};
