/**
 * The pool in the runtime configuration (functions/runtime/config.ts FLEDGE_SHARDS,
 * FLEDGE_HOSTED_ZONE_ID), and the one shard an installation configured before the pool gets.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, readRuntimeConfig, shardOf } from '../../../functions/runtime/config.ts';

const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/fledge-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';
const RUNTIME = {
  FLEDGE_INSTALLATION_ID: 'test', TABLE_NAME: 'fledge', FLEDGE_CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:1:cluster/c', FLEDGE_LISTENER_ARN: LISTENER,
  FLEDGE_SUBNET_IDS: 'subnet-a', FLEDGE_SECURITY_GROUP_IDS: 'sg-a', FLEDGE_EXECUTION_ROLE_ARN: 'arn:e', FLEDGE_TASK_ROLE_ARN: 'arn:t',
  FLEDGE_LOG_GROUP: '/fledge', FLEDGE_BASE_DOMAIN: 'preview.example.com',
};
const shard = (id: string, extra: Record<string, unknown> = {}) => ({
  id, listenerArn: `arn:l:${id}`, loadBalancerArn: `arn:lb:${id}`, loadBalancerDimension: `app/fledge-${id}/1`,
  wakerTargetGroupArn: `arn:w:${id}`, dnsName: `${id}.elb.amazonaws.com`, canonicalHostedZoneId: 'Z32O12XQLNTSW2', ...extra,
});

describe('the pool of load balancers in the runtime configuration', () => {
  it('without FLEDGE_SHARDS, is one shard s1 from FLEDGE_LISTENER_ARN and FLEDGE_WAKER_TARGET_GROUP_ARN, without per-environment DNS', () => {
    const config = readRuntimeConfig({ ...RUNTIME, FLEDGE_WAKER_TARGET_GROUP_ARN: 'arn:waker', FLEDGE_HOSTED_ZONE_ID: '/hostedzone/Z123' });
    expect(config.shards).toEqual([expect.objectContaining({
      id: 's1', listenerArn: LISTENER, loadBalancerDimension: 'app/fledge-alb/50dc6c495c0c9188', wakerTargetGroupArn: 'arn:waker',
      loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/fledge-alb/50dc6c495c0c9188',
    })]);
    expect(config.hostedZoneId).toBe('Z123');
    // one shard: the wildcard record is enough
    expect(config.perEnvironmentDns).toBe(false);
  });

  it('reads FLEDGE_SHARDS; per-environment DNS needs a hosted zone and more than one shard', () => {
    const pool = [shard('s1'), shard('s2', { closed: true })];
    const config = readRuntimeConfig({ ...RUNTIME, FLEDGE_SHARDS: JSON.stringify(pool) });
    expect(config.shards).toEqual(pool);
    expect(config.perEnvironmentDns).toBe(false);
    expect(readRuntimeConfig({ ...RUNTIME, FLEDGE_SHARDS: JSON.stringify(pool), FLEDGE_HOSTED_ZONE_ID: 'Z123' }).perEnvironmentDns).toBe(true);
  });

  it('refuses a malformed pool, naming the variable and what is wrong', () => {
    const invalid = (raw: string) => {
      try {
        readRuntimeConfig({ ...RUNTIME, FLEDGE_SHARDS: raw });
      } catch (error) {
        if (error instanceof ConfigurationError) return error.invalid.join('; ');
      }
      throw new Error('expected a ConfigurationError');
    };
    expect(invalid('s1,s2')).toMatch(/^FLEDGE_SHARDS: must be a JSON array of shards/);
    expect(invalid('[]')).toMatch(/^FLEDGE_SHARDS: /);
    expect(invalid(JSON.stringify([shard('s1'), shard('s1')]))).toMatch(/^FLEDGE_SHARDS: .*unique/);
    expect(invalid(JSON.stringify([{ id: 's1' }]))).toMatch(/^FLEDGE_SHARDS: .*listenerArn/);
  });

  it("finds an environment's shard by its record, closed or not; a record older than the pool is on s1", () => {
    const config = readRuntimeConfig({ ...RUNTIME, FLEDGE_SHARDS: JSON.stringify([shard('s1'), shard('s2', { closed: true })]) });
    expect(shardOf({}, config).id).toBe('s1');
    expect(shardOf({ shard: 's2' }, config)).toMatchObject({ id: 's2', closed: true, listenerArn: 'arn:l:s2' });
    expect(() => shardOf({ shard: 's3' }, config)).toThrow(/shard "s3" is not in the installation's pool/);
  });
});
