/**
 * The one pull request comment the Action keeps (found again by its hidden marker), in every
 * state a preview can be in. Pure: text in, Markdown out.
 */

/** The first line of the Action's comment: how a later run finds it (pull-request-comment.ts). */
export const MARKER = '<!-- fledge-preview -->';

/** What the Action reads of the CLI's environment view (`fledge up --wait --json`, `status --json`). */
export interface PreviewView {
  name: string;
  status: string;
  url?: string | null;
  cost?: { perHour: number; toDate: number; currency: string };
  /** on FAILED or DEGRADED: the typed code, the reason and the last log lines */
  failure?: { code: string; reason: string; logs: string[] };
}

export type CommentState =
  | { kind: 'deploying'; name: string; commit: string }
  | { kind: 'ready'; view: PreviewView; commit: string }
  | { kind: 'failed'; view: PreviewView; commit: string }
  /** Fledge could not be asked, refused, or the wait ran out: no view to show */
  | { kind: 'error'; name: string; commit: string; message: string }
  | { kind: 'fork-refused'; forkLabel: string; headRepository: string | undefined }
  | { kind: 'deleted'; name: string };

/** last log lines shown, and the characters kept of each: a comment holds at most 65,536 characters */
export const LOG_LINES_SHOWN = 40;
const LOG_LINE_CHARS = 300;

export function renderComment(state: CommentState): string {
  return [MARKER, ...body(state)].join('\n') + '\n';
}

function body(state: CommentState): string[] {
  switch (state.kind) {
    case 'deploying':
      return [`### ⏳ Preview \`${state.name}\` is starting`, '', `Deploying commit ${commit(state.commit)}…`];
    case 'ready':
      return [`### ✅ Preview \`${state.view.name}\` is ready`, '', ...facts(state.view, state.commit)];
    case 'failed': {
      const failure = state.view.failure;
      const lines = [`### ❌ Preview \`${state.view.name}\` failed`, '', ...facts(state.view, state.commit)];
      if (!failure) return lines;
      lines.push('', `**${escapeInline(failure.code)}**: ${escapeInline(failure.reason)}`);
      const logs = failure.logs.slice(-LOG_LINES_SHOWN).map(logLine);
      if (logs.length > 0) lines.push('', `<details open><summary>last ${logs.length} log lines</summary>`, '', ...fenced(logs), '', '</details>');
      lines.push('', `More: \`fledge logs ${state.view.name}\`, \`fledge events ${state.view.name}\`.`);
      return lines;
    }
    case 'error':
      return [`### ❌ Preview \`${state.name}\` could not be deployed`, '', `Commit ${commit(state.commit)}: ${escapeInline(state.message)}`];
    case 'fork-refused':
      return [
        '### Preview: not for pull requests from forks',
        '',
        `This pull request comes from ${state.headRepository ? `\`${state.headRepository}\`` : 'a fork that was deleted'}. ` +
          `Pull requests from forks get a preview only when a maintainer, having read the change, adds the label \`${escapeInline(state.forkLabel)}\`: ` +
          'a preview runs the change\'s image with this repository\'s identity and costs money.',
      ];
    case 'deleted':
      return [`### Preview \`${state.name}\` deleted`, '', 'The pull request was closed; its preview environment was deleted.'];
  }
}

function facts(view: PreviewView, sha: string): string[] {
  const rows: [string, string][] = [
    ['URL', view.url ? `[${escapeInline(view.url)}](${encodeURI(view.url)})` : '—'],
    ['status', `\`${view.status}\``],
    ['commit', commit(sha)],
  ];
  if (view.cost) rows.push(['cost', `${money(view.cost.perHour, view.cost.currency)} an hour, ${money(view.cost.toDate, view.cost.currency)} so far (estimate)`]);
  return ['| | |', '|---|---|', ...rows.map(([key, value]) => `| ${key} | ${value} |`)];
}

const commit = (sha: string) => `\`${sha.slice(0, 7)}\``;

function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(amount);
  } catch {
    return `${amount} ${currency}`;
  }
}

/** Plain text in a Markdown line: one line, Markdown's punctuation and HTML taken literally. */
export function escapeInline(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|~#!]/g, (c) => `\\${c}`);
}

/** A log line as text: no terminal escapes or control characters, at most LOG_LINE_CHARS. */
function logLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  return plain.length > LOG_LINE_CHARS ? `${plain.slice(0, LOG_LINE_CHARS)}…` : plain;
}

/** A code block whose fence no line can close: longer than any run of backticks in it. */
function fenced(lines: string[]): string[] {
  const longest = Math.max(0, ...lines.map((line) => Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length))));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [`${fence}text`, ...lines, fence];
}
