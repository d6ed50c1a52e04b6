/**
 * Self-healing on AWS (README "Self-healing"):
 *  - `HealNotifications`: the SNS topic the heal workflow publishes to when an environment
 *    goes DEGRADED (encrypted, TLS only; the alarm e-mail, if any, is subscribed);
 *  - `HealTrigger`: the EventBridge rules of functions/contract/heal-events.ts (per-environment alarms
 *    entering ALARM; ECS task-start impairment, failed deployments and failed tasks of the
 *    Fledge cluster) and their target, functions/events/heal-trigger.ts, which may start the
 *    heal state machine, with a dead-letter queue for events it could not take.
 * The per-environment alarms themselves are created and deleted at run time by the create,
 * heal and teardown workflows (`fledge-<installation>-<name>-<kind>`, functions/domain/alarms.ts).
 *
 * The rules' dead-letter queue holds events EventBridge could not deliver; an error inside
 * the trigger goes to its on-failure destination (infra/aws/async-failures.ts).
 */
import { Aws, Duration, Fn, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { HEAL_EVENT_RULES } from '../../functions/contract/heal-events.ts';
import { RuleTargetFunction } from './rule-target-function.ts';

export interface HealNotificationsProps {
  alarmEmail?: string;
}

export class HealNotifications extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: HealNotificationsProps = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Fledge environment notifications (an environment could not heal itself)',
      // only the heal state machine publishes (an IAM role of this account): the AWS managed key serves
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
  }
}

export interface HealTriggerProps {
  table: dynamodb.ITable;
  clusterArn: string;
  /** the alarm rule matches this installation's alarms only (`fledge-<installation>-*`) */
  installationId: string;
  /** the heal state machine (the trigger starts it) */
  healStateMachine: sfn.IStateMachine;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  logRemovalPolicy: RemovalPolicy;
  sourceRoot?: string;
}

export class HealTrigger extends RuleTargetFunction {
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: HealTriggerProps) {
    super(scope, id, 'heal-trigger', props, {
      description: 'Fledge: alarm and ECS events -> a bounded heal of the environment',
      timeout: Duration.seconds(30),
    });
    // reads the environment, writes RUNNING -> HEALING with the operation and its event
    props.table.grantReadWriteData(this.handler.role);
    props.healStateMachine.grantStartExecution(this.handler.role);

    // the cluster ARN is a token: its name is the part after `cluster/`, and the ARN prefix of
    // its services is built from the stack's partition, region and account (no string manipulation)
    const clusterName = Fn.select(1, Fn.split('/', props.clusterArn));
    const stack = Stack.of(this);
    const serviceArnPrefix = `arn:${Aws.PARTITION}:ecs:${stack.region}:${stack.account}:service/${clusterName}/`;
    for (const rule of HEAL_EVENT_RULES) {
      const { source, 'detail-type': detailType, resources, detail } = rule.pattern({ clusterArn: props.clusterArn, serviceArnPrefix }, props.installationId) as {
        source: string[];
        'detail-type': string[];
        resources?: unknown[];
        detail: Record<string, unknown>;
      };
      const eventPattern: events.EventPattern = { source, detailType, detail, ...(resources ? { resources: resources as string[] } : {}) };
      const built = new events.Rule(this, rule.id, { description: rule.description, eventPattern });
      // an old signal is no reason to heal: the alarm or ECS will say so again if it still holds
      built.addTarget(this.target(4, Duration.minutes(15)));
      this.rules.push(built);
    }
  }

  /** An alarm on the dead-letter queue (signals that never reached the trigger), to the control plane's topic. */
  watchDeadLetters(topic: sns.ITopic): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Alarm or ECS events could not be delivered to the Fledge heal trigger (environments do not heal themselves)',
    });
    alarm.addAlarmAction(new cwActions.SnsAction(topic));
    return alarm;
  }
}
