/** Environment records as the table holds them, for tests. */
import { environmentSpecSchema, type EnvironmentSpec } from '../../functions/domain/environment-spec.ts';
import type { EnvironmentRecord } from '../../functions/domain/environment.ts';

const schema = environmentSpecSchema({ maxTtlMs: 30 * 86_400_000 });

export function spec(overrides: Record<string, unknown> = {}): EnvironmentSpec {
  return schema.parse({ image: 'ghcr.io/acme/web:1.0', labels: { repository: 'acme/web', branch: 'main' }, ...overrides });
}

export function record(overrides: Partial<EnvironmentRecord> = {}): EnvironmentRecord {
  return {
    name: 'pr-1',
    spec: spec(),
    specVersion: 1,
    appliedSpecVersion: 1,
    status: 'RUNNING',
    version: 4,
    url: 'https://pr-1.preview.example.com',
    runningCount: 1,
    createdAt: '2026-11-01T10:00:00.000Z',
    updatedAt: '2026-11-01T10:05:00.000Z',
    expiresAt: '2026-11-04T10:00:00.000Z',
    operation: {
      id: 'op-1-abcd1234', type: 'create', status: 'SUCCEEDED', startedAt: '2026-11-01T10:00:00.000Z',
      finishedAt: '2026-11-01T10:05:00.000Z', executionName: 'pr-1--op-1-abcd1234', workflow: 'create',
    },
    lastHealthyImage: 'ghcr.io/acme/web:1.0',
    ...overrides,
  };
}

/** the item DynamoDB returns for a record (keys and index attributes included) */
export function item(r: EnvironmentRecord) {
  return { pk: `ENV#${r.name}`, sk: 'ENV', kind: 'ENVIRONMENT', gsiAllPk: 'ENV', gsiStatusPk: `STATUS#${r.status}`, ...r };
}
