/**
 * Local mode's pool of load balancers as the handlers see it: the simulated ALBs as
 * `FLEDGE_SHARDS` names shards (functions/domain/shards.ts's `Shard`), the simulated Route 53
 * zone as `FLEDGE_HOSTED_ZONE_ID`, and each shard's claimed slots for `GET /_local/resources`.
 *
 * Local mode learns the pool the way the Lambdas on AWS do (infra/aws/shards.ts): from the state
 * table's item POOL#shards/POOL, with FLEDGE_SHARD_POOL=table. At startup the pool the environment
 * describes is written to DynamoDB Local, as the stack's custom resource writes it at deploy, and
 * loaded; the handlers' wrappers read it again every minute.
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodbClient } from '../../functions/adapters/clients/dynamodb.ts';
import type { Simulator } from './simulator/index.ts';
import { writeShardPool } from '../../functions/adapters/shard-pool.ts';
import { forgetShardPool, loadShardPool } from '../../functions/commands/shard-pool.ts';
import { readRuntimeConfig, resetConfig, runtimeConfig } from '../../functions/runtime/config.ts';
import { ENVIRONMENTS_PER_SHARD, type Shard } from '../../functions/domain/shards.ts';
import { SHARD_POOL_IN_TABLE } from '../../functions/contract/shard-pool-item.ts';

export const poolCapacity = (shards: number) => shards * ENVIRONMENTS_PER_SHARD;

/** A shard of the simulated pool (functions/domain/shards.ts `Shard`; none is closed locally). */
export type LocalShard = Omit<Shard, 'closed'>;

export function localPool(simulator: Simulator, wakerTargetGroupArns: Map<string, string>): { shards: LocalShard[]; hostedZoneId?: string } {
  const shards = simulator.shards.map((s) => {
    const wakerTargetGroupArn = wakerTargetGroupArns.get(s.id);
    if (!wakerTargetGroupArn) throw new Error(`shard ${s.id} has no waker target group`);
    return {
      id: s.id,
      listenerArn: s.listenerArn,
      loadBalancerArn: s.loadBalancerArn,
      loadBalancerDimension: s.loadBalancerDimension,
      wakerTargetGroupArn,
      dnsName: s.dnsName,
      canonicalHostedZoneId: s.canonicalHostedZoneId,
    };
  });
  // per-environment records only with more than one shard: with one, the wildcard names s1 (as on AWS)
  const hostedZoneId = shards.length > 1 ? simulator.dns?.hostedZoneId : undefined;
  return hostedZoneId ? { shards, hostedZoneId } : { shards };
}

/** Each shard's claimed slots: the placement's counter items `SHARD#<id>` / `SHARD` (`used`), 0 when absent. */
export async function shardSlotsUsed(table: string, ids: string[]): Promise<Record<string, number>> {
  const used: Record<string, number> = Object.fromEntries(ids.map((id) => [id, 0]));
  const answer = await dynamodbClient().send(
    new BatchGetCommand({ RequestItems: { [table]: { Keys: ids.map((id) => ({ pk: `SHARD#${id}`, sk: 'SHARD' })), ConsistentRead: true } } }),
  );
  for (const item of answer.Responses?.[table] ?? []) used[String(item.pk).slice('SHARD#'.length)] = Number(item.used ?? 0);
  return used;
}

/** Writes the pool of process.env to the table, then switches the process to FLEDGE_SHARD_POOL=table. */
export async function publishShardPool(): Promise<readonly Shard[]> {
  const { shards } = readRuntimeConfig({ ...process.env, FLEDGE_SHARD_POOL: undefined }, undefined);
  await writeShardPool(shards);
  process.env.FLEDGE_SHARD_POOL = SHARD_POOL_IN_TABLE;
  forgetShardPool();
  resetConfig();
  await loadShardPool();
  return runtimeConfig().shards;
}
