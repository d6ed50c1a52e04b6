/** The Action's scheduled prune: open pull requests from GitHub (the fake, every page) passed to `fledge prune --keep`. */
import { Octokit } from '@octokit/rest';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { FledgeResult, FledgeRunner } from '../../../action/src/fledge-runner.ts';
import { runPruneAction } from '../../../action/src/prune-action.ts';
import { startFakeGitHub, type FakeGitHub } from '../../support/fake-github.ts';

let github: FakeGitHub;
let octokit: Octokit;
beforeEach(async () => {
  github = await startFakeGitHub();
  octokit = new Octokit({ auth: github.token, baseUrl: github.url });
});
afterEach(() => github.close());

function fakeFledge(answer: Partial<FledgeResult>) {
  const calls: string[][] = [];
  const runner: FledgeRunner = {
    run: async (args) => {
      calls.push(args);
      return { exitCode: 0, output: undefined, stderr: '', timedOut: false, ...answer };
    },
  };
  return { calls, fledge: async () => runner };
}

it('keeps every open pull request (more than a page of them) and the names given, and reports what was deleted', async () => {
  for (let n = 1; n <= 130; n++) github.pulls.push({ number: n, state: n % 10 === 0 ? 'closed' : 'open' });
  const { calls, fledge } = fakeFledge({ output: { repository: 'acme/web', kept: ['pr-1'], deleted: ['pr-10', 'pr-20'], failed: [] } });

  const outcome = await runPruneAction('acme/web', ['staging'], { octokit, fledge, log: { info: () => {} } });

  const open = github.pulls.filter((pr) => pr.state === 'open').map((pr) => String(pr.number));
  expect(open).toHaveLength(117);
  expect(calls).toEqual([['prune', '--repository', 'acme/web', '--keep', [...open, 'staging'].join(','), '--json']]);
  expect(github.requests).toContain('GET /repos/acme/web/pulls?state=open&per_page=100&page=2');
  expect(outcome).toEqual({ failure: undefined, outputs: { deleted: 'pr-10,pr-20' } });
});

it('no open pull request: --keep "" (keeps none)', async () => {
  const { calls, fledge } = fakeFledge({ output: { deleted: [] } });
  await runPruneAction('acme/web', [], { octokit, fledge, log: { info: () => {} } });
  expect(calls[0]).toEqual(['prune', '--repository', 'acme/web', '--keep', '', '--json']);
});

it('fledge prune failing fails the job with its line', async () => {
  const { fledge } = fakeFledge({ exitCode: 2, stderr: 'fledge: GET /v1/environments: 403 Forbidden\n' });
  const outcome = await runPruneAction('acme/web', [], { octokit, fledge, log: { info: () => {} } });
  expect(outcome.failure).toBe('fledge prune exited with code 2: fledge: GET /v1/environments: 403 Forbidden');
});
