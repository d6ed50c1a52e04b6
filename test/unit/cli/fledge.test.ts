/**
 * The `fledge` CLI without a server: its argument parsing (bad --env K=V, bad counts, keep
 * lists, durations), what it prints (progress, environments, failures, problems), its
 * auth choice, prune's plan, --wait's ending rules and its polling (backoff, Retry-After).
 */
import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { main } from '../../../cli/fledge.ts';
import { durationMs, integerIn, keyValue, listOf, since } from '../../../cli/fledge/arguments.ts';
import { browserCommand } from '../../../cli/fledge/browser.ts';
import { upBody, wakeCountFrom, type FledgeIo } from '../../../cli/fledge/commands.ts';
import { Api, authFor, CliError, describeNetworkError, describeProblem, retryAfterMs } from '../../../cli/fledge/connection.ts';
import { formatElapsed, formatEnvironment, formatFailure, formatList, formatLogLine, progressLine, type EnvironmentView } from '../../../cli/fledge/format.ts';
import { follow, lastLines, logsPath } from '../../../cli/fledge/logs.ts';
import { isCi, plainReporter } from '../../../cli/fledge/progress.ts';
import { planPrune } from '../../../cli/fledge/prune.ts';
import { outcomeOf, waitFor } from '../../../cli/fledge/wait.ts';
import type { ApiAnswer, FledgeApi } from '../../../cli/api-client.ts';

const plain = pc.createColors(false);

/** runs `fledge <argv>` in-process; returns the exit code and what it printed */
async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: FledgeIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env,
    platform: 'linux',
    onInterrupt: () => () => {},
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const view = (over: Partial<EnvironmentView> = {}): EnvironmentView => ({
  name: 'pr-7', image: 'ghcr.io/acme/web:abc', status: 'RUNNING', url: 'https://pr-7.preview.example.com', runningCount: 1, desiredCount: 1,
  operation: { id: 'op-1', type: 'create', status: 'SUCCEEDED', startedAt: '2026-01-31T12:00:00.000Z', finishedAt: '2026-01-31T12:01:00.000Z', error: null },
  ...over,
});

