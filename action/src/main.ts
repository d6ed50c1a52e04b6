/**
 * The Action's entry (action.yml `runs.main`, bundled into action/dist/index.mjs by
 * `npm run build:action`): reads the event, the inputs and the job's credentials, and runs
 * preview-action.ts with the real Octokit and the bundled `fledge` CLI beside this file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { Octokit } from '@octokit/rest';
import { parsePullRequestEvent } from './event.ts';
import { CLI_BUNDLE, spawnFledge } from './fledge-runner.ts';
import { readInputs } from './inputs.ts';
import { runPreviewAction } from './preview-action.ts';
import { runPruneAction } from './prune-action.ts';

async function main(): Promise<void> {
  const env = process.env;
  const command = core.getInput('command') || 'preview';
  if (command !== 'preview' && command !== 'prune') throw new Error(`input command: "${command}" is neither preview nor prune`);
  const endpoint = core.getInput('endpoint', { required: true });
  const auth = core.getInput('auth') || 'oidc';
  if (auth !== 'oidc' && auth !== 'aws') throw new Error(`input auth: "${auth}" is neither oidc nor aws`);
  const audience = core.getInput('audience') || 'fledge';
  const octokit = new Octokit({
    auth: core.getInput('github-token', { required: true }),
    baseUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    userAgent: 'fledge-preview-action',
  });
  const cli = join(dirname(fileURLToPath(import.meta.url)), CLI_BUNDLE);
  const runUrl = env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;

  const fledge = async () => {
    const fledgeEnv: Record<string, string> = { FLEDGE_ENDPOINT: endpoint };
    // SigV4 (auth: aws) signs with the AWS credentials already in the job's environment
    if (auth === 'oidc') fledgeEnv.FLEDGE_TOKEN = await oidcToken(audience);
    return spawnFledge({ cli, env: fledgeEnv, progress: (chunk) => process.stdout.write(chunk) });
  };
  const log = { info: core.info, warning: core.warning };

  let outcome;
  if (command === 'prune') {
    if (!env.GITHUB_REPOSITORY) throw new Error('GITHUB_REPOSITORY is not set: this runs as a step of a GitHub Actions job');
    outcome = await runPruneAction(env.GITHUB_REPOSITORY, core.getMultilineInput('keep'), { octokit, fledge, log });
  } else {
    const eventPath = env.GITHUB_EVENT_PATH;
    if (!eventPath) throw new Error('GITHUB_EVENT_PATH is not set: this runs as a step of a GitHub Actions job');
    const event = parsePullRequestEvent(env.GITHUB_EVENT_NAME ?? '', JSON.parse(readFileSync(eventPath, 'utf8')) as unknown);
    const inputs = readInputs((name) => core.getInput(name));
    outcome = await runPreviewAction(event, inputs, { octokit, fledge, log, ...(runUrl ? { runUrl } : {}) });
  }
  for (const [name, value] of Object.entries(outcome.outputs)) core.setOutput(name, value);
  if (outcome.failure) core.setFailed(outcome.failure);
}

/** The job's GitHub OIDC token for Fledge's audience (core.getIDToken masks it in the log). */
async function oidcToken(audience: string): Promise<string> {
  try {
    return await core.getIDToken(audience);
  } catch (error) {
    throw new Error(
      `this job cannot get a GitHub OIDC token (${(error as Error).message}): give it "permissions: id-token: write"; ` +
        'a pull_request job of a fork gets none in a public repository (README "GitHub Action")',
      { cause: error },
    );
  }
}

main().catch((error: unknown) => core.setFailed(error instanceof Error ? error.message : String(error)));
