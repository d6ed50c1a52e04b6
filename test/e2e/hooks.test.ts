/**
 * Hooks end to end in local mode, over HTTP: a seed hook that succeeds (RUNNING, its `hook`
 * event with exit code 0, its output in the environment's logs) and one that fails (FAILED with
 * HOOK_FAILED, the message naming where the logs are, the create compensated: nothing left in
 * `GET /_local/resources`).
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
});
