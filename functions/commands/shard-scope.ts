/**
 * The runtime configuration as one environment sees it: its shard's listener (the scope the
 * adapters find its rule and target group in) and its load balancer's CloudWatch dimension
 * (its alarms'). Every step that touches an environment's load balancer works in this scope.
 */
import { runtimeConfig, shardOf, type RuntimeConfig } from '#runtime/config.ts';
import type { Shard } from '#domain/shards.ts';

export interface ShardScope extends RuntimeConfig {
  shard: Shard;
  loadBalancerDimension: string;
}

export function shardScope(shard: Shard, config: RuntimeConfig = runtimeConfig()): ShardScope {
  return { ...config, listenerArn: shard.listenerArn, loadBalancerDimension: shard.loadBalancerDimension, shard };
}

/** The scope of an environment by its record (s1 for a record older than the pool). */
export function recordScope(record: { shard?: string }, config: RuntimeConfig = runtimeConfig()): ShardScope {
  return shardScope(shardOf(record, config), config);
}

/**
 * The scope of a workflow step: the shard its plan step put in the state, or, for an execution
 * started before the pool existed (no `$.shard`), s1's.
 */
export function stateScope(state: { shard?: unknown }, config: RuntimeConfig = runtimeConfig()): ShardScope {
  const shard = state.shard as Shard | undefined;
  return shard ? shardScope(shard, config) : recordScope({}, config);
}
