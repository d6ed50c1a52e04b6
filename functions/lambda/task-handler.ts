/**
 * The wrapper of a workflow task Lambda (functions/tasks/): the shared Powertools stack
 * (functions/lambda/powertools-stack.ts) and, on every log line of the invocation, the
 * environment, operation and execution the Step Functions payload names. A task throws to fail
 * its state: the state machine's Retry and Catch decide what happens next. With
 * FLEDGE_SHARD_POOL=table it loads the pool of load balancers first (functions/commands/shard-pool.ts).
 */
import { logger } from '#runtime/powertools.ts';
import { loadShardPool } from '#commands/shard-pool.ts';
import { withPowertools } from './powertools-stack.ts';

/** What a workflow step's payload may say about where it runs (TaskPayload, cleanup items, ...). */
interface TaskKeys {
  executionArn?: unknown;
  executionName?: unknown;
  state?: { name?: unknown; operationId?: unknown; executionName?: unknown };
}

function keysOf(payload: unknown): Record<string, string> {
  if (typeof payload !== 'object' || payload === null) return {};
  const { executionArn, executionName, state } = payload as TaskKeys;
  const keys: Record<string, unknown> = {
    environment: state?.name,
    operationId: state?.operationId,
    executionArn,
    executionName: executionName ?? state?.executionName,
  };
  return Object.fromEntries(Object.entries(keys).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export function taskHandler<P, R>(step: (payload: P) => Promise<R>) {
  return withPowertools<P, R>(async (payload) => {
    logger.appendKeys(keysOf(payload));
    await loadShardPool();
    return step(payload);
  });
}
