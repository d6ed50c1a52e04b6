import type { StateMachine } from './asl.ts';
import { alarmsGone, changeDnsRecord, deleteAlarms, dnsRecordGone, whenDns, deleteRule, deleteService, deleteTargetGroup, deregisterScalableTarget, failOperation, notRegistered, operationStep, recordFailure, ruleGone, SCALABLE_TARGET_ID, serviceGone, targetGroupGone } from './fragments.ts';
import { hookStates } from './hooks.ts';
import { lambdaRetry, serviceStillDrainingRetry } from './retry-policies.ts';

export const teardown: StateMachine = {
  Comment:
    'Tear down a preview environment: everything found by name and tag is removed, "not found" counts as done, so a second teardown or the teardown of a half-built environment succeeds. The last event is a receipt of every resource removed, and of the shared task definitions it keeps (other environments may run them; the cleanup deregisters a family once no service uses it).',
  StartAt: 'DiscoverResources',
  TimeoutSeconds: 3600,
  States: {
    DiscoverResources: operationStep('DiscoverResources', 'teardown', { Catch: [failOperation], Next: 'BeforeDeleteHook' }),
    ...hookStates('beforeDelete', 'teardown', {
      comment: 'The beforeDelete hook first, while the service still exists (DiscoverResources puts the task definition it runs at $.taskDefinition). Its failure or timeout is recorded as an event and the teardown goes on.',
      next: 'DeleteAlarms',
      onFailure: { next: 'DeleteAlarms', resultPath: '$.hookError' },
      skipWhen: [{ rule: { Not: { Variable: '$.taskDefinition.arn', IsPresent: true } }, next: 'DeleteAlarms' }],
    }),
    DeleteAlarms: deleteAlarms('$.resources.alarmNames', {
      Comment:
        "The environment's alarms (fledge-<installation>-<name>-tasks, -unhealthy, -5xx, and the legacy fledge-<name>-* ones DiscoverResources found) first, so they raise nothing while the rest goes. One call: CloudWatch deletes the names that exist and skips the others (ResourceNotFound = done); the receipt names those DiscoverResources found.",
      Catch: [alarmsGone('RemoveScalableTarget'), failOperation],
      Next: 'RemoveScalableTarget',
    }),
    RemoveScalableTarget: deregisterScalableTarget(SCALABLE_TARGET_ID, {
      Comment:
        "The service's Application Auto Scaling target and its policies (autoscaling on, or off: not registered counts as done). Before the service goes, so nothing scales it meanwhile; the receipt names it.",
      ResultSelector: { removed: true },
      ResultPath: '$.removedScalableTarget',
      Catch: [notRegistered('DeleteService'), failOperation],
      Next: 'DeleteService',
    }),
    DeleteService: deleteService({
      Comment: 'Force: running tasks are stopped with the service. Not found or already inactive = done.',
      Catch: [serviceGone('DnsRecordToDelete'), failOperation],
      Next: 'DnsRecordToDelete',
    }),
    DnsRecordToDelete: whenDns(
      'DeleteDnsRecord',
      'DeleteListenerRules',
      "With per-environment DNS (more than one shard), DiscoverResources put $.dns: the environment's alias record goes too.",
    ),
    DeleteDnsRecord: changeDnsRecord('DELETE', {
      Comment:
        "The alias record <name>.<base domain> of the environment's shard's ALB. A record already gone (InvalidChangeBatch: not found) is done; throttling is retried, sized to Route 53's buckets (50 then 10 requests a second, account and action).",
      Catch: [dnsRecordGone('DeleteListenerRules'), failOperation],
      Next: 'DeleteListenerRules',
    }),
    DeleteListenerRules: {
      Type: 'Map',
      Comment: "Every rule on the listener of the environment's load balancer that forwards to the target group or matches the host.",
      ItemsPath: '$.resources.ruleArns',
      MaxConcurrency: 5,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'DeleteRule',
        States: {
          DeleteRule: deleteRule('$', { Catch: [ruleGone('RuleAlreadyDeleted')], End: true }),
          RuleAlreadyDeleted: { Type: 'Pass', End: true },
        },
      },
      ResultPath: null,
      Catch: [failOperation],
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
          DeleteTargetGroup: deleteTargetGroup('$', {
            Comment: 'ResourceInUse is retried: detaching the rule and the service takes a moment.',
            Catch: [targetGroupGone('TargetGroupAlreadyDeleted')],
            End: true,
          }),
          TargetGroupAlreadyDeleted: { Type: 'Pass', End: true },
        },
      },
      ResultPath: null,
      Catch: [failOperation],
      Next: 'FinishTeardown',
    },
    FinishTeardown: operationStep('FinishTeardown', 'teardown', {
      Comment:
        'Records DELETED once DescribeServices no longer shows the service (ECS keeps a deleted service DRAINING until its tasks stop, and its name cannot be reused meanwhile). ServiceStillDraining is retried for about 10 minutes; past that the teardown fails and a DELETE retries it.',
      Retry: [serviceStillDrainingRetry, lambdaRetry],
      Catch: [failOperation],
      End: true,
    }),
    ...recordFailure('FailOperation', 'FailOperation', 'teardown', {
      next: 'TeardownFailed',
      fallbackComment:
        'FailOperation itself failed (after its retries): the same Lambda records the failed teardown (DELETING, operation FAILED) with the least it needs, so a DELETE or the next cleanup run retries it at once instead of after the hourly stuck-operation sweep.',
    }),
    TeardownFailed: {
      Type: 'Fail',
      Error: 'TeardownFailed',
      Cause: 'Some resources could not be removed; the environment stays DELETING and a repeated DELETE retries the teardown.',
    },
  },
};
