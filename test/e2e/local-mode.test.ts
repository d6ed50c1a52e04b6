/**
 * Local mode end to end (infra/local/README.md): `npm start -- --in-memory` as a child process, driven
 * only over HTTP — the API, the environment pages (Host header routing) and the local-only
 * routes (/_local/faults, /_local/resources).
 */
import { describe, expect, it } from 'vitest';
import { eventually, isStatus, useLocalServer, type Answer } from './local-api.ts';
import { openApiDocument } from '../../functions/contract/openapi.ts';

const { server: localServer, api, page, waitFor } = useLocalServer();

async function resourcesMentioning(name: string): Promise<unknown[]> {
  const answer = await api('GET', '/_local/resources');
  expect(answer.status).toBe(200);
  const r = answer.body;
  const all = [...r.services, ...r.taskDefinitions, ...r.targetGroups, ...r.listenerRules, ...r.alarms, ...r.scalableTargets];
  return all.filter((resource: { environment?: string; name?: string }) => resource.environment === name || resource.name === name);
}

describe('local mode over HTTP', () => {
  it('answers health with the local mode and a request id', async () => {
    const health = await api('GET', '/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', mode: 'local' });
    expect(health.headers.get('x-request-id')).toBeTruthy();
    expect(localServer().startupMs).toBeGreaterThan(0);
  });

  it('serves the OpenAPI document at GET /v1/openapi.json', async () => {
    const answer = await api('GET', '/v1/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  it('says at startup that the API is open without --auth, and hands out no tokens', async () => {
    expect(localServer().output()).toMatch(/"level":"WARN".*auth: OFF/);
    expect((await api('POST', '/_local/token', { body: { repository: 'acme/web' } })).status).toBe(404);
  });

  it('creates, serves, updates and deletes an environment, leaving nothing behind', async () => {
    const created = await api('PUT', '/v1/environments/e2e-life', { body: { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' } } });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('CREATING');
    const running = await waitFor('e2e-life', isStatus('RUNNING', 'FAILED'));
    expect(running.status).toBe('RUNNING');
    expect(running.url).toMatch(new RegExp(`^http://e2e-life\\.localhost:${localServer().port}/?$`));
    expect(running.runningCount).toBe(1);

    const served = await page('e2e-life');
    expect(served.status).toBe(200);
    expect(served.text).toContain('nginx:1.27');
    expect(served.text).toContain('RUNNING');

    const updated = await api('PUT', '/v1/environments/e2e-life', { body: { image: 'nginx:1.28', port: 80, labels: { repository: 'org/e2e' } } });
    expect(updated.status).toBe(202);
    const rolled = await waitFor('e2e-life', (env) => env.status === 'RUNNING' && env.image === 'nginx:1.28' && env.operation?.status !== 'RUNNING');
    expect(rolled.lastHealthyImage).toBe('nginx:1.28');
    expect((await page('e2e-life')).text).toContain('nginx:1.28');

    const events = await api('GET', '/v1/environments/e2e-life/events');
    expect(events.status).toBe(200);
    expect(events.body.items.length).toBeGreaterThanOrEqual(4);
    const ats = events.body.items.map((e: { at: string }) => e.at);
    expect([...ats].sort().reverse()).toEqual(ats); // newest first
    expect(events.body.items.every((e: { actor: string }) => typeof e.actor === 'string')).toBe(true);
    expect(events.body.items.some((e: { actor: string }) => e.actor === 'local')).toBe(true);

    const deleted = await api('DELETE', '/v1/environments/e2e-life');
    expect(deleted.status).toBe(202);
    expect((await api('DELETE', '/v1/environments/e2e-life')).status).toBeLessThan(300);
    await waitFor('e2e-life', isStatus('DELETED'));
    // as on AWS, a deleted service drains (DRAINING) until its tasks have stopped
    expect(await eventually(() => resourcesMentioning('e2e-life'), (left) => left.length === 0, 15_000)).toEqual([]);
    expect((await page('e2e-life')).status).toBe(404);
  });

  it('answers every 4xx of README "Using the API" as problem+json over the wire', async () => {
    const expectProblem = (answer: Answer, status: number) => {
      expect(answer.status, answer.text).toBe(status);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status, title: expect.any(String) });
      expect(answer.headers.get('x-request-id')).toBeTruthy();
    };
    // 400 schema violation with errors[]
    const invalid = await api('PUT', '/v1/environments/e2e-bad', { body: { image: 'nginx', port: 70000, cpu: 256, memory: 4096 } });
    expectProblem(invalid, 400);
    expect(invalid.body.errors.length).toBeGreaterThanOrEqual(2);
    expectProblem(await api('PUT', '/v1/environments/Not_A_Name', { body: { image: 'nginx' } }), 400);
    expectProblem(await api('GET', '/v1/environments?limit=1000'), 400);
    expectProblem(await api('GET', '/v1/environments?cursor=garbage'), 400);
    expectProblem(await api('PUT', '/v1/environments/e2e-bad', { raw: '{"image":', headers: { 'content-type': 'application/json' } }), 400);
    // 404 unknown name, unknown route; 405 wrong method
    expectProblem(await api('GET', '/v1/environments/e2e-nobody'), 404);
    expectProblem(await api('GET', '/v1/environments/e2e-nobody/events'), 404);
    expectProblem(await api('DELETE', '/v1/environments/e2e-nobody'), 404);
    expectProblem(await api('GET', '/v2/nothing'), 404);
    const wrongMethod = await api('POST', '/v1/health');
    expectProblem(wrongMethod, 405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
    // 413, 415
    expectProblem(await api('PUT', '/v1/environments/e2e-bad', { body: { image: 'nginx', environment: { BIG: 'x'.repeat(70 * 1024) } } }), 413);
    expectProblem(await api('PUT', '/v1/environments/e2e-bad', { raw: 'image=nginx', headers: { 'content-type': 'text/plain' } }), 415);
    // 409 POST of a live name, 412 If-Match
    const created = await api('POST', '/v1/environments', { body: { name: 'e2e-conflict', image: 'nginx:1' } });
    expect(created.status).toBe(201);
    expectProblem(await api('POST', '/v1/environments', { body: { name: 'e2e-conflict', image: 'nginx:1' } }), 409);
    expectProblem(await api('PATCH', '/v1/environments/e2e-conflict', { body: { image: 'nginx:2' }, headers: { 'if-match': '"999"' } }), 412);
    // 422 same Idempotency-Key, other body
    const key = `e2e-key-${Date.now()}`;
    expect((await api('PUT', '/v1/environments/e2e-idem-a', { body: { image: 'nginx:1' }, headers: { 'idempotency-key': key } })).status).toBe(201);
    expectProblem(await api('PUT', '/v1/environments/e2e-idem-a', { body: { image: 'nginx:2' }, headers: { 'idempotency-key': key } }), 422);
    // 409 PUT while DELETING (the delete of a just-created environment takes a moment)
    await waitFor('e2e-conflict', isStatus('RUNNING', 'FAILED'));
    expect((await api('DELETE', '/v1/environments/e2e-conflict')).status).toBe(202);
    const during = await api('PUT', '/v1/environments/e2e-conflict', { body: { image: 'nginx:3' } });
    if (during.status !== 201) expectProblem(during, 409); // 201 only if the teardown already finished
    // local routes validate too
    expectProblem(await api('POST', '/_local/faults', { body: { fault: 'melt' } }), 400);
    expectProblem(await api('POST', '/_local/faults', { body: { fault: 'crash' } }), 400);
    expectProblem(await api('POST', '/_local/faults', { body: { environment: 'e2e-nobody', fault: 'crash' } }), 404);
    expectProblem(await api('POST', '/_local/faults', { body: { fault: 'throttle' } }), 400);
  });

  it('replays the first answer for the same Idempotency-Key and body: one environment', async () => {
    const key = `e2e-replay-${Date.now()}`;
    const first = await api('POST', '/v1/environments', { body: { name: 'e2e-idem', image: 'nginx:1' }, headers: { 'idempotency-key': key } });
    const second = await api('POST', '/v1/environments', { body: { name: 'e2e-idem', image: 'nginx:1' }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    const list = await api('GET', '/v1/environments?limit=100');
    expect(list.body.items.filter((e: { name: string }) => e.name === 'e2e-idem')).toHaveLength(1);
    const events = await api('GET', '/v1/environments/e2e-idem/events');
    expect(events.body.items.filter((e: { type: string }) => /creat/i.test(e.type)).length).toBeLessThanOrEqual(2);
  });

  it('brings 20 concurrent creates to RUNNING with distinct listener priorities, then enforces the repository quota', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `e2e-many-${i}`);
    const answers = await Promise.all(
      names.map((name) => api('PUT', `/v1/environments/${name}`, { body: { image: 'nginx:1', labels: { repository: 'org/many' } } })),
    );
    expect(answers.map((a) => a.status)).toEqual(names.map(() => 201));
    for (const name of names) expect((await waitFor(name, isStatus('RUNNING', 'FAILED'), 120_000)).status).toBe('RUNNING');
    const rules = (await api('GET', '/_local/resources')).body.listenerRules.filter((r: { environment?: string }) => r.environment?.startsWith('e2e-many-'));
    expect(rules).toHaveLength(20);
    expect(new Set(rules.map((r: { priority: number }) => r.priority)).size).toBe(20);
    // the 21st of the same repository is over the per-repository quota (20)
    const over = await api('PUT', '/v1/environments/e2e-many-20', { body: { image: 'nginx:1', labels: { repository: 'org/many' } } });
    expect(over.status).toBe(429);
    expect(over.body.detail).toMatch(/20/);
  }, 180_000);

  it('gets through throttled AWS calls (throttle fault) with retries', async () => {
    const fault = await api('POST', '/_local/faults', { body: { fault: 'throttle', count: 10 } });
    expect(fault.status).toBe(200);
    const created = await api('PUT', '/v1/environments/e2e-throttle', { body: { image: 'nginx:1' } });
    expect(created.status).toBe(201);
    expect((await waitFor('e2e-throttle', isStatus('RUNNING', 'FAILED'), 220_000)).status).toBe('RUNNING');
    expect((await api('GET', '/_local/resources')).body.faults.throttledCallsRemaining).toBe(0);
  }, 240_000);

  it('absorbs a crash: ECS replaces the tasks and the environment stays served', async () => {
    expect((await api('PUT', '/v1/environments/e2e-crash', { body: { image: 'nginx:1', desiredCount: 2 } })).status).toBe(201);
    await waitFor('e2e-crash', isStatus('RUNNING'));
    const crash = await api('POST', '/_local/faults', { body: { environment: 'e2e-crash', fault: 'crash' } });
    expect(crash.status).toBe(200);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const service = (await api('GET', '/_local/resources')).body.services.find((s: { name: string }) => s.name === 'e2e-crash');
      const healthy = service?.tasks.filter((t: { targetHealth?: string }) => t.targetHealth === 'healthy').length ?? 0;
      if (healthy === 2) break;
      if (Date.now() > deadline) throw new Error(`tasks were not replaced: ${JSON.stringify(service)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect((await page('e2e-crash')).status).toBe(200);
    const env = await waitFor('e2e-crash', (e) => ['RUNNING', 'HEALING'].includes(e.status));
    expect(['RUNNING', 'HEALING']).toContain(env.status);
  });

  it('fails a create with an image that cannot be pulled, with nothing left behind', async () => {
    expect((await api('PUT', '/v1/environments/e2e-pull', { body: { image: 'nginx:fail-pull' } })).status).toBe(201);
    const failed = await waitFor('e2e-pull', isStatus('FAILED', 'RUNNING'), 90_000);
    expect(failed.status).toBe('FAILED');
    expect(failed.operation.error.code).toBe('IMAGE_PULL_FAILED');
    expect(await eventually(() => resourcesMentioning('e2e-pull'), (left) => left.length === 0, 15_000)).toEqual([]);
  }, 120_000);

  it('rolls an update to a crashing image back to the running one', async () => {
    expect((await api('PUT', '/v1/environments/e2e-rollback', { body: { image: 'nginx:1' } })).status).toBe(201);
    await waitFor('e2e-rollback', isStatus('RUNNING'));
    expect((await api('PUT', '/v1/environments/e2e-rollback', { body: { image: 'nginx:fail-start' } })).status).toBe(202);
    const after = await waitFor('e2e-rollback', (e) => e.operation?.status !== 'RUNNING' && e.status !== 'UPDATING', 90_000);
    expect(after.status).toBe('RUNNING');
    const events = (await api('GET', '/v1/environments/e2e-rollback/events?limit=100')).body.items as { type: string }[];
    expect(events.some((e) => e.type === 'rolled-back')).toBe(true);
    expect((await page('e2e-rollback')).text).toContain('nginx:1');
  }, 120_000);
});
