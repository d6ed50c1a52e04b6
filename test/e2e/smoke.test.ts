/**
 * The smoke test of a deployed Fledge (`npm run smoke`, cli/smoke.ts) run against local
 * mode: once in-process (every step, line by line), once as the operator runs it
 * (`npm run smoke -- --endpoint ... --yes`, exit code 0), once with an image that fails at
 * start (exit 1, the typed error printed, nothing left behind), and once without a
 * terminal and without --yes (exit 2, nothing created).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../cli/smoke.ts';
import { FledgeApi } from '../../cli/api-client.ts';
import { LocalOutOfBand } from '../../cli/smoke/backends.ts';
import { runSmoke, STEPS } from '../../cli/smoke/steps.ts';
import { eventually, useLocalServer } from './local-api.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// a 1 s heal backoff, as test/e2e/heal.test.ts (the simulator timings are the harness's fast ones)
const local = useLocalServer({ FLEDGE_HEAL_BACKOFF: '1s' });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run smoke -- <args>` as an operator (or CI) runs it: no terminal on stdin */
function smokeCli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'smoke', '--', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function leftOf(name: string): Promise<unknown[]> {
  const resources = (await local.api('GET', '/_local/resources')).body as Record<string, unknown>;
  return Object.values(resources)
    .filter(Array.isArray)
    .flat()
    .filter((r) => (r as { environment?: string }).environment === name);
}

describe('npm run smoke against local mode', () => {
  it('takes an environment through every step in-process, one line per step, and leaves nothing behind', async () => {
    const api = new FledgeApi(local.server().url);
    expect(await LocalOutOfBand.detect(api)).toBe(true);
    const lines: string[] = [];
    const started = Date.now();
    const result = await runSmoke(
      { name: 'smoke-inproc', image: 'public.ecr.aws/nginx/nginx:stable', port: 80, stepTimeoutMs: 30_000, pollMs: 50, keep: false },
      { api, backend: new LocalOutOfBand(api), log: (line) => lines.push(line) },
    );
    process.stdout.write(`\n[smoke in-process, local mode: ${Date.now() - started} ms]\n${lines.join('\n')}\n`);
    expect(result, lines.join('\n')).toMatchObject({ ok: true });
    expect(result.steps.map((s) => s.step)).toEqual([...STEPS]);
    STEPS.forEach((step, i) => expect(lines[i]).toMatch(new RegExp(`^ok +${i + 1}/9 ${step} +\\d+\\.\\d s  \\S`)));
    expect(lines.at(-1)).toMatch(/^smoke passed: 9 steps in \d+\.\d s$/);
    const detail = Object.fromEntries(result.steps.map((s) => [s.step, s.detail]));
    expect(detail.create).toMatch(/^RUNNING at http:\/\/smoke-inproc\.localhost:\d+/);
    expect(detail.wake).toMatch(/^503 "Waking up smoke-inproc.*" \(Retry-After: 5\); RUNNING and GET .* -> 200/);
    expect(detail.heal).toMatch(/HEALING after .* RUNNING after .*repairs recreate-service/);
    expect(detail.delete).toMatch(/^\d+ resources tagged fledge:environment=smoke-inproc before; DELETED; receipt: removed \d+ \(ecs-service, listener-rule, target-group/);

    // what the smoke saw, from the outside: the history and the simulated account
    const history = (await local.api('GET', '/v1/environments/smoke-inproc/events?limit=100')).body.items as { type: string; actor: string }[];
    expect(history[0]!.type).toBe('deleted');
    expect(history.map((e) => e.type)).toEqual(expect.arrayContaining(['slept', 'woken', 'heal-triggered', 'heal-repair', 'updated']));
    expect(history.find((e) => e.type === 'heal-triggered')!.actor).toBe('system');
    expect(await leftOf('smoke-inproc')).toEqual([]);
  }, 120_000);

  it('`npm run smoke -- --endpoint <url> --yes` passes with exit code 0', async () => {
    const run = await smokeCli(['--endpoint', local.server().url, '--yes', '--timeout', '30', '--name', 'smoke-cli']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('cost         none: local mode creates nothing on AWS');
    for (const [i, step] of STEPS.entries()) expect(run.stdout).toMatch(new RegExp(`^ok +${i + 1}/9 ${step} `, 'm'));
    expect(run.stdout).toMatch(/^smoke passed: 9 steps/m);
    expect(await leftOf('smoke-cli')).toEqual([]);
  }, 60_000);

  it('an image that exits at start: exit 1, the step and the typed error printed, the environment deleted and nothing left', async () => {
    const run = await smokeCli(['--endpoint', local.server().url, '--yes', '--timeout', '30', '--name', 'smoke-broken', '--image', 'nginx:fail-start']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toMatch(/^ok +1\/9 health/m);
    expect(run.stdout).toMatch(/^FAILED 2\/9 create +\d+\.\d s {2}environment is FAILED: TASK_EXITED: /m);
    expect(run.stdout).toMatch(/^ {2}environment smoke-broken: status FAILED; operation create FAILED; error TASK_EXITED: /m);
    expect(run.stdout).toMatch(/^cleanup: smoke-broken DELETED and nothing of it is left/m);
    expect(run.stderr).toContain('smoke FAILED at step create');
    expect(run.stderr).toContain('(error code TASK_EXITED)');
    expect((await local.api('GET', '/v1/environments/smoke-broken')).body.status).toBe('DELETED');
    expect(await eventually(() => leftOf('smoke-broken'), (left) => left.length === 0, 5_000)).toEqual([]);
  }, 60_000);

  it('refuses without a terminal and without --yes: exit 2, nothing created', async () => {
    const run = await smokeCli(['--endpoint', local.server().url, '--name', 'smoke-refused']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(2);
    expect(run.stderr).toContain('refusing to run');
    expect(run.stderr).toContain('--yes');
    expect((await local.api('GET', '/v1/environments/smoke-refused')).status).toBe(404);
    expect(await leftOf('smoke-refused')).toEqual([]);
  }, 30_000);

  it('asks on a terminal: anything but yes is exit 2 and creates nothing', async () => {
    const out: string[] = [];
    const questions: string[] = [];
    const io: CliIo = {
      out: (line) => out.push(line),
      err: (line) => out.push(line),
      interactive: true,
      ask: async (question) => {
        questions.push(question);
        return 'n';
      },
      env: {},
    };
    expect(await main(['--endpoint', local.server().url, '--name', 'smoke-declined'], io)).toBe(2);
    expect(questions).toEqual(['Create the environment and run the smoke test? [y/N] ']);
    expect(out.at(-1)).toBe('smoke: not confirmed; nothing was created');
    expect((await local.api('GET', '/v1/environments/smoke-declined')).status).toBe(404);
  });
});
