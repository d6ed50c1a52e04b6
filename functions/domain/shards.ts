/**
 * The pool of load balancers (docs/design.md "Shards"). A shard is one ALB with its HTTPS
 * listener and its own waker target group. An ALB holds at most 100 target groups, which is not
 * adjustable, and the waker's is one of them. It holds 100 rules by default, counted per load
 * balancer across its listeners, not per listener ("Quotas for your Application Load Balancers",
 * Elastic Load Balancing user guide). So a shard holds 99 environments. The same page's "Targets
 * per Application Load Balancer" (1,000 by default, adjustable) does not bound the count of
 * environments but their tasks: 99 environments of 10 tasks deploying at once (MaximumPercent 200)
 * need up to 1,980 targets (docs/design.md "Shards": the targets quota). Each environment is placed on one shard and stays there until its teardown.
 * Pure: which shards exist comes from the configuration (functions/runtime/config.ts:
 * FLEDGE_SHARDS, or the state table's pool item with FLEDGE_SHARD_POOL=table), how full they are
 * from the table (functions/adapters/shard-slots.ts).
 */
import { z } from 'zod';
import { loadBalancerDimension } from './alarms.ts';

/** 100 target groups per ALB, one of them the waker's. */
export const ENVIRONMENTS_PER_SHARD = 99;

/** The shard of records written before the pool existed (they have no `shard`): the first ALB. */
export const FIRST_SHARD_ID = 's1';

export interface Shard {
  id: string;
  listenerArn: string;
  loadBalancerArn: string;
  /** the `LoadBalancer` CloudWatch dimension: app/<name>/<id> */
  loadBalancerDimension: string;
  wakerTargetGroupArn: string;
  dnsName: string;
  /** the ALB's canonical hosted zone id (for alias records) */
  canonicalHostedZoneId: string;
  /** closed to new environments (draining for replacement); its environments live on */
  closed?: boolean;
}

/** `s1`, `s2`, ... in creation order. */
export const SHARD_ID = /^s[1-9]\d{0,3}$/;

/** One shard of FLEDGE_SHARDS; other keys are dropped (a newer stack may say more). */
export const shardSchema = z.object({
  id: z.string().regex(SHARD_ID, 'must be s1, s2, ...'),
  listenerArn: z.string().min(1),
  loadBalancerArn: z.string().min(1),
  loadBalancerDimension: z.string().min(1),
  // absent only in a FLEDGE_SHARDS written for the waker by a stack that predates the pool item
  // (the waker's environment cannot name the target groups that invoke it: a dependency cycle)
  wakerTargetGroupArn: z.string().default(''),
  dnsName: z.string(),
  canonicalHostedZoneId: z.string(),
  closed: z.boolean().optional(),
});

/** A pool: at least one shard, ids unique. */
export const shardPoolSchema = z.array(shardSchema).min(1).refine(
  (shards) => new Set(shards.map((shard) => shard.id)).size === shards.length,
  'shard ids must be unique',
);

/**
 * A pool as stored (FLEDGE_SHARDS, the state table's pool item): the JSON text of the array, or
 * the array itself. Throws an Error saying what is wrong.
 */
export function parseShardPool(stored: unknown): Shard[] {
  let value = stored;
  if (typeof stored === 'string') {
    try {
      value = JSON.parse(stored);
    } catch {
      throw new Error('must be a JSON array of shards ({"id": "s1", "listenerArn": ..., ...})');
    }
  }
  const result = shardPoolSchema.safeParse(value);
  if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; '));
  return result.data;
}

/**
 * The one shard of an installation configured before the pool (FLEDGE_SHARDS unset): its
 * listener (`...:listener/app/<name>/<id>/<listener>`) names its load balancer; the DNS name is
 * not known, and not needed, as per-environment records need more than one shard.
 */
export function shardFromListener(listenerArn: string, wakerTargetGroupArn: string): Shard {
  return {
    id: FIRST_SHARD_ID,
    listenerArn,
    loadBalancerArn: listenerArn.replace(/:listener\/((?:app|net)\/[^/]+\/[^/]+)\/[^/]+$/, ':loadbalancer/$1'),
    loadBalancerDimension: loadBalancerDimension(listenerArn),
    wakerTargetGroupArn,
    dnsName: '',
    canonicalHostedZoneId: '',
  };
}

/**
 * The shard named `id`. An environment's shard must stay in the pool until its teardown (a
 * closed shard stays listed): one that is gone is a configuration error, named as such.
 */
export function shardNamed(shards: readonly Shard[], id: string): Shard {
  const shard = shards.find((candidate) => candidate.id === id);
  if (!shard) throw Object.assign(new Error(`shard "${id}" is not in the installation's pool (FLEDGE_SHARDS or the table's POOL#shards item)`), { name: 'ShardNotConfigured' });
  return shard;
}

/** How many shards hold `maxEnvironments`: at least one. */
export function shardsNeeded(maxEnvironments: number): number {
  return Math.max(1, Math.ceil(maxEnvironments / ENVIRONMENTS_PER_SHARD));
}

/** Creation order: s2 before s10. */
const order = (shard: Shard) => Number(shard.id.slice(1));

/**
 * The shard a new environment goes on: among the open shards with room, the one with the
 * most room (so the pool fills evenly and concurrent creates rarely race for one counter);
 * ties go to the first created. Undefined when every open shard is full (or all are closed).
 */
export function chooseShard(shards: readonly Shard[], usedById: ReadonlyMap<string, number> | Readonly<Record<string, number>>): Shard | undefined {
  const used = (id: string) => (usedById instanceof Map ? usedById.get(id) : (usedById as Record<string, number>)[id]) ?? 0;
  let best: Shard | undefined;
  for (const shard of shards) {
    if (shard.closed || used(shard.id) >= ENVIRONMENTS_PER_SHARD) continue;
    if (!best || used(shard.id) < used(best.id) || (used(shard.id) === used(best.id) && order(shard) < order(best))) best = shard;
  }
  return best;
}

/** The shard an environment is on: its record's, or the first one for a record older than the pool. */
export function shardIdOf(record: { shard?: string }): string {
  return record.shard ?? FIRST_SHARD_ID;
}

/** The message of a create the pool has no room for (QUOTA_EXCEEDED). */
export function poolFullMessage(shards: readonly Shard[]): string {
  const open = shards.filter((shard) => !shard.closed).length;
  const closed = shards.length - open;
  const n = shards.length;
  return (
    `the installation's ${n} load balancer${n === 1 ? ' is' : 's are'} full ` +
    `(${ENVIRONMENTS_PER_SHARD} environments each${closed ? `; ${closed} closed to new environments` : ''}): ` +
    'delete an environment or grow the pool (maxEnvironments)'
  );
}

/** The error PlanResources throws when no open shard has room; FailOperation records it as QUOTA_EXCEEDED. */
export class LoadBalancersFull extends Error {
  override readonly name = 'LoadBalancersFull';
}
