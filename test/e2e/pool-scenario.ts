/**
 * The pool of load balancers end to end (issue 14), shared by the e2e suite (120 environments)
 * and the bench project (250): local mode with 3 shards and AWS's limits (100 target groups and
 * 100 rules per ALB, AWS's API rates), environments created through the API by a CI-like fleet,
 * each answering at its own URL, spread over the shards; then deleted, leaving no DNS record,
 * rule, target group, service or slot behind (`GET /_local/resources`).
 */
import { expect, it } from 'vitest';
import { inParallel } from '../../bench/local-client.ts';
import { reached, useLocalServer, type Answer } from './local-api.ts';

const SHARDS = 3;
/** jobs of a CI fleet in flight at once */
const FLEET = 20;
/** repositories the environments belong to (each under the default 20 per repository) */
const REPOSITORIES = 25;
/** what one ALB holds: 100 target groups, one of them its waker's */
const PER_SHARD = 99;

interface Resources {
  shards: { id: string; rules: number; targetGroups: number; used?: number }[];
  listenerRules: { shard: string; environment?: string }[];
  targetGroups: { environment?: string; shard?: string }[];
  services: { environment: string }[];
  dnsRecords?: unknown[];
}

const phase = (label: string, started: number) => process.stdout.write(`pool e2e: ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

export function poolScenario(count: number, timeoutMs: number): void {
  const local = useLocalServer({ FLEDGE_SIM_SHARDS: String(SHARDS) });
  const api = (method: string, path: string, body?: unknown) => local.api(method, path, body === undefined ? {} : { body });
  const names = Array.from({ length: count }, (_, i) => `pool-${String(i).padStart(3, '0')}`);
  const ours = (name: string | undefined) => name !== undefined && names.includes(name);
  const resources = async () => (await api('GET', '/_local/resources')).body as Resources;

  /** the names LIST shows, in one status or (none) live in any (every page) */
  async function listed(status?: string): Promise<Set<string>> {
    const seen = new Set<string>();
    let cursor: string | undefined;
    do {
      const query = [status ? `status=${status}` : '', 'limit=100', cursor ? `cursor=${encodeURIComponent(cursor)}` : ''].filter(Boolean).join('&');
      const answer: Answer = await api('GET', `/v1/environments?${query}`);
      expect(answer.status).toBe(200);
      for (const item of answer.body.items as { name: string }[]) if (ours(item.name)) seen.add(item.name);
      cursor = answer.body.nextCursor ?? undefined;
    } while (cursor);
    return seen;
  }

  it(`${count} environments over ${SHARDS} load balancers at AWS's limits: each answers at its URL, spread over every shard; deleting them leaves nothing behind`, { timeout: timeoutMs }, async () => {
    const started = Date.now();
    const created = await inParallel(names, FLEET, async (name) => {
      const i = Number(name.slice(-3));
      const answer = await api('PUT', `/v1/environments/${name}`, { image: 'nginx:1.27', port: 80, labels: { repository: `acme/repo-${i % REPOSITORIES}`, branch: `pr-${i}` } });
      return answer.status;
    });
    expect(created.filter((status) => status !== 201)).toEqual([]);
    phase(`${count} creates accepted`, started);

    const running = await reached(
      async () => ({ running: await listed('RUNNING'), failed: await listed('FAILED') }),
      (seen) => seen.running.size === count || seen.failed.size > 0,
      timeoutMs,
      500,
      `${count} environments RUNNING`,
    );
    expect([...running.failed]).toEqual([]);
    expect(running.running.size).toBe(count);
    phase(`${count} RUNNING`, started);

    // each at its own URL, through the simulated zone to its shard's ALB
    const pages = await inParallel(names, FLEET, async (name) => ({ name, page: await local.page(name) }));
    const notServed = pages.filter(({ name, page }) => page.status !== 200 || !page.text.includes(`<h1>${name}</h1>`)).map(({ name, page }) => `${name}: ${page.status}`);
    expect(notServed).toEqual([]);

    const during = await resources();
    const rulesPerShard = Object.fromEntries(during.shards.map((s) => [s.id, during.listenerRules.filter((r) => r.shard === s.id && ours(r.environment)).length]));
    expect(Object.values(rulesPerShard).reduce((a, b) => a + b, 0)).toBe(count);
    for (const shard of during.shards) {
      // every shard used, none past what one ALB holds (its waker's target group is the 100th)
      expect(rulesPerShard[shard.id], `rules on ${shard.id}`).toBeGreaterThan(0);
      expect(shard.targetGroups, `target groups on ${shard.id}`).toBeLessThan(100);
      expect(shard.rules).toBeLessThanOrEqual(PER_SHARD);
      expect(shard.used, `slots claimed on ${shard.id}`).toBe(rulesPerShard[shard.id]);
    }
    expect(during.dnsRecords?.filter((r) => names.some((name) => JSON.stringify(r).includes(`${name}.`)))).toHaveLength(count);
    process.stdout.write(`pool e2e: environments per shard ${JSON.stringify(rulesPerShard)}\n`);

    const deleting = Date.now();
    const deleted = await inParallel(names, FLEET, async (name) => (await api('DELETE', `/v1/environments/${name}`)).status);
    expect(deleted.filter((status) => status !== 202)).toEqual([]);
    await reached(
      // a deleted environment leaves the list
      async () => ({ live: await listed(), failed: await listed('FAILED') }),
      (seen) => seen.live.size === 0 || seen.failed.size > 0,
      timeoutMs,
      500,
      `${count} environments deleted`,
    );
    phase(`${count} deleted`, deleting);

    // what AWS would still hold: nothing of theirs; the shards' slots all released
    const after = await reached(
      resources,
      (r) =>
        !r.listenerRules.some((rule) => ours(rule.environment)) &&
        !r.targetGroups.some((tg) => ours(tg.environment)) &&
        !r.services.some((s) => ours(s.environment)) &&
        !(r.dnsRecords ?? []).some((record) => names.some((name) => JSON.stringify(record).includes(`${name}.`))) &&
        r.shards.every((s) => s.used === 0 && s.rules === 0),
      60_000,
      500,
      'no record, rule, target group, service or slot left',
    );
    expect(after.shards.map((s) => ({ id: s.id, rules: s.rules, targetGroups: s.targetGroups, used: s.used }))).toEqual(
      Array.from({ length: SHARDS }, (_, i) => ({ id: `s${i + 1}`, rules: 0, targetGroups: 0, used: 0 })),
    );
    phase('the whole scenario', started);
  });
}
