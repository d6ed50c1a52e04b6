import { type StateMachine, catchAll, catchErrors, lambdaTask, sdkTask } from './asl.ts';
import { autoscalingRetry, cloudwatchRetry, ecsRetry, elbRetry, lambdaPatientRetry, lambdaRetry, serviceStillDrainingRetry, targetGroupInUseRetry } from './retry-policies.ts';

export const teardown: StateMachine = {
  Comment: 'Tear down a preview environment: everything found by name and tag is removed, "not found" counts as done, so a second teardown or the teardown of a half-built environment succeeds. The last event is a receipt of every resource removed, and of the shared task definitions it keeps (other environments may run them; the cleanup deregisters a family once no service uses it).',
  StartAt: 'DiscoverResources',
  TimeoutSeconds: 3600,
  States: {
    DiscoverResources: lambdaTask('DiscoverResources', {
      Parameters: { Payload: { workflow: 'teardown', 'executionArn.$': '$$.Execution.Id', 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Catch: [catchAll('$.error', 'FailOperation')],
      Next: 'DeleteAlarms',
    }),
    DeleteAlarms: sdkTask('cloudwatch:deleteAlarms', {
      Comment: "The environment's alarms (fledge-<installation>-<name>-tasks, -unhealthy, -5xx, and the legacy fledge-<name>-* ones DiscoverResources found) first, so they raise nothing while the rest goes. One call: CloudWatch deletes the names that exist and skips the others (ResourceNotFound = done); the receipt names those DiscoverResources found.",
      Parameters: { 'AlarmNames.$': '$.resources.alarmNames' },
      ResultPath: null,
      Retry: [cloudwatchRetry],
      Catch: [
        catchErrors(['CloudWatch.ResourceNotFoundException', 'CloudWatch.ResourceNotFound'], 'RemoveScalableTarget'),
        catchAll('$.error', 'FailOperation'),
      ],
      Next: 'RemoveScalableTarget',
    }),
    RemoveScalableTarget: sdkTask('applicationautoscaling:deregisterScalableTarget', {
      Comment: "The service's Application Auto Scaling target and its policies (autoscaling on, or off: not registered counts as done). Before the service goes, so nothing scales it meanwhile; the receipt names it.",
      Parameters: {
        ServiceNamespace: 'ecs',
        'ResourceId.$': "States.Format('service/{}/{}', States.ArrayGetItem(States.StringSplit('${ClusterArn}', '/'), 1), $.name)",
        ScalableDimension: 'ecs:service:DesiredCount',
      },
      ResultSelector: { removed: true },
      ResultPath: '$.removedScalableTarget',
      Retry: [autoscalingRetry],
      Catch: [
        catchErrors(['ApplicationAutoScaling.ObjectNotFoundException'], 'DeleteService'),
        catchAll('$.error', 'FailOperation'),
      ],
      Next: 'DeleteService',
    }),
    DeleteService: sdkTask('ecs:deleteService', {
      Comment: 'Force: running tasks are stopped with the service. Not found or already inactive = done.',
      Parameters: { Cluster: '${ClusterArn}', 'Service.$': '$.name', Force: true },
      ResultPath: null,
      Retry: [ecsRetry],
      Catch: [
        catchErrors(['Ecs.ServiceNotFoundException', 'Ecs.ServiceNotActiveException'], 'DeleteListenerRules'),
        catchAll('$.error', 'FailOperation'),
      ],
      Next: 'DeleteListenerRules',
    }),
    DeleteListenerRules: {
      Type: 'Map',
      Comment: 'Every rule on the shared listener that forwards to the target group or matches the host.',
      ItemsPath: '$.resources.ruleArns',
      MaxConcurrency: 5,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'DeleteRule',
        States: {
          DeleteRule: sdkTask('elasticloadbalancingv2:deleteRule', {
            Parameters: { 'RuleArn.$': '$' },
            ResultPath: null,
            Retry: [elbRetry],
            Catch: [catchErrors(['ElasticLoadBalancingV2.RuleNotFoundException'], 'RuleAlreadyDeleted')],
            End: true,
          }),
          RuleAlreadyDeleted: { Type: 'Pass', End: true },
        },
      },
      ResultPath: null,
      Catch: [catchAll('$.error', 'FailOperation')],
      Next: 'DeleteTargetGroups',
    },
    DeleteTargetGroups: {
      Type: 'Map',
      Comment: 'The target group named after the environment and tagged for it (zero or one).',
      ItemsPath: '$.resources.targetGroupArns',
      MaxConcurrency: 5,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'DeleteTargetGroup',
        States: {
          DeleteTargetGroup: sdkTask('elasticloadbalancingv2:deleteTargetGroup', {
            Comment: 'ResourceInUse is retried: detaching the rule and the service takes a moment.',
            Parameters: { 'TargetGroupArn.$': '$' },
            ResultPath: null,
            Retry: [elbRetry, targetGroupInUseRetry],
            Catch: [catchErrors(['ElasticLoadBalancingV2.TargetGroupNotFoundException'], 'TargetGroupAlreadyDeleted')],
            End: true,
          }),
          TargetGroupAlreadyDeleted: { Type: 'Pass', End: true },
        },
      },
      ResultPath: null,
      Catch: [catchAll('$.error', 'FailOperation')],
      Next: 'FinishTeardown',
    },
    FinishTeardown: lambdaTask('FinishTeardown', {
      Comment: 'Records DELETED once DescribeServices no longer shows the service (ECS keeps a deleted service DRAINING until its tasks stop, and its name cannot be reused meanwhile). ServiceStillDraining is retried for about 10 minutes; past that the teardown fails and a DELETE retries it.',
      Parameters: { Payload: { workflow: 'teardown', 'executionArn.$': '$$.Execution.Id', 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [serviceStillDrainingRetry, lambdaRetry],
      Catch: [catchAll('$.error', 'FailOperation')],
      End: true,
    }),
    FailOperation: lambdaTask('FailOperation', {
      Parameters: { Payload: { workflow: 'teardown', 'executionArn.$': '$$.Execution.Id', 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Catch: [catchAll('$.terminalError', 'FailOperationFallback')],
      Next: 'TeardownFailed',
    }),
    TeardownFailed: {
      Type: 'Fail',
      Error: 'TeardownFailed',
      Cause: 'Some resources could not be removed; the environment stays DELETING and a repeated DELETE retries the teardown.',
    },
    FailOperationFallback: lambdaTask('FailOperation', {
      Comment: 'FailOperation itself failed (after its retries): the same Lambda records the failed teardown (DELETING, operation FAILED) with the least it needs, so a DELETE or the next cleanup run retries it at once instead of after the hourly stuck-operation sweep.',
      Parameters: {
        Payload: { workflow: 'teardown', fallback: true, 'executionArn.$': '$$.Execution.Id', 'state.$': '$' },
      },
      OutputPath: '$.Payload',
      Retry: [lambdaPatientRetry],
      Catch: [catchAll('$.fallbackError', 'OperationNotRecorded')],
      Next: 'TeardownFailed',
    }),
    OperationNotRecorded: {
      Type: 'Fail',
      Error: 'OperationNotRecorded',
      Cause: 'The operation failed and recording its end failed too, after retries for minutes: the environment record still says the operation runs. The failed-executions alarm fires; the scheduled cleanup settles the operation (it checks the execution, which no longer runs).',
    },
  },
};