describe('argument parsing', () => {
  it('--env K=V: splits at the first =, accumulates, refuses a missing = or key and a key given twice', () => {
    const parse = keyValue('--env');
    expect(parse('B=x=y', parse('A=1', undefined))).toEqual({ A: '1', B: 'x=y' });
    expect(parse('EMPTY=', undefined)).toEqual({ EMPTY: '' });
    expect(() => parse('FOO', undefined)).toThrow('--env expects KEY=VALUE, got "FOO"');
    expect(() => parse('=v', undefined)).toThrow('--env expects KEY=VALUE');
    expect(() => parse('A=2', { A: '1' })).toThrow('--env A is given twice');
  });

  it('counts and ports are whole numbers in range', () => {
    const count = integerIn('the task count', 0, 10);
    expect(count('0')).toBe(0);
    expect(count('10')).toBe(10);
    for (const bad of ['11', '-1', '1.5', 'two', '', ' ', '0x2', '1e1', '0b11']) expect(() => count(bad)).toThrow(/the task count must be a whole number from 0 to 10/);
  });

  it('--keep takes comma-separated and repeated entries', () => {
    expect(listOf('12', listOf(' a, b ,,', undefined))).toEqual(['a', 'b', '12']);
    expect(listOf('', undefined)).toEqual([]);
  });

  it('--keep also splits on white space (gh prints one number a line) and refuses what would keep nothing', () => {
    expect(listOf('12\n13 #14\tmain', undefined)).toEqual(['12', '13', '#14', 'main']);
    for (const bad of ['PR-12', 'pr_12', '12;13', 'a/b']) expect(() => listOf(bad, undefined)).toThrow(`--keep takes pull request numbers and environment names, got "${bad}"`);
  });

  it('--since takes a duration ago or an ISO time; --timeout durations', () => {
    const now = () => Date.parse('2026-01-31T12:00:00Z');
    expect(since(now)('10m')).toBe('2026-01-31T11:50:00.000Z');
    expect(since(now)('2026-01-30T08:00:00+01:00')).toBe('2026-01-30T07:00:00.000Z');
    expect(() => since(now)('yesterday')).toThrow(/--since must be a duration/);
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('2h')).toBe(7_200_000);
    expect(durationMs('2 hours')).toBeUndefined();
  });

  it('a bad option is exit 2 with commander\'s message naming it, before any request', async () => {
    const bad = await cli(['up', 'pr-1', '--image', 'nginx', '--env', 'NOVALUE']);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/option '--env <KEY=VALUE>' argument 'NOVALUE' is invalid\. --env expects KEY=VALUE/);
    const count = await cli(['scale', 'pr-1', 'many']);
    expect(count.code).toBe(2);
    expect(count.err[0]).toMatch(/the task count must be a whole number from 0 to 10, got "many"/);
    expect((await cli(['up', 'pr-1'])).err[0]).toMatch(/required option '--image <image>'/);
    expect((await cli(['nonsense'])).code).toBe(2);
    expect((await cli(['--help'])).code).toBe(0);
  });

  it('no endpoint, or one that is not http(s), is one line and exit 2', async () => {
    expect(await cli(['status', 'pr-1'])).toMatchObject({ code: 2, err: [expect.stringMatching(/^fledge: no endpoint: pass --endpoint <url> or set FLEDGE_ENDPOINT/)] });
    expect(await cli(['status', 'pr-1'], { FLEDGE_ENDPOINT: 'ftp://x' })).toMatchObject({ code: 2, err: ['fledge: the endpoint ftp://x is not an http(s) URL'] });
    expect(await cli(['--endpoint', 'https://api.example.com', 'status', 'pr-1'])).toMatchObject({ code: 2, err: [expect.stringMatching(/cannot tell the AWS region of api.example.com/)] });
  });

  it('with --json a failure still prints one JSON value on stdout, naming the error and the exit code', async () => {
    const failed = await cli(['status', 'pr-1', '--json'], { FLEDGE_ENDPOINT: 'ftp://x' });
    expect(failed.code).toBe(2);
    expect(failed.out.map((line) => JSON.parse(line))).toEqual([{ error: { message: 'the endpoint ftp://x is not an http(s) URL', exitCode: 2 } }]);
  });

  it('up sends only the fields given, under the API\'s names', () => {
    expect(upBody({ image: 'nginx', timeout: 1 })).toEqual({ image: 'nginx' });
    expect(upBody({ image: 'nginx', port: 80, count: 2, cpu: 512, memory: 1024, ttl: '7d', env: { A: '1' }, secret: { S: 'arn' }, label: { repository: 'acme/web' }, timeout: 1 }))
      .toEqual({ image: 'nginx', port: 80, desiredCount: 2, cpu: 512, memory: 1024, ttl: '7d', environment: { A: '1' }, secrets: { S: 'arn' }, labels: { repository: 'acme/web' } });
  });
});

describe('auth', () => {
  const url = (u: string) => new URL(u);
  it('FLEDGE_TOKEN wins; loopback is unsigned; otherwise SigV4 with the region of the endpoint, --region or AWS_REGION', () => {
    expect(authFor(url('https://abc.execute-api.eu-west-1.amazonaws.com/'), { FLEDGE_TOKEN: 't' })).toEqual({ kind: 'bearer' });
    expect(authFor(url('http://127.0.0.1:4000'), {})).toEqual({ kind: 'none' });
    expect(authFor(url('http://localhost:4000'), {})).toEqual({ kind: 'none' });
    expect(authFor(url('https://abc.execute-api.eu-west-1.amazonaws.com/'), {})).toEqual({ kind: 'sigv4', region: 'eu-west-1' });
    expect(authFor(url('https://api.example.com'), { AWS_REGION: 'us-east-1' })).toEqual({ kind: 'sigv4', region: 'us-east-1' });
    expect(authFor(url('https://api.example.com'), { AWS_REGION: 'us-east-1' }, 'eu-north-1')).toEqual({ kind: 'sigv4', region: 'eu-north-1' });
    expect(() => authFor(url('https://api.example.com'), {})).toThrow(CliError);
  });
});

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): ApiAnswer => ({ status, body, text: JSON.stringify(body), headers: new Headers(headers) });

