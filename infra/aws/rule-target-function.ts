/**
 * A Lambda that EventBridge rules invoke (`functions/events/<name>.ts`), with the queue that
 * keeps the events EventBridge could not deliver after its retries.
 */
import type { Duration } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.ts';
import { eventFunction, type FledgeFunction, type FledgeFunctionProps, type SharedFunctionProps } from './lambda-function.ts';

export abstract class RuleTargetFunction extends Construct {
  readonly handler: FledgeFunction;
  readonly deadLetterQueue: sqs.Queue;

  protected constructor(
    scope: Construct,
    id: string,
    name: string,
    shared: SharedFunctionProps,
    own: Pick<FledgeFunctionProps, 'description' | 'timeout'>,
  ) {
    super(scope, id);
    this.handler = eventFunction(this, 'Handler', name, shared, own);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters');
  }

  /** The rule target: this Lambda, tried `retryAttempts` times within `maxEventAge`, then the event goes to the queue. */
  protected target(retryAttempts: number, maxEventAge: Duration): targets.LambdaFunction {
    return new targets.LambdaFunction(this.handler.function, { deadLetterQueue: this.deadLetterQueue, retryAttempts, maxEventAge });
  }
}
