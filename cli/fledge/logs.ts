/**
 * Reading an environment's container logs (`GET /v1/environments/{name}/logs`, oldest first,
 * paged by `nextCursor`): the last lines of a failed operation, a bounded read, and `--follow`.
 * An API without the route (an older deployment) is "logs unavailable", never a crash.
 */
import { CliError, describeProblem, type Api } from './connection.ts';
import type { LogLine } from './format.ts';

interface LogsPage {
  items: LogLine[];
  nextCursor?: string;
}

export function logsPath(name: string, query: { since?: string; limit?: number; cursor?: string }): string {
  const params = new URLSearchParams();
  if (query.since) params.set('since', query.since);
  if (query.limit) params.set('limit', String(query.limit));
  if (query.cursor) params.set('cursor', query.cursor);
  const search = params.toString();
  return `/v1/environments/${encodeURIComponent(name)}/logs${search ? `?${search}` : ''}`;
}

/** One page, or why there is none (404: the route or the environment is not there). */
async function page(api: Api, path: string): Promise<LogsPage | { unavailable: string }> {
  const answer = await api.send('GET', path);
  if (answer.status === 200) return answer.body as LogsPage;
  if (answer.status === 404) return { unavailable: `the API answered ${describeProblem(answer)} (a deployment without the logs route?)` };
  throw new CliError(`GET ${path}: ${describeProblem(answer)}`);
}

/** The last `count` lines since `since` (pages through at most `maxPages` pages of 100). */
export async function lastLines(api: Api, name: string, since: string, count = 20, maxPages = 10): Promise<{ lines: LogLine[]; unavailable?: string }> {
  let lines: LogLine[] = [];
  let cursor: string | undefined;
  try {
    for (let n = 0; n < maxPages; n++) {
      const got = await page(api, logsPath(name, { since, limit: 100, ...(cursor ? { cursor } : {}) }));
      if ('unavailable' in got) return { lines: [], unavailable: got.unavailable };
      lines = [...lines, ...got.items].slice(-count);
      cursor = got.nextCursor;
      if (!cursor) break;
    }
  } catch (error) {
    // the failure is what matters: a logs hiccup is reported, not fatal
    return { lines, unavailable: error instanceof Error ? error.message : String(error) };
  }
  return { lines };
}

/** Lines since `since`, page after page, at most `limit` of them; 404 is a CliError here (the user asked for logs). */
export async function readLines(api: Api, name: string, options: { since?: string; limit: number; cursor?: string }): Promise<{ lines: LogLine[]; nextCursor?: string }> {
  const lines: LogLine[] = [];
  let cursor = options.cursor;
  for (;;) {
    const want = Math.min(1000, options.limit - lines.length);
    const got = await page(api, logsPath(name, { ...(options.since ? { since: options.since } : {}), limit: want, ...(cursor ? { cursor } : {}) }));
    if ('unavailable' in got) throw new CliError(`logs unavailable: ${got.unavailable}`);
    lines.push(...got.items);
    cursor = got.nextCursor;
    if (!cursor || lines.length >= options.limit) return { lines, ...(cursor ? { nextCursor: cursor } : {}) };
  }
}

/**
 * `--follow`: prints what there is, then asks again every `everyMs` from the newest line seen
 * (lines at that same instant already printed are skipped), until `signal` aborts.
 */
export async function follow(api: Api, name: string, since: string | undefined, print: (line: LogLine) => void, signal: AbortSignal, everyMs = 2000): Promise<void> {
  let from = since;
  let seen = new Set<string>();
  const key = (line: LogLine) => `${line.at}|${line.task}|${line.container}|${line.message}`;
  while (!signal.aborted) {
    let cursor: string | undefined;
    do {
      const got = await readLines(api, name, { ...(from ? { since: from } : {}), limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const line of got.lines) {
        if (seen.has(key(line))) continue;
        print(line);
        if (line.at !== from) seen = new Set();
        from = line.at;
        seen.add(key(line));
      }
      cursor = got.nextCursor;
    } while (cursor && !signal.aborted);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
    });
  }
}
