/**
 * Loads the pool of load balancers from the state table before a handler runs, when
 * FLEDGE_SHARD_POOL=table (the Lambda wrappers call it: functions/lambda/task-handler.ts,
 * event-handler.ts), so runtimeConfig().shards stays synchronous for its callers. A container
 * keeps what it read for SHARD_POOL_TTL_MS: a shard closed by a deploy (context closedShards)
 * takes no new environment within a minute. A read that fails fails the invocation (the
 * workflow's Retry or Lambda's asynchronous retries run it again); it never falls back to one shard.
 */
import { setShardPool, shardPoolInTable } from '#runtime/config.ts';
import { readShardPool } from '#adapters/shard-pool.ts';

export const SHARD_POOL_TTL_MS = 60_000;

let loadedAt: number | undefined;
/** one read at a time: concurrent invocations of one process (local mode) share it */
let reading: Promise<void> | undefined;

export async function loadShardPool(now: number = Date.now()): Promise<void> {
  if (!shardPoolInTable()) return;
  if (loadedAt !== undefined && now - loadedAt < SHARD_POOL_TTL_MS) return;
  reading ??= readShardPool()
    .then((shards) => {
      setShardPool(shards);
      loadedAt = now;
    })
    .finally(() => {
      reading = undefined;
    });
  await reading;
}

/** Forgets the loaded pool: the next load reads the table (tests, and local mode after writing the item). */
export function forgetShardPool(): void {
  loadedAt = undefined;
  setShardPool(undefined);
}
