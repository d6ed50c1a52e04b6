/**
 * The Action's scheduled mode (`command: prune`): deletes the repository's previews whose pull
 * request is no longer open, so previews die even when a `closed` event was missed (a
 * workflow that failed, was disabled or was not there yet). Open pull requests come from
 * GitHub (REST API "List pull requests", every page); `fledge prune` keeps `pr-N` and any
 * environment labelled `pullRequest=N` for each of them, plus the names in `keep`.
 */
import type { Octokit } from '@octokit/rest';
import type { FledgeRunner } from './fledge-runner.ts';
import { splitRepository } from './pull-request-comment.ts';

export interface PruneDeps {
  octokit: Octokit;
  fledge: () => Promise<FledgeRunner>;
  log: { info(message: string): void };
}

export async function runPruneAction(repository: string, keepNames: string[], deps: PruneDeps): Promise<{ failure: string | undefined; outputs: Record<string, string> }> {
  const repo = splitRepository(repository);
  const open = await deps.octokit.paginate(deps.octokit.rest.pulls.list, { ...repo, state: 'open', per_page: 100 });
  const keep = [...open.map((pr) => String(pr.number)), ...keepNames];
  deps.log.info(`fledge-preview: ${open.length} open pull requests; pruning ${repository}'s other previews`);
  // `--keep ""` keeps none: with no open pull request every preview goes
  const result = await (await deps.fledge()).run(['prune', '--repository', repository, '--keep', keep.join(','), '--json']);
  const output = result.output as { deleted?: unknown; kept?: unknown } | undefined;
  const deleted = Array.isArray(output?.deleted) ? output.deleted.map(String) : [];
  if (result.exitCode !== 0) {
    const line = result.stderr.trim().split('\n').pop()?.trim();
    return { failure: `fledge prune exited with code ${result.exitCode}${line ? `: ${line}` : ''}`, outputs: { deleted: deleted.join(',') } };
  }
  deps.log.info(`fledge-preview: deleted ${deleted.length ? deleted.join(', ') : 'none'}`);
  return { failure: undefined, outputs: { deleted: deleted.join(',') } };
}
