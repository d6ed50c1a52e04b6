/**
 * The pool of load balancers read from the state table (FLEDGE_SHARD_POOL=table): the adapter
 * (functions/adapters/shard-pool.ts), the 60 s cache per container (functions/commands/shard-pool.ts),
 * the runtime configuration it feeds (functions/runtime/config.ts) and the wrappers that load it
 * before a handler (functions/lambda/task-handler.ts, event-handler.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { readShardPool, ShardPoolUnavailable, writeShardPool } from '../../../functions/adapters/shard-pool.ts';
import { forgetShardPool, loadShardPool, SHARD_POOL_TTL_MS } from '../../../functions/commands/shard-pool.ts';
import { resetClients } from '../../../functions/adapters/aws-clients.ts';
import { ConfigurationError, readRuntimeConfig, resetConfig, runtimeConfig, ShardPoolNotLoaded } from '../../../functions/runtime/config.ts';
import { taskHandler } from '../../../functions/lambda/task-handler.ts';
import { eventHandler } from '../../../functions/lambda/event-handler.ts';
import { invoked } from '../../support/lambda-context.ts';

const dynamodb = mockClient(DynamoDBDocumentClient);
const RUNTIME = {
  FLEDGE_INSTALLATION_ID: 'test', TABLE_NAME: 'fledge', FLEDGE_CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:1:cluster/c',
  FLEDGE_LISTENER_ARN: 'arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/fledge-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
  FLEDGE_SUBNET_IDS: 'subnet-a', FLEDGE_SECURITY_GROUP_IDS: 'sg-a', FLEDGE_EXECUTION_ROLE_ARN: 'arn:e', FLEDGE_TASK_ROLE_ARN: 'arn:t',
  FLEDGE_LOG_GROUP: '/fledge', FLEDGE_BASE_DOMAIN: 'preview.example.com', FLEDGE_HOSTED_ZONE_ID: 'Z0ZONE',
};
const shard = (id: string, extra: Record<string, unknown> = {}) => ({
  id, listenerArn: `arn:l:${id}`, loadBalancerArn: `arn:lb:${id}`, loadBalancerDimension: `app/fledge-${id}/1`,
  wakerTargetGroupArn: `arn:w:${id}`, dnsName: `${id}.elb.amazonaws.com`, canonicalHostedZoneId: 'Z32O12XQLNTSW2', ...extra,
});
const ELEVEN = Array.from({ length: 11 }, (_, i) => shard(`s${i + 1}`));
const POOL_KEY = { pk: 'POOL#shards', sk: 'POOL' };
const stored = (shards: unknown) => dynamodb.on(GetCommand).resolves({ Item: { ...POOL_KEY, shards, updatedAt: '2026-12-07T12:00:00.000Z' } });
const saved = { ...process.env };

beforeEach(() => {
  dynamodb.reset();
  resetClients();
  forgetShardPool();
  Object.assign(process.env, RUNTIME, { FLEDGE_SHARD_POOL: 'table' });
  delete process.env.FLEDGE_SHARDS;
  resetConfig();
});

afterEach(() => {
  process.env = { ...saved };
  forgetShardPool();
  resetConfig();
});

describe('the adapter reads the pool item', () => {
  it('with a consistent GetItem of POOL#shards/POOL, from JSON text or a list', async () => {
    stored(JSON.stringify(ELEVEN));
    expect(await readShardPool()).toEqual(ELEVEN);
    expect(dynamodb.commandCalls(GetCommand)[0]!.args[0].input).toEqual({ TableName: 'fledge', Key: POOL_KEY, ConsistentRead: true });
    stored([shard('s1'), shard('s2', { closed: true })]);
    expect((await readShardPool()).map((s) => s.closed)).toEqual([undefined, true]);
  });

  it('a missing item is an error naming the item and the table, not one shard', async () => {
    dynamodb.on(GetCommand).resolves({});
    const error = await readShardPool().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShardPoolUnavailable);
    expect((error as Error).message).toMatch(/item POOL#shards\/POOL of table fledge.* is missing: the stack writes it on every deploy/);
  });

  it('invalid JSON, an invalid shard, or no attribute is an error saying what is wrong', async () => {
    stored('[{"id": "s1",');
    await expect(readShardPool()).rejects.toThrow(/POOL#shards\/POOL.* is invalid: "shards" must be a JSON array of shards/);
    stored(JSON.stringify([{ id: 's1' }]));
    await expect(readShardPool()).rejects.toThrow(/is invalid: "shards" .*listenerArn/);
    stored(JSON.stringify([shard('s1'), shard('s1')]));
    await expect(readShardPool()).rejects.toThrow(/unique/);
    dynamodb.on(GetCommand).resolves({ Item: { ...POOL_KEY } });
    await expect(readShardPool()).rejects.toThrow(/has no attribute "shards"/);
  });

  it('writes the item the stack writes: the JSON text and when', async () => {
    dynamodb.on(PutCommand).resolves({});
    await writeShardPool(ELEVEN, new Date('2026-12-07T13:00:00Z'));
    expect(dynamodb.commandCalls(PutCommand)[0]!.args[0].input).toEqual({
      TableName: 'fledge',
      Item: { ...POOL_KEY, shards: JSON.stringify(ELEVEN), updatedAt: '2026-12-07T13:00:00.000Z' },
    });
  });
});

describe('runtimeConfig().shards with FLEDGE_SHARD_POOL=table', () => {
  it('is the loaded pool (it wins over FLEDGE_SHARDS), with per-environment DNS past one shard', async () => {
    process.env.FLEDGE_SHARDS = JSON.stringify([shard('s1')]);
    stored(JSON.stringify(ELEVEN));
    await loadShardPool();
    expect(runtimeConfig().shards.map((s) => s.id)).toEqual(ELEVEN.map((s) => s.id));
    expect(runtimeConfig().perEnvironmentDns).toBe(true);
  });

  it('not loaded, is an error naming the item (never a silent fallback to one shard)', () => {
    expect(() => runtimeConfig()).toThrow(ShardPoolNotLoaded);
    expect(() => readRuntimeConfig(process.env)).toThrow(/FLEDGE_SHARD_POOL=table: .*item POOL#shards\/POOL.*not loaded/);
    expect(() => readRuntimeConfig({ ...process.env, FLEDGE_SHARD_POOL: 'env' })).toThrow(ConfigurationError);
    expect(() => readRuntimeConfig({ ...process.env, FLEDGE_SHARD_POOL: 'env' })).toThrow(/FLEDGE_SHARD_POOL: must be "table" or unset, got "env"/);
  });

  it('unset, reads nothing from the table: FLEDGE_SHARDS or the one shard as before', async () => {
    delete process.env.FLEDGE_SHARD_POOL;
    await loadShardPool();
    expect(dynamodb.commandCalls(GetCommand)).toHaveLength(0);
    expect(runtimeConfig().shards.map((s) => s.id)).toEqual(['s1']);
  });
});

describe('the cache per container', () => {
  it(`keeps the pool ${SHARD_POOL_TTL_MS / 1000} s, then reads the item again (a closed shard takes effect within a minute)`, async () => {
    stored(JSON.stringify([shard('s1'), shard('s2')]));
    await loadShardPool(1_000_000);
    stored(JSON.stringify([shard('s1'), shard('s2', { closed: true })]));
    await loadShardPool(1_000_000 + SHARD_POOL_TTL_MS - 1);
    expect(dynamodb.commandCalls(GetCommand)).toHaveLength(1);
    expect(runtimeConfig().shards[1]!.closed).toBeUndefined();
    await loadShardPool(1_000_000 + SHARD_POOL_TTL_MS);
    expect(dynamodb.commandCalls(GetCommand)).toHaveLength(2);
    expect(runtimeConfig().shards[1]!.closed).toBe(true);
  });

  it('concurrent loads share one read; a failed read fails the load and the next one reads again', async () => {
    stored(JSON.stringify(ELEVEN));
    await Promise.all([loadShardPool(5), loadShardPool(5), loadShardPool(5)]);
    expect(dynamodb.commandCalls(GetCommand)).toHaveLength(1);
    forgetShardPool();
    dynamodb.on(GetCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(loadShardPool(10)).rejects.toThrow('Rate exceeded');
    stored(JSON.stringify(ELEVEN));
    await loadShardPool(11);
    expect(runtimeConfig().shards).toHaveLength(11);
  });
});

describe('the Lambda wrappers load the pool before the handler', () => {
  it('a task and an event handler see the table\'s pool', async () => {
    stored(JSON.stringify(ELEVEN));
    const task = invoked(taskHandler(async () => runtimeConfig().shards.length));
    expect(await task({})).toBe(11);
    forgetShardPool();
    const event = invoked(eventHandler(async () => runtimeConfig().shards.length));
    expect(await event({})).toBe(11);
  });

  it('a missing item fails the invocation with the error naming it', async () => {
    dynamodb.on(GetCommand).resolves({});
    const task = invoked(taskHandler(async () => 'ran'));
    await expect(task({})).rejects.toThrow(/POOL#shards\/POOL.* is missing/);
  });
});
