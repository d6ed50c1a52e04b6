/**
 * The operator's view of the control plane (README "Deploying to AWS", "What the operator sees"):
 * a CloudWatch dashboard, and alarms to an encrypted SNS topic on what the operator must act
 * on, and only that: control-plane failures of the workflows (never a user's bad image: those
 * are `UserFailures`, drawn but not alarmed), the failure queues of the event handlers, the
 * API's 5xx rate, a quota near its limit, the cleanup run failing, and the waker failing.
 * Fledge's own metrics are named in functions/contract/metrics.ts, which the code emits
 * through; test/infra/observability.test.ts checks every widget against it.
 * Per-environment alarms are created at run time by the workflows, not here.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS, METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from '../../functions/contract/metrics.ts';
import { WORKFLOWS, type StartedWorkflowKind } from '../../functions/contract/workflows.ts';

/** `QuotaUsedPercent` at or above this pages: creates start failing with QUOTA_EXCEEDED at 100. */
export const QUOTA_ALARM_PERCENT = 80;
/** The API's share of 5xx answers (percent of requests, over 5 minutes) that pages. */
export const API_5XX_ALARM_PERCENT = 5;
/** The functions whose errors page by themselves: invoked synchronously, no other alarm sees them fail. */
export const FUNCTIONS_ALARMED_ON_ERRORS = ['waker'] as const;
/**
 * The state machines whose failed executions page: those that never fail for a user's image.
 * The cleanup fails when it could not handle an environment; a heal ends DEGRADED as a success
 * (statemachines/heal.asl.json) and fails only when recording that, or notifying it, failed.
 * Create, update, scale and teardown end in a Fail state after a user's failure too: their
 * control-plane failures page through `ControlPlaneFailures` instead.
 */
export const MACHINES_ALARMED_ON_FAILURE = ['cleanup', 'heal'] as const;

/** The rollup dimensions of a Fledge metric (its `dimensions`; Powertools adds `service`). */
type RollupDimensions<N extends MetricName> = { readonly [K in (typeof METRICS)[N]['dimensions'][number]]: string };

/** The workflows an operation runs (started by functions/), for per-workflow metrics. */
const STARTED_WORKFLOWS = (Object.keys(WORKFLOWS) as (keyof typeof WORKFLOWS)[])
  .filter((kind): kind is StartedWorkflowKind => WORKFLOWS[kind].started.byFunctions);

export interface ObservabilityProps {
  api: apigwv2.HttpApi;
  apiStage: apigwv2.IHttpStage;
  /** the CI API (GitHub Actions OIDC), when configured: its 5xx alarm too */
  ciApi?: { api: apigwv2.HttpApi; stage: apigwv2.IHttpStage };
  functions: { name: string; fn: lambda.IFunction }[];
  stateMachines: { name: string; machine: sfn.StateMachine }[];
  table: dynamodb.ITable;
  /** the ECS events' EventBridge dead-letter queue */
  deadLetterQueue: sqs.IQueue;
  alarmEmail?: string;
}

/** A queue that holds what an event handler could not process (alarmed where it is created). */
export interface FailureQueue {
  name: string;
  queue: sqs.IQueue;
}

