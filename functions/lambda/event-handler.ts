/**
 * The wrapper of an event Lambda (functions/events/: EventBridge rules, the schedule, the ALB
 * waker): the shared Powertools stack (functions/lambda/powertools-stack.ts). An error thrown
 * here fails the invocation, so Lambda's asynchronous retries and the on-failure destination
 * (infra/aws/async-failures.ts) keep it.
 */
import { withPowertools } from './powertools-stack.ts';

export const eventHandler = withPowertools;
