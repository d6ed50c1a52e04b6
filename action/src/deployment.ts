/**
 * The GitHub deployment of a preview: environment `preview/<name>`, one deployment per
 * commit, its status following the preview (GitHub REST API "Deployments" and "Deployment
 * statuses"). `auto_merge: false` and `required_contexts: []`: a preview deploys the pull
 * request's head as it is, whatever its checks say, and never merges the default branch into it.
 */
import type { Octokit } from '@octokit/rest';
import type { Repo } from './pull-request-comment.ts';

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive';

export const environmentName = (name: string) => `preview/${name}`;

/** GitHub refuses a description over 140 characters */
const DESCRIPTION_MAX = 140;

export async function createDeployment(octokit: Octokit, repo: Repo, name: string, sha: string): Promise<number> {
  const response = await octokit.rest.repos.createDeployment({
    ...repo,
    ref: sha,
    environment: environmentName(name),
    description: `Fledge preview ${name}`,
    auto_merge: false,
    required_contexts: [],
    transient_environment: true,
    production_environment: false,
  });
  // 202 is GitHub's answer when it merged the default branch first, which auto_merge: false rules out
  if (!('id' in response.data)) throw new Error(`GitHub created no deployment: ${response.data.message ?? 'no reason given'}`);
  return response.data.id;
}

export async function setDeploymentStatus(
  octokit: Octokit,
  repo: Repo,
  deploymentId: number,
  state: DeploymentState,
  details: { url?: string | null; description?: string; logUrl?: string } = {},
): Promise<void> {
  await octokit.rest.repos.createDeploymentStatus({
    ...repo,
    deployment_id: deploymentId,
    state,
    ...(details.url ? { environment_url: details.url } : {}),
    ...(details.logUrl ? { log_url: details.logUrl } : {}),
    ...(details.description ? { description: details.description.slice(0, DESCRIPTION_MAX) } : {}),
  });
}

/** Marks the newest deployment of the preview's environment inactive (older ones were, when it succeeded: `auto_inactive`). */
export async function deactivateDeployments(octokit: Octokit, repo: Repo, name: string): Promise<number | undefined> {
  const { data } = await octokit.rest.repos.listDeployments({ ...repo, environment: environmentName(name), per_page: 1 });
  const newest = data[0];
  if (!newest) return undefined;
  await setDeploymentStatus(octokit, repo, newest.id, 'inactive', { description: 'the pull request was closed' });
  return newest.id;
}
