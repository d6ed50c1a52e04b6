/**
 * On-failure destinations of the asynchronously invoked Lambdas.
 *
 * EventBridge rules and EventBridge Scheduler invoke their Lambda targets asynchronously
 * ("Invoking a Lambda function asynchronously",
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html; "Invoke a Lambda
 * function on a schedule", https://docs.aws.amazon.com/lambda/latest/dg/with-eventbridge-scheduler.html).
 * The target's dead-letter queue catches only events EventBridge could not *deliver* ("Using
 * dead-letter queues to process undelivered events",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html). Once Lambda has
 * accepted the event, an error inside the handler is retried by Lambda's asynchronous
 * invocation (twice by default) and then discarded, unless the function has an on-failure
 * destination ("Capturing records of Lambda asynchronous invocations",
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html;
 * retries and event age: "Configuring error handling settings for Lambda asynchronous
 * invocations", https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html).
 *
 * So each such function gets an `AWS::Lambda::EventInvokeConfig` with an SQS on-failure
 * destination (encrypted with SSE-SQS, TLS only, records kept 14 days: the invocation record
 * holds the event and the error) and an alarm on the queue (any visible message) to the
 * control plane's alarm topic. The EventBridge target DLQs stay: they cover the other half.
 *
 * Which functions are invoked asynchronously: ecs-service-events and heal-trigger
 * (EventBridge rules), idle-sleep (EventBridge Scheduler). Not the waker (the ALB invokes it
 * synchronously), not the API handlers (API Gateway, synchronous), not the workflow and
 * cleanup task Lambdas (Step Functions `lambda:invoke` waits for the result: synchronous).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FledgeFunction } from './lambda-function.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';
import { acknowledge } from './nag.ts';

export interface AsyncFunction {
  /** short name for ids and descriptions (`ecs-service-events`) */
  name: string;
  fn: FledgeFunction;
  /** Lambda's own retries after a handler error (0-2; the handlers are idempotent) */
  retryAttempts: number;
  /** how long Lambda keeps trying an event (60 s to 6 h) */
  maxEventAge: Duration;
  /** what is lost when the handler fails, for the alarm description */
  impact: string;
}

export interface AsyncFailuresProps {
  functions: AsyncFunction[];
  /** the control plane's alarm topic */
  topic: sns.ITopic;
}

export class AsyncFailures extends Construct {
  /** by function name */
  readonly queues: Record<string, sqs.Queue> = {};
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: AsyncFailuresProps) {
    super(scope, id);
    const action = new cwActions.SnsAction(props.topic);
    for (const { name, fn, retryAttempts, maxEventAge, impact } of props.functions) {
      const id = pascal(name);
      const queue = deadLetterQueue(this, `${id}Failures`);
      // AWS::Lambda::EventInvokeConfig on $LATEST; SqsDestination grants the function's role sqs:SendMessage
      fn.function.configureAsyncInvoke({ onFailure: new destinations.SqsDestination(queue), retryAttempts, maxEventAge });
      const alarm = new cloudwatch.Alarm(this, `${id}FailuresAlarm`, {
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `Fledge Lambda ${name} failed on an event after Lambda's retries (the record is in its on-failure queue): ${impact}`,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      acknowledge(queue, 'AwsSolutions-SQS3', 'This queue is itself the on-failure destination of a Lambda (not an SQS redrive source); an alarm watches it.');
      this.queues[name] = queue;
      this.alarms[name] = alarm;
    }
  }
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}
