/**
 * The token box: in local mode with `--auth oidc` (or behind any bearer-token API) the page
 * needs a token; pasted here, it is kept for the tab (sessionStorage) and sent with every call.
 */
import { useState } from 'preact/hooks';
import { readToken, saveToken, type ApiError } from './api.ts';

export function TokenBox() {
  const [token, setToken] = useState(readToken());
  return (
    <section class="auth" aria-label="API token">
      <label>
        <span>Bearer token (local mode with <code>--auth oidc</code>; kept for this tab only)</span>
        <textarea
          data-testid="auth-token"
          rows={2}
          spellcheck={false}
          value={token}
          onInput={(event) => {
            const value = (event.currentTarget as HTMLTextAreaElement).value;
            setToken(value);
            saveToken(value);
          }}
        />
      </label>
    </section>
  );
}

/** Why the data is missing: a token is needed (401/403), or the load failed. */
export function LoadError({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  if (error.needsAuth) {
    return (
      <p class="error" role="alert" data-testid="auth-required">
        {error.message}. Paste a token in the token box above.
      </p>
    );
  }
  return (
    <p class="error" role="alert" data-testid="load-error">
      {error.message}
    </p>
  );
}
