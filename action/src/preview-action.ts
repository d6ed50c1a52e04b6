/**
 * What the Action does for one pull request event: deploy the preview and report it (one
 * comment, a deployment status), tear it down on close, or explain why a fork's pull request
 * gets none. GitHub is reached through the Octokit it is given and Fledge through a
 * FledgeRunner, so both can be replaced in tests.
 */
import type { Octokit } from '@octokit/rest';
import { renderComment, type CommentState, type PreviewView } from './comment.ts';
import { createDeployment, deactivateDeployments, deactivateOlder, environmentName, setDeploymentStatus, type DeploymentState } from './deployment.ts';
import { isFork, planFor, type PullRequest, type PullRequestEvent } from './event.ts';
import type { FledgeResult, FledgeRunner } from './fledge-runner.ts';
import type { ActionInputs } from './inputs.ts';
import { splitRepository, updateCommentIfAny, upsertComment, type Repo } from './pull-request-comment.ts';

export interface ActionDeps {
  octokit: Octokit;
  /** the CLI runner, made when first needed: getting its credentials (the OIDC token) may fail, and that is reported like any failure */
  fledge: () => Promise<FledgeRunner>;
  log: { info(message: string): void; warning(message: string): void };
  /** this job's log, linked from the deployment status */
  runUrl?: string;
}

export interface ActionOutcome {
  /** why the job fails; undefined when it succeeds */
  failure: string | undefined;
  outputs: Record<string, string>;
}

export async function runPreviewAction(event: PullRequestEvent, inputs: ActionInputs, deps: ActionDeps): Promise<ActionOutcome> {
  const pr = event.pullRequest;
  const plan = planFor(event, inputs.forkLabel);
  const repo = splitRepository(pr.repository);
  const name = inputs.name ?? `pr-${pr.number}`;
  const github = new GitHubReport(deps, repo, pr.number);
  switch (plan.kind) {
    case 'ignore':
      deps.log.info(`fledge-preview: ${plan.why}`);
      return { failure: undefined, outputs: {} };
    case 'fork-refused':
      deps.log.info(`fledge-preview: no preview for ${pr.headRepository ?? 'a deleted fork'}'s pull request without the label "${inputs.forkLabel}"`);
      await github.comment({ kind: 'fork-refused', forkLabel: inputs.forkLabel, headRepository: pr.headRepository });
      return { failure: undefined, outputs: {} };
    case 'deploy':
      return deploy(pr, name, inputs, deps, github);
    case 'teardown':
      return teardown(name, deps, github);
  }
}

async function deploy(pr: PullRequest, name: string, inputs: ActionInputs, deps: ActionDeps, github: GitHubReport): Promise<ActionOutcome> {
  if (!inputs.image) return { failure: 'input image is required to deploy a preview', outputs: {} };
  if (isFork(pr)) deps.log.info(`fledge-preview: ${pr.headRepository ?? 'a deleted fork'}'s pull request carries the label "${inputs.forkLabel}": deploying`);
  await github.comment({ kind: 'deploying', name, commit: pr.headSha });
  const deployment = await github.deployment(name, pr.headSha);
  const args = [
    'up', name, '--image', inputs.image,
    ...(inputs.port === undefined ? [] : ['--port', String(inputs.port)]),
    ...inputs.env.flatMap((pair) => ['--env', pair]),
    ...inputs.secrets.flatMap((pair) => ['--secret', pair]),
    '--label', `repository=${pr.repository}`, '--label', `branch=${pr.headRef}`,
    '--label', `pullRequest=${pr.number}`, '--label', `commit=${pr.headSha}`,
    ...inputs.labels.flatMap((pair) => ['--label', pair]),
    ...(inputs.ttl === undefined ? [] : ['--ttl', inputs.ttl]),
    '--wait', '--json',
  ];
  const answer = await ask(deps, args, inputs.waitTimeoutMs, name);
  const outputs: Record<string, string> = { name, environment: environmentName(name) };
  if (answer.kind === 'error') {
    await github.comment({ kind: 'error', name, commit: pr.headSha, message: answer.message });
    await github.status(deployment, 'error', { description: answer.message });
    return { failure: answer.message, outputs };
  }
  const { view } = answer;
  Object.assign(outputs, { status: view.status, url: view.url ?? '' });
  await github.comment({ kind: answer.kind, view, commit: pr.headSha });
  if (answer.kind === 'ready') {
    await github.status(deployment, 'success', { url: view.url, description: `${view.status}` });
    await github.supersede(name, deployment);
    return { failure: undefined, outputs };
  }
  const why = view.failure ? `${view.failure.code}: ${view.failure.reason}` : `the preview ended ${view.status}`;
  await github.status(deployment, 'failure', { description: why });
  return { failure: `preview ${name} is ${view.status}: ${why}`, outputs };
}

async function teardown(name: string, deps: ActionDeps, github: GitHubReport): Promise<ActionOutcome> {
  const answer = await ask(deps, ['down', name, '--json'], undefined, name);
  if (answer.kind === 'error' && !answer.notFound) return { failure: `could not delete preview ${name}: ${answer.message}`, outputs: { name } };
  await github.deactivate(name);
  await github.comment({ kind: 'deleted', name }, { onlyIfAny: true });
  return { failure: undefined, outputs: { name, environment: environmentName(name), status: 'DELETED' } };
}

type Answer =
  | { kind: 'ready' | 'failed'; view: PreviewView }
  | { kind: 'error'; message: string; notFound: boolean };