describe('errors are one line', () => {
  it('a problem: status, title, detail and a 400\'s field paths; API Gateway\'s {message}', () => {
    expect(describeProblem(answer(400, { title: 'Invalid request', detail: 'the environment spec is invalid', errors: [{ path: 'port', message: 'too big' }, { path: 'environment.A', message: 'bad' }] })))
      .toBe('400 Invalid request: the environment spec is invalid (port: too big; environment.A: bad)');
    expect(describeProblem(answer(401, { message: 'Unauthorized' }))).toBe('401 Unauthorized (the API refused the credentials: check FLEDGE_TOKEN or the AWS credentials)');
    expect(describeProblem(answer(403, { message: 'Forbidden' }))).toBe('403 Forbidden (the caller may not use this API or this environment)');
    expect(describeProblem(answer(403, { title: 'Forbidden', detail: 'tokens of owner evil are not accepted' }))).toBe('403 Forbidden: tokens of owner evil are not accepted');
  });

  it('network failures in plain words', () => {
    const endpoint = new URL('https://api.example.com');
    const failed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: { code, message: code } });
    expect(describeNetworkError(failed('ECONNREFUSED'), endpoint)).toMatch(/^cannot reach api.example.com: connection refused/);
    expect(describeNetworkError(failed('ENOTFOUND'), endpoint)).toBe('cannot reach api.example.com: the host name does not resolve (DNS)');
    expect(describeNetworkError(Object.assign(new Error('t'), { name: 'TimeoutError' }), endpoint)).toBe('cannot reach api.example.com: no answer in time');
    expect(describeNetworkError(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), endpoint))
      .toMatch(/^no AWS credentials to sign the request with/);
  });

  it('a 2xx that is not JSON (a login page, a truncated body) is not the Fledge API: a CliError, not a TypeError', async () => {
    const endpoint = new URL('http://127.0.0.1');
    const answering = (status: number, text: string, type?: string) =>
      new Api({ call: async () => ({ status, text, body: undefined, headers: new Headers(type ? { 'content-type': type } : {}) }) } as unknown as FledgeApi, endpoint);
    await expect(answering(200, '<html>login</html>', 'text/html').send('GET', '/v1/environments/x')).rejects.toThrow(
      new CliError('GET /v1/environments/x: 200 with text/html, not the Fledge API\'s JSON (is the endpoint the stack\'s ApiUrl or CiApiUrl?)'),
    );
    await expect(answering(200, '').send('GET', '/v1/environments/x')).rejects.toThrow(/200 with an empty body, not the Fledge API's JSON/);
    await expect(answering(500, 'oops', 'text/plain').send('GET', '/v1/environments/x')).resolves.toMatchObject({ status: 500 });
  });

  it('Retry-After in seconds or as a date, capped at a minute', () => {
    expect(retryAfterMs(answer(429, {}, { 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(answer(503, {}, { 'retry-after': 'Sat, 31 Jan 2026 12:00:10 GMT' }), Date.parse('2026-01-31T12:00:00Z'))).toBe(10_000);
    expect(retryAfterMs(answer(429, {}, { 'retry-after': '3600' }))).toBe(60_000);
    expect(retryAfterMs(answer(429, {}))).toBeUndefined();
  });
});

describe('output', () => {
  it('the progress line: elapsed, status, operation and step, tasks', () => {
    expect(progressLine({ name: 'pr-7', status: 'CREATING', operation: 'create RUNNING', step: 'provisioning', runningCount: 0, desiredCount: 1, elapsedMs: 75_000 }, plain))
      .toBe('[1m15s] pr-7 CREATING · create RUNNING: provisioning · tasks 0/1');
    expect(formatElapsed(9_999)).toBe('9s');
  });

  it('plain progress prints a line per change, not per poll', () => {
    const printed: string[] = [];
    const reporter = plainReporter((line) => printed.push(line), plain);
    const p = { name: 'pr-7', status: 'CREATING', operation: 'create RUNNING', runningCount: 0, desiredCount: 1 };
    reporter.update({ ...p, elapsedMs: 1000 });
    reporter.update({ ...p, elapsedMs: 2000 });
    reporter.update({ ...p, status: 'RUNNING', runningCount: 1, elapsedMs: 3000 });
    expect(printed).toEqual(['[1s] pr-7 CREATING · create RUNNING · tasks 0/1', '[3s] pr-7 RUNNING · create RUNNING · tasks 1/1']);
  });

  it('an environment ends with its URL; cost when the API gives one', () => {
    const lines = formatEnvironment(view({ cost: { perHour: 0.0123, toDate: 0.5, currency: 'USD' }, labels: { repository: 'acme/web' } }), plain);
    expect(lines[0]).toBe('pr-7  RUNNING');
    expect(lines).toContain('  cost       $0.0123/h, $0.5000 so far');
    expect(lines).toContain('  labels     repository=acme/web');
    expect(lines.at(-1)).toBe('  url        https://pr-7.preview.example.com');
  });

  it('a failure: the typed code, the reason, the last log lines, where to read more', () => {
    const failed = view({ status: 'FAILED', url: null, operation: { ...view().operation!, status: 'FAILED', error: { code: 'TASK_EXITED', message: 'the container exited with exit code 1' } } });
    const logs = [{ at: '2026-01-31T12:00:05.000Z', message: 'Error: cannot connect to db', task: 'arn:aws:ecs:eu-west-1:1:task/c/0123456789abcdef', container: 'app' }];
    expect(formatFailure(failed, { lines: logs }, plain)).toEqual([
      '✗ pr-7 FAILED: TASK_EXITED: the container exited with exit code 1',
      '  last log lines:',
      '    2026-01-31T12:00:05.000Z [01234567/app] Error: cannot connect to db',
      '  more: fledge logs pr-7 --since 2026-01-31T12:00:00.000Z',
    ]);
    expect(formatFailure(failed, { lines: [], unavailable: '404 Not Found' }, plain)[1]).toBe('  logs unavailable: 404 Not Found');
    expect(formatLogLine({ at: 't', message: 'm' })).toBe('t m');
  });

  it('a list is a table, with the repository total when given', () => {
    expect(formatList([view(), view({ name: 'feature-login-page', url: null, runningCount: 0, desiredCount: 0, status: 'SLEEPING' })], { perHour: 0.01, toDate: 1, currency: 'USD' })).toEqual([
      'NAME                STATUS    TASKS  IMAGE                 URL',
      'pr-7                RUNNING   1/1    ghcr.io/acme/web:abc  https://pr-7.preview.example.com',
      'feature-login-page  SLEEPING  0/0    ghcr.io/acme/web:abc  -',
      'total cost: $0.0100/h, $1.0000 so far',
    ]);
    expect(formatList([])).toEqual(['no environments']);
  });

  it('logs paths carry since, limit and cursor, encoded', () => {
    expect(logsPath('pr-7', { since: '2026-01-31T12:00:00.000Z', limit: 20 })).toBe('/v1/environments/pr-7/logs?since=2026-01-31T12%3A00%3A00.000Z&limit=20');
    expect(logsPath('pr-7', {})).toBe('/v1/environments/pr-7/logs');
  });
});

describe('logs', () => {
  const line = (at: string, message: string) => ({ at, message, task: 't1', container: 'app' });
  const apiOf = (handler: (path: string) => ApiAnswer) => {
    const paths: string[] = [];
    const client = { call: async (_method: string, path: string) => (paths.push(path), handler(path)) } as unknown as FledgeApi;
    return { api: new Api(client, new URL('http://127.0.0.1')), paths };
  };

  it('the last lines of a failure: every page, the last 20 kept; a 404 is "unavailable", not a crash', async () => {
    const all = Array.from({ length: 150 }, (_, i) => line(`2026-01-31T12:00:${String(Math.floor(i / 10)).padStart(2, '0')}.${String(i % 10).padStart(3, '0')}Z`, `line ${i}`));
    const { api, paths } = apiOf((path) => (path.includes('cursor=c2') ? answer(200, { items: all.slice(100) }) : answer(200, { items: all.slice(0, 100), nextCursor: 'c2' })));
    const got = await lastLines(api, 'pr-7', '2026-01-31T12:00:00.000Z');
    expect(got.lines.map((l) => l.message)).toEqual(all.slice(130).map((l) => l.message));
    expect(paths).toEqual(['/v1/environments/pr-7/logs?since=2026-01-31T12%3A00%3A00.000Z&limit=100', '/v1/environments/pr-7/logs?since=2026-01-31T12%3A00%3A00.000Z&limit=100&cursor=c2']);
    const missing = apiOf(() => answer(404, { message: 'Not Found' }));
    expect(await lastLines(missing.api, 'pr-7', 'x')).toEqual({ lines: [], unavailable: expect.stringMatching(/^the API answered 404 Not Found/) });
  });

  it('--follow asks again from the newest line and prints each line once', async () => {
    const rounds = [[line('T1', 'a'), line('T2', 'b')], [line('T2', 'b'), line('T3', 'c')], []];
    const stop = new AbortController();
    const { api, paths } = apiOf(() => {
      const items = rounds.shift() ?? [];
      if (rounds.length === 0) stop.abort();
      return answer(200, { items });
    });
    const printed: string[] = [];
    await follow(api, 'pr-7', undefined, (l) => printed.push(l.message), stop.signal, 1);
    expect(printed).toEqual(['a', 'b', 'c']);
    expect(paths).toEqual(['/v1/environments/pr-7/logs?limit=1000', '/v1/environments/pr-7/logs?since=T2&limit=1000', '/v1/environments/pr-7/logs?since=T3&limit=1000']);
  });
});

describe('prune', () => {
  const items = [
    { name: 'pr-1', status: 'RUNNING' }, { name: 'pr-2', status: 'FAILED' }, { name: 'pr-3', status: 'SLEEPING' },
    { name: 'preview-x', status: 'RUNNING', labels: { pullRequest: '3' } }, { name: 'main', status: 'RUNNING' },
    { name: 'pr-4', status: 'DELETING' },
  ];
  it('keeps names, PR numbers (pr-N and label pullRequest=N), leaves DELETING alone', () => {
    expect(planPrune(items, ['1', '#3', 'main'])).toEqual({ keep: ['pr-1', 'pr-3', 'preview-x', 'main'], remove: ['pr-2'] });
    expect(planPrune(items, [])).toEqual({ keep: [], remove: ['pr-1', 'pr-2', 'pr-3', 'preview-x', 'main'] });
    expect(planPrune(items, ['03'])).toMatchObject({ keep: ['pr-3', 'preview-x'] });
  });
});

describe('--wait', () => {
  it('ends on RUNNING/SLEEPING (done), FAILED/DEGRADED (failed), DELETED; goes on while an operation runs', () => {
    expect(outcomeOf(view(), 'settled')).toBe('done');
    expect(outcomeOf(view({ status: 'SLEEPING' }), 'settled')).toBe('done');
    expect(outcomeOf(view({ status: 'DEGRADED' }), 'settled')).toBe('failed');
    expect(outcomeOf(view({ status: 'CREATING' }), 'settled')).toBeUndefined();
    expect(outcomeOf(view({ status: 'RUNNING' }), 'deleted')).toBeUndefined();
    expect(outcomeOf(view({ status: 'DELETED' }), 'deleted')).toBe('deleted');
  });

  it('backs off while nothing changes, honours Retry-After, rides out a few failures', async () => {
    const answers = [
      answer(200, view({ status: 'CREATING', operation: null })),
      answer(200, view({ status: 'CREATING', operation: null })),
      answer(503, { message: 'Service Unavailable' }, { 'retry-after': '7' }),
      answer(200, view({ status: 'CREATING', operation: null })),
      answer(200, view()),
    ];
    const client = { call: async () => answers.shift()! } as unknown as FledgeApi;
    const pauses: number[] = [];
    let clock = 0;
    const result = await waitFor('pr-7', 'settled', {
      api: new Api(client, new URL('http://127.0.0.1')),
      report: () => {},
      now: () => clock,
      sleep: async (ms) => {
        pauses.push(ms);
        clock += ms;
      },
    }, { timeoutMs: 600_000, firstPollMs: 1000, maxPollMs: 10_000 });
    expect(result.outcome).toBe('done');
    expect(pauses).toEqual([1000, 1500, 7000, 2250]);
  });

  it('gives up at the timeout with the last view', async () => {
    const client = { call: async () => answer(200, view({ status: 'UPDATING', operation: null })) } as unknown as FledgeApi;
    let clock = 0;
    const result = await waitFor('pr-7', 'settled', {
      api: new Api(client, new URL('http://127.0.0.1')), report: () => {}, now: () => clock, sleep: async (ms) => void (clock += ms),
    }, { timeoutMs: 30_000 });
    expect(result).toMatchObject({ outcome: 'timeout', env: { status: 'UPDATING' } });
    expect(clock).toBeLessThanOrEqual(30_001);
  });

  it('a 4xx ends the wait as a CliError', async () => {
    const client = { call: async () => answer(403, { message: 'Forbidden' }) } as unknown as FledgeApi;
    await expect(waitFor('pr-7', 'settled', { api: new Api(client, new URL('http://127.0.0.1')), report: () => {} }, { timeoutMs: 1000 }))
      .rejects.toThrow('GET /v1/environments/pr-7: 403 Forbidden');
  });
});

describe('small rules', () => {
  it('wake restores the count of the newest sleep, else 1', () => {
    expect(wakeCountFrom([{ type: 'scale-requested', details: { from: 1 } }, { type: 'sleep-requested', details: { from: 3 } }, { type: 'sleep-requested', details: { from: 2 } }])).toBe(3);
    expect(wakeCountFrom([])).toBe(1);
  });

  it('a browser only where there is a display and not in CI', () => {
    expect(browserCommand('linux', { DISPLAY: ':0' })).toEqual(['xdg-open']);
    expect(browserCommand('linux', {})).toBeUndefined();
    expect(browserCommand('linux', { DISPLAY: ':0', CI: 'true' })).toBeUndefined();
    expect(browserCommand('darwin', {})).toEqual(['open']);
    expect(isCi({ CI: 'false' })).toBe(false);
  });
});
