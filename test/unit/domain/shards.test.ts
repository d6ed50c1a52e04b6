import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseShard, ENVIRONMENTS_PER_SHARD, poolFullMessage, shardFromListener, shardIdOf, shardNamed, shardPoolSchema, shardsNeeded, type Shard,
} from '../../../functions/domain/shards.ts';

const shard = (id: string, closed?: boolean): Shard => ({
  id,
  listenerArn: `arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/fledge-${id}/abc/def`,
  loadBalancerArn: `arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/fledge-${id}/abc`,
  loadBalancerDimension: `app/fledge-${id}/abc`,
  wakerTargetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/waker-${id}/123`,
  dnsName: `fledge-${id}-1.eu-west-1.elb.amazonaws.com`,
  canonicalHostedZoneId: 'Z32O12XQLNTSW2',
  ...(closed ? { closed } : {}),
});

describe('the pool of load balancers', () => {
  it('holds 99 environments per shard (100 target groups per ALB, one the waker\'s), at least one shard', () => {
    expect(ENVIRONMENTS_PER_SHARD).toBe(99);
    expect(shardsNeeded(0)).toBe(1);
    expect(shardsNeeded(1)).toBe(1);
    expect(shardsNeeded(99)).toBe(1);
    expect(shardsNeeded(100)).toBe(2);
    expect(shardsNeeded(1000)).toBe(11);
  });

  it('places a new environment on the open shard with the most room; ties go to the first created (s2 before s10)', () => {
    const pool = [shard('s1'), shard('s2'), shard('s10')];
    expect(chooseShard(pool, { s1: 40, s2: 12, s10: 30 })?.id).toBe('s2');
    expect(chooseShard(pool, { s1: 5, s2: 5, s10: 5 })?.id).toBe('s1');
    expect(chooseShard([shard('s10'), shard('s2')], new Map([['s10', 3], ['s2', 3]]))?.id).toBe('s2');
    // a shard never claimed from has no counter yet: empty
    expect(chooseShard(pool, { s1: 1, s2: 1 })?.id).toBe('s10');
  });

  it('skips a closed shard, however empty, and a full one; none left: undefined', () => {
    expect(chooseShard([shard('s1', true), shard('s2')], { s1: 0, s2: 98 })?.id).toBe('s2');
    expect(chooseShard([shard('s1'), shard('s2')], { s1: 99, s2: 99 })).toBeUndefined();
    expect(chooseShard([shard('s1', true), shard('s2')], { s2: 99 })).toBeUndefined();
    expect(chooseShard([], {})).toBeUndefined();
  });

  it('never chooses a closed or a full shard, and finds room whenever an open shard has some (property)', () => {
    const pools = fc.array(fc.record({ closed: fc.boolean(), used: fc.integer({ min: 0, max: ENVIRONMENTS_PER_SHARD }) }), { minLength: 1, maxLength: 12 });
    fc.assert(fc.property(pools, (entries) => {
      const pool = entries.map((entry, i) => shard(`s${i + 1}`, entry.closed));
      const used = Object.fromEntries(entries.map((entry, i) => [`s${i + 1}`, entry.used]));
      const chosen = chooseShard(pool, used);
      const open = entries.filter((entry) => !entry.closed && entry.used < ENVIRONMENTS_PER_SHARD);
      if (open.length === 0) return chosen === undefined;
      if (!chosen || chosen.closed || used[chosen.id]! >= ENVIRONMENTS_PER_SHARD) return false;
      // the most room of all open shards
      return open.every((entry) => entry.used >= used[chosen.id]!);
    }));
  });

  it('filling the pool one create at a time spreads it evenly and places exactly its capacity (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), (n, closed) => {
      const pool = Array.from({ length: n }, (_, i) => shard(`s${i + 1}`, closed[i]));
      const used = new Map<string, number>();
      let placed = 0;
      for (let chosen = chooseShard(pool, used); chosen; chosen = chooseShard(pool, used)) {
        used.set(chosen.id, (used.get(chosen.id) ?? 0) + 1);
        placed++;
        const counts = pool.filter((s) => !s.closed).map((s) => used.get(s.id) ?? 0);
        if (Math.max(...counts) - Math.min(...counts) > 1) return false;
      }
      return placed === pool.filter((s) => !s.closed).length * ENVIRONMENTS_PER_SHARD;
    }), { numRuns: 30 });
  });

  it('says how many load balancers are full, and which are closed', () => {
    expect(poolFullMessage([shard('s1')])).toBe(
      "the installation's 1 load balancer is full (99 environments each): delete an environment or grow the pool (maxEnvironments)",
    );
    expect(poolFullMessage([shard('s1', true), shard('s2'), shard('s3')])).toMatch(/^the installation's 3 load balancers are full \(99 environments each; 1 closed to new environments\)/);
  });

  it('puts records older than the pool on s1; a shard missing from the pool is a configuration error', () => {
    expect(shardIdOf({})).toBe('s1');
    expect(shardIdOf({ shard: 's3' })).toBe('s3');
    expect(shardNamed([shard('s1'), shard('s2')], 's2').id).toBe('s2');
    expect(() => shardNamed([shard('s1')], 's2')).toThrow(expect.objectContaining({ name: 'ShardNotConfigured', message: expect.stringContaining('"s2"') }));
  });

  it('builds the one shard of an installation configured before the pool from its listener', () => {
    const s1 = shardFromListener('arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/fledge-alb/50dc6c495c0c9188/f2f7dc8efc522ab2', 'arn:waker');
    expect(s1).toEqual({
      id: 's1',
      listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/fledge-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
      loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/fledge-alb/50dc6c495c0c9188',
      loadBalancerDimension: 'app/fledge-alb/50dc6c495c0c9188',
      wakerTargetGroupArn: 'arn:waker',
      dnsName: '',
      canonicalHostedZoneId: '',
    });
  });

  it('parses a pool: ids s1, s2, ... unique, every field given but the waker (the waker Lambda\'s own copy lacks it), more dropped', () => {
    expect(shardPoolSchema.parse([shard('s1'), shard('s2', true)])).toHaveLength(2);
    expect(shardPoolSchema.safeParse([]).success).toBe(false);
    expect(shardPoolSchema.safeParse([shard('s1'), shard('s1')]).success).toBe(false);
    expect(shardPoolSchema.safeParse([shard('shard-1')]).success).toBe(false);
    expect(shardPoolSchema.safeParse([{ ...shard('s1'), listenerArn: '' }]).success).toBe(false);
    expect(shardPoolSchema.parse([{ ...shard('s1'), extra: 1 }])[0]).toEqual(shard('s1'));
    const { wakerTargetGroupArn: _waker, ...wakerCopy } = shard('s1');
    expect(shardPoolSchema.parse([wakerCopy])[0]!.wakerTargetGroupArn).toBe('');
  });
});
