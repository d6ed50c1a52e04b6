/**
 * The one definition of Fledge's DynamoDB table. The CDK stack (infra/aws) and local mode
 * (infra/local, DynamoDB Local) both build the table from this, so they cannot drift.
 *
 * Single-table layout (see docs/design.md):
 *   ENV#<name> / ENV              the environment (desired spec, status, version, operation)
 *   ENV#<name> / EVT#<ts>#<seq>   its history, newest first when queried backwards
 *   IDEM#<caller>#<key> / IDEM    an Idempotency-Key: in-progress claim or stored answer (24 h, TTL)
 *   PRIORITY#<n> / PRIORITY       a listener-rule priority held by one environment
 *   COUNTER#live / COUNTER        live-environment counters (global and per repository)
 *   SHARD#<id> / SHARD            environments placed on a load balancer of the pool (`used`, at most 99)
 *   POOL#shards / POOL            the pool of load balancers itself, written at deploy (contract/shard-pool-item.ts)
 */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'purgeAt',
  indexes: {
    /** every environment, by name */
    all: { partitionKey: 'gsiAllPk', sortKey: 'name' },
    /** environments of one `labels.repository` */
    byRepository: { partitionKey: 'gsiRepoPk', sortKey: 'name' },
    /** environments in one status */
    byStatus: { partitionKey: 'gsiStatusPk', sortKey: 'name' },
    /** sparse: only live, unpinned environments carry `gsiExpiryPk`; sorted by expiry */
    byExpiry: { partitionKey: 'gsiExpiryPk', sortKey: 'expiresAt' },
  },
} as const;

export type IndexName = keyof typeof tableDefinition.indexes;

/** The attribute names that need a type declaration (keys of the table and its indexes). All strings. */
export function keyAttributes(): string[] {
  const names = new Set<string>([tableDefinition.partitionKey, tableDefinition.sortKey]);
  for (const index of Object.values(tableDefinition.indexes)) {
    names.add(index.partitionKey);
    names.add(index.sortKey);
  }
  return [...names];
}
