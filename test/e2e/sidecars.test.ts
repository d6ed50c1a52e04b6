/**
 * Sidecars end to end in local mode (issue 17): a spec's sidecars run in the environment's task;
 * one that is not essential crashing leaves the app serving, an essential one fails the create
 * with TASK_EXITED naming it; a task too small for its sidecars is a 400 naming the sizes that fit.
 */
import { describe, expect, it } from 'vitest';
import { isStatus, useLocalServer } from './local-api.ts';

const { api, page, waitFor } = useLocalServer();

describe('sidecars in local mode', () => {
  it('a non-essential sidecar that crashes at start: the environment reaches RUNNING and serves, its page shows the sidecar', async () => {
    const spec = {
      image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' },
      environment: { DATABASE_URL: 'postgres://postgres@localhost:5432/app' },
      sidecars: [{ name: 'db', image: 'postgres:16', port: 5432 }, { name: 'mock', image: 'wiremock/wiremock:fail-start', essential: false }],
    };
    const put = await api('PUT', '/v1/environments/e2e-side-ok', { body: spec });
    expect(put.status).toBe(201);
    expect(put.body.sidecars).toEqual([
      { name: 'db', image: 'postgres:16', port: 5432, environment: {}, secrets: {}, essential: true },
      { name: 'mock', image: 'wiremock/wiremock:fail-start', environment: {}, secrets: {}, essential: false },
    ]);
    const done = await waitFor('e2e-side-ok', isStatus('RUNNING', 'FAILED'));
    expect(done.status).toBe('RUNNING');
    const served = await page('e2e-side-ok');
    expect(served.status).toBe(200);
    expect(served.text).toContain('sidecar db');
    expect(served.text).toMatch(/postgres:16, running/);
    expect(served.text).toMatch(/wiremock\/wiremock:fail-start, exited 1 \(not essential\)/);
    const resources = await api('GET', '/_local/resources');
    const service = resources.body.services.find((s: { name: string }) => s.name === 'e2e-side-ok');
    expect(service.tasks[0].sidecars.map((s: { name: string; lastStatus: string }) => `${s.name}:${s.lastStatus}`)).toEqual(['db:RUNNING', 'mock:STOPPED']);
  });

  it('an essential sidecar that crashes at start: the create FAILS with TASK_EXITED naming it, and leaves nothing behind', async () => {
    const put = await api('PUT', '/v1/environments/e2e-side-bad', { body: { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' }, sidecars: [{ name: 'db', image: 'postgres:fail-start', port: 5432 }] } });
    expect(put.status).toBe(201);
    const failed = await waitFor('e2e-side-bad', isStatus('FAILED', 'RUNNING'));
    expect(failed.status).toBe('FAILED');
    expect(failed.operation.error).toMatchObject({ code: 'TASK_EXITED', message: 'the sidecar db exited with exit code 1' });
    // its logs hold the sidecar's lines beside the app's
    const logs = await api('GET', failed.operation.error.logs);
    expect(logs.status).toBe(200);
    const lines: { message: string; container: string }[] = logs.body.items;
    expect(lines).toContainEqual(expect.objectContaining({ container: 'db', message: 'exiting with code 1' }));
    expect(lines.some((l) => l.container === 'app')).toBe(true);
    // compensation removed the rule and target group; the service is deleted (DRAINING until ECS forgets it)
    const resources = await api('GET', '/_local/resources');
    expect(resources.body.targetGroups.filter((t: { environment?: string }) => t.environment === 'e2e-side-bad')).toEqual([]);
    expect(resources.body.services.filter((s: { name: string; status: string }) => s.name === 'e2e-side-bad' && s.status === 'ACTIVE')).toEqual([]);
  });

  it('a task too small for its sidecars is a 400 naming the Fargate sizes that fit, and creates nothing', async () => {
    const sidecars = ['a', 'b', 'c'].map((name) => ({ name, image: 'redis:7' }));
    const refused = await api('PUT', '/v1/environments/e2e-side-small', { body: { image: 'nginx:1.27', sidecars } });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toMatch(/cannot hold the app and 3 sidecars.*Fargate sizes that fit: cpu 256 with memory 1024 or 2048/);
    expect(refused.body.errors).toEqual([{ path: 'memory', message: expect.stringMatching(/need at least 640 MiB/) }]);
    expect((await api('GET', '/v1/environments/e2e-side-small')).status).toBe(404);
    expect((await api('PUT', '/v1/environments/e2e-side-small', { body: { image: 'nginx:1.27', memory: 1024, sidecars, hooks: { afterCreate: { command: [''] } } } })).status).toBe(400);
  });
});
