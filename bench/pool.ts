/**
 * The benchmark's pool sections: what an installation of N environments needs
 * (ceil(N / 99) load balancers at AWS's default limits: 100 target groups per ALB, one of them
 * the waker's), the API bound a burst of creates cannot beat (the simulator's token buckets:
 * ECS CreateService, and Route 53 ChangeResourceRecordSets when each environment gets a DNS
 * record), and a table seeded past what the pool could create (10,000 environment records).
 */
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { localDynamoDbClient } from '../infra/local/dynamodb-local.ts';
import { AWS_RATE_LIMITS, type RateLimitTable } from '../infra/local/simulator/index.ts';
import { inParallel } from './local-client.ts';
import { round } from './stats.ts';

import { ENVIRONMENTS_PER_SHARD } from '../functions/domain/shards.ts';

export { ENVIRONMENTS_PER_SHARD };
export const shardsFor = (environments: number) => Math.max(1, Math.ceil(environments / ENVIRONMENTS_PER_SHARD));

/**
 * Route 53's published rate when the simulator's table has no bucket of its own for it: five
 * requests a second per account, no burst ("Quotas", Amazon Route 53 Developer Guide: API requests).
 */
const ROUTE53_PUBLISHED = { burst: 5, perSecond: 5 };

/** The least time `calls` calls take through a bucket of `burst` refilled at `perSecond`. */
const bucketBoundMs = (calls: number, limit: { burst: number; perSecond: number }) => (Math.max(0, calls - limit.burst) / limit.perSecond) * 1000;

export interface ApiBound {
  createServiceMs: number;
  route53Ms: number;
  bindingMs: number;
  binding: 'ecs:CreateService' | 'route53:ChangeResourceRecordSets' | 'ecs:RegisterTaskDefinition';
  /** the buckets it was computed from */
  buckets: Record<string, { burst: number; perSecond: number }>;
}

/**
 * The binding API bound of `environments` creates: CreateService once each, and (more than one
 * shard: per-environment DNS) one ChangeResourceRecordSets UPSERT each.
 */
export function apiBound(environments: number, shards: number, table: RateLimitTable = AWS_RATE_LIMITS): ApiBound {
  const createService = table['ecs:CreateService'] ?? table['ecs:*']!;
  const route53 = table['route53:ChangeResourceRecordSets'] ?? table['route53:*'] ?? ROUTE53_PUBLISHED;
  const createServiceMs = bucketBoundMs(environments, createService);
  const route53Ms = shards > 1 ? bucketBoundMs(environments, route53) : 0;
  return {
    createServiceMs,
    route53Ms,
    bindingMs: Math.max(createServiceMs, route53Ms),
    binding: route53Ms > createServiceMs ? 'route53:ChangeResourceRecordSets' : 'ecs:CreateService',
    buckets: { 'ecs:CreateService': createService, ...(shards > 1 ? { 'route53:ChangeResourceRecordSets': route53 } : {}) },
  };
}

export const ratio = (wallMs: number, boundMs: number) => (boundMs > 0 ? round(wallMs / boundMs, 2) : null);

/**
 * Adds `count` environment records to the table, each a copy of `template`'s item (an
 * environment created through the API) under another name and repository: records only, no
 * AWS resources, written straight to DynamoDB Local (`endpoint`). Records as big as a pool
 * could never hold (50 ALBs hold 4,950) to measure reads over a large table.
 */
export async function seedEnvironmentRecords(endpoint: string, table: string, template: string, count: number, prefix = 'seed'): Promise<void> {
  const db = DynamoDBDocumentClient.from(localDynamoDbClient(endpoint), { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  const found = await db.send(new GetCommand({ TableName: table, Key: { pk: `ENV#${template}`, sk: 'ENV' } }));
  if (!found.Item) throw new Error(`no record of ${template} to copy`);
  // the copies hold no listener priority and no shard slot: nothing was placed for them
  const { listenerPriority: _priority, shard: _shard, ...item } = found.Item;
  const indexes = Array.from({ length: count }, (_, i) => i);
  const batches: number[][] = [];
  for (let i = 0; i < indexes.length; i += 25) batches.push(indexes.slice(i, i + 25));
  await inParallel(batches, 8, async (batch) => {
    let requests = batch.map((i) => {
      const name = `${prefix}-${String(i).padStart(5, '0')}`;
      const repository = `acme/seed-${i % 100}`;
      const spec = { ...(item.spec as Record<string, unknown>), labels: { ...((item.spec as { labels?: object }).labels ?? {}), repository } };
      return { PutRequest: { Item: { ...item, pk: `ENV#${name}`, name, spec, gsiRepoPk: `REPO#${repository}`, url: String(item.url ?? '').replace(template, name) } } };
    });
    // BatchWriteItem may leave some unprocessed: write them again
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 10) throw new Error('DynamoDB Local left items unprocessed ten times');
      const answer = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (answer.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  });
}
