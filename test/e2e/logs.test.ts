/**
 * The logs route end to end in local mode (`npm start -- --in-memory`, driven over HTTP): the
 * simulated tasks write to the simulated CloudWatch Logs, a failed create's answer names where
 * its logs are and they say why it failed, a running environment's logs show its startup and
 * its requests, and the cursor pages through them.
 */
import { describe, expect, it } from 'vitest';
import { isStatus, reached, useLocalServer } from './local-api.ts';

const { api, page, waitFor } = useLocalServer();

type Line = { at: string; message: string; task: string; container: string };

describe('GET /v1/environments/{name}/logs in local mode', () => {
  it('a fail-start environment: the failed operation names its logs, and they say why it failed', async () => {
    expect((await api('PUT', '/v1/environments/e2e-logs-broken', { body: { image: 'nginx:fail-start', labels: { repository: 'org/e2e' } } })).status).toBe(201);
    const failed = await waitFor('e2e-logs-broken', isStatus('FAILED', 'RUNNING'));
    expect(failed.status).toBe('FAILED');
    expect(failed.operation.error.code).toBe('TASK_EXITED');
    const where: string = failed.operation.error.logs;
    expect(where).toBe(`/v1/environments/e2e-logs-broken/logs?since=${failed.operation.startedAt}`);

    // compensation deleted the service: the tasks are found by their family and group
    const logs = await api('GET', where);
    expect(logs.status).toBe(200);
    const lines: Line[] = logs.body.items;
    expect(lines.map((l) => l.message)).toContain('Error: cannot connect to the database at db:5432: connection refused');
    expect(lines.map((l) => l.message)).toContain('fatal: startup failed, exiting with code 1');
    expect(lines.every((l) => l.container === 'app' && /^[0-9a-f]{32}$/.test(l.task) && !Number.isNaN(Date.parse(l.at)))).toBe(true);
    // the circuit breaker saw three tasks fail: each wrote its own lines
    expect(new Set(lines.map((l) => l.task)).size).toBeGreaterThanOrEqual(3);
    expect(lines.map((l) => l.at)).toEqual([...lines.map((l) => l.at)].sort());
    expect(JSON.stringify(logs.body)).not.toMatch(/arn:aws|000000000000|fledge\/app\//);
  });

  it('a running environment: its startup lines and a line per request; the cursor pages through every line once', async () => {
    expect((await api('PUT', '/v1/environments/e2e-logs-ok', { body: { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' } } })).status).toBe(201);
    await waitFor('e2e-logs-ok', isStatus('RUNNING', 'FAILED'));
    for (let i = 0; i < 5; i++) expect((await page('e2e-logs-ok')).status).toBe(200);

    const all = await reached(
      async () => (await api('GET', '/v1/environments/e2e-logs-ok/logs?limit=1000')).body,
      (body) => body.items.filter((l: Line) => l.message.startsWith('"GET / HTTP/1.1" 200')).length >= 5,
      10_000, 100, 'five request lines',
    );
    const messages: string[] = all.items.map((l: Line) => l.message);
    expect(messages).toContain('listening on 0.0.0.0:80');
    expect(messages.some((m) => m.startsWith('starting nginx:1.27'))).toBe(true);
    expect(all.nextCursor).toBeUndefined();

    const paged: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const answer = await api('GET', `/v1/environments/e2e-logs-ok/logs?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(answer.status).toBe(200);
      expect(answer.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...answer.body.items.map((l: Line) => l.message));
      cursor = answer.body.nextCursor;
      if (!cursor) break;
    }
    expect(cursor).toBeUndefined();
    expect(paged.slice(0, messages.length)).toEqual(messages);

    expect((await api('GET', '/v1/environments/e2e-logs-ok/logs?cursor=forged')).status).toBe(400);
    expect((await api('GET', '/v1/environments/e2e-logs-ok/logs?limit=0')).status).toBe(400);
    expect((await api('GET', '/v1/environments/e2e-logs-nope/logs')).status).toBe(404);
  });

  it('AWS throttling the calls behind the route (throttle fault): a 503 with Retry-After and AWS_LIMIT, never a 500; a retry then reads the lines', async () => {
    expect((await api('PUT', '/v1/environments/e2e-logs-throttled', { body: { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' } } })).status).toBe(201);
    await waitFor('e2e-logs-throttled', isStatus('RUNNING', 'FAILED'));
    // more throttled calls than the SDK's 3 attempts of the route's first call (ECS ListTasks) can use
    expect((await api('POST', '/_local/faults', { body: { fault: 'throttle', count: 30 } })).status).toBe(200);
    const throttled = await api('GET', '/v1/environments/e2e-logs-throttled/logs');
    expect(throttled.status).toBe(503);
    expect(throttled.headers.get('retry-after')).toBe('2');
    expect(throttled.body).toMatchObject({ status: 503, code: 'AWS_LIMIT' });
    expect(throttled.text).not.toMatch(/Rate exceeded|ThrottlingException|arn:aws|000000000000/);
    expect((await api('POST', '/_local/faults', { body: { fault: 'clear' } })).status).toBe(200);
    // as a client does: retry after Retry-After (hostile mode may throttle a retry too)
    const again = await reached(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        return api('GET', '/v1/environments/e2e-logs-throttled/logs');
      },
      (answer) => answer.status !== 503,
      30_000, 0, 'an answer once the throttling passed',
    );
    expect(again.status).toBe(200);
    expect(again.body.items.map((l: Line) => l.message)).toContain('listening on 0.0.0.0:80');
  });
});
