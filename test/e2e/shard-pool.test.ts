/**
 * Local mode reads its pool of load balancers from the state table, as the Lambdas on AWS do
 * (FLEDGE_SHARD_POOL=table, item POOL#shards/POOL written at startup: infra/local/shard-pool.ts),
 * and a create still comes up RUNNING and served through it, and its delete leaves nothing.
 */
import { describe, expect, it } from 'vitest';
import { isStatus, useLocalServer } from './local-api.ts';

const { server, api, page, waitFor } = useLocalServer();

describe('the shard pool from the table in local mode', () => {
  it('writes the pool item at startup and runs create -> RUNNING -> delete through it', async () => {
    expect(server().output()).toMatch(/shard pool: s1 in the table \(item POOL#shards\/POOL\)/);
    const created = await api('PUT', '/v1/environments/e2e-pool', { body: { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' } } });
    expect(created.status).toBe(201);
    const running = await waitFor('e2e-pool', isStatus('RUNNING', 'FAILED'));
    expect(running.status).toBe('RUNNING');
    expect((await page('e2e-pool')).status).toBe(200);
    expect((await api('DELETE', '/v1/environments/e2e-pool')).status).toBe(202);
    await waitFor('e2e-pool', isStatus('DELETED'));
    expect(server().output()).not.toMatch(/ShardPoolNotLoaded|ShardPoolUnavailable/);
  });
});
