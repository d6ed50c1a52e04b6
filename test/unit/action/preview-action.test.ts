/**
 * The Action's GitHub logic against a local fake of GitHub's REST API (test/support/fake-github.ts),
 * driven by the real Octokit client; the `fledge` CLI is a fake runner here (the CLI's own
 * tests run it against local mode).
 */
import { Octokit } from '@octokit/rest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MARKER } from '../../../action/src/comment.ts';
import { parsePullRequestEvent } from '../../../action/src/event.ts';
import type { FledgeResult, FledgeRunner } from '../../../action/src/fledge-runner.ts';
import { readInputs } from '../../../action/src/inputs.ts';
import { runPreviewAction } from '../../../action/src/preview-action.ts';
import { upsertComment } from '../../../action/src/pull-request-comment.ts';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github.ts';

const REPO = 'acme/web';
const PR = 7;
const SHA1 = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const SHA2 = 'ffeeddccbbaa99887766554433221100ffeeddcc';

function pullRequestEvent(action: string, options: { sha?: string; fork?: string | null; labels?: string[]; label?: string } = {}) {
  const headRepo = options.fork === undefined ? REPO : options.fork;
  return parsePullRequestEvent('pull_request', {
    action,
    number: PR,
    ...(options.label ? { label: { name: options.label } } : {}),
    pull_request: {
      number: PR,
      state: action === 'closed' ? 'closed' : 'open',
      labels: (options.labels ?? []).map((name) => ({ id: 1, name })),
      head: { ref: 'feature/login', sha: options.sha ?? SHA1, repo: headRepo === null ? null : { full_name: headRepo } },
      base: { ref: 'main', sha: '0'.repeat(40), repo: { full_name: REPO } },
    },
    repository: { full_name: REPO },
  });
}

const inputs = (extra: Record<string, string> = {}) =>
  readInputs((name) => ({ image: 'ghcr.io/acme/web:pr-7', port: '8080', 'fork-label': 'preview', ...extra })[name] ?? '');

function view(status: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'pr-7',
    image: 'ghcr.io/acme/web:pr-7',
    status,
    url: 'https://pr-7.preview.acme.dev',
    cost: { perHour: 0.0123, toDate: 0.0456, currency: 'USD' },
    ...extra,
  };
}

/** A fake `fledge` CLI: records each run and answers the next scripted result. */
class FakeFledge implements FledgeRunner {
  calls: { args: string[]; timeoutMs: number | undefined }[] = [];
  constructor(private readonly answers: Partial<FledgeResult>[]) {}
  async run(args: string[], options: { timeoutMs?: number } = {}): Promise<FledgeResult> {
    this.calls.push({ args, timeoutMs: options.timeoutMs });
    const answer = this.answers.shift() ?? {};
    return { exitCode: 0, output: undefined, stderr: '', timedOut: false, ...answer };
  }
}

let github: FakeGitHub;
let octokit: Octokit;
let warnings: string[];

beforeEach(async () => {
  github = await startFakeGitHub();
  // quiet: Octokit logs every 4xx it gets, and some tests expect them
  octokit = new Octokit({ auth: github.token, baseUrl: github.url, log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } });
  warnings = [];
});
afterEach(() => github.close());

function deps(fledge: FledgeRunner | (() => Promise<FledgeRunner>)) {
  return {
    octokit,
    fledge: typeof fledge === 'function' ? fledge : async () => fledge,
    log: { info: () => {}, warning: (message: string) => warnings.push(message) },
    runUrl: 'https://github.com/acme/web/actions/runs/1',
  };
}

const marked = () => github.markedComments(PR, MARKER);

