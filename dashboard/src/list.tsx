/** `#/`: the environments, filtered by repository and status, live. */
import { useEffect, useState } from 'preact/hooks';
import { api, must, type Environment } from './api.ts';
import { LoadError } from './auth.tsx';
import { age, cost, expiry, STATUSES } from './format.ts';
import { usePoll } from './poll.ts';

/** Who changed an environment last, by name and version: a version is read once, so polling costs no events call. */
const lastActors = new Map<string, string>();

function LastChangedBy({ name, version }: { name: string; version: number }) {
  const key = `${name}@${version}`;
  const [actor, setActor] = useState(lastActors.get(key));
  useEffect(() => {
    if (lastActors.has(key)) return setActor(lastActors.get(key));
    let stopped = false;
    must(api.GET('/v1/environments/{name}/events', { params: { path: { name }, query: { limit: 1 } } }))
      .then((page) => {
        const who = page.items[0]?.actor ?? '—';
        lastActors.set(key, who);
        if (!stopped) setActor(who);
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
    };
  }, [key]);
  return <span data-testid="env-actor">{actor ?? '…'}</span>;
}

function Row({ env, now }: { env: Environment; now: number }) {
  const href = `#/env/${encodeURIComponent(env.name)}`;
  return (
    <tr data-testid={`env-row-${env.name}`}>
      <td><span class={`status status-${env.status.toLowerCase()}`} data-testid="env-status">{env.status}</span></td>
      <td><a href={href}>{env.name}</a></td>
      <td data-testid="env-url">{env.url ? <a href={env.url} rel="noopener noreferrer" target="_blank">{env.url}</a> : '—'}</td>
      <td data-testid="env-image" class="mono">{env.image}</td>
      <td title={env.createdAt}>{age(env.createdAt, now)}</td>
      <td title={env.expiresAt}>{expiry(env.expiresAt, now)}</td>
      <td data-testid="env-cost" class="num">{cost(env)}</td>
      <td><LastChangedBy name={env.name} version={env.version} /></td>
    </tr>
  );
}

export function ListPage() {
  const [repository, setRepository] = useState('');
  const [status, setStatus] = useState('');
  const list = usePoll(
    () =>
      must(
        api.GET('/v1/environments', {
          params: { query: { limit: 100, ...(repository.trim() ? { repository: repository.trim() } : {}), ...(status ? { status: status as Environment['status'] } : {}) } },
        }),
      ),
    [repository, status],
  );
  const items = list.value?.items ?? [];
  const now = Date.now();
  return (
    <main>
      <h1>Environments</h1>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Repository
          <input data-testid="filter-repository" type="search" placeholder="owner/name" value={repository} onInput={(e) => setRepository((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          Status
          <select data-testid="filter-status" value={status} onChange={(e) => setStatus((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">any (not deleted)</option>
            {STATUSES.map((s) => <option value={s}>{s}</option>)}
          </select>
        </label>
        {list.value?.cost ? <span class="total">Repository total: ${list.value.cost.perHour.toFixed(4)}/h</span> : null}
      </form>
      <LoadError error={list.error} />
      <table data-testid="env-list">
        <thead>
          <tr>
            <th scope="col">Status</th><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Image</th>
            <th scope="col">Age</th><th scope="col">Expires</th><th scope="col">Cost (hour · to date)</th><th scope="col">Changed last by</th>
          </tr>
        </thead>
        <tbody>{items.map((env) => <Row key={env.name} env={env} now={now} />)}</tbody>
      </table>
      {list.value && items.length === 0 ? <p data-testid="empty-list">No environments{repository || status ? ' match these filters' : ''}.</p> : null}
      {list.value?.nextCursor ? <p class="note">Showing the first 100: narrow the filters to see the rest.</p> : null}
    </main>
  );
}
