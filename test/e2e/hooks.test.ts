/**
 * Hooks end to end in local mode, over HTTP: a seed hook that succeeds (RUNNING, its `hook`
 * event with exit code 0, its output in the environment's logs) and one that fails (FAILED with
 * HOOK_FAILED, the message naming where the logs are, the create compensated: nothing left in
 * `GET /_local/resources`); the update hooks on a spec change the scale workflow deploys (an image PATCH
 * with autoscaling, an image PATCH that wakes a SLEEPING environment).
 */
import { describe, expect, it } from 'vitest';
import { isStatus, reached, useLocalServer } from './local-api.ts';

const { api, waitFor } = useLocalServer();

type Event = { type: string; message: string; details?: Record<string, unknown> };
type Line = { message: string; task: string };

describe('hooks in local mode', () => {
  it('a seed hook that succeeds: RUNNING, the event hook with exit code 0, the hook\'s output in the logs', async () => {
    const body = { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' }, hooks: { afterCreate: { command: ['seed-db', '--small'] } } };
    expect((await api('PUT', '/v1/environments/e2e-hook-seed', { body })).status).toBe(201);
    const env = await waitFor('e2e-hook-seed', isStatus('RUNNING', 'FAILED'));
    expect(env.status).toBe('RUNNING');
    expect(env.hooks).toEqual({ afterCreate: { command: ['seed-db', '--small'], timeoutSeconds: 600 } });
    const events: Event[] = (await api('GET', '/v1/environments/e2e-hook-seed/events')).body.items;
    const hook = events.find((e) => e.type === 'hook');
    expect(hook).toMatchObject({ details: { hook: 'afterCreate', exitCode: 0, durationSeconds: expect.any(Number), logStream: expect.stringMatching(/^fledge\/app\/[0-9a-f]{32}$/) } });
    const hookTask = (hook!.details!.logStream as string).split('/')[2];
    const logs = await reached(
      async () => (await api('GET', '/v1/environments/e2e-hook-seed/logs?limit=1000')).body.items as Line[],
      (lines) => lines.some((l) => l.task === hookTask),
      10_000, 100, 'the hook task\'s lines',
    );
    expect(logs.filter((l) => l.task === hookTask).map((l) => l.message)).toContain('running: seed-db --small');
  });

  it('a seed hook that fails: FAILED with HOOK_FAILED and where its logs are, nothing left behind', async () => {
    const body = { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' }, hooks: { afterCreate: { command: ['fail-seed'] } } };
    expect((await api('PUT', '/v1/environments/e2e-hook-broken', { body })).status).toBe(201);
    const env = await waitFor('e2e-hook-broken', isStatus('RUNNING', 'FAILED'));
    expect(env.status).toBe('FAILED');
    expect(env.operation.error.code).toBe('HOOK_FAILED');
    const message: string = env.operation.error.message;
    expect(message).toMatch(/^the afterCreate hook exited with code 1 after \d+ s; its logs: GET \/v1\/environments\/e2e-hook-broken\/logs\?since=/);
    expect(message).not.toMatch(/arn:aws|000000000000/);
    // the link in the message shows the hook's own output
    const where = message.slice(message.indexOf('GET ') + 4);
    const lines: Line[] = (await api('GET', where)).body.items;
    expect(lines.map((l) => l.message)).toContain('Error: the command failed (simulated)');
    const resources = await reached(
      async () => (await api('GET', '/_local/resources')).body,
      (r) => !r.services.some((s: { name: string; status: string }) => s.name === 'e2e-hook-broken' && s.status === 'ACTIVE'),
      10_000, 100, 'the service removed',
    );
    expect(JSON.stringify(resources.targetGroups)).not.toContain('e2e-hook-broken');
    expect(JSON.stringify(resources.listenerRules)).not.toContain('e2e-hook-broken');
  });

  it('a PATCH of the image with autoscaling (the scale workflow) runs the beforeUpdate hook: failing, the operation fails with HOOK_FAILED and the previous image serves', async () => {
    const body = { image: 'nginx:1.27', port: 80, labels: { repository: 'org/e2e' }, hooks: { beforeUpdate: { command: ['fail'] } } };
    expect((await api('PUT', '/v1/environments/e2e-hook-scale', { body })).status).toBe(201);
    expect((await waitFor('e2e-hook-scale', isStatus('RUNNING', 'FAILED'))).status).toBe('RUNNING');
    const patched = await api('PATCH', '/v1/environments/e2e-hook-scale', { body: { image: 'nginx:1.28', autoscaling: { minCount: 1, maxCount: 2, targetCpuPercent: 60 } } });
    expect(patched.status).toBe(202);
    const env = await waitFor('e2e-hook-scale', (e) => e.operation?.status !== 'RUNNING');
    expect(env).toMatchObject({ status: 'RUNNING', lastHealthyImage: 'nginx:1.27', operation: { status: 'FAILED', error: { code: 'HOOK_FAILED' } } });
    const events: Event[] = (await api('GET', '/v1/environments/e2e-hook-scale/events')).body.items;
    expect(events.find((e) => e.type === 'hook')).toMatchObject({ details: { hook: 'beforeUpdate', exitCode: 1 } });
  });

  it('an image PATCH on a SLEEPING environment wakes it on the new image after its beforeUpdate hook, and runs afterUpdate', async () => {
    const hooks = { beforeUpdate: { command: ['migrate'] }, afterUpdate: { command: ['warm'] } };
    const body = { image: 'nginx:1.27', port: 80, desiredCount: 0, labels: { repository: 'org/e2e' }, hooks };
    expect((await api('PUT', '/v1/environments/e2e-hook-wake', { body })).status).toBe(201);
    expect((await waitFor('e2e-hook-wake', isStatus('SLEEPING', 'RUNNING', 'FAILED'))).status).toBe('SLEEPING');
    expect((await api('PATCH', '/v1/environments/e2e-hook-wake', { body: { image: 'nginx:1.28' } })).status).toBe(202);
    const env = await waitFor('e2e-hook-wake', (e) => e.operation?.status !== 'RUNNING');
    expect(env).toMatchObject({ status: 'RUNNING', lastHealthyImage: 'nginx:1.28', operation: { status: 'SUCCEEDED' } });
    const events: Event[] = (await api('GET', '/v1/environments/e2e-hook-wake/events')).body.items;
    expect(events.filter((e) => e.type === 'hook').map((e) => [e.details!.hook, e.details!.exitCode])).toEqual([['afterUpdate', 0], ['beforeUpdate', 0]]);
  });
});
