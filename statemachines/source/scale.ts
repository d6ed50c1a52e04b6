import { type StateMachine, catchAll, catchErrors, environmentTags, lambdaTask, lambdaTaskWithToken, sdkTask } from './asl.ts';
import { autoscalingAccessRetry, autoscalingRetry, cloudwatchRetry, ecsClientRetry, ecsRetry, ecsServerRetry, ecsThrottlingRetry, elbRetry, lambdaPatientRetry, lambdaRetry, lambdaServiceRetry, lambdaThrottlingRetry, steadyStateTimeoutRetry } from './retry-policies.ts';

export const scale: StateMachine = {
  Comment: 'Scale a preview environment: its desired count and autoscaling. To 0 it sleeps: the listener rule moves to the waker first, the autoscaling target goes, the service scales to 0. Waking scales the service up, waits until it is steady, then moves the rule back and restores autoscaling. A spec that also needs a new task definition (a PUT that woke it, a spec that moved meanwhile) is deployed on the way. A failure records the environment as it is, never FAILED.',
  StartAt: 'PlanScale',
  TimeoutSeconds: 3600,
  States: {
    PlanScale: lambdaTask('PlanScale', {
      Comment: 'Reads the service, its target group and listener rule; renders $.scaling (count, autoscaling, rule swap, whether the spec needs a new revision) and $.plan.',
      Parameters: { Payload: { workflow: 'scale', 'executionArn.$': '$$.Execution.Id', 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'ApplyHealthCheck',
    }),
    ApplyHealthCheck: sdkTask('elasticloadbalancingv2:modifyTargetGroup', {
      Comment: "The spec's health check on the target group (a PUT/PATCH of healthCheck that reached a sleeping environment, or a spec that moved meanwhile, runs this workflow): applied before any task starts.",
      Parameters: {
        'TargetGroupArn.$': '$.targetGroup.arn',
        'HealthCheckPath.$': '$.plan.targetGroup.HealthCheckPath',
        'HealthCheckIntervalSeconds.$': '$.plan.targetGroup.HealthCheckIntervalSeconds',
        'HealthCheckTimeoutSeconds.$': '$.plan.targetGroup.HealthCheckTimeoutSeconds',
        'HealthyThresholdCount.$': '$.plan.targetGroup.HealthyThresholdCount',
        'UnhealthyThresholdCount.$': '$.plan.targetGroup.UnhealthyThresholdCount',
      },
      ResultPath: null,
      Retry: [elbRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'PutTasksAlarmBeforeScaling',
    }),
    PutTasksAlarmBeforeScaling: sdkTask('cloudwatch:putMetricAlarm', {
      Comment: 'The tasks alarm (fledge-<name>-tasks) at the lower of the counts before and after this pass (functions/domain/alarms.ts transitionalTasksAlarm), before the service changes: tasks a scale-down stops, or a scale-up has not started yet, start no heal. Asleep it is 0 and never alarms.',
      Parameters: {
        'AlarmName.$': '$.scaling.tasksAlarm.AlarmName',
        'AlarmDescription.$': '$.scaling.tasksAlarm.AlarmDescription',
        Namespace: 'ECS/ContainerInsights',
        MetricName: 'RunningTaskCount',
        Dimensions: [
          { Name: 'ClusterName', 'Value.$': '$.scaling.tasksAlarm.ClusterName' },
          { Name: 'ServiceName', 'Value.$': '$.name' },
        ],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        'Threshold.$': '$.scaling.tasksAlarm.Threshold',
        ComparisonOperator: 'LessThanThreshold',
        'TreatMissingData.$': '$.scaling.tasksAlarm.TreatMissingData',
        Tags: environmentTags,
      },
      ResultPath: null,
      Retry: [cloudwatchRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'BeforeService',
    }),
    BeforeService: {
      Type: 'Choice',
      Comment: 'Going to sleep: the listener rule moves to the waker first (no request meets an empty target group) and the autoscaling target goes (it would scale the service back up to its minimum).',
      Choices: [
        {
          And: [
            {
              And: [
                { Variable: '$.scaling.sleeping', IsPresent: true },
                { Variable: '$.scaling.sleeping', BooleanEquals: true },
              ],
            },
            { Variable: '$.scaling.ruleArn', IsPresent: true },
          ],
          Next: 'PointRuleAtWaker',
        },
        {
          And: [
            { Variable: '$.scaling.sleeping', IsPresent: true },
            { Variable: '$.scaling.sleeping', BooleanEquals: true },
          ],
          Next: 'SuspendAutoscaling',
        },
      ],
      Default: 'CheckDeployment',
    },
    PointRuleAtWaker: sdkTask('elasticloadbalancingv2:modifyRule', {
      Comment: "While the environment sleeps its URL is answered by the waker Lambda (a shared Lambda target group): the request starts a wake and gets a page that refreshes until the environment is back. The environment's own target group stays in the rule at weight 0: no traffic, but still in use by the listener, so the ALB health-checks the tasks a wake starts and ECS sees them healthy.",
      Parameters: {
        'RuleArn.$': '$.scaling.ruleArn',
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: '${WakerTargetGroupArn}', Weight: 1 },
                { 'TargetGroupArn.$': '$.targetGroup.arn', Weight: 0 },
              ],
            },
          },
        ],
      },
      ResultPath: null,
      Retry: [elbRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'SuspendAutoscaling',
    }),
    SuspendAutoscaling: sdkTask('applicationautoscaling:deregisterScalableTarget', {
      Comment: 'Deregistering the scalable target also deletes its policies and their alarms; "not registered" counts as done.',
      Parameters: {
        ServiceNamespace: 'ecs',
        'ResourceId.$': '$.scaling.resourceId',
        ScalableDimension: 'ecs:service:DesiredCount',
      },
      ResultPath: null,
      Retry: [autoscalingRetry],
      Catch: [
        catchErrors(['ApplicationAutoScaling.ObjectNotFoundException'], 'CheckDeployment'),
        catchAll('$.error', 'FailScale'),
      ],
      Next: 'CheckDeployment',
    }),
    CheckDeployment: {
      Type: 'Choice',
      Comment: 'The spec runs another (content-addressed) task definition family than the service: a PUT/PATCH that woke the environment, or a spec that moved while the scale ran. Its revision is registered unless the family has one already.',
      Choices: [
        {
          And: [
            {
              And: [
                { Variable: '$.scaling.deploy', IsPresent: true },
                { Variable: '$.scaling.deploy', BooleanEquals: true },
              ],
            },
            {
              And: [
                { Variable: '$.scaling.register', IsPresent: true },
                { Variable: '$.scaling.register', BooleanEquals: true },
              ],
            },
          ],
          Next: 'RegisterTaskDefinition',
        },
        {
          And: [
            { Variable: '$.scaling.deploy', IsPresent: true },
            { Variable: '$.scaling.deploy', BooleanEquals: true },
          ],
          Next: 'DeployService',
        },
      ],
      Default: 'ScaleService',
    },
    RegisterTaskDefinition: sdkTask('ecs:registerTaskDefinition', {
      Comment: "A revision of the spec's content-addressed family fledge-td-<hash> (Fargate, awsvpc, the one container \"app\" rendered by PlanResources), shared with every environment whose definition renders the same: no fledge:environment tag. Throttling is retried for minutes: the bucket (20, then 1/s) is account-wide (docs/design.md \"Retries sized to the bucket\").",
      Parameters: {
        'Family.$': '$.plan.taskDefinition.Family',
        'Cpu.$': '$.plan.taskDefinition.Cpu',
        'Memory.$': '$.plan.taskDefinition.Memory',
        NetworkMode: 'awsvpc',
        RequiresCompatibilities: ['FARGATE'],
        RuntimePlatform: { OperatingSystemFamily: 'LINUX', CpuArchitecture: 'X86_64' },
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
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'DeployService',
    }),
    DeployService: sdkTask('ecs:updateService', {
      Comment: 'The new revision at the desired count; the circuit breaker set at CreateService rolls it back if its tasks fail.',
      Parameters: {
        Cluster: '${ClusterArn}',
        'Service.$': '$.name',
        'TaskDefinition.$': '$.taskDefinition.arn',
        'DesiredCount.$': '$.scaling.desiredCount',
        'HealthCheckGracePeriodSeconds.$': '$.plan.service.HealthCheckGracePeriodSeconds',
        LoadBalancers: [
          {
            'TargetGroupArn.$': '$.targetGroup.arn',
            ContainerName: 'app',
            'ContainerPort.$': '$.plan.service.ContainerPort',
          },
        ],
        ForceNewDeployment: false,
      },
      ResultPath: null,
      Retry: [ecsRetry, ecsClientRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'WaitForSteadyState',
    }),
    ScaleService: sdkTask('ecs:updateService', {
      Comment: 'Only the desired count: no new deployment, the running tasks stay.',
      Parameters: { Cluster: '${ClusterArn}', 'Service.$': '$.name', 'DesiredCount.$': '$.scaling.desiredCount' },
      ResultPath: null,
      Retry: [ecsRetry, ecsClientRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'WaitForSteadyState',
    }),
    WaitForSteadyState: lambdaTaskWithToken('AwaitSteadyState', {
      Comment: 'Waits for the ECS service to be steady with this deployment: on the ECS event (AwaitSteadyState stores the task token, the ECS service event handler answers it) or on a poll (each entry reads the service and answers at once when it is steady, failed or rolled back). TimeoutSeconds is the poll interval, and the Retry on States.Timeout polls again, 19 times at most: about 600 s in all is the backstop (TIMEOUT).',
      Parameters: {
        Payload: {
          'taskToken.$': '$$.Task.Token',
          'name.$': '$.name',
          'operationId.$': '$.operationId',
          'phase.$': '$.phase',
          'taskDefinitionArn.$': '$.taskDefinition.arn',
          'executionArn.$': '$$.Execution.Id',
          'desiredCount.$': '$.scaling.desiredCount',
        },
      },
      TimeoutSeconds: 30,
      ResultPath: '$.steadyState',
      Retry: [steadyStateTimeoutRetry(19), lambdaServiceRetry, lambdaThrottlingRetry],
      Catch: [
        catchErrors(['DeploymentRolledBack'], 'HealthCheckChanged', '$.rollback'),
        catchAll('$.error', 'FailScale'),
      ],
      Next: 'AfterSteady',
    }),
    HealthCheckChanged: {
      Type: 'Choice',
      Comment: "A rolled-back pass whose ApplyHealthCheck changed the target group's health check ($.previousHealthCheck, set when the pass was planned) puts the previous one back first.",
      Choices: [{ Variable: '$.previousHealthCheck', IsPresent: true, Next: 'RestoreHealthCheck' }],
      Default: 'CompleteScale',
    },
    RestoreHealthCheck: sdkTask('elasticloadbalancingv2:modifyTargetGroup', {
      Comment: "The circuit breaker rolled the deployment back to the previous revision: the target group's health check goes back to what it was before ApplyHealthCheck changed it (the previous image may not serve the new path), and CompleteScale records it as the spec's healthCheck (like the image).",
      Parameters: {
        'TargetGroupArn.$': '$.targetGroup.arn',
        'HealthCheckPath.$': '$.previousHealthCheck.HealthCheckPath',
        'HealthCheckIntervalSeconds.$': '$.previousHealthCheck.HealthCheckIntervalSeconds',
        'HealthCheckTimeoutSeconds.$': '$.previousHealthCheck.HealthCheckTimeoutSeconds',
        'HealthyThresholdCount.$': '$.previousHealthCheck.HealthyThresholdCount',
        'UnhealthyThresholdCount.$': '$.previousHealthCheck.UnhealthyThresholdCount',
      },
      ResultPath: null,
      Retry: [elbRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'CompleteScale',
    }),
    AfterSteady: {
      Type: 'Choice',
      Comment: "Awake: the rule goes back to the service's target group only now that its tasks are steady (no request meets an empty target group), then autoscaling takes over.",
      Choices: [
        {
          And: [
            { Variable: '$.scaling.sleeping', IsPresent: true },
            { Variable: '$.scaling.sleeping', BooleanEquals: true },
          ],
          Next: 'CompleteScale',
        },
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
      Parameters: {
        'RuleArn.$': '$.scaling.ruleArn',
        Actions: [{ Type: 'forward', 'TargetGroupArn.$': '$.targetGroup.arn' }],
      },
      ResultPath: null,
      Retry: [elbRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'ApplyAutoscaling',
    }),
    ApplyAutoscaling: {
      Type: 'Choice',
      Choices: [{ Variable: '$.scaling.autoscaling', IsPresent: true, Next: 'RegisterScalableTarget' }],
      Default: 'RemoveAutoscaling',
    },
    RegisterScalableTarget: sdkTask('applicationautoscaling:registerScalableTarget', {
      Comment: "Registers or updates the service's scalable target (min..max). Idempotent.",
      Parameters: {
        ServiceNamespace: 'ecs',
        'ResourceId.$': '$.scaling.resourceId',
        ScalableDimension: 'ecs:service:DesiredCount',
        'MinCapacity.$': '$.scaling.autoscaling.MinCapacity',
        'MaxCapacity.$': '$.scaling.autoscaling.MaxCapacity',
        Tags: { 'fledge:environment.$': '$.name', 'fledge:managed-by': 'fledge' },
      },
      ResultSelector: { 'arn.$': '$.ScalableTargetARN' },
      ResultPath: '$.scalableTarget',
      Retry: [autoscalingRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'PutScalingPolicy',
    }),
    PutScalingPolicy: sdkTask('applicationautoscaling:putScalingPolicy', {
      Comment: "Target tracking on the service's average CPU (creates or replaces the policy of that name).",
      Parameters: {
        'PolicyName.$': '$.scaling.autoscaling.PolicyName',
        ServiceNamespace: 'ecs',
        'ResourceId.$': '$.scaling.resourceId',
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          'TargetValue.$': '$.scaling.autoscaling.TargetValue',
          PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
          'ScaleInCooldown.$': '$.scaling.autoscaling.ScaleInCooldown',
          'ScaleOutCooldown.$': '$.scaling.autoscaling.ScaleOutCooldown',
          DisableScaleIn: false,
        },
      },
      ResultPath: null,
      Retry: [autoscalingRetry, autoscalingAccessRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'PutTasksAlarm',
    }),
    RemoveAutoscaling: sdkTask('applicationautoscaling:deregisterScalableTarget', {
      Comment: 'Autoscaling off: the scalable target (and its policies) go; "not registered" counts as done.',
      Parameters: {
        ServiceNamespace: 'ecs',
        'ResourceId.$': '$.scaling.resourceId',
        ScalableDimension: 'ecs:service:DesiredCount',
      },
      ResultPath: null,
      Retry: [autoscalingRetry],
      Catch: [
        catchErrors(['ApplicationAutoScaling.ObjectNotFoundException'], 'PutTasksAlarm'),
        catchAll('$.error', 'FailScale'),
      ],
      Next: 'PutTasksAlarm',
    }),
    PutTasksAlarm: sdkTask('cloudwatch:putMetricAlarm', {
      Comment: 'Steady at the new count: the tasks alarm follows the spec (its desired count; with autoscaling its minCount, since autoscaling moves the count), as create and update put it.',
      Parameters: {
        'AlarmName.$': '$.plan.alarms.tasks.AlarmName',
        'AlarmDescription.$': '$.plan.alarms.tasks.AlarmDescription',
        Namespace: 'ECS/ContainerInsights',
        MetricName: 'RunningTaskCount',
        Dimensions: [
          { Name: 'ClusterName', 'Value.$': '$.plan.alarms.tasks.ClusterName' },
          { Name: 'ServiceName', 'Value.$': '$.name' },
        ],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        'Threshold.$': '$.plan.alarms.tasks.Threshold',
        ComparisonOperator: 'LessThanThreshold',
        'TreatMissingData.$': '$.plan.alarms.tasks.TreatMissingData',
        Tags: environmentTags,
      },
      ResultPath: null,
      Retry: [cloudwatchRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'CompleteScale',
    }),
    CompleteScale: lambdaTask('CompleteScale', {
      Comment: 'RUNNING (or SLEEPING at 0 tasks) with an event naming the actor; if the desired spec moved meanwhile, hands the workflow the newest spec instead.',
      Parameters: { Payload: { workflow: 'scale', 'executionArn.$': '$$.Execution.Id', 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Catch: [catchAll('$.error', 'FailScale')],
      Next: 'CheckDesiredSpec',
    }),
    CheckDesiredSpec: {
      Type: 'Choice',
      Comment: 'The desired spec moved while this pass ran: go round again with the newest spec (latest accepted spec wins).',
      Choices: [
        {
          And: [{ Variable: '$.converge', IsPresent: true }, { Variable: '$.converge', BooleanEquals: true }],
          Next: 'PlanScale',
        },
      ],
      Default: 'Scaled',
    },
    Scaled: { Type: 'Succeed' },
    FailScale: lambdaTask('CompleteScale', {
      Comment: 'The same task with $.error set: records the failure, and the environment as it really is (RUNNING, or SLEEPING at 0 tasks): a scale never leaves it FAILED.',
      Parameters: { Payload: { workflow: 'scale', 'executionArn.$': '$$.Execution.Id', 'state.$': '$' } },
      OutputPath: '$.Payload',
      Retry: [lambdaRetry],
      Catch: [catchAll('$.terminalError', 'FailScaleFallback')],
      Next: 'CheckDesiredSpecAfterFailure',
    }),
    CheckDesiredSpecAfterFailure: {
      Type: 'Choice',
      Comment: 'The desired spec moved while this pass ran: go round again with the newest spec (latest accepted spec wins).',
      Choices: [
        {
          And: [{ Variable: '$.converge', IsPresent: true }, { Variable: '$.converge', BooleanEquals: true }],
          Next: 'PlanScale',
        },
      ],
      Default: 'ScaleFailed',
    },
    ScaleFailed: {
      Type: 'Fail',
      Error: 'ScaleFailed',
      Cause: 'The environment could not be scaled; its events and operation.error say why.',
    },
    FailScaleFallback: lambdaTask('CompleteScale', {
      Comment: 'FailScale itself failed (after its retries): the same Lambda records the environment as it is (RUNNING, or SLEEPING at 0) with the operation FAILED, with the least it needs, so the operation ends now instead of at the hourly stuck-operation sweep.',
      Parameters: {
        Payload: { workflow: 'scale', fallback: true, 'executionArn.$': '$$.Execution.Id', 'state.$': '$' },
      },
      OutputPath: '$.Payload',
      Retry: [lambdaPatientRetry],
      Catch: [catchAll('$.fallbackError', 'OperationNotRecorded')],
      Next: 'ScaleFailed',
    }),
    OperationNotRecorded: {
      Type: 'Fail',
      Error: 'OperationNotRecorded',
      Cause: 'The operation failed and recording its end failed too, after retries for minutes: the environment record still says the operation runs. The failed-executions alarm fires; the scheduled cleanup settles the operation (it checks the execution, which no longer runs).',
    },
  },
};