describe('a pull request of the repository itself', () => {
  it('runs fledge up --wait with the pull request labels, then creates one comment and a successful deployment', async () => {
    // 130 other comments first: the Action's own is on the second page of 100
    for (let i = 0; i < 130; i++) github.addComment(PR, `review comment ${i}`, { login: 'octocat', type: 'User' });
    const fledge = new FakeFledge([{ exitCode: 0, output: view('RUNNING') }]);

    const outcome = await runPreviewAction(pullRequestEvent('opened'), inputs(), deps(fledge));

    expect(outcome.failure).toBeUndefined();
    expect(outcome.outputs).toMatchObject({ name: 'pr-7', url: 'https://pr-7.preview.acme.dev', status: 'RUNNING', environment: 'preview/pr-7' });
    expect(fledge.calls).toEqual([{
      args: [
        'up', 'pr-7', '--image', 'ghcr.io/acme/web:pr-7', '--port', '8080',
        '--label', 'repository=acme/web', '--label', 'branch=feature/login', '--label', 'pullRequest=7', '--label', `commit=${SHA1}`,
        '--wait', '--json',
      ],
      timeoutMs: 20 * 60_000,
    }]);
    expect(marked()).toHaveLength(1);
    const body = marked()[0]!.body;
    expect(body).toContain('[https://pr-7.preview.acme.dev](https://pr-7.preview.acme.dev)');
    expect(body).toContain('`RUNNING`');
    expect(body).toContain('`a1b2c3d`');
    expect(body).toContain('$0.0123 an hour, $0.0456 so far');
    expect(github.comments.get(PR)).toHaveLength(131);
    // the list was read page by page, following GitHub's Link header
    expect(github.requests).toContain(`GET /repos/acme/web/issues/${PR}/comments?per_page=100&page=2`);

    expect(github.deployments).toHaveLength(1);
    const [deployment] = github.deployments;
    expect(deployment).toMatchObject({ ref: SHA1, environment: 'preview/pr-7', transient_environment: true, production_environment: false });
    expect(deployment!.statuses.map((s) => s.state)).toEqual(['in_progress', 'success']);
    expect(deployment!.statuses[1]).toMatchObject({ environment_url: 'https://pr-7.preview.acme.dev', log_url: 'https://github.com/acme/web/actions/runs/1' });
  });

  it('updates the same comment on the next push (synchronize), never adding a second one', async () => {
    await runPreviewAction(pullRequestEvent('opened'), inputs(), deps(new FakeFledge([{ output: view('RUNNING') }])));
    const first = marked()[0]!;

    await runPreviewAction(pullRequestEvent('synchronize', { sha: SHA2 }), inputs(), deps(new FakeFledge([{ output: view('RUNNING') }])));

    expect(marked()).toHaveLength(1);
    expect(marked()[0]!.id).toBe(first.id);
    expect(marked()[0]!.body).toContain('`ffeeddc`');
    expect(marked()[0]!.body).not.toContain('`a1b2c3d`');
    expect(github.requests.filter((r) => r.startsWith('POST /repos/acme/web/issues/7/comments'))).toHaveLength(1);
    // a deployment per commit; the first one went inactive when the second succeeded
    expect(github.deployments.map((d) => [d.sha, github.stateOf(d)])).toEqual([[SHA1, 'inactive'], [SHA2, 'success']]);
  });

  it('a failed preview: the comment has the code, the reason and the last log lines, the deployment fails and so does the job', async () => {
    const logs = ['starting server', 'Error: cannot connect to database at db:5432', 'exit 1 ```'];
    const fledge = new FakeFledge([{
      exitCode: 1,
      output: view('FAILED', { failure: { code: 'TASK_EXITED', reason: 'the container exited with code 1', logs } }),
      stderr: 'FAILED TASK_EXITED\n',
    }]);

    const outcome = await runPreviewAction(pullRequestEvent('opened'), inputs(), deps(fledge));

    expect(outcome.failure).toBe('preview pr-7 is FAILED: TASK_EXITED: the container exited with code 1');
    const body = marked()[0]!.body;
    expect(body).toContain('❌ Preview `pr-7` failed');
    expect(body).toContain('**TASK\\_EXITED**: the container exited with code 1');
    for (const line of logs) expect(body).toContain(line);
    // a log line holding ``` cannot close the block: the fence is longer
    expect(body).toContain('````text');
    expect(github.stateOf(github.deployments[0]!)).toBe('failure');
    expect(github.deployments[0]!.statuses.at(-1)!.description).toBe('TASK_EXITED: the container exited with code 1');
  });

  it('Fledge unreachable or refusing (exit 2): the CLI\'s line in the comment, the deployment errs, the job fails', async () => {
    const fledge = new FakeFledge([{ exitCode: 2, stderr: 'PUT /v1/environments/pr-7: 403 Forbidden: tokens of "pull_request_target" jobs may not use this installation\n' }]);

    const outcome = await runPreviewAction(pullRequestEvent('opened'), inputs(), deps(fledge));

    expect(outcome.failure).toContain('403 Forbidden');
    expect(marked()[0]!.body).toContain('403 Forbidden');
    expect(github.stateOf(github.deployments[0]!)).toBe('error');
  });

  it('no OIDC token (no id-token permission): said in the comment, the job fails, fledge never runs', async () => {
    const outcome = await runPreviewAction(pullRequestEvent('opened'), inputs(), deps(async () => {
      throw new Error('this job cannot get a GitHub OIDC token: give it "permissions: id-token: write"');
    }));

    expect(outcome.failure).toContain('id-token: write');
    expect(marked()[0]!.body).toContain('id-token: write');
  });

  it('a wait past wait-timeout-minutes: the comment says the environment keeps going, the job fails', async () => {
    const fledge = new FakeFledge([{ exitCode: 130, timedOut: true }]);

    const outcome = await runPreviewAction(pullRequestEvent('opened'), inputs({ 'wait-timeout-minutes': '5' }), deps(fledge));

    expect(fledge.calls[0]!.timeoutMs).toBe(5 * 60_000);
    expect(outcome.failure).toBe('not ready after 5 min (wait-timeout-minutes); the environment keeps going: fledge status pr-7');
    expect(marked()[0]!.body).toContain('keeps going');
  });

  it('closed: fledge down, the deployment inactive, the comment says deleted', async () => {
    await runPreviewAction(pullRequestEvent('opened'), inputs(), deps(new FakeFledge([{ output: view('RUNNING') }])));
    const fledge = new FakeFledge([{ exitCode: 0, output: view('DELETING') }]);

    const outcome = await runPreviewAction(pullRequestEvent('closed'), inputs({ image: '' }), deps(fledge));

    expect(outcome.failure).toBeUndefined();
    expect(fledge.calls.map((c) => c.args)).toEqual([['down', 'pr-7', '--json']]);
    expect(github.stateOf(github.deployments[0]!)).toBe('inactive');
    expect(marked()).toHaveLength(1);
    expect(marked()[0]!.body).toContain('Preview `pr-7` deleted');
  });

  it('closed after a success and a failed push: every deployment that stood as successful goes inactive (transient ones get no auto_inactive)', async () => {
    await runPreviewAction(pullRequestEvent('opened'), inputs(), deps(new FakeFledge([{ output: view('RUNNING') }])));
    const failed = new FakeFledge([{ exitCode: 1, output: view('FAILED', { failure: { code: 'TASK_EXITED', reason: 'exit 1', logs: [] } }) }]);
    await runPreviewAction(pullRequestEvent('synchronize', { sha: SHA2 }), inputs(), deps(failed));
    // a failure supersedes nothing: the first deployment still stands
    expect(github.deployments.map((d) => github.stateOf(d))).toEqual(['success', 'failure']);

    await runPreviewAction(pullRequestEvent('closed'), inputs({ image: '' }), deps(new FakeFledge([{ exitCode: 0, output: view('DELETING') }])));

    expect(github.deployments.map((d) => github.stateOf(d))).toEqual(['inactive', 'inactive']);
  });

  it('closed without a preview (404): nothing to delete is not a failure, and no comment is added', async () => {
    const fledge = new FakeFledge([{ exitCode: 2, stderr: 'DELETE /v1/environments/pr-7: 404 Not Found: no environment named pr-7\n' }]);

    const outcome = await runPreviewAction(pullRequestEvent('closed'), inputs(), deps(fledge));

    expect(outcome.failure).toBeUndefined();
    expect(marked()).toHaveLength(0);
  });

  it('closed, and fledge down fails: the job fails', async () => {
    const fledge = new FakeFledge([{ exitCode: 2, stderr: 'cannot reach api.example: connection refused\n' }]);

    const outcome = await runPreviewAction(pullRequestEvent('closed'), inputs(), deps(fledge));

    expect(outcome.failure).toBe('could not delete preview pr-7: cannot reach api.example: connection refused');
  });
});

