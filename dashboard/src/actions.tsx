/**
 * What can be done to an environment: scale (sleep is 0, wake the count it slept from), heal,
 * extend the TTL, delete. Each asks first (`confirm-dialog`), sends `If-Match` with the version
 * the page read (a change made meanwhile is a 412, not overwritten), and shows a refusal
 * (403, 404, 409, 412...) as the API's problem title and detail.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, asApiError, must, type Environment, type FledgeEvent } from './api.ts';

/** The count a wake restores: the `from` of the newest `sleep-requested` event (as the waker does), else 1. */
export function wakeCount(events: FledgeEvent[]): number {
  const from = events.find((event) => event.type === 'sleep-requested')?.details?.from;
  return typeof from === 'number' && from > 0 ? from : 1;
}

interface Pending {
  question: string;
  run(): Promise<unknown>;
}

function ConfirmDialog({ pending, onYes, onNo }: { pending: Pending; onYes(): void; onNo(): void }) {
  const no = useRef<HTMLButtonElement>(null);
  useEffect(() => no.current?.focus(), []);
  return (
    <div class="backdrop">
      <div
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="confirm-question"
        data-testid="confirm-dialog"
        onKeyDown={(event) => {
          if (event.key === 'Escape') onNo();
        }}
      >
        <p id="confirm-question">{pending.question}</p>
        <div class="buttons">
          <button type="button" class="primary" data-testid="confirm-yes" onClick={onYes}>Yes</button>
          <button type="button" data-testid="confirm-no" ref={no} onClick={onNo}>No</button>
        </div>
      </div>
    </div>
  );
}

export function Actions({ env, events, onDone }: { env: Environment; events: FledgeEvent[]; onDone(): void }) {
  const [count, setCount] = useState(String(env.desiredCount || 1));
  const [ttl, setTtl] = useState(env.ttl);
  const [pending, setPending] = useState<Pending>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const path = { name: env.name };
  const header = { 'if-match': `"${env.version}"` };
  const scale = (desiredCount: number) => () => must(api.POST('/v1/environments/{name}/scale', { params: { path, header }, body: { desiredCount } }));

  const ask = (question: string, run: () => Promise<unknown>) => {
    setError(undefined);
    setDone(undefined);
    setPending({ question, run });
  };
  const confirm = async () => {
    const action = pending!;
    setPending(undefined);
    try {
      await action.run();
      setDone(`Done: ${action.question.replace(/\?$/, '')}`);
    } catch (failure) {
      setError(asApiError(failure).message);
    }
    onDone();
  };

  return (
    <section class="actions" aria-label="Actions">
      <h2>Actions</h2>
      <div class="row">
        <label>
          Tasks
          <input data-testid="scale-count" type="number" min={0} max={10} value={count} onInput={(e) => setCount((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button type="button" data-testid="action-scale" onClick={() => ask(`Scale ${env.name} to ${Number(count)} task(s)?`, scale(Number(count)))}>Scale</button>
        <button type="button" data-testid="action-sleep" onClick={() => ask(`Put ${env.name} to sleep (0 tasks)?`, scale(0))}>Sleep</button>
        <button
          type="button"
          data-testid="action-wake"
          onClick={() => {
            const wakeTo = wakeCount(events);
            ask(`Wake ${env.name} to ${wakeTo} task(s)?`, scale(wakeTo));
          }}
        >
          Wake
        </button>
        <button type="button" data-testid="action-heal" onClick={() => ask(`Heal ${env.name} now?`, () => must(api.POST('/v1/environments/{name}/heal', { params: { path, header } })))}>Heal</button>
      </div>
      <div class="row">
        <label>
          TTL
          <input data-testid="ttl-value" type="text" size={8} value={ttl} onInput={(e) => setTtl((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <button
          type="button"
          data-testid="action-extend-ttl"
          onClick={() =>
            ask(`Set the TTL of ${env.name} to ${ttl} (from now)?`, () =>
              must(api.PATCH('/v1/environments/{name}', { params: { path, header }, body: { ttl: ttl.trim() } })),
            )
          }
        >
          Extend TTL
        </button>
        <button
          type="button"
          class="danger"
          data-testid="action-delete"
          onClick={() => ask(`Delete ${env.name} and everything it created?`, () => must(api.DELETE('/v1/environments/{name}', { params: { path, header } })))}
        >
          Delete
        </button>
      </div>
      {error ? <p class="error" role="alert" data-testid="action-error">{error}</p> : null}
      {done ? <p class="note" role="status" data-testid="action-done">{done}</p> : null}
      {pending ? <ConfirmDialog pending={pending} onYes={() => void confirm()} onNo={() => setPending(undefined)} /> : null}
    </section>
  );
}
