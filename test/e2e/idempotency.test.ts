/**
 * `Idempotency-Key` in local mode over HTTP (README "Using the API"): concurrent duplicates of a
 * create run it once; a retry replays; the same JSON with its keys in another order is the same request.
 */
import { describe, expect, it } from 'vitest';
import { useLocalServer, type Answer } from './local-api.ts';

const { api } = useLocalServer();

const replayed = (answer: Answer) => answer.headers.get('idempotent-replayed') === 'true';

describe('Idempotency-Key over HTTP', () => {
  it('creates exactly one environment for concurrent identical POSTs with one key: 201, and a 201 replay or a 409 with Retry-After', async () => {
    for (let round = 0; round < 4; round++) {
      const name = `e2e-idem-race-${round}`;
      const key = `race-${round}-${Date.now()}`;
      const body = { name, image: 'nginx:1', labels: { repository: 'org/idem' } };
      const answers = await Promise.all([0, 1].map(() => api('POST', '/v1/environments', { body, headers: { 'idempotency-key': key } })));

      const ran = answers.filter((a) => a.status === 201 && !replayed(a));
      expect(ran, JSON.stringify(answers.map((a) => [a.status, a.body]))).toHaveLength(1);
      const other = answers.find((a) => a !== ran[0])!;
      if (other.status === 409) {
        expect(other.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
        expect(other.headers.get('content-type')).toBe('application/problem+json');
        expect(other.body).toMatchObject({ status: 409, title: 'Idempotency-Key in progress' });
      } else {
        expect(other.status).toBe(201);
        expect(replayed(other)).toBe(true);
        expect(other.body).toEqual(ran[0]!.body);
      }

      // after the first finished, a retry is its replay, never a name conflict
      const retry = await api('POST', '/v1/environments', { body, headers: { 'idempotency-key': key } });
      expect(retry.status).toBe(201);
      expect(replayed(retry)).toBe(true);
      expect(retry.body).toEqual(ran[0]!.body);

      const list = await api('GET', '/v1/environments?repository=org/idem&limit=100');
      expect(list.body.items.filter((e: { name: string }) => e.name === name)).toHaveLength(1);
      const events = await api('GET', `/v1/environments/${name}/events`);
      expect(events.body.items.filter((e: { type: string }) => e.type === 'create-requested')).toHaveLength(1);
    }
  });

  it('replays the same JSON with its keys in another order, and is 422 for another body', async () => {
    const key = `order-${Date.now()}`;
    const first = await api('POST', '/v1/environments', {
      raw: '{"name":"e2e-idem-order","image":"nginx:1","labels":{"repository":"org/idem","branch":"main"}}',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
    });
    expect(first.status).toBe(201);
    const reordered = await api('POST', '/v1/environments', {
      raw: '{"labels":{"branch":"main","repository":"org/idem"},"image":"nginx:1","name":"e2e-idem-order"}',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
    });
    expect(reordered.status).toBe(201);
    expect(replayed(reordered)).toBe(true);
    expect(reordered.body).toEqual(first.body);
    const other = await api('POST', '/v1/environments', { body: { name: 'e2e-idem-order', image: 'nginx:2' }, headers: { 'idempotency-key': key } });
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
  });
});