export class Observability extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key:
    // a customer managed key whose policy lets CloudWatch use it.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Fledge alarm topic encryption',
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy "*" means this key
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Fledge control plane alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const action = new cwActions.SnsAction(this.topic);

    const period = Duration.minutes(5);
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 1, treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };
    /** One of Fledge's own metrics (functions/contract/metrics.ts), by its rollup dimensions. */
    const fledge = <N extends MetricName>(metricName: N, dimensions: RollupDimensions<N>, options: { statistic?: string; label?: string } = {}) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: METRICS_SERVICE, ...(dimensions as Record<string, string>) },
        statistic: options.statistic ?? 'Sum',
        period,
        ...(options.label ? { label: options.label } : {}),
      });
    const perWorkflow = (metricName: 'WorkflowStarted' | 'WorkflowSucceeded' | 'UserFailures' | 'ControlPlaneFailures') =>
      STARTED_WORKFLOWS.map((workflow) => fledge(metricName, { workflow }, { label: workflow }));
    /**
     * The sum of several series; FILL(m, 0) so a series with no data point in a period (no
     * such failure) does not blank the sum ("Using math expressions with CloudWatch metrics",
     * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
     */
    const sum = (label: string, metrics: cloudwatch.IMetric[]) =>
      new cloudwatch.MathExpression({
        expression: metrics.map((_m, i) => `FILL(m${i}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
        label,
        period,
      });

    // ------------------------------------------------------------ alarms: what the operator must act on
    const gatewayMetric = (api: apigwv2.HttpApi, stage: apigwv2.IHttpStage, metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: api.apiId, Stage: stage.stageName },
        statistic,
        period,
      });
    // API Gateway's own counts: they include what never reached a handler's answer (a Lambda
    // crash or timeout is a 5xx there). FILL: a period without requests is 0 %, not missing; the IF
    // form is the one "Using math expressions with CloudWatch metrics" documents (MAX takes series only).
    // (ids are per API: one graph draws both, and a graph's ids must differ)
    const api5xxRate = (api: apigwv2.HttpApi, stage: apigwv2.IHttpStage, label: string, id: string) =>
      new cloudwatch.MathExpression({
        expression: `IF(FILL(${id}Requests, 0) > 0, 100 * FILL(${id}Errors, 0) / FILL(${id}Requests, 0), 0)`,
        usingMetrics: { [`${id}Errors`]: gatewayMetric(api, stage, '5xx'), [`${id}Requests`]: gatewayMetric(api, stage, 'Count') },
        label,
        period,
      });
    alarm(
      'Api5xxRate',
      api5xxRate(props.api, props.apiStage, 'API 5xx (% of requests)', 'api'),
      `Fledge API answered 5xx to ${API_5XX_ALARM_PERCENT}% or more of its requests in 5 minutes (handlers never answer 5xx for bad input: this is a bug or an outage)`,
      API_5XX_ALARM_PERCENT,
    );
    if (props.ciApi) {
      alarm(
        'CiApi5xxRate',
        api5xxRate(props.ciApi.api, props.ciApi.stage, 'CI API 5xx (% of requests)', 'ciApi'),
        `Fledge CI API (OIDC) answered 5xx to ${API_5XX_ALARM_PERCENT}% or more of its requests in 5 minutes (a bug or an outage)`,
        API_5XX_ALARM_PERCENT,
      );
    }
    // control-plane failures: an operation failed for Fledge or AWS (INTERNAL, AWS_LIMIT), or
    // was lost and found stuck by the cleanup; a user's failed image is `UserFailures`, not here
    alarm(
      'ControlPlaneFailures',
      sum('control-plane failures', [...perWorkflow('ControlPlaneFailures'), fledge('CleanupOperationsFailed', {})]),
      'A Fledge operation failed for the control plane (INTERNAL or AWS_LIMIT), or an operation was found stuck: see the environment\'s events and the task Lambdas\' logs',
    );
    alarm(
      'QuotaNearLimit',
      fledge('QuotaUsedPercent', {}, { statistic: 'Maximum' }),
      `A quota of live environments is ${QUOTA_ALARM_PERCENT}% full or more (global or one repository's): creates will soon fail with QUOTA_EXCEEDED; raise the quota or clean up`,
      QUOTA_ALARM_PERCENT,
      // a gauge reported once per cleanup run (every 15 min by default): between runs there is no
      // data point, and IGNORE keeps the state the last one set instead of going back to OK
      // ("Configuring how CloudWatch alarms treat missing data", CloudWatch User Guide)
      cloudwatch.TreatMissingData.IGNORE,
    );
    for (const { name, machine } of props.stateMachines.filter((m) => (MACHINES_ALARMED_ON_FAILURE as readonly string[]).includes(m.name))) {
      const failed = new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          failed: machine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: machine.metricTimedOut({ period, statistic: 'Sum' }),
        },
        label: `${name} failed or timed out`,
        period,
      });
      alarm(`${name}ExecutionsFailed`, failed, `Fledge ${name} executions failed or timed out (the cleanup: environments it could not handle, CleanupFailures; a heal: DEGRADED could not be recorded or notified)`);
    }
    for (const { name, fn } of props.functions.filter((f) => (FUNCTIONS_ALARMED_ON_ERRORS as readonly string[]).includes(f.name))) {
      alarm(`${name}Errors`, fn.metricErrors({ period, statistic: 'Sum' }), `Fledge Lambda ${name} failed (uncaught error or timeout): visitors of sleeping environments get an error page from the load balancer`);
    }
    alarm(
      'EventDeadLetters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'ECS events could not be delivered to the Fledge event handler (steady-state waits fall back to their timeout)',
    );

    // ------------------------------------------------------------ dashboard
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
    });
    const requests = (cls: string) => fledge('ApiRequests', { statusClass: cls }, { label: cls });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: '# Fledge control plane\n' +
          'User failures (the image, app or spec: IMAGE_PULL_FAILED, TASK_EXITED, OUT_OF_MEMORY, HEALTH_CHECK_FAILED, HOOK_FAILED, TIMEOUT, QUOTA_EXCEEDED, DNS_NAME_IN_USE) are drawn, never paged. ' +
          'Pages: control-plane failures (INTERNAL, AWS_LIMIT, stuck operations), failure queues, API 5xx rate, quota near its limit, the cleanup run, the waker.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests by status class', left: [requests('2xx'), requests('4xx'), requests('5xx')], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'API latency',
        left: [fledge('ApiLatency', {}, { statistic: 'p50', label: 'p50' }), fledge('ApiLatency', {}, { statistic: 'p99', label: 'p99' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'API 5xx rate (%)',
        left: [api5xxRate(props.api, props.apiStage, 'API', 'api'), ...(props.ciApi ? [api5xxRate(props.ciApi.api, props.ciApi.stage, 'CI API', 'ciApi')] : [])],
        leftAnnotations: [{ value: API_5XX_ALARM_PERCENT, label: 'alarm' }],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Workflows started', left: perWorkflow('WorkflowStarted'), width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Workflows succeeded', left: perWorkflow('WorkflowSucceeded'), width: 6 }),
      new cloudwatch.GraphWidget({ title: "User failures (the user's image or app: not paged)", left: perWorkflow('UserFailures'), width: 6 }),
      new cloudwatch.GraphWidget({ title: 'Control-plane failures (paged)', left: [...perWorkflow('ControlPlaneFailures'), fledge('CleanupOperationsFailed', {}, { label: 'stuck, failed by the cleanup' })], width: 6 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Heals, DEGRADED, wakes and idle sleeps',
        left: [
          fledge('WorkflowStarted', { workflow: 'heal' }, { label: 'heals started' }),
          fledge('WorkflowSucceeded', { workflow: 'heal' }, { label: 'heals succeeded' }),
          fledge('Degraded', {}, { label: 'DEGRADED' }),
          fledge('WakesByRequest', {}, { label: 'woken by a request' }),
          fledge('IdleSlept', {}, { label: 'put to sleep (idle)' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Live environments per repository, against the quota',
        left: [
          new cloudwatch.MathExpression({
            // one line per repository that has live environments (its dimension value is known at run time only)
            expression: `SEARCH('{${METRICS_NAMESPACE},service,repository} MetricName="RepositoryLiveEnvironments"', 'Maximum', ${period.toSeconds()})`,
            label: '',
            period,
          }),
          fledge('QuotaPerRepository', {}, { statistic: 'Maximum', label: 'per-repository quota' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Live environments against the global quota; the fullest quota (%)',
        left: [
          fledge('LiveEnvironments', {}, { statistic: 'Maximum', label: 'live' }),
          fledge('QuotaGlobal', {}, { statistic: 'Maximum', label: 'global quota' }),
        ],
        right: [fledge('QuotaUsedPercent', {}, { statistic: 'Maximum', label: 'fullest quota (%)' })],
        rightAnnotations: [{ value: QUOTA_ALARM_PERCENT, label: 'alarm' }],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors',
        left: props.functions.map(({ name, fn }) => fn.metricErrors({ period, statistic: 'Sum', label: name })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda throttles',
        left: props.functions.map(({ name, fn }) => fn.metricThrottles({ period, statistic: 'Sum', label: name })),
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB',
        left: [
          props.table.metricConsumedReadCapacityUnits({ period }),
          props.table.metricConsumedWriteCapacityUnits({ period }),
        ],
        right: [props.table.metricThrottledRequestsForOperations({ period })],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cleanup runs',
        left: [
          fledge('CleanupTeardownsStarted', {}, { label: 'teardowns started' }),
          fledge('CleanupTeardownsRestarted', {}, { label: 'teardowns restarted' }),
          fledge('CleanupFailures', {}, { label: 'could not handle' }),
          fledge('OrphanResourcesRemoved', {}, { label: 'orphans removed' }),
          fledge('OrphanResourcesPending', {}, { label: 'orphans pending' }),
          fledge('TaskDefinitionsDeleted', {}, { label: 'task definitions deleted' }),
          fledge('TaskDefinitionsPending', {}, { label: 'task definitions pending' }),
        ],
        width: 6,
      }),
    );
  }

  /**
   * The event handlers' failure queues (the EventBridge dead-letter queues and the Lambdas'
   * on-failure destinations, alarmed where they are made: infra/aws/async-failures.ts,
   * healing.ts) on the dashboard, and every alarm's state. Called once the stack has them.
   */
  showFailureQueues(queues: FailureQueue[], alarms: cloudwatch.IAlarm[]): void {
    const period = Duration.minutes(5);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Event handler failure queues (messages visible)',
        left: queues.map(({ name, queue }) => queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: name })),
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms, ...alarms], width: 12 }),
    );
  }

  /** The pool of load balancers: one line per shard (its ALB's requests and its own 5xx answers). */
  showLoadBalancers(shards: { id: string; loadBalancer: elbv2.IApplicationLoadBalancer }[]): void {
    const period = Duration.minutes(5);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Requests per load balancer (shard)',
        left: shards.map(({ id, loadBalancer }) => loadBalancer.metrics.requestCount({ period, label: id })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: "Load balancers' own 5xx answers per shard (no target, waker failing, limits)",
        left: shards.map(({ id, loadBalancer }) => loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, label: id })),
        width: 12,
      }),
    );
  }
}
