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

/**
 * Marks the preview's deployments older than `newerThan` that still stand as successful
 * inactive. GitHub's `auto_inactive` does this only for "prior non-transient, non-production
 * environment deployments" (REST API "Deployment statuses", Create a deployment status), and a
 * preview's deployments are transient. Newest first; it stops at the first one already inactive,
 * as an earlier run deactivated every one before it.
 */
export async function deactivateOlder(octokit: Octokit, repo: Repo, name: string, newerThan: number, description: string): Promise<void> {
  for await (const page of octokit.paginate.iterator(octokit.rest.repos.listDeployments, { ...repo, environment: environmentName(name), per_page: 100 })) {
    for (const deployment of page.data) {
      if (deployment.id >= newerThan) continue;
      const { data: statuses } = await octokit.rest.repos.listDeploymentStatuses({ ...repo, deployment_id: deployment.id, per_page: 1 });
      const state = statuses[0]?.state;
      if (state === 'inactive') return;
      if (state === 'success') await setDeploymentStatus(octokit, repo, deployment.id, 'inactive', { description });
    }
  }
}

/** Marks the newest deployment of the preview's environment inactive, and any older one still standing as successful. */
export async function deactivateDeployments(octokit: Octokit, repo: Repo, name: string): Promise<number | undefined> {
  const { data } = await octokit.rest.repos.listDeployments({ ...repo, environment: environmentName(name), per_page: 1 });
  const newest = data[0];
  if (!newest) return undefined;
  const description = 'the pull request was closed';
  await setDeploymentStatus(octokit, repo, newest.id, 'inactive', { description });
  await deactivateOlder(octokit, repo, name, newest.id, description);
  return newest.id;
}
