import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import type { Workspace } from '../types.ts';

/** Sign in with an API key: verified with /workspaces/get, then kept in sessionStorage only. */
export function SignIn({
  notice,
  onSignedIn,
}: {
  notice: string | null;
  onSignedIn: (key: string, w: Workspace) => void;
}) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const trimmed = key.trim();
    try {
      const answer = await call<{ workspace: Workspace }>('/workspaces/get', {}, trimmed);
      onSignedIn(trimmed, answer.workspace);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <div class="panel signin-card">
        <h1>
          <img class="brand-mark" src="/favicon.svg" alt="" width={22} height={22} /> Latchkey
        </h1>
        <p class="muted">Access codes for igloohome-style smart locks.</p>
        {notice === null ? null : <p class="notice info">{notice}</p>}
        <form onSubmit={submit}>
          <label>
            API key
            <input
              name="api_key"
              type="password"
              autoComplete="off"
              spellcheck={false}
              placeholder="seam_…"
              value={key}
              onInput={(e) => setKey(e.currentTarget.value)}
              required
            />
          </label>
          <button type="submit" class="primary" disabled={busy || key.trim() === ''}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </form>
        {error === null ? null : (
          <p class="notice error" role="alert">
            <code>{error.type}</code> {error.message}
          </p>
        )}
        <p class="muted small-print">
          The key stays in this browser tab (sessionStorage) and is sent only to this server. The server
          prints a key at its first start; <code>latchkey key create</code> makes more.
        </p>
      </div>
    </main>
  );
}
