/**
 * Alarms on the control plane itself (docs/design.md) to an encrypted SNS topic, and a dashboard.
 * Per-environment alarms are created at run time by the workflows, not here.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface ObservabilityProps {
  api: apigwv2.HttpApi;
  apiStage: apigwv2.IHttpStage;
  /** the CI API (GitHub Actions OIDC), when configured: its 5xx alarm too */
  ciApi?: { api: apigwv2.HttpApi; stage: apigwv2.IHttpStage };
  functions: { name: string; fn: lambda.IFunction }[];
  stateMachines: { name: string; machine: sfn.StateMachine }[];
  table: dynamodb.ITable;
  deadLetterQueue: sqs.IQueue;
  alarmEmail?: string;
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

    const alarm = (alarmId: string, metric: cloudwatch.IMetric, description: string, threshold = 1) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    const period = Duration.minutes(5);
    const api5xx = new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: '5xx',
      dimensionsMap: { ApiId: props.api.apiId, Stage: props.apiStage.stageName },
      statistic: 'Sum',
      period,
    });
    alarm('Api5xx', api5xx, 'Fledge API answered 5xx (handlers never answer 5xx for bad input: this is a bug or an outage)');
    if (props.ciApi) {
      const ci5xx = new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName: '5xx',
        dimensionsMap: { ApiId: props.ciApi.api.apiId, Stage: props.ciApi.stage.stageName },
        statistic: 'Sum',
        period,
      });
      alarm('CiApi5xx', ci5xx, 'Fledge CI API (OIDC) answered 5xx (handlers never answer 5xx for bad input: this is a bug or an outage)');
    }
    for (const { name, fn } of props.functions) {
      alarm(`${name}Errors`, fn.metricErrors({ period, statistic: 'Sum' }), `Fledge Lambda ${name} failed (uncaught error or timeout)`);
    }
    for (const { name, machine } of props.stateMachines) {
      const failed = new cloudwatch.MathExpression({
        expression: 'failed + timedOut',
        usingMetrics: {
          failed: machine.metricFailed({ period, statistic: 'Sum' }),
          timedOut: machine.metricTimedOut({ period, statistic: 'Sum' }),
        },
        label: `${name} failed or timed out`,
        period,
      });
      alarm(`${name}ExecutionsFailed`, failed, `Fledge ${name} workflow executions failed or timed out (its compensation may not have run)`);
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
    const apiMetric = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.api.apiId, Stage: props.apiStage.stageName },
        statistic,
        period,
      });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({ markdown: '# Fledge control plane', width: 24, height: 1 }),
      new cloudwatch.GraphWidget({ title: 'API requests', left: [apiMetric('Count'), apiMetric('4xx'), api5xx], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'API latency (p99)', left: [apiMetric('Latency', 'p99'), apiMetric('IntegrationLatency', 'p99')], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Workflow executions',
        left: props.stateMachines.flatMap(({ name, machine }) => [
          machine.metricStarted({ period, label: `${name} started` }),
          machine.metricSucceeded({ period, label: `${name} succeeded` }),
          machine.metricFailed({ period, label: `${name} failed` }),
        ]),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors',
        left: props.functions.map(({ name, fn }) => fn.metricErrors({ period, statistic: 'Sum', label: name })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration (p99)',
        left: props.functions.map(({ name, fn }) => fn.metricDuration({ period, statistic: 'p99', label: name })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB',
        left: [
          props.table.metricConsumedReadCapacityUnits({ period }),
          props.table.metricConsumedWriteCapacityUnits({ period }),
        ],
        right: [props.table.metricThrottledRequestsForOperations({ period })],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12 }),
    );
  }
}