describe('a pull request from a fork', () => {
  const fork = 'mallory/web';

  it('without the label: no preview, one comment saying why, also after the next push', async () => {
    const fledge = new FakeFledge([]);

    const opened = await runPreviewAction(pullRequestEvent('opened', { fork }), inputs(), deps(fledge));
    await runPreviewAction(pullRequestEvent('synchronize', { fork, sha: SHA2 }), inputs(), deps(fledge));

    expect(opened.failure).toBeUndefined();
    expect(fledge.calls).toEqual([]);
    expect(github.deployments).toEqual([]);
    expect(marked()).toHaveLength(1);
    expect(marked()[0]!.body).toContain('`mallory/web`');
    expect(marked()[0]!.body).toContain('adds the label `preview`');
    // the second run found the same words there and wrote nothing
    expect(github.requests.filter((r) => r.startsWith('PATCH'))).toEqual([]);
  });

  it('without the label, with the read-only token GitHub gives a fork\'s job: a warning, not a failure', async () => {
    github.readOnly = true;

    const outcome = await runPreviewAction(pullRequestEvent('opened', { fork }), inputs(), deps(new FakeFledge([])));

    expect(outcome.failure).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining('pull-requests: write')]);
    expect(marked()).toHaveLength(0);
  });

  it('with the label: a preview like any other', async () => {
    const fledge = new FakeFledge([{ output: view('RUNNING') }]);

    const outcome = await runPreviewAction(pullRequestEvent('synchronize', { fork, labels: ['bug', 'preview'] }), inputs(), deps(fledge));

    expect(outcome.failure).toBeUndefined();
    expect(fledge.calls[0]!.args.slice(0, 2)).toEqual(['up', 'pr-7']);
    expect(marked()[0]!.body).toContain('✅ Preview `pr-7` is ready');
    expect(github.stateOf(github.deployments[0]!)).toBe('success');
  });

  it('the maintainer adding the label (labeled) starts the preview and replaces the "why not" comment; other labels change nothing', async () => {
    await runPreviewAction(pullRequestEvent('opened', { fork }), inputs(), deps(new FakeFledge([])));
    const other = new FakeFledge([]);
    await runPreviewAction(pullRequestEvent('labeled', { fork, labels: ['bug'], label: 'bug' }), inputs(), deps(other));
    expect(other.calls).toEqual([]);

    const fledge = new FakeFledge([{ output: view('RUNNING') }]);
    await runPreviewAction(pullRequestEvent('labeled', { fork, labels: ['preview'], label: 'preview' }), inputs(), deps(fledge));

    expect(fledge.calls).toHaveLength(1);
    expect(marked()).toHaveLength(1);
    expect(marked()[0]!.body).toContain('is ready');
  });

  it('a fork that was deleted (head.repo null) counts as a fork', async () => {
    const fledge = new FakeFledge([]);
    await runPreviewAction(pullRequestEvent('reopened', { fork: null }), inputs(), deps(fledge));
    expect(fledge.calls).toEqual([]);
    expect(marked()[0]!.body).toContain('a fork that was deleted');
  });

  it('closed without the label: nothing to tear down, fledge never runs', async () => {
    const fledge = new FakeFledge([]);
    const outcome = await runPreviewAction(pullRequestEvent('closed', { fork }), inputs(), deps(fledge));
    expect(outcome.failure).toBeUndefined();
    expect(fledge.calls).toEqual([]);
  });
});

