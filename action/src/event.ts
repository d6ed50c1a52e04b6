/**
 * The pull request event the Action was started by, reduced to what it needs, and what to do
 * about it. Pure: the payload comes in as data (GITHUB_EVENT_PATH's JSON in main.ts).
 */

export interface PullRequest {
  number: number;
  /** `owner/name` of the repository the workflow runs in (the base) */
  repository: string;
  headRef: string;
  headSha: string;
  /** `owner/name` of the head's repository; undefined when the fork was deleted */
  headRepository: string | undefined;
  labels: string[];
}

export interface PullRequestEvent {
  action: string;
  pullRequest: PullRequest;
  /** the label a `labeled` event added */
  label: string | undefined;
}

/** What the Action does for an event. */
export type Plan =
  | { kind: 'deploy' }
  | { kind: 'teardown' }
  /** a fork's pull request without the opt-in label: no preview, a comment saying why */
  | { kind: 'fork-refused' }
  | { kind: 'ignore'; why: string };

/** `owner/name` is read from `repository.full_name`, never from labels or inputs the pull request could change. */
export function parsePullRequestEvent(eventName: string, payload: unknown): PullRequestEvent {
  if (eventName !== 'pull_request') {
    throw new Error(
      `fledge-preview runs on pull_request events, not "${eventName}"` +
        (eventName === 'pull_request_target' ? ' (a pull_request_target job runs a fork\'s change with the base repository\'s identity; README "GitHub Action")' : ''),
    );
  }
  const event = record(payload, 'the event');
  const pr = record(event.pull_request, 'pull_request');
  const head = record(pr.head, 'pull_request.head');
  const base = record(pr.base, 'pull_request.base');
  const headRepo = head.repo === null || head.repo === undefined ? undefined : record(head.repo, 'pull_request.head.repo');
  const labels = Array.isArray(pr.labels) ? pr.labels.map((label) => string(record(label, 'a label').name, 'label.name')) : [];
  return {
    action: string(event.action, 'action'),
    pullRequest: {
      number: number(pr.number, 'pull_request.number'),
      repository: string(record(base.repo, 'pull_request.base.repo').full_name, 'pull_request.base.repo.full_name'),
      headRef: string(head.ref, 'pull_request.head.ref'),
      headSha: string(head.sha, 'pull_request.head.sha'),
      headRepository: headRepo ? string(headRepo.full_name, 'pull_request.head.repo.full_name') : undefined,
      labels,
    },
    label: event.label === undefined ? undefined : string(record(event.label, 'label').name, 'label.name'),
  };
}

/** A pull request whose head is another repository (or a deleted one). */
export function isFork(pr: PullRequest): boolean {
  return pr.headRepository?.toLowerCase() !== pr.repository.toLowerCase();
}

export function planFor(event: PullRequestEvent, forkLabel: string): Plan {
  const { pullRequest: pr, action } = event;
  const optedIn = !isFork(pr) || pr.labels.includes(forkLabel);
  switch (action) {
    case 'opened':
    case 'synchronize':
    case 'reopened':
      return optedIn ? { kind: 'deploy' } : { kind: 'fork-refused' };
    case 'labeled':
      // the maintainer's opt-in starts the preview of a fork's pull request; other labels change nothing
      if (event.label !== forkLabel || !isFork(pr)) return { kind: 'ignore', why: `the label "${event.label ?? ''}" changes nothing` };
      return { kind: 'deploy' };
    case 'closed':
      // a fork without the label never had a preview (and its job has no token to ask with)
      return optedIn ? { kind: 'teardown' } : { kind: 'ignore', why: 'a fork\'s pull request without the label has no preview' };
    default:
      return { kind: 'ignore', why: `nothing to do on "${action}"` };
  }
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not an object in the event payload`);
  return value as Record<string, unknown>;
}
function string(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string in the event payload`);
  return value;
}
function number(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`${what} is not an integer in the event payload`);
  return value;
}
