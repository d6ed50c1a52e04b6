/**
 * `fledge prune --repository R --keep ...`: which of a repository's environments to delete.
 *
 * A keep entry is an environment name, or a pull request number `N`, which keeps the
 * environment named `pr-N` (the README's naming: one environment per pull request) and any
 * environment labelled `pullRequest: "N"` (for names of another scheme). Environments already
 * DELETING or DELETED are left alone. Pure: the command lists and deletes (cli/fledge.ts).
 */
import type { EnvironmentView } from './format.ts';

export const PULL_REQUEST_LABEL = 'pullRequest';

export const pullRequestName = (n: string) => `pr-${n}`;

export interface PrunePlan {
  remove: string[];
  keep: string[];
}

export function planPrune(items: Pick<EnvironmentView, 'name' | 'status' | 'labels'>[], keepEntries: string[]): PrunePlan {
  const names = new Set<string>();
  const numbers = new Set<string>();
  for (const entry of keepEntries) {
    const number = /^#?(\d+)$/.exec(entry)?.[1];
    if (number) {
      numbers.add(String(Number(number)));
      names.add(pullRequestName(String(Number(number))));
    } else names.add(entry);
  }
  const plan: PrunePlan = { remove: [], keep: [] };
  for (const env of items) {
    if (env.status === 'DELETING' || env.status === 'DELETED') continue;
    const label = env.labels?.[PULL_REQUEST_LABEL];
    const kept = names.has(env.name) || (label !== undefined && numbers.has(String(Number(label))));
    (kept ? plan.keep : plan.remove).push(env.name);
  }
  return plan;
}
