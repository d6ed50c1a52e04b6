/**
 * `#/env/<name>`: one environment, live: its status and why it failed, its operation with the
 * current workflow step (the newest event of the running operation), the actions, the events
 * timeline (newest first; "older" pages through nextCursor), the log lines since the latest
 * operation began, and its spec.
 */
import { useState } from 'preact/hooks';
import { api, asApiError, must, type Environment, type FledgeEvent, type LogLine } from './api.ts';
import { Actions } from './actions.tsx';
import { LoadError } from './auth.tsx';
import { time } from './format.ts';
import { usePoll } from './poll.ts';

const EVENTS_PAGE = 20;
const LOG_LINES = 100;

/** What the environment was asked to be (the answer less its read-only state). */
function specOf(env: Environment): Record<string, unknown> {
  const { name: _name, status: _status, url: _url, runningCount: _running, createdAt: _created, updatedAt: _updated, expiresAt: _expires, version: _version, operation: _operation, lastHealthyImage: _last, cost: _cost, ...spec } = env;
  return spec;
}

function Operation({ env, events }: { env: Environment; events: FledgeEvent[] }) {
  const op = env.operation;
  if (!op) return <p data-testid="env-operation">No operation yet.</p>;
  const step = op.status === 'RUNNING' ? events.find((event) => event.operationId === op.id) : undefined;
  return (
    <p data-testid="env-operation">
      <strong>{op.type}</strong> <span class={`status status-${op.status.toLowerCase()}`}>{op.status}</span>
      {step ? <> · current step: <span class="mono">{step.type}</span> ({step.message})</> : null}
      {' '}· started {time(op.startedAt)}{op.finishedAt ? `, finished ${time(op.finishedAt)}` : ''}
    </p>
  );
}

function Failure({ env }: { env: Environment }) {
  if (env.status !== 'FAILED' && env.status !== 'DEGRADED') return null;
  const error = env.operation?.error;
  return (
    <div class="failure" role="alert" data-testid="env-error">
      <strong>{env.status}</strong>
      {error ? <>: <span class="mono">{error.code}</span> — {error.message}{error.image ? ` (image ${error.image})` : ''}</> : ' (no reason recorded)'}
    </div>
  );
}

function Events({ name, newest }: { name: string; newest: { items: FledgeEvent[]; nextCursor: string | null } }) {
  const [older, setOlder] = useState<{ items: FledgeEvent[]; nextCursor: string | null }>();
  const [error, setError] = useState<string>();
  const cursor = older ? older.nextCursor : newest.nextCursor;
  // the first page is polled; older pages, once fetched, stay below it (without what the first page now shows)
  const seen = new Set(newest.items.map((e) => `${e.at}|${e.type}|${e.message}`));
  const items = [...newest.items, ...(older?.items ?? []).filter((e) => !seen.has(`${e.at}|${e.type}|${e.message}`))];
  const loadOlder = async () => {
    try {
      const page = await must(api.GET('/v1/environments/{name}/events', { params: { path: { name }, query: { limit: EVENTS_PAGE, cursor: cursor! } } }));
      setOlder({ items: [...(older?.items ?? []), ...page.items], nextCursor: page.nextCursor });
    } catch (failure) {
      setError(asApiError(failure).message);
    }
  };
  return (
    <section aria-label="Events">
      <h2>Events</h2>
      <ol class="events" data-testid="env-events">
        {items.map((event) => (
          <li data-testid="event-row">
            <time dateTime={event.at}>{time(event.at)}</time> <span class="mono">{event.type}</span> {event.message} <span class="actor">by {event.actor}</span>
          </li>
        ))}
      </ol>
      {cursor ? <button type="button" data-testid="events-older" onClick={() => void loadOlder()}>Older</button> : null}
      {error ? <p class="error">{error}</p> : null}
    </section>
  );
}

function Logs({ lines }: { lines: LogLine[] }) {
  return (
    <section aria-label="Logs">
      <h2>Logs <small>(since the latest operation began)</small></h2>
      <pre class="logs" data-testid="env-logs">
        {lines.length === 0 ? <span class="note">no log lines</span> : null}
        {lines.map((line) => (
          <div data-testid="log-line">
            <time dateTime={line.at}>{time(line.at)}</time> {line.message}
          </div>
        ))}
      </pre>
    </section>
  );
}

export function EnvironmentPage({ name }: { name: string }) {
  const page = usePoll(async () => {
    const path = { name };
    const env = await must(api.GET('/v1/environments/{name}', { params: { path } }));
    const since = env.operation?.startedAt ?? env.createdAt;
    const [events, logs] = await Promise.all([
      must(api.GET('/v1/environments/{name}/events', { params: { path, query: { limit: EVENTS_PAGE } } })),
      must(api.GET('/v1/environments/{name}/logs', { params: { path, query: { since, limit: LOG_LINES } } })).catch(() => ({ items: [] as LogLine[] })),
    ]);
    return { env, events, logs: logs.items };
  }, [name]);
  const value = page.value;
  const gone = page.error?.status === 404;
  return (
    <main data-testid="env-page">
      <p><a href="#/">← Environments</a></p>
      <h1 data-testid="env-title">{name}</h1>
      {gone ? <p data-testid="env-gone">No environment {name} (deleted, or never created).</p> : <LoadError error={page.error} />}
      {value && !gone ? (
        <>
          <p class="summary">
            <span class={`status status-${value.env.status.toLowerCase()}`} data-testid="env-status">{value.env.status}</span>
            {' '}{value.env.runningCount} of {value.env.desiredCount} task(s) running
            {value.env.url ? <> · <a href={value.env.url} rel="noopener noreferrer" target="_blank">{value.env.url}</a></> : null}
            {' '}· version {value.env.version}
          </p>
          <Failure env={value.env} />
          <Operation env={value.env} events={value.events.items} />
          <Actions key={value.env.name} env={value.env} events={value.events.items} onDone={page.refresh} />
          <Events name={name} newest={value.events} />
          <Logs lines={value.logs} />
          <section aria-label="Spec">
            <h2>Spec</h2>
            <pre data-testid="env-spec">{JSON.stringify(specOf(value.env), null, 2)}</pre>
          </section>
        </>
      ) : null}
    </main>
  );
}
