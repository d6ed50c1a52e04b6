/**
 * The `fledge` CLI as a pipeline runs it (`bin/fledge.mjs`, a child process without a
 * terminal) against local mode: `up --wait` to RUNNING with the URL last, a failing image
 * (exit 1, typed code, reason, log lines), Ctrl-C during --wait (exit 130, the environment
 * keeps going), an unreachable endpoint, 401 and 403 (one line, exit 2), `prune` (exactly
 * the environments not kept), `--json` (one value that parses), and `npx fledge` from the
 * repository root.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { localOwnerId } from '../../infra/local/local-issuer.ts';
import { freePort } from './local-server.ts';
import { isStatus, useLocalServer } from './local-api.ts';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(REPO_ROOT, 'bin', 'fledge.mjs');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: Record<string, string>;
  /** called with stderr so far on every chunk, and the child (to signal it) */
  onStderr?: (stderr: string, child: ReturnType<typeof spawn>) => void;
  command?: string[];
}

/** `fledge <args>` with no terminal, no colours, no inherited FLEDGE_* settings */
function fledge(args: string[], options: RunOptions = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', CI: 'true', ...options.env };
  delete env.FORCE_COLOR;
  if (!options.env?.FLEDGE_TOKEN) delete env.FLEDGE_TOKEN;
  if (!options.env?.FLEDGE_ENDPOINT) delete env.FLEDGE_ENDPOINT;
  env.PATH = `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`;
  const [command, ...prefix] = options.command ?? [process.execPath, BIN];
  return new Promise((resolve, reject) => {
    const child = spawn(command!, [...prefix, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

describe('fledge against local mode', () => {
  const local = useLocalServer();
  const at = (...args: string[]) => ['--endpoint', local.server().url, ...args];

  it('up --wait reaches RUNNING, shows progress as plain lines in CI, and prints the URL last', async () => {
    const run = await fledge(at('up', 'cli-up', '--image', 'nginx:latest', '--port', '80', '--label', 'repository=acme/cli', '--env', 'GREETING=a=b', '--wait'));
    expect(run.code, run.stderr).toBe(0);
    const out = lines(run.stdout);
    expect(out.at(-1)).toBe(`http://cli-up.localhost:${local.server().port}`);
    expect(out[0]).toMatch(/^✓ cli-up RUNNING in \d+s \(nginx:latest, 1 task\)$/);
    // one plain line per change, the first while it is still being created, the last RUNNING
    const progress = lines(run.stderr);
    expect(progress[0]).toMatch(/^\[\d+s\] cli-up CREATING · create RUNNING/);
    expect(progress.at(-1)).toMatch(/cli-up RUNNING · create SUCCEEDED · tasks 1\/1$/);
    expect(new Set(progress).size).toBe(progress.length);
    const env = (await local.api('GET', '/v1/environments/cli-up')).body;
    expect(env.environment).toEqual({ GREETING: 'a=b' });
    expect(env.labels).toEqual({ repository: 'acme/cli' });
  });

  it('a fail-start image exits 1 with the typed code and the reason', async () => {
    const run = await fledge(at('up', 'cli-fail', '--image', 'nginx:fail-start', '--port', '80', '--wait'));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/✗ cli-fail FAILED: TASK_EXITED: the container exited with exit code 1/);
    expect(run.stderr).toContain('more: fledge logs cli-fail --since ');
  });

  // needs GET /v1/environments/{name}/logs (the logs route of issue 13): without it the CLI says
  // "logs unavailable" and this test fails
  it('a fail-start image prints the last log lines of the failed start (text and --json)', async () => {
    const run = await fledge(at('up', 'cli-fail-logs', '--image', 'nginx:fail-start', '--port', '80', '--wait'));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).not.toContain('logs unavailable');
    const after = run.stderr.split('last log lines:\n')[1];
    expect(after, run.stderr).toBeDefined();
    expect(lines(after!).filter((line) => /^ {4}\d{4}-\d\d-\d\dT/.test(line)).length).toBeGreaterThan(0);

    const json = await fledge(at('--json', 'status', 'cli-fail-logs'));
    expect(json.code).toBe(1);
    const view = JSON.parse(json.stdout);
    expect(view.failure.logs.length).toBeGreaterThan(0);
  });

  it('--json: up --wait and status print one JSON value: the view, and on failure {code, reason, logs}', async () => {
    const failed = await fledge(at('--json', 'up', 'cli-json', '--image', 'nginx:fail-start', '--port', '80', '--wait'));
    expect(failed.code, failed.stderr).toBe(1);
    const view = JSON.parse(failed.stdout);
    expect(view).toMatchObject({ name: 'cli-json', status: 'FAILED', operation: { type: 'create', status: 'FAILED' } });
    expect(view.failure).toMatchObject({ code: 'TASK_EXITED', reason: 'the container exited with exit code 1' });
    expect(Array.isArray(view.failure.logs)).toBe(true);

    const ok = await fledge(at('--json', 'status', 'cli-up'));
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'cli-up', status: 'RUNNING', url: expect.stringContaining('cli-up') });
    for (const args of [['ls'], ['events', 'cli-up'], ['open', 'cli-up']]) {
      const run = await fledge(at('--json', ...args));
      expect(run.code, run.stderr).toBe(0);
      expect(() => JSON.parse(run.stdout), run.stdout).not.toThrow();
    }
  });

  it('Ctrl-C during up --wait stops waiting (exit 130, one clear line) and the environment keeps going', async () => {
    let sent = false;
    const run = await fledge(at('up', 'cli-sigint', '--image', 'nginx:latest', '--port', '80', '--wait'), {
      onStderr: (stderr, child) => {
        // the first progress line: the create is under way
        if (!sent && /cli-sigint CREATING/.test(stderr)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    expect(lines(run.stderr).at(-1)).toBe('stopped waiting; cli-sigint keeps going: fledge status cli-sigint');
    expect(run.stdout).toBe('');
    const env = await local.waitFor('cli-sigint', isStatus('RUNNING'), 60_000);
    expect(env.operation).toMatchObject({ type: 'create', status: 'SUCCEEDED' });
  });

  it('an unreachable endpoint is one line on stderr and exit 2', async () => {
    const port = await freePort();
    const run = await fledge(['--endpoint', `http://127.0.0.1:${port}`, 'up', 'cli-x', '--image', 'nginx:latest', '--wait']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual([`fledge: cannot reach 127.0.0.1:${port}: connection refused (is the endpoint right, and is the API running?)`]);
  });

  it('a 4xx is one line naming the problem (for a 400 its field paths) and exit 2', async () => {
    const invalid = await fledge(at('up', 'cli-bad', '--image', 'nginx:latest', '--cpu', '256', '--memory', '4096'));
    expect(invalid.code).toBe(2);
    expect(lines(invalid.stderr)).toEqual([expect.stringMatching(/^fledge: PUT \/v1\/environments\/cli-bad: 400 Invalid request: .*\(memory: memory 4096 is not valid with cpu 256/)]);
    const unknown = await fledge(at('status', 'cli-nobody'));
    expect(unknown.code).toBe(2);
    expect(lines(unknown.stderr)).toEqual(['fledge: GET /v1/environments/cli-nobody: 404 Environment not found: no environment named "cli-nobody"']);
  });

  it('prune deletes exactly the repository\'s environments that are not kept', async () => {
    const put = (name: string, labels: Record<string, string>) =>
      local.api('PUT', `/v1/environments/${name}`, { body: { image: 'nginx:latest', port: 80, labels } });
    const repo = { repository: 'acme/prune' };
    const created = await Promise.all([
      put('pr-11', repo), put('pr-12', repo), put('pr-13', repo), put('preview-x', { ...repo, pullRequest: '12' }),
      put('preview-y', repo), put('old-branch', repo), put('pr-99', { repository: 'acme/other' }),
    ]);
    expect(created.map((a) => a.status)).toEqual(Array(7).fill(201));

    const dry = await fledge(at('--json', 'prune', '--repository', 'acme/prune', '--keep', '11,preview-y', '--keep', '#12', '--dry-run'));
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, deleted: [] });
    expect(JSON.parse(dry.stdout).wouldDelete.sort()).toEqual(['old-branch', 'pr-13']);

    const run = await fledge(at('--json', 'prune', '--repository', 'acme/prune', '--keep', '11,preview-y', '--keep', '12'));
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.deleted.sort()).toEqual(['old-branch', 'pr-13']);
    expect(result.kept.sort()).toEqual(['pr-11', 'pr-12', 'preview-x', 'preview-y']);
    for (const name of ['old-branch', 'pr-13']) await local.waitFor(name, isStatus('DELETED'), 60_000);
    for (const name of ['pr-11', 'pr-12', 'preview-x', 'preview-y', 'pr-99']) {
      expect((await local.api('GET', `/v1/environments/${name}`)).body.status).not.toMatch(/DELET/);
    }
  });

  it('sleep --wait, wake --wait (back to the count it slept from), scale and heal', async () => {
    const scaled = await fledge(at('scale', 'cli-up', '2', '--wait'));
    expect(scaled.code, scaled.stderr).toBe(0);
    expect(lines(scaled.stdout)[0]).toMatch(/^✓ cli-up RUNNING in \d+s \(nginx:latest, 2 tasks\)$/);
    const slept = await fledge(at('sleep', 'cli-up', '--wait'));
    expect(slept.code, slept.stderr).toBe(0);
    expect(lines(slept.stdout)[0]).toMatch(/^✓ cli-up SLEEPING in \d+s/);
    const woken = await fledge(at('--json', 'wake', 'cli-up', '--wait'));
    expect(woken.code, woken.stderr).toBe(0);
    expect(JSON.parse(woken.stdout)).toMatchObject({ status: 'RUNNING', desiredCount: 2, runningCount: 2 });
    const healed = await fledge(at('heal', 'cli-up', '--wait'));
    expect(healed.code, healed.stderr).toBe(0);
    expect(lines(healed.stdout).at(-1)).toBe(`http://cli-up.localhost:${local.server().port}`);
  });

  it('down --wait deletes and says so', async () => {
    const run = await fledge(at('down', 'cli-up', '--wait'));
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toEqual([expect.stringMatching(/^✓ cli-up deleted in \d+s$/)]);
  });

  it('runs as `npx fledge` from the repository root', async () => {
    const run = await fledge(['--help'], { command: ['npx', '--no-install', 'fledge'] });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Usage: fledge \[options\] \[command\]/);
  });
});

describe('fledge against local mode with --auth oidc', () => {
  const local = useLocalServer({ FLEDGE_OIDC_OWNERS: localOwnerId('acme') }, { auth: 'oidc' });

  it('no token: the 401 is one line and exit 2', async () => {
    const run = await fledge(['--endpoint', local.server().url, 'ls']);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([expect.stringMatching(/^fledge: GET \/v1\/environments\?limit=100: 401 Unauthorized \(the API refused the credentials/)]);
  });

  it('a token of another owner: the 403 is one line and exit 2; a token of acme works', async () => {
    const token = async (repository: string) => (await local.api('POST', '/_local/token', { body: { repository } })).body.token as string;
    const refused = await fledge(['--endpoint', local.server().url, 'ls'], { env: { FLEDGE_TOKEN: await token('evil/web') } });
    expect(refused.code).toBe(2);
    expect(lines(refused.stderr)).toEqual([expect.stringMatching(/^fledge: GET \/v1\/environments\?limit=100: 403 /)]);
    const allowed = await fledge(['--endpoint', local.server().url, '--json', 'ls'], { env: { FLEDGE_TOKEN: await token('acme/web') } });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout)).toEqual({ items: [] });
  });
});
