/** FLEDGE_SHARDS and FLEDGE_HOSTED_ZONE_ID (functions/runtime/config.ts): when per-environment DNS is on. */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, readRuntimeConfig } from '../../../functions/runtime/config.ts';

const BASE = {
  FLEDGE_INSTALLATION_ID: 'test', TABLE_NAME: 't', FLEDGE_CLUSTER_ARN: 'c', FLEDGE_LISTENER_ARN: 'l', FLEDGE_SUBNET_IDS: 's', FLEDGE_SECURITY_GROUP_IDS: 'g',
  FLEDGE_EXECUTION_ROLE_ARN: 'e', FLEDGE_TASK_ROLE_ARN: 'r', FLEDGE_LOG_GROUP: 'lg', FLEDGE_BASE_DOMAIN: 'preview.example.com',
};
const shard = (id: string) => ({ id, dnsName: `${id}.elb.amazonaws.com`, canonicalHostedZoneId: 'Z32O12XQLNTSW2', listenerArn: `l-${id}` });

describe('per-environment DNS settings', () => {
  it('on with a hosted zone and more than one shard; the /hostedzone/ prefix is dropped', () => {
    const config = readRuntimeConfig({ ...BASE, FLEDGE_SHARDS: JSON.stringify([shard('s1'), shard('s2')]), FLEDGE_HOSTED_ZONE_ID: '/hostedzone/Z0ZONE' });
    expect(config).toMatchObject({ hostedZoneId: 'Z0ZONE', perEnvironmentDns: true });
    expect(config.shards.map((s) => s.id)).toEqual(['s1', 's2']);
    // the other fields of a shard (H14a's Shard) are kept as they are
    expect(config.shards[0]).toMatchObject({ listenerArn: 'l-s1' });
  });

  it('off with one shard, without a zone, or without FLEDGE_SHARDS', () => {
    expect(readRuntimeConfig({ ...BASE, FLEDGE_SHARDS: JSON.stringify([shard('s1')]), FLEDGE_HOSTED_ZONE_ID: 'Z0ZONE' }).perEnvironmentDns).toBe(false);
    expect(readRuntimeConfig({ ...BASE, FLEDGE_SHARDS: JSON.stringify([shard('s1'), shard('s2')]) }).perEnvironmentDns).toBe(false);
    expect(readRuntimeConfig({ ...BASE, FLEDGE_HOSTED_ZONE_ID: 'Z0ZONE' })).toMatchObject({ shards: [], perEnvironmentDns: false });
  });

  it('a malformed FLEDGE_SHARDS is a configuration error that says what is wrong', () => {
    expect(() => readRuntimeConfig({ ...BASE, FLEDGE_SHARDS: 'not json' })).toThrow(ConfigurationError);
    expect(() => readRuntimeConfig({ ...BASE, FLEDGE_SHARDS: '[]' })).toThrow(/FLEDGE_SHARDS: must be a non-empty JSON array of shards/);
    expect(() => readRuntimeConfig({ ...BASE, FLEDGE_SHARDS: JSON.stringify([{ id: 's1' }]) })).toThrow(/dnsName/);
  });
});
