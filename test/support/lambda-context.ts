/**
 * What the Lambda runtime hands a handler besides its event. Every Fledge handler is wrapped
 * (functions/lambda/*-handler.ts) and reads the context, so tests invoke handlers as Lambda does.
 */
import type { Context } from 'aws-lambda';

export const lambdaContext = {
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test',
  memoryLimitInMB: '256',
  awsRequestId: 'aws-req',
  logGroupName: '/aws/lambda/test',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

/** The handler as Lambda invokes it: `invoked(handler)(event)` passes a context. */
export function invoked<E, R>(handler: (event: E, context: Context) => Promise<R>): (event?: E) => Promise<R> {
  return (event) => handler(event as E, lambdaContext);
}