/** Runs the CLI and reads its answer by the exit codes of its contract. */
async function ask(deps: ActionDeps, args: string[], timeoutMs: number | undefined, name: string): Promise<Answer> {
  let result: FledgeResult;
  try {
    result = await (await deps.fledge()).run(args, timeoutMs === undefined ? {} : { timeoutMs });
  } catch (error) {
    return { kind: 'error', message: (error as Error).message, notFound: false };
  }
  if (result.timedOut) {
    const minutes = Math.round((timeoutMs ?? 0) / 60_000);
    return { kind: 'error', message: `not ready after ${minutes} min (wait-timeout-minutes); the environment keeps going: fledge status ${name}`, notFound: false };
  }
  const view = readView(result.output);
  if (view && result.exitCode === 0) return { kind: 'ready', view };
  if (view && result.exitCode === 1) return { kind: 'failed', view };
  return { kind: 'error', message: errorMessage(result), notFound: problemStatus(result) === 404 };
}

/** The environment view of `up --wait --json`, with `failure` (or the operation's error) when it failed. */
export function readView(output: unknown): PreviewView | undefined {
  if (!isObject(output) || typeof output.name !== 'string' || typeof output.status !== 'string') return undefined;
  const view: PreviewView = { name: output.name, status: output.status, url: typeof output.url === 'string' ? output.url : null };
  const cost = output.cost;
  if (isObject(cost) && typeof cost.perHour === 'number' && typeof cost.toDate === 'number' && typeof cost.currency === 'string') {
    view.cost = { perHour: cost.perHour, toDate: cost.toDate, currency: cost.currency };
  }
  const failure = output.failure;
  const error = isObject(output.operation) && isObject(output.operation.error) ? output.operation.error : undefined;
  if (isObject(failure) && typeof failure.code === 'string') {
    view.failure = {
      code: failure.code,
      reason: typeof failure.reason === 'string' ? failure.reason : '',
      logs: Array.isArray(failure.logs) ? failure.logs.filter((line): line is string => typeof line === 'string') : [],
    };
  } else if (error && typeof error.code === 'string') {
    view.failure = { code: error.code, reason: typeof error.message === 'string' ? error.message : '', logs: [] };
  }
  return view;
}

/** The CLI's own words: a problem's detail or title, an error's message, else its last line on stderr. */
function errorMessage(result: FledgeResult): string {
  const output = result.output;
  if (isObject(output)) {
    const nested = isObject(output.error) ? output.error : output;
    for (const key of ['detail', 'message', 'title'] as const) {
      if (typeof nested[key] === 'string' && nested[key] !== '') return nested[key];
    }
  }
  const lastLine = result.stderr.trim().split('\n').pop()?.trim();
  return lastLine || `fledge exited with code ${result.exitCode}`;
}

/** The HTTP status Fledge refused with: in the JSON the CLI printed, else in its line (`DELETE /v1/environments/x: 404 Not Found: ...`). */
function problemStatus(result: FledgeResult): number | undefined {
  const output = result.output;
  const nested = isObject(output) ? (isObject(output.error) ? output.error : output) : undefined;
  if (typeof nested?.status === 'number') return nested.status;
  const status = /: (\d{3}) /.exec(result.stderr.trim().split('\n').pop() ?? '')?.[1];
  return status === undefined ? undefined : Number(status);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The comment and the deployment. A 403 from GitHub is a warning, not the job's failure: the
 * token may be read-only (a fork's pull_request job always gets one) or lack a permission,
 * and the preview itself does not depend on it.
 */
class GitHubReport {
  constructor(
    private readonly deps: ActionDeps,
    private readonly repo: Repo,
    private readonly issueNumber: number,
  ) {}

  async comment(state: CommentState, options: { onlyIfAny?: boolean } = {}): Promise<void> {
    const body = renderComment(state);
    await this.tolerating403('comment on the pull request (permissions: pull-requests: write)', async () => {
      if (options.onlyIfAny) await updateCommentIfAny(this.deps.octokit, this.repo, this.issueNumber, body);
      else await upsertComment(this.deps.octokit, this.repo, this.issueNumber, body);
    });
  }

  async deployment(name: string, sha: string): Promise<number | undefined> {
    return this.tolerating403('create a deployment (permissions: deployments: write)', async () => {
      const id = await createDeployment(this.deps.octokit, this.repo, name, sha);
      await setDeploymentStatus(this.deps.octokit, this.repo, id, 'in_progress', { logUrl: this.deps.runUrl });
      return id;
    });
  }

  async status(deployment: number | undefined, state: DeploymentState, details: { url?: string | null; description?: string }): Promise<void> {
    if (deployment === undefined) return;
    await this.tolerating403('set the deployment status (permissions: deployments: write)', () =>
      setDeploymentStatus(this.deps.octokit, this.repo, deployment, state, { ...details, logUrl: this.deps.runUrl }),
    );
  }

  /** The preview's older deployments, superseded by `deployment` (its deployments are transient: GitHub's auto_inactive leaves them). */
  async supersede(name: string, deployment: number | undefined): Promise<void> {
    if (deployment === undefined) return;
    await this.tolerating403('mark older deployments inactive (permissions: deployments: write)', () =>
      deactivateOlder(this.deps.octokit, this.repo, name, deployment, 'a newer commit was deployed'),
    );
  }

  async deactivate(name: string): Promise<void> {
    await this.tolerating403('mark the deployment inactive (permissions: deployments: write)', () => deactivateDeployments(this.deps.octokit, this.repo, name));
  }

  private async tolerating403<T>(what: string, write: () => Promise<T>): Promise<T | undefined> {
    try {
      return await write();
    } catch (error) {
      if ((error as { status?: number }).status !== 403) throw error;
      this.deps.log.warning(`fledge-preview: GitHub refused to let this job ${what}: ${(error as Error).message}`);
      return undefined;
    }
  }
}
