/**
 * `GET /_local/metrics`: what the handlers emitted in this process, under the names CloudWatch
 * gets on AWS (functions/contract/metrics.ts), fed by the same emitter (functions/runtime/metric-emitter.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HttpFront } from '../../../infra/local/http-front.ts';
import { httpHandler } from '../../../functions/lambda/http-handler.ts';
import { EnvironmentNotFound } from '../../../functions/domain/errors.ts';
import { emitMetric, clearRecordedMetrics, type RecordedMetric } from '../../../functions/runtime/metric-emitter.ts';
import { METRICS, METRICS_NAMESPACE } from '../../../functions/contract/metrics.ts';
import { invoked } from '../../support/lambda-context.ts';
import { startTestFront } from '../../support/local-front.ts';

describe('GET /_local/metrics', () => {
  let front: HttpFront;

  beforeAll(async () => {
    vi.stubEnv('FLEDGE_LOCAL_MODE', 'true'); // the local operator, as local mode runs the API
    clearRecordedMetrics();
    // a real API wrapper (functions/lambda/http-handler.ts): 200 on the list, 404 on an environment
    const handler = httpHandler(async (request) => {
      if (request.pathName) throw new EnvironmentNotFound(request.pathName);
      return { status: 200, body: { items: [] } };
    });
    const started = await startTestFront({ handle: (event) => invoked(handler)(event), readEnvironment: async () => undefined });
    front = started.front;
    return started.stop;
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  const read = async () => {
    const response = await fetch(`${front.url}/_local/metrics`);
    expect(response.status).toBe(200);
    return (await response.json()) as { namespace: string; items: RecordedMetric[] };
  };

  it('shows the API requests by status class and route, and their latency, as the wrapper emitted them', async () => {
    expect((await fetch(`${front.url}/v1/environments`)).status).toBe(200);
    expect((await fetch(`${front.url}/v1/environments`)).status).toBe(200);
    expect((await fetch(`${front.url}/v1/environments/pr-1`)).status).toBe(404);

    const { namespace, items } = await read();
    expect(namespace).toBe(METRICS_NAMESPACE);
    expect(items).toContainEqual(expect.objectContaining({
      name: 'ApiRequests', unit: 'Count', dimensions: { route: 'GET /v1/environments', statusClass: '2xx' }, samples: 2, sum: 2,
    }));
    expect(items).toContainEqual(expect.objectContaining({
      name: 'ApiRequests', dimensions: { route: 'GET /v1/environments/{name}', statusClass: '4xx' }, samples: 1, sum: 1,
    }));
    const latency = items.find((m) => m.name === 'ApiLatency')!;
    expect(latency).toMatchObject({ unit: 'Milliseconds', dimensions: {}, samples: 3 });
    expect(latency.sum).toBeGreaterThan(0);
    // every name shown is one of the table's
    for (const item of items) expect(Object.keys(METRICS)).toContain(item.name);
  });

  it('shows a gauge by its last value, per dimension', async () => {
    emitMetric('RepositoryLiveEnvironments', 3, { repository: 'acme/web' });
    emitMetric('RepositoryLiveEnvironments', 2, { repository: 'acme/web' });
    const { items } = await read();
    expect(items).toContainEqual(expect.objectContaining({ name: 'RepositoryLiveEnvironments', dimensions: { repository: 'acme/web' }, last: 2, samples: 2 }));
  });

  it('answers 405 to anything but GET', async () => {
    const response = await fetch(`${front.url}/_local/metrics`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
