/**
 * The Action's one comment on a pull request: found by the hidden marker on its first line,
 * created when there is none, updated otherwise, never duplicated. GitHub REST API "Issue
 * comments": a pull request is an issue for comments; the list is paginated (Link header),
 * so every page is read until the marker is found.
 */
import type { Octokit } from '@octokit/rest';
import { MARKER } from './comment.ts';

export interface Repo {
  owner: string;
  repo: string;
}

export function splitRepository(repository: string): Repo {
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length > 0) throw new Error(`"${repository}" is not owner/name`);
  return { owner, repo };
}

/**
 * The marker alone proves nothing: anyone who may comment on the pull request can start a comment
 * with it, and the Action would then edit that person's comment, or delete its own as the
 * "duplicate". So a marked comment is ours only when a bot wrote it (the job's GITHUB_TOKEN
 * writes as `github-actions[bot]`, a GitHub App's token as its bot; no person can post as one).
 */
const isOurs = (comment: { body?: string | undefined; user?: { type?: string } | null }) =>
  comment.body?.startsWith(MARKER) === true && comment.user?.type === 'Bot';

/** The ids of the marked comments, oldest first. */
async function markedComments(octokit: Octokit, repo: Repo, issueNumber: number): Promise<{ id: number; body: string }[]> {
  const found: { id: number; body: string }[] = [];
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...repo, issue_number: issueNumber, per_page: 100 })) {
    for (const comment of page.data) if (isOurs(comment)) found.push({ id: comment.id, body: comment.body ?? '' });
  }
  return found;
}

export type CommentWrite = 'created' | 'updated' | 'unchanged';

/**
 * Writes `body` into the pull request's marked comment. Two runs of the same pull request at
 * once (a push right after opening) could both find none and both create: after a create the
 * list is read again and every marked comment but the oldest is deleted, so one stays.
 */
export async function upsertComment(octokit: Octokit, repo: Repo, issueNumber: number, body: string): Promise<CommentWrite> {
  const [existing] = await markedComments(octokit, repo, issueNumber);
  if (existing) {
    if (existing.body === body) return 'unchanged';
    await octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
    return 'updated';
  }
  const created = await octokit.rest.issues.createComment({ ...repo, issue_number: issueNumber, body });
  const [oldest, ...extra] = await markedComments(octokit, repo, issueNumber);
  for (const comment of extra) await deleteIgnoringGone(octokit, repo, comment.id);
  if (oldest && oldest.id !== created.data.id && oldest.body !== body) await octokit.rest.issues.updateComment({ ...repo, comment_id: oldest.id, body });
  return 'created';
}

/** Updates the marked comment if there is one (a closed pull request that never had a preview gets no comment). */
export async function updateCommentIfAny(octokit: Octokit, repo: Repo, issueNumber: number, body: string): Promise<boolean> {
  const [existing] = await markedComments(octokit, repo, issueNumber);
  if (!existing) return false;
  if (existing.body !== body) await octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
  return true;
}

async function deleteIgnoringGone(octokit: Octokit, repo: Repo, commentId: number): Promise<void> {
  try {
    await octokit.rest.issues.deleteComment({ ...repo, comment_id: commentId });
  } catch (error) {
    // the other run deleted it first
    if ((error as { status?: number }).status !== 404) throw error;
  }
}
