/**
 * The wrapper of an event Lambda (functions/events/: EventBridge rules, the schedule, the ALB
 * waker): the shared Powertools stack (functions/lambda/powertools-stack.ts). An error thrown
 * here fails the invocation, so Lambda's asynchronous retries and the on-failure destination
 * (infra/aws/async-failures.ts) keep it.
 */
import type { Context } from 'aws-lambda';
import { withPowertools } from './powertools-stack.ts';

export function eventHandler<E, R>(handle: (event: E, context: Context) => Promise<R>) {
  return withPowertools<E, R>(handle);
}