describe('the one comment', () => {
  it('two runs at once that both find none leave exactly one marked comment', async () => {
    await Promise.all([
      upsertComment(octokit, { owner: 'acme', repo: 'web' }, PR, `${MARKER}\nfrom run 1\n`),
      upsertComment(octokit, { owner: 'acme', repo: 'web' }, PR, `${MARKER}\nfrom run 2\n`),
    ]);
    expect(marked()).toHaveLength(1);
  });

  it('a comment that only quotes the marker further down is not the Action\'s', async () => {
    github.addComment(PR, `what does\n${MARKER}\nmean?`, { login: 'octocat', type: 'User' });
    await upsertComment(octokit, { owner: 'acme', repo: 'web' }, PR, `${MARKER}\nours\n`);
    expect(github.comments.get(PR)!.map((c) => c.body)).toEqual([`what does\n${MARKER}\nmean?`, `${MARKER}\nours\n`]);
  });
});

describe('a forged marker', () => {
  it('a person\'s comment that starts with the marker is neither edited nor deleted: the Action keeps its own', async () => {
    const forged = `${MARKER}\n### ✅ Preview is ready at https://evil.example\n`;
    github.addComment(PR, forged, { login: 'mallory', type: 'User' });
    expect(await upsertComment(octokit, { owner: 'acme', repo: 'web' }, PR, `${MARKER}\nours\n`)).toBe('created');
    expect(await upsertComment(octokit, { owner: 'acme', repo: 'web' }, PR, `${MARKER}\nours again\n`)).toBe('updated');
    expect(github.comments.get(PR)!.map((c) => [c.user.login, c.body])).toEqual([['mallory', forged], ['github-actions[bot]', `${MARKER}\nours again\n`]]);
  });
});

