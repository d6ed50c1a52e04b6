/**
 * The wrapper of an event Lambda (functions/events/: EventBridge rules, the schedule, the ALB
 * waker): the shared Powertools stack (functions/lambda/powertools-stack.ts). An error thrown
 * here fails the invocation, so Lambda's asynchronous retries and the on-failure destination
 * (infra/aws/async-failures.ts) keep it. With FLEDGE_SHARD_POOL=table it loads the pool of
 * load balancers first (functions/commands/shard-pool.ts): the waker and idle sleep read it.
 */
import type { Context } from 'aws-lambda';
import { loadShardPool } from '#commands/shard-pool.ts';
import { withPowertools } from './powertools-stack.ts';

export function eventHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return withPowertools<E, R>(async (event, context) => {
    await loadShardPool();
    return fn(event, context);
  });
}
