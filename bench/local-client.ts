/** A CI-like client of a local Fledge, over HTTP only. */
import type { LocalServer } from '../test/e2e/local-server.ts';

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  ms: number;
}

export class LocalClient {
  constructor(private readonly server: LocalServer) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const started = performance.now();
    const response = await fetch(`${this.server.url}${path}`, {
      method,
      // POST, PUT and PATCH need a JSON content type even without a body (the API answers 415 otherwise)
      headers: body === undefined && !['POST', 'PUT', 'PATCH'].includes(method) ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    return { status: response.status, body: text ? JSON.parse(text) : undefined, ms };
  }

  put(name: string, spec: Record<string, unknown>) {
    return this.request('PUT', `/v1/environments/${name}`, spec);
  }

  get(name: string) {
    return this.request('GET', `/v1/environments/${name}`);
  }

  /** polls until the environment reads one of `statuses`; returns when it was first seen */
  async waitFor(name: string, statuses: string[], timeoutMs = 120_000, everyMs = 2): Promise<{ status: string; seenAt: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.get(name);
      const status = answer.body?.status as string | undefined;
      if (status && statuses.includes(status)) return { status, seenAt: Date.now() };
      if (status === 'FAILED' && !statuses.includes('FAILED')) throw new Error(`${name} FAILED: ${JSON.stringify(answer.body.operation?.error)}`);
      if (Date.now() > deadline) throw new Error(`${name} did not reach ${statuses.join('|')} in ${timeoutMs} ms (last ${status})`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /**
   * Waits until every one of `names` reads one of `statuses`, watching through the API's LIST
   * (`?status=`, all pages) every `everyMs`: one client's few requests a round instead of one
   * GET per environment, so a burst of hundreds does not spend the machine's cores on polling.
   */
  async waitForAll(names: string[], statuses: string[], timeoutMs = 900_000, everyMs = 250): Promise<Map<string, { status: string; seenAt: number }>> {
    const seen = new Map<string, { status: string; seenAt: number }>();
    const wanted = new Set(names);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const status of statuses) {
        let cursor: string | undefined;
        do {
          const query = `status=${encodeURIComponent(status)}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const answer = await this.request('GET', `/v1/environments?${query}`);
          if (answer.status !== 200) throw new Error(`LIST ${query}: ${answer.status} ${JSON.stringify(answer.body)}`);
          const now = Date.now();
          for (const item of answer.body.items as { name: string }[]) {
            if (wanted.has(item.name) && !seen.has(item.name)) seen.set(item.name, { status, seenAt: now });
          }
          cursor = answer.body.nextCursor ?? undefined;
        } while (cursor);
      }
      if (seen.size === wanted.size) return seen;
      if (Date.now() > deadline) throw new Error(`${wanted.size - seen.size} environments did not reach ${statuses.join('|')} in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /** waits until no workflow execution runs; returns the environments' statuses then */
  async waitForNoRunningExecutions(timeoutMs = 600_000): Promise<Record<string, number>> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.executions()).some((e) => e.status === 'RUNNING')) {
      if (Date.now() > deadline) throw new Error(`executions still running after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const counts: Record<string, number> = {};
    for (let cursor: string | null = null, first = true; first || cursor; first = false) {
      const page: Answer = await this.request('GET', `/v1/environments?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      for (const item of page.body.items as { status: string }[]) counts[item.status] = (counts[item.status] ?? 0) + 1;
      cursor = page.body.nextCursor;
    }
    return counts;
  }

  async resources(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return (await this.request('GET', '/_local/resources')).body;
  }

  async executions(): Promise<{ name: string; kind: string; status: string; stateTransitions: number; statesEntered?: string[]; retries?: Record<string, number> }[]> {
    return (await this.request('GET', '/_local/executions')).body.items;
  }
}

/** runs `work` over `items` with at most `concurrency` in flight */
export async function inParallel<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!);
      }
    }),
  );
  return results;
}