describe('inputs and events', () => {
  it('refuses labels the Action sets from the pull request, and env lines that are not KEY=VALUE', () => {
    expect(() => inputs({ labels: 'team=web\nrepository=evil/repo' })).toThrow('"repository" is set by the Action');
    expect(() => inputs({ env: 'NOVALUE' })).toThrow('input env: "NOVALUE" is not KEY=VALUE');
  });

  it('passes env, secrets, extra labels, ttl and the name given', async () => {
    const fledge = new FakeFledge([{ output: view('RUNNING', { name: 'web-pr-7' }) }]);
    await runPreviewAction(
      pullRequestEvent('opened'),
      inputs({ name: 'web-pr-7', env: 'LOG_LEVEL=debug\n# comment\n\nA=b=c', secrets: 'DB=arn:aws:secretsmanager:eu-west-1:123456789012:secret:fledge/acme/web/db', labels: 'team=web', ttl: '2d' }),
      deps(fledge),
    );
    const args = fledge.calls[0]!.args;
    expect(args.slice(0, 2)).toEqual(['up', 'web-pr-7']);
    expect(args.join(' ')).toContain('--env LOG_LEVEL=debug --env A=b=c --secret DB=arn:aws:secretsmanager:eu-west-1:123456789012:secret:fledge/acme/web/db');
    expect(args.join(' ')).toContain(`--label commit=${SHA1} --label team=web --ttl 2d --wait --json`);
    expect(github.deployments[0]!.environment).toBe('preview/web-pr-7');
  });

  it('refuses a pull_request_target run and says why', () => {
    expect(() => parsePullRequestEvent('pull_request_target', {})).toThrow(/runs a fork's change with the base repository's identity/);
  });
});
